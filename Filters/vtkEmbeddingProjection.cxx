#include "vtkEmbeddingProjection.h"

#include "EmbeddingProjection.h"
#include "FilterSupport.h"

#include "vtkDataObject.h"
#include "vtkFloatArray.h"
#include "vtkInformationVector.h"
#include "vtkObjectFactory.h"
#include "vtkOutputWindow.h"
#include "vtkPointData.h"
#include "vtkPoints.h"

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkEmbeddingProjection);

vtkEmbeddingProjection::vtkEmbeddingProjection()
{
  this->SetInputArrayToProcess(
    0, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "embedding_foundation");
}

int vtkEmbeddingProjection::RequestData(
  vtkInformation*, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  vtkPolyData* input = vtkPolyData::GetData(inputVector[0], 0);
  vtkPolyData* output = vtkPolyData::GetData(outputVector, 0);
  dualembed::SelectedArray embedding;
  if (!dualembed::readSelectedArray(this, this->GetInputAbstractArrayToProcess(0, input), embedding))
  {
    return 0;
  }
  static const char* const prefixes[] = { "umap_", "tsne_", "pca_" };
  const std::string name = prefixes[this->Method] + dualembed::resultSuffix(embedding.name);
  const engine::FeatureMatrix features = embedding.matrix();

  // The map is the render view: points move to the projection (z = 0 in 2-D).
  auto moveTo = [output](const float* coordinates, vtkIdType n, int dimensions) {
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
  if (this->ReuseStoredCoordinates && stored && stored->GetNumberOfComponents() == this->Dimensions)
  {
    output->ShallowCopy(input);
    moveTo(stored->GetPointer(0), stored->GetNumberOfTuples(), this->Dimensions);
    vtkOutputWindowDisplayText(("Embedding Projection: reusing the stored '" + name +
      "' coordinates (turn ReuseStoredCoordinates off to recompute).\n").c_str());
    return 1;
  }

  output->ShallowCopy(input);
  return dualembed::runEngine(this, input, output, [&] {
    engine::ProjectionOptions options;
    options.method = static_cast<engine::ProjectionMethod>(this->Method);
    options.dimensions = this->Dimensions;
    options.neighbors = this->NumberOfNeighbors;
    options.minDist = this->MinDist;
    options.metric =
      this->Metric == METRIC_COSINE ? engine::MetricChoice::Cosine : engine::MetricChoice::Euclidean;
    options.perplexity = this->Perplexity;
    options.seed = static_cast<uint64_t>(this->Seed);
    options.progress = dualembed::progressReporter(this);
    const auto result = engine::computeEmbeddingProjection(features, options);

    vtkNew<vtkFloatArray> coordinates;
    coordinates->SetName(name.c_str());
    coordinates->SetNumberOfComponents(result.dimensions);
    coordinates->SetNumberOfTuples(result.rows);
    std::copy(result.coordinates.begin(), result.coordinates.end(), coordinates->GetPointer(0));
    output->GetPointData()->AddArray(coordinates);
    moveTo(result.coordinates.data(), result.rows, result.dimensions);
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
