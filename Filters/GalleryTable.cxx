#include "GalleryTable.h"

#include "GalleryGather.h" // GalleryGlobalRowArray
#include "SampleExchange.h"

#include "vtkDataArray.h"
#include "vtkDoubleArray.h"
#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkImageData.h"
#include "vtkIntArray.h"
#include "vtkNew.h"
#include "vtkPointData.h"
#include "vtkPolyData.h"
#include "vtkStringArray.h"
#include "vtkTable.h"
#include "vtkTypeInt64Array.h"
#include "vtkUnsignedCharArray.h"

#include <algorithm>
#include <cstdio>
#include <initializer_list>

namespace dualembed
{
namespace
{
constexpr int HistogramBins = 40;

/// The range of `rank` over all ranks; low > high when no rank has a value. Collective.
void globalRange(vtkDataArray* rank, const SampleExchange& exchange, double& low, double& high)
{
  double range[2] = { 0.0, 0.0 };
  if (rank && rank->GetNumberOfTuples() > 0)
  {
    rank->GetRange(range, 0);
  }
  else
  {
    range[0] = VTK_DOUBLE_MAX;
    range[1] = VTK_DOUBLE_MIN;
  }
  const std::vector<double> ranges =
    exchange.allGatherRows(std::vector<double>{ range[0], range[1] }, 2);
  low = VTK_DOUBLE_MAX;
  high = VTK_DOUBLE_MIN;
  for (size_t r = 0; r + 1 < ranges.size(); r += 2)
  {
    low = std::min(low, ranges[r]);
    high = std::max(high, ranges[r + 1]);
  }
}

/// Finds the gathered rows of the shown samples and their neighbours, and
/// their global ids as the columns `pointIds` and `neighborPointIds`.
void findShownRows(vtkDataArray* neighbors, const std::vector<vtkIdType>& rows,
  const std::map<vtkIdType, vtkIdType>& rowOf, vtkTypeInt64Array* pointIds,
  vtkTypeInt64Array* neighborPointIds, ShownRows& shownRows)
{
  for (vtkIdType row : rows)
  {
    const auto found = rowOf.find(row);
    if (found == rowOf.end())
    {
      continue;
    }
    const vtkIdType neighbor = static_cast<vtkIdType>(neighbors->GetComponent(found->second, 0));
    const auto foundNeighbor = rowOf.find(neighbor);
    shownRows.sample.push_back(found->second);
    shownRows.neighbor.push_back(foundNeighbor == rowOf.end() ? -1 : foundNeighbor->second);
    pointIds->InsertNextValue(row);
    neighborPointIds->InsertNextValue(neighbor);
  }
}

/// One column per gathered array, its values of the shown samples.
void addSampleColumns(vtkTable* table, vtkPointData* shownData, const ShownRows& shownRows)
{
  const vtkIdType n = static_cast<vtkIdType>(shownRows.sample.size());
  for (int i = 0; i < shownData->GetNumberOfArrays(); ++i)
  {
    vtkAbstractArray* array = shownData->GetAbstractArray(i);
    if (std::string(array->GetName()) == GalleryGlobalRowArray)
    {
      continue;
    }
    vtkSmartPointer<vtkAbstractArray> column = vtk::TakeSmartPointer(array->NewInstance());
    column->SetName(array->GetName());
    column->SetNumberOfComponents(array->GetNumberOfComponents());
    column->SetNumberOfTuples(n);
    for (vtkIdType r = 0; r < n; ++r)
    {
      column->SetTuple(r, shownRows.sample[r], array);
    }
    table->AddColumn(column);
  }
}

/// The column `neighbor_image`: each shown sample's neighbour's image (black
/// when the neighbour was not gathered).
void addNeighborImages(vtkTable* table, vtkUnsignedCharArray* images, const ShownRows& shownRows)
{
  const vtkIdType n = static_cast<vtkIdType>(shownRows.sample.size());
  vtkNew<vtkUnsignedCharArray> neighborImages;
  neighborImages->SetName("neighbor_image");
  neighborImages->SetNumberOfComponents(images->GetNumberOfComponents());
  neighborImages->SetNumberOfTuples(n);
  for (vtkIdType r = 0; r < n; ++r)
  {
    if (shownRows.neighbor[r] >= 0)
    {
      neighborImages->SetTuple(r, shownRows.neighbor[r], images);
    }
    else
    {
      std::fill_n(neighborImages->GetPointer(r * images->GetNumberOfComponents()),
        images->GetNumberOfComponents(), 0);
    }
  }
  table->AddColumn(neighborImages);
}

std::string formatScore(const char* name, double value)
{
  char text[96];
  std::snprintf(text, sizeof(text), "%s %.3g", name, value);
  return text;
}

/// The columns a row's description reads (null: absent), and the gathered
/// samples' arrays that describe a row's neighbour.
struct DescribedColumns
{
  vtkStringArray* labels;
  vtkDataArray* sampleIds;
  vtkDataArray* flags;
  vtkDataArray* distances;
  vtkDataArray* scores;
  vtkDataArray* pointIds;
  vtkDataArray* neighborPointIds;
  vtkStringArray* predictions;
  vtkStringArray* allLabels;
  vtkDataArray* allSampleIds;
};

DescribedColumns findDescribedColumns(
  vtkTable* table, vtkPolyData* shown, const std::string& x, const std::string& rankArray)
{
  DescribedColumns c;
  c.labels = vtkStringArray::SafeDownCast(table->GetColumnByName("label_str"));
  c.sampleIds = vtkDataArray::SafeDownCast(table->GetColumnByName("sample_id"));
  c.flags = vtkDataArray::SafeDownCast(table->GetColumnByName(("nn_flag_" + x).c_str()));
  c.distances = vtkDataArray::SafeDownCast(table->GetColumnByName(("nn_distance_" + x).c_str()));
  c.scores = vtkDataArray::SafeDownCast(table->GetColumnByName(rankArray.c_str()));
  c.pointIds = vtkDataArray::SafeDownCast(table->GetColumnByName("point_id"));
  c.neighborPointIds = vtkDataArray::SafeDownCast(table->GetColumnByName("neighbor_point_id"));
  c.predictions = nullptr;
  for (vtkIdType i = 0; i < table->GetNumberOfColumns() && !c.predictions; ++i)
  {
    if (std::string(table->GetColumnName(i)).rfind("pred_label_str_", 0) == 0)
    {
      c.predictions = vtkStringArray::SafeDownCast(table->GetColumn(i));
    }
  }
  c.allLabels = vtkStringArray::SafeDownCast(shown->GetPointData()->GetAbstractArray("label_str"));
  c.allSampleIds = shown->GetPointData()->GetArray("sample_id");
  return c;
}

/// Row `t` of the table, whose neighbour is row `neighborRow` of the gathered samples.
GalleryRow describeRow(
  const DescribedColumns& c, vtkIdType t, vtkIdType neighborRow, const std::string& rankArray)
{
  GalleryRow row;
  row.flagged = c.flags && c.flags->GetComponent(t, 0) != 0;
  row.hasNeighbor = neighborRow >= 0;
  row.sampleId =
    static_cast<long long>((c.sampleIds ? c.sampleIds : c.pointIds)->GetComponent(t, 0));
  row.neighborSampleId = !row.hasNeighbor
    ? -1
    : static_cast<long long>(c.allSampleIds ? c.allSampleIds->GetComponent(neighborRow, 0)
                                            : c.neighborPointIds->GetComponent(t, 0));
  row.label = c.labels ? c.labels->GetValue(t) : std::string();
  row.neighborLabel = c.allLabels && row.hasNeighbor ? c.allLabels->GetValue(neighborRow) : "";
  row.distance = static_cast<float>(c.distances ? c.distances->GetComponent(t, 0) : 0.0);
  row.lines.push_back("#" + std::to_string(row.sampleId) + "  " + row.label);
  if (c.predictions)
  {
    row.lines.push_back("predicted " + c.predictions->GetValue(t));
  }
  if (c.scores)
  {
    row.lines.push_back(formatScore(rankArray.c_str(), c.scores->GetComponent(t, 0)));
  }
  char neighborLine[160];
  std::snprintf(neighborLine, sizeof(neighborLine), "nn #%lld %s  d %.3f%s", row.neighborSampleId,
    row.neighborLabel.c_str(),
    static_cast<double>(c.distances ? c.distances->GetComponent(t, 0) : 0.0),
    row.flagged ? "  duplicate?" : "");
  row.lines.emplace_back(neighborLine);
  return row;
}
}

std::vector<std::string> galleryRowArrayNames(vtkPointData* pd)
{
  std::vector<std::string> names{ "image" };
  for (int i = 0; i < pd->GetNumberOfArrays(); ++i)
  {
    vtkAbstractArray* array = pd->GetAbstractArray(i);
    if (array && array->GetName() &&
      (array->GetNumberOfComponents() == 1 ||
        std::string(array->GetName()).rfind("label_probability_", 0) == 0))
    {
      names.emplace_back(array->GetName());
    }
  }
  return names;
}

void addRankHistograms(vtkTable* table, vtkDataArray* rank, const std::vector<vtkIdType>* selected,
  const SampleExchange& exchange)
{
  double low, high;
  globalRange(rank, exchange, low, high);
  std::vector<double> counts(2 * HistogramBins, 0.0);
  auto binOf = [&](double value) {
    const double width = high > low ? (high - low) / HistogramBins : 1.0;
    return std::min(HistogramBins - 1, std::max(0, static_cast<int>((value - low) / width)));
  };
  for (vtkIdType i = 0; rank && low <= high && i < rank->GetNumberOfTuples(); ++i)
  {
    counts[binOf(rank->GetComponent(i, 0))] += 1.0;
  }
  for (size_t k = 0; rank && selected && low <= high && k < selected->size(); ++k)
  {
    counts[HistogramBins + binOf(rank->GetComponent((*selected)[k], 0))] += 1.0;
  }
  const std::vector<double> all = exchange.allGatherRows(counts, 2 * HistogramBins);
  vtkNew<vtkDoubleArray> histogram;
  histogram->SetName("rank_histogram"); // component 0: every sample, 1: the selected ones
  histogram->SetNumberOfComponents(2);
  histogram->SetNumberOfTuples(HistogramBins);
  histogram->Fill(0.0);
  for (size_t r = 0; r < all.size(); ++r)
  {
    const int bin = static_cast<int>(r % (2 * HistogramBins));
    histogram->SetComponent(bin % HistogramBins, bin / HistogramBins,
      histogram->GetComponent(bin % HistogramBins, bin / HistogramBins) + all[r]);
  }
  vtkNew<vtkDoubleArray> histogramRange;
  histogramRange->SetName("rank_range");
  histogramRange->InsertNextValue(low <= high ? low : 0.0);
  histogramRange->InsertNextValue(low <= high ? high : 0.0);
  table->GetFieldData()->AddArray(histogram);
  table->GetFieldData()->AddArray(histogramRange);
}

bool fillGalleryTable(vtkTable* table, vtkPolyData* shown, const std::vector<vtkIdType>& rows,
  const std::map<vtkIdType, vtkIdType>& rowOf, const std::string& neighborName,
  ShownRows& shownRows)
{
  vtkPointData* shownData = shown->GetPointData();
  vtkUnsignedCharArray* images =
    vtkUnsignedCharArray::SafeDownCast(shownData->GetAbstractArray("image"));
  vtkDataArray* neighbors = shownData->GetArray(neighborName.c_str());
  if (!images || !neighbors)
  {
    return false;
  }
  vtkNew<vtkTypeInt64Array> pointIds, neighborPointIds;
  pointIds->SetName("point_id");
  neighborPointIds->SetName("neighbor_point_id");
  findShownRows(neighbors, rows, rowOf, pointIds, neighborPointIds, shownRows);
  table->AddColumn(pointIds);
  table->AddColumn(neighborPointIds);
  addSampleColumns(table, shownData, shownRows);
  addNeighborImages(table, images, shownRows);
  return true;
}

void addSelectionFieldData(vtkTable* table, vtkIntArray* shape, vtkIdType selectedCount)
{
  table->GetFieldData()->AddArray(shape);
  vtkNew<vtkTypeInt64Array> total;
  total->SetName("selected_count");
  total->InsertNextValue(selectedCount);
  table->GetFieldData()->AddArray(total);
}

std::vector<GalleryRow> describeGalleryRows(vtkTable* table, vtkPolyData* shown,
  const ShownRows& shownRows, const std::string& neighborSuffix, const std::string& rankArray)
{
  const DescribedColumns columns = findDescribedColumns(table, shown, neighborSuffix, rankArray);
  std::vector<GalleryRow> rows;
  for (size_t r = 0; r < shownRows.neighbor.size(); ++r)
  {
    rows.push_back(
      describeRow(columns, static_cast<vtkIdType>(r), shownRows.neighbor[r], rankArray));
  }
  return rows;
}

void addGalleryRowFieldData(
  vtkImageData* output, vtkTable* table, const std::vector<GalleryRow>& rows)
{
  vtkNew<vtkTypeInt64Array> rowPoints, rowNeighborPoints, rowSamples, rowNeighbors;
  rowPoints->DeepCopy(table->GetColumnByName("point_id"));
  rowNeighborPoints->DeepCopy(table->GetColumnByName("neighbor_point_id"));
  rowSamples->SetName("sample_id");
  rowNeighbors->SetName("neighbor_sample_id");
  vtkNew<vtkStringArray> rowLabels, rowNeighborLabels;
  rowLabels->SetName("label_str");
  rowNeighborLabels->SetName("neighbor_label_str");
  vtkNew<vtkFloatArray> rowDistances;
  rowDistances->SetName("nn_distance");
  vtkNew<vtkUnsignedCharArray> rowFlags;
  rowFlags->SetName("nn_flag");
  for (const GalleryRow& row : rows)
  {
    rowSamples->InsertNextValue(row.sampleId);
    rowNeighbors->InsertNextValue(row.neighborSampleId);
    rowLabels->InsertNextValue(row.label);
    rowNeighborLabels->InsertNextValue(row.neighborLabel);
    rowDistances->InsertNextValue(row.distance);
    rowFlags->InsertNextValue(row.flagged ? 1 : 0);
  }
  vtkFieldData* fd = output->GetFieldData();
  for (vtkAbstractArray* array :
    std::initializer_list<vtkAbstractArray*>{ rowPoints, rowNeighborPoints, rowSamples,
      rowNeighbors, rowLabels, rowNeighborLabels, rowDistances, rowFlags })
  {
    fd->AddArray(array);
  }
}
}
