#include "vtkImageDatasetReader.h"

#include "EmptyOnFailure.h"
#include "ImageDataset.h"
#include "ImageFileDecoder.h"
#include "PieceRange.h"
#include "ValueRanges.h"
#include "vtkSampleArrays.h"

#include "vtkCellArray.h"
#include "vtkDoubleArray.h"
#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkIdTypeArray.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkIntArray.h"
#include "vtkNew.h"
#include "vtkObjectFactory.h"
#include "vtkOutputWindow.h"
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
  // The probed dataset, kept until FileName, the options or the file itself change.
  formats::DatasetInfo Info;
  std::string ProbedKey;
  long long ProbedMTime = -1;
  bool Valid = false;

  // Datasets of encoded images (image folders, tables): the geometry found in
  // the headers of all images, and where reads are cheapest to split.
  bool UniformSize = true;
  int ImageHeight = 0;
  int ImageWidth = 0;
  int ImageChannels = 0;
  std::vector<std::int64_t> Boundaries;
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

/// True for datasets whose images are encoded files or bytes, decoded here.
bool decodesImages(const formats::DatasetInfo& info)
{
  return info.kind == formats::DatasetKind::ImageFolder || !info.table.imageColumn.empty();
}

/// Decodes (or only reads the header of) sample i of a block: its encoded bytes
/// (tables) or its file (image folders, tables of image paths).
bool decodeSample(const formats::SampleBlock& block, size_t i, const std::string& where,
  bool headerOnly, dualembed::DecodedImage& image, std::string& error)
{
  if (!block.encodedOffsets.empty() && block.encodedOffsets[i + 1] > block.encodedOffsets[i])
  {
    return dualembed::decodeImageBytes(block.encodedImages.data() + block.encodedOffsets[i],
      static_cast<size_t>(block.encodedOffsets[i + 1] - block.encodedOffsets[i]),
      "the image of sample " + std::to_string(block.first + i) + " in '" + where + "'", image,
      headerOnly, error);
  }
  if (i < block.files.size() && !block.files[i].empty())
  {
    return headerOnly ? dualembed::readImageFileHeader(block.files[i], image, error)
                      : dualembed::decodeImageFile(block.files[i], image, error);
  }
  error = "it has no image (the image is null in '" + where + "')";
  return false;
}

/// Decodes the images of a block and appends their pixels to `pixels` (`shape`:
/// the dataset's size and channel count, gray replicated and alpha dropped as
/// PIL's convert("RGB"); `thumbnailSize` > 0: thumbnails of that size, for
/// datasets of mixed sizes). An image that cannot be decoded is skipped with a
/// warning; `kept` gets `offset` + the index of each sample decoded. Progress
/// runs over [progressFrom, progressTo]. False when the user aborted.
bool decodeImages(vtkAlgorithm* reader, const formats::SampleBlock& block, const std::string& where,
  const ImageShape& shape, int thumbnailSize, std::vector<std::uint8_t>& pixels,
  std::vector<vtkIdType>& kept, vtkIdType offset, double progressFrom, double progressTo)
{
  const vtkIdType count = block.count;
  const vtkIdType progressStep = std::max<vtkIdType>(1, count / 50);
  for (vtkIdType i = 0; i < count; ++i)
  {
    if (i % progressStep == 0)
    {
      reader->UpdateProgress(progressFrom + (progressTo - progressFrom) * i / count);
      if (reader->GetAbortExecute())
      {
        vtkWarningWithObjectMacro(reader, "Reading aborted: the output is empty.");
        return false;
      }
    }
    dualembed::DecodedImage decoded;
    std::string error;
    if (!decodeSample(block, i, where, false, decoded, error))
    {
      vtkWarningWithObjectMacro(
        reader, "Skipping sample " << block.first + i << ": " << error << ".");
      continue;
    }
    if (thumbnailSize > 0)
    {
      const auto thumbnail = dualembed::makeThumbnail(decoded, thumbnailSize);
      pixels.insert(pixels.end(), thumbnail.begin(), thumbnail.end());
    }
    else if (decoded.height != shape.height || decoded.width != shape.width)
    {
      vtkWarningWithObjectMacro(reader,
        "Skipping sample " << block.first + i << ": its image "
                           << "changed size since the dataset was opened; open it again.");
      continue;
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
    kept.push_back(offset + i);
  }
  return true;
}

/// Appends the samples of `part` to `block` (labels, files, table columns; not pixels).
void appendBlock(formats::SampleBlock& block, formats::SampleBlock&& part)
{
  auto append = [](auto& to, auto& from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  };
  block.count += part.count;
  append(block.labels, part.labels);
  append(block.coarseLabels, part.coarseLabels);
  append(block.files, part.files);
  block.columns.resize(part.columns.size());
  for (size_t c = 0; c < part.columns.size(); ++c)
  {
    append(block.columns[c].integers, part.columns[c].integers);
    append(block.columns[c].reals, part.columns[c].reals);
    append(block.columns[c].strings, part.columns[c].strings);
  }
}

/// One point-data array per table column (embeddings as float vectors).
void addTableColumns(vtkPointData* pd, const formats::DatasetInfo& info,
  const formats::SampleBlock& block, const std::vector<vtkIdType>& kept)
{
  const vtkIdType n = static_cast<vtkIdType>(kept.size());
  for (size_t c = 0; c < info.table.columns.size(); ++c)
  {
    const formats::TableColumn& column = info.table.columns[c];
    const auto& values = block.columns[c];
    vtkSmartPointer<vtkAbstractArray> array;
    switch (column.kind)
    {
      case formats::TableColumn::Kind::Integer:
      {
        auto integers = vtkSmartPointer<vtkTypeInt64Array>::New();
        integers->SetNumberOfValues(n);
        for (vtkIdType j = 0; j < n; ++j)
        {
          integers->SetValue(j, values.integers[kept[j]]);
        }
        array = integers;
        break;
      }
      case formats::TableColumn::Kind::String:
      {
        auto strings = vtkSmartPointer<vtkStringArray>::New();
        strings->SetNumberOfValues(n);
        for (vtkIdType j = 0; j < n; ++j)
        {
          strings->SetValue(j, values.strings[kept[j]]);
        }
        array = strings;
        break;
      }
      case formats::TableColumn::Kind::Real:
      case formats::TableColumn::Kind::Vector:
      {
        const int components = column.components;
        auto reals = column.kind == formats::TableColumn::Kind::Real
          ? vtkSmartPointer<vtkDataArray>(vtkSmartPointer<vtkDoubleArray>::New())
          : vtkSmartPointer<vtkDataArray>(vtkSmartPointer<vtkFloatArray>::New());
        reals->SetNumberOfComponents(components);
        reals->SetNumberOfTuples(n);
        for (vtkIdType j = 0; j < n; ++j)
        {
          for (int k = 0; k < components; ++k)
          {
            reals->SetComponent(j, k, values.reals[kept[j] * components + k]);
          }
        }
        array = reals;
        break;
      }
    }
    array->SetName(column.arrayName.c_str());
    if (column.kind == formats::TableColumn::Kind::Vector)
    {
      vtkSampleArrays::MarkEmbedding(array); // the embedding filters' defaults take it
    }
    pd->AddArray(array);
  }
}

/// Reads samples [first, first + count), decoding encoded images into
/// block.pixels; `kept` lists the samples decoded. False when aborted.
bool readBlock(vtkAlgorithm* reader, const formats::DatasetInfo& info,
  const std::vector<std::int64_t>& boundaries, vtkIdType first, vtkIdType count,
  const ImageShape& shape, int thumbnailSize, formats::SampleBlock& block,
  std::vector<vtkIdType>& kept)
{
  if (!decodesImages(info))
  {
    block = formats::readSamples(info, first, count);
    kept.resize(count);
    std::iota(kept.begin(), kept.end(), 0);
    return true;
  }
  // Chunk by chunk (one table row group at a time): only one chunk's encoded
  // images are in memory beside the decoded pixels.
  block.first = first;
  std::vector<std::uint8_t> pixels;
  pixels.reserve(static_cast<size_t>(count) * shape.height * shape.width * shape.channels);
  const vtkIdType end = first + count;
  formats::SampleBlock part;
  for (size_t b = 0; b + 1 < boundaries.size(); ++b)
  {
    const vtkIdType from = std::max<vtkIdType>(first, boundaries[b]);
    const vtkIdType to = std::min<vtkIdType>(end, boundaries[b + 1]);
    if (from >= to)
    {
      continue;
    }
    formats::readSamples(info, from, to - from, part); // reuses part's memory
    const double progress = 0.1 + 0.85 * (from - first) / std::max<vtkIdType>(1, count);
    if (!decodeImages(reader, part, info.path, shape, thumbnailSize, pixels, kept, block.count,
          progress, progress + 0.85 * (to - from) / std::max<vtkIdType>(1, count)))
    {
      return false;
    }
    appendBlock(block, std::move(part));
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

/// The pixels of n images as the `image` array (H·W·C components).
vtkSmartPointer<vtkUnsignedCharArray> imageArray(
  const std::vector<std::uint8_t>& pixels, vtkIdType n, const ImageShape& shape)
{
  const vtkIdType pixelsPerImage =
    static_cast<vtkIdType>(shape.height) * shape.width * shape.channels;
  auto image = vtkSmartPointer<vtkUnsignedCharArray>::New();
  image->SetName("image");
  image->SetNumberOfComponents(static_cast<int>(pixelsPerImage));
  image->SetNumberOfTuples(n);
  std::copy(pixels.begin(), pixels.begin() + n * pixelsPerImage, image->GetPointer(0));
  return image;
}

/// The samples `kept` of a block as points on the grid, with their labels, class
/// names, global ids and (where present) file names and coarse labels.
void addSamples(vtkPolyData* output, const formats::SampleBlock& block,
  const std::vector<vtkIdType>& kept, vtkIdType first, vtkIdType total,
  const std::vector<std::string>& classNames, const std::vector<std::string>& coarseClassNames)
{
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
  vtkNew<vtkIdTypeArray> sampleIds; // global ids: selections address them on every rank
  sampleIds->SetName("sample_id");
  sampleIds->SetNumberOfValues(n);
  vtkNew<vtkStringArray> fileNames;
  fileNames->SetName("file_name");
  vtkNew<vtkIntArray> coarseLabels;
  coarseLabels->SetName("coarse_label");
  vtkNew<vtkStringArray> coarseLabelNames;
  coarseLabelNames->SetName("coarse_label_str");
  const bool coarse = !block.coarseLabels.empty();
  // File names are kept where the images are files: image folders, tables of paths.
  const bool files = std::any_of(
    block.files.begin(), block.files.end(), [](const std::string& f) { return !f.empty(); });

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
    if (files)
    {
      fileNames->InsertNextValue(block.files[i]);
    }
    if (coarse)
    {
      coarseLabels->InsertNextValue(block.coarseLabels[i]);
      coarseLabelNames->InsertNextValue(
        className(coarseClassNames, block.coarseLabels[i], scratch));
    }
  }

  output->SetPoints(points);
  output->SetVerts(oneVertexPerPoint(n));
  vtkPointData* pd = output->GetPointData();
  pd->AddArray(labels);
  pd->AddArray(labelNames);
  pd->SetGlobalIds(sampleIds);
  if (files)
  {
    pd->AddArray(fileNames);
  }
  if (coarse)
  {
    pd->AddArray(coarseLabels);
    pd->AddArray(coarseLabelNames);
  }
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
    vtkErrorMacro("No dataset chosen: set FileName to an IDX, CIFAR, HDF5, Parquet or Arrow "
                  "file, or an image folder.");
    internal.Valid = false;
    return 0;
  }
  const formats::DatasetOptions options{ this->Split, this->ImageColumn, this->LabelColumn };
  // MaxSamples bounds the header scan of encoded images: a change scans again.
  const std::string key = this->FileName + '\n' + options.split + '\n' + options.imageColumn +
    '\n' + options.labelColumn + '\n' + std::to_string(this->MaxSamples);
  const long long mtime = fileModificationTime(this->FileName);
  if (internal.Valid && internal.ProbedKey == key && internal.ProbedMTime == mtime)
  {
    return 1;
  }
  internal.Valid = false;
  try
  {
    internal.Info = formats::probeDataset(this->FileName, options);
    internal.Boundaries = formats::readBoundaries(internal.Info);
    if (decodesImages(internal.Info) && !this->ScanImageGeometry())
    {
      return 0;
    }
  }
  catch (const std::exception& e)
  {
    vtkErrorMacro(<< e.what());
    return 0;
  }
  const formats::TableLayout& table = internal.Info.table;
  if (!table.shards.empty())
  {
    std::string text = "Reading split '" + table.split + "' (" +
      std::to_string(internal.Info.numberOfSamples) + " samples in " +
      std::to_string(table.shards.size()) + " file(s)) of '" + internal.Info.path + "'";
    text += table.splits.size() > 1 ? "; set Split to read another.\n" : ".\n";
    for (const auto& note : table.notes)
    {
      text += note + "\n";
    }
    vtkOutputWindow::GetInstance()->DisplayText(text.c_str());
  }
  internal.ProbedKey = key;
  internal.ProbedMTime = mtime;
  internal.Valid = true;
  return 1;
}

bool vtkImageDatasetReader::ScanImageGeometry()
{
  // Read every image header once, to know whether all images share one size.
  // Every MPI rank reads them all (no decoding): the ranks must agree on the
  // output's image shape before any of them reads its piece.
  Internals& internal = *this->Internal;
  const formats::DatasetInfo& info = internal.Info;
  internal.UniformSize = true;
  internal.ImageHeight = internal.ImageWidth = internal.ImageChannels = 0;
  bool first = true;
  // Only the samples the output can hold: the first MaxSamples.
  const std::int64_t limit = this->MaxSamples > 0
    ? std::min<std::int64_t>(this->MaxSamples, info.numberOfSamples)
    : info.numberOfSamples;
  formats::SampleBlock block; // one block for every chunk: its memory is reused
  for (size_t b = 0; b + 1 < internal.Boundaries.size() && internal.Boundaries[b] < limit; ++b)
  {
    const std::int64_t end = std::min<std::int64_t>(limit, internal.Boundaries[b + 1]);
    formats::readSamples(info, internal.Boundaries[b], end - internal.Boundaries[b], block);
    for (size_t i = 0; i < static_cast<size_t>(block.count); ++i)
    {
      dualembed::DecodedImage geometry;
      std::string error;
      if (!decodeSample(block, i, info.path, true, geometry, error))
      {
        continue; // reported (and skipped) when the pixels are read
      }
      if (first)
      {
        internal.ImageHeight = geometry.height;
        internal.ImageWidth = geometry.width;
        internal.ImageChannels = geometry.channels;
        first = false;
      }
      else if (geometry.height != internal.ImageHeight || geometry.width != internal.ImageWidth)
      {
        internal.UniformSize = false;
      }
      else if (geometry.channels != internal.ImageChannels)
      {
        internal.ImageChannels = 3; // mixed gray / colour: store RGB, as PIL's convert("RGB")
      }
    }
  }
  if (first)
  {
    vtkErrorMacro("None of the " << info.numberOfSamples << " images of '" << info.path
                                 << "' could be decoded.");
    return false;
  }
  return true;
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

  const bool decoded = decodesImages(info);
  const bool thumbnails = decoded && !internal.UniformSize;
  ImageShape shape = decoded
    ? ImageShape{ internal.ImageHeight, internal.ImageWidth, internal.ImageChannels }
    : ImageShape{ info.height, info.width, info.channels };
  if (thumbnails)
  {
    shape = { this->ThumbnailSize, this->ThumbnailSize, 3 };
  }
  formats::SampleBlock block;
  std::vector<vtkIdType> kept; // indices into the block of the samples in the output
  try
  {
    if (!readBlock(this, info, internal.Boundaries, first, range.count, shape,
          thumbnails ? this->ThumbnailSize : 0, block, kept))
    {
      return 0;
    }
  }
  catch (const std::exception& e)
  {
    vtkErrorMacro(<< e.what());
    return 0;
  }
  const vtkIdType n = static_cast<vtkIdType>(kept.size());
  const std::vector<std::string>& classNames =
    this->ClassNames.empty() ? info.classNames : this->ClassNames;

  addSamples(output, block, kept, first, total, classNames, info.coarseClassNames);
  vtkPointData* pd = output->GetPointData();
  if (shape.height > 0)
  {
    pd->AddArray(imageArray(block.pixels, n, shape));
    block.pixels = std::vector<std::uint8_t>(); // free the copy early: datasets can be large
  }
  addTableColumns(pd, info, block, kept);
  for (int i = 0; i < pd->GetNumberOfArrays(); ++i)
  {
    dualembed::cacheValueRanges(pd->GetArray(i)); // what ParaView's data information asks
  }
  pd->SetActiveScalars("label");

  addDatasetFields(output->GetFieldData(), shape, classNames, info, total);

  this->UpdateProgress(1.0);
  return 1;
}

void vtkImageDatasetReader::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "FileName: " << this->FileName << "\n";
  os << indent << "MaxSamples: " << this->MaxSamples << "\n";
  os << indent << "ThumbnailSize: " << this->ThumbnailSize << "\n";
  os << indent << "Split: " << this->Split << "\n";
  os << indent << "ImageColumn: " << this->ImageColumn << "\n";
  os << indent << "LabelColumn: " << this->LabelColumn << "\n";
  os << indent << "ClassNames: " << this->ClassNames.size() << "\n";
}
