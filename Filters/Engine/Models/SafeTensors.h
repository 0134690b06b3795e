// Reader of the safetensors format (Hugging Face `model.safetensors`).
//
// Layout: 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//  "__metadata__": {...}}, then the data section. Offsets are relative to the
// data section. Everything is validated before a byte of data is used; any
// inconsistency throws ModelError naming the file and the tensor.
#ifndef DualEmbed_Engine_SafeTensors_h
#define DualEmbed_Engine_SafeTensors_h

#include <ATen/core/Tensor.h>

#include <map>
#include <string>

namespace dualembed
{
namespace engine
{

/// Named tensors of a checkpoint, all float32, contiguous, on the CPU.
using TensorMap = std::map<std::string, at::Tensor>;

/// Reads a whole `.safetensors` file. Tensors of every supported dtype
/// (F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL) are converted to float32.
TensorMap loadSafeTensors(const std::string& path);

/// Same, from the file's bytes already in memory; `sourceName` is used in
/// error messages.
TensorMap parseSafeTensors(const std::string& bytes, const std::string& sourceName);

} // namespace engine
} // namespace dualembed

#endif
