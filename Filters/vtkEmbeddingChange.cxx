#include "vtkEmbeddingChange.h"

#include "EmbeddingChange.h"
#include "FilterSupport.h"

#include "vtkDataObject.h"
#include "vtkFloatArray.h"
#include "vtkInformationVector.h"
#include "vtkObjectFactory.h"

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkEmbeddingChange);

vtkEmbeddingChange::vtkEmbeddingChange()
{
  this->SetInputArrayToProcess(
    0, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "embedding_foundation");
  this->SetInputArrayToProcess(1, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "embedding_ft");
}

int vtkEmbeddingChange::RequestData(
  vtkInformation*, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  vtkPolyData* input = vtkPolyData::GetData(inputVector[0], 0);
  vtkPolyData* output = vtkPolyData::GetData(outputVector, 0);
  dualembed::SelectedArray before, after;
  if (!dualembed::readSelectedArray(this, this->GetInputAbstractArrayToProcess(0, input), before) ||
    !dualembed::readSelectedArray(this, this->GetInputAbstractArrayToProcess(1, input), after))
  {
    return 0;
  }
  output->ShallowCopy(input);
  return dualembed::runEngine(this, input, output, [&] {
    engine::EmbeddingChangeOptions options;
    options.k = this->K;
    options.progress = dualembed::progressReporter(this);
    const auto result = engine::computeEmbeddingChange(before.matrix(), after.matrix(), options);
    dualembed::addPointArray<vtkFloatArray>(output, "neighbor_overlap", result.overlap);
    dualembed::addPointArray<vtkFloatArray>(output, "embedding_change", result.change);
  });
}

void vtkEmbeddingChange::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "K: " << this->K << "\n";
}
