#include "vtkEmbeddingNearestNeighbor.h"

#include "EmbeddingNearestNeighbor.h"
#include "FilterSupport.h"

#include "vtkDataObject.h"
#include "vtkFloatArray.h"
#include "vtkInformationVector.h"
#include "vtkObjectFactory.h"
#include "vtkTypeInt64Array.h"
#include "vtkUnsignedCharArray.h"

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkEmbeddingNearestNeighbor);

struct vtkEmbeddingNearestNeighbor::LastResult : dualembed::ReusableResult
{
};

vtkEmbeddingNearestNeighbor::vtkEmbeddingNearestNeighbor()
  : Last(new LastResult)
{
  // No name: the first embedding, chosen when the filter runs (chooseInputArray).
  this->SetInputArrayToProcess(0, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "");
}

vtkEmbeddingNearestNeighbor::~vtkEmbeddingNearestNeighbor() = default;

int vtkEmbeddingNearestNeighbor::RequestData(
  vtkInformation* request, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  return dualembed::emptyOnFailure(this, vtkPolyData::GetData(outputVector, 0),
    [&] { return this->Compute(request, inputVector, outputVector); });
}

int vtkEmbeddingNearestNeighbor::Compute(
  vtkInformation*, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  vtkPolyData* input = vtkPolyData::GetData(inputVector[0], 0);
  vtkPolyData* output = vtkPolyData::GetData(outputVector, 0);
  // Under MPI every rank gets all embeddings and answers for its own samples;
  // nn_id is the global index of the neighbour (its sample_id for a reader).
  const dualembed::SampleExchange exchange(input->GetNumberOfPoints());
  if (dualembed::passEmptyInput(input, output, exchange))
  {
    return 1;
  }
  vtkAbstractArray* selected = nullptr;
  if (!dualembed::chooseInputArray(this, 0, input, { "Embedding", dualembed::ArrayRole::Embedding }, exchange, selected))
  {
    return 0;
  }
  output->ShallowCopy(input);
  if (this->Last->reuse(this, selected, exchange, output))
  {
    return 1;
  }
  dualembed::SelectedArray embedding;
  if (!dualembed::gatherSelectedArray(this, selected, exchange, dualembed::GatherTo::AllRanks, embedding))
  {
    return 0;
  }
  engine::NearestNeighborOptions options;
  options.threshold = this->Threshold;
  options.method = static_cast<engine::KnnMethod>(this->Method);
  options.progress = dualembed::progressReporter(this);
  options.queries = { exchange.offset(), exchange.offset() + exchange.localRows() };
  engine::NearestNeighborResult result;
  const int done = dualembed::runEngine(this, exchange,
    [&] { result = engine::computeEmbeddingNearestNeighbor(embedding.matrix(), options); },
    [&] {
      const std::string x = dualembed::resultSuffix(embedding.name);
      dualembed::addPointArray<vtkTypeInt64Array>(output, "nn_id_" + x, result.id);
      dualembed::addPointArray<vtkFloatArray>(output, "nn_distance_" + x, result.distance);
      dualembed::addPointArray<vtkUnsignedCharArray>(output, "nn_flag_" + x, result.flag);
    });
  if (done)
  {
    const std::string x = dualembed::resultSuffix(embedding.name);
    this->Last->keep(this, selected, output, { "nn_id_" + x, "nn_distance_" + x, "nn_flag_" + x });
  }
  return done;
}

void vtkEmbeddingNearestNeighbor::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "Threshold: " << this->Threshold << "\n";
  os << indent << "Method: " << this->Method << "\n";
}
