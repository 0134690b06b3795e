#include "CifarFormat.h"

#include "FormatUtil.h"

#include <algorithm>
#include <cctype>
#include <fstream>

namespace dualembed
{
namespace formats
{
namespace detail
{
namespace
{

constexpr int Side = 32;
constexpr int Channels = 3;
constexpr std::int64_t PixelBytes = Side * Side * Channels; // 3072

std::int64_t labelBytes(DatasetKind kind)
{
  return kind == DatasetKind::Cifar100 ? 2 : 1;
}

std::string formatName(DatasetKind kind)
{
  return kind == DatasetKind::Cifar100 ? "CIFAR-100" : "CIFAR-10";
}

std::vector<std::string> namesBeside(
  const std::filesystem::path& path, const char* fileName, std::int64_t defaultCount)
{
  const auto namesFile = path.parent_path() / fileName;
  return isFile(namesFile) ? readNameList(namesFile) : numberedNames(defaultCount);
}

/// Throws unless every label is below the number of class names.
void checkLabel(DatasetKind kind, const std::filesystem::path& path, std::int64_t record, int label,
  std::size_t classCount, const char* which)
{
  if (label >= static_cast<int>(classCount))
  {
    fail("The " + formatName(kind) + " file " + quoted(path) + " has the " + which + "label " +
      std::to_string(label) + " in record " + std::to_string(record) + ", but there are only " +
      std::to_string(classCount) + " " + which +
      "classes. The file is damaged, or the class-name file beside it is incomplete.");
  }
}

} // namespace

bool isCifar10FileName(const std::string& fileName)
{
  const auto name = toLower(fileName);
  if (name == "test_batch.bin")
  {
    return true;
  }
  const std::string prefix = "data_batch_";
  if (name.size() <= prefix.size() + 4 || name.compare(0, prefix.size(), prefix) != 0 ||
    !endsWith(name, ".bin"))
  {
    return false;
  }
  const auto digits = name.substr(prefix.size(), name.size() - prefix.size() - 4);
  return std::all_of(
    digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

bool isCifar100FileName(const std::string& fileName)
{
  const auto name = toLower(fileName);
  return name == "train.bin" || name == "test.bin";
}

DatasetInfo probeCifar(const std::filesystem::path& path, DatasetKind kind)
{
  DatasetInfo info;
  info.kind = kind;
  info.path = path.string();
  info.height = Side;
  info.width = Side;
  info.channels = Channels;

  const auto recordSize = labelBytes(kind) + PixelBytes;
  const auto size = fileSize(path);
  if (size == 0 || size % recordSize != 0)
  {
    fail("The " + formatName(kind) + " file " + quoted(path) + " is truncated or damaged: its " +
      "size (" + bytesText(size) + ") is not a positive multiple of the record size (" +
      bytesText(recordSize) + "). Download it again.");
  }
  info.numberOfSamples = size / recordSize;

  if (kind == DatasetKind::Cifar100)
  {
    info.classNames = namesBeside(path, "fine_label_names.txt", 100);
    info.coarseClassNames = namesBeside(path, "coarse_label_names.txt", 20);
  }
  else
  {
    info.classNames = namesBeside(path, "batches.meta.txt", 10);
  }

  // Check every label: read only the label bytes of each record.
  // Unbuffered: each record costs one small read, not a buffer refill.
  std::ifstream stream;
  stream.rdbuf()->pubsetbuf(nullptr, 0);
  stream.open(path, std::ios::binary);
  if (!stream)
  {
    fail("The " + formatName(kind) + " file " + quoted(path) + " cannot be opened for reading.");
  }
  char labels[2] = { 0, 0 };
  for (std::int64_t record = 0; record < info.numberOfSamples; ++record)
  {
    stream.seekg(static_cast<std::streamoff>(record * recordSize));
    if (!stream.read(labels, labelBytes(kind)))
    {
      fail("The " + formatName(kind) + " file " + quoted(path) + " could not be read at record " +
        std::to_string(record) + ".");
    }
    if (kind == DatasetKind::Cifar100)
    {
      checkLabel(kind, path, record, static_cast<unsigned char>(labels[0]),
        info.coarseClassNames.size(), "coarse ");
      checkLabel(
        kind, path, record, static_cast<unsigned char>(labels[1]), info.classNames.size(), "fine ");
    }
    else
    {
      checkLabel(
        kind, path, record, static_cast<unsigned char>(labels[0]), info.classNames.size(), "");
    }
  }
  return info;
}

SampleBlock readCifar(const DatasetInfo& info, std::int64_t first, std::int64_t count)
{
  SampleBlock block;
  block.first = first;
  block.count = count;
  if (count == 0)
  {
    return block;
  }
  const std::filesystem::path path = info.path;
  const auto kind = info.kind;
  const auto headerBytes = labelBytes(kind);
  const auto recordSize = headerBytes + PixelBytes;

  std::vector<std::uint8_t> records(static_cast<std::size_t>(count * recordSize));
  readFileBytes(path, first * recordSize, count * recordSize, records.data());

  block.pixels.resize(static_cast<std::size_t>(count * PixelBytes));
  block.labels.resize(static_cast<std::size_t>(count));
  if (kind == DatasetKind::Cifar100)
  {
    block.coarseLabels.resize(static_cast<std::size_t>(count));
  }
  constexpr int Plane = Side * Side;
  for (std::int64_t i = 0; i < count; ++i)
  {
    const std::uint8_t* record = records.data() + i * recordSize;
    if (kind == DatasetKind::Cifar100)
    {
      block.coarseLabels[i] = record[0];
      block.labels[i] = record[1];
      if (!info.coarseClassNames.empty())
      {
        checkLabel(kind, path, first + i, record[0], info.coarseClassNames.size(), "coarse ");
      }
      if (!info.classNames.empty())
      {
        checkLabel(kind, path, first + i, record[1], info.classNames.size(), "fine ");
      }
    }
    else
    {
      block.labels[i] = record[0];
      if (!info.classNames.empty())
      {
        checkLabel(kind, path, first + i, record[0], info.classNames.size(), "");
      }
    }
    const std::uint8_t* planes = record + headerBytes;
    std::uint8_t* out = block.pixels.data() + i * PixelBytes;
    for (int p = 0; p < Plane; ++p)
    {
      for (int c = 0; c < Channels; ++c)
      {
        out[p * Channels + c] = planes[c * Plane + p];
      }
    }
  }
  return block;
}

} // namespace detail
} // namespace formats
} // namespace dualembed
