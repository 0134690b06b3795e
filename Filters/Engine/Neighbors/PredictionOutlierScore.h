// Outlier score and label quality from predicted class probabilities
// (SPEC §2.3), following cleanlab 2.6/2.7 (no VTK):
//
// - confident threshold of class j: mean of p[:, j] over the samples
//   labelled j; a class without any labelled sample gets 2 * max(p) (as
//   cleanlab.count.get_confident_thresholds; this is 2 when some p is 1);
//   thresholds are floored at 2e-6.
// - adjusted probabilities (adjust_pred_probs = True):
//   p' = p - thr; p' += max(thr); each row divided by its sum.
// - Entropy: score = 1 - H(p') / log(K), H = -sum p' log p' with 0 log 0 = 0.
//   LeastConfidence: score = max_j p'_j.
// - label quality (self-confidence, cleanlab.rank): p[i, label_i] of the
//   unadjusted probabilities; low = likely label error.
// Computations are in double; results are stored as float.
#ifndef DualEmbed_Engine_PredictionOutlierScore_h
#define DualEmbed_Engine_PredictionOutlierScore_h

#include "NearestNeighbors.h"

#include <cstdint>
#include <vector>

namespace dualembed
{
namespace engine
{

enum class PredictionScoreMethod
{
  Entropy,
  LeastConfidence
};

struct PredictionScoreOptions
{
  PredictionScoreMethod method = PredictionScoreMethod::Entropy;
  /// cleanlab's adjust_pred_probs (needs labels).
  bool adjustPredProbs = true;
};

struct PredictionScoreResult
{
  std::vector<float> oodScore;             // ood_pred_score_<X>
  std::vector<float> labelQuality;         // label_quality_<X> (empty without labels)
  std::vector<double> confidentThresholds; // per class (empty without adjustment)
};

/// `probabilities`: N x K (K >= 2 classes), every value finite and in
/// [0, 1]. `labels`: N class indices in [0, K), or nullptr (then no label
/// quality and adjustPredProbs must be false). N = 0 gives an empty result.
/// Throws ModelError naming the count of offending rows / labels.
PredictionScoreResult computePredictionOutlierScore(const FeatureMatrix& probabilities,
  const int32_t* labels, const PredictionScoreOptions& options = PredictionScoreOptions());

} // namespace engine
} // namespace dualembed

#endif
