// The Sample Gallery's table (vtkSampleGallery's output 1, what the GUI's
// Sample Inspector shows): the shown samples' one-component arrays, their
// images and their neighbours' images, the rank array's histograms; and what
// each row of the picture says, read from that table. The only unit that
// knows the table's column names. Not wrapped.
#ifndef GalleryTable_h
#define GalleryTable_h

#ifndef __VTK_WRAP__
#include "GalleryPicture.h" // GalleryRow

#include "vtkType.h"

#include <map>
#include <string>
#include <vector>

class vtkDataArray;
class vtkImageData;
class vtkIntArray;
class vtkPointData;
class vtkPolyData;
class vtkTable;

namespace dualembed
{
class SampleExchange;

/// The arrays a row of the gallery and the inspector shows: the image, the
/// one-component point-data arrays (scores, labels, predictions, neighbours)
/// and the training trajectories (label_probability_*, one value per checkpoint).
std::vector<std::string> galleryRowArrayNames(vtkPointData* pd);

/// Histograms of `rank` (over its range on all ranks): of every sample, then
/// of the selected ones (`selected`: local point ids; null without a
/// selection). Field data of the row table, so that the Sample Inspector shows
/// where the selection lies in the scores. Collective.
void addRankHistograms(vtkTable* table, vtkDataArray* rank, const std::vector<vtkIdType>* selected,
  const SampleExchange& exchange);

/// Rows of the gathered samples that the table shows: the sample's, and its
/// neighbour's (-1: not gathered).
struct ShownRows
{
  std::vector<vtkIdType> sample;
  std::vector<vtkIdType> neighbor;
};

/// The table's rows: the global rows `rows` that were gathered into `shown`
/// (`rowOf`: global row -> row of `shown`), with the neighbour's image
/// beside the sample's. False when `shown` lacks the images or the
/// neighbours (the array `neighborName`).
bool fillGalleryTable(vtkTable* table, vtkPolyData* shown, const std::vector<vtkIdType>& rows,
  const std::map<vtkIdType, vtkIdType>& rowOf, const std::string& neighborName,
  ShownRows& shownRows);

/// The table's field data beside its rows: the images' `shape`, and how many
/// samples the selection holds (-1: nothing selected; the table shows Count at most).
void addSelectionFieldData(vtkTable* table, vtkIntArray* shape, vtkIdType selectedCount);

/// What each row of the table says: its sample, its neighbour, the lines of
/// text beside them (`neighborSuffix`: the X of nn_flag_X, nn_distance_X).
std::vector<GalleryRow> describeGalleryRows(vtkTable* table, vtkPolyData* shown,
  const ShownRows& shownRows, const std::string& neighborSuffix, const std::string& rankArray);

/// The picture's rows as its field data: ids, labels, distances and flags, row 0 at the top.
void addGalleryRowFieldData(
  vtkImageData* output, vtkTable* table, const std::vector<GalleryRow>& rows);
}
#endif
#endif
