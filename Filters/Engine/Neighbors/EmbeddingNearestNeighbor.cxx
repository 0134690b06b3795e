#include "EmbeddingNearestNeighbor.h"

#include "EngineError.h"

#include <cmath>
#include <limits>

namespace dualembed
{
namespace engine
{

namespace
{
bool isZeroRow(const float* x, int64_t cols)
{
  for (int64_t c = 0; c < cols; ++c)
  {
    if (x[c] != 0.0f)
    {
      return false;
    }
  }
  return true;
}
} // namespace

NearestNeighborResult computeEmbeddingNearestNeighbor(
  const FeatureMatrix& features, const NearestNeighborOptions& options)
{
  NearestNeighborResult result;
  if (!std::isfinite(options.threshold))
  {
    throw ModelError("The nearest-neighbour threshold must be a finite number.");
  }
  const int64_t first = options.queries.begin;
  const int64_t n = options.queries.endFor(features.rows) - first;
  // In a distributed run the matrix holds this rank's rows: the checks that
  // every rank must pass alike count all rows (the search checks the values).
  const int64_t rows = searchedRows(features, options.neighbors);
  if (rows == 0)
  {
    return result;
  }
  if (!options.neighbors.parts)
  {
    requireFiniteRows(features, "the embedding");
  }
  result.id.assign(static_cast<std::size_t>(n), -1);
  result.distance.assign(static_cast<std::size_t>(n), std::numeric_limits<float>::quiet_NaN());
  result.flag.assign(static_cast<std::size_t>(n), 0);
  if (rows == 1 || (n == 0 && !options.neighbors.parts))
  {
    return result;
  }

  KnnOptions knnOptions;
  knnOptions.k = 1;
  knnOptions.metric = DistanceMetric::Cosine;
  knnOptions.search = options.neighbors;
  knnOptions.progress = options.progress;
  const KnnResult knn = computeKnn(features, first, first + n, knnOptions);

  const double sqrt2 = std::sqrt(2.0);
  for (int64_t i = 0; i < n; ++i)
  {
    const std::size_t s = static_cast<std::size_t>(i);
    const int64_t j = knn.indices[s];
    double distance;
    // A zero query is at sqrt 2 from everything; a zero neighbour of a
    // non-zero query is at cosine distance 1, which gives sqrt 2 below.
    if (isZeroRow(features.row(first + i), features.cols))
    {
      distance = sqrt2;
    }
    else
    {
      // 2 - 2 cos = 2 (1 - cos) = 2 * cosine distance.
      distance = std::sqrt(std::max(0.0, 2.0 * static_cast<double>(knn.distances[s])));
    }
    result.id[s] = j;
    result.distance[s] = static_cast<float>(distance);
    result.flag[s] = distance < options.threshold ? 1 : 0;
  }
  return result;
}

} // namespace engine
} // namespace dualembed
