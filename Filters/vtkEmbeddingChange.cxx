#include "vtkEmbeddingChange.h"

#include "EmbeddingChange.h"
#include "FilterSupport.h"

#include "vtkDataObject.h"
#include "vtkFloatArray.h"
#include "vtkObjectFactory.h"

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkEmbeddingChange);

vtkEmbeddingChange::vtkEmbeddingChange()
{
  // No names: the first and the second embedding, chosen when the filter runs (chooseInputArray).
  this->SetInputArrayToProcess(0, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "");
  this->SetInputArrayToProcess(1, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "");
}

int vtkEmbeddingChange::Execute(vtkInformation*, vtkPolyData* input, vtkPolyData* output,
  const dualembed::SampleExchange& exchange)
{
  // Under MPI every rank gets both embeddings of all samples and answers for its own.
  vtkAbstractArray* first = nullptr;
  vtkAbstractArray* second = nullptr;
  dualembed::SelectedArray before, after;
  if (!dualembed::chooseInputArray(
        this, 0, input, { "EmbeddingA", dualembed::ArrayRole::Embedding }, exchange, first) ||
    !dualembed::chooseInputArray(
      this, 1, input, { "EmbeddingB", dualembed::ArrayRole::Embedding, 1 }, exchange, second) ||
    !dualembed::gatherSelectedArray(this, first, exchange, dualembed::GatherTo::AllRanks, before) ||
    !dualembed::gatherSelectedArray(this, second, exchange, dualembed::GatherTo::AllRanks, after))
  {
    return 0;
  }
  output->ShallowCopy(input);
  engine::EmbeddingChangeOptions options;
  options.k = this->K;
  options.neighbors = dualembed::neighborSearch("Embedding Change");
  options.progress = dualembed::progressReporter(this);
  options.queries = { exchange.offset(), exchange.offset() + exchange.localRows() };
  engine::EmbeddingChangeResult result;
  return dualembed::runEngine(
    this, exchange,
    [&] { result = engine::computeEmbeddingChange(before.matrix(), after.matrix(), options); },
    [&] {
      dualembed::addPointArray<vtkFloatArray>(output, "neighbor_overlap", result.overlap);
      dualembed::addPointArray<vtkFloatArray>(output, "embedding_change", result.change);
    });
}

void vtkEmbeddingChange::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "K: " << this->K << "\n";
}
