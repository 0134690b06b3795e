#include "TrainingDynamicsArrays.h"

#include "FilterSupport.h" // addPointArray, resultSuffix

#include "vtkDoubleArray.h"
#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkIntArray.h"
#include "vtkNew.h"
#include "vtkPointData.h"
#include "vtkPolyData.h"

#include <algorithm>
#include <cstddef>

namespace dualembed
{
void addDynamicsArrays(vtkPolyData* output, const std::string& probabilitiesName,
  const engine::TrainingDynamicsResult& dynamics)
{
  const std::string x = resultSuffix(probabilitiesName);
  addPointArray<vtkFloatArray>(output, "confidence_" + x, dynamics.confidence);
  addPointArray<vtkFloatArray>(output, "variability_" + x, dynamics.variability);
  addPointArray<vtkFloatArray>(output, "correctness_" + x, dynamics.correctness);
  addPointArray<vtkIntArray>(output, "forgetting_events_" + x, dynamics.forgettingEvents);
  if (!dynamics.aum.empty())
  {
    addPointArray<vtkFloatArray>(output, "aum_" + x, dynamics.aum);
  }
  vtkNew<vtkFloatArray> trajectory;
  trajectory->SetName(("label_probability_" + x).c_str());
  trajectory->SetNumberOfComponents(dynamics.checkpoints);
  trajectory->SetNumberOfTuples(static_cast<vtkIdType>(dynamics.confidence.size()));
  std::copy(
    dynamics.labelProbability.begin(), dynamics.labelProbability.end(), trajectory->GetPointer(0));
  output->GetPointData()->AddArray(trajectory);
}

void addDriftArrays(vtkPolyData* output, const std::string& embeddingName,
  const engine::EmbeddingDriftResult& drift, size_t step)
{
  const std::string y = resultSuffix(embeddingName);
  const size_t n = drift.mean.size();
  const size_t t = std::min(step, drift.toPrevious.size() / n - 1);
  const auto slice = [n, t](const std::vector<float>& all) {
    return std::vector<float>(all.begin() + static_cast<std::ptrdiff_t>(t * n),
      all.begin() + static_cast<std::ptrdiff_t>((t + 1) * n));
  };
  addPointArray<vtkFloatArray>(output, "embedding_drift_" + y, slice(drift.toPrevious));
  addPointArray<vtkFloatArray>(output, "embedding_drift_to_final_" + y, slice(drift.toFinal));
  addPointArray<vtkFloatArray>(output, "mean_embedding_drift_" + y, drift.mean);
}

void addDynamicsTimeSteps(vtkPolyData* output, const std::vector<double>& times,
  const std::vector<size_t>& stepsWithPredictions)
{
  vtkNew<vtkDoubleArray> array;
  array->SetName("dynamics_time_steps");
  for (size_t s : stepsWithPredictions)
  {
    array->InsertNextValue(times.empty() ? 0.0 : times[s]);
  }
  output->GetFieldData()->AddArray(array);
}
}
