// HDF5 image arrays.
#include "FormatTestUtils.h"

#include <hdf5.h>

namespace dualembed
{
namespace formats
{
namespace testing
{
namespace
{

/// Writes one dataset of `type` and shape `dims` from `data` (nullptr: left unwritten).
void writeDataset(hid_t file, const char* name, hid_t type, const std::vector<hsize_t>& dims,
  const void* data, hid_t memoryType = -1)
{
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  ASSERT_GE(space, 0);
  const hid_t dataset =
    H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(dataset, 0) << name;
  if (data)
  {
    EXPECT_GE(H5Dwrite(dataset, memoryType >= 0 ? memoryType : type, H5S_ALL, H5S_ALL,
                H5P_DEFAULT, data),
      0)
      << name;
  }
  H5Dclose(dataset);
  H5Sclose(space);
}

void writeStrings(hid_t file, const char* name, const std::vector<std::string>& strings,
  bool variableLength)
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

class Hdf5Test : public FormatsTest
{
protected:
  /// Creates `name` and calls `fill(file)` to write its datasets.
  fs::path makeFile(const std::string& name, const std::function<void(hid_t)>& fill)
  {
    const auto path = this->file(name);
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    EXPECT_GE(file, 0);
    fill(file);
    H5Fclose(file);
    return path;
  }
};

constexpr hsize_t N = 6;
constexpr hsize_t H = 4;
constexpr hsize_t W = 5;

TEST_F(Hdf5Test, GrayImagesInt64LabelsFixedLengthNames)
{
  const auto pixels = testPixels(N * H * W);
  const std::vector<std::int64_t> labels = { 2, 0, 1, 2, 2, 1 };
  const auto path = this->makeFile("gray.h5", [&](hid_t file) {
    writeDataset(file, "images", H5T_STD_U8LE, { N, H, W }, pixels.data());
    writeDataset(file, "labels", H5T_STD_I64BE, { N }, labels.data(), H5T_NATIVE_INT64);
    writeStrings(file, "label_names", { "cat", "dog", "long bird name" }, false);
  });
  const auto info = probeDataset(path.string());
  EXPECT_EQ(info.kind, DatasetKind::Hdf5);
  EXPECT_EQ(info.path, path.string());
  EXPECT_EQ(info.numberOfSamples, int(N));
  EXPECT_EQ(info.height, int(H));
  EXPECT_EQ(info.width, int(W));
  EXPECT_EQ(info.channels, 1);
  EXPECT_EQ(info.classNames, (std::vector<std::string>{ "cat", "dog", "long bird name" }));

  const auto all = readSamples(info, 0, N);
  EXPECT_EQ(all.pixels, pixels);
  EXPECT_EQ(all.labels, (std::vector<std::int32_t>{ 2, 0, 1, 2, 2, 1 }));
  expectSliceEquals(info, all, 2, 3);
  expectSliceEquals(info, all, 5, 1);
}

TEST_F(Hdf5Test, ColorImagesUint16LabelsVariableLengthNames)
{
  constexpr hsize_t C = 3;
  const auto pixels = testPixels(N * H * W * C);
  const std::vector<std::uint16_t> labels = { 3, 1, 0, 0, 2, 3 };
  const auto path = this->makeFile("color.hdf5", [&](hid_t file) {
    writeDataset(file, "images", H5T_STD_U8LE, { N, H, W, C }, pixels.data());
    writeDataset(file, "labels", H5T_STD_U16LE, { N }, labels.data(), H5T_NATIVE_UINT16);
    writeStrings(file, "label_names", { "zéro", "one", "two", "three" }, true);
  });
  const auto info = probeDataset(path.string());
  EXPECT_EQ(info.channels, 3);
  EXPECT_EQ(info.classNames, (std::vector<std::string>{ "zéro", "one", "two", "three" }));
  const auto all = readSamples(info, 0, N);
  EXPECT_EQ(all.pixels, pixels);
  EXPECT_EQ(all.labels, (std::vector<std::int32_t>{ 3, 1, 0, 0, 2, 3 }));
  expectSliceEquals(info, all, 1, 4);
  expectSliceEquals(info, all, 3, 0);
}

TEST_F(Hdf5Test, DefaultNamesWithoutLabelNames)
{
  const auto pixels = testPixels(N * H * W);
  const std::vector<std::int32_t> labels = { 0, 4, 1, 1, 0, 2 };
  const auto path = this->makeFile("plain.hdf", [&](hid_t file) {
    writeDataset(file, "images", H5T_NATIVE_UINT8, { N, H, W }, pixels.data());
    writeDataset(file, "labels", H5T_NATIVE_INT32, { N }, labels.data());
  });
  const auto info = probeDataset(path.string());
  EXPECT_EQ(info.classNames, (std::vector<std::string>{ "0", "1", "2", "3", "4" }));
}

class Hdf5ErrorTest : public Hdf5Test
{
protected:
  void expectError(const fs::path& path, const std::string& needle)
  {
    EXPECT_FORMAT_ERROR(probeDataset(path.string()), path.string());
    EXPECT_FORMAT_ERROR(probeDataset(path.string()), needle);
  }
  const std::vector<std::uint8_t> pixels = testPixels(N * H * W);
  const std::vector<std::int32_t> labels = std::vector<std::int32_t>(N, 1);
};

TEST_F(Hdf5ErrorTest, MissingLabels)
{
  const auto path = this->makeFile("nolabels.h5", [&](hid_t file) {
    writeDataset(file, "images", H5T_NATIVE_UINT8, { N, H, W }, pixels.data());
  });
  this->expectError(path, "no dataset 'labels'");
}

TEST_F(Hdf5ErrorTest, MissingImages)
{
  const auto path = this->makeFile("noimages.h5", [&](hid_t file) {
    writeDataset(file, "labels", H5T_NATIVE_INT32, { N }, labels.data());
  });
  this->expectError(path, "no dataset 'images'");
}

TEST_F(Hdf5ErrorTest, ImagesWrongRank)
{
  const auto path = this->makeFile("rank2.h5", [&](hid_t file) {
    writeDataset(file, "images", H5T_NATIVE_UINT8, { N, H * W }, pixels.data());
    writeDataset(file, "labels", H5T_NATIVE_INT32, { N }, labels.data());
  });
  this->expectError(path, "rank 2");
}

TEST_F(Hdf5ErrorTest, LabelsWrongRank)
{
  const std::vector<std::int32_t> twoColumns(N * 2, 0);
  const auto path = this->makeFile("labels2d.h5", [&](hid_t file) {
    writeDataset(file, "images", H5T_NATIVE_UINT8, { N, H, W }, pixels.data());
    writeDataset(file, "labels", H5T_NATIVE_INT32, { N, 2 }, twoColumns.data());
  });
  this->expectError(path, "'labels' of shape 6×2");
}

TEST_F(Hdf5ErrorTest, ImagesWrongDtype)
{
  const std::vector<float> floats(N * H * W, 0.5f);
  const auto path = this->makeFile("float.h5", [&](hid_t file) {
    writeDataset(file, "images", H5T_NATIVE_FLOAT, { N, H, W }, floats.data());
    writeDataset(file, "labels", H5T_NATIVE_INT32, { N }, labels.data());
  });
  this->expectError(path, "of type float32");

  const std::vector<std::uint16_t> words(N * H * W, 7);
  const auto path16 = this->makeFile("uint16.h5", [&](hid_t file) {
    writeDataset(file, "images", H5T_NATIVE_UINT16, { N, H, W }, words.data());
    writeDataset(file, "labels", H5T_NATIVE_INT32, { N }, labels.data());
  });
  this->expectError(path16, "of type uint16");
}

TEST_F(Hdf5ErrorTest, LabelsNotIntegers)
{
  const std::vector<double> values(N, 1.0);
  const auto path = this->makeFile("floatlabels.h5", [&](hid_t file) {
    writeDataset(file, "images", H5T_NATIVE_UINT8, { N, H, W }, pixels.data());
    writeDataset(file, "labels", H5T_NATIVE_DOUBLE, { N }, values.data());
  });
  this->expectError(path, "must hold integers");
}

TEST_F(Hdf5ErrorTest, CountMismatch)
{
  const auto path = this->makeFile("mismatch.h5", [&](hid_t file) {
    writeDataset(file, "images", H5T_NATIVE_UINT8, { N, H, W }, pixels.data());
    writeDataset(file, "labels", H5T_NATIVE_INT32, { N - 1 }, labels.data());
  });
  this->expectError(path, "6 images but 5 labels");
}

TEST_F(Hdf5ErrorTest, NegativeLabel)
{
  auto negative = labels;
  negative[2] = -1;
  const auto path = this->makeFile("negative.h5", [&](hid_t file) {
    writeDataset(file, "images", H5T_NATIVE_UINT8, { N, H, W }, pixels.data());
    writeDataset(file, "labels", H5T_NATIVE_INT32, { N }, negative.data());
  });
  this->expectError(path, "negative label -1");
}

TEST_F(Hdf5ErrorTest, LabelBeyondLabelNames)
{
  const auto path = this->makeFile("fewnames.h5", [&](hid_t file) {
    writeDataset(file, "images", H5T_NATIVE_UINT8, { N, H, W }, pixels.data());
    writeDataset(file, "labels", H5T_NATIVE_INT32, { N }, labels.data());
    writeStrings(file, "label_names", { "only" }, true);
  });
  this->expectError(path, "'label_names' names only 1");
}

TEST_F(Hdf5ErrorTest, NotAnHdf5File)
{
  const auto path = this->file("fake.h5");
  writeText(path, "this is not HDF5 at all\n");
  this->expectError(path, "is not an HDF5 file");
}

TEST_F(Hdf5ErrorTest, ErrorsLeaveHdf5ErrorPrintingAsItWas)
{
  H5E_auto2_t before = nullptr;
  void* beforeData = nullptr;
  ASSERT_GE(H5Eget_auto2(H5E_DEFAULT, &before, &beforeData), 0);
  const auto path = this->makeFile("nolabels.h5", [&](hid_t file) {
    writeDataset(file, "images", H5T_NATIVE_UINT8, { N, H, W }, pixels.data());
  });
  EXPECT_FORMAT_ERROR(probeDataset(path.string()), "labels");
  H5E_auto2_t after = nullptr;
  void* afterData = nullptr;
  ASSERT_GE(H5Eget_auto2(H5E_DEFAULT, &after, &afterData), 0);
  EXPECT_EQ(after, before);
  EXPECT_EQ(afterData, beforeData);
}

} // namespace
} // namespace testing
} // namespace formats
} // namespace dualembed
