// Fixtures and file writers for the format tests.
#pragma once

#include "ImageDataset.h"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace dualembed
{
namespace formats
{
namespace testing
{

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

/// Each test gets a fresh, empty temporary folder, removed afterwards.
class FormatsTest : public ::testing::Test
{
protected:
  void SetUp() override;
  void TearDown() override;
  /// dir / relative, with parent folders created.
  fs::path file(const std::string& relative) const;

  fs::path dir;
};

/// Writes bytes to path; gzip-compressed when the name ends in ".gz".
void writeFile(const fs::path& path, const Bytes& bytes);
void writeText(const fs::path& path, const std::string& text);
/// Keeps only the first `size` bytes of a file.
void truncateFile(const fs::path& path, std::uintmax_t size);

/// Deterministic test pixel of sample i at byte offset j.
std::uint8_t pixelValue(std::int64_t sample, std::int64_t offset);

/// An IDX images file: header (magic, n, h, w) + `stored` images of test pixels.
Bytes idxImages(std::uint32_t n, std::uint32_t h, std::uint32_t w, std::int64_t stored = -1,
  std::uint32_t magic = 0x00000803);
/// An IDX labels file: header (magic, n) + the labels.
Bytes idxLabels(
  std::uint32_t n, const std::vector<std::uint8_t>& labels, std::uint32_t magic = 0x00000801);

/// HDF5: writes one dataset of `type` and shape `dims` from `data` (nullptr:
/// left unwritten); `memoryType` < 0 means `type`.
void writeDataset(hid_t file, const char* name, hid_t type, const std::vector<hsize_t>& dims,
  const void* data, hid_t memoryType = -1);
/// HDF5: a 1-D dataset of strings, variable-length UTF-8 or null-padded fixed-size.
void writeStrings(
  hid_t file, const char* name, const std::vector<std::string>& strings, bool variableLength);
/// `count` bytes of sample 0's test pixels.
std::vector<std::uint8_t> testPixels(std::size_t count);

constexpr int Plane = 32 * 32;
/// CIFAR: planar test value of record i, channel c, pixel p (row-major within the 32×32 plane).
std::uint8_t planeValue(std::int64_t i, int c, int p);
/// CIFAR: records of label bytes followed by 3072 planar (CHW) pixel bytes.
Bytes cifarRecords(const std::vector<std::vector<std::uint8_t>>& labelBytes);

/// Runs `body`; returns the FormatError message, or records a failure if it did not throw one.
std::string formatErrorOf(const std::function<void()>& body);

/// Expects `statement` to throw FormatError whose message contains `needle`.
#define EXPECT_FORMAT_ERROR(statement, needle)                                                     \
  do                                                                                               \
  {                                                                                                \
    const std::string message_ =                                                                   \
      ::dualembed::formats::testing::formatErrorOf([&] { (void)(statement); });                    \
    EXPECT_NE(message_.find(needle), std::string::npos)                                            \
      << "the message does not mention '" << (needle) << "': " << message_;                        \
  } while (false)

/// Checks that readSamples(first, count) equals the same slice of `all` (a full read).
void expectSliceEquals(
  const DatasetInfo& info, const SampleBlock& all, std::int64_t first, std::int64_t count);

} // namespace testing
} // namespace formats
} // namespace dualembed
