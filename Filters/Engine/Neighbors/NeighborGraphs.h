// Neighbour graphs shared by the searches of a session (no VTK).
//
// The filters of a pipeline search the same embedding again and again:
// Embedding Outlier Score (k 10), Embedding Nearest Neighbor (k 1),
// Embedding Change (k 10, each side), Data Issues (k 11) and, above
// kExactNeighborRows, the UMAP graph (k 15). At 10^6 rows one approximate
// search takes minutes. A store keeps each graph, built with at least
// kSharedGraphNeighbors neighbours, and answers a search for fewer with the
// first k of each row.
//
// - Identity: a graph is found again only for the same matrix contents (an
//   XXH3 128-bit hash of its bytes, with its shape), the same query rows, the
//   metric, the method that runs (Auto resolved) and its parameters. The
//   contents, not the VTK array object, are the key: the engine sees
//   matrices (a rank's gathered copy, a float32 conversion), and equal
//   contents give equal graphs whichever pipeline branch they came through.
//   Hashing reads the matrix once (under a second for 3 GB).
// - Exactness: the first k neighbours of an exact graph with more are the
//   exact k neighbours, bit for bit (same order, same ties). Those of an
//   approximate graph come from the same lists, re-ranked exactly, with a
//   larger float32 pre-filter; only the far rows that IVF searches again
//   exactly are chosen by the graph's k, not by the k asked for. Their
//   recall is measured again at k, on the graph's own sample.
// - Memory: graphs are dropped least recently used first beyond a budget
//   (1 GiB by default; a graph of 10^6 rows and 16 neighbours takes 192 MB).
// Thread-safe.
#ifndef DualEmbed_Engine_NeighborGraphs_h
#define DualEmbed_Engine_NeighborGraphs_h

#include "NearestNeighbors.h"

#include <array>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <vector>

namespace dualembed
{
namespace engine
{

/// Neighbours per row that a shared graph holds at least (UMAP's 15 plus one,
/// so that every filter's default fits in one graph).
constexpr int kSharedGraphNeighbors = 16;

class NeighborGraphs
{
public:
  explicit NeighborGraphs(std::size_t budgetBytes = std::size_t(1) << 30);

  /// What a graph is computed from (graphKey()).
  struct Key
  {
    std::array<uint64_t, 2> contents{}; // XXH3 128-bit hash of the matrix's bytes
    std::vector<int64_t> fields;        // shape, query rows, metric, method, parameters
    bool operator==(const Key& other) const
    {
      return this->contents == other.contents && this->fields == other.fields;
    }
  };

  struct Graph
  {
    KnnResult knn;        // with its own k, at least the k asked for
    RecallSample recall;  // approximate methods: the sampled rows' exact neighbours
    double seconds = 0.0; // what the search took
  };

  /// The graph kept for `key` with at least `k` neighbours per row, or null.
  std::shared_ptr<const Graph> find(const Key& key, int k);
  /// Keeps `graph` for `key` (instead of a smaller one for the same key), then
  /// drops the least recently used graphs beyond the budget.
  void keep(const Key& key, std::shared_ptr<const Graph> graph);

  std::size_t size() const;
  std::size_t bytes() const;
  void clear();

  /// The store that the filters of this process share.
  static std::shared_ptr<NeighborGraphs> session();

private:
  mutable std::mutex Mutex;
  std::list<std::pair<Key, std::shared_ptr<const Graph>>> Graphs; // most recently used first
  std::size_t Budget;
  std::size_t Bytes = 0;
};

/// The key of a search of the rows [queryBegin, queryEnd) of `points` by
/// `method` (resolved) with the metric, the centre and the parameters of
/// `options` that it reads.
NeighborGraphs::Key graphKey(const FeatureMatrix& points, int64_t queryBegin, int64_t queryEnd,
  KnnMethod method, const KnnOptions& options);

/// The first k neighbours of each row of `graph` (k <= graph.k).
KnnResult firstNeighbors(const KnnResult& graph, int k);

} // namespace engine
} // namespace dualembed

#endif
