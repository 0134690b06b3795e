#include "vtkEmbeddingProjection.h"

#include "AlignedProjection.h"
#include "EmbeddingProjection.h"
#include "EngineThreads.h" // engine::setEngineThreads
#include "FilterSupport.h"
#include "TemporalSeries.h"

#include "vtkDataObject.h"
#include "vtkDoubleArray.h"
#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkObjectFactory.h"
#include "vtkOutputWindow.h"
#include "vtkPointData.h"
#include "vtkPoints.h"

#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkEmbeddingProjection);

struct vtkEmbeddingProjection::Internals
{
  // The last plain map (root only), for the same embedding coming again: the
  // other time steps of a series where this embedding does not change.
  uint64_t LastKey = 0;
  std::vector<float> LastCoordinates;

  // AlignTimeSteps: the embedding of every time step (root: rows; others:
  // name and dimension only), then one map per step (root).
  std::vector<dualembed::SelectedArray> Steps;
  std::string ArrayName;
  std::vector<std::vector<float>> Maps;
  std::vector<double> Displacement, RelativeDisplacement;
};

namespace
{
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
  return options;
}

/// FNV-1a over the bytes of the values and the options that make the map.
uint64_t mapKey(const dualembed::SelectedArray& embedding, const engine::ProjectionOptions& options)
{
  uint64_t hash = 1469598103934665603ULL;
  const auto mix = [&hash](const void* data, size_t bytes) {
    const unsigned char* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < bytes; ++i)
    {
      hash = (hash ^ p[i]) * 1099511628211ULL;
    }
  };
  mix(embedding.values.data(), embedding.values.size() * sizeof(float));
  const int ints[] = { embedding.dimension, static_cast<int>(options.method), options.dimensions,
    options.neighbors, static_cast<int>(options.metric) };
  const double doubles[] = { options.minDist, options.perplexity,
    static_cast<double>(options.seed) };
  mix(ints, sizeof(ints));
  mix(doubles, sizeof(doubles));
  mix(embedding.name.data(), embedding.name.size());
  return hash;
}

/// The map is the render view: points move to the projection (z = 0 in 2-D).
void moveTo(vtkPolyData* output, const float* coordinates, vtkIdType n, int dimensions)
{
  vtkNew<vtkPoints> points;
  points->SetDataTypeToFloat();
  points->SetNumberOfPoints(n);
  for (vtkIdType i = 0; i < n; ++i)
  {
    const float* c = coordinates + i * dimensions;
    points->SetPoint(i, c[0], c[1], dimensions == 3 ? c[2] : 0.0f);
  }
  output->SetPoints(points);
}

void addCoordinates(vtkPolyData* output, const std::string& name, const std::vector<float>& mine,
  vtkIdType rows, int dimensions)
{
  vtkNew<vtkFloatArray> coordinates;
  coordinates->SetName(name.c_str());
  coordinates->SetNumberOfComponents(dimensions);
  coordinates->SetNumberOfTuples(rows);
  std::copy(mine.begin(), mine.end(), coordinates->GetPointer(0));
  output->GetPointData()->AddArray(coordinates);
  moveTo(output, mine.data(), rows, dimensions);
}

const char* const kPrefixes[] = { "umap_", "tsne_", "pca_" };

/// Work on the root alone: the other ranks wait for it here; the root tells
/// them when its work ends, however it ends.
class RootWork
{
public:
  explicit RootWork(const dualembed::SampleExchange& exchange)
    : Exchange(exchange)
  {
    if (!this->onRoot())
    {
      exchange.waitForRoot();
    }
  }
  ~RootWork()
  {
    if (this->onRoot())
    {
      this->Exchange.rootWorkDone();
    }
  }
  bool onRoot() const { return this->Exchange.rank() == 0; }

private:
  const dualembed::SampleExchange& Exchange;
};
}

namespace
{
const dualembed::ArrayChoice EmbeddingChoice = { "Embedding", dualembed::ArrayRole::Embedding };
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
  // each rank its own samples' coordinates.
  vtkAbstractArray* selected = nullptr;
  dualembed::SelectedArray embedding;
  if (!dualembed::chooseInputArray(this, 0, input, EmbeddingChoice, exchange, selected) ||
    !dualembed::gatherSelectedArray(this, selected, exchange, dualembed::GatherTo::Root, embedding))
  {
    return 0;
  }
  const std::string name = kPrefixes[this->Method] + dualembed::resultSuffix(embedding.name);
  const int dimensions = this->Dimensions;

  vtkFloatArray* stored =
    vtkFloatArray::SafeDownCast(input->GetPointData()->GetArray(name.c_str()));
  const bool reuse =
    this->ReuseStoredCoordinates && stored && stored->GetNumberOfComponents() == dimensions;
  output->ShallowCopy(input);
  if (exchange.minimum(reuse ? 1 : 0) == 1)
  {
    moveTo(output, stored->GetPointer(0), stored->GetNumberOfTuples(), dimensions);
    if (exchange.rank() == 0)
    {
      vtkOutputWindowDisplayText(("Embedding Projection: reusing the stored '" + name +
        "' coordinates (turn ReuseStoredCoordinates off to recompute).\n")
                                   .c_str());
    }
    return 1;
  }

  engine::ProjectionOptions options = projectionOptions(this);
  options.progress = dualembed::progressReporter(this);
  std::vector<float> allCoordinates; // on the root
  return dualembed::runEngine(
    this, exchange,
    [&] {
      // The other ranks sleep meanwhile: the root takes every core of its machine.
      const RootWork work(exchange);
      if (!work.onRoot())
      {
        return;
      }
      const uint64_t key = mapKey(embedding, options);
      if (key == this->Internal->LastKey && !this->Internal->LastCoordinates.empty())
      {
        allCoordinates = this->Internal->LastCoordinates;
        return;
      }
      engine::setEngineThreads(dualembed::threadsOfHost());
      auto result = engine::computeEmbeddingProjection(embedding.matrix(), options);
      if (result.dimensions != dimensions || result.rows != exchange.totalRows())
      {
        throw std::runtime_error("The projection returned " + std::to_string(result.rows) + " x " +
          std::to_string(result.dimensions) + " coordinates for " +
          std::to_string(exchange.totalRows()) + " samples in " + std::to_string(dimensions) +
          "-D.");
      }
      allCoordinates = std::move(result.coordinates);
      this->Internal->LastKey = key;
      this->Internal->LastCoordinates = allCoordinates;
    },
    [&] {
      addCoordinates(output, name, exchange.scatterRowsFromRoot(allCoordinates, dimensions),
        exchange.localRows(), dimensions);
    });
}

int vtkEmbeddingProjection::ExecuteAligned(vtkInformation* request, vtkPolyData* input,
  vtkPolyData* output, const dualembed::SampleExchange& exchange)
{
  dualembed::TemporalSeries& series = this->Series();
  if (series.collecting())
  {
    if (!this->CollectAlignedStep(input, exchange))
    {
      series.abandon(request);
      return 0;
    }
    if (series.advance(request))
    {
      return 1; // the next time step follows
    }
    const bool made = this->MakeAlignedMaps(exchange);
    this->Internal->Steps.clear(); // the maps are made; the embeddings are not needed any more
    if (!made)
    {
      series.abandon(request);
      return 0;
    }
    if (series.finish(this, request))
    {
      return 1; // one more pass for the time step asked for
    }
  }
  else
  {
    series.passStep(request);
  }
  this->AddAlignedMap(input, output, exchange);
  this->UpdateProgress(1.0);
  return 1;
}

bool vtkEmbeddingProjection::CollectAlignedStep(
  vtkPolyData* input, const dualembed::SampleExchange& exchange)
{
  Internals& in = *this->Internal;
  const dualembed::TemporalSeries& series = this->Series();
  const size_t step = series.step();
  if (step == 0)
  {
    in.Steps.clear();
    in.Maps.clear();
  }
  if (this->Method == METHOD_TSNE)
  {
    vtkErrorMacro("Align Time Steps works with UMAP and PCA; t-SNE has no aligned variant here. "
                  "Choose UMAP or PCA, or turn Align Time Steps off.");
    return false;
  }
  this->UpdateProgress(0.1 * static_cast<double>(step) / static_cast<double>(series.size()));
  in.Steps.emplace_back();
  vtkAbstractArray* selected = nullptr;
  if (!dualembed::chooseInputArray(this, 0, input, EmbeddingChoice, exchange, selected) ||
    !dualembed::gatherSelectedArray(
      this, selected, exchange, dualembed::GatherTo::Root, in.Steps.back()))
  {
    return false;
  }
  if (step > 0 && in.Steps.back().name != in.Steps.front().name)
  {
    vtkErrorMacro("Time step " << step + 1 << " has no '" << in.Steps.front().name << "' array.");
    return false;
  }
  in.ArrayName = in.Steps.back().name;
  return true;
}

bool vtkEmbeddingProjection::MakeAlignedMaps(const dualembed::SampleExchange& exchange)
{
  Internals& in = *this->Internal;
  engine::AlignedProjectionOptions options;
  options.projection = projectionOptions(this);
  const engine::ProgressCallback progress = dualembed::progressReporter(this);
  options.projection.progress = [&progress](double f) { return progress(0.1 + 0.9 * f); };
  options.alignmentRegularisation = this->AlignmentRegularisation;
  options.alignmentWindowSize = this->AlignmentWindowSize;
  return dualembed::runEngine(
           this, exchange,
           [&] {
             const RootWork work(exchange);
             if (!work.onRoot())
             {
               return;
             }
             engine::setEngineThreads(dualembed::threadsOfHost());
             std::vector<engine::FeatureMatrix> matrices;
             for (const auto& step : in.Steps)
             {
               matrices.push_back(step.matrix());
             }
             engine::AlignedProjectionResult result =
               engine::computeAlignedProjection(matrices, options);
             for (auto& map : result.steps)
             {
               in.Maps.push_back(std::move(map.coordinates));
             }
             in.Displacement = result.meanDisplacement;
             in.RelativeDisplacement = result.relativeDisplacement;
             std::ostringstream message;
             message << "Embedding Projection: " << in.Maps.size() << " aligned maps of "
                     << in.ArrayName
                     << "; mean displacement between consecutive steps (relative to the map size):";
             for (size_t t = 1; t < in.RelativeDisplacement.size(); ++t)
             {
               message << " " << in.RelativeDisplacement[t];
             }
             vtkOutputWindowDisplayText((message.str() + "\n").c_str());
           },
           [] {}) != 0;
}

void vtkEmbeddingProjection::AddAlignedMap(
  vtkPolyData* input, vtkPolyData* output, const dualembed::SampleExchange& exchange)
{
  // This time step's map: the root sends each rank its rows.
  const Internals& in = *this->Internal;
  const size_t step = this->Series().indexOf(input);
  static const std::vector<float> none;
  const std::vector<float>& map =
    exchange.rank() == 0 && step < in.Maps.size() ? in.Maps[step] : none;
  output->ShallowCopy(input);
  addCoordinates(output, kPrefixes[this->Method] + dualembed::resultSuffix(in.ArrayName),
    exchange.scatterRowsFromRoot(map, this->Dimensions), exchange.localRows(), this->Dimensions);
  const auto addField = [output](const char* name, const std::vector<double>& values) {
    vtkNew<vtkDoubleArray> array;
    array->SetName(name);
    for (double value : values)
    {
      array->InsertNextValue(value);
    }
    output->GetFieldData()->AddArray(array);
  };
  if (exchange.rank() == 0)
  {
    addField("alignment_displacement", in.Displacement);
    addField("alignment_relative_displacement", in.RelativeDisplacement);
  }
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
  os << indent << "AlignTimeSteps: " << this->AlignTimeSteps << "\n";
  os << indent << "AlignmentRegularisation: " << this->AlignmentRegularisation << "\n";
  os << indent << "AlignmentWindowSize: " << this->AlignmentWindowSize << "\n";
}
