#include "vtkPredictionOutlierScore.h"

#include "FilterSupport.h"
#include "PredictionOutlierScore.h"

#include "vtkDataObject.h"
#include "vtkFloatArray.h"
#include "vtkObjectFactory.h"

#include <cmath>

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkPredictionOutlierScore);

vtkPredictionOutlierScore::vtkPredictionOutlierScore()
{
  // No names: the first probs_* and label arrays, chosen when the filter runs (chooseInputArray).
  this->SetInputArrayToProcess(0, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "");
  this->SetInputArrayToProcess(1, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "");
}

int vtkPredictionOutlierScore::Execute(vtkInformation*, vtkPolyData* input, vtkPolyData* output,
  const dualembed::SampleExchange& exchange)
{
  // The confident thresholds are per-class means over all samples: under MPI
  // every rank gets all probabilities and labels, and keeps its own rows.
  vtkAbstractArray* probabilityArray = nullptr;
  vtkAbstractArray* labelArray = nullptr;
  dualembed::SelectedArray probabilities, labelValues;
  if (!dualembed::chooseInputArray(this, 0, input,
        { "Probabilities", dualembed::ArrayRole::Probabilities, 0, "probs_ft", false, false },
        exchange, probabilityArray) ||
    !dualembed::chooseInputArray(
      this, 1, input, { "Labels", dualembed::ArrayRole::Labels }, exchange, labelArray) ||
    !dualembed::gatherSelectedArray(
      this, probabilityArray, exchange, dualembed::GatherTo::AllRanks, probabilities) ||
    !dualembed::gatherSelectedArray(
      this, labelArray, exchange, dualembed::GatherTo::AllRanks, labelValues))
  {
    return 0;
  }
  std::vector<int32_t> labels;
  if (!dualembed::classIndices(this, labelValues, labels))
  {
    return 0;
  }
  output->ShallowCopy(input);
  return dualembed::runEngine(this, [&] {
    engine::PredictionScoreOptions options;
    options.method = static_cast<engine::PredictionScoreMethod>(this->Method);
    const auto result =
      engine::computePredictionOutlierScore(probabilities.matrix(), labels.data(), options);
    const std::string x = dualembed::resultSuffix(probabilities.name);
    dualembed::addPointArray<vtkFloatArray>(
      output, "ood_pred_score_" + x, exchange.localPart(result.oodScore));
    dualembed::addPointArray<vtkFloatArray>(
      output, "label_quality_" + x, exchange.localPart(result.labelQuality));
  });
}

void vtkPredictionOutlierScore::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "Method: " << this->Method << "\n";
}
