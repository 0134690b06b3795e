#include "EmbeddingOutlierScore.h"

#include "EngineError.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace dualembed
{
namespace engine
{

double numpyMedian(std::vector<double> values)
{
  const std::size_t n = values.size();
  if (n == 0)
  {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const std::size_t mid = n / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (n % 2 == 1)
  {
    return upper;
  }
  const double lower =
    *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2.0; // numpy: mean of the two middle values
}

std::vector<float> outlierScoresFromMeanDistances(const std::vector<double>& meanDistance,
  DistanceMetric metric, double t, DistanceScaling scaling, double* scaleOut)
{
  const double eps = std::numeric_limits<double>::epsilon(); // 2^-52
  std::vector<float> scores(meanDistance.size());
  if (scaling == DistanceScaling::None)
  {
    // cleanlab <= 2.5: exp(-t * mean distance), no scaling, no correction.
    for (std::size_t i = 0; i < meanDistance.size(); ++i)
    {
      scores[i] = static_cast<float>(std::exp(-t * meanDistance[i]));
    }
    if (scaleOut)
    {
      *scaleOut = 1.0;
    }
    return scores;
  }
  const double scale =
    meanDistance.empty() ? 100.0 * eps : std::max(numpyMedian(meanDistance), 100.0 * eps);
  // cleanlab's correct_precision_errors: cosine uses numpy's epsneg (2^-53).
  const double tolerance =
    metric == DistanceMetric::Cosine ? 100.0 * (eps / 2.0) : std::sqrt(100.0 * eps);
  for (std::size_t i = 0; i < meanDistance.size(); ++i)
  {
    scores[i] = meanDistance[i] < tolerance
      ? 1.0f
      : static_cast<float>(std::exp(-t * meanDistance[i] / scale));
  }
  if (scaleOut)
  {
    *scaleOut = scale;
  }
  return scores;
}

OutlierScoreResult computeEmbeddingOutlierScore(
  const FeatureMatrix& features, const OutlierScoreOptions& options)
{
  OutlierScoreResult result;
  result.metric = resolveMetric(options.metric, features.cols);
  if (!std::isfinite(options.t))
  {
    throw ModelError("The outlier score parameter t must be a finite number.");
  }
  if (options.k < 1)
  {
    throw ModelError("The number of neighbours K of the outlier score must be at least 1 (it is " +
      std::to_string(options.k) + ").");
  }
  // In a distributed run the matrix holds this rank's rows: the checks that
  // every rank must pass alike count all rows (the search checks the values).
  const int64_t rows = searchedRows(features, options.neighbors);
  if (rows == 0)
  {
    return result;
  }
  if (rows == 1)
  {
    throw ModelError("The kNN outlier score needs at least 2 samples; the input has only 1.");
  }
  if (!options.neighbors.parts)
  {
    requireFiniteRows(features, "the embedding");
  }

  KnnOptions knnOptions;
  knnOptions.k = options.k;
  knnOptions.metric = result.metric;
  knnOptions.search = options.neighbors;
  knnOptions.progress = options.progress;
  const KnnResult knn =
    computeKnn(features, options.queries.begin, options.queries.endFor(features.rows), knnOptions);
  result.k = knn.k;

  const std::size_t n = static_cast<std::size_t>(knn.rows);
  const std::size_t k = static_cast<std::size_t>(knn.k);
  std::vector<double> mean(n, 0.0);
  for (std::size_t i = 0; i < n; ++i)
  {
    double sum = 0.0;
    for (std::size_t j = 0; j < k; ++j)
    {
      sum += static_cast<double>(knn.distances[i * k + j]);
    }
    mean[i] = sum / static_cast<double>(k);
  }
  result.score =
    outlierScoresFromMeanDistances(mean, result.metric, options.t, options.scaling, &result.scale);
  result.meanDistance = std::move(mean);
  return result;
}

} // namespace engine
} // namespace dualembed
