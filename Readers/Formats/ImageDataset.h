// Image-classification datasets on disk, read into plain structs (no VTK).
//
// A dataset is probed once (cheap: headers, file lists, class names), then read
// in contiguous ranges of samples, so that a parallel reader can give each MPI
// rank only its own share.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace dualembed
{
namespace formats
{

/// Thrown for anything a user must fix: missing, truncated or malformed files.
/// The message is a full sentence that names the file.
class FormatError : public std::runtime_error
{
public:
  using std::runtime_error::runtime_error;
};

enum class DatasetKind
{
  Idx,         ///< MNIST / Fashion-MNIST IDX images + labels, raw or .gz
  Cifar10,     ///< CIFAR-10 binary batch
  Cifar100,    ///< CIFAR-100 binary (coarse + fine labels)
  ImageFolder, ///< root/<class>/<image>, classes sorted by name
  Hdf5,        ///< datasets images (N×H×W[×C] uint8), labels (N), optional label_names
  Parquet,     ///< Hugging Face Parquet: a file, its shards, a Hub snapshot folder
  Arrow        ///< Hugging Face Arrow IPC: a `datasets` cache file, a save_to_disk folder
};

/// What the user may choose in a table dataset (Hugging Face Parquet or Arrow);
/// empty: found from the dataset's features (see HuggingFaceFormat.h).
struct DatasetOptions
{
  std::string split;
  std::string imageColumn;
  std::string labelColumn;
};

/// A column of a table dataset that becomes a point-data array.
struct TableColumn
{
  enum class Kind
  {
    Integer, ///< integers and booleans: one int64 per sample
    Real,    ///< one double per sample
    String,  ///< one string per sample
    Vector   ///< a numeric list of one length (an embedding): `components` values per sample
  };
  std::string column;    ///< the top-level column
  std::string arrayName; ///< the point-data array ("embedding_<name>" for vectors)
  Kind kind = Kind::Real;
  int components = 1;
};

/// The readers of a table dataset's shards, kept open between reads (internal).
struct OpenTables;

/// Where a table dataset's samples are: its shards (files, in order) and the
/// columns read from them.
struct TableLayout
{
  std::vector<std::string> shards;
  std::vector<std::int64_t> shardRows;
  std::string split;               ///< the split read ("" when the files name none)
  std::vector<std::string> splits; ///< every split found beside it
  std::string imageColumn;         ///< "" for a table without images (embeddings only)
  bool imageIsStruct = true;       ///< struct<bytes, path> (Image feature) or plain binary
  std::string labelColumn;
  std::string coarseLabelColumn; ///< CIFAR-100's coarse_label, else ""
  std::vector<TableColumn> columns;
  /// Columns left out and why, for the output window.
  std::vector<std::string> notes;
  /// Shared by the copies of a DatasetInfo: reading chunk after chunk reuses
  /// the readers and their memory.
  std::shared_ptr<OpenTables> open;
};

const char* datasetKindName(DatasetKind kind);

struct DatasetInfo
{
  DatasetKind kind = DatasetKind::Idx;
  std::string path;      ///< the file (or image-folder root) the samples come from
  std::string labelPath; ///< IDX: the labels file found beside the images file
  std::int64_t numberOfSamples = 0;
  /// Image geometry; 0 for image folders, whose images are decoded (and
  /// checked for uniform size) by the VTK reader.
  int height = 0;
  int width = 0;
  int channels = 0;
  std::vector<std::string> classNames;
  std::vector<std::string> coarseClassNames; ///< CIFAR-100 only
  /// Image folders: one file per sample (absolute path) and its label.
  std::vector<std::string> files;
  std::vector<std::int32_t> folderLabels;
  /// Hugging Face Parquet and Arrow datasets.
  TableLayout table;
};

/// Samples [first, first + count) of a dataset.
struct SampleBlock
{
  std::int64_t first = 0;
  std::int64_t count = 0;
  std::vector<std::uint8_t> pixels; ///< count·H·W·C, row-major HWC; empty for image folders
  std::vector<std::int32_t> labels;
  std::vector<std::int32_t> coarseLabels; ///< CIFAR-100 only
  std::vector<std::string>
    files; ///< image folders; tables: an image's path where its bytes are null
  /// Tables: the encoded images (PNG, JPEG), sample i in
  /// encodedImages[encodedOffsets[i], encodedOffsets[i + 1]); empty where a
  /// sample's image is a path (files[i]) or missing (both empty).
  std::vector<std::uint8_t> encodedImages;
  std::vector<std::int64_t> encodedOffsets;
  /// Tables: the values of each of DatasetInfo::table.columns, in that order.
  struct ColumnValues
  {
    std::vector<std::int64_t> integers; ///< Kind::Integer
    std::vector<double> reals;          ///< Kind::Real, Kind::Vector (count × components)
    std::vector<std::string> strings;   ///< Kind::String
  };
  std::vector<ColumnValues> columns;
};

/// Recognises the format of `path` (a file, or an image-folder root / any image in it,
/// or a folder of Hugging Face Parquet / Arrow files), validates headers and sizes,
/// and lists classes. `options` choose the split and columns of a table dataset.
/// Throws FormatError.
DatasetInfo probeDataset(const std::string& path, const DatasetOptions& options = {});

/// Reads samples [first, first + count) of a probed dataset. Throws FormatError.
SampleBlock readSamples(const DatasetInfo& info, std::int64_t first, std::int64_t count);
/// The same into `block`, reusing the memory it holds: reading a table chunk
/// after chunk into one block allocates nothing new (fresh pages of memory cost
/// more than reading them). Throws FormatError.
void readSamples(
  const DatasetInfo& info, std::int64_t first, std::int64_t count, SampleBlock& block);

/// Where a read is cheapest to split: the first sample of each chunk of a table
/// dataset (a Parquet row group, an Arrow record batch) and numberOfSamples at
/// the end; {0, numberOfSamples} for the other formats. Reading a large dataset
/// chunk by chunk keeps one chunk's encoded images in memory. Throws FormatError.
std::vector<std::int64_t> readBoundaries(const DatasetInfo& info);

/// True for a file named like one this reader opens (IDX, CIFAR, an image), or an
/// .h5 that HDF5 cannot open at all. When probeDataset() refuses such a file it is
/// damaged or truncated, and the reader still claims it, so that opening it says
/// what is wrong (ParaView would otherwise find no reader and ask for one).
bool isNamedLikeDataset(const std::string& path);

/// True for the file extensions an image folder may contain (.png, .jpg, .jpeg, .bmp).
bool isImageFileName(const std::string& fileName);

} // namespace formats
} // namespace dualembed
