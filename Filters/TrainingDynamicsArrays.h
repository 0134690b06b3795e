// What Training Dynamics adds to each time step (vtkTrainingDynamics.h, SPEC
// §2.7): the per-sample dynamics of probs_<X>, the embedding drift of that
// step, and which time steps the dynamics are over. Not wrapped.
#ifndef TrainingDynamicsArrays_h
#define TrainingDynamicsArrays_h

#ifndef __VTK_WRAP__
#include "TrainingDynamics.h" // engine::TrainingDynamicsResult, engine::EmbeddingDriftResult

#include <cstddef>
#include <string>
#include <vector>

class vtkPolyData;

namespace dualembed
{
/// confidence_X, variability_X, correctness_X, forgetting_events_X, aum_X
/// (with logits) and label_probability_X (one component per checkpoint), X
/// from the probability array's name.
void addDynamicsArrays(vtkPolyData* output, const std::string& probabilitiesName,
  const engine::TrainingDynamicsResult& dynamics);

/// embedding_drift_Y and embedding_drift_to_final_Y of time step `step` (the
/// last one's beyond), and mean_embedding_drift_Y.
void addDriftArrays(vtkPolyData* output, const std::string& embeddingName,
  const engine::EmbeddingDriftResult& drift, size_t step);

/// Field data dynamics_time_steps: the time of each step with predictions
/// (0 without time steps), for plots and the report.
void addDynamicsTimeSteps(vtkPolyData* output, const std::vector<double>& times,
  const std::vector<size_t>& stepsWithPredictions);
}
#endif
#endif
