// What Embedding Projection adds to its output (vtkEmbeddingProjection.h):
// the map as the points and as `umap_<X>`, `tsne_<X>` or `pca_<X>`, and the
// aligned maps' displacement as field data. Not wrapped.
#ifndef EmbeddingProjectionArrays_h
#define EmbeddingProjectionArrays_h

#ifndef __VTK_WRAP__
#include "vtkType.h"

#include <string>
#include <vector>

class vtkPolyData;

namespace dualembed
{
class SampleExchange;

/// `umap_<X>`, `tsne_<X>` or `pca_<X>` for vtkEmbeddingProjection's Method
/// (METHOD_UMAP, METHOD_TSNE, METHOD_PCA) and the embedding's name.
std::string projectionArrayName(int method, const std::string& embeddingName);

/// Adds this rank's coordinates (`rows` × `dimensions`) as the array `name`
/// and moves the points there: the map is the render view.
void addProjectionCoordinates(vtkPolyData* output, const std::string& name,
  const std::vector<float>& mine, vtkIdType rows, int dimensions);

/// Collective. When `allowed` (ReuseStoredCoordinates) and every rank's input
/// already has the float array `name` with `dimensions` components (a results
/// file read back), moves the points of `output` there, says so once (on the
/// root) and returns true.
bool moveToStoredCoordinates(vtkPolyData* input, vtkPolyData* output, const std::string& name,
  int dimensions, bool allowed, const SampleExchange& exchange);

/// Field data `alignment_displacement` and `alignment_relative_displacement`:
/// the mean movement between consecutive time steps.
void addAlignmentDisplacement(vtkPolyData* output, const std::vector<double>& displacement,
  const std::vector<double>& relativeDisplacement);
}
#endif
#endif
