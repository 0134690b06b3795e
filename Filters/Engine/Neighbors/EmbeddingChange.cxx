#include "EmbeddingChange.h"

#include "EngineError.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>

namespace dualembed
{
namespace engine
{

std::vector<float> neighborOverlap(const KnnResult& a, const KnnResult& b)
{
  if (a.k != b.k || a.rows != b.rows)
  {
    throw ModelError("Neighbour overlap of two kNN results of different shapes.");
  }
  const std::size_t k = static_cast<std::size_t>(a.k);
  std::vector<float> overlap(static_cast<std::size_t>(a.rows));
  std::vector<int64_t> setA(k);
  std::vector<int64_t> setB(k);
  std::vector<int64_t> common;
  for (std::size_t i = 0; i < overlap.size(); ++i)
  {
    std::copy_n(a.indices.begin() + static_cast<std::ptrdiff_t>(i * k), k, setA.begin());
    std::copy_n(b.indices.begin() + static_cast<std::ptrdiff_t>(i * k), k, setB.begin());
    std::sort(setA.begin(), setA.end());
    std::sort(setB.begin(), setB.end());
    common.clear();
    std::set_intersection(
      setA.begin(), setA.end(), setB.begin(), setB.end(), std::back_inserter(common));
    overlap[i] = static_cast<float>(static_cast<double>(common.size()) / static_cast<double>(k));
  }
  return overlap;
}

EmbeddingChangeResult computeEmbeddingChange(
  const FeatureMatrix& a, const FeatureMatrix& b, const EmbeddingChangeOptions& options)
{
  EmbeddingChangeResult result;
  if (a.rows != b.rows)
  {
    throw ModelError("The two embeddings have different numbers of samples (" +
      std::to_string(a.rows) + " and " + std::to_string(b.rows) +
      "); the embedding change needs two embeddings of the same samples.");
  }
  if (options.k < 1)
  {
    throw ModelError(
      "The number of neighbours K of the embedding change must be at least 1 (it is " +
      std::to_string(options.k) + ").");
  }
  result.metricA = resolveMetric(options.metric, a.cols);
  result.metricB = resolveMetric(options.metric, b.cols);
  const int64_t first = options.queries.begin;
  const int64_t n = options.queries.endFor(a.rows) - first;
  // In a distributed run the matrices hold this rank's rows: the checks that
  // every rank must pass alike count all rows (the search checks the values).
  const int64_t rows = searchedRows(a, options.neighbors);
  if (rows == 0)
  {
    return result;
  }
  if (!options.neighbors.parts)
  {
    requireFiniteRows(a, "the first embedding");
    requireFiniteRows(b, "the second embedding");
  }
  if (rows == 1)
  {
    result.overlap.assign(static_cast<std::size_t>(n), 1.0f);
    result.change.assign(static_cast<std::size_t>(n), 0.0f);
    return result;
  }

  KnnOptions knnOptions;
  knnOptions.k = options.k;
  knnOptions.search = options.neighbors;
  const ProgressCallback& progress = options.progress;
  if (progress)
  {
    knnOptions.progress = [&progress](double f) { return progress(0.5 * f); };
  }
  knnOptions.metric = result.metricA;
  const KnnResult knnA = computeKnn(a, first, first + n, knnOptions);
  if (progress)
  {
    knnOptions.progress = [&progress](double f) { return progress(0.5 + 0.5 * f); };
  }
  knnOptions.metric = result.metricB;
  const KnnResult knnB = computeKnn(b, first, first + n, knnOptions);

  result.k = knnA.k;
  result.overlap = neighborOverlap(knnA, knnB);
  result.change.resize(result.overlap.size());
  const double k = static_cast<double>(result.k);
  for (std::size_t i = 0; i < result.overlap.size(); ++i)
  {
    // 1 - common / k from the exact count, not from the float overlap.
    result.change[i] =
      static_cast<float>(1.0 - std::round(static_cast<double>(result.overlap[i]) * k) / k);
  }
  return result;
}

} // namespace engine
} // namespace dualembed
