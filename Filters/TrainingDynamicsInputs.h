// What Training Dynamics (vtkTrainingDynamics.h) keeps of each checkpoint of a
// fine-tuning run (one time step each) and hands to the engine: the labels,
// every step's class probabilities (and logits) and the embedding the drift is
// measured in. Not wrapped.
#ifndef TrainingDynamicsInputs_h
#define TrainingDynamicsInputs_h

#ifndef __VTK_WRAP__
#include "FilterSupport.h"    // SelectedArray
#include "TrainingDynamics.h" // engine::TrainingDynamicsResult, engine::EmbeddingDriftResult

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

class vtkAlgorithm;
class vtkPolyData;

namespace dualembed
{
class SampleExchange;

/// Collected, one entry per time step (empty where a step has no
/// probabilities). The read functions report errors on `filter` and return
/// false; those that are collective say so.
struct CheckpointInputs
{
  std::string ProbsName, LogitsName, EmbeddingName;
  int Classes = 0;
  std::vector<std::vector<float>> Probs, Logits; // this rank's rows
  std::vector<SelectedArray> Embeddings; // all ranks' rows, or this rank's (a distributed search)
  std::vector<int32_t> Labels;
  std::vector<size_t> StepsWithPredictions;

  /// Forgets the series before (at its first step).
  void clear();

  /// Collective. The labels (SetInputArrayToProcess 1) as class indices.
  bool readLabels(vtkAlgorithm* filter, vtkPolyData* input, const SampleExchange& exchange);

  /// Collective. Time step `step`'s probabilities (SetInputArrayToProcess 0)
  /// and logits_<X> beside them; none at a headless step.
  bool readPredictions(
    vtkAlgorithm* filter, vtkPolyData* input, size_t step, const SampleExchange& exchange);

  /// Collective. Time step `step`'s embedding (SetInputArrayToProcess 2) for
  /// the drift: all ranks' rows, or this rank's own (`where` None).
  bool readEmbedding(vtkAlgorithm* filter, vtkPolyData* input, size_t step,
    const SampleExchange& exchange, GatherTo where);

  /// Once every step is in: false after an error when no step has
  /// predictions; says (on the root) what the dynamics are over.
  bool checkPredictions(vtkAlgorithm* filter, const SampleExchange& exchange) const;

  /// The engine's dynamics over the steps with predictions (this rank's rows).
  engine::TrainingDynamicsResult dynamics() const;

  /// The engine's drift of the collected embeddings.
  engine::EmbeddingDriftResult drift(const engine::EmbeddingDriftOptions& options) const;
};
}
#endif
#endif
