#include "vtkSampleGallery.h"

#include "EmptyOnFailure.h"
#include "SampleExchange.h"

#include "vtkDataArray.h"
#include "vtkDoubleArray.h"
#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkFreeTypeTools.h"
#include "vtkIdList.h"
#include "vtkIdTypeArray.h"
#include "vtkImageData.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkIntArray.h"
#include "vtkNew.h"
#include "vtkObjectFactory.h"
#include "vtkPointData.h"
#include "vtkPoints.h"
#include "vtkPVExtractSelection.h"
#include "vtkPolyData.h"
#include "vtkSelection.h"
#include "vtkStreamingDemandDrivenPipeline.h"
#include "vtkStringArray.h"
#include "vtkTable.h"
#include "vtkTextProperty.h"
#include "vtkTypeInt64Array.h"
#include "vtkUnsignedCharArray.h"

#include <algorithm>
#include <numeric>
#include <cstdio>
#include <map>
#include <vector>

vtkStandardNewMacro(vtkSampleGallery);

namespace
{
constexpr int Margin = 6;  // black space between tiles and rows
constexpr int Frame = 2;   // coloured frame around each pair
const unsigned char FlaggedColour[3] = { 230, 40, 40 };
const unsigned char PlainColour[3] = { 110, 110, 110 };

constexpr int TextWidth = 230; // the column of labels beside each pair
constexpr int FontSize = 13;

struct GalleryGeometry
{
  int tile;
  int rows;
  int width() const { return 2 * tile + 4 * Margin + 2 * Frame + TextWidth; }
  int rowHeight() const { return std::max(tile, 4 * (FontSize + 5)) + Margin + 2 * Frame; }
  int height() const { return std::max(1, rows) * rowHeight() + Margin; }
};

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
    const std::vector<long long> counts = exchange.allGatherLists(std::vector<long long>{ static_cast<long long>(proposed) });
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
  const std::vector<double> ranges = exchange.allGatherRows(std::vector<double>{ range[0], range[1] }, 2);
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
      (array->GetNumberOfComponents() == 1 || std::string(array->GetName()).rfind("label_probability_", 0) == 0))
    {
      names.emplace_back(array->GetName());
    }
  }
  return names;
}

/// Writes `text` (white) into the RGB picture with its top-left corner at
/// (x, yTop), clipped to maxWidth; the picture's row 0 is its bottom.
void drawText(vtkFreeTypeTools* fonts, vtkTextProperty* property, const std::string& text,
  unsigned char* out, int width, int height, int x, int yTop, int maxWidth)
{
  vtkNew<vtkImageData> rendered;
  int size[2] = { 0, 0 };
  if (text.empty() || !fonts->RenderString(property, text, 72, rendered, size))
  {
    return;
  }
  int extent[6];
  rendered->GetExtent(extent);
  const int rw = extent[1] - extent[0] + 1;
  const unsigned char* rgba = static_cast<unsigned char*>(rendered->GetScalarPointer());
  const int components = rendered->GetNumberOfScalarComponents();
  for (int ty = 0; ty < size[1]; ++ty)
  {
    const int y = yTop - ty; // row ty of the text from its top
    if (y < 0 || y >= height)
    {
      continue;
    }
    const int sourceRow = size[1] - 1 - ty; // the rendered image's row 0 is its bottom
    for (int tx = 0; tx < std::min(size[0], maxWidth); ++tx)
    {
      const unsigned char* p = rgba + (static_cast<size_t>(sourceRow) * rw + tx) * components;
      const int alpha = components == 4 ? p[3] : 255;
      unsigned char* q = out + (static_cast<size_t>(y) * width + x + tx) * 3;
      for (int k = 0; k < 3; ++k)
      {
        q[k] = static_cast<unsigned char>((p[std::min(k, components - 1)] * alpha + q[k] * (255 - alpha)) / 255);
      }
    }
  }
}

std::string formatScore(const char* name, double value)
{
  char text[96];
  std::snprintf(text, sizeof(text), "%s %.3g", name, value);
  return text;
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
  const GalleryGeometry geometry{ this->TileSize, this->Count };
  int extent[6] = { 0, geometry.width() - 1, 0, geometry.height() - 1, 0, 0 };
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

int vtkSampleGallery::Draw(vtkPolyData* samples, vtkSelection* selection, vtkImageData* output, vtkTable* table)
{
  // Under MPI the samples are spread over the ranks: the rows to show and
  // their neighbours are gathered from the ranks owning them, and the root
  // draws the gallery (the other ranks' pieces are empty).
  const dualembed::SampleExchange exchange(samples->GetNumberOfPoints());
  const std::string x = this->NeighborSuffix;
  const std::string neighborName = "nn_id_" + x;
  vtkPointData* pd = samples->GetPointData();
  vtkUnsignedCharArray* sampleImages = vtkUnsignedCharArray::SafeDownCast(pd->GetAbstractArray("image"));
  vtkIntArray* shape = vtkIntArray::SafeDownCast(samples->GetFieldData()->GetAbstractArray("image_shape"));
  vtkDataArray* rank = pd->GetArray(this->RankArray.c_str());
  std::vector<vtkIdType> selected;
  std::string problem;
  if (!sampleImages || !shape || shape->GetNumberOfValues() != 3 ||
    shape->GetValue(0) * shape->GetValue(1) * shape->GetValue(2) != sampleImages->GetNumberOfComponents())
  {
    problem = "The samples need an 'image' array (uint8) and field data 'image_shape': connect the "
              "output of an Image Dataset Reader (and the filters after it).";
  }
  else if (!pd->GetArray(neighborName.c_str()))
  {
    problem = "The samples have no '" + neighborName + "' array: apply Embedding Nearest Neighbor "
              "first, or set NeighborSuffix to the X of an existing nn_id_X array.";
  }
  else if (!selection && !rank)
  {
    problem = "Nothing is selected and the samples have no '" + this->RankArray +
      "' array to rank them: select samples or set RankArray.";
  }
  else if (selection && !selectedIds(samples, selection, selected))
  {
    problem = "This selection could not be resolved to samples (see the message above); select "
              "points (ids, a rectangle, a query or thresholds of point-data arrays).";
  }
  if (exchange.minimum(problem.empty() ? 1 : 0) == 0)
  {
    if (!problem.empty())
    {
      vtkErrorMacro(<< problem);
    }
    return 0;
  }

  // Which samples (global rows): the selection, else the lowest values of RankArray.
  vtkIdType selectedCount = -1; // -1: nothing selected, the lowest RankArray values are shown
  const std::vector<vtkIdType> rows =
    chooseRows(samples, selection, selected, rank, this->Count, exchange, selectedCount);
  std::vector<long long> neighborOfRow; // pairs (row, its nearest neighbour), from their owners
  vtkDataArray* localNeighbors = pd->GetArray(neighborName.c_str());
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
  std::map<vtkIdType, vtkIdType> rowOf;
  const vtkSmartPointer<vtkPolyData> shown = gatherRows(samples, wanted, rowArrayNames(pd), exchange, rowOf);
  addRankHistograms(table, rank, selection ? &selected : nullptr, exchange); // collective
  if (exchange.rank() != 0)
  {
    output->SetExtent(0, -1, 0, -1, 0, 0);
    return 1;
  }

  const int h = shape->GetValue(0), w = shape->GetValue(1), c = shape->GetValue(2);
  vtkPointData* shownData = shown->GetPointData();
  vtkUnsignedCharArray* images = vtkUnsignedCharArray::SafeDownCast(shownData->GetAbstractArray("image"));
  vtkDataArray* neighbors = shownData->GetArray(neighborName.c_str());
  if (!images || !neighbors)
  {
    vtkErrorMacro("The gallery's samples could not be gathered from the MPI ranks.");
    return 0;
  }

  // Output 1: the shown rows, with the neighbour's image beside the sample's.
  std::vector<vtkIdType> shownRows, neighborRows; // rows of `shown`; -1: neighbour missing
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
    shownRows.push_back(found->second);
    neighborRows.push_back(foundNeighbor == rowOf.end() ? -1 : foundNeighbor->second);
    pointIds->InsertNextValue(row);
    neighborPointIds->InsertNextValue(neighbor);
  }
  const vtkIdType n = static_cast<vtkIdType>(shownRows.size());
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
      column->SetTuple(r, shownRows[r], array);
    }
    table->AddColumn(column);
  }
  vtkNew<vtkUnsignedCharArray> neighborImages;
  neighborImages->SetName("neighbor_image");
  neighborImages->SetNumberOfComponents(images->GetNumberOfComponents());
  neighborImages->SetNumberOfTuples(n);
  for (vtkIdType r = 0; r < n; ++r)
  {
    if (neighborRows[r] >= 0)
    {
      neighborImages->SetTuple(r, neighborRows[r], images);
    }
    else
    {
      std::fill_n(neighborImages->GetPointer(r * images->GetNumberOfComponents()),
        images->GetNumberOfComponents(), 0);
    }
  }
  table->AddColumn(neighborImages);
  table->GetFieldData()->AddArray(shape);
  vtkNew<vtkTypeInt64Array> total; // how many samples the selection holds (the table shows Count at most)
  total->SetName("selected_count");
  total->InsertNextValue(selectedCount);
  table->GetFieldData()->AddArray(total);

  // Output 0: the picture, one row per shown sample.
  const GalleryGeometry geometry{ this->TileSize, static_cast<int>(n) };
  output->SetExtent(0, geometry.width() - 1, 0, geometry.height() - 1, 0, 0);
  output->AllocateScalars(VTK_UNSIGNED_CHAR, 3);
  vtkUnsignedCharArray* pixels = vtkUnsignedCharArray::SafeDownCast(output->GetPointData()->GetScalars());
  pixels->SetName("gallery");
  std::fill_n(pixels->GetPointer(0), pixels->GetNumberOfValues(), 0);

  // Draws sample `id`'s image into the tile whose lower-left corner is (x0, y0).
  unsigned char* out = pixels->GetPointer(0);
  const int width = geometry.width();
  const int scale = std::max(1, std::min(geometry.tile / std::max(1, h), geometry.tile / std::max(1, w)));
  auto drawTile = [&](vtkUnsignedCharArray* source, vtkIdType id, int x0, int y0) {
    const unsigned char* image = source->GetPointer(id * source->GetNumberOfComponents());
    const int offsetX = (geometry.tile - w * scale) / 2, offsetY = (geometry.tile - h * scale) / 2;
    for (int ty = 0; ty < h * scale && ty < geometry.tile; ++ty)
    {
      const int sy = ty / scale; // image row from the top
      const int y = y0 + geometry.tile - 1 - (offsetY + ty);
      for (int tx = 0; tx < w * scale && tx < geometry.tile; ++tx)
      {
        const unsigned char* p = image + (static_cast<size_t>(sy) * w + tx / scale) * c;
        unsigned char* q = out + (static_cast<size_t>(y) * width + x0 + offsetX + tx) * 3;
        for (int k = 0; k < 3; ++k)
        {
          q[k] = p[c >= 3 ? k : 0];
        }
      }
    }
  };
  auto drawFrame = [&](int x0, int y0, int x1, int y1, const unsigned char* colour) {
    for (int y = y0; y <= y1; ++y)
    {
      for (int xx = x0; xx <= x1; ++xx)
      {
        if (y - y0 < Frame || y1 - y < Frame || xx - x0 < Frame || x1 - xx < Frame)
        {
          std::copy_n(colour, 3, out + (static_cast<size_t>(y) * width + xx) * 3);
        }
      }
    }
  };

  // The labels: the same values the Sample Inspector shows.
  vtkFreeTypeTools* fonts = vtkFreeTypeTools::GetInstance();
  vtkNew<vtkTextProperty> font;
  font->SetFontSize(FontSize);
  font->SetColor(1.0, 1.0, 1.0);
  font->SetFontFamilyToArial();
  vtkStringArray* labels = vtkStringArray::SafeDownCast(table->GetColumnByName("label_str"));
  vtkDataArray* sampleIds = vtkDataArray::SafeDownCast(table->GetColumnByName("sample_id"));
  vtkDataArray* flags = vtkDataArray::SafeDownCast(table->GetColumnByName(("nn_flag_" + x).c_str()));
  vtkDataArray* distances = vtkDataArray::SafeDownCast(table->GetColumnByName(("nn_distance_" + x).c_str()));
  vtkDataArray* scores = vtkDataArray::SafeDownCast(table->GetColumnByName(this->RankArray.c_str()));
  vtkStringArray* predictions = nullptr;
  for (vtkIdType i = 0; i < table->GetNumberOfColumns() && !predictions; ++i)
  {
    const std::string name = table->GetColumnName(i);
    if (name.rfind("pred_label_str_", 0) == 0)
    {
      predictions = vtkStringArray::SafeDownCast(table->GetColumn(i));
    }
  }
  auto sampleIdOf = [&](vtkIdType shownRow, vtkIdType pointId) -> long long {
    return sampleIds ? static_cast<long long>(sampleIds->GetComponent(shownRow, 0)) : pointId;
  };

  vtkNew<vtkTypeInt64Array> rowSamples, rowNeighbors;
  rowSamples->SetName("sample_id");
  rowNeighbors->SetName("neighbor_sample_id");
  vtkNew<vtkStringArray> rowLabels, rowNeighborLabels;
  rowLabels->SetName("label_str");
  rowNeighborLabels->SetName("neighbor_label_str");
  vtkNew<vtkFloatArray> rowDistances;
  rowDistances->SetName("nn_distance");
  vtkNew<vtkUnsignedCharArray> rowFlags;
  rowFlags->SetName("nn_flag");

  vtkStringArray* allLabels = vtkStringArray::SafeDownCast(shownData->GetAbstractArray("label_str"));
  vtkDataArray* allSampleIds = shownData->GetArray("sample_id");
  const int rowHeight = geometry.rowHeight();
  for (vtkIdType r = 0; r < n; ++r)
  {
    const bool flagged = flags && flags->GetComponent(r, 0) != 0;
    const vtkIdType neighborRow = neighborRows[r];
    const int yFrame = geometry.height() - static_cast<int>(r + 1) * rowHeight; // row 0 at the top
    const int pairWidth = 2 * geometry.tile + Margin + 2 * Frame;
    drawFrame(Margin, yFrame, Margin + pairWidth - 1, yFrame + geometry.tile + 2 * Frame - 1,
      flagged ? FlaggedColour : PlainColour);
    drawTile(images, shownRows[r], Margin + Frame, yFrame + Frame);
    if (neighborRow >= 0)
    {
      drawTile(neighborImages, r, 2 * Margin + Frame + geometry.tile, yFrame + Frame);
    }
    const long long sampleId = sampleIdOf(r, pointIds->GetValue(r));
    const long long neighborSampleId = neighborRow >= 0
      ? (allSampleIds ? static_cast<long long>(allSampleIds->GetComponent(neighborRow, 0))
                      : neighborPointIds->GetValue(r))
      : -1;
    const std::string label = labels ? labels->GetValue(r) : std::string();
    const std::string neighborLabel = allLabels && neighborRow >= 0 ? allLabels->GetValue(neighborRow) : "";
    const double distance = distances ? distances->GetComponent(r, 0) : 0.0;

    std::vector<std::string> lines{ "#" + std::to_string(sampleId) + "  " + label };
    if (predictions)
    {
      lines.push_back("predicted " + predictions->GetValue(r));
    }
    if (scores)
    {
      lines.push_back(formatScore(this->RankArray.c_str(), scores->GetComponent(r, 0)));
    }
    char neighborLine[160];
    std::snprintf(neighborLine, sizeof(neighborLine), "nn #%lld %s  d %.3f%s", neighborSampleId,
      neighborLabel.c_str(), distance, flagged ? "  duplicate?" : "");
    lines.emplace_back(neighborLine);
    const int textX = 3 * Margin + pairWidth;
    int lineTop = yFrame + geometry.tile + 2 * Frame - 2;
    for (const std::string& line : lines)
    {
      drawText(fonts, font, line, out, width, geometry.height(), textX, lineTop, TextWidth - Margin);
      lineTop -= FontSize + 5;
    }

    rowSamples->InsertNextValue(sampleId);
    rowNeighbors->InsertNextValue(neighborSampleId);
    rowLabels->InsertNextValue(label);
    rowNeighborLabels->InsertNextValue(neighborLabel);
    rowDistances->InsertNextValue(static_cast<float>(distance));
    rowFlags->InsertNextValue(flagged ? 1 : 0);
  }

  vtkFieldData* fd = output->GetFieldData();
  vtkNew<vtkTypeInt64Array> rowPoints, rowNeighborPoints;
  rowPoints->DeepCopy(pointIds);
  rowNeighborPoints->DeepCopy(neighborPointIds);
  for (vtkAbstractArray* array : std::initializer_list<vtkAbstractArray*>{ rowPoints, rowNeighborPoints,
         rowSamples, rowNeighbors, rowLabels, rowNeighborLabels, rowDistances, rowFlags })
  {
    fd->AddArray(array);
  }
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
