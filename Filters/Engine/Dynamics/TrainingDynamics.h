// Per-sample training dynamics over the checkpoints of one fine-tuning run
// (SPEC §2.7), no VTK. Checkpoints t = 1..T, probabilities p_t and logits z_t
// (N x K each), y = the given label:
//
//   confidence_i       = mean_t p_t[i, y_i]                 (Dataset Cartography)
//   variability_i      = std_t p_t[i, y_i], ddof 0 (np.std) (Dataset Cartography)
//   correctness_i      = #{t : argmax_j p_t[i, j] = y_i} / T (first maximum on ties, as np.argmax)
//   forgetting_events_i = #{t > 1 : correct at t-1, incorrect at t}; T when never correct
//                        (Toneva et al.'s "never learned" samples count as forgotten at every step)
//   aum_i              = mean_t (z_t[i, y_i] - max_{j != y_i} z_t[i, j])  (Pleiss et al.'s margin)
//
// Sums in double. Every quantity is per sample, so a rank computes its own
// rows without seeing the others'.
//
// Embedding drift (SPEC §2.6 between checkpoints): with the exact kNN (k = 10,
// self excluded, metric as the Embedding Change: cosine above 3 dimensions)
// of each checkpoint's embedding, drift_t,i = 1 - |kNN_t(i) ∩ kNN_{t-1}(i)| / k
// (0 at the first checkpoint: nothing has moved yet), to_final_t,i the same
// against the last checkpoint, and the mean of drift_t,i over t > 1.
#ifndef DualEmbed_Engine_TrainingDynamics_h
#define DualEmbed_Engine_TrainingDynamics_h

#include "NearestNeighbors.h"
#include "QueryRows.h"

#include <cstdint>
#include <vector>

namespace dualembed
{
namespace engine
{

/// One checkpoint's outputs for the rows of interest, row-major N x K.
struct CheckpointPredictions
{
  const float* probs = nullptr;
  const float* logits = nullptr; // optional: without logits at every checkpoint there is no AUM
};

struct TrainingDynamicsResult
{
  std::vector<float> confidence;
  std::vector<float> variability;
  std::vector<float> correctness;
  std::vector<int32_t> forgettingEvents;
  std::vector<float> aum;              // empty when some checkpoint has no logits
  std::vector<float> labelProbability; // N x T: p_t[i, y_i], the trajectory behind confidence
  int checkpoints = 0;
};

/// Throws ModelError for no checkpoint, K < 2, labels outside 0..K-1 (naming
/// their count) and NaN / Inf probabilities or logits.
TrainingDynamicsResult computeTrainingDynamics(
  const std::vector<CheckpointPredictions>& checkpoints, int64_t rows, int classes,
  const int32_t* labels);

struct EmbeddingDriftOptions
{
  int k = 10;
  MetricChoice metric = MetricChoice::Auto; // applied to each checkpoint's embedding
  NeighborSearch neighbors; // of each checkpoint's kNN (auto: exact up to 200 000 rows)
  ProgressCallback progress;
  QueryRows queries; // rows to answer (all by default); every row stays a neighbour
};

struct EmbeddingDriftResult
{
  std::vector<float> toPrevious; // T x n (checkpoint-major): drift from the checkpoint before
  std::vector<float> toFinal;    // T x n: 1 - overlap with the last checkpoint
  std::vector<float> mean;       // n: mean of toPrevious over the checkpoints after the first
  int k = 0;
};

/// `embeddings[t]`: all N samples at checkpoint t (dimensions may differ
/// between checkpoints). In a distributed run (options.neighbors.parts set,
/// DistributedNeighbors.h; collective) each part passes its own rows and
/// gets their drift, the neighbours searched among every part's rows.
/// Throws ModelError for no checkpoint, different N, k < 1, NaN / Inf rows;
/// Aborted on cancel.
EmbeddingDriftResult computeEmbeddingDrift(
  const std::vector<FeatureMatrix>& embeddings, const EmbeddingDriftOptions& options = {});

} // namespace engine
} // namespace dualembed

#endif
