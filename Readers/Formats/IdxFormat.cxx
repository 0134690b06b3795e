#include "IdxFormat.h"

#include "FormatUtil.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <climits>
#include <fstream>

namespace dualembed
{
namespace formats
{
namespace detail
{
namespace
{

constexpr std::uint32_t ImagesMagic = 0x00000803; // unsigned bytes, 3 dimensions
constexpr std::uint32_t LabelsMagic = 0x00000801; // unsigned bytes, 1 dimension
constexpr std::int64_t ImagesHeaderSize = 16;
constexpr std::int64_t LabelsHeaderSize = 8;
constexpr std::uint32_t MaxImageSide = 1u << 16;
// Deflate expands at most 1032-fold (RFC 1951 block limits): a bound on the
// uncompressed size of a .gz file that does not trust its header or trailer.
constexpr std::int64_t MaxDeflateRatio = 1032;

std::string hex32(std::uint32_t value)
{
  char text[16];
  std::snprintf(text, sizeof(text), "0x%08X", value);
  return text;
}

std::uint32_t bigEndian32(const std::uint8_t* bytes)
{
  return (std::uint32_t(bytes[0]) << 24) | (std::uint32_t(bytes[1]) << 16) |
    (std::uint32_t(bytes[2]) << 8) | std::uint32_t(bytes[3]);
}

/// A file read through zlib: gzip-compressed or plain (zlib reads plain files directly).
class GzFile
{
public:
  explicit GzFile(const std::filesystem::path& path)
    : Path(path)
  {
    this->File = gzopen(path.c_str(), "rb");
    if (!this->File)
    {
      fail("The IDX file " + quoted(path) + " cannot be opened for reading.");
    }
    gzbuffer(this->File, 1 << 18);
  }
  ~GzFile() { gzclose(this->File); }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  /// Reads up to `size` bytes; fewer only at the end of the data.
  std::int64_t read(std::uint8_t* buffer, std::int64_t size)
  {
    std::int64_t done = 0;
    while (done < size)
    {
      const auto chunk = static_cast<unsigned>(std::min<std::int64_t>(size - done, 1 << 30));
      const int got = gzread(this->File, buffer + done, chunk);
      if (got < 0)
      {
        this->throwDamaged();
      }
      if (got == 0)
      {
        break;
      }
      done += got;
    }
    this->checkStream();
    return done;
  }

  /// Skips `size` bytes (decompressing them for gzip files); returns how many were skipped.
  std::int64_t skip(std::int64_t size)
  {
    if (size <= 0)
    {
      return 0;
    }
    if (gzdirect(this->File))
    {
      const auto position = gztell(this->File);
      const auto total = fileSize(this->Path);
      const auto skipped =
        std::min<std::int64_t>(size, std::max<std::int64_t>(total - position, 0));
      if (gzseek(this->File, static_cast<z_off_t>(skipped), SEEK_CUR) < 0)
      {
        this->throwDamaged();
      }
      return skipped;
    }
    std::vector<std::uint8_t> scratch(1 << 18);
    std::int64_t done = 0;
    while (done < size)
    {
      const auto want =
        std::min<std::int64_t>(size - done, static_cast<std::int64_t>(scratch.size()));
      const auto got = this->read(scratch.data(), want);
      done += got;
      if (got < want)
      {
        break;
      }
    }
    return done;
  }

  /// Bytes left from the current position to the end of the (uncompressed) data.
  std::int64_t remaining()
  {
    if (gzdirect(this->File))
    {
      return std::max<std::int64_t>(fileSize(this->Path) - gztell(this->File), 0);
    }
    return this->skip(LLONG_MAX);
  }

  /// The most data (header included) the file can hold: its size when plain;
  /// for gzip, deflate's largest ratio (1032:1) times its size.
  std::int64_t maxDataSize()
  {
    const auto size = fileSize(this->Path);
    return gzdirect(this->File) ? size : size * MaxDeflateRatio;
  }

  /// True when the data (header included) is `size` bytes long, checked without
  /// decompressing: a gzip file records its uncompressed size modulo 2^32 in its
  /// last four bytes (ISIZE); a truncated or damaged file fails the check. The
  /// trailer is written by whoever made the file, so a size that the compressed
  /// bytes cannot hold is never taken from it.
  bool hasTotalSize(std::int64_t size)
  {
    if (gzdirect(this->File))
    {
      return fileSize(this->Path) == size;
    }
    if (size > this->maxDataSize())
    {
      return false;
    }
    std::ifstream in(this->Path, std::ios::binary | std::ios::ate);
    std::uint8_t trailer[4];
    if (!in || in.tellg() < 18 || !in.seekg(-4, std::ios::end) ||
      !in.read(reinterpret_cast<char*>(trailer), 4))
    {
      return false;
    }
    const std::uint32_t isize = std::uint32_t(trailer[0]) | (std::uint32_t(trailer[1]) << 8) |
      (std::uint32_t(trailer[2]) << 16) | (std::uint32_t(trailer[3]) << 24);
    return isize == static_cast<std::uint32_t>(size);
  }

  /// True when the gzip stream ended early (a truncated .gz file).
  bool endedEarly() const
  {
    int code = Z_OK;
    gzerror(this->File, &code);
    return code == Z_BUF_ERROR;
  }

private:
  void checkStream()
  {
    int code = Z_OK;
    const char* message = gzerror(this->File, &code);
    if (code != Z_OK && code != Z_BUF_ERROR)
    {
      fail("The IDX file " + quoted(this->Path) + " is damaged: zlib reports \"" +
        (message ? message : "unknown error") + "\". Download it again.");
    }
  }
  [[noreturn]] void throwDamaged()
  {
    this->checkStream();
    fail("The IDX file " + quoted(this->Path) + " cannot be read. Download it again.");
  }

  std::filesystem::path Path;
  gzFile File = nullptr;
};

std::string truncationHint(const GzFile& file)
{
  return file.endedEarly() ? " (the gzip stream ends early)" : "";
}

struct ImagesHeader
{
  std::int64_t count = 0;
  int rows = 0;
  int columns = 0;
};

ImagesHeader readImagesHeader(GzFile& file, const std::filesystem::path& path)
{
  std::array<std::uint8_t, ImagesHeaderSize> bytes{};
  const auto got = file.read(bytes.data(), ImagesHeaderSize);
  if (got < 4)
  {
    fail("The IDX file " + quoted(path) + " is too short (" + bytesText(got) +
      ") to be an IDX images file.");
  }
  const auto magic = bigEndian32(bytes.data());
  if (magic != ImagesMagic)
  {
    std::string hint = magic == LabelsMagic
      ? " It is an IDX labels file; open the images file (*-images-idx3-ubyte) instead."
      : " The file is damaged or is not an IDX images file.";
    fail("The IDX file " + quoted(path) + " has the magic number " + hex32(magic) +
      " where an images file has " + hex32(ImagesMagic) + "." + hint);
  }
  if (got < ImagesHeaderSize)
  {
    fail("The IDX file " + quoted(path) + " is truncated: expected a " +
      std::to_string(ImagesHeaderSize) + "-byte header, found " + bytesText(got) + ".");
  }
  const auto count = bigEndian32(bytes.data() + 4);
  const auto rows = bigEndian32(bytes.data() + 8);
  const auto columns = bigEndian32(bytes.data() + 12);
  if (count == 0)
  {
    fail("The IDX file " + quoted(path) + " holds no images (its header gives 0 images).");
  }
  if (count > static_cast<std::uint32_t>(INT32_MAX))
  {
    fail("The IDX file " + quoted(path) + " announces " + std::to_string(count) +
      " images, more than can be read; its header is damaged.");
  }
  if (rows == 0 || columns == 0 || rows > MaxImageSide || columns > MaxImageSide)
  {
    fail("The IDX file " + quoted(path) + " announces images of " + std::to_string(rows) + "×" +
      std::to_string(columns) + " pixels; each side must be between 1 and " +
      std::to_string(MaxImageSide) + ". Its header is damaged.");
  }
  return { static_cast<std::int64_t>(count), static_cast<int>(rows), static_cast<int>(columns) };
}

std::int64_t readLabelsHeader(GzFile& file, const std::filesystem::path& path)
{
  std::array<std::uint8_t, LabelsHeaderSize> bytes{};
  const auto got = file.read(bytes.data(), LabelsHeaderSize);
  if (got < 4)
  {
    fail("The IDX labels file " + quoted(path) + " is too short (" + bytesText(got) +
      ") to be an IDX labels file.");
  }
  const auto magic = bigEndian32(bytes.data());
  if (magic != LabelsMagic)
  {
    fail("The IDX labels file " + quoted(path) + " has the magic number " + hex32(magic) +
      " where a labels file has " + hex32(LabelsMagic) +
      ". The file is damaged or is not an IDX labels file.");
  }
  if (got < LabelsHeaderSize)
  {
    fail("The IDX labels file " + quoted(path) + " is truncated: expected an " +
      std::to_string(LabelsHeaderSize) + "-byte header, found " + bytesText(got) + ".");
  }
  return bigEndian32(bytes.data() + 4);
}

bool directoryLooksFashion(const std::filesystem::path& imagesPath)
{
  const auto directory = std::filesystem::absolute(imagesPath).lexically_normal().parent_path();
  const auto name = toLower(directory.filename().string());
  if (name.find("fashion") != std::string::npos)
  {
    return true;
  }
  // torchvision keeps the files in <root>/FashionMNIST/raw/.
  return name == "raw" &&
    toLower(directory.parent_path().filename().string()).find("fashion") != std::string::npos;
}

} // namespace

bool isIdxImagesFileName(const std::string& fileName)
{
  const auto name = toLower(fileName);
  return endsWith(name, "idx3-ubyte") || endsWith(name, "idx3-ubyte.gz");
}

bool isIdxLabelsFileName(const std::string& fileName)
{
  const auto name = toLower(fileName);
  return endsWith(name, "idx1-ubyte") || endsWith(name, "idx1-ubyte.gz");
}

const std::vector<std::string>& fashionMnistClassNames()
{
  static const std::vector<std::string> names = { "T-shirt/top", "Trouser", "Pullover", "Dress",
    "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };
  return names;
}

std::vector<std::filesystem::path> idxLabelCandidates(const std::filesystem::path& imagesPath)
{
  const auto name = imagesPath.filename().string();
  const auto lower = toLower(name);
  const auto position = lower.rfind("idx3-ubyte");
  if (position == std::string::npos)
  {
    return {};
  }
  const std::string prefix = name.substr(0, position);
  const bool compressed = endsWith(lower, ".gz");

  std::vector<std::string> stems;
  const auto lowerPrefix = toLower(prefix);
  if (endsWith(lowerPrefix, "images-") || endsWith(lowerPrefix, "images."))
  {
    const auto base = prefix.substr(0, prefix.size() - 7);
    const char separator = prefix.back();
    const char other = separator == '-' ? '.' : '-';
    stems.push_back(base + "labels" + separator);
    stems.push_back(base + "labels" + other);
  }
  else
  {
    stems.push_back(prefix);
  }

  std::vector<std::filesystem::path> candidates;
  const auto directory = imagesPath.parent_path();
  for (const auto& stem : stems)
  {
    const auto plain = directory / (stem + "idx1-ubyte");
    const auto gzipped = directory / (stem + "idx1-ubyte.gz");
    candidates.push_back(compressed ? gzipped : plain);
    candidates.push_back(compressed ? plain : gzipped);
  }
  return candidates;
}

DatasetInfo probeIdx(const std::filesystem::path& imagesPath)
{
  DatasetInfo info;
  info.kind = DatasetKind::Idx;
  info.path = imagesPath.string();
  info.channels = 1;

  ImagesHeader header;
  {
    GzFile images(imagesPath);
    header = readImagesHeader(images, imagesPath);
    const std::int64_t expected = header.count * header.rows * header.columns;
    // Only a file that fails the quick size check is decompressed to say what is wrong.
    const auto found =
      images.hasTotalSize(ImagesHeaderSize + expected) ? expected : images.remaining();
    if (found < expected)
    {
      fail("The IDX file " + quoted(imagesPath) + " is truncated: expected " +
        std::to_string(expected) + " bytes of pixels, found " + std::to_string(found) +
        truncationHint(images) + ". Download it again.");
    }
    if (found > expected)
    {
      fail("The IDX file " + quoted(imagesPath) +
        " is longer than its header announces: " + "expected " + std::to_string(expected) +
        " bytes of pixels, found " + std::to_string(found) + ". The file is damaged.");
    }
  }
  info.numberOfSamples = header.count;
  info.height = header.rows;
  info.width = header.columns;

  const auto candidates = idxLabelCandidates(imagesPath);
  const auto found = std::find_if(candidates.begin(), candidates.end(), isFile);
  if (found == candidates.end())
  {
    std::string looked;
    for (std::size_t i = 0; i < candidates.size(); ++i)
    {
      looked += (i == 0 ? "" : i + 1 == candidates.size() ? " and " : ", ") + quoted(candidates[i]);
    }
    fail("The labels file for the IDX images file " + quoted(imagesPath) +
      " was not found: looked for " + looked +
      ". Put the labels file beside the images file under one of these names.");
  }
  const auto labelsPath = *found;
  info.labelPath = labelsPath.string();

  std::vector<std::uint8_t> labels;
  {
    GzFile labelsFile(labelsPath);
    const auto labelCount = readLabelsHeader(labelsFile, labelsPath);
    if (labelCount != header.count)
    {
      fail("The IDX labels file " + quoted(labelsPath) + " has " + std::to_string(labelCount) +
        " labels but the images file " + quoted(imagesPath) + " has " +
        std::to_string(header.count) + " images; they must belong to the same set.");
    }
    // Allocate only what the file can hold; a larger count is a truncated file.
    if (labelCount > labelsFile.maxDataSize() - LabelsHeaderSize)
    {
      fail("The IDX labels file " + quoted(labelsPath) + " is truncated: expected " +
        std::to_string(labelCount) + " labels, found " + std::to_string(labelsFile.remaining()) +
        truncationHint(labelsFile) + ". Download it again.");
    }
    labels.resize(static_cast<std::size_t>(labelCount) + 1);
    const auto got = labelsFile.read(labels.data(), labelCount + 1);
    if (got < labelCount)
    {
      fail("The IDX labels file " + quoted(labelsPath) + " is truncated: expected " +
        std::to_string(labelCount) + " labels, found " + std::to_string(got) +
        truncationHint(labelsFile) + ". Download it again.");
    }
    if (got > labelCount)
    {
      fail("The IDX labels file " + quoted(labelsPath) + " is longer than its header announces (" +
        std::to_string(labelCount) + " labels). The file is damaged.");
    }
    labels.pop_back();
  }
  const int maxLabel = *std::max_element(labels.begin(), labels.end());

  const auto directory = imagesPath.parent_path();
  const auto classesFile = directory / "classes.txt";
  if (isFile(classesFile))
  {
    info.classNames = readNameList(classesFile);
    if (maxLabel >= static_cast<int>(info.classNames.size()))
    {
      fail("The IDX labels file " + quoted(labelsPath) + " has the label " +
        std::to_string(maxLabel) + " but " + quoted(classesFile) + " names only " +
        std::to_string(info.classNames.size()) + " classes; add the missing class names.");
    }
  }
  else if (directoryLooksFashion(imagesPath))
  {
    info.classNames = fashionMnistClassNames();
    if (maxLabel >= static_cast<int>(info.classNames.size()))
    {
      fail("The IDX labels file " + quoted(labelsPath) + " has the label " +
        std::to_string(maxLabel) + " but Fashion-MNIST (assumed from the folder name) has 10 " +
        "classes; put a classes.txt with one class name per line beside the images file.");
    }
  }
  else
  {
    info.classNames = numberedNames(std::max(10, maxLabel + 1));
  }
  return info;
}

SampleBlock readIdx(const DatasetInfo& info, std::int64_t first, std::int64_t count)
{
  SampleBlock block;
  block.first = first;
  block.count = count;
  if (count == 0)
  {
    return block;
  }
  const std::filesystem::path imagesPath = info.path;
  const std::filesystem::path labelsPath = info.labelPath;
  const std::int64_t imageSize = std::int64_t(info.height) * info.width * info.channels;

  {
    GzFile images(imagesPath);
    const auto header = readImagesHeader(images, imagesPath);
    if (header.count != info.numberOfSamples || header.rows != info.height ||
      header.columns != info.width)
    {
      fail(
        "The IDX file " + quoted(imagesPath) + " has changed since it was opened; open it again.");
    }
    block.pixels.resize(static_cast<std::size_t>(count * imageSize));
    const auto skipped = images.skip(first * imageSize);
    const auto got =
      skipped < first * imageSize ? 0 : images.read(block.pixels.data(), count * imageSize);
    if (got < count * imageSize)
    {
      fail("The IDX file " + quoted(imagesPath) + " is truncated: expected " +
        std::to_string((first + count) * imageSize) + " bytes of pixels, found " +
        std::to_string(std::min(skipped, first * imageSize) + got) + truncationHint(images) +
        ". Download it again.");
    }
  }
  {
    GzFile labelsFile(labelsPath);
    const auto labelCount = readLabelsHeader(labelsFile, labelsPath);
    if (labelCount != info.numberOfSamples)
    {
      fail("The IDX labels file " + quoted(labelsPath) +
        " has changed since it was opened; open the dataset again.");
    }
    std::vector<std::uint8_t> labels(static_cast<std::size_t>(count));
    const auto skipped = labelsFile.skip(first);
    const auto got = skipped < first ? 0 : labelsFile.read(labels.data(), count);
    if (got < count)
    {
      fail("The IDX labels file " + quoted(labelsPath) + " is truncated: expected " +
        std::to_string(first + count) + " labels, found " + std::to_string(skipped + got) +
        truncationHint(labelsFile) + ". Download it again.");
    }
    block.labels.assign(labels.begin(), labels.end());
    for (const auto label : block.labels)
    {
      if (!info.classNames.empty() && label >= static_cast<std::int32_t>(info.classNames.size()))
      {
        fail("The IDX labels file " + quoted(labelsPath) + " has the label " +
          std::to_string(label) + " but the dataset has " + std::to_string(info.classNames.size()) +
          " classes; it has changed since it was opened.");
      }
    }
  }
  return block;
}

} // namespace detail
} // namespace formats
} // namespace dualembed
