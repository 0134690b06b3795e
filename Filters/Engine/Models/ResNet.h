// Forward pass of Hugging Face ResNetModel / ResNetForImageClassification
// (microsoft/resnet-*: basic and bottleneck layers), in inference: each
// BatchNorm is folded into the convolution before it when the weights load,
// so a layer is one convolution with a bias, and the ReLUs and residual
// additions run inside the convolutions (Convolution.h). The feature maps are
// kept channels-last, the layout oneDNN's convolutions run fastest on. In
// bfloat16 the convolutions and the residual stream are bfloat16; the
// pooling and the classifier are float32.
#ifndef DualEmbed_Engine_ResNet_h
#define DualEmbed_Engine_ResNet_h

#include "Convolution.h"
#include "ConvolutionalBackbone.h"

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace dualembed
{
namespace engine
{

class ResNet : public ConvolutionalBackbone
{
public:
  /// `prefix` is "" (ResNetModel) or "resnet." (ResNetForImageClassification);
  /// the classifier (`classifier.1.*`, unprefixed) is optional.
  ResNet(const ModelConfig& config, const WeightSet& weights, const std::string& prefix);

  /// lastHiddenState: the final feature map as tokens [B, H*W, C];
  /// poolerOutput: their mean (transformers' AdaptiveAvgPool2d).
  BackboneOutput forward(const at::Tensor& pixelValues) const override;
  void to(at::Device device, at::ScalarType dtype) override;

private:
  /// Each convolution has its BatchNorm folded in: conv(x, weight) + bias.
  struct Layer
  {
    std::vector<Convolution> convs; // 2 (basic) or 3 (bottleneck); the last one adds the shortcut
    Convolution shortcut;           // undefined: identity
  };

  Convolution Stem;
  std::vector<Layer> Layers;
};

} // namespace engine
} // namespace dualembed

#endif
