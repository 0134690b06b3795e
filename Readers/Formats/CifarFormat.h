// CIFAR-10 / CIFAR-100 binary batches.
//   CIFAR-10:  data_batch_<n>.bin, test_batch.bin; records of 1 label byte + 3072 pixel bytes.
//   CIFAR-100: train.bin, test.bin; records of coarse and fine label bytes + 3072 pixel bytes.
// Pixels are stored channel-planar (1024 R, 1024 G, 1024 B, each 32×32 row-major) and
// returned interleaved (HWC).
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

bool isCifar10FileName(const std::string& fileName);
bool isCifar100FileName(const std::string& fileName);

DatasetInfo probeCifar(const std::filesystem::path& path, DatasetKind kind);
SampleBlock readCifar(const DatasetInfo& info, std::int64_t first, std::int64_t count);

} // namespace detail
} // namespace formats
} // namespace dualembed
