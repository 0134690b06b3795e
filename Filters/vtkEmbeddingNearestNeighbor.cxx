#include "vtkEmbeddingNearestNeighbor.h"

#include "EmbeddingNearestNeighbor.h"
#include "FilterSupport.h"

#include "vtkDataObject.h"
#include "vtkFloatArray.h"
#include "vtkObjectFactory.h"
#include "vtkTypeInt64Array.h"
#include "vtkUnsignedCharArray.h"

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkEmbeddingNearestNeighbor);

vtkEmbeddingNearestNeighbor::vtkEmbeddingNearestNeighbor()
{
  // No name: the first embedding, chosen when the filter runs (chooseInputArray).
  this->SetInputArrayToProcess(0, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "");
}

vtkEmbeddingNearestNeighbor::~vtkEmbeddingNearestNeighbor() = default;

int vtkEmbeddingNearestNeighbor::Execute(vtkInformation*, vtkPolyData* input, vtkPolyData* output,
  const dualembed::SampleExchange& exchange)
{
  // Under MPI every rank answers for its own samples, from all embeddings
  // gathered on every rank or, above the exact limit, through the distributed
  // search (each rank indexes its own rows); nn_id is the global index of the
  // neighbour (its sample_id for a reader).
  engine::NearestNeighborOptions options;
  options.threshold = this->Threshold;
  options.neighbors = dualembed::neighborSearch(
    "Embedding Nearest Neighbor", static_cast<engine::KnnMethod>(this->Method), &exchange);
  options.progress = dualembed::progressReporter(this);
  const bool distributed = options.neighbors.parts != nullptr;
  if (!distributed)
  {
    options.queries = { exchange.offset(), exchange.offset() + exchange.localRows() };
  }
  engine::NearestNeighborResult result;
  return this->ExecuteOnGatheredArray(
    input, output, exchange, { "Embedding", dualembed::ArrayRole::Embedding },
    [&](const dualembed::SelectedArray& embedding) {
      result = engine::computeEmbeddingNearestNeighbor(embedding.matrix(), options);
    },
    [&](const dualembed::SelectedArray& embedding) {
      const std::string x = dualembed::resultSuffix(embedding.name);
      dualembed::addPointArray<vtkTypeInt64Array>(output, "nn_id_" + x, result.id);
      dualembed::addPointArray<vtkFloatArray>(output, "nn_distance_" + x, result.distance);
      dualembed::addPointArray<vtkUnsignedCharArray>(output, "nn_flag_" + x, result.flag);
      return std::vector<std::string>{ "nn_id_" + x, "nn_distance_" + x, "nn_flag_" + x };
    },
    !distributed);
}

void vtkEmbeddingNearestNeighbor::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "Threshold: " << this->Threshold << "\n";
  os << indent << "Method: " << this->Method << "\n";
}
