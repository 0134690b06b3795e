// HDF5 image arrays: datasets "images" (N×H×W or N×H×W×C, uint8), "labels" (N, any integer
// type) and optionally "label_names" (N strings, fixed or variable length), at the file's root.
#pragma once

#include "ImageDataset.h"

#include <cstdint>
#include <filesystem>
#include <string>

namespace dualembed
{
namespace formats
{
namespace detail
{

/// .h5, .hdf5, .hdf (case-insensitive).
bool isHdf5FileName(const std::string& fileName);

/// False when HDF5 cannot open the file at all (not HDF5, truncated, damaged).
bool opensAsHdf5(const std::filesystem::path& path);

DatasetInfo probeHdf5(const std::filesystem::path& path);
SampleBlock readHdf5(const DatasetInfo& info, std::int64_t first, std::int64_t count);

} // namespace detail
} // namespace formats
} // namespace dualembed
