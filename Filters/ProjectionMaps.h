// The maps Embedding Projection lays out on the root (vtkEmbeddingProjection.h):
// the last plain map, kept for the same embedding coming again, and the maps
// of a time series aligned across its steps. Not wrapped.
#ifndef ProjectionMaps_h
#define ProjectionMaps_h

#ifndef __VTK_WRAP__
#include "AlignedProjection.h"   // engine::AlignedProjectionOptions
#include "EmbeddingProjection.h" // engine::ProjectionOptions
#include "FilterSupport.h"       // SelectedArray

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

class vtkAbstractArray;
class vtkAlgorithm;
class vtkPolyData;

namespace dualembed
{
class SampleExchange;

/// A plain map, made on the root alone. The last one is kept (root only) for
/// the same embedding coming again: the other time steps of a series where
/// this embedding does not change.
class PlainMap
{
public:
  /// Collective. Projects `embedding` (gathered onto the root), or takes the
  /// last map again when the values and the options are the same, and adds
  /// each rank's coordinates to `output` as `name`. Returns runEngine()'s
  /// value: 0 on every rank after reporting an error on `filter`.
  int addMap(vtkAlgorithm* filter, const SelectedArray& embedding,
    const engine::ProjectionOptions& options, const std::string& name, vtkPolyData* output,
    const SampleExchange& exchange);

  /// Collective. The same for a UMAP whose neighbour graph is searched
  /// distributed (options.neighborSearch.parts set): `localRows` holds this
  /// rank's samples only; the ranks search the graph together, and the root
  /// alone lays the map out from it.
  int addDistributedMap(vtkAlgorithm* filter, const SelectedArray& localRows,
    const engine::ProjectionOptions& options, const std::string& name, vtkPolyData* output,
    const SampleExchange& exchange);

private:
  /// Root only: the map of all samples; throws when the engine fails or its
  /// map is not `rows` × options.dimensions.
  std::vector<float> project(
    const SelectedArray& embedding, const engine::ProjectionOptions& options, vtkIdType rows);

  uint64_t Key = 0;
  std::vector<float> Coordinates;
};

/// AlignTimeSteps: the embedding of every time step (root: rows; others: name
/// and dimension only), then one map per step (root).
class AlignedMaps
{
public:
  /// Forgets the series before (at its first step).
  void clear();

  /// Collective. Gathers `selected`, the embedding of time step `step`, onto
  /// the root; false on every rank after reporting an error on `filter`.
  bool collect(
    vtkAlgorithm* filter, vtkAbstractArray* selected, size_t step, const SampleExchange& exchange);

  /// Collective. The maps of the collected steps, made on the root alone and
  /// reported there; the embeddings are forgotten. False (every rank) after
  /// reporting an error on `filter`.
  bool make(vtkAlgorithm* filter, const engine::AlignedProjectionOptions& options,
    const SampleExchange& exchange);

  /// Collective. Adds the map of time step `step` to `output` (the root sends
  /// each rank its rows), named for vtkEmbeddingProjection's `method`, and on
  /// the root the displacement between the steps as field data.
  void addMap(size_t step, int method, int dimensions, vtkPolyData* output,
    const SampleExchange& exchange) const;

private:
  void makeOnRoot(const engine::AlignedProjectionOptions& options);
  std::string report() const;

  std::vector<SelectedArray> Steps;
  std::string ArrayName;
  std::vector<std::vector<float>> Maps;
  std::vector<double> Displacement, RelativeDisplacement;
};
}
#endif
#endif
