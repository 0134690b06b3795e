#include "FormatTestUtils.h"

#include <zlib.h>

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
  stream.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
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
    EXPECT_TRUE(std::equal(part.pixels.begin(), part.pixels.end(),
      all.pixels.begin() + first * imageSize))
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

} // namespace testing
} // namespace formats
} // namespace dualembed
