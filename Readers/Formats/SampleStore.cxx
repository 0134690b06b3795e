#include "SampleStore.h"

#include "FormatUtil.h"
#include "Hdf5Util.h"

#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>
#include <unistd.h>
#include <utility>

#ifndef DUALEMBED_VERSION
#define DUALEMBED_VERSION "unknown"
#endif

namespace dualembed
{
namespace formats
{
namespace
{
using detail::fail;
using detail::quoted;

/// Numeric arrays above this size are chunked and compressed.
constexpr std::size_t CompressAbove = 64 * 1024;
/// Target chunk size (below HDF5's default 1 MiB chunk cache).
constexpr std::size_t ChunkBytes = 512 * 1024;
constexpr unsigned DeflateLevel = 4;

using detail::bytesText;
using detail::checkedBytes;
using detail::detailText;
using detail::fileSize;
using detail::Handle;
using detail::MaxAttributeStringBytes;
using detail::MaxFilterRatio;
using detail::QuietErrors;
using detail::readLimit;

hid_t memoryType(ColumnType type)
{
  switch (type)
  {
    case ColumnType::Int8:
      return H5T_NATIVE_INT8;
    case ColumnType::Int16:
      return H5T_NATIVE_INT16;
    case ColumnType::Int32:
      return H5T_NATIVE_INT32;
    case ColumnType::Int64:
      return H5T_NATIVE_INT64;
    case ColumnType::UInt8:
      return H5T_NATIVE_UINT8;
    case ColumnType::UInt16:
      return H5T_NATIVE_UINT16;
    case ColumnType::UInt32:
      return H5T_NATIVE_UINT32;
    case ColumnType::UInt64:
      return H5T_NATIVE_UINT64;
    case ColumnType::Float32:
      return H5T_NATIVE_FLOAT;
    case ColumnType::Float64:
      return H5T_NATIVE_DOUBLE;
    case ColumnType::String:
    default:
      return H5I_INVALID_HID;
  }
}

/// The type stored in the file: little-endian standard types (what NumPy calls <i4, <f4...).
hid_t fileType(ColumnType type)
{
  switch (type)
  {
    case ColumnType::Int8:
      return H5T_STD_I8LE;
    case ColumnType::Int16:
      return H5T_STD_I16LE;
    case ColumnType::Int32:
      return H5T_STD_I32LE;
    case ColumnType::Int64:
      return H5T_STD_I64LE;
    case ColumnType::UInt8:
      return H5T_STD_U8LE;
    case ColumnType::UInt16:
      return H5T_STD_U16LE;
    case ColumnType::UInt32:
      return H5T_STD_U32LE;
    case ColumnType::UInt64:
      return H5T_STD_U64LE;
    case ColumnType::Float32:
      return H5T_IEEE_F32LE;
    case ColumnType::Float64:
      return H5T_IEEE_F64LE;
    case ColumnType::String:
    default:
      return H5I_INVALID_HID;
  }
}

/// The column type of an HDF5 datatype; false for types without one.
bool columnTypeOf(hid_t type, ColumnType& result)
{
  const H5T_class_t typeClass = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  if (typeClass == H5T_STRING)
  {
    result = ColumnType::String;
    return true;
  }
  if (typeClass == H5T_INTEGER)
  {
    const bool isSigned = H5Tget_sign(type) != H5T_SGN_NONE;
    switch (size)
    {
      case 1:
        result = isSigned ? ColumnType::Int8 : ColumnType::UInt8;
        return true;
      case 2:
        result = isSigned ? ColumnType::Int16 : ColumnType::UInt16;
        return true;
      case 4:
        result = isSigned ? ColumnType::Int32 : ColumnType::UInt32;
        return true;
      case 8:
        result = isSigned ? ColumnType::Int64 : ColumnType::UInt64;
        return true;
      default:
        return false;
    }
  }
  if (typeClass == H5T_FLOAT && (size == 4 || size == 8))
  {
    result = size == 4 ? ColumnType::Float32 : ColumnType::Float64;
    return true;
  }
  return false;
}

/// Variable-length UTF-8 string type (memory and file).
Handle utf8StringType()
{
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  if (!type.valid() || H5Tset_size(type.get(), H5T_VARIABLE) < 0 ||
    H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0)
  {
    return Handle();
  }
  return type;
}

/// Link names: '/' separates groups and "." is the group itself in HDF5.
std::string escapeName(const std::string& name)
{
  if (name == ".")
  {
    return "%2E";
  }
  std::string result;
  for (const char c : name)
  {
    if (c == '%')
    {
      result += "%25";
    }
    else if (c == '/')
    {
      result += "%2F";
    }
    else
    {
      result += c;
    }
  }
  return result;
}

std::string unescapeName(const std::string& link)
{
  std::string result;
  for (std::size_t i = 0; i < link.size(); ++i)
  {
    if (link[i] == '%' && i + 2 < link.size())
    {
      const std::string code = link.substr(i + 1, 2);
      if (code == "25" || code == "2F" || code == "2E")
      {
        result += code == "25" ? '%' : code == "2F" ? '/' : '.';
        i += 2;
        continue;
      }
    }
    result += link[i];
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// Writing

class Writer
{
public:
  explicit Writer(const std::string& path)
    : Path(path)
  {
  }

  [[noreturn]] void error(const std::string& what) const
  {
    fail("Cannot write the results file " + quoted(this->Path) + ": " + what + detailText() + ".");
  }

  void stringAttribute(hid_t object, const char* name, const std::string& value) const
  {
    Handle type = utf8StringType();
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    Handle attribute(type.valid() && space.valid()
        ? H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT)
        : H5I_INVALID_HID,
      H5Aclose);
    const char* text = value.c_str();
    if (!attribute.valid() || H5Awrite(attribute.get(), type.get(), &text) < 0)
    {
      this->error(std::string("writing the attribute '") + name + "' failed");
    }
  }

  void stringListAttribute(
    hid_t object, const std::string& name, const std::vector<const char*>& values) const
  {
    Handle type = utf8StringType();
    const hsize_t dims[1] = { values.size() };
    Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    Handle attribute(type.valid() && space.valid()
        ? H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT)
        : H5I_INVALID_HID,
      H5Aclose);
    if (!attribute.valid() ||
      (!values.empty() && H5Awrite(attribute.get(), type.get(), values.data()) < 0))
    {
      this->error("writing the attribute '" + name + "' failed");
    }
  }

  void integerAttribute(hid_t object, const char* name, std::int64_t value) const
  {
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    Handle attribute(space.valid()
        ? H5Acreate2(object, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT)
        : H5I_INVALID_HID,
      H5Aclose);
    if (!attribute.valid() || H5Awrite(attribute.get(), H5T_NATIVE_INT64, &value) < 0)
    {
      this->error(std::string("writing the attribute '") + name + "' failed");
    }
  }

  Handle group(hid_t parent, const char* name) const
  {
    // Track creation order: arrays come back in the order they were written.
    Handle properties(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
    if (!properties.valid() ||
      H5Pset_link_creation_order(properties.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED) <
        0)
    {
      this->error(std::string("creating the group '") + name + "' failed");
    }
    Handle result(H5Gcreate2(parent, name, H5P_DEFAULT, properties.get(), H5P_DEFAULT), H5Gclose);
    if (!result.valid())
    {
      this->error(std::string("creating the group '") + name + "' failed");
    }
    return result;
  }

  /// The chunked, compressed storage of a dataset larger than CompressAbove bytes, with
  /// Fletcher-32 checksums (damaged chunks fail to read instead of giving wrong values).
  Handle storage(std::int64_t rows, int rank, int components, std::size_t valueSize,
    bool compressible, const std::string& what) const
  {
    Handle properties(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    if (!properties.valid())
    {
      this->error("preparing " + what + " failed");
    }
    const std::size_t rowBytes = valueSize * components;
    if (compressible && static_cast<std::size_t>(rows) * rowBytes > CompressAbove &&
      H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0)
    {
      const hsize_t chunk[2] = {
        std::max<hsize_t>(1, std::min<hsize_t>(static_cast<hsize_t>(rows), ChunkBytes / rowBytes)),
        static_cast<hsize_t>(components)
      };
      if (H5Pset_chunk(properties.get(), rank, chunk) < 0 || H5Pset_shuffle(properties.get()) < 0 ||
        H5Pset_deflate(properties.get(), DeflateLevel) < 0 ||
        H5Pset_fletcher32(properties.get()) < 0)
      {
        this->error("setting up compression for " + what + " failed");
      }
    }
    return properties;
  }

  /// Writes `rows` rows of `buffer` into `dataset` from row `firstRow`.
  void rows(hid_t dataset, hid_t valueType, const void* buffer, std::int64_t firstRow,
    std::int64_t rows, const std::string& what) const
  {
    if (rows == 0)
    {
      return;
    }
    Handle fileSpace(H5Dget_space(dataset), H5Sclose);
    const int rank = fileSpace.valid() ? H5Sget_simple_extent_ndims(fileSpace.get()) : -1;
    hsize_t dims[2] = { 0, 1 };
    if (rank < 1 || rank > 2 || H5Sget_simple_extent_dims(fileSpace.get(), dims, nullptr) < 0 ||
      static_cast<hsize_t>(firstRow + rows) > dims[0])
    {
      this->error("the rows of " + what + " do not fit its dataset");
    }
    const hsize_t start[2] = { static_cast<hsize_t>(firstRow), 0 };
    const hsize_t count[2] = { static_cast<hsize_t>(rows), dims[1] };
    Handle memorySpace(H5Screate_simple(rank, count, nullptr), H5Sclose);
    if (!memorySpace.valid() ||
      H5Sselect_hyperslab(fileSpace.get(), H5S_SELECT_SET, start, nullptr, count, nullptr) < 0 ||
      H5Dwrite(dataset, valueType, memorySpace.get(), fileSpace.get(), H5P_DEFAULT, buffer) < 0)
    {
      this->error("writing " + what + " failed (is the disk full?)");
    }
  }

  /// One column's dataset (totalRows,) or (totalRows, components): created by the first part,
  /// opened (and checked against the column) by the others; then the part's rows written.
  void column(hid_t parent, const ColumnView& column, const std::string& where,
    const SampleStorePart& part) const
  {
    const std::string what = "the array '" + column.name + "' (" + where + ")";
    if (column.components < 1 || column.rows < 0)
    {
      fail("Cannot write the results file " + quoted(this->Path) + ": " + what + " has " +
        std::to_string(column.components) + " components and " + std::to_string(column.rows) +
        " rows.");
    }
    const bool isString = column.type == ColumnType::String;
    const std::size_t count = static_cast<std::size_t>(column.rows) * column.components;
    if (isString ? column.strings.size() != count : (count > 0 && !column.values))
    {
      fail("Cannot write the results file " + quoted(this->Path) + ": " + what +
        " has fewer values than rows × components.");
    }
    Handle stringType = isString ? utf8StringType() : Handle();
    const hid_t storedType = isString ? stringType.get() : fileType(column.type);
    const hid_t valueType = isString ? stringType.get() : memoryType(column.type);
    if (storedType < 0)
    {
      this->error("preparing " + what + " failed");
    }
    const std::string link = escapeName(column.name);
    Handle dataset;
    if (part.create)
    {
      const hsize_t dims[2] = { static_cast<hsize_t>(part.totalRows),
        static_cast<hsize_t>(column.components) };
      Handle space(H5Screate_simple(column.components == 1 ? 1 : 2, dims, nullptr), H5Sclose);
      Handle properties = this->storage(part.totalRows, column.components == 1 ? 1 : 2,
        column.components, columnTypeSize(column.type), !isString, what);
      dataset = Handle(space.valid() ? H5Dcreate2(parent, link.c_str(), storedType, space.get(),
                                         H5P_DEFAULT, properties.get(), H5P_DEFAULT)
                                     : H5I_INVALID_HID,
        H5Dclose);
      if (!dataset.valid())
      {
        this->error("creating the dataset for " + what + " failed");
      }
      this->attributes(dataset.get(), column.attributes);
    }
    else
    {
      dataset = this->existing(parent, link, what);
      Handle type(H5Dget_type(dataset.get()), H5Tclose);
      Handle space(H5Dget_space(dataset.get()), H5Sclose);
      hsize_t dims[2] = { 0, 1 };
      if (!type.valid() || !space.valid() ||
        H5Sget_simple_extent_dims(space.get(), dims, nullptr) < 0 ||
        H5Tget_class(type.get()) != H5Tget_class(storedType) ||
        (!isString && H5Tget_size(type.get()) != H5Tget_size(storedType)) ||
        dims[1] != static_cast<hsize_t>(column.components))
      {
        this->error(what + " differs in type or components from the first process's");
      }
    }
    const void* buffer = isString ? static_cast<const void*>(column.strings.data()) : column.values;
    this->rows(dataset.get(), valueType, buffer, part.firstRow, column.rows, what);
  }

  void attributes(hid_t dataset, const ColumnAttributes& attributes) const
  {
    if (!attributes.vtkClass.empty())
    {
      this->stringAttribute(dataset, "vtk_class", attributes.vtkClass);
    }
    if (attributes.vtkDataType >= 0)
    {
      this->integerAttribute(dataset, "vtk_data_type", attributes.vtkDataType);
    }
    if (attributes.embedding)
    {
      this->stringAttribute(dataset, "dualembed_role", "embedding");
    }
  }

  /// A dataset the first part created; a clear error where it did not.
  Handle existing(hid_t parent, const std::string& link, const std::string& what) const
  {
    Handle dataset(H5Lexists(parent, link.c_str(), H5P_DEFAULT) > 0
        ? H5Dopen2(parent, link.c_str(), H5P_DEFAULT)
        : H5I_INVALID_HID,
      H5Dclose);
    if (!dataset.valid())
    {
      this->error(what +
        " is not in the file the first process created (the processes hold "
        "different arrays)");
    }
    return dataset;
  }

  void points(hid_t file, const SampleStoreContents& contents, const SampleStorePart& part) const
  {
    const std::size_t valueSize = contents.pointsAreDouble ? 8 : 4;
    const hid_t memory = contents.pointsAreDouble ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT;
    Handle dataset;
    if (part.create)
    {
      const hsize_t dims[2] = { static_cast<hsize_t>(part.totalRows), 3 };
      Handle space(H5Screate_simple(2, dims, nullptr), H5Sclose);
      Handle properties = this->storage(part.totalRows, 2, 3, valueSize, true, "'/points'");
      const hid_t stored = contents.pointsAreDouble ? H5T_IEEE_F64LE : H5T_IEEE_F32LE;
      dataset = Handle(space.valid() ? H5Dcreate2(file, "points", stored, space.get(), H5P_DEFAULT,
                                         properties.get(), H5P_DEFAULT)
                                     : H5I_INVALID_HID,
        H5Dclose);
      if (!dataset.valid())
      {
        this->error("creating '/points' failed");
      }
    }
    else
    {
      dataset = this->existing(file, "points", "'/points'");
    }
    this->rows(
      dataset.get(), memory, contents.points, part.firstRow, contents.numberOfSamples, "'/points'");
  }

  void write(const std::string& target, const SampleStoreContents& contents,
    const SampleStorePart& part) const
  {
    const std::int64_t rows = contents.numberOfSamples;
    if (rows < 0 || part.firstRow < 0 || part.firstRow + rows > part.totalRows)
    {
      fail("Cannot write the results file " + quoted(this->Path) + ": rows " +
        std::to_string(part.firstRow) + " to " + std::to_string(part.firstRow + rows) +
        " do not fit " + std::to_string(part.totalRows) + " samples.");
    }
    Handle file(part.create ? H5Fcreate(target.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)
                            : H5Fopen(target.c_str(), H5F_ACC_RDWR, H5P_DEFAULT),
      H5Fclose);
    if (!file.valid())
    {
      this->error(part.create ? "the file cannot be created (is the folder writable?)"
                              : "the file the first process created cannot be opened");
    }
    const hid_t root = file.get();
    if (part.create)
    {
      this->stringAttribute(root, SampleStoreFormatAttribute, SampleStoreFormatName);
      this->integerAttribute(root, "dualembed_format_version", SampleStoreFormatVersion);
      this->stringAttribute(root, "dualembed_version", DUALEMBED_VERSION);
      this->integerAttribute(root, "number_of_samples", part.totalRows);
    }

    // Every part writes points where the first part did (all parts' samples have them or none).
    const bool filePoints =
      part.create ? contents.points != nullptr : H5Lexists(root, "points", H5P_DEFAULT) > 0;
    if (filePoints && rows > 0 && !contents.points)
    {
      this->error("the samples of this process have no points, those of the first one have");
    }
    if (filePoints)
    {
      this->points(root, contents, part);
    }
    Handle pointData = part.create ? this->group(root, "point_data")
                                   : Handle(H5Gopen2(root, "point_data", H5P_DEFAULT), H5Gclose);
    if (!pointData.valid())
    {
      this->error("the group '/point_data' cannot be opened");
    }
    if (part.create)
    {
      for (const auto& [name, value] : contents.pointDataAttributes)
      {
        this->stringAttribute(pointData.get(), name.c_str(), value);
      }
    }
    else if (rows > 0)
    {
      // The other parts write into every array the first one created, or the rows stay empty.
      H5G_info_t info;
      if (H5Gget_info(pointData.get(), &info) < 0 || info.nlinks != contents.pointData.size())
      {
        this->error("this process holds " + std::to_string(contents.pointData.size()) +
          " point-data arrays, the first one " + std::to_string(info.nlinks));
      }
    }
    for (const ColumnView& column : contents.pointData)
    {
      if (column.rows != rows)
      {
        fail("Cannot write the results file " + quoted(this->Path) + ": the point-data array '" +
          column.name + "' has " + std::to_string(column.rows) + " rows but there are " +
          std::to_string(rows) + " samples.");
      }
      this->column(pointData.get(), column, "point data", part);
    }
    if (part.create)
    {
      // Field data (class names, provenance) once, from the first part.
      Handle fieldData = this->group(root, "field_data");
      for (const ColumnView& column : contents.fieldData)
      {
        this->column(fieldData.get(), column, "field data", { 0, column.rows, true });
        // Model provenance also as root attributes, where HDF5 tools show them first.
        if (column.type == ColumnType::String && column.name.rfind("model_", 0) == 0 &&
          column.name.find('/') == std::string::npos && column.name != "model_")
        {
          this->stringListAttribute(root, column.name, column.strings);
        }
      }
    }
    if (H5Fflush(root, H5F_SCOPE_GLOBAL) < 0)
    {
      this->error("flushing the file failed (is the disk full?)");
    }
  }

private:
  std::string Path;
};

// ---------------------------------------------------------------------------------------
// Reading

bool readStringAttribute(hid_t object, const char* name, std::string& value)
{
  if (H5Aexists(object, name) <= 0)
  {
    return false;
  }
  Handle attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  Handle type(attribute.valid() ? H5Aget_type(attribute.get()) : H5I_INVALID_HID, H5Tclose);
  Handle space(attribute.valid() ? H5Aget_space(attribute.get()) : H5I_INVALID_HID, H5Sclose);
  if (!type.valid() || !space.valid() || H5Tget_class(type.get()) != H5T_STRING ||
    H5Sget_simple_extent_npoints(space.get()) != 1)
  {
    return false;
  }
  const htri_t variable = H5Tis_variable_str(type.get());
  if (variable > 0)
  {
    Handle memory = utf8StringType();
    char* text = nullptr;
    if (!memory.valid() || H5Aread(attribute.get(), memory.get(), &text) < 0)
    {
      return false;
    }
    value = text ? text : "";
    H5free_memory(text);
    return true;
  }
  if (variable < 0)
  {
    return false;
  }
  const std::size_t size = H5Tget_size(type.get());
  if (size == 0 || size > MaxAttributeStringBytes)
  {
    return false;
  }
  std::vector<char> buffer(size + 1, '\0');
  if (H5Aread(attribute.get(), type.get(), buffer.data()) < 0)
  {
    return false;
  }
  value.assign(buffer.data(), strnlen(buffer.data(), size));
  return true;
}

bool readIntegerAttribute(hid_t object, const char* name, std::int64_t& value)
{
  if (H5Aexists(object, name) <= 0)
  {
    return false;
  }
  Handle attribute(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  Handle type(attribute.valid() ? H5Aget_type(attribute.get()) : H5I_INVALID_HID, H5Tclose);
  Handle space(attribute.valid() ? H5Aget_space(attribute.get()) : H5I_INVALID_HID, H5Sclose);
  return type.valid() && space.valid() && H5Tget_class(type.get()) == H5T_INTEGER &&
    H5Sget_simple_extent_npoints(space.get()) == 1 &&
    H5Aread(attribute.get(), H5T_NATIVE_INT64, &value) >= 0;
}

/// Names of the links of a group, in creation order when tracked, else by name.
std::vector<std::string> linkNames(hid_t group)
{
  std::vector<std::string> names;
  H5G_info_t info;
  if (H5Gget_info(group, &info) < 0)
  {
    throw FormatError("listing");
  }
  H5_index_t index = H5_INDEX_NAME;
  Handle properties(H5Gget_create_plist(group), H5Pclose);
  unsigned flags = 0;
  if (properties.valid() && H5Pget_link_creation_order(properties.get(), &flags) >= 0 &&
    (flags & H5P_CRT_ORDER_TRACKED))
  {
    index = H5_INDEX_CRT_ORDER;
  }
  for (hsize_t i = 0; i < info.nlinks; ++i)
  {
    ssize_t size = H5Lget_name_by_idx(group, ".", index, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (size < 0 && index == H5_INDEX_CRT_ORDER)
    {
      index = H5_INDEX_NAME; // creation order tracked but not indexed: fall back
      names.clear();
      i = static_cast<hsize_t>(-1);
      H5Eclear2(H5E_DEFAULT);
      continue;
    }
    if (size < 0)
    {
      throw FormatError("listing");
    }
    std::string name(static_cast<std::size_t>(size), '\0');
    if (H5Lget_name_by_idx(
          group, ".", index, H5_ITER_INC, i, name.data(), name.size() + 1, H5P_DEFAULT) < 0)
    {
      throw FormatError("listing");
    }
    names.push_back(name);
  }
  return names;
}

} // namespace

const char* columnTypeName(ColumnType type)
{
  switch (type)
  {
    case ColumnType::Int8:
      return "int8";
    case ColumnType::Int16:
      return "int16";
    case ColumnType::Int32:
      return "int32";
    case ColumnType::Int64:
      return "int64";
    case ColumnType::UInt8:
      return "uint8";
    case ColumnType::UInt16:
      return "uint16";
    case ColumnType::UInt32:
      return "uint32";
    case ColumnType::UInt64:
      return "uint64";
    case ColumnType::Float32:
      return "float32";
    case ColumnType::Float64:
      return "float64";
    case ColumnType::String:
    default:
      return "string";
  }
}

std::size_t columnTypeSize(ColumnType type)
{
  switch (type)
  {
    case ColumnType::Int8:
    case ColumnType::UInt8:
      return 1;
    case ColumnType::Int16:
    case ColumnType::UInt16:
      return 2;
    case ColumnType::Int32:
    case ColumnType::UInt32:
    case ColumnType::Float32:
      return 4;
    case ColumnType::Int64:
    case ColumnType::UInt64:
    case ColumnType::Float64:
      return 8;
    case ColumnType::String:
    default:
      return 0;
  }
}

const char* dualembedVersion()
{
  return DUALEMBED_VERSION;
}

std::string partialSampleStorePath(const std::string& path, long tag)
{
  return path + ".partial-" + std::to_string(tag);
}

void writeSampleStorePart(const std::string& path, const std::string& partial,
  const SampleStoreContents& contents, const SampleStorePart& part)
{
  QuietErrors quiet;
  if (path.empty())
  {
    fail("No file name given for the results file.");
  }
  try
  {
    Writer(path).write(partial, contents, part);
  }
  catch (...)
  {
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
    throw;
  }
}

void finishSampleStore(const std::string& path, const std::string& partial, bool complete)
{
  std::error_code error;
  if (complete)
  {
    std::filesystem::rename(partial, path, error);
  }
  if (!complete || error)
  {
    std::error_code ignored;
    std::filesystem::remove(partial, ignored);
  }
  if (error)
  {
    fail("Cannot write the results file " + quoted(path) + ": renaming the finished file failed (" +
      error.message() + ").");
  }
}

void writeSampleStore(const std::string& path, const SampleStoreContents& contents)
{
  if (contents.numberOfSamples < 0)
  {
    fail("Cannot write the results file " + quoted(path) + ": negative number of samples.");
  }
  // Write under a temporary name, then rename: no partial file at `path` on failure,
  // and a reader that has the old file open is not disturbed.
  const std::string partial = partialSampleStorePath(path, ::getpid());
  writeSampleStorePart(path, partial, contents, { 0, contents.numberOfSamples, true });
  finishSampleStore(path, partial, true);
}

bool isSampleStoreFile(const std::string& path)
{
  QuietErrors quiet;
  if (H5Fis_hdf5(path.c_str()) <= 0)
  {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  std::string format;
  const bool result = file.valid() &&
    readStringAttribute(file.get(), SampleStoreFormatAttribute, format) &&
    format == SampleStoreFormatName;
  H5Eclear2(H5E_DEFAULT);
  return result;
}

struct SampleStoreFile::Impl
{
  Handle File;
  Handle PointData;
  Handle FieldData;
};

SampleStoreFile::~SampleStoreFile()
{
  QuietErrors quiet;
  this->P.reset();
}

SampleStoreFile::SampleStoreFile(const std::string& path)
  : P(new Impl)
  , Path(path)
{
  QuietErrors quiet;
  const std::string file = quoted(path);
  std::error_code missing;
  if (!std::filesystem::exists(path, missing))
  {
    fail("The file " + file + " does not exist.");
  }
  const htri_t isHdf5 = H5Fis_hdf5(path.c_str());
  if (isHdf5 <= 0)
  {
    const std::string detail = detailText();
    fail(isHdf5 < 0 ? "The file " + file + " cannot be read" + detail + "; is the name right?"
                    : "The file " + file +
          " is not an HDF5 file; a DualEmbed results file is an HDF5 file written by the "
          "DualEmbed Samples writer (Save Data, .h5).");
  }
  this->P->File = Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!this->P->File.valid())
  {
    fail("The HDF5 file " + file + " cannot be opened" + detailText() +
      "; it may be truncated or damaged (was it copied completely?).");
  }
  const hid_t root = this->P->File.get();

  std::string format;
  if (!readStringAttribute(root, SampleStoreFormatAttribute, format) ||
    format != SampleStoreFormatName)
  {
    H5Eclear2(H5E_DEFAULT);
    const bool imageFile = H5Lexists(root, "images", H5P_DEFAULT) > 0;
    H5Eclear2(H5E_DEFAULT);
    fail("The HDF5 file " + file + " is not a DualEmbed results file: it has no root attribute " +
      SampleStoreFormatAttribute + " = \"" + SampleStoreFormatName + "\"" +
      (imageFile ? ". It holds an 'images' dataset: open it with the Image Dataset Reader."
                 : (format.empty() ? "." : " (it says \"" + format + "\").")));
  }
  std::int64_t version = 0;
  if (!readIntegerAttribute(root, "dualembed_format_version", version) || version < 1)
  {
    fail("The DualEmbed results file " + file +
      " has no valid root attribute dualembed_format_version; the file is damaged.");
  }
  if (version > SampleStoreFormatVersion)
  {
    fail("The DualEmbed results file " + file + " uses format version " + std::to_string(version) +
      ", written by a newer DualEmbed; this DualEmbed (" + DUALEMBED_VERSION + ") reads version " +
      std::to_string(SampleStoreFormatVersion) + ". Update DualEmbed.");
  }
  readStringAttribute(root, "dualembed_version", this->Version);
  if (!readIntegerAttribute(root, "number_of_samples", this->Samples) || this->Samples < 0)
  {
    fail("The DualEmbed results file " + file +
      " has no valid root attribute number_of_samples; the file is damaged.");
  }
  // Every sample becomes a point (3 doubles at most), even without arrays.
  const std::uint64_t fileBytes = static_cast<std::uint64_t>(fileSize(path));
  if (static_cast<std::uint64_t>(this->Samples) > (fileBytes + 4096) * MaxFilterRatio / 24)
  {
    fail("The DualEmbed results file " + file + " announces " + std::to_string(this->Samples) +
      " samples, more than a file of " + bytesText(static_cast<std::int64_t>(fileBytes)) +
      " can describe; the file is damaged.");
  }
  H5Eclear2(H5E_DEFAULT);

  // Datasets of one group, checked against number_of_samples (point data).
  const auto listGroup = [&](const char* name, bool pointData, Handle& group,
                           std::vector<ColumnInfo>& columns) {
    const htri_t exists = H5Lexists(root, name, H5P_DEFAULT);
    if (exists < 0)
    {
      fail("The DualEmbed results file " + file + " cannot be read: looking up '/" + name +
        "' failed" + detailText() + "; the file is damaged.");
    }
    if (exists == 0)
    {
      if (pointData)
      {
        fail("The DualEmbed results file " + file +
          " has no group '/point_data'; the file is damaged.");
      }
      return;
    }
    group = Handle(H5Gopen2(root, name, H5P_DEFAULT), H5Gclose);
    if (!group.valid())
    {
      fail("The DualEmbed results file " + file + " cannot open '/" + name + "' as a group" +
        detailText() + "; the file is damaged.");
    }
    std::vector<std::string> links;
    try
    {
      links = linkNames(group.get());
    }
    catch (const FormatError&)
    {
      fail("The DualEmbed results file " + file + " cannot list '/" + name + "'" + detailText() +
        "; the file is damaged.");
    }
    for (const std::string& link : links)
    {
      const std::string where = std::string("/") + name + "/" + link;
      Handle object(H5Oopen(group.get(), link.c_str(), H5P_DEFAULT), H5Oclose);
      if (!object.valid())
      {
        fail("The DualEmbed results file " + file + " cannot open '" + where + "'" + detailText() +
          "; the file is damaged.");
      }
      if (H5Iget_type(object.get()) != H5I_DATASET)
      {
        this->Skipped.push_back("'" + where + "' is not a dataset");
        continue;
      }
      Handle type(H5Dget_type(object.get()), H5Tclose);
      Handle space(H5Dget_space(object.get()), H5Sclose);
      if (!type.valid() || !space.valid())
      {
        fail("The DualEmbed results file " + file + " cannot read the type or shape of '" + where +
          "'" + detailText() + "; the file is damaged.");
      }
      ColumnInfo column;
      column.linkName = link;
      column.name = unescapeName(link);
      const int rank = H5Sget_simple_extent_ndims(space.get());
      hsize_t dims[2] = { 0, 1 };
      if (!columnTypeOf(type.get(), column.type))
      {
        this->Skipped.push_back("'" + where + "' has a type without an array equivalent");
        continue;
      }
      if (H5Sget_simple_extent_type(space.get()) != H5S_SIMPLE || rank < 1 || rank > 2 ||
        H5Sget_simple_extent_dims(space.get(), dims, nullptr) < 0 || dims[1] < 1 ||
        dims[1] > static_cast<hsize_t>(std::numeric_limits<int>::max()))
      {
        this->Skipped.push_back("'" + where + "' is not a 1-D or 2-D array");
        H5Eclear2(H5E_DEFAULT);
        continue;
      }
      column.rows = static_cast<std::int64_t>(dims[0]);
      column.components = static_cast<int>(dims[1]);
      if (pointData && column.rows != this->Samples)
      {
        fail("The DualEmbed results file " + file + " has " + std::to_string(column.rows) +
          " rows in '" + where + "' but number_of_samples is " + std::to_string(this->Samples) +
          "; the file is damaged.");
      }
      // Readers allocate rows·components values before reading them.
      const std::size_t stringSize = H5Tget_size(type.get());
      const std::uint64_t valueBytes = column.type != ColumnType::String
        ? columnTypeSize(column.type)
        : (H5Tis_variable_str(type.get()) > 0 ? sizeof(std::string) : stringSize);
      if (column.type == ColumnType::String && stringSize > MaxAttributeStringBytes)
      {
        fail("The DualEmbed results file " + file + " has strings of " +
          std::to_string(stringSize) + " bytes each in '" + where + "'; the file is damaged.");
      }
      if (checkedBytes({ dims[0], dims[1] }, valueBytes) > readLimit(object.get(), fileBytes))
      {
        fail("The DualEmbed results file " + file + " declares " + std::to_string(dims[0]) + "×" +
          std::to_string(dims[1]) + " values in '" + where +
          "' but stores too few bytes for them; the file is damaged.");
      }
      std::string vtkClass;
      if (readStringAttribute(object.get(), "vtk_class", vtkClass))
      {
        column.attributes.vtkClass = vtkClass;
      }
      std::int64_t vtkType = -1;
      if (readIntegerAttribute(object.get(), "vtk_data_type", vtkType))
      {
        column.attributes.vtkDataType = static_cast<int>(vtkType);
      }
      std::string role;
      column.attributes.embedding =
        readStringAttribute(object.get(), "dualembed_role", role) && role == "embedding";
      Handle properties(H5Dget_create_plist(object.get()), H5Pclose);
      column.compressed = properties.valid() && H5Pget_nfilters(properties.get()) > 0;
      H5Eclear2(H5E_DEFAULT);
      columns.push_back(std::move(column));
    }
  };
  listGroup("point_data", true, this->P->PointData, this->PointColumns);
  listGroup("field_data", false, this->P->FieldData, this->FieldColumns);

  // Active attributes (active_scalars, ...) on /point_data.
  const char* attributeNames[] = { "active_scalars", "active_vectors", "active_normals",
    "active_tcoords", "active_tensors", "active_global_ids", "active_pedigree_ids" };
  for (const char* attribute : attributeNames)
  {
    std::string value;
    if (readStringAttribute(this->P->PointData.get(), attribute, value))
    {
      this->Attributes.emplace_back(attribute, value);
    }
  }
  H5Eclear2(H5E_DEFAULT);

  const htri_t points = H5Lexists(root, "points", H5P_DEFAULT);
  if (points > 0)
  {
    Handle dataset(H5Dopen2(root, "points", H5P_DEFAULT), H5Dclose);
    Handle type(dataset.valid() ? H5Dget_type(dataset.get()) : H5I_INVALID_HID, H5Tclose);
    Handle space(dataset.valid() ? H5Dget_space(dataset.get()) : H5I_INVALID_HID, H5Sclose);
    hsize_t dims[2] = { 0, 0 };
    if (!type.valid() || !space.valid() || H5Tget_class(type.get()) != H5T_FLOAT ||
      H5Sget_simple_extent_ndims(space.get()) != 2 ||
      H5Sget_simple_extent_dims(space.get(), dims, nullptr) < 0 || dims[1] != 3 ||
      dims[0] != static_cast<hsize_t>(this->Samples) ||
      checkedBytes({ dims[0], dims[1] }, 8) > readLimit(dataset.get(), fileBytes))
    {
      fail("The DualEmbed results file " + file + " has a '/points' dataset that is not " +
        std::to_string(this->Samples) + "×3 floats" + detailText() + "; the file is damaged.");
    }
    this->PointsPresent = true;
    this->PointsDouble = H5Tget_size(type.get()) == 8;
  }
  H5Eclear2(H5E_DEFAULT);
}

const ColumnInfo* SampleStoreFile::findPointData(const std::string& name) const
{
  for (const ColumnInfo& column : this->PointColumns)
  {
    if (column.name == name)
    {
      return &column;
    }
  }
  return nullptr;
}

const ColumnInfo* SampleStoreFile::findFieldData(const std::string& name) const
{
  for (const ColumnInfo& column : this->FieldColumns)
  {
    if (column.name == name)
    {
      return &column;
    }
  }
  return nullptr;
}

namespace
{
/// Reads rows [first, first + count) of `name` in `group` with `type` into `out`.
void readRows(const std::string& path, hid_t group, const std::string& link,
  const std::string& where, std::int64_t first, std::int64_t count, hid_t type, void* out)
{
  Handle dataset(H5Dopen2(group, link.c_str(), H5P_DEFAULT), H5Dclose);
  Handle fileSpace(dataset.valid() ? H5Dget_space(dataset.get()) : H5I_INVALID_HID, H5Sclose);
  const int rank = fileSpace.valid() ? H5Sget_simple_extent_ndims(fileSpace.get()) : -1;
  hsize_t dims[2] = { 0, 1 };
  if (rank < 1 || rank > 2 || H5Sget_simple_extent_dims(fileSpace.get(), dims, nullptr) < 0 ||
    first < 0 || count < 0 || static_cast<hsize_t>(first + count) > dims[0])
  {
    fail("The DualEmbed results file " + quoted(path) + " cannot read rows " +
      std::to_string(first) + " to " + std::to_string(first + count - 1) + " of '" + where + "'" +
      detailText() + "; the file has changed since it was opened or is damaged.");
  }
  if (count == 0)
  {
    return;
  }
  const hsize_t start[2] = { static_cast<hsize_t>(first), 0 };
  const hsize_t extent[2] = { static_cast<hsize_t>(count), dims[1] };
  Handle memorySpace(H5Screate_simple(rank, extent, nullptr), H5Sclose);
  if (!memorySpace.valid() ||
    H5Sselect_hyperslab(fileSpace.get(), H5S_SELECT_SET, start, nullptr, extent, nullptr) < 0 ||
    H5Dread(dataset.get(), type, memorySpace.get(), fileSpace.get(), H5P_DEFAULT, out) < 0)
  {
    fail("The DualEmbed results file " + quoted(path) + " cannot read '" + where + "'" +
      detailText() + "; the file is truncated or damaged.");
  }
}
}

void SampleStoreFile::readNumeric(
  const ColumnInfo& column, bool fieldData, std::int64_t first, std::int64_t count, void* out) const
{
  QuietErrors quiet;
  const std::string where =
    std::string(fieldData ? "/field_data/" : "/point_data/") + column.linkName;
  if (column.type == ColumnType::String)
  {
    fail("The DualEmbed results file " + quoted(this->Path) + " has strings in '" + where +
      "', not numbers.");
  }
  readRows(this->Path, (fieldData ? this->P->FieldData : this->P->PointData).get(), column.linkName,
    where, first, count, memoryType(column.type), out);
}

std::vector<std::string> SampleStoreFile::readStrings(
  const ColumnInfo& column, bool fieldData, std::int64_t first, std::int64_t count) const
{
  QuietErrors quiet;
  const std::string where =
    std::string(fieldData ? "/field_data/" : "/point_data/") + column.linkName;
  const hid_t group = (fieldData ? this->P->FieldData : this->P->PointData).get();
  if (column.type != ColumnType::String)
  {
    fail("The DualEmbed results file " + quoted(this->Path) + " has numbers in '" + where +
      "', not strings.");
  }
  const std::size_t n = static_cast<std::size_t>(count) * column.components;
  std::vector<std::string> result;
  result.reserve(n);
  Handle dataset(H5Dopen2(group, column.linkName.c_str(), H5P_DEFAULT), H5Dclose);
  Handle storedType(dataset.valid() ? H5Dget_type(dataset.get()) : H5I_INVALID_HID, H5Tclose);
  const htri_t variable = storedType.valid() ? H5Tis_variable_str(storedType.get()) : -1;
  if (variable < 0)
  {
    fail("The DualEmbed results file " + quoted(this->Path) + " cannot read the string type of '" +
      where + "'" + detailText() + "; the file is damaged.");
  }
  if (variable > 0)
  {
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    if (!type.valid() || H5Tset_size(type.get(), H5T_VARIABLE) < 0 ||
      H5Tset_cset(type.get(), H5Tget_cset(storedType.get())) < 0)
    {
      fail("The DualEmbed results file " + quoted(this->Path) + " cannot read '" + where + "'" +
        detailText() + ".");
    }
    std::vector<char*> pointers(n, nullptr);
    readRows(this->Path, group, column.linkName, where, first, count, type.get(), pointers.data());
    for (char* text : pointers)
    {
      result.emplace_back(text ? text : "");
      H5free_memory(text);
    }
  }
  else
  {
    const std::size_t size = H5Tget_size(storedType.get());
    Handle type(H5Tcopy(storedType.get()), H5Tclose);
    if (size == 0 || !type.valid())
    {
      fail("The DualEmbed results file " + quoted(this->Path) + " cannot read '" + where + "'" +
        detailText() + ".");
    }
    std::vector<char> buffer(n * size, '\0');
    readRows(this->Path, group, column.linkName, where, first, count, type.get(), buffer.data());
    for (std::size_t i = 0; i < n; ++i)
    {
      const char* begin = buffer.data() + i * size;
      result.emplace_back(begin, strnlen(begin, size));
    }
  }
  return result;
}

void SampleStoreFile::readPoints(std::int64_t first, std::int64_t count, void* out) const
{
  QuietErrors quiet;
  if (!this->PointsPresent)
  {
    fail("The DualEmbed results file " + quoted(this->Path) + " has no '/points'.");
  }
  readRows(this->Path, this->P->File.get(), "points", "/points", first, count,
    this->PointsDouble ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT, out);
}

} // namespace formats
} // namespace dualembed
