#include "vtkSampleGallery.h"

#include "EmptyOnFailure.h"
#include "GalleryPicture.h"
#include "SampleExchange.h"

#include "vtkDataArray.h"
#include "vtkDoubleArray.h"
#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkIdList.h"
#include "vtkIdTypeArray.h"
#include "vtkImageData.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkIntArray.h"
#include "vtkNew.h"
#include "vtkObjectFactory.h"
#include "vtkPVExtractSelection.h"
#include "vtkPointData.h"
#include "vtkPoints.h"
#include "vtkPolyData.h"
#include "vtkSelection.h"
#include "vtkStreamingDemandDrivenPipeline.h"
#include "vtkStringArray.h"
#include "vtkTable.h"
#include "vtkTypeInt64Array.h"
#include "vtkUnsignedCharArray.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <numeric>
#include <vector>

vtkStandardNewMacro(vtkSampleGallery);

namespace
{
/// Point ids of the selected samples, in id order. ParaView's extractor
/// handles every selection the GUI makes (a Find Data query is a QUERY node,
/// which VTK's own vtkExtractSelection refuses); false when it failed.
bool selectedIds(vtkPolyData* samples, vtkSelection* selection, std::vector<vtkIdType>& ids)
{
  vtkNew<vtkPVExtractSelection> extract;
  extract->SetInputData(0, samples);
  extract->SetInputData(1, selection);
  extract->PreserveTopologyOff();
  if (!extract->GetExecutive()->Update())
  {
    return false;
  }
  vtkDataSet* extracted = vtkDataSet::SafeDownCast(extract->GetOutputDataObject(0));
  if (!extracted || extracted->GetNumberOfPoints() == 0)
  {
    return true; // nothing selected (or only cells without points)
  }
  vtkIdTypeArray* original =
    vtkIdTypeArray::SafeDownCast(extracted->GetPointData()->GetArray("vtkOriginalPointIds"));
  if (!original)
  {
    return false;
  }
  for (vtkIdType i = 0; i < original->GetNumberOfTuples(); ++i)
  {
    ids.push_back(original->GetValue(i));
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return true;
}

/// The rows to show, as global sample indices (the same on every rank): the
/// selected samples, else all; of those the `count` lowest values of `rank`
/// (the strongest outliers first; ties, or no `rank`: the smaller index), as a
/// serial run would choose them. `selectedCount`: how many are selected (-1: no selection).
std::vector<vtkIdType> chooseRows(vtkPolyData* samples, vtkSelection* selection,
  const std::vector<vtkIdType>& selected, vtkDataArray* rank, size_t count,
  const dualembed::SampleExchange& exchange, vtkIdType& selectedCount)
{
  const vtkIdType offset = exchange.offset();
  using Candidate = std::pair<double, long long>;
  std::vector<Candidate> candidates;
  const auto propose = [&](vtkIdType local) {
    candidates.emplace_back(rank ? rank->GetComponent(local, 0) : 0.0, offset + local);
  };
  if (selection)
  {
    std::for_each(selected.begin(), selected.end(), propose);
  }
  else
  {
    for (vtkIdType i = 0; i < samples->GetNumberOfPoints(); ++i)
    {
      propose(i);
    }
  }
  // Each rank proposes its own lowest `count`; the lowest of the proposals win.
  auto keepLowest = [count](std::vector<Candidate>& list) {
    const size_t kept = std::min(list.size(), count);
    std::partial_sort(list.begin(), list.begin() + kept, list.end());
    list.resize(kept);
  };
  const size_t proposed = candidates.size();
  keepLowest(candidates);
  std::vector<double> values;
  std::vector<long long> ids;
  for (const Candidate& c : candidates)
  {
    values.push_back(c.first);
    ids.push_back(c.second);
  }
  values = exchange.allGatherLists(values);
  ids = exchange.allGatherLists(ids);
  if (selection)
  {
    const std::vector<long long> counts =
      exchange.allGatherLists(std::vector<long long>{ static_cast<long long>(proposed) });
    selectedCount = static_cast<vtkIdType>(std::accumulate(counts.begin(), counts.end(), 0LL));
  }
  candidates.clear();
  for (size_t i = 0; i < ids.size(); ++i)
  {
    candidates.emplace_back(values[i], ids[i]);
  }
  keepLowest(candidates);
  std::vector<vtkIdType> rows;
  for (const Candidate& c : candidates)
  {
    rows.push_back(c.second);
  }
  return rows;
}

/// The global rows `wanted` with the arrays `names`, gathered from the ranks
/// that own them onto every rank, plus the map global row -> row of the result.
vtkSmartPointer<vtkPolyData> gatherRows(vtkPolyData* samples, const std::vector<vtkIdType>& wanted,
  const std::vector<std::string>& names, const dualembed::SampleExchange& exchange,
  std::map<vtkIdType, vtkIdType>& rowOf)
{
  vtkNew<vtkIdList> mine;
  for (vtkIdType row : wanted)
  {
    if (row >= exchange.offset() && row < exchange.offset() + exchange.localRows())
    {
      mine->InsertNextId(row - exchange.offset());
    }
  }
  vtkNew<vtkPolyData> piece;
  vtkNew<vtkPoints> points;
  points->SetNumberOfPoints(mine->GetNumberOfIds());
  for (vtkIdType i = 0; i < mine->GetNumberOfIds(); ++i)
  {
    points->SetPoint(i, 0.0, 0.0, 0.0);
  }
  piece->SetPoints(points);
  vtkPointData* from = samples->GetPointData();
  for (const std::string& name : names)
  {
    vtkAbstractArray* array = from->GetAbstractArray(name.c_str());
    if (array)
    {
      vtkSmartPointer<vtkAbstractArray> rows = vtk::TakeSmartPointer(array->NewInstance());
      rows->SetName(array->GetName());
      rows->SetNumberOfComponents(array->GetNumberOfComponents());
      rows->SetNumberOfTuples(mine->GetNumberOfIds());
      array->GetTuples(mine, rows);
      piece->GetPointData()->AddArray(rows);
    }
  }
  vtkNew<vtkTypeInt64Array> global;
  global->SetName("gallery_global_row");
  for (vtkIdType i = 0; i < mine->GetNumberOfIds(); ++i)
  {
    global->InsertNextValue(exchange.offset() + mine->GetId(i));
  }
  piece->GetPointData()->AddArray(global);
  vtkSmartPointer<vtkPolyData> all = exchange.allGatherPolyData(piece);
  vtkDataArray* rows = all->GetPointData()->GetArray("gallery_global_row");
  for (vtkIdType i = 0; rows && i < rows->GetNumberOfTuples(); ++i)
  {
    rowOf[static_cast<vtkIdType>(rows->GetComponent(i, 0))] = i;
  }
  return all;
}

constexpr int HistogramBins = 40;

/// Histograms of `rank` (HistogramBins bins over its range on all ranks): of every sample, then
/// of the selected ones (`selected`: local point ids; none without a selection). Field data of
/// the row table, so that the Sample Inspector shows where the selection lies in the scores.
void addRankHistograms(vtkTable* table, vtkDataArray* rank, const std::vector<vtkIdType>* selected,
  const dualembed::SampleExchange& exchange)
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
  double low = VTK_DOUBLE_MAX, high = VTK_DOUBLE_MIN;
  for (size_t r = 0; r + 1 < ranges.size(); r += 2)
  {
    low = std::min(low, ranges[r]);
    high = std::max(high, ranges[r + 1]);
  }
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

/// The one-component point-data arrays (scores, labels, predictions,
/// neighbours), the image and the training trajectories (label_probability_*,
/// one value per checkpoint): what a row of the gallery and the inspector shows.
std::vector<std::string> rowArrayNames(vtkPointData* pd)
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

/// The global rows `rows` and their nearest neighbours, gathered onto every
/// rank (collective), with the map global row -> row of the result.
vtkSmartPointer<vtkPolyData> gatherShown(vtkPolyData* samples, const std::vector<vtkIdType>& rows,
  const std::string& neighborName, const dualembed::SampleExchange& exchange,
  std::map<vtkIdType, vtkIdType>& rowOf)
{
  std::vector<long long> neighborOfRow; // pairs (row, its nearest neighbour), from their owners
  vtkDataArray* localNeighbors = samples->GetPointData()->GetArray(neighborName.c_str());
  for (vtkIdType row : rows)
  {
    const vtkIdType local = row - exchange.offset();
    if (local >= 0 && local < exchange.localRows())
    {
      neighborOfRow.push_back(row);
      neighborOfRow.push_back(static_cast<long long>(localNeighbors->GetComponent(local, 0)));
    }
  }
  neighborOfRow = exchange.allGatherLists(neighborOfRow);
  std::vector<vtkIdType> wanted(rows);
  for (size_t i = 1; i < neighborOfRow.size(); i += 2)
  {
    wanted.push_back(neighborOfRow[i]);
  }
  return gatherRows(samples, wanted, rowArrayNames(samples->GetPointData()), exchange, rowOf);
}

/// Rows of the gathered samples that the table shows: the sample's, and its
/// neighbour's (-1: not gathered).
struct ShownRows
{
  std::vector<vtkIdType> sample;
  std::vector<vtkIdType> neighbor;
};

/// Output 1: the shown rows (`rows` that were gathered), with the
/// neighbour's image beside the sample's. False when the gathered samples lack
/// the images or the neighbours.
bool fillRowTable(vtkTable* table, vtkPolyData* shown, const std::vector<vtkIdType>& rows,
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
  const vtkIdType n = static_cast<vtkIdType>(shownRows.sample.size());
  table->AddColumn(pointIds);
  table->AddColumn(neighborPointIds);
  for (int i = 0; i < shownData->GetNumberOfArrays(); ++i)
  {
    vtkAbstractArray* array = shownData->GetAbstractArray(i);
    if (std::string(array->GetName()) == "gallery_global_row")
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
  return true;
}

std::string formatScore(const char* name, double value)
{
  char text[96];
  std::snprintf(text, sizeof(text), "%s %.3g", name, value);
  return text;
}

/// Why the gallery cannot show `samples` (empty: it can); `selected`: the
/// selection's local point ids.
std::string inputProblem(vtkPolyData* samples, vtkSelection* selection,
  const std::string& neighborSuffix, const std::string& rankArray, std::vector<vtkIdType>& selected)
{
  vtkPointData* pd = samples->GetPointData();
  vtkUnsignedCharArray* images = vtkUnsignedCharArray::SafeDownCast(pd->GetAbstractArray("image"));
  vtkIntArray* shape =
    vtkIntArray::SafeDownCast(samples->GetFieldData()->GetAbstractArray("image_shape"));
  const std::string neighborName = "nn_id_" + neighborSuffix;
  if (!images || !shape || shape->GetNumberOfValues() != 3 ||
    shape->GetValue(0) * shape->GetValue(1) * shape->GetValue(2) != images->GetNumberOfComponents())
  {
    return "The samples need an 'image' array (uint8) and field data 'image_shape': connect the "
           "output of an Image Dataset Reader (and the filters after it).";
  }
  if (!pd->GetArray(neighborName.c_str()))
  {
    return "The samples have no '" + neighborName +
      "' array: apply Embedding Nearest Neighbor "
      "first, or set NeighborSuffix to the X of an existing nn_id_X array.";
  }
  if (!selection && !pd->GetArray(rankArray.c_str()))
  {
    return "Nothing is selected and the samples have no '" + rankArray +
      "' array to rank them: select samples or set RankArray.";
  }
  if (selection && !selectedIds(samples, selection, selected))
  {
    return "This selection could not be resolved to samples (see the message above); select "
           "points (ids, a rectangle, a query or thresholds of point-data arrays).";
  }
  return std::string();
}

/// What each row of the table says: its sample, its neighbour, the lines of text beside them.
std::vector<dualembed::GalleryRow> describeRows(vtkTable* table, vtkPolyData* shown,
  const ShownRows& shownRows, const std::string& x, const std::string& rankArray)
{
  vtkStringArray* labels = vtkStringArray::SafeDownCast(table->GetColumnByName("label_str"));
  vtkDataArray* sampleIds = vtkDataArray::SafeDownCast(table->GetColumnByName("sample_id"));
  vtkDataArray* flags =
    vtkDataArray::SafeDownCast(table->GetColumnByName(("nn_flag_" + x).c_str()));
  vtkDataArray* distances =
    vtkDataArray::SafeDownCast(table->GetColumnByName(("nn_distance_" + x).c_str()));
  vtkDataArray* scores = vtkDataArray::SafeDownCast(table->GetColumnByName(rankArray.c_str()));
  vtkDataArray* pointIds = vtkDataArray::SafeDownCast(table->GetColumnByName("point_id"));
  vtkDataArray* neighborPointIds =
    vtkDataArray::SafeDownCast(table->GetColumnByName("neighbor_point_id"));
  vtkStringArray* predictions = nullptr;
  for (vtkIdType i = 0; i < table->GetNumberOfColumns() && !predictions; ++i)
  {
    if (std::string(table->GetColumnName(i)).rfind("pred_label_str_", 0) == 0)
    {
      predictions = vtkStringArray::SafeDownCast(table->GetColumn(i));
    }
  }
  vtkStringArray* allLabels =
    vtkStringArray::SafeDownCast(shown->GetPointData()->GetAbstractArray("label_str"));
  vtkDataArray* allSampleIds = shown->GetPointData()->GetArray("sample_id");
  std::vector<dualembed::GalleryRow> rows(shownRows.neighbor.size());
  for (size_t r = 0; r < rows.size(); ++r)
  {
    dualembed::GalleryRow& row = rows[r];
    const vtkIdType t = static_cast<vtkIdType>(r);
    const vtkIdType neighborRow = shownRows.neighbor[r];
    row.flagged = flags && flags->GetComponent(t, 0) != 0;
    row.hasNeighbor = neighborRow >= 0;
    row.sampleId = static_cast<long long>((sampleIds ? sampleIds : pointIds)->GetComponent(t, 0));
    row.neighborSampleId = !row.hasNeighbor
      ? -1
      : static_cast<long long>(allSampleIds ? allSampleIds->GetComponent(neighborRow, 0)
                                            : neighborPointIds->GetComponent(t, 0));
    row.label = labels ? labels->GetValue(t) : std::string();
    row.neighborLabel = allLabels && row.hasNeighbor ? allLabels->GetValue(neighborRow) : "";
    row.distance = static_cast<float>(distances ? distances->GetComponent(t, 0) : 0.0);
    row.lines.push_back("#" + std::to_string(row.sampleId) + "  " + row.label);
    if (predictions)
    {
      row.lines.push_back("predicted " + predictions->GetValue(t));
    }
    if (scores)
    {
      row.lines.push_back(formatScore(rankArray.c_str(), scores->GetComponent(t, 0)));
    }
    char neighborLine[160];
    std::snprintf(neighborLine, sizeof(neighborLine), "nn #%lld %s  d %.3f%s", row.neighborSampleId,
      row.neighborLabel.c_str(),
      static_cast<double>(distances ? distances->GetComponent(t, 0) : 0.0),
      row.flagged ? "  duplicate?" : "");
    row.lines.emplace_back(neighborLine);
  }
  return rows;
}

/// The picture's rows as its field data: ids, labels, distances and flags, row 0 at the top.
void addRowFieldData(
  vtkImageData* output, vtkTable* table, const std::vector<dualembed::GalleryRow>& rows)
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
  for (const dualembed::GalleryRow& row : rows)
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

vtkSampleGallery::vtkSampleGallery()
{
  this->SetNumberOfInputPorts(2);
  this->SetNumberOfOutputPorts(2); // the picture, and its rows as a table
}

int vtkSampleGallery::FillInputPortInformation(int port, vtkInformation* info)
{
  if (port == 0)
  {
    info->Set(vtkAlgorithm::INPUT_REQUIRED_DATA_TYPE(), "vtkPolyData");
  }
  else
  {
    info->Set(vtkAlgorithm::INPUT_REQUIRED_DATA_TYPE(), "vtkSelection");
    info->Set(vtkAlgorithm::INPUT_IS_OPTIONAL(), 1);
  }
  return 1;
}

int vtkSampleGallery::FillOutputPortInformation(int port, vtkInformation* info)
{
  info->Set(vtkDataObject::DATA_TYPE_NAME(), port == 0 ? "vtkImageData" : "vtkTable");
  return 1;
}

int vtkSampleGallery::RequestInformation(
  vtkInformation*, vtkInformationVector**, vtkInformationVector* outputVector)
{
  // The largest picture (Count rows); RequestData makes one row per shown sample.
  int extent[6];
  dualembed::galleryExtent(this->TileSize, this->Count, extent);
  vtkInformation* outInfo = outputVector->GetInformationObject(0);
  outInfo->Set(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT(), extent, 6);
  vtkDataObject::SetPointDataActiveScalarInfo(outInfo, VTK_UNSIGNED_CHAR, 3);
  return 1;
}

int vtkSampleGallery::RequestData(
  vtkInformation*, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  vtkPolyData* samples = vtkPolyData::GetData(inputVector[0], 0);
  vtkSelection* selection = vtkSelection::GetData(inputVector[1], 0);
  vtkImageData* output = vtkImageData::GetData(outputVector, 0);
  vtkTable* table = vtkTable::GetData(outputVector, 1);
  output->Initialize(); // nothing of an earlier run stays on screen after a failure
  table->Initialize();
  if (dualembed::isEmptyInput(samples))
  {
    return 1; // a failed filter upstream: it said why, the gallery stays empty
  }
  return dualembed::emptyOnFailure(this, output, [&]() {
    const int drawn = this->Draw(samples, selection, output, table);
    if (!drawn)
    {
      table->Initialize();
    }
    return drawn;
  });
}

int vtkSampleGallery::Draw(
  vtkPolyData* samples, vtkSelection* selection, vtkImageData* output, vtkTable* table)
{
  // Under MPI the samples are spread over the ranks: the rows to show and
  // their neighbours are gathered from the ranks owning them, and the root
  // draws the gallery (the other ranks' pieces are empty).
  const dualembed::SampleExchange exchange(samples->GetNumberOfPoints());
  const std::string neighborName = "nn_id_" + this->NeighborSuffix;
  std::vector<vtkIdType> selected;
  const std::string problem =
    inputProblem(samples, selection, this->NeighborSuffix, this->RankArray, selected);
  if (exchange.minimum(problem.empty() ? 1 : 0) == 0)
  {
    if (!problem.empty())
    {
      vtkErrorMacro(<< problem);
    }
    return 0;
  }

  // Which samples (global rows): the selection, else the lowest values of RankArray.
  vtkDataArray* rank = samples->GetPointData()->GetArray(this->RankArray.c_str());
  vtkIdType selectedCount = -1; // -1: nothing selected, the lowest RankArray values are shown
  const std::vector<vtkIdType> rows =
    chooseRows(samples, selection, selected, rank, this->Count, exchange, selectedCount);
  std::map<vtkIdType, vtkIdType> rowOf;
  const vtkSmartPointer<vtkPolyData> shown =
    gatherShown(samples, rows, neighborName, exchange, rowOf);
  addRankHistograms(table, rank, selection ? &selected : nullptr, exchange); // collective
  if (exchange.rank() != 0)
  {
    output->SetExtent(0, -1, 0, -1, 0, 0);
    return 1;
  }
  ShownRows shownRows;
  if (!fillRowTable(table, shown, rows, rowOf, neighborName, shownRows))
  {
    vtkErrorMacro("The gallery's samples could not be gathered from the MPI ranks.");
    return 0;
  }
  vtkIntArray* shape =
    vtkIntArray::SafeDownCast(samples->GetFieldData()->GetAbstractArray("image_shape"));
  table->GetFieldData()->AddArray(shape);
  vtkNew<vtkTypeInt64Array>
    total; // how many samples the selection holds (the table shows Count at most)
  total->SetName("selected_count");
  total->InsertNextValue(selectedCount);
  table->GetFieldData()->AddArray(total);

  // Output 0: the picture, one row per shown sample, labelled with the values the Sample Inspector
  // shows.
  const std::vector<dualembed::GalleryRow> described =
    describeRows(table, shown, shownRows, this->NeighborSuffix, this->RankArray);
  const int imageShape[3] = { shape->GetValue(0), shape->GetValue(1), shape->GetValue(2) };
  dualembed::drawGallery(output, this->TileSize, imageShape,
    vtkUnsignedCharArray::SafeDownCast(table->GetColumnByName("image")),
    vtkUnsignedCharArray::SafeDownCast(table->GetColumnByName("neighbor_image")), described);
  addRowFieldData(output, table, described);
  return 1;
}

void vtkSampleGallery::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "Count: " << this->Count << "\n";
  os << indent << "RankArray: " << this->RankArray << "\n";
  os << indent << "NeighborSuffix: " << this->NeighborSuffix << "\n";
  os << indent << "TileSize: " << this->TileSize << "\n";
}
