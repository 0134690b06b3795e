#include "ConvNext.h"

#include "EngineError.h"

#include <ATen/ATen.h>

namespace dualembed
{
namespace engine
{
namespace
{
// transformers' ConvNextLayerNorm inside the network (stem, blocks,
// downsampling) uses 1e-6 whatever the config says; only the pooler's
// `layernorm` takes layer_norm_eps.
constexpr double kInnerNormEps = 1e-6;
constexpr std::int64_t kDepthwiseKernel = 7;
} // namespace

ConvNext::ConvNext(const ModelConfig& config, const WeightSet& w, const std::string& p)
  : ConvolutionalBackbone(config)
{
  const auto norm = [&](const std::string& name, std::int64_t width) {
    return Norm{ w.require(name + ".weight", { width }), w.require(name + ".bias", { width }) };
  };
  const std::int64_t ps = config.patchSize;
  const std::int64_t first = config.hiddenSizes[0];
  Stem = Convolution(
    w.require(p + "embeddings.patch_embeddings.weight", { first, config.numChannels, ps, ps }),
    w.require(p + "embeddings.patch_embeddings.bias", { first }), ps, 0);
  StemNorm = norm(p + "embeddings.layernorm", first);
  std::int64_t in = first;
  for (std::size_t s = 0; s < config.depths.size(); ++s)
  {
    const std::int64_t d = config.hiddenSizes[s];
    const std::string sp = p + "encoder.stages." + std::to_string(s) + ".";
    Stage stage;
    if (s > 0 || in != d)
    {
      const std::int64_t stride = s > 0 ? 2 : 1;
      stage.downsampleNorm = norm(sp + "downsampling_layer.0", in);
      stage.downsample =
        Convolution(w.require(sp + "downsampling_layer.1.weight", { d, in, stride, stride }),
          w.require(sp + "downsampling_layer.1.bias", { d }), stride, 0);
    }
    for (int i = 0; i < config.depths[s]; ++i)
    {
      const std::string l = sp + "layers." + std::to_string(i) + ".";
      Block block;
      block.depthwise =
        Convolution(w.require(l + "dwconv.weight", { d, 1, kDepthwiseKernel, kDepthwiseKernel }),
          w.require(l + "dwconv.bias", { d }), 1, kDepthwiseKernel / 2, d);
      block.norm = norm(l + "layernorm", d);
      block.expand = Linear(
        w.require(l + "pwconv1.weight", { 4 * d, d }), w.require(l + "pwconv1.bias", { 4 * d }));
      // gamma * (W h + b) = (gamma W) h + gamma b: the layer scale costs nothing.
      at::Tensor projectW = w.require(l + "pwconv2.weight", { d, 4 * d });
      at::Tensor projectB = w.require(l + "pwconv2.bias", { d });
      const at::Tensor gamma = w.optional(l + "layer_scale_parameter", { d });
      if (gamma.defined())
      {
        projectW = projectW * gamma.view({ d, 1 });
        projectB = projectB * gamma;
      }
      block.project = Linear(projectW, projectB);
      stage.blocks.push_back(std::move(block));
    }
    Stages.push_back(std::move(stage));
    in = d;
  }
  PoolerNorm = norm(p + "layernorm", in);
  Classifier = classifierLinear(w, "classifier", in);
}

void ConvNext::to(at::Device device, at::ScalarType dtype)
{
  ComputeType = dtype;
  const auto move = [&](at::Tensor& t) {
    if (t.defined())
    {
      t = t.to(device, at::kFloat);
    }
  };
  const auto moveNorm = [&](Norm& n) {
    move(n.weight);
    move(n.bias);
  };
  // The residual stream, the stem and the depthwise convolutions stay
  // float32; the pointwise products (expand, project) and the downsampling
  // convolutions (float32 out) run in the compute type.
  Stem.to(device, at::kFloat);
  moveNorm(StemNorm);
  for (Stage& stage : Stages)
  {
    moveNorm(stage.downsampleNorm);
    if (stage.downsample.defined())
    {
      stage.downsample.to(device, dtype);
    }
    for (Block& block : stage.blocks)
    {
      block.depthwise.to(device, at::kFloat);
      moveNorm(block.norm);
      block.expand.to(device, dtype);
      block.project.to(device, dtype);
    }
  }
  moveNorm(PoolerNorm);
  Classifier.to(device, at::kFloat);
}

at::Tensor ConvNext::convolveRows(
  const at::Tensor& x, const Convolution& conv, at::ScalarType outType)
{
  // A channels-last NCHW view in, so the convolution keeps that layout out.
  return conv.forward(x.permute({ 0, 3, 1, 2 }), false, outType)
    .permute({ 0, 2, 3, 1 })
    .contiguous();
}

BackboneOutput ConvNext::forward(const at::Tensor& pixelValues) const
{
  if (pixelValues.dim() != 4 || pixelValues.size(1) != Config.numChannels)
  {
    throw ModelError("ConvNeXt input must be [batch, " + std::to_string(Config.numChannels) +
      ", height, width], got " + shapeToString(pixelValues.sizes()));
  }
  const at::Tensor pixels = pixelValues.to(at::kFloat).permute({ 0, 2, 3, 1 }).contiguous();
  at::Tensor x = convolveRows(pixels, Stem);
  x = layerNormTo(x, StemNorm.weight, StemNorm.bias, kInnerNormEps, at::kFloat);
  const Activation gelu = Config.hiddenAct;
  for (const Stage& stage : Stages)
  {
    if (stage.downsample.defined())
    {
      // In the compute type, the residual stream's float32 out.
      x = layerNormTo(
        x, stage.downsampleNorm.weight, stage.downsampleNorm.bias, kInnerNormEps, ComputeType);
      x = convolveRows(x, stage.downsample, at::kFloat);
    }
    for (const Block& block : stage.blocks)
    {
      const at::Tensor spatial = convolveRows(x, block.depthwise);
      const at::Tensor normed =
        layerNormTo(spatial, block.norm.weight, block.norm.bias, kInnerNormEps, ComputeType);
      const at::Tensor hidden = block.expand.forward(normed, ComputeType, &gelu);
      block.project.accumulate(hidden, x); // x += layer scale * project(hidden)
    }
  }
  const at::Tensor tokens = x.reshape({ x.size(0), -1, x.size(3) });
  return outputs(tokens,
    at::layer_norm(
      tokens.mean(1), { x.size(3) }, PoolerNorm.weight, PoolerNorm.bias, Config.layerNormEps));
}

} // namespace engine
} // namespace dualembed
