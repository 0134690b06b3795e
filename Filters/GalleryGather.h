// The Sample Gallery's rows under MPI (vtkSampleGallery): each rank holds a
// share of the samples (Documentation/ARCHITECTURE.md, "The samples and the
// filter contract"), so the shown samples and their nearest neighbours are
// gathered from the ranks that own them onto every rank. Not wrapped.
#ifndef GalleryGather_h
#define GalleryGather_h

#ifndef __VTK_WRAP__
#include "vtkSmartPointer.h"
#include "vtkType.h"

#include <map>
#include <string>
#include <vector>

class vtkPolyData;

namespace dualembed
{
class SampleExchange;

/// The point-data array of gatherShownSamples' result that holds each row's
/// global sample index: bookkeeping, not a value of the sample.
constexpr const char* GalleryGlobalRowArray = "gallery_global_row";

/// The global rows `rows` and their nearest neighbours (the array
/// `neighborName`), with the point-data arrays `names`, gathered onto every
/// rank, and the map global row -> row of the result in `rowOf`. Collective.
vtkSmartPointer<vtkPolyData> gatherShownSamples(vtkPolyData* samples,
  const std::vector<vtkIdType>& rows, const std::string& neighborName,
  const std::vector<std::string>& names, const SampleExchange& exchange,
  std::map<vtkIdType, vtkIdType>& rowOf);
}
#endif
#endif
