// Writer of the safetensors format (the reader is Filters/Engine/Models/SafeTensors.h):
// 8-byte little-endian header length, a JSON header with the tensors in sorted
// order plus "__metadata__": {"format": "pt"}, padded with spaces to a multiple
// of 8 bytes, then the float32 data.
#ifndef DualEmbed_Training_SafeTensorsWriter_h
#define DualEmbed_Training_SafeTensorsWriter_h

#include <ATen/core/Tensor.h>

#include <map>
#include <string>

namespace dualembed
{
namespace training
{

/// Writes all tensors as F32 (converted, made contiguous, moved to the CPU).
/// Throws std::runtime_error when the file cannot be written.
void writeSafeTensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors);

} // namespace training
} // namespace dualembed

#endif
