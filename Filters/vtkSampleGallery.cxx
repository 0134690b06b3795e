#include "vtkSampleGallery.h"

#include "vtkDataArray.h"
#include "vtkExtractSelection.h"
#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkIdTypeArray.h"
#include "vtkImageData.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkIntArray.h"
#include "vtkNew.h"
#include "vtkObjectFactory.h"
#include "vtkPointData.h"
#include "vtkPolyData.h"
#include "vtkSelection.h"
#include "vtkStreamingDemandDrivenPipeline.h"
#include "vtkStringArray.h"
#include "vtkTypeInt64Array.h"
#include "vtkUnsignedCharArray.h"

#include <algorithm>
#include <numeric>
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

  const GalleryGeometry geometry{ this->TileSize, this->Count };
  output->SetExtent(0, geometry.width() - 1, 0, geometry.height() - 1, 0, 0);
  output->AllocateScalars(VTK_UNSIGNED_CHAR, 3);
  vtkUnsignedCharArray* pixels = vtkUnsignedCharArray::SafeDownCast(output->GetPointData()->GetScalars());
  pixels->SetName("gallery");
  std::fill_n(pixels->GetPointer(0), pixels->GetNumberOfValues(), 0);

  vtkPointData* pd = samples->GetPointData();
  vtkUnsignedCharArray* images = vtkUnsignedCharArray::SafeDownCast(pd->GetAbstractArray("image"));
  vtkIntArray* shape = vtkIntArray::SafeDownCast(samples->GetFieldData()->GetAbstractArray("image_shape"));
  if (!images || !shape || shape->GetNumberOfValues() != 3 ||
    shape->GetValue(0) * shape->GetValue(1) * shape->GetValue(2) != images->GetNumberOfComponents())
  {
    vtkErrorMacro("The samples need an 'image' array (uint8) and field data 'image_shape': connect the "
                  "output of an Image Dataset Reader (and the filters after it).");
    return 0;
  }
  const int h = shape->GetValue(0), w = shape->GetValue(1), c = shape->GetValue(2);
  const std::string x = this->NeighborSuffix;
  vtkDataArray* neighbors = pd->GetArray(("nn_id_" + x).c_str());
  vtkDataArray* flags = pd->GetArray(("nn_flag_" + x).c_str());
  vtkDataArray* distances = pd->GetArray(("nn_distance_" + x).c_str());
  vtkStringArray* labels = vtkStringArray::SafeDownCast(pd->GetAbstractArray("label_str"));
  vtkDataArray* sampleIds = pd->GetArray("sample_id");
  if (!neighbors)
  {
    vtkErrorMacro("The samples have no 'nn_id_" << x << "' array: apply Embedding Nearest Neighbor "
                  "first, or set NeighborSuffix to the X of an existing nn_id_X array.");
    return 0;
  }

  // Which samples: the selection, else the lowest values of RankArray.
  std::vector<vtkIdType> rows;
  const vtkIdType n = samples->GetNumberOfPoints();
  if (selection)
  {
    rows = selectedIds(samples, selection);
  }
  else
  {
    vtkDataArray* rank = pd->GetArray(this->RankArray.c_str());
    if (!rank)
    {
      vtkErrorMacro("Nothing is selected and the samples have no '" << this->RankArray
                    << "' array to rank them: select samples or set RankArray.");
      return 0;
    }
    rows.resize(n);
    std::iota(rows.begin(), rows.end(), 0);
    const vtkIdType shown = std::min<vtkIdType>(n, this->Count);
    std::partial_sort(rows.begin(), rows.begin() + shown, rows.end(), [rank](vtkIdType a, vtkIdType b) {
      const double ra = rank->GetComponent(a, 0), rb = rank->GetComponent(b, 0);
      return ra < rb || (ra == rb && a < b);
    });
    rows.resize(shown);
  }
  if (rows.size() > static_cast<size_t>(this->Count))
  {
    rows.resize(this->Count);
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
    const vtkIdType id = rows[r];
    const vtkIdType neighbor = static_cast<vtkIdType>(neighbors->GetComponent(id, 0));
    const bool flagged = flags && flags->GetComponent(id, 0) != 0;
    const int yFrame = geometry.height() - static_cast<int>(r + 1) * rowHeight; // row 0 at the top
    drawFrame(Margin, yFrame, width - Margin - 1, yFrame + geometry.tile + 2 * Frame - 1,
      flagged ? FlaggedColour : PlainColour);
    drawTile(id, Margin + Frame, yFrame + Frame);
    if (neighbor >= 0 && neighbor < n)
    {
      drawTile(neighbor, 2 * Margin + Frame + geometry.tile, yFrame + Frame);
    }
    rowPoints->InsertNextValue(id);
    rowNeighborPoints->InsertNextValue(neighbor);
    rowSamples->InsertNextValue(sampleIds ? static_cast<vtkTypeInt64>(sampleIds->GetComponent(id, 0)) : id);
    rowNeighbors->InsertNextValue(sampleIds && neighbor >= 0 && neighbor < n
        ? static_cast<vtkTypeInt64>(sampleIds->GetComponent(neighbor, 0)) : -1);
    rowLabels->InsertNextValue(labels ? labels->GetValue(id) : "");
    rowNeighborLabels->InsertNextValue(labels && neighbor >= 0 && neighbor < n ? labels->GetValue(neighbor) : "");
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
