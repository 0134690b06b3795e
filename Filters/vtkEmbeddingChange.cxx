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
  // Under MPI every rank answers for its own samples: from both embeddings of
  // all samples gathered on every rank or, above the exact limit, through the
  // distributed search (each rank indexes its own rows).
  engine::EmbeddingChangeOptions options;
  options.k = this->K;
  options.neighbors =
    dualembed::neighborSearch("Embedding Change", engine::KnnMethod::Auto, &exchange);
  options.progress = dualembed::progressReporter(this);
  const dualembed::GatherTo gather =
    options.neighbors.parts ? dualembed::GatherTo::None : dualembed::GatherTo::AllRanks;
  if (!options.neighbors.parts)
  {
    options.queries = { exchange.offset(), exchange.offset() + exchange.localRows() };
  }
  vtkAbstractArray* first = nullptr;
  vtkAbstractArray* second = nullptr;
  dualembed::SelectedArray before, after;
  if (!dualembed::chooseInputArray(
        this, 0, input, { "EmbeddingA", dualembed::ArrayRole::Embedding }, exchange, first) ||
    !dualembed::chooseInputArray(
      this, 1, input, { "EmbeddingB", dualembed::ArrayRole::Embedding, 1 }, exchange, second) ||
    !dualembed::gatherSelectedArray(this, first, exchange, gather, before) ||
    !dualembed::gatherSelectedArray(this, second, exchange, gather, after))
  {
    return 0;
  }
  output->ShallowCopy(input);
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
