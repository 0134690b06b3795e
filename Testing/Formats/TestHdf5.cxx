// HDF5 image arrays.
#include "FormatTestUtils.h"

#include "../MemoryCap.h"
#include "SampleStore.h"

#include <hdf5.h>

#include <cstring>

namespace dualembed
{
namespace formats
{
namespace testing
{
using dualembed::testing::MemoryCap;
namespace
{

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
  const auto path = this->makeFile("noimages.h5",
    [&](hid_t file) { writeDataset(file, "labels", H5T_NATIVE_INT32, { N }, labels.data()); });
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
// Found by Testing/Fuzz: datasets are sized by their header, not by what the
// file stores; a 2 KiB file with never-written 2^31-element datasets made
// readLabels allocate 8 GiB before reading.
TEST_F(Hdf5Test, NeverWrittenHugeDatasetsAreRefused)
{
  const hsize_t huge = hsize_t(1) << 31;
  const auto path = this->makeFile("hostile.h5", [&](hid_t file) {
    writeDataset(file, "images", H5T_STD_U8LE, { huge, 1, 1 }, nullptr);
    writeDataset(file, "labels", H5T_STD_I32LE, { huge }, nullptr);
  });
  ASSERT_LT(fs::file_size(path), 64u * 1024);
  MemoryCap cap(1ull << 30);
  EXPECT_FORMAT_ERROR(probeDataset(path.string()), "stores too few bytes");
  EXPECT_FORMAT_ERROR(probeDataset(path.string()), "hostile.h5");
}

TEST_F(Hdf5Test, HugeStringTypesAreRefused)
{
  const std::vector<std::uint8_t> pixels(4, 0);
  const std::vector<std::int32_t> labels = { 0, 0, 0, 0 };
  const auto path = this->makeFile("names.h5", [&](hid_t file) {
    writeDataset(file, "images", H5T_STD_U8LE, { 4, 1, 1 }, pixels.data());
    writeDataset(file, "labels", H5T_STD_I32LE, { 4 }, labels.data());
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, 1u << 30); // 1 GiB per name, never written
    writeDataset(file, "label_names", type, { 4 }, nullptr);
    H5Tclose(type);
  });
  MemoryCap cap(1ull << 30);
  EXPECT_FORMAT_ERROR(probeDataset(path.string()), "label_names");
}

// The results-file reader bounds what it lists the same way.
TEST_F(Hdf5Test, SampleStoreExtentsAreBoundedByTheFile)
{
  const auto writeStore = [&](const std::string& name, std::int64_t samples, hsize_t columns) {
    return this->makeFile(name, [&](hid_t file) {
      const hid_t scalar = H5Screate(H5S_SCALAR);
      const hid_t text = H5Tcopy(H5T_C_S1);
      H5Tset_size(text, std::strlen(SampleStoreFormatName));
      const hid_t format =
        H5Acreate2(file, SampleStoreFormatAttribute, text, scalar, H5P_DEFAULT, H5P_DEFAULT);
      H5Awrite(format, text, SampleStoreFormatName);
      const std::int64_t version = 1;
      const hid_t v = H5Acreate2(
        file, "dualembed_format_version", H5T_STD_I64LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
      H5Awrite(v, H5T_NATIVE_INT64, &version);
      const hid_t n =
        H5Acreate2(file, "number_of_samples", H5T_STD_I64LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
      H5Awrite(n, H5T_NATIVE_INT64, &samples);
      const hid_t group = H5Gcreate2(file, "point_data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      if (columns > 0)
      {
        writeDataset(group, "embedding", H5T_IEEE_F32LE, { hsize_t(samples), columns }, nullptr);
      }
      H5Gclose(group);
      H5Aclose(format);
      H5Aclose(v);
      H5Aclose(n);
      H5Tclose(text);
      H5Sclose(scalar);
    });
  };
  MemoryCap cap(1ull << 30);
  EXPECT_FORMAT_ERROR(SampleStoreFile(writeStore("samples.h5", std::int64_t(1) << 40, 0).string()),
    "announces 1099511627776 samples");
  EXPECT_FORMAT_ERROR(SampleStoreFile(writeStore("columns.h5", 1000, hsize_t(1) << 20).string()),
    "stores too few bytes");
  // a small never-written column is still listed (its fill values are readable)
  SampleStoreFile small(writeStore("small.h5", 10, 4).string());
  ASSERT_EQ(small.pointData().size(), 1u);
  EXPECT_EQ(small.pointData()[0].components, 4);
}

/// The columns of rows [first, first + count) of a small results table: an embedding large
/// enough to be compressed in chunks that span the parts, labels, names and points.
struct Table
{
  static constexpr int Width = 4000;
  std::vector<float> embedding;
  std::vector<std::int64_t> labels;
  std::vector<std::string> names;
  std::vector<double> points;
  std::vector<std::string> classes{ "cat", "dog", "ünïcode" };

  explicit Table(std::int64_t rows)
  {
    for (std::int64_t i = 0; i < rows; ++i)
    {
      for (int j = 0; j < Width; ++j)
      {
        this->embedding.push_back(static_cast<float>(i * 0.5 + j * 0.001));
      }
      this->labels.push_back(i % 3);
      this->names.push_back("sample " + std::to_string(i));
      this->points.insert(this->points.end(), { i * 1.0, i * 2.0, -1.0 * i });
    }
  }

  /// Views of rows [first, first + count); `strings` keeps the name pointers alive.
  SampleStoreContents rows(std::int64_t first, std::int64_t count,
    std::vector<std::vector<const char*>>& strings, int embeddingWidth = Width) const
  {
    SampleStoreContents contents;
    contents.numberOfSamples = count;
    contents.points = count > 0 ? this->points.data() + 3 * first : nullptr;
    contents.pointsAreDouble = true;
    ColumnView embedding;
    embedding.name = "embedding";
    embedding.components = embeddingWidth;
    embedding.rows = count;
    embedding.values = this->embedding.data() + Width * first;
    embedding.attributes.embedding = true;
    ColumnView labels;
    labels.name = "label";
    labels.type = ColumnType::Int64;
    labels.rows = count;
    labels.values = this->labels.data() + first;
    ColumnView names;
    names.name = "name/with slash";
    names.type = ColumnType::String;
    names.rows = count;
    strings.emplace_back();
    for (std::int64_t i = first; i < first + count; ++i)
    {
      strings.back().push_back(this->names[i].c_str());
    }
    names.strings = strings.back();
    contents.pointData = { embedding, labels, names };
    ColumnView classNames;
    classNames.name = "class_names";
    classNames.type = ColumnType::String;
    classNames.rows = static_cast<std::int64_t>(this->classes.size());
    strings.emplace_back();
    for (const auto& c : this->classes)
    {
      strings.back().push_back(c.c_str());
    }
    classNames.strings = strings.back();
    contents.fieldData = { classNames };
    contents.pointDataAttributes = { { "active_scalars", "label" } };
    return contents;
  }
};

TEST_F(Hdf5Test, SampleStorePartsWriteTheSameFileAsOneWriter)
{
  constexpr std::int64_t Rows = 10;
  const Table table(Rows);
  std::vector<std::vector<const char*>> strings;
  const std::string whole = this->file("whole.h5").string();
  writeSampleStore(whole, table.rows(0, Rows, strings));

  // Three processes in turn: rows 0-3, none, 4-9 (one compressed chunk spans both).
  const std::string path = this->file("parts.h5").string();
  const std::string partial = partialSampleStorePath(path, 7);
  writeSampleStorePart(path, partial, table.rows(0, 4, strings), { 0, Rows, true });
  writeSampleStorePart(path, partial, table.rows(4, 0, strings), { 4, Rows, false });
  writeSampleStorePart(path, partial, table.rows(4, 6, strings), { 4, Rows, false });
  EXPECT_FALSE(fs::exists(path)); // not before the last step
  finishSampleStore(path, partial, true);
  EXPECT_FALSE(fs::exists(partial));

  SampleStoreFile expected(whole);
  SampleStoreFile actual(path);
  ASSERT_EQ(actual.numberOfSamples(), Rows);
  ASSERT_EQ(actual.pointData().size(), expected.pointData().size());
  ASSERT_TRUE(actual.hasPoints() && actual.pointsAreDouble());
  std::vector<double> points(3 * Rows);
  actual.readPoints(0, Rows, points.data());
  EXPECT_EQ(points, table.points);
  std::vector<float> embedding(Table::Width * Rows);
  const ColumnInfo* column = actual.findPointData("embedding");
  ASSERT_TRUE(column && column->compressed && column->attributes.embedding);
  actual.readNumeric(*column, false, 0, Rows, embedding.data());
  EXPECT_EQ(embedding, table.embedding);
  std::vector<std::int64_t> labels(Rows);
  actual.readNumeric(*actual.findPointData("label"), false, 0, Rows, labels.data());
  EXPECT_EQ(labels, table.labels);
  EXPECT_EQ(
    actual.readStrings(*actual.findPointData("name/with slash"), false, 0, Rows), table.names);
  EXPECT_EQ(actual.readStrings(*actual.findFieldData("class_names"), true, 0, 3), table.classes);
  EXPECT_EQ(actual.pointDataAttributes(), expected.pointDataAttributes());
}

TEST_F(Hdf5Test, SampleStorePartsThatDifferAreRefused)
{
  const Table table(10);
  std::vector<std::vector<const char*>> strings;
  const std::string path = this->file("parts.h5").string();
  const std::string partial = partialSampleStorePath(path, 7);

  // A later process whose embedding has other components than the first one's.
  writeSampleStorePart(path, partial, table.rows(0, 5, strings), { 0, 10, true });
  EXPECT_FORMAT_ERROR(
    writeSampleStorePart(path, partial, table.rows(5, 5, strings, 12), { 5, 10, false }),
    "the array 'embedding' (point data) differs in type or components from the first process's");
  EXPECT_FALSE(fs::exists(partial)); // removed on failure
  EXPECT_FALSE(fs::exists(path));

  // A later process without one of the arrays.
  writeSampleStorePart(path, partial, table.rows(0, 5, strings), { 0, 10, true });
  SampleStoreContents fewer = table.rows(5, 5, strings);
  fewer.pointData.pop_back();
  EXPECT_FORMAT_ERROR(writeSampleStorePart(path, partial, fewer, { 5, 10, false }),
    "this process holds 2 point-data arrays, the first one 3");

  // Rows beyond the file; a failed run's file is removed, never renamed into place.
  writeSampleStorePart(path, partial, table.rows(0, 5, strings), { 0, 10, true });
  EXPECT_FORMAT_ERROR(
    writeSampleStorePart(path, partial, table.rows(5, 5, strings), { 6, 10, false }),
    "rows 6 to 11 do not fit 10 samples");
  writeSampleStorePart(path, partial, table.rows(0, 5, strings), { 0, 10, true });
  finishSampleStore(path, partial, false);
  EXPECT_FALSE(fs::exists(partial));
  EXPECT_FALSE(fs::exists(path));
}

} // namespace testing
} // namespace formats
} // namespace dualembed
