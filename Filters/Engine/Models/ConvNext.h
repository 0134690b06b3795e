// Forward pass of Hugging Face ConvNextModel / ConvNextForImageClassification
// (facebook/convnext-*): a patch-convolution stem, stages of blocks
// (depthwise 7x7 convolution, layer norm over channels, a 4x wider MLP, layer
// scale, residual) with a layer norm and a 2x2 convolution between stages.
// The residual stream is float32 and channels-last ([B, H, W, C]), so the
// pointwise layers are matrix products over its rows; the layer scale is
// folded into the second product, which adds itself to the residual. In
// bfloat16 the products take bfloat16 inputs; the depthwise convolutions,
// norms, pooling and head stay float32.
#ifndef DualEmbed_Engine_ConvNext_h
#define DualEmbed_Engine_ConvNext_h

#include "Convolution.h"
#include "ConvolutionalBackbone.h"

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace dualembed
{
namespace engine
{

class ConvNext : public ConvolutionalBackbone
{
public:
  /// `prefix` is "" (ConvNextModel) or "convnext." (ConvNextForImageClassification);
  /// `classifier.*` (unprefixed) is optional.
  ConvNext(const ModelConfig& config, const WeightSet& weights, const std::string& prefix);

  /// lastHiddenState: the last stage's map as tokens [B, H*W, C], without a
  /// norm (as transformers returns it); poolerOutput: the layer norm
  /// (`layernorm`, layer_norm_eps) of their mean, which the classifier reads.
  BackboneOutput forward(const at::Tensor& pixelValues) const override;
  void to(at::Device device, at::ScalarType dtype) override;

private:
  struct Norm
  {
    at::Tensor weight, bias;
  };
  struct Block
  {
    Convolution depthwise; // 7x7, one per channel
    Norm norm;
    Linear expand, project; // project carries the layer scale
  };
  struct Stage
  {
    Norm downsampleNorm;    // undefined in a stage that keeps the size
    Convolution downsample; // the 2x2 stride-2 convolution
    std::vector<Block> blocks;
  };

  /// `x` [B, H, W, C] (channels-last) through `conv`, back to [B, H', W', C'].
  static at::Tensor convolveRows(const at::Tensor& x, const Convolution& conv,
    at::ScalarType outType = at::ScalarType::Undefined);

  Convolution Stem; // patchify: kernel and stride patch_size
  Norm StemNorm;
  std::vector<Stage> Stages;
  Norm PoolerNorm;
};

} // namespace engine
} // namespace dualembed

#endif
