// The matrix products of the ViT and Swin forward passes (linear layers and
// attention), on the CPU through oneDNN, elsewhere through ATen.
//
// Why oneDNN and not at::linear on the CPU: LibTorch 1.13 sends float32
// products to OpenBLAS, whose CPU detection (0.3.21) misses recent CPUs and
// then runs SSE3 kernels (~50 instead of ~290 GFLOP/s on 2 Sapphire Rapids
// cores); and its bfloat16 products re-pack the weights for AMX on every
// call. oneDNN picks its kernels from the CPU flags; weights are packed once
// per layer (and input row count), bias, activation and residual addition
// are fused into the product.
#ifndef DualEmbed_Engine_Matmul_h
#define DualEmbed_Engine_Matmul_h

#include "ModelConfig.h"

#include <ATen/core/Tensor.h>

#include <array>
#include <functional>
#include <memory>
#include <string>

namespace dualembed
{
namespace engine
{

/// Whether bfloat16 products run natively on this CPU (oneDNN reports
/// AVX512-BF16 or AMX), and oneDNN's name of the ISA it uses ("" without
/// oneDNN). The environment variable DNNL_MAX_CPU_ISA lowers what oneDNN
/// uses (and so this answer).
bool cpuHasBFloat16();
std::string cpuIsaName();

/// Whether CPU products go through oneDNN in this build.
bool matmulUsesOneDnn();

/// y = act(x W^T + b), W [out, in]: weights packed once for the compute type.
class Linear
{
public:
  Linear();
  /// weight [out, in] float, bias [out] or undefined.
  Linear(const at::Tensor& weight, const at::Tensor& bias);
  ~Linear();
  Linear(Linear&&) noexcept;
  Linear& operator=(Linear&&) noexcept;

  bool defined() const;
  std::int64_t outFeatures() const;
  /// Device and compute type (float32 or bfloat16) of the product.
  void to(at::Device device, at::ScalarType computeType);

  /// x [..., in] (any float type; cast to the compute type) -> [..., out] of
  /// `outType`, with the activation applied in float32 before rounding.
  at::Tensor forward(
    const at::Tensor& x, at::ScalarType outType, const Activation* act = nullptr) const;
  /// accum [..., out] float32, contiguous: accum += x W^T + b (the residual).
  void accumulate(const at::Tensor& x, at::Tensor& accum) const;

private:
  struct Impl;
  std::unique_ptr<Impl> P;
};

/// The optional classifier `name` (.weight [labels, features], .bias) of a
/// checkpoint: undefined when neither tensor is there, ModelError when one is
/// missing or the weight is not such a matrix.
Linear classifierLinear(const WeightSet& weights, const std::string& name, std::int64_t features);

/// Query, key and value (`prefix` + `names`, each .weight [d, d] and, with
/// `bias`, .bias [d]) as one product of stacked weights [3d, d].
Linear qkvLinear(const WeightSet& weights, const std::string& prefix,
  const std::array<const char*, 3>& names, std::int64_t d, bool bias);

/// scale * a b for 4-D strided views a [B, H, M, K] and b [B, H, K, N] of the
/// same (compute) type, into a new contiguous [B, H, M, N] of `outType`.
at::Tensor batchedMatmul(
  const at::Tensor& a, const at::Tensor& b, double scale, at::ScalarType outType);
/// dst = a b, dst a 4-D (strided) view [B, H, M, N], e.g. the heads of a
/// [B, M, H*N] tensor, so that the context needs no transposing copy.
void batchedMatmulInto(const at::Tensor& a, const at::Tensor& b, at::Tensor& dst);

/// Attention per (batch row, head): ctx = softmax(scale q kT + extra) v, with
/// q [B, H, N, d], kT [B, H, d, N], v [B, H, N, d] in the compute type and
/// ctx a [B, H, N, d] (strided) view. Scores and softmax are float32; the
/// softmax output is rounded to the compute type for the second product.
/// Runs in chunks of batch rows whose scores fit the cores' caches (on
/// ViT-B one image's scores are 1.9 MB). `extra(scores, firstRow)`, when
/// set, adds to the float32 scores [rows, H, N, N] of the chunk in place
/// (Swin's position bias and window mask). With `alignRows` > 1 every chunk
/// is a whole multiple of alignRows rows, or a divisor of it, and starts at a
/// multiple of its size (Swin: windows per image).
void attention(const at::Tensor& q, const at::Tensor& kT, const at::Tensor& v, double scale,
  const std::function<void(at::Tensor&, std::int64_t)>& extra, at::Tensor& ctx,
  std::int64_t alignRows = 1);

/// softmax over the last axis of float32 `scores`, rounded to `outType`
/// (one pass: the bfloat16 attention weights come out of the softmax).
at::Tensor softmaxTo(const at::Tensor& scores, at::ScalarType outType);

/// Layer norm over the last axis of float32 `x` (statistics in float32),
/// rounded to `outType`: float32 is at::layer_norm; bfloat16 is one fused
/// pass (ATen would write float32, then convert).
at::Tensor layerNormTo(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
  double eps, at::ScalarType outType);

/// Layer norm (statistics in float32) of chosen rows of float32 `x2d` [T, d],
/// rounded to `outType`: out row r is the norm of row rows[r], or zeros where
/// rows[r] < 0 (`rows` undefined: every row in order). Swin's window
/// partition (shift, padding) is this gather, fused with the norm before it.
at::Tensor layerNormRowsTo(const at::Tensor& x2d, const at::Tensor& rows, const at::Tensor& weight,
  const at::Tensor& bias, double eps, at::ScalarType outType);

/// x2d + y2d[rows] for float32 x2d [T, d], y2d [R, d], rows [T]: Swin's
/// window reverse fused with the residual addition after it.
at::Tensor addRows(const at::Tensor& x2d, const at::Tensor& y2d, const at::Tensor& rows);

/// Non-overlapping patches of `pixels` [B, C, H, W] as rows
/// [B, H/p * W/p, C*p*p] (the convolution with stride p as a product);
/// rows and columns beyond whole patches are dropped, as the convolution does.
at::Tensor patchRows(const at::Tensor& pixels, std::int64_t patch);

} // namespace engine
} // namespace dualembed

#endif
