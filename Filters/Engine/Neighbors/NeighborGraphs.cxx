#include "NeighborGraphs.h"

#include "EngineError.h"

#define XXH_INLINE_ALL // header-only use: no library to link on machines without it
#include <xxhash.h>

#include <algorithm>
#include <string>
#include <utility>

namespace dualembed
{
namespace engine
{
namespace
{
std::size_t bytesOf(const NeighborGraphs::Graph& graph)
{
  return graph.knn.indices.size() * sizeof(int64_t) + graph.knn.distances.size() * sizeof(float) +
    (graph.recall.rows.size() + graph.recall.neighbors.size()) * sizeof(int64_t);
}
} // namespace

NeighborGraphs::NeighborGraphs(std::size_t budgetBytes)
  : Budget(budgetBytes)
{
}

std::shared_ptr<const NeighborGraphs::Graph> NeighborGraphs::find(const Key& key, int k)
{
  std::lock_guard<std::mutex> lock(this->Mutex);
  for (auto it = this->Graphs.begin(); it != this->Graphs.end(); ++it)
  {
    if (it->first == key)
    {
      if (it->second->knn.k < k)
      {
        return nullptr;
      }
      this->Graphs.splice(this->Graphs.begin(), this->Graphs, it);
      return this->Graphs.front().second;
    }
  }
  return nullptr;
}

void NeighborGraphs::keep(const Key& key, std::shared_ptr<const Graph> graph)
{
  std::lock_guard<std::mutex> lock(this->Mutex);
  for (auto it = this->Graphs.begin(); it != this->Graphs.end(); ++it)
  {
    if (it->first == key)
    {
      this->Bytes -= bytesOf(*it->second);
      this->Graphs.erase(it);
      break;
    }
  }
  const std::size_t size = bytesOf(*graph);
  if (size > this->Budget)
  {
    return; // larger than the whole budget: used once, not kept
  }
  this->Graphs.emplace_front(key, std::move(graph));
  this->Bytes += size;
  while (this->Bytes > this->Budget)
  {
    this->Bytes -= bytesOf(*this->Graphs.back().second);
    this->Graphs.pop_back();
  }
}

std::size_t NeighborGraphs::size() const
{
  std::lock_guard<std::mutex> lock(this->Mutex);
  return this->Graphs.size();
}

std::size_t NeighborGraphs::bytes() const
{
  std::lock_guard<std::mutex> lock(this->Mutex);
  return this->Bytes;
}

void NeighborGraphs::clear()
{
  std::lock_guard<std::mutex> lock(this->Mutex);
  this->Graphs.clear();
  this->Bytes = 0;
}

std::shared_ptr<NeighborGraphs> NeighborGraphs::session()
{
  static const std::shared_ptr<NeighborGraphs> graphs = std::make_shared<NeighborGraphs>();
  return graphs;
}

NeighborGraphs::Key graphKey(const FeatureMatrix& points, int64_t queryBegin, int64_t queryEnd,
  KnnMethod method, const KnnOptions& options)
{
  const NeighborSearch& search = options.search;
  NeighborGraphs::Key key;
  const XXH128_hash_t hash =
    XXH3_128bits(points.data, static_cast<std::size_t>(points.rows * points.cols) * sizeof(float));
  key.contents = { hash.low64, hash.high64 };
  key.fields = { points.rows, points.cols, queryBegin, queryEnd,
    static_cast<int64_t>(options.metric), static_cast<int64_t>(method) };
  // The centred rows are other vectors (a centre's bytes hashed; 0: none).
  key.fields.push_back(options.center.empty()
      ? 0
      : static_cast<int64_t>(
          XXH3_64bits(options.center.data(), options.center.size() * sizeof(double)) | 1));
  if (method == KnnMethod::Ivf)
  {
    const IvfParameters& p = search.ivf;
    key.fields.insert(
      key.fields.end(), { p.lists, p.probes, p.trainingIterations, p.trainingRowsPerList, p.seed });
  }
  else if (method == KnnMethod::Flann)
  {
    key.fields.insert(
      key.fields.end(), { search.flann.trees, search.flann.checks, search.flann.seed });
  }
  if (method != KnnMethod::Exact)
  {
    key.fields.push_back(search.recallSamples);
  }
  return key;
}

KnnResult firstNeighbors(const KnnResult& graph, int k)
{
  if (k < 0 || k > graph.k)
  {
    throw ModelError("A graph of " + std::to_string(graph.k) + " neighbours per row cannot give " +
      std::to_string(k) + ".");
  }
  if (k == graph.k)
  {
    return graph;
  }
  KnnResult result;
  result.k = k;
  result.firstRow = graph.firstRow;
  result.rows = graph.rows;
  result.bruteForceRows = graph.bruteForceRows;
  result.method = graph.method;
  result.lists = graph.lists;
  const std::size_t from = static_cast<std::size_t>(graph.k), to = static_cast<std::size_t>(k);
  result.indices.resize(static_cast<std::size_t>(graph.rows) * to);
  result.distances.resize(static_cast<std::size_t>(graph.rows) * to);
  for (std::size_t r = 0; r < static_cast<std::size_t>(graph.rows); ++r)
  {
    std::copy_n(graph.indices.data() + r * from, to, result.indices.data() + r * to);
    std::copy_n(graph.distances.data() + r * from, to, result.distances.data() + r * to);
  }
  return result;
}

} // namespace engine
} // namespace dualembed
