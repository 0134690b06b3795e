#include "vtkSampleGallery.h"

#include "EmptyOnFailure.h"
#include "GalleryGather.h"
#include "GalleryPicture.h"
#include "GalleryRows.h"
#include "GalleryTable.h"
#include "SampleExchange.h"

#include "vtkDataArray.h"
#include "vtkFieldData.h"
#include "vtkImageData.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkIntArray.h"
#include "vtkObjectFactory.h"
#include "vtkPointData.h"
#include "vtkPolyData.h"
#include "vtkSelection.h"
#include "vtkStreamingDemandDrivenPipeline.h"
#include "vtkTable.h"
#include "vtkUnsignedCharArray.h"

#include <map>
#include <string>
#include <vector>

vtkStandardNewMacro(vtkSampleGallery);

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
  const std::string problem = dualembed::galleryInputProblem(
    samples, selection, this->NeighborSuffix, this->RankArray, selected);
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
  const std::vector<vtkIdType> rows = dualembed::chooseGalleryRows(
    samples, selection, selected, rank, this->Count, exchange, selectedCount);
  std::map<vtkIdType, vtkIdType> rowOf;
  const vtkSmartPointer<vtkPolyData> shown = dualembed::gatherShownSamples(samples, rows,
    neighborName, dualembed::galleryRowArrayNames(samples->GetPointData()), exchange, rowOf);
  dualembed::addRankHistograms(table, rank, selection ? &selected : nullptr, exchange);
  if (exchange.rank() != 0)
  {
    output->SetExtent(0, -1, 0, -1, 0, 0);
    return 1;
  }

  // Output 1: the shown rows as a table; output 0: the picture, one row per
  // shown sample, labelled with the values the Sample Inspector shows.
  dualembed::ShownRows shownRows;
  if (!dualembed::fillGalleryTable(table, shown, rows, rowOf, neighborName, shownRows))
  {
    vtkErrorMacro("The gallery's samples could not be gathered from the MPI ranks.");
    return 0;
  }
  vtkIntArray* shape =
    vtkIntArray::SafeDownCast(samples->GetFieldData()->GetAbstractArray("image_shape"));
  dualembed::addSelectionFieldData(table, shape, selectedCount);
  const std::vector<dualembed::GalleryRow> described =
    dualembed::describeGalleryRows(table, shown, shownRows, this->NeighborSuffix, this->RankArray);
  const int imageShape[3] = { shape->GetValue(0), shape->GetValue(1), shape->GetValue(2) };
  dualembed::drawGallery(output, this->TileSize, imageShape,
    vtkUnsignedCharArray::SafeDownCast(table->GetColumnByName("image")),
    vtkUnsignedCharArray::SafeDownCast(table->GetColumnByName("neighbor_image")), described);
  dualembed::addGalleryRowFieldData(output, table, described);
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
