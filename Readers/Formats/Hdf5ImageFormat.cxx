#include "Hdf5ImageFormat.h"

#include "FormatUtil.h"
#include "Hdf5Util.h"

#include <hdf5.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <utility>

namespace dualembed
{
namespace formats
{
namespace detail
{
namespace
{

/// Without 'label_names', classes are numbered 0..max label; beyond this the labels are
/// certainly not class indices.
constexpr std::int32_t MaxNumberedClasses = 1000000;

struct Dataset
{
  Handle dataset;
  Handle space;
  Handle type;
  std::vector<hsize_t> dims;
};

/// Opens /name; returns an invalid dataset if it does not exist and `required` is false.
Dataset openDataset(hid_t file, const std::filesystem::path& path, const char* name, bool required,
  const char* expectation)
{
  Dataset result;
  const htri_t exists = H5Lexists(file, name, H5P_DEFAULT);
  if (exists < 0)
  {
    fail("The HDF5 file " + quoted(path) + " cannot be read: looking up the dataset '" + name +
      "' failed" + detailText() + ".");
  }
  if (exists == 0)
  {
    if (!required)
    {
      return result;
    }
    fail("The HDF5 file " + quoted(path) + " has no dataset '" + name + "' at its root; " +
      "an image file needs '" + name + "' (" + expectation + ").");
  }
  // H5Oopen + type check instead of H5Oget_info_by_name, whose signature differs between
  // HDF5 1.10 and 1.12.
  result.dataset = Handle(H5Oopen(file, name, H5P_DEFAULT), H5Oclose);
  if (!result.dataset.valid())
  {
    fail("The HDF5 file " + quoted(path) + " cannot open the object '" + name + "'" + detailText() +
      ".");
  }
  if (H5Iget_type(result.dataset.get()) != H5I_DATASET)
  {
    fail("The HDF5 file " + quoted(path) + " has an object '" + name +
      "' that is not a dataset; it must be " + expectation + ".");
  }
  result.space = Handle(H5Dget_space(result.dataset.get()), H5Sclose);
  result.type = Handle(H5Dget_type(result.dataset.get()), H5Tclose);
  if (!result.space.valid() || !result.type.valid())
  {
    fail("The HDF5 file " + quoted(path) + " cannot read the shape or type of '" + name + "'" +
      detailText() + ".");
  }
  if (H5Sget_simple_extent_type(result.space.get()) != H5S_SIMPLE)
  {
    fail("The HDF5 file " + quoted(path) + " has a dataset '" + name +
      "' that is not an array; it must be " + expectation + ".");
  }
  const int rank = H5Sget_simple_extent_ndims(result.space.get());
  if (rank < 0)
  {
    fail("The HDF5 file " + quoted(path) + " cannot read the shape of '" + name + "'" +
      detailText() + ".");
  }
  result.dims.resize(static_cast<std::size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(result.space.get(), result.dims.data(), nullptr) < 0)
  {
    fail("The HDF5 file " + quoted(path) + " cannot read the shape of '" + name + "'" +
      detailText() + ".");
  }
  return result;
}

std::string shapeText(const std::vector<hsize_t>& dims)
{
  std::string text;
  for (std::size_t i = 0; i < dims.size(); ++i)
  {
    text += (i ? "×" : "") + std::to_string(dims[i]);
  }
  return dims.empty() ? "a scalar" : text;
}

/// Refuses a dataset whose extent asks for more memory than its stored bytes can hold.
void checkExtent(const Dataset& data, const std::filesystem::path& path, const char* name,
  std::uint64_t valueBytes)
{
  const std::uint64_t bytes = checkedBytes(data.dims, valueBytes);
  const std::uint64_t limit = readLimit(data.dataset.get(), fileSize(path));
  if (bytes > limit)
  {
    fail("The HDF5 file " + quoted(path) + " declares a dataset '" + name + "' of shape " +
      shapeText(data.dims) + " but stores too few bytes for it (reading it would need " +
      (bytes == UINT64_MAX ? std::string("more than 2^64") : std::to_string(bytes)) +
      " bytes of memory); the file is damaged.");
  }
}

std::string typeText(hid_t type)
{
  const auto typeClass = H5Tget_class(type);
  const auto size = H5Tget_size(type);
  switch (typeClass)
  {
    case H5T_INTEGER:
      return std::string(H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") +
        std::to_string(size * 8);
    case H5T_FLOAT:
      return "float" + std::to_string(size * 8);
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    default:
      return "a non-numeric type";
  }
}

/// Reads labels [first, first + count) as int32 (HDF5 converts any integer type).
std::vector<std::int32_t> readLabels(
  const Dataset& labels, const std::filesystem::path& path, std::int64_t first, std::int64_t count)
{
  std::vector<std::int32_t> values(static_cast<std::size_t>(count));
  if (count == 0)
  {
    return values;
  }
  std::vector<hsize_t> start(labels.dims.size(), 0);
  std::vector<hsize_t> extent(labels.dims.size(), 1);
  start[0] = static_cast<hsize_t>(first);
  extent[0] = static_cast<hsize_t>(count);
  Handle fileSpace(H5Scopy(labels.space.get()), H5Sclose);
  const hsize_t memoryDims[1] = { static_cast<hsize_t>(count) };
  Handle memorySpace(H5Screate_simple(1, memoryDims, nullptr), H5Sclose);
  if (!fileSpace.valid() || !memorySpace.valid() ||
    H5Sselect_hyperslab(
      fileSpace.get(), H5S_SELECT_SET, start.data(), nullptr, extent.data(), nullptr) < 0 ||
    H5Dread(labels.dataset.get(), H5T_NATIVE_INT32, memorySpace.get(), fileSpace.get(), H5P_DEFAULT,
      values.data()) < 0)
  {
    fail("The HDF5 file " + quoted(path) + " cannot read labels " + std::to_string(first) + " to " +
      std::to_string(first + count - 1) + " of 'labels'" + detailText() + ".");
  }
  return values;
}

std::vector<std::string> readNames(const Dataset& names, const std::filesystem::path& path)
{
  const auto fail_ = [&](const std::string& what) {
    fail("The HDF5 file " + quoted(path) + " has a dataset 'label_names' that " + what +
      "; it must be a 1-D array of strings (one class name per label), or absent.");
  };
  if (H5Tget_class(names.type.get()) != H5T_STRING)
  {
    fail_("holds " + typeText(names.type.get()) + " values, not strings");
  }
  if (names.dims.size() != 1)
  {
    fail_("has the shape " + shapeText(names.dims));
  }
  const auto count = names.dims[0];
  if (count == 0)
  {
    fail_("is empty");
  }
  const auto stringSize = H5Tget_size(names.type.get());
  if (stringSize > MaxAttributeStringBytes)
  {
    fail_("holds strings of " + std::to_string(stringSize) + " bytes each");
  }
  const htri_t variable = H5Tis_variable_str(names.type.get());
  if (variable < 0)
  {
    fail_("has an unreadable string type");
  }
  // Variable-length strings are read as one pointer each, kept as std::string.
  checkExtent(names, path, "label_names", variable > 0 ? sizeof(std::string) : stringSize);
  std::vector<std::string> result;
  result.reserve(count);
  if (variable > 0)
  {
    Handle memoryType(H5Tcopy(H5T_C_S1), H5Tclose);
    if (!memoryType.valid() || H5Tset_size(memoryType.get(), H5T_VARIABLE) < 0 ||
      H5Tset_cset(memoryType.get(), H5Tget_cset(names.type.get())) < 0)
    {
      fail_("has an unreadable string type");
    }
    std::vector<char*> pointers(count, nullptr);
    if (H5Dread(names.dataset.get(), memoryType.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT,
          pointers.data()) < 0)
    {
      fail("The HDF5 file " + quoted(path) + " cannot read 'label_names'" + detailText() + ".");
    }
    for (char* name : pointers)
    {
      result.emplace_back(name ? name : "");
      // HDF5 allocated each string; H5free_memory (unlike H5Treclaim) exists in 1.10 and 1.12.
      H5free_memory(name);
    }
  }
  else
  {
    const auto size = H5Tget_size(names.type.get());
    if (size == 0)
    {
      fail_("has an unreadable string type");
    }
    Handle memoryType(H5Tcopy(names.type.get()), H5Tclose);
    if (!memoryType.valid())
    {
      fail_("has an unreadable string type");
    }
    std::vector<char> buffer(count * size, '\0');
    if (H5Dread(
          names.dataset.get(), memoryType.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
    {
      fail("The HDF5 file " + quoted(path) + " cannot read 'label_names'" + detailText() + ".");
    }
    for (hsize_t i = 0; i < count; ++i)
    {
      const char* begin = buffer.data() + i * size;
      std::size_t length = strnlen(begin, size);
      while (length > 0 && begin[length - 1] == ' ') // space-padded strings
      {
        --length;
      }
      result.emplace_back(begin, length);
    }
  }
  return result;
}

struct OpenFile
{
  Handle file;
  Dataset images;
  Dataset labels;
};

OpenFile openFile(const std::filesystem::path& path)
{
  OpenFile result;
  const htri_t isHdf5 = H5Fis_hdf5(path.c_str());
  if (isHdf5 <= 0)
  {
    fail("The file " + quoted(path) + " is not an HDF5 file" +
      (isHdf5 < 0 ? " or cannot be read" + detailText() : std::string()) +
      "; an HDF5 image file holds the datasets 'images' (N×H×W or N×H×W×C, uint8) and "
      "'labels' (N integers).");
  }
  result.file = Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!result.file.valid())
  {
    fail("The HDF5 file " + quoted(path) + " cannot be opened" + detailText() + ".");
  }
  // DualEmbed results files (SampleStore.h) are samples, not an image dataset.
  if (H5Aexists(result.file.get(), "dualembed_format") > 0)
  {
    fail("The HDF5 file " + quoted(path) +
      " is a DualEmbed results file (computed samples), "
      "not an image dataset; open it with the DualEmbed Samples Reader.");
  }
  H5Eclear2(H5E_DEFAULT);
  const char* imagesExpectation = "an N×H×W or N×H×W×C array of uint8 pixels";
  const char* labelsExpectation = "N integer class labels";
  result.images = openDataset(result.file.get(), path, "images", true, imagesExpectation);
  result.labels = openDataset(result.file.get(), path, "labels", true, labelsExpectation);

  const auto& images = result.images;
  if (images.dims.size() != 3 && images.dims.size() != 4)
  {
    fail("The HDF5 file " + quoted(path) + " has a dataset 'images' of shape " +
      shapeText(images.dims) + " (rank " + std::to_string(images.dims.size()) + "); it must be " +
      imagesExpectation + ".");
  }
  const hid_t imageType = images.type.get();
  if (H5Tget_class(imageType) != H5T_INTEGER || H5Tget_size(imageType) != 1 ||
    H5Tget_sign(imageType) != H5T_SGN_NONE)
  {
    fail("The HDF5 file " + quoted(path) + " has a dataset 'images' of type " +
      typeText(imageType) + "; it must be uint8 (convert the pixels to 0-255 bytes).");
  }
  for (std::size_t i = 1; i < images.dims.size(); ++i)
  {
    if (images.dims[i] == 0 || images.dims[i] > INT_MAX)
    {
      fail("The HDF5 file " + quoted(path) + " has a dataset 'images' of shape " +
        shapeText(images.dims) + ", which holds no usable images.");
    }
  }
  if (images.dims.size() == 4 && images.dims[3] > 4)
  {
    fail("The HDF5 file " + quoted(path) + " has a dataset 'images' of shape " +
      shapeText(images.dims) + ", that is " + std::to_string(images.dims[3]) +
      " channels; it must be N×H×W×C with C between 1 and 4 (channels last: transpose an "
      "N×C×H×W array).");
  }
  if (images.dims[0] == 0)
  {
    fail("The HDF5 file " + quoted(path) + " has an empty dataset 'images' (no images).");
  }

  const auto& labels = result.labels;
  const bool labelsRankOk =
    labels.dims.size() == 1 || (labels.dims.size() == 2 && labels.dims[1] == 1);
  if (!labelsRankOk)
  {
    fail("The HDF5 file " + quoted(path) + " has a dataset 'labels' of shape " +
      shapeText(labels.dims) + "; it must be 1-D (" + labelsExpectation + ").");
  }
  const auto labelsClass = H5Tget_class(labels.type.get());
  if (labelsClass != H5T_INTEGER && labelsClass != H5T_ENUM)
  {
    fail("The HDF5 file " + quoted(path) + " has a dataset 'labels' of type " +
      typeText(labels.type.get()) + "; it must hold integers (class indices).");
  }
  if (labels.dims[0] != images.dims[0])
  {
    fail("The HDF5 file " + quoted(path) + " has " + std::to_string(images.dims[0]) +
      " images but " + std::to_string(labels.dims[0]) +
      " labels; 'images' and 'labels' must have the same first dimension.");
  }
  // Labels are read as int32, pixels as bytes.
  checkExtent(images, path, "images", 1);
  checkExtent(labels, path, "labels", sizeof(std::int32_t));
  return result;
}

} // namespace

bool isHdf5FileName(const std::string& fileName)
{
  const auto name = toLower(fileName);
  return endsWith(name, ".h5") || endsWith(name, ".hdf5") || endsWith(name, ".hdf");
}

bool opensAsHdf5(const std::filesystem::path& path)
{
  QuietErrors quiet;
  const bool opens = H5Fis_hdf5(path.c_str()) > 0 &&
    Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose).valid();
  H5Eclear2(H5E_DEFAULT);
  return opens;
}

DatasetInfo probeHdf5(const std::filesystem::path& path)
{
  QuietErrors quiet;
  auto file = openFile(path);

  DatasetInfo info;
  info.kind = DatasetKind::Hdf5;
  info.path = path.string();
  info.numberOfSamples = static_cast<std::int64_t>(file.images.dims[0]);
  info.height = static_cast<int>(file.images.dims[1]);
  info.width = static_cast<int>(file.images.dims[2]);
  info.channels = file.images.dims.size() == 4 ? static_cast<int>(file.images.dims[3]) : 1;

  const auto labels = readLabels(file.labels, path, 0, info.numberOfSamples);
  const auto [minLabel, maxLabel] = std::minmax_element(labels.begin(), labels.end());
  if (*minLabel < 0)
  {
    fail("The HDF5 file " + quoted(path) + " has the negative label " + std::to_string(*minLabel) +
      " in 'labels'; labels must be class indices 0, 1, 2, ...");
  }
  const auto names = openDataset(file.file.get(), path, "label_names", false, "");
  if (names.dataset.valid())
  {
    info.classNames = readNames(names, path);
    if (*maxLabel >= static_cast<std::int64_t>(info.classNames.size()))
    {
      fail("The HDF5 file " + quoted(path) + " has the label " + std::to_string(*maxLabel) +
        " in 'labels' but 'label_names' names only " + std::to_string(info.classNames.size()) +
        " classes; add the missing class names.");
    }
  }
  else
  {
    if (*maxLabel >= MaxNumberedClasses)
    {
      fail("The HDF5 file " + quoted(path) + " has the label " + std::to_string(*maxLabel) +
        " in 'labels', which is implausibly large for a class index; labels must be class "
        "indices 0, 1, 2, ... (add a 'label_names' dataset naming every class).");
    }
    info.classNames = numberedNames(std::int64_t(*maxLabel) + 1);
  }
  return info;
}

SampleBlock readHdf5(const DatasetInfo& info, std::int64_t first, std::int64_t count)
{
  QuietErrors quiet;
  const std::filesystem::path path = info.path;
  SampleBlock block;
  block.first = first;
  block.count = count;
  if (count == 0)
  {
    return block;
  }
  auto file = openFile(path);
  const auto& images = file.images;
  const int channels = images.dims.size() == 4 ? static_cast<int>(images.dims[3]) : 1;
  if (static_cast<std::int64_t>(images.dims[0]) != info.numberOfSamples ||
    static_cast<int>(images.dims[1]) != info.height ||
    static_cast<int>(images.dims[2]) != info.width || channels != info.channels)
  {
    fail("The HDF5 file " + quoted(path) + " has changed since it was opened; open it again.");
  }

  const std::int64_t imageSize = std::int64_t(info.height) * info.width * info.channels;
  block.pixels.resize(static_cast<std::size_t>(count * imageSize));
  std::vector<hsize_t> start(images.dims.size(), 0);
  std::vector<hsize_t> extent = images.dims;
  start[0] = static_cast<hsize_t>(first);
  extent[0] = static_cast<hsize_t>(count);
  Handle fileSpace(H5Scopy(images.space.get()), H5Sclose);
  Handle memorySpace(
    H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr), H5Sclose);
  if (!fileSpace.valid() || !memorySpace.valid() ||
    H5Sselect_hyperslab(
      fileSpace.get(), H5S_SELECT_SET, start.data(), nullptr, extent.data(), nullptr) < 0 ||
    H5Dread(images.dataset.get(), H5T_NATIVE_UINT8, memorySpace.get(), fileSpace.get(), H5P_DEFAULT,
      block.pixels.data()) < 0)
  {
    fail("The HDF5 file " + quoted(path) + " cannot read images " + std::to_string(first) + " to " +
      std::to_string(first + count - 1) + " of 'images'" + detailText() +
      ". The file may be damaged or use a compression filter that is not available.");
  }
  block.labels = readLabels(file.labels, path, first, count);
  for (const auto label : block.labels)
  {
    if (label < 0 ||
      (!info.classNames.empty() && label >= static_cast<int>(info.classNames.size())))
    {
      fail("The HDF5 file " + quoted(path) + " has the label " + std::to_string(label) +
        " in 'labels', outside the dataset's " + std::to_string(info.classNames.size()) +
        " classes; it has changed since it was opened.");
    }
  }
  return block;
}

} // namespace detail
} // namespace formats
} // namespace dualembed
