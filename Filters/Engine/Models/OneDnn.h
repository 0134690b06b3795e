// What the engine's oneDNN primitives share (Matmul.cxx, Convolution.cxx):
// one CPU engine, and tensors described as they lie in memory. Internal;
// only where DUALEMBED_WITH_DNNL is defined.
#ifndef DualEmbed_Engine_OneDnn_h
#define DualEmbed_Engine_OneDnn_h

#include <ATen/core/Tensor.h>
#include <oneapi/dnnl/dnnl.hpp>

namespace dualembed
{
namespace engine
{
namespace onednn
{

/// The CPU engine every primitive runs on.
dnnl::engine& cpuEngine();

/// float32 or bfloat16; ModelError for other types.
dnnl::memory::data_type dataType(at::ScalarType type);

/// `t` as it lies in memory (its sizes and strides: a channels-last map is
/// NCHW dims with NHWC strides).
dnnl::memory::desc stridedDesc(const at::Tensor& t);

/// `t`'s memory under `desc`.
dnnl::memory memoryOf(const dnnl::memory::desc& desc, const at::Tensor& t);

} // namespace onednn
} // namespace engine
} // namespace dualembed

#endif
