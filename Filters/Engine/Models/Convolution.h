// The 2-D convolutions of the convolutional families (ResNet, ConvNeXt), on the CPU
// through oneDNN, elsewhere through ATen.
//
// Why not at::conv2d on the CPU: ATen reaches the same oneDNN kernels, but
// re-lays the weights out on every call and leaves the ReLU and the residual
// addition after each convolution to separate passes over the feature map.
// Here the weights are laid out once per input shape, and bias, residual
// addition and ReLU are fused into the convolution (oneDNN post-ops).
#ifndef DualEmbed_Engine_Convolution_h
#define DualEmbed_Engine_Convolution_h

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>

namespace dualembed
{
namespace engine
{

class Convolution
{
public:
  Convolution();
  /// weight [out, in / groups, k, k] float, bias [out] (undefined: none);
  /// square stride and padding; `groups` as at::conv2d's (ConvNeXt's
  /// depthwise convolutions: one per channel).
  Convolution(const at::Tensor& weight, const at::Tensor& bias, std::int64_t stride,
    std::int64_t padding, std::int64_t groups = 1);
  ~Convolution();
  Convolution(Convolution&&) noexcept;
  Convolution& operator=(Convolution&&) noexcept;

  bool defined() const;
  /// Device and compute type (float32 or bfloat16) of the convolution.
  void to(at::Device device, at::ScalarType computeType);

  /// x [B, in, H, W] (channels-last, compute type) -> conv(x) + b, ReLU'd
  /// when `relu`, channels-last in `outType` (Undefined: the compute type;
  /// float32 from a bfloat16 convolution costs no extra pass with oneDNN).
  at::Tensor forward(
    const at::Tensor& x, bool relu, at::ScalarType outType = at::ScalarType::Undefined) const;
  /// residual [B, out, H', W'] (channels-last, compute type), in place:
  /// residual = conv(x) + b + residual, ReLU'd when `relu`.
  void accumulate(const at::Tensor& x, at::Tensor& residual, bool relu) const;

private:
  struct Impl;
  std::unique_ptr<Impl> P;
};

} // namespace engine
} // namespace dualembed

#endif
