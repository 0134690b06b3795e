// MNIST / Fashion-MNIST IDX files (images idx3-ubyte + labels idx1-ubyte), raw or gzip.
#pragma once

#include "ImageDataset.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dualembed
{
namespace formats
{
namespace detail
{

/// Names ending in "idx3-ubyte" or "idx3-ubyte.gz" (case-insensitive).
bool isIdxImagesFileName(const std::string& fileName);
/// Names ending in "idx1-ubyte" or "idx1-ubyte.gz" (case-insensitive).
bool isIdxLabelsFileName(const std::string& fileName);

/// Labels files that may belong to an images file, in the order they are tried:
/// same naming style and compression first.
std::vector<std::filesystem::path> idxLabelCandidates(const std::filesystem::path& imagesPath);

/// Torchvision's Fashion-MNIST class names.
const std::vector<std::string>& fashionMnistClassNames();

DatasetInfo probeIdx(const std::filesystem::path& imagesPath);
SampleBlock readIdx(const DatasetInfo& info, std::int64_t first, std::int64_t count);

} // namespace detail
} // namespace formats
} // namespace dualembed
