#include "FormatTestUtils.h"

#include <hdf5.h>
#include <zlib.h>

#include <algorithm>

#include <cstdlib>
#include <fstream>

namespace dualembed
{
namespace formats
{
namespace testing
{

void FormatsTest::SetUp()
{
  std::string pattern = (fs::temp_directory_path() / "dualembed-formats-XXXXXX").string();
  ASSERT_NE(mkdtemp(pattern.data()), nullptr) << "cannot create a temporary folder";
  this->dir = pattern;
}

void FormatsTest::TearDown()
{
  std::error_code error;
  if (!this->dir.empty())
  {
    fs::remove_all(this->dir, error);
  }
}

fs::path FormatsTest::file(const std::string& relative) const
{
  const auto path = this->dir / relative;
  fs::create_directories(path.parent_path());
  return path;
}

void writeFile(const fs::path& path, const Bytes& bytes)
{
  fs::create_directories(path.parent_path());
  if (path.extension() == ".gz")
  {
    gzFile file = gzopen(path.c_str(), "wb");
    ASSERT_NE(file, nullptr) << path;
    if (!bytes.empty())
    {
      ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
        static_cast<int>(bytes.size()));
    }
    ASSERT_EQ(gzclose(file), Z_OK);
    return;
  }
  std::ofstream stream(path, std::ios::binary);
  stream.write(
    reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(stream.good()) << path;
}

void writeText(const fs::path& path, const std::string& text)
{
  writeFile(path, Bytes(text.begin(), text.end()));
}

void truncateFile(const fs::path& path, std::uintmax_t size)
{
  fs::resize_file(path, size);
}

std::uint8_t pixelValue(std::int64_t sample, std::int64_t offset)
{
  return static_cast<std::uint8_t>((sample * 37 + offset * 11 + 5) & 0xFF);
}

namespace
{
void putBigEndian(Bytes& bytes, std::uint32_t value)
{
  for (int shift = 24; shift >= 0; shift -= 8)
  {
    bytes.push_back(static_cast<std::uint8_t>(value >> shift));
  }
}
} // namespace

Bytes idxImages(
  std::uint32_t n, std::uint32_t h, std::uint32_t w, std::int64_t stored, std::uint32_t magic)
{
  Bytes bytes;
  putBigEndian(bytes, magic);
  putBigEndian(bytes, n);
  putBigEndian(bytes, h);
  putBigEndian(bytes, w);
  const std::int64_t count = stored < 0 ? n : stored;
  for (std::int64_t i = 0; i < count; ++i)
  {
    for (std::int64_t j = 0; j < std::int64_t(h) * w; ++j)
    {
      bytes.push_back(pixelValue(i, j));
    }
  }
  return bytes;
}

Bytes idxLabels(std::uint32_t n, const std::vector<std::uint8_t>& labels, std::uint32_t magic)
{
  Bytes bytes;
  putBigEndian(bytes, magic);
  putBigEndian(bytes, n);
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

std::string formatErrorOf(const std::function<void()>& body)
{
  try
  {
    body();
  }
  catch (const FormatError& error)
  {
    return error.what();
  }
  catch (const std::exception& error)
  {
    ADD_FAILURE() << "expected a FormatError, got another exception: " << error.what();
    return {};
  }
  ADD_FAILURE() << "expected a FormatError, but nothing was thrown";
  return {};
}

void expectSliceEquals(
  const DatasetInfo& info, const SampleBlock& all, std::int64_t first, std::int64_t count)
{
  const auto part = readSamples(info, first, count);
  EXPECT_EQ(part.first, first);
  EXPECT_EQ(part.count, count);
  const std::int64_t imageSize = std::int64_t(info.height) * info.width * info.channels;
  if (!all.pixels.empty())
  {
    ASSERT_EQ(part.pixels.size(), static_cast<std::size_t>(count * imageSize));
    EXPECT_TRUE(
      std::equal(part.pixels.begin(), part.pixels.end(), all.pixels.begin() + first * imageSize))
      << "pixels of samples [" << first << ", " << first + count << ") differ from a full read";
  }
  else
  {
    EXPECT_TRUE(part.pixels.empty());
  }
  const auto slice = [&](const auto& values) {
    using Vector = std::decay_t<decltype(values)>;
    return values.empty() ? Vector()
                          : Vector(values.begin() + first, values.begin() + first + count);
  };
  EXPECT_EQ(part.labels, slice(all.labels));
  EXPECT_EQ(part.coarseLabels, slice(all.coarseLabels));
  EXPECT_EQ(part.files, slice(all.files));
}

// Generators shared by the tests and the fuzz seed corpora (Testing/Fuzz).

/// Writes one dataset of `type` and shape `dims` from `data` (nullptr: left unwritten).
void writeDataset(hid_t file, const char* name, hid_t type, const std::vector<hsize_t>& dims,
  const void* data, hid_t memoryType)
{
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  ASSERT_GE(space, 0);
  const hid_t dataset = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(dataset, 0) << name;
  if (data)
  {
    EXPECT_GE(
      H5Dwrite(dataset, memoryType >= 0 ? memoryType : type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
      0)
      << name;
  }
  H5Dclose(dataset);
  H5Sclose(space);
}

void writeStrings(
  hid_t file, const char* name, const std::vector<std::string>& strings, bool variableLength)
{
  const hid_t type = H5Tcopy(H5T_C_S1);
  const std::vector<hsize_t> dims = { strings.size() };
  if (variableLength)
  {
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    std::vector<const char*> pointers;
    for (const auto& text : strings)
    {
      pointers.push_back(text.c_str());
    }
    writeDataset(file, name, type, dims, pointers.data());
  }
  else
  {
    // Null-padded, like h5py's numpy 'S' arrays.
    std::size_t size = 1;
    for (const auto& text : strings)
    {
      size = std::max(size, text.size());
    }
    H5Tset_size(type, size);
    H5Tset_strpad(type, H5T_STR_NULLPAD);
    std::vector<char> buffer(strings.size() * size, '\0');
    for (std::size_t i = 0; i < strings.size(); ++i)
    {
      std::copy(strings[i].begin(), strings[i].end(), buffer.begin() + i * size);
    }
    writeDataset(file, name, type, dims, buffer.data());
  }
  H5Tclose(type);
}

std::vector<std::uint8_t> testPixels(std::size_t count)
{
  std::vector<std::uint8_t> pixels(count);
  for (std::size_t j = 0; j < count; ++j)
  {
    pixels[j] = pixelValue(0, static_cast<std::int64_t>(j));
  }
  return pixels;
}

/// Planar test value of record i, channel c, pixel p (row-major within the 32×32 plane).
std::uint8_t planeValue(std::int64_t i, int c, int p)
{
  return static_cast<std::uint8_t>((i * 53 + c * 101 + p * 7 + (p / 32) * 3) & 0xFF);
}

/// Records of label bytes followed by 3072 planar (CHW) pixel bytes.
Bytes cifarRecords(const std::vector<std::vector<std::uint8_t>>& labelBytes)
{
  Bytes bytes;
  for (std::size_t i = 0; i < labelBytes.size(); ++i)
  {
    bytes.insert(bytes.end(), labelBytes[i].begin(), labelBytes[i].end());
    for (int c = 0; c < 3; ++c)
    {
      for (int p = 0; p < Plane; ++p)
      {
        bytes.push_back(planeValue(static_cast<std::int64_t>(i), c, p));
      }
    }
  }
  return bytes;
}

} // namespace testing
} // namespace formats
} // namespace dualembed
