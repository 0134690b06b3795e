// kNN outlier score of embeddings (SPEC §2.3): cleanlab's
// OutOfDistribution score from features (cleanlab >= 2.6), no VTK.
//
//   k      = min(K, N - 1), neighbours exclude the sample itself (an exact
//            duplicate is a neighbour at distance 0);
//   metric = Auto: cosine (1 - cos) when D > 3, else euclidean;
//   d_i    = mean distance to the k nearest neighbours;
//   Scaling Median: s = max(median(d), 100 eps) (numpy median: the mean of
//            the two middle values for even N; eps = float64 epsilon),
//            score = exp(-t d_i / s); d_i below the precision tolerance
//            (cosine 100 * 2^-53 = 100 * numpy epsneg, as in cleanlab's
//            correct_precision_errors; euclidean sqrt(100 * 2^-52)) -> 1.
//   Scaling None: score = exp(-t d_i) (cleanlab <= 2.5).
// Scores lie in (0, 1]; lower = more unusual.
#ifndef DualEmbed_Engine_EmbeddingOutlierScore_h
#define DualEmbed_Engine_EmbeddingOutlierScore_h

#include "NearestNeighbors.h"
#include "QueryRows.h"

#include <cstdint>
#include <vector>

namespace dualembed
{
namespace engine
{

enum class DistanceScaling
{
  Median, // cleanlab >= 2.6 (default)
  None    // cleanlab <= 2.5
};

struct OutlierScoreOptions
{
  int k = 10;
  MetricChoice metric = MetricChoice::Auto;
  double t = 1.0;
  DistanceScaling scaling = DistanceScaling::Median;
  NeighborSearch neighbors; // the method (auto: exact up to 200 000 rows) and its report
  ProgressCallback progress;
  /// Rows to score (all by default). The median of a partial range is that
  /// range's own: a distributed run gathers meanDistance of all ranks and
  /// calls outlierScoresFromMeanDistances for the global one.
  QueryRows queries;
};

struct OutlierScoreResult
{
  std::vector<float> score;         // outlier_score_<X>, one per query row
  std::vector<double> meanDistance; // knn_mean_distance_<X>, one per query row
  int k = 0;                        // neighbours used: min(K, N - 1)
  DistanceMetric metric = DistanceMetric::Cosine;
  double scale = 1.0; // s (1 for Scaling None)
};

/// Scores of all rows of `features` (N x D, float32 row-major).
/// N = 0 gives an empty result. Throws ModelError for N = 1 ("needs at
/// least 2 samples"), K < 1, a non-finite t, or rows with NaN/Inf (naming
/// their count); Aborted when the progress callback returns false.
OutlierScoreResult computeEmbeddingOutlierScore(
  const FeatureMatrix& features, const OutlierScoreOptions& options);

/// The score transformation alone, from the mean kNN distances of all
/// samples (e.g. gathered from MPI ranks): the median is global.
/// `scale` (optional) receives s.
std::vector<float> outlierScoresFromMeanDistances(const std::vector<double>& meanDistance,
  DistanceMetric metric, double t, DistanceScaling scaling, double* scale = nullptr);

/// numpy.median of a copy of `values` (mean of the two middle values for an
/// even count); NaN for an empty vector.
double numpyMedian(std::vector<double> values);

} // namespace engine
} // namespace dualembed

#endif
