// DualEmbed results files: samples and every per-sample array in one HDF5 file
// (no VTK). Layout (documented in README.md, "Results files (HDF5)"):
//
//   /                       attributes dualembed_format = "dualembed-samples",
//                           dualembed_format_version = 1, dualembed_version,
//                           number_of_samples = N, and model_<tag> (copies of the
//                           field data of that name: the model provenance)
//   /points                 N×3 float32 (or float64) point coordinates, optional
//   /point_data/<name>      one dataset per array: (N,) or (N, components); native
//                           numeric type, or variable-length UTF-8 strings
//   /field_data/<name>      one dataset per field-data array: (T,) or (T, components)
//
// Array names that HDF5 cannot use as link names are escaped ('/' → "%2F", '%' →
// "%25", a name "." → "%2E"). Every dataset may carry the attributes vtk_class and
// vtk_data_type (how to recreate the VTK array exactly), and dualembed_role =
// "embedding" where the array is an embedding (README, "Which arrays a filter takes"). Numeric
// datasets above 64 KiB are chunked and compressed (shuffle + deflate 4). Groups track link
// creation order, so arrays come back in the order they were written.
//
// Every failure throws FormatError with a sentence that names the file.
#pragma once

#include "ImageDataset.h" // for FormatError

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dualembed
{
namespace formats
{

/// Root attribute that marks a results file, and its value.
constexpr const char* SampleStoreFormatAttribute = "dualembed_format";
constexpr const char* SampleStoreFormatName = "dualembed-samples";
constexpr int SampleStoreFormatVersion = 1;

enum class ColumnType
{
  Int8,
  Int16,
  Int32,
  Int64,
  UInt8,
  UInt16,
  UInt32,
  UInt64,
  Float32,
  Float64,
  String
};

/// "int8", ..., "float64", "string".
const char* columnTypeName(ColumnType type);
/// Bytes per value; 0 for strings.
std::size_t columnTypeSize(ColumnType type);

/// How to recreate the VTK array exactly (dataset attributes vtk_class, vtk_data_type).
struct ColumnAttributes
{
  std::string vtkClass; ///< e.g. "vtkTypeInt64Array"; empty when unknown
  int vtkDataType = -1; ///< VTK_* type id; -1 when unknown
  bool embedding =
    false; ///< an embedding (attribute dualembed_role = "embedding", vtkSampleArrays)
};

/// An array to write; it does not own its values.
struct ColumnView
{
  std::string name;
  ColumnType type = ColumnType::Float32;
  int components = 1;
  std::int64_t rows = 0;
  /// Numeric columns: rows·components values, row-major, native byte order.
  const void* values = nullptr;
  /// String columns: rows·components UTF-8 strings (never null).
  std::vector<const char*> strings;
  ColumnAttributes attributes;
};

/// What a results file holds (names, types, shapes), without the values.
struct ColumnInfo
{
  std::string name;     ///< the array name (link name unescaped)
  std::string linkName; ///< the HDF5 link name inside its group
  ColumnType type = ColumnType::Float32;
  int components = 1;
  std::int64_t rows = 0;
  ColumnAttributes attributes;
  bool compressed = false;
};

struct SampleStoreContents
{
  std::int64_t numberOfSamples = 0;
  /// numberOfSamples·3 coordinates, or null for none.
  const void* points = nullptr;
  bool pointsAreDouble = false;
  std::vector<ColumnView> pointData;
  std::vector<ColumnView> fieldData;
  /// Names of the active point-data attributes, e.g. {"active_scalars", "label"}.
  std::vector<std::pair<std::string, std::string>> pointDataAttributes;
};

/// Writes a results file. The file is written beside `path` under a temporary name and
/// renamed when complete, so a failed write never leaves a partial file at `path`.
void writeSampleStore(const std::string& path, const SampleStoreContents& contents);

/// One process's share of a results file that several write in turn (the ranks of an MPI
/// run, in rank order), each its own rows, so that none holds more than its own samples.
struct SampleStorePart
{
  std::int64_t firstRow = 0;  ///< where this part's rows go in the file
  std::int64_t totalRows = 0; ///< the rows of all parts
  /// The first part: creates the file, every dataset at totalRows rows and the field data;
  /// the others open it and check that their arrays match.
  bool create = false;
};

/// The temporary name a results file is written under (beside `path`; `tag`, e.g. a process
/// id, keeps concurrent writers apart).
std::string partialSampleStorePath(const std::string& path, long tag);

/// Writes `contents` (this part's numberOfSamples rows; with `create`, also the field data)
/// into `partial`. Removes `partial` and throws on failure.
void writeSampleStorePart(const std::string& path, const std::string& partial,
  const SampleStoreContents& contents, const SampleStorePart& part);

/// After the last part: renames `partial` to `path`, or removes it when not `complete`.
void finishSampleStore(const std::string& path, const std::string& partial, bool complete);

/// True when `path` is an HDF5 file with the root attribute dualembed_format =
/// "dualembed-samples". Never throws; quiet.
bool isSampleStoreFile(const std::string& path);

/// An open results file, read in ranges of rows.
class SampleStoreFile
{
public:
  /// Opens and validates the file (root attribute, version, shapes). Throws FormatError:
  /// a foreign HDF5 file, a newer format version, a damaged file.
  explicit SampleStoreFile(const std::string& path);
  ~SampleStoreFile();
  SampleStoreFile(const SampleStoreFile&) = delete;
  SampleStoreFile& operator=(const SampleStoreFile&) = delete;

  const std::string& path() const { return this->Path; }
  std::int64_t numberOfSamples() const { return this->Samples; }
  const std::string& dualembedVersion() const { return this->Version; }
  bool hasPoints() const { return this->PointsPresent; }
  bool pointsAreDouble() const { return this->PointsDouble; }
  const std::vector<ColumnInfo>& pointData() const { return this->PointColumns; }
  const std::vector<ColumnInfo>& fieldData() const { return this->FieldColumns; }
  const std::vector<std::pair<std::string, std::string>>& pointDataAttributes() const
  {
    return this->Attributes;
  }
  /// Datasets under /point_data or /field_data that were not listed: their type (compound,
  /// enum, half float, ...) or shape has no array equivalent. One sentence each.
  const std::vector<std::string>& skipped() const { return this->Skipped; }
  /// The point-data column of that name, or null.
  const ColumnInfo* findPointData(const std::string& name) const;
  const ColumnInfo* findFieldData(const std::string& name) const;

  /// Rows [first, first + count) of a numeric column into `out` (count·components values
  /// of the column's type). `fieldData`: the column is one of fieldData().
  void readNumeric(const ColumnInfo& column, bool fieldData, std::int64_t first, std::int64_t count,
    void* out) const;
  /// Rows [first, first + count) of a string column: count·components strings.
  std::vector<std::string> readStrings(
    const ColumnInfo& column, bool fieldData, std::int64_t first, std::int64_t count) const;
  /// Points [first, first + count): count·3 floats or doubles (pointsAreDouble()).
  void readPoints(std::int64_t first, std::int64_t count, void* out) const;

private:
  struct Impl;
  std::unique_ptr<Impl> P;
  std::string Path;
  std::int64_t Samples = 0;
  std::string Version;
  bool PointsPresent = false;
  bool PointsDouble = false;
  std::vector<ColumnInfo> PointColumns;
  std::vector<ColumnInfo> FieldColumns;
  std::vector<std::pair<std::string, std::string>> Attributes;
  std::vector<std::string> Skipped;
};

/// DualEmbed's version, as compiled in (PROJECT_VERSION).
const char* dualembedVersion();

} // namespace formats
} // namespace dualembed
