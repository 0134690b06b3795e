#include "ImageDataset.h"

#include "CifarFormat.h"
#include "FormatUtil.h"
#include "Hdf5ImageFormat.h"
#include "HuggingFaceFormat.h"
#include "IdxFormat.h"
#include "ImageFolderFormat.h"

#include <filesystem>
#include <new>
#include <system_error>

namespace dualembed
{
namespace formats
{

namespace
{

namespace fs = std::filesystem;
using namespace detail;

const char* const SupportedFormats =
  "MNIST/Fashion-MNIST IDX images (*-images-idx3-ubyte, optionally .gz, with the labels file "
  "beside it), CIFAR-10 binary batches (data_batch_N.bin, test_batch.bin), CIFAR-100 binary "
  "files (train.bin, test.bin), HDF5 files (.h5, .hdf5, .hdf) with 'images' and 'labels' "
  "datasets, image folders (<root>/<class>/<image>, open the root folder or any image in "
  "it), and Hugging Face datasets: Parquet files (.parquet, or a folder of them), Arrow files "
  "of the datasets cache (.arrow) and save_to_disk folders";

/// Runs `body`, turning any exception other than FormatError into a FormatError about `path`.
template <typename Body>
auto guarded(const std::string& path, const char* action, Body&& body) -> decltype(body())
{
  try
  {
    return body();
  }
  catch (const FormatError&)
  {
    throw;
  }
  catch (const std::bad_alloc&)
  {
    throw FormatError(std::string("There is not enough memory for ") + action + " " + quoted(path) +
      "; read fewer samples at a time.");
  }
  catch (const std::exception& error)
  {
    throw FormatError(std::string("An unexpected error occurred while ") + action + " " +
      quoted(path) + ": " + error.what() + ".");
  }
}

DatasetInfo probe(const std::string& pathText, const DatasetOptions& options)
{
  if (pathText.empty())
  {
    fail("No dataset file name was given; choose a file or image folder to open.");
  }
  const fs::path path = pathText;
  std::error_code error;
  const auto status = fs::status(path, error);
  if (!fs::exists(status))
  {
    fail("The dataset path " + quoted(pathText) + " does not exist.");
  }
  if (fs::is_directory(status))
  {
    return isHuggingFaceFolder(path) ? probeHuggingFace(path, options) : probeImageFolder(path);
  }
  if (!fs::is_regular_file(status))
  {
    fail("The dataset path " + quoted(pathText) + " is neither a file nor a folder.");
  }

  const auto fileName = path.filename().string();
  if (isHuggingFaceFileName(fileName))
  {
    return probeHuggingFace(path, options);
  }
  if (isHdf5FileName(fileName))
  {
    return probeHdf5(path);
  }
  if (isIdxImagesFileName(fileName))
  {
    return probeIdx(path);
  }
  if (isIdxLabelsFileName(fileName))
  {
    fail("The file " + quoted(pathText) + " is an IDX labels file; open the images file " +
      "beside it (*-images-idx3-ubyte) instead, which finds its labels by itself.");
  }
  if (isCifar10FileName(fileName))
  {
    return probeCifar(path, DatasetKind::Cifar10);
  }
  if (isCifar100FileName(fileName))
  {
    return probeCifar(path, DatasetKind::Cifar100);
  }
  if (isImageFileName(fileName))
  {
    return probeImageFolder(path);
  }
  fail("The file " + quoted(pathText) + " is not in a supported dataset format (recognised " +
    "by its name). Supported are " + SupportedFormats + ".");
}

} // namespace

const char* datasetKindName(DatasetKind kind)
{
  switch (kind)
  {
    case DatasetKind::Idx:
      return "IDX";
    case DatasetKind::Cifar10:
      return "CIFAR-10";
    case DatasetKind::Cifar100:
      return "CIFAR-100";
    case DatasetKind::ImageFolder:
      return "image folder";
    case DatasetKind::Hdf5:
      return "HDF5";
    case DatasetKind::Parquet:
      return "Hugging Face Parquet";
    case DatasetKind::Arrow:
      return "Hugging Face Arrow";
  }
  return "unknown";
}

bool isNamedLikeDataset(const std::string& path)
{
  const std::string name = fs::path(path).filename().string();
  std::error_code error;
  if (!fs::is_regular_file(path, error))
  {
    return false;
  }
  if (isIdxImagesFileName(name) || isIdxLabelsFileName(name) || isCifar10FileName(name) ||
    isCifar100FileName(name) || isImageFileName(name) || isHuggingFaceFileName(name))
  {
    return true;
  }
  // A valid HDF5 file is named like any other (results files, other programs' data).
  return isHdf5FileName(name) && !opensAsHdf5(path);
}

bool isImageFileName(const std::string& fileName)
{
  const auto name = toLower(fs::path(fileName).filename().string());
  for (const char* extension : { ".png", ".jpg", ".jpeg", ".bmp" })
  {
    if (endsWith(name, extension)) // like torchvision: a plain suffix test
    {
      return true;
    }
  }
  return false;
}

DatasetInfo probeDataset(const std::string& path, const DatasetOptions& options)
{
  return guarded(path, "opening", [&] { return probe(path, options); });
}

SampleBlock readSamples(const DatasetInfo& info, std::int64_t first, std::int64_t count)
{
  SampleBlock block;
  readSamples(info, first, count, block);
  return block;
}

void readSamples(
  const DatasetInfo& info, std::int64_t first, std::int64_t count, SampleBlock& block)
{
  guarded(info.path, "reading", [&]() {
    if (first < 0 || count < 0 || first > info.numberOfSamples ||
      count > info.numberOfSamples - first)
    {
      fail("Cannot read " + std::to_string(count) + " samples starting at sample " +
        std::to_string(first) + " of " + quoted(info.path) + ": it has " +
        std::to_string(info.numberOfSamples) + " samples, numbered 0 to " +
        std::to_string(info.numberOfSamples - 1) + ".");
    }
    switch (info.kind)
    {
      case DatasetKind::Idx:
        block = readIdx(info, first, count);
        return;
      case DatasetKind::Cifar10:
      case DatasetKind::Cifar100:
        block = readCifar(info, first, count);
        return;
      case DatasetKind::ImageFolder:
        block = readImageFolder(info, first, count);
        return;
      case DatasetKind::Hdf5:
        block = readHdf5(info, first, count);
        return;
      case DatasetKind::Parquet:
      case DatasetKind::Arrow:
        readHuggingFace(info, first, count, block); // reuses the block's memory
        return;
    }
    fail("The dataset " + quoted(info.path) + " has an unknown kind; open it again.");
  });
}

std::vector<std::int64_t> readBoundaries(const DatasetInfo& info)
{
  return guarded(info.path, "reading", [&]() -> std::vector<std::int64_t> {
    if (info.kind == DatasetKind::Parquet || info.kind == DatasetKind::Arrow)
    {
      return tableChunkStarts(info);
    }
    return { 0, info.numberOfSamples };
  });
}

} // namespace formats
} // namespace dualembed
