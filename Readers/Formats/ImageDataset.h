// Image-classification datasets on disk, read into plain structs (no VTK).
//
// A dataset is probed once (cheap: headers, file lists, class names), then read
// in contiguous ranges of samples, so that a parallel reader can give each MPI
// rank only its own share.
#pragma once

#include <cstdint>
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
  Hdf5         ///< datasets images (N×H×W[×C] uint8), labels (N), optional label_names
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
};

/// Samples [first, first + count) of a dataset.
struct SampleBlock
{
  std::int64_t first = 0;
  std::int64_t count = 0;
  std::vector<std::uint8_t> pixels; ///< count·H·W·C, row-major HWC; empty for image folders
  std::vector<std::int32_t> labels;
  std::vector<std::int32_t> coarseLabels; ///< CIFAR-100 only
  std::vector<std::string> files;         ///< image folders only
};

/// Recognises the format of `path` (a file, or an image-folder root / any image in it),
/// validates headers and sizes, and lists classes. Throws FormatError.
DatasetInfo probeDataset(const std::string& path);

/// Reads samples [first, first + count) of a probed dataset. Throws FormatError.
SampleBlock readSamples(const DatasetInfo& info, std::int64_t first, std::int64_t count);

/// True for a file named like one this reader opens (IDX, CIFAR, an image), or an
/// .h5 that HDF5 cannot open at all. When probeDataset() refuses such a file it is
/// damaged or truncated, and the reader still claims it, so that opening it says
/// what is wrong (ParaView would otherwise find no reader and ask for one).
bool isNamedLikeDataset(const std::string& path);

/// True for the file extensions an image folder may contain (.png, .jpg, .jpeg, .bmp).
bool isImageFileName(const std::string& fileName);

} // namespace formats
} // namespace dualembed
