// Image folders root/<class>/<image>, listed like torchvision's ImageFolder: classes are the
// subfolders of root sorted by name (byte order), images are found recursively inside each
// class folder and sorted by path; only .png .jpg .jpeg .bmp files count.
#pragma once

#include "ImageDataset.h"

#include <cstdint>
#include <filesystem>

namespace dualembed
{
namespace formats
{
namespace detail
{

/// `path` is the root folder or an image file inside root/<class>/.
DatasetInfo probeImageFolder(const std::filesystem::path& path);
SampleBlock readImageFolder(const DatasetInfo& info, std::int64_t first, std::int64_t count);

} // namespace detail
} // namespace formats
} // namespace dualembed
