#include "vtkEmbeddingProjection.h"

#include "EmbeddingProjection.h"
#include "FilterSupport.h"
#include "ImageEmbedding.h" // engine::setEngineThreads

#include "vtkDataObject.h"
#include "vtkFloatArray.h"
#include "vtkInformationVector.h"
#include "vtkObjectFactory.h"
#include "vtkOutputWindow.h"
#include "vtkPointData.h"
#include "vtkPoints.h"

#include <stdexcept>
#include <string>

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkEmbeddingProjection);

vtkEmbeddingProjection::vtkEmbeddingProjection()
{
  this->SetInputArrayToProcess(
    0, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "embedding_foundation");
}

int vtkEmbeddingProjection::RequestData(
  vtkInformation* request, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  return dualembed::emptyOnFailure(this, vtkPolyData::GetData(outputVector, 0),
    [&] { return this->Compute(request, inputVector, outputVector); });
}

int vtkEmbeddingProjection::Compute(
  vtkInformation*, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  vtkPolyData* input = vtkPolyData::GetData(inputVector[0], 0);
  vtkPolyData* output = vtkPolyData::GetData(outputVector, 0);
  // UMAP and t-SNE optimise all points together: under MPI the root gathers
  // the embeddings, projects them exactly as a serial run would, and sends
  // each rank its own samples' coordinates.
  const dualembed::SampleExchange exchange(input->GetNumberOfPoints());
  if (dualembed::passEmptyInput(input, output, exchange))
  {
    return 1;
  }
  dualembed::SelectedArray embedding;
  if (!dualembed::gatherSelectedArray(this, this->GetInputAbstractArrayToProcess(0, input), exchange,
        dualembed::GatherTo::Root, embedding))
  {
    return 0;
  }
  static const char* const prefixes[] = { "umap_", "tsne_", "pca_" };
  const std::string name = prefixes[this->Method] + dualembed::resultSuffix(embedding.name);
  const int dimensions = this->Dimensions;

  // The map is the render view: points move to the projection (z = 0 in 2-D).
  auto moveTo = [output, dimensions](const float* coordinates, vtkIdType n) {
    vtkNew<vtkPoints> points;
    points->SetDataTypeToFloat();
    points->SetNumberOfPoints(n);
    for (vtkIdType i = 0; i < n; ++i)
    {
      const float* c = coordinates + i * dimensions;
      points->SetPoint(i, c[0], c[1], dimensions == 3 ? c[2] : 0.0f);
    }
    output->SetPoints(points);
  };

  vtkFloatArray* stored = vtkFloatArray::SafeDownCast(input->GetPointData()->GetArray(name.c_str()));
  const bool reuse = this->ReuseStoredCoordinates && stored &&
    stored->GetNumberOfComponents() == dimensions;
  output->ShallowCopy(input);
  if (exchange.minimum(reuse ? 1 : 0) == 1)
  {
    moveTo(stored->GetPointer(0), stored->GetNumberOfTuples());
    if (exchange.rank() == 0)
    {
      vtkOutputWindowDisplayText(("Embedding Projection: reusing the stored '" + name +
        "' coordinates (turn ReuseStoredCoordinates off to recompute).\n").c_str());
    }
    return 1;
  }

  engine::ProjectionOptions options;
  options.method = static_cast<engine::ProjectionMethod>(this->Method);
  options.dimensions = dimensions;
  options.neighbors = this->NumberOfNeighbors;
  options.minDist = this->MinDist;
  options.metric =
    this->Metric == METRIC_COSINE ? engine::MetricChoice::Cosine : engine::MetricChoice::Euclidean;
  options.perplexity = this->Perplexity;
  options.seed = static_cast<uint64_t>(this->Seed);
  options.progress = dualembed::progressReporter(this);
  std::vector<float> allCoordinates; // on the root
  return dualembed::runEngine(this, exchange,
    [&] {
      if (exchange.rank() != 0)
      {
        exchange.waitForRoot();
        return;
      }
      // The other ranks sleep meanwhile: the root takes every core of its machine.
      struct Done
      {
        const dualembed::SampleExchange& exchange;
        ~Done() { exchange.rootWorkDone(); }
      } done{ exchange };
      engine::setEngineThreads(dualembed::threadsOfHost());
      auto result = engine::computeEmbeddingProjection(embedding.matrix(), options);
      if (result.dimensions != dimensions || result.rows != exchange.totalRows())
      {
        throw std::runtime_error("The projection returned " + std::to_string(result.rows) + " x " +
          std::to_string(result.dimensions) + " coordinates for " + std::to_string(exchange.totalRows()) +
          " samples in " + std::to_string(dimensions) + "-D.");
      }
      allCoordinates = std::move(result.coordinates);
    },
    [&] {
      const std::vector<float> mine = exchange.scatterRowsFromRoot(allCoordinates, dimensions);
      vtkNew<vtkFloatArray> coordinates;
      coordinates->SetName(name.c_str());
      coordinates->SetNumberOfComponents(dimensions);
      coordinates->SetNumberOfTuples(exchange.localRows());
      std::copy(mine.begin(), mine.end(), coordinates->GetPointer(0));
      output->GetPointData()->AddArray(coordinates);
      moveTo(mine.data(), exchange.localRows());
    });
}

void vtkEmbeddingProjection::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "Method: " << this->Method << "\n";
  os << indent << "Dimensions: " << this->Dimensions << "\n";
  os << indent << "NumberOfNeighbors: " << this->NumberOfNeighbors << "\n";
  os << indent << "MinDist: " << this->MinDist << "\n";
  os << indent << "Metric: " << this->Metric << "\n";
  os << indent << "Perplexity: " << this->Perplexity << "\n";
  os << indent << "Seed: " << this->Seed << "\n";
  os << indent << "ReuseStoredCoordinates: " << this->ReuseStoredCoordinates << "\n";
}
