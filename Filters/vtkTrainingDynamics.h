/**
 * @class   vtkTrainingDynamics
 * @brief   Per-sample training dynamics over the checkpoints (time steps) of a fine-tuning run.
 *
 * The input is temporal: one time step per checkpoint, as vtkCheckpointEmbedding
 * gives it. On its first update the filter reads every time step and adds,
 * for the probability array probs_X and the labels (SPEC §2.7):
 * `confidence_X` and `variability_X` (mean and standard deviation of the
 * probability of the given label: Dataset Cartography), `correctness_X`
 * (fraction of checkpoints predicting the label), `forgetting_events_X`
 * (correct → incorrect transitions; the number of checkpoints when never
 * learned), `aum_X` (mean margin of the label's logit, when logits_X is
 * present) and `label_probability_X` (the per-checkpoint probabilities of
 * the label, one component per checkpoint). With an embedding selected it also adds
 * `embedding_drift_Y` (1 − kNN overlap with the checkpoint before, per time
 * step), `embedding_drift_to_final_Y` (the same against the last checkpoint)
 * and `mean_embedding_drift_Y`. The per-sample results are the same at every
 * time step; the output keeps the input's time steps, so maps can play
 * through training coloured by them. Time steps without probs_X (a
 * foundation model as step 0) count for the drift only.
 */
#ifndef vtkTrainingDynamics_h
#define vtkTrainingDynamics_h

#include "DualEmbedFiltersModule.h" // for export macro
#include "vtkTemporalSampleFilter.h"

#include <memory> // for std::unique_ptr

namespace dualembed
{
class SampleExchange;
}

class DUALEMBEDFILTERS_EXPORT vtkTrainingDynamics : public vtkTemporalSampleFilter
{
public:
  static vtkTrainingDynamics* New();
  vtkTypeMacro(vtkTrainingDynamics, vtkTemporalSampleFilter);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  ///@{
  /// Add the embedding drift of the selected embedding array (default on).
  vtkSetMacro(ComputeEmbeddingDrift, bool);
  vtkGetMacro(ComputeEmbeddingDrift, bool);
  vtkBooleanMacro(ComputeEmbeddingDrift, bool);
  ///@}

  ///@{
  /// Neighbours compared per sample for the drift (10); N − 1 when the dataset is smaller.
  vtkSetClampMacro(K, int, 1, 10000);
  vtkGetMacro(K, int);
  ///@}

  ///@{
  /// The drift's neighbour search: auto (default: exact up to 200 000
  /// samples, else ivf), exact, ivf or flann. Under MPI, ivf searches
  /// distributed: each rank keeps only its own samples' embeddings.
  vtkSetClampMacro(NeighborMethod, int, NEIGHBORS_EXACT, NEIGHBORS_AUTO);
  vtkGetMacro(NeighborMethod, int);
  ///@}

protected:
  vtkTrainingDynamics();
  ~vtkTrainingDynamics() override;

  int Execute(vtkInformation* request, vtkPolyData* input, vtkPolyData* output,
    const dualembed::SampleExchange& exchange) override;

private:
  vtkTrainingDynamics(const vtkTrainingDynamics&) = delete;
  void operator=(const vtkTrainingDynamics&) = delete;

  bool CollectStep(vtkPolyData* input, size_t step, const dualembed::SampleExchange& exchange);
  bool ComputeResult(const dualembed::SampleExchange& exchange);
  void AddResult(vtkPolyData* output, size_t step);

  struct Internals;
  std::unique_ptr<Internals> Internal;

  bool ComputeEmbeddingDrift = true;
  int K = 10;
  int NeighborMethod = NEIGHBORS_AUTO;
};

#endif
