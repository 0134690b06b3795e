// Which samples the Sample Gallery (vtkSampleGallery) shows: the checks of
// its input, the selection resolved to point ids, and the rows chosen from the
// selection or by the rank array, the same on every MPI rank as a serial run
// would choose them (Documentation/ARCHITECTURE.md, "The samples and the
// filter contract"). Not wrapped.
#ifndef GalleryRows_h
#define GalleryRows_h

#ifndef __VTK_WRAP__
#include "vtkType.h"

#include <cstddef>
#include <string>
#include <vector>

class vtkDataArray;
class vtkPolyData;
class vtkSelection;

namespace dualembed
{
class SampleExchange;

/// Why the gallery cannot show `samples` (empty: it can): the image, the
/// neighbour array `nn_id_<neighborSuffix>`, and without a `selection` the
/// array `rankArray`, must be there. Resolves `selection` into `selected`
/// (the selected local point ids, in id order). Not collective.
std::string galleryInputProblem(vtkPolyData* samples, vtkSelection* selection,
  const std::string& neighborSuffix, const std::string& rankArray,
  std::vector<vtkIdType>& selected);

/// The rows to show, as global sample indices (the same on every rank): the
/// selected samples, else all; of those the `count` lowest values of `rank`
/// (the strongest outliers first; ties, or no `rank`: the smaller index), as a
/// serial run would choose them. `selectedCount`: how many are selected (left
/// unchanged without a selection). Collective.
std::vector<vtkIdType> chooseGalleryRows(vtkPolyData* samples, vtkSelection* selection,
  const std::vector<vtkIdType>& selected, vtkDataArray* rank, size_t count,
  const SampleExchange& exchange, vtkIdType& selectedCount);
}
#endif
#endif
