#include "ProjectionMaps.h"

#include "EmbeddingProjectionArrays.h"
#include "EngineThreads.h" // engine::setEngineThreads
#include "SampleExchange.h"

#include "vtkAlgorithm.h"
#include "vtkOutputWindow.h"

#include <sstream>
#include <stdexcept>

namespace dualembed
{
namespace
{
/// FNV-1a over the bytes of the values and the options that make the map.
uint64_t mapKey(const SelectedArray& embedding, const engine::ProjectionOptions& options)
{
  uint64_t hash = 1469598103934665603ULL;
  const auto mix = [&hash](const void* data, size_t bytes) {
    const unsigned char* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < bytes; ++i)
    {
      hash = (hash ^ p[i]) * 1099511628211ULL;
    }
  };
  mix(embedding.data(), embedding.size() * sizeof(float));
  const int ints[] = { embedding.dimension, static_cast<int>(options.method), options.dimensions,
    options.neighbors, static_cast<int>(options.metric),
    static_cast<int>(options.neighborSearch.method) };
  const double doubles[] = { options.minDist, options.perplexity,
    static_cast<double>(options.seed) };
  mix(ints, sizeof(ints));
  mix(doubles, sizeof(doubles));
  mix(embedding.name.data(), embedding.name.size());
  return hash;
}
}

int PlainMap::addMap(vtkAlgorithm* filter, const SelectedArray& embedding,
  const engine::ProjectionOptions& options, const std::string& name, vtkPolyData* output,
  const SampleExchange& exchange)
{
  std::vector<float> allCoordinates; // on the root
  return runEngine(
    filter, exchange,
    [&] {
      runOnRootAlone(exchange,
        [&] { allCoordinates = this->project(embedding, options, exchange.totalRows()); });
    },
    [&] {
      addProjectionCoordinates(output, name,
        exchange.scatterRowsFromRoot(allCoordinates, options.dimensions), exchange.localRows(),
        options.dimensions);
    });
}

int PlainMap::addDistributedMap(vtkAlgorithm* filter, const SelectedArray& localRows,
  const engine::ProjectionOptions& options, const std::string& name, vtkPolyData* output,
  const SampleExchange& exchange)
{
  // The last map again when every rank's rows and the options are the same.
  const uint64_t key = mapKey(localRows, options);
  const bool known =
    exchange.minimum(
      key == this->Key && (exchange.rank() != 0 || !this->Coordinates.empty()) ? 1 : 0) == 1;
  std::vector<float> allCoordinates; // on the root
  return runEngine(
    filter, exchange,
    [&] {
      engine::UmapGraphInput graph;
      if (!known)
      {
        graph = engine::gatherUmapGraph(localRows.matrix(), options); // every rank
      }
      runOnRootAlone(exchange, [&] {
        if (known)
        {
          allCoordinates = this->Coordinates;
          return;
        }
        engine::setEngineThreads(threadsOfHost());
        allCoordinates = engine::computeUmapFromGraph(graph, options).coordinates;
      });
    },
    [&] {
      this->Key = key;
      this->Coordinates = allCoordinates;
      addProjectionCoordinates(output, name,
        exchange.scatterRowsFromRoot(allCoordinates, options.dimensions), exchange.localRows(),
        options.dimensions);
    });
}

std::vector<float> PlainMap::project(
  const SelectedArray& embedding, const engine::ProjectionOptions& options, vtkIdType rows)
{
  const uint64_t key = mapKey(embedding, options);
  if (key == this->Key && !this->Coordinates.empty())
  {
    return this->Coordinates;
  }
  engine::setEngineThreads(threadsOfHost());
  auto result = engine::computeEmbeddingProjection(embedding.matrix(), options);
  const int dimensions = options.dimensions;
  if (result.dimensions != dimensions || result.rows != rows)
  {
    throw std::runtime_error("The projection returned " + std::to_string(result.rows) + " x " +
      std::to_string(result.dimensions) + " coordinates for " + std::to_string(rows) +
      " samples in " + std::to_string(dimensions) + "-D.");
  }
  this->Key = key;
  this->Coordinates = result.coordinates;
  return std::move(result.coordinates);
}

void AlignedMaps::clear()
{
  this->Steps.clear();
  this->Maps.clear();
}

bool AlignedMaps::collect(
  vtkAlgorithm* filter, vtkAbstractArray* selected, size_t step, const SampleExchange& exchange)
{
  this->Steps.emplace_back();
  if (!gatherSelectedArray(filter, selected, exchange, GatherTo::Root, this->Steps.back()))
  {
    return false;
  }
  if (step > 0 && this->Steps.back().name != this->Steps.front().name)
  {
    vtkErrorWithObjectMacro(
      filter, "Time step " << step + 1 << " has no '" << this->Steps.front().name << "' array.");
    return false;
  }
  this->Steps.back().own();
  this->ArrayName = this->Steps.back().name;
  return true;
}

bool AlignedMaps::make(vtkAlgorithm* filter, const engine::AlignedProjectionOptions& options,
  const SampleExchange& exchange)
{
  const bool made =
    runEngine(
      filter, exchange, [&] { runOnRootAlone(exchange, [&] { this->makeOnRoot(options); }); },
      [] {}) != 0;
  this->Steps.clear(); // the maps are made; the embeddings are not needed any more
  return made;
}

void AlignedMaps::makeOnRoot(const engine::AlignedProjectionOptions& options)
{
  engine::setEngineThreads(threadsOfHost());
  std::vector<engine::FeatureMatrix> matrices;
  for (const auto& step : this->Steps)
  {
    matrices.push_back(step.matrix());
  }
  engine::AlignedProjectionResult result = engine::computeAlignedProjection(matrices, options);
  for (auto& map : result.steps)
  {
    this->Maps.push_back(std::move(map.coordinates));
  }
  this->Displacement = result.meanDisplacement;
  this->RelativeDisplacement = result.relativeDisplacement;
  vtkOutputWindowDisplayText(this->report().c_str());
}

std::string AlignedMaps::report() const
{
  std::ostringstream message;
  message << "Embedding Projection: " << this->Maps.size() << " aligned maps of " << this->ArrayName
          << "; mean displacement between consecutive steps (relative to the map size):";
  for (size_t t = 1; t < this->RelativeDisplacement.size(); ++t)
  {
    message << " " << this->RelativeDisplacement[t];
  }
  return message.str() + "\n";
}

void AlignedMaps::addMap(size_t step, int method, int dimensions, vtkPolyData* output,
  const SampleExchange& exchange) const
{
  static const std::vector<float> none;
  const std::vector<float>& map =
    exchange.rank() == 0 && step < this->Maps.size() ? this->Maps[step] : none;
  addProjectionCoordinates(output, projectionArrayName(method, this->ArrayName),
    exchange.scatterRowsFromRoot(map, dimensions), exchange.localRows(), dimensions);
  if (exchange.rank() == 0)
  {
    addAlignmentDisplacement(output, this->Displacement, this->RelativeDisplacement);
  }
}
}
