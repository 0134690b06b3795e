#include "vtkImageDatasetReader.h"

#include "EmptyOnFailure.h"
#include "ImageDataset.h"
#include "ImageFileDecoder.h"
#include "PieceRange.h"

#include "vtkCellArray.h"
#include "vtkFieldData.h"
#include "vtkIdTypeArray.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkIntArray.h"
#include "vtkNew.h"
#include "vtkObjectFactory.h"
#include "vtkPointData.h"
#include "vtkPoints.h"
#include "vtkPolyData.h"
#include "vtkSmartPointer.h"
#include "vtkStreamingDemandDrivenPipeline.h"
#include "vtkStringArray.h"
#include "vtkTypeInt64Array.h"
#include "vtkUnsignedCharArray.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sys/stat.h>

namespace formats = dualembed::formats;

vtkStandardNewMacro(vtkImageDatasetReader);

struct vtkImageDatasetReader::Internals
{
  // The probed dataset, kept until FileName or the file itself changes.
  formats::DatasetInfo Info;
  std::string ProbedFile;
  long long ProbedMTime = -1;
  bool Valid = false;

  // Image folders: geometry found in the headers of all files.
  bool UniformSize = true;
  int FolderHeight = 0;
  int FolderWidth = 0;
  int FolderChannels = 0;
};

namespace
{
long long fileModificationTime(const std::string& path)
{
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<long long>(st.st_mtime) : -1;
}

const std::string& className(const std::vector<std::string>& names, int label, std::string& scratch)
{
  if (label >= 0 && label < static_cast<int>(names.size()))
  {
    return names[label];
  }
  scratch = std::to_string(label);
  return scratch;
}

/// Height, width and channels of the images in the output.
struct ImageShape
{
  int height;
  int width;
  int channels;
};

/// Decodes the files of an image folder's block into block.pixels (`shape`:
/// the folder's size and channel count, gray replicated and alpha dropped as
/// PIL's convert("RGB"); `thumbnailSize` > 0: thumbnails of that size, for
/// folders of mixed sizes). A file that cannot be decoded is skipped with a
/// warning; `kept` lists the block's samples that were decoded. False when the
/// user aborted.
bool decodeFolderImages(vtkAlgorithm* reader, formats::SampleBlock& block, vtkIdType first,
  const ImageShape& shape, int thumbnailSize, std::vector<vtkIdType>& kept)
{
  const vtkIdType count = static_cast<vtkIdType>(block.files.size());
  std::vector<std::uint8_t> pixels;
  pixels.reserve(static_cast<size_t>(count) * shape.height * shape.width * shape.channels);
  kept.reserve(count);
  const vtkIdType progressStep = std::max<vtkIdType>(1, count / 50);
  for (vtkIdType i = 0; i < count; ++i)
  {
    if (i % progressStep == 0)
    {
      reader->UpdateProgress(0.2 + 0.7 * static_cast<double>(i) / count);
      if (reader->GetAbortExecute())
      {
        vtkWarningWithObjectMacro(reader, "Reading aborted: the output is empty.");
        return false;
      }
    }
    dualembed::DecodedImage decoded;
    std::string error;
    if (!dualembed::decodeImageFile(block.files[i], decoded, error))
    {
      vtkWarningWithObjectMacro(reader, "Skipping sample " << first + i << ": " << error << ".");
      continue;
    }
    if (thumbnailSize > 0)
    {
      const auto thumbnail = dualembed::makeThumbnail(decoded, thumbnailSize);
      pixels.insert(pixels.end(), thumbnail.begin(), thumbnail.end());
    }
    else
    {
      const size_t n = static_cast<size_t>(shape.height) * shape.width;
      for (size_t p = 0; p < n; ++p)
      {
        for (int c = 0; c < shape.channels; ++c)
        {
          pixels.push_back(decoded.pixels[p * decoded.channels + (decoded.channels >= 3 ? c : 0)]);
        }
      }
    }
    kept.push_back(i);
  }
  block.pixels.swap(pixels);
  return true;
}

vtkSmartPointer<vtkCellArray> oneVertexPerPoint(vtkIdType n)
{
  auto vertices = vtkSmartPointer<vtkCellArray>::New();
  vertices->AllocateExact(n, n);
  for (vtkIdType i = 0; i < n; ++i)
  {
    vertices->InsertNextCell(1, &i);
  }
  return vertices;
}

/// What the dataset is, as field data: image_shape, class_names, dataset [path, kind] and
/// number_of_samples.
void addDatasetFields(vtkFieldData* fd, const ImageShape& shape,
  const std::vector<std::string>& classNames, const formats::DatasetInfo& info, vtkIdType total)
{
  vtkNew<vtkIntArray> imageShape;
  imageShape->SetName("image_shape");
  for (int value : { shape.height, shape.width, shape.channels })
  {
    imageShape->InsertNextValue(value);
  }
  fd->AddArray(imageShape);
  vtkNew<vtkStringArray> names;
  names->SetName("class_names");
  for (const auto& name : classNames)
  {
    names->InsertNextValue(name);
  }
  fd->AddArray(names);
  vtkNew<vtkStringArray> source;
  source->SetName("dataset");
  source->InsertNextValue(info.path);
  source->InsertNextValue(formats::datasetKindName(info.kind));
  fd->AddArray(source);
  vtkNew<vtkTypeInt64Array> totalSamples;
  totalSamples->SetName("number_of_samples");
  totalSamples->InsertNextValue(total);
  fd->AddArray(totalSamples);
}
}

vtkImageDatasetReader::vtkImageDatasetReader()
  : Internal(new Internals)
{
  this->SetNumberOfInputPorts(0);
}

vtkImageDatasetReader::~vtkImageDatasetReader() = default;

void vtkImageDatasetReader::AddClassName(const char* name)
{
  this->ClassNames.emplace_back(name ? name : "");
  this->Modified();
}

void vtkImageDatasetReader::ClearClassNames()
{
  if (!this->ClassNames.empty())
  {
    this->ClassNames.clear();
    this->Modified();
  }
}

int vtkImageDatasetReader::GetNumberOfClassNames() const
{
  return static_cast<int>(this->ClassNames.size());
}

const char* vtkImageDatasetReader::GetClassNameEntry(int index) const
{
  return index >= 0 && index < this->GetNumberOfClassNames() ? this->ClassNames[index].c_str()
                                                             : nullptr;
}

int vtkImageDatasetReader::CanReadFile(const char* fileName)
{
  if (!fileName)
  {
    return 0;
  }
  // An image file opens its whole image folder; do not scan that folder tree here,
  // ParaView asks every reader about every file the user picks.
  if (formats::isImageFileName(fileName))
  {
    return 1;
  }
  try
  {
    formats::probeDataset(fileName);
    return 1;
  }
  catch (const std::exception&)
  {
    // Damaged or truncated: still ours, so that opening it reports why.
    return formats::isNamedLikeDataset(fileName) ? 1 : 0;
  }
}

int vtkImageDatasetReader::RequestInformation(
  vtkInformation* request, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  return dualembed::emptyOnFailure(this, vtkPolyData::GetData(outputVector, 0),
    [&] { return this->ReadInformation(request, inputVector, outputVector); });
}

int vtkImageDatasetReader::ReadInformation(
  vtkInformation*, vtkInformationVector**, vtkInformationVector* outputVector)
{
  vtkInformation* outInfo = outputVector->GetInformationObject(0);
  outInfo->Set(CAN_HANDLE_PIECE_REQUEST(), 1);

  Internals& internal = *this->Internal;
  if (this->FileName.empty())
  {
    vtkErrorMacro(
      "No dataset chosen: set FileName to an IDX, CIFAR, HDF5 file or an image folder.");
    internal.Valid = false;
    return 0;
  }
  const long long mtime = fileModificationTime(this->FileName);
  if (internal.Valid && internal.ProbedFile == this->FileName && internal.ProbedMTime == mtime)
  {
    return 1;
  }
  internal.Valid = false;
  try
  {
    internal.Info = formats::probeDataset(this->FileName);
  }
  catch (const std::exception& e)
  {
    vtkErrorMacro(<< e.what());
    return 0;
  }

  if (internal.Info.kind == formats::DatasetKind::ImageFolder)
  {
    // Read every header once, to know whether all images share one size.
    internal.UniformSize = true;
    internal.FolderHeight = internal.FolderWidth = internal.FolderChannels = 0;
    const size_t n = internal.Info.files.size();
    bool first = true;
    for (size_t i = 0; i < n; ++i)
    {
      dualembed::DecodedImage geometry;
      std::string error;
      if (!dualembed::readImageFileHeader(internal.Info.files[i], geometry, error))
      {
        continue; // reported (and skipped) when the pixels are read
      }
      if (first)
      {
        internal.FolderHeight = geometry.height;
        internal.FolderWidth = geometry.width;
        internal.FolderChannels = geometry.channels;
        first = false;
      }
      else if (geometry.height != internal.FolderHeight || geometry.width != internal.FolderWidth)
      {
        internal.UniformSize = false;
      }
      else if (geometry.channels != internal.FolderChannels)
      {
        internal.FolderChannels = 3; // mixed gray / colour: store RGB, as PIL's convert("RGB")
      }
    }
    if (first)
    {
      vtkErrorMacro("None of the " << n << " image files under '" << internal.Info.path
                                   << "' could be decoded.");
      return 0;
    }
  }
  internal.ProbedFile = this->FileName;
  internal.ProbedMTime = mtime;
  internal.Valid = true;
  return 1;
}

int vtkImageDatasetReader::RequestData(
  vtkInformation* request, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  return dualembed::emptyOnFailure(this, vtkPolyData::GetData(outputVector, 0),
    [&] { return this->ReadSamples(request, inputVector, outputVector); });
}

int vtkImageDatasetReader::ReadSamples(
  vtkInformation*, vtkInformationVector**, vtkInformationVector* outputVector)
{
  vtkInformation* outInfo = outputVector->GetInformationObject(0);
  vtkPolyData* output = vtkPolyData::GetData(outInfo);
  Internals& internal = *this->Internal;
  if (!internal.Valid)
  {
    return 0; // RequestInformation already reported why
  }
  const formats::DatasetInfo& info = internal.Info;

  // This piece's contiguous share of the (possibly truncated) dataset.
  const vtkIdType total = this->MaxSamples > 0
    ? std::min<vtkIdType>(this->MaxSamples, info.numberOfSamples)
    : static_cast<vtkIdType>(info.numberOfSamples);
  const dualembed::PieceRange range = dualembed::requestedPieceRange(outInfo, total);
  const vtkIdType first = range.first;
  const vtkIdType count = range.count;

  formats::SampleBlock block;
  try
  {
    block = formats::readSamples(info, first, count);
  }
  catch (const std::exception& e)
  {
    vtkErrorMacro(<< e.what());
    return 0;
  }
  this->UpdateProgress(0.2);

  const bool folder = info.kind == formats::DatasetKind::ImageFolder;
  const bool thumbnails = folder && !internal.UniformSize;
  int height = folder ? internal.FolderHeight : info.height;
  int width = folder ? internal.FolderWidth : info.width;
  int channels = folder ? internal.FolderChannels : info.channels;
  if (thumbnails)
  {
    height = width = this->ThumbnailSize;
    channels = 3;
  }
  const vtkIdType pixelsPerImage = static_cast<vtkIdType>(height) * width * channels;
  const std::vector<std::string>& classNames =
    this->ClassNames.empty() ? info.classNames : this->ClassNames;

  // Image folders: decode this piece's files; undecodable ones are skipped.
  std::vector<vtkIdType> kept; // indices into the block of the samples in the output
  if (folder)
  {
    if (!decodeFolderImages(this, block, first, { height, width, channels },
          thumbnails ? this->ThumbnailSize : 0, kept))
    {
      return 0;
    }
  }
  else
  {
    kept.resize(count);
    std::iota(kept.begin(), kept.end(), 0);
  }
  const vtkIdType n = static_cast<vtkIdType>(kept.size());

  vtkNew<vtkPoints> points;
  points->SetDataTypeToFloat();
  points->SetNumberOfPoints(n);
  vtkNew<vtkIntArray> labels;
  labels->SetName("label");
  labels->SetNumberOfValues(n);
  vtkNew<vtkStringArray> labelNames;
  labelNames->SetName("label_str");
  labelNames->SetNumberOfValues(n);
  vtkNew<vtkIdTypeArray>
    sampleIds; // the samples' global ids: selections address them on every rank
  sampleIds->SetName("sample_id");
  sampleIds->SetNumberOfValues(n);
  vtkNew<vtkUnsignedCharArray> image;
  image->SetName("image");
  image->SetNumberOfComponents(static_cast<int>(pixelsPerImage));
  image->SetNumberOfTuples(n);
  std::copy(block.pixels.begin(), block.pixels.begin() + n * pixelsPerImage, image->GetPointer(0));
  block.pixels = std::vector<std::uint8_t>(); // free the copy early: datasets can be large

  vtkNew<vtkStringArray> fileNames;
  fileNames->SetName("file_name");
  vtkNew<vtkIntArray> coarseLabels;
  coarseLabels->SetName("coarse_label");
  vtkNew<vtkStringArray> coarseLabelNames;
  coarseLabelNames->SetName("coarse_label_str");
  const bool coarse = !block.coarseLabels.empty();

  std::string scratch;
  for (vtkIdType j = 0; j < n; ++j)
  {
    const vtkIdType i = kept[j];
    const vtkIdType sampleId = first + i;
    double point[3];
    dualembed::gridPosition(sampleId, total, point);
    points->SetPoint(j, point);
    labels->SetValue(j, block.labels[i]);
    labelNames->SetValue(j, className(classNames, block.labels[i], scratch));
    sampleIds->SetValue(j, sampleId);
    if (folder)
    {
      fileNames->InsertNextValue(block.files[i]);
    }
    if (coarse)
    {
      coarseLabels->InsertNextValue(block.coarseLabels[i]);
      coarseLabelNames->InsertNextValue(
        className(info.coarseClassNames, block.coarseLabels[i], scratch));
    }
  }

  output->SetPoints(points);
  output->SetVerts(oneVertexPerPoint(n));

  vtkPointData* pd = output->GetPointData();
  pd->AddArray(labels);
  pd->AddArray(labelNames);
  pd->SetGlobalIds(sampleIds);
  pd->AddArray(image);
  if (folder)
  {
    pd->AddArray(fileNames);
  }
  if (coarse)
  {
    pd->AddArray(coarseLabels);
    pd->AddArray(coarseLabelNames);
  }
  pd->SetActiveScalars("label");

  addDatasetFields(output->GetFieldData(), { height, width, channels }, classNames, info, total);

  this->UpdateProgress(1.0);
  return 1;
}

void vtkImageDatasetReader::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "FileName: " << this->FileName << "\n";
  os << indent << "MaxSamples: " << this->MaxSamples << "\n";
  os << indent << "ThumbnailSize: " << this->ThumbnailSize << "\n";
  os << indent << "ClassNames: " << this->ClassNames.size() << "\n";
}
