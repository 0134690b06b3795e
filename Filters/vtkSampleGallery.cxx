#include "vtkSampleGallery.h"

#include "SampleExchange.h"

#include "vtkDataArray.h"
#include "vtkExtractSelection.h"
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
#include "vtkPointData.h"
#include "vtkPoints.h"
#include "vtkPolyData.h"
#include "vtkSelection.h"
#include "vtkStreamingDemandDrivenPipeline.h"
#include "vtkStringArray.h"
#include "vtkTypeInt64Array.h"
#include "vtkUnsignedCharArray.h"

#include <algorithm>
#include <map>
#include <vector>

vtkStandardNewMacro(vtkSampleGallery);

namespace
{
constexpr int Margin = 6;  // black space between tiles and rows
constexpr int Frame = 2;   // coloured frame around each pair
const unsigned char FlaggedColour[3] = { 230, 40, 40 };
const unsigned char PlainColour[3] = { 110, 110, 110 };

struct GalleryGeometry
{
  int tile;
  int rows;
  int width() const { return 2 * tile + 3 * Margin + 2 * Frame; }
  int height() const { return rows * (tile + Margin + 2 * Frame) + Margin; }
};

/// Point ids of the selected samples, in id order.
std::vector<vtkIdType> selectedIds(vtkPolyData* samples, vtkSelection* selection)
{
  vtkNew<vtkExtractSelection> extract;
  extract->SetInputData(0, samples);
  extract->SetInputData(1, selection);
  extract->PreserveTopologyOff();
  extract->Update();
  std::vector<vtkIdType> ids;
  vtkDataSet* extracted = vtkDataSet::SafeDownCast(extract->GetOutputDataObject(0));
  vtkIdTypeArray* original = extracted
    ? vtkIdTypeArray::SafeDownCast(extracted->GetPointData()->GetArray("vtkOriginalPointIds"))
    : nullptr;
  for (vtkIdType i = 0; original && i < original->GetNumberOfTuples(); ++i)
  {
    ids.push_back(original->GetValue(i));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

/// The rows to show, as global sample indices (the same on every rank): the
/// selected samples in index order, else the `count` lowest values of `rank`
/// (ties: the smaller index), as a serial run would choose them.
std::vector<vtkIdType> chooseRows(vtkPolyData* samples, vtkSelection* selection, vtkDataArray* rank,
  size_t count, const dualembed::SampleExchange& exchange)
{
  const vtkIdType offset = exchange.offset();
  if (selection)
  {
    std::vector<long long> mine;
    for (vtkIdType id : selectedIds(samples, selection))
    {
      mine.push_back(offset + id);
    }
    std::vector<long long> all = exchange.allGatherLists(mine);
    all.resize(std::min(all.size(), count));
    return std::vector<vtkIdType>(all.begin(), all.end());
  }
  // Each rank proposes its own lowest `count`; the lowest of the proposals win.
  using Candidate = std::pair<double, long long>;
  std::vector<Candidate> candidates;
  for (vtkIdType i = 0; i < samples->GetNumberOfPoints(); ++i)
  {
    candidates.emplace_back(rank->GetComponent(i, 0), offset + i);
  }
  auto keepLowest = [count](std::vector<Candidate>& list) {
    const size_t kept = std::min(list.size(), count);
    std::partial_sort(list.begin(), list.begin() + kept, list.end());
    list.resize(kept);
  };
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
}

vtkSampleGallery::vtkSampleGallery()
{
  this->SetNumberOfInputPorts(2);
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

int vtkSampleGallery::RequestInformation(
  vtkInformation*, vtkInformationVector**, vtkInformationVector* outputVector)
{
  // The size depends on properties only, so it is known before any data exists.
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
  if (exchange.minimum(problem.empty() ? 1 : 0) == 0)
  {
    if (!problem.empty())
    {
      vtkErrorMacro(<< problem);
    }
    return 0;
  }

  // Which samples (global rows): the selection, else the lowest values of RankArray.
  const std::vector<vtkIdType> rows = chooseRows(samples, selection, rank, this->Count, exchange);
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
  const vtkSmartPointer<vtkPolyData> shown = gatherRows(samples, wanted,
    { "image", "label_str", "sample_id", neighborName, "nn_flag_" + x, "nn_distance_" + x }, exchange, rowOf);
  if (exchange.rank() != 0)
  {
    output->SetExtent(0, -1, 0, -1, 0, 0);
    return 1;
  }

  const GalleryGeometry geometry{ this->TileSize, this->Count };
  output->SetExtent(0, geometry.width() - 1, 0, geometry.height() - 1, 0, 0);
  output->AllocateScalars(VTK_UNSIGNED_CHAR, 3);
  vtkUnsignedCharArray* pixels = vtkUnsignedCharArray::SafeDownCast(output->GetPointData()->GetScalars());
  pixels->SetName("gallery");
  std::fill_n(pixels->GetPointer(0), pixels->GetNumberOfValues(), 0);

  const int h = shape->GetValue(0), w = shape->GetValue(1), c = shape->GetValue(2);
  vtkPointData* shownData = shown->GetPointData();
  vtkUnsignedCharArray* images = vtkUnsignedCharArray::SafeDownCast(shownData->GetAbstractArray("image"));
  vtkDataArray* neighbors = shownData->GetArray(neighborName.c_str());
  vtkDataArray* flags = shownData->GetArray(("nn_flag_" + x).c_str());
  vtkDataArray* distances = shownData->GetArray(("nn_distance_" + x).c_str());
  vtkStringArray* labels = vtkStringArray::SafeDownCast(shownData->GetAbstractArray("label_str"));
  vtkDataArray* sampleIds = shownData->GetArray("sample_id");
  if (!images || !neighbors)
  {
    vtkErrorMacro("The gallery's samples could not be gathered from the MPI ranks.");
    return 0;
  }

  // Draws sample `id`'s image into the tile whose lower-left corner is (x0, y0).
  unsigned char* out = pixels->GetPointer(0);
  const int width = geometry.width();
  const int scale = std::max(1, std::min(geometry.tile / std::max(1, h), geometry.tile / std::max(1, w)));
  auto drawTile = [&](vtkIdType id, int x0, int y0) {
    const unsigned char* image = images->GetPointer(id * images->GetNumberOfComponents());
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

  vtkNew<vtkTypeInt64Array> rowSamples, rowNeighbors;
  rowSamples->SetName("sample_id");
  rowNeighbors->SetName("neighbor_sample_id");
  vtkNew<vtkTypeInt64Array> rowPoints, rowNeighborPoints;
  rowPoints->SetName("point_id");
  rowNeighborPoints->SetName("neighbor_point_id");
  vtkNew<vtkStringArray> rowLabels, rowNeighborLabels;
  rowLabels->SetName("label_str");
  rowNeighborLabels->SetName("neighbor_label_str");
  vtkNew<vtkFloatArray> rowDistances;
  rowDistances->SetName("nn_distance");
  vtkNew<vtkUnsignedCharArray> rowFlags;
  rowFlags->SetName("nn_flag");

  const int rowHeight = geometry.tile + Margin + 2 * Frame;
  for (size_t r = 0; r < rows.size(); ++r)
  {
    const auto found = rowOf.find(rows[r]);
    if (found == rowOf.end())
    {
      continue;
    }
    const vtkIdType id = found->second; // row of `shown`
    const vtkIdType neighbor = static_cast<vtkIdType>(neighbors->GetComponent(id, 0)); // global
    const auto foundNeighbor = rowOf.find(neighbor);
    const vtkIdType neighborRow = foundNeighbor == rowOf.end() ? -1 : foundNeighbor->second;
    const bool flagged = flags && flags->GetComponent(id, 0) != 0;
    const int yFrame = geometry.height() - static_cast<int>(r + 1) * rowHeight; // row 0 at the top
    drawFrame(Margin, yFrame, width - Margin - 1, yFrame + geometry.tile + 2 * Frame - 1,
      flagged ? FlaggedColour : PlainColour);
    drawTile(id, Margin + Frame, yFrame + Frame);
    if (neighborRow >= 0)
    {
      drawTile(neighborRow, 2 * Margin + Frame + geometry.tile, yFrame + Frame);
    }
    rowPoints->InsertNextValue(rows[r]);
    rowNeighborPoints->InsertNextValue(neighbor);
    rowSamples->InsertNextValue(sampleIds ? static_cast<vtkTypeInt64>(sampleIds->GetComponent(id, 0)) : rows[r]);
    rowNeighbors->InsertNextValue(sampleIds && neighborRow >= 0
        ? static_cast<vtkTypeInt64>(sampleIds->GetComponent(neighborRow, 0)) : -1);
    rowLabels->InsertNextValue(labels ? labels->GetValue(id) : "");
    rowNeighborLabels->InsertNextValue(labels && neighborRow >= 0 ? labels->GetValue(neighborRow) : "");
    rowDistances->InsertNextValue(distances ? static_cast<float>(distances->GetComponent(id, 0)) : 0.0f);
    rowFlags->InsertNextValue(flagged ? 1 : 0);
  }

  vtkFieldData* fd = output->GetFieldData();
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
