#include "ResNet.h"

#include "EngineError.h"

#include <ATen/ATen.h>

namespace dualembed
{
namespace engine
{
namespace
{

constexpr double kBatchNormEps = 1e-5; // nn.BatchNorm2d's default, which transformers keeps

/// transformers' ResNetConvLayer (or ResNetShortCut) at `name`: the
/// convolution `name.convolution` (no bias) and the BatchNorm
/// `name.normalization`, folded: w * g / sqrt(v + eps), b - m * g / sqrt(v + eps).
Convolution foldedConv(const WeightSet& w, const std::string& name, std::int64_t in,
  std::int64_t out, std::int64_t kernel, std::int64_t stride)
{
  const at::Tensor weight = w.require(name + ".convolution.weight", { out, in, kernel, kernel });
  const std::string bn = name + ".normalization.";
  const at::Tensor gamma = w.require(bn + "weight", { out }).to(at::kDouble);
  const at::Tensor beta = w.require(bn + "bias", { out }).to(at::kDouble);
  const at::Tensor mean = w.require(bn + "running_mean", { out }).to(at::kDouble);
  const at::Tensor var = w.require(bn + "running_var", { out }).to(at::kDouble);
  const at::Tensor scale = gamma / at::sqrt(var + kBatchNormEps);
  return Convolution((weight.to(at::kDouble) * scale.view({ out, 1, 1, 1 })).to(at::kFloat),
    (beta - mean * scale).to(at::kFloat), stride, kernel / 2);
}

} // namespace

ResNet::ResNet(const ModelConfig& config, const WeightSet& w, const std::string& p)
  : ConvolutionalBackbone(config)
{
  Stem = foldedConv(w, p + "embedder.embedder", config.numChannels, config.embeddingSize, 7, 2);
  std::int64_t in = config.embeddingSize;
  for (std::size_t s = 0; s < config.depths.size(); ++s)
  {
    const std::int64_t out = config.hiddenSizes[s];
    for (int i = 0; i < config.depths[s]; ++i)
    {
      // The first layer of a stage changes the width and, but in the first
      // stage (unless downsample_in_first_stage), halves the resolution.
      const std::int64_t stride = (i == 0 && (s > 0 || config.downsampleInFirstStage)) ? 2 : 1;
      const std::int64_t layerIn = i == 0 ? in : out;
      const std::string l =
        p + "encoder.stages." + std::to_string(s) + ".layers." + std::to_string(i) + ".";
      Layer layer;
      if (layerIn != out || stride != 1)
      {
        layer.shortcut = foldedConv(w, l + "shortcut", layerIn, out, 1, stride);
      }
      if (config.bottleneck)
      {
        const std::int64_t reduced = out / 4;
        const bool strideFirst = config.downsampleInBottleneck;
        layer.convs.push_back(
          foldedConv(w, l + "layer.0", layerIn, reduced, 1, strideFirst ? stride : 1));
        layer.convs.push_back(
          foldedConv(w, l + "layer.1", reduced, reduced, 3, strideFirst ? 1 : stride));
        layer.convs.push_back(foldedConv(w, l + "layer.2", reduced, out, 1, 1));
      }
      else
      {
        layer.convs.push_back(foldedConv(w, l + "layer.0", layerIn, out, 3, stride));
        layer.convs.push_back(foldedConv(w, l + "layer.1", out, out, 3, 1));
      }
      Layers.push_back(std::move(layer));
    }
    in = out;
  }
  Classifier = classifierLinear(w, "classifier.1", config.finalHiddenSize());
}

void ResNet::to(at::Device device, at::ScalarType dtype)
{
  ComputeType = dtype;
  Stem.to(device, dtype);
  for (Layer& layer : Layers)
  {
    for (Convolution& c : layer.convs)
    {
      c.to(device, dtype);
    }
    layer.shortcut.to(device, dtype);
  }
  Classifier.to(device, at::kFloat);
}

BackboneOutput ResNet::forward(const at::Tensor& pixelValues) const
{
  if (pixelValues.dim() != 4 || pixelValues.size(1) != Config.numChannels)
  {
    throw ModelError("ResNet input must be [batch, " + std::to_string(Config.numChannels) +
      ", height, width], got " + shapeToString(pixelValues.sizes()));
  }
  // ReLU (every Hugging Face ResNet) runs inside the convolutions; another
  // activation after them.
  const bool relu = Config.hiddenAct == Activation::Relu;
  const auto activate = [&](at::Tensor& x) {
    if (!relu)
    {
      x = applyActivation(x, Config.hiddenAct);
    }
  };
  at::Tensor x =
    Stem.forward(pixelValues.to(ComputeType).contiguous(at::MemoryFormat::ChannelsLast), relu);
  activate(x);
  x = at::max_pool2d(x, { 3, 3 }, { 2, 2 }, { 1, 1 });
  for (const Layer& layer : Layers)
  {
    at::Tensor y = x;
    for (std::size_t c = 0; c + 1 < layer.convs.size(); ++c)
    {
      y = layer.convs[c].forward(y, relu);
      activate(y);
    }
    // The last convolution adds itself to the shortcut (this layer's input,
    // not needed after it, or its projection), in place.
    at::Tensor sum = layer.shortcut.defined() ? layer.shortcut.forward(x, false) : x;
    layer.convs.back().accumulate(y, sum, relu);
    activate(sum);
    x = sum;
  }
  // Tokens [B, H*W, C]: a view of the channels-last map.
  const at::Tensor tokens =
    x.to(at::kFloat).permute({ 0, 2, 3, 1 }).reshape({ x.size(0), -1, x.size(1) });
  return outputs(tokens, tokens.mean(1));
}

} // namespace engine
} // namespace dualembed
