#include "vtkEmbeddingProjection.h"

#include "EmbeddingProjectionArrays.h" // projectionArrayName, moveToStoredCoordinates
#include "FilterSupport.h"
#include "ProjectionMaps.h"
#include "TemporalSeries.h"
#include "TimeStepLoop.h"

#include "vtkDataObject.h"
#include "vtkObjectFactory.h"

#include <string>

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkEmbeddingProjection);

struct vtkEmbeddingProjection::Internals
{
  dualembed::PlainMap Plain;      // AlignTimeSteps off
  dualembed::AlignedMaps Aligned; // AlignTimeSteps
};

namespace
{
const dualembed::ArrayChoice EmbeddingChoice = { "Embedding", dualembed::ArrayRole::Embedding };

/// The engine's options from the filter's properties (no progress callback).
engine::ProjectionOptions projectionOptions(vtkEmbeddingProjection* filter)
{
  engine::ProjectionOptions options;
  options.method = static_cast<engine::ProjectionMethod>(filter->GetMethod());
  options.dimensions = filter->GetDimensions();
  options.neighbors = filter->GetNumberOfNeighbors();
  options.minDist = filter->GetMinDist();
  options.metric = filter->GetMetric() == vtkEmbeddingProjection::METRIC_COSINE
    ? engine::MetricChoice::Cosine
    : engine::MetricChoice::Euclidean;
  options.perplexity = filter->GetPerplexity();
  options.seed = static_cast<uint64_t>(filter->GetSeed());
  options.neighborSearch = dualembed::neighborSearch(
    "Embedding Projection", static_cast<engine::KnnMethod>(filter->GetNeighborMethod()));
  return options;
}
}

vtkEmbeddingProjection::vtkEmbeddingProjection()
  : Internal(new Internals)
{
  // No name: the first embedding, chosen when the filter runs (chooseInputArray).
  this->SetInputArrayToProcess(0, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "");
}

vtkEmbeddingProjection::~vtkEmbeddingProjection() = default;

bool vtkEmbeddingProjection::CollectsTimeSteps() const
{
  return this->AlignTimeSteps;
}

int vtkEmbeddingProjection::Execute(vtkInformation* request, vtkPolyData* input,
  vtkPolyData* output, const dualembed::SampleExchange& exchange)
{
  if (this->AlignTimeSteps)
  {
    return this->ExecuteAligned(request, input, output, exchange);
  }
  // UMAP and t-SNE optimise all points together: under MPI the root gathers
  // the embeddings, projects them exactly as a serial run would, and sends
  // each rank its own samples' coordinates. A UMAP whose graph is searched
  // distributed (ivf) gathers only the graph: each rank keeps its own rows.
  const auto neighborMethod = static_cast<engine::KnnMethod>(this->NeighborMethod);
  const bool distributed =
    this->Method == METHOD_UMAP && dualembed::searchesDistributed(neighborMethod, exchange);
  vtkAbstractArray* selected = nullptr;
  dualembed::SelectedArray embedding;
  if (!dualembed::chooseInputArray(this, 0, input, EmbeddingChoice, exchange, selected) ||
    !dualembed::gatherSelectedArray(this, selected, exchange,
      distributed ? dualembed::GatherTo::None : dualembed::GatherTo::Root, embedding))
  {
    return 0;
  }
  const std::string name = dualembed::projectionArrayName(this->Method, embedding.name);
  output->ShallowCopy(input);
  if (dualembed::moveToStoredCoordinates(
        input, output, name, this->Dimensions, this->ReuseStoredCoordinates, exchange))
  {
    return 1;
  }
  engine::ProjectionOptions options = projectionOptions(this);
  options.progress = dualembed::progressReporter(this);
  if (distributed)
  {
    options.neighborSearch =
      dualembed::neighborSearch("Embedding Projection", neighborMethod, &exchange);
    return this->Internal->Plain.addDistributedMap(
      this, embedding, options, name, output, exchange);
  }
  return this->Internal->Plain.addMap(this, embedding, options, name, output, exchange);
}

int vtkEmbeddingProjection::ExecuteAligned(vtkInformation* request, vtkPolyData* input,
  vtkPolyData* output, const dualembed::SampleExchange& exchange)
{
  return dualembed::runTimeStepLoop(this, this->Series(), request,
    { [&] { return this->CollectAlignedStep(input, exchange); },
      [&] { return this->MakeAlignedMaps(exchange); },
      [&] {
        output->ShallowCopy(input);
        this->Internal->Aligned.addMap(
          this->Series().indexOf(input), this->Method, this->Dimensions, output, exchange);
      } });
}

bool vtkEmbeddingProjection::CollectAlignedStep(
  vtkPolyData* input, const dualembed::SampleExchange& exchange)
{
  const dualembed::TemporalSeries& series = this->Series();
  const size_t step = series.step();
  if (step == 0)
  {
    this->Internal->Aligned.clear();
  }
  if (this->Method == METHOD_TSNE)
  {
    vtkErrorMacro("Align Time Steps works with UMAP and PCA; t-SNE has no aligned variant here. "
                  "Choose UMAP or PCA, or turn Align Time Steps off.");
    return false;
  }
  this->UpdateProgress(0.1 * static_cast<double>(step) / static_cast<double>(series.size()));
  vtkAbstractArray* selected = nullptr;
  return dualembed::chooseInputArray(this, 0, input, EmbeddingChoice, exchange, selected) &&
    this->Internal->Aligned.collect(this, selected, step, exchange);
}

bool vtkEmbeddingProjection::MakeAlignedMaps(const dualembed::SampleExchange& exchange)
{
  engine::AlignedProjectionOptions options;
  options.projection = projectionOptions(this);
  const engine::ProgressCallback progress = dualembed::progressReporter(this);
  options.projection.progress = [&progress](double f) { return progress(0.1 + 0.9 * f); };
  options.alignmentRegularisation = this->AlignmentRegularisation;
  options.alignmentWindowSize = this->AlignmentWindowSize;
  return this->Internal->Aligned.make(this, options, exchange);
}

void vtkEmbeddingProjection::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "Method: " << this->Method << "\n";
  os << indent << "Dimensions: " << this->Dimensions << "\n";
  os << indent << "NumberOfNeighbors: " << this->NumberOfNeighbors << "\n";
  os << indent << "MinDist: " << this->MinDist << "\n";
  os << indent << "Metric: " << this->Metric << "\n";
  os << indent << "NeighborMethod: " << this->NeighborMethod << "\n";
  os << indent << "Perplexity: " << this->Perplexity << "\n";
  os << indent << "Seed: " << this->Seed << "\n";
  os << indent << "ReuseStoredCoordinates: " << this->ReuseStoredCoordinates << "\n";
  os << indent << "AlignTimeSteps: " << this->AlignTimeSteps << "\n";
  os << indent << "AlignmentRegularisation: " << this->AlignmentRegularisation << "\n";
  os << indent << "AlignmentWindowSize: " << this->AlignmentWindowSize << "\n";
}
