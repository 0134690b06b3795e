#include "VisionTransformer.h"

#include "EngineError.h"

#include <ATen/ATen.h>

#include <cmath>

namespace dualembed
{
namespace engine
{
namespace
{

/// Both tensors of an optional linear layer, or neither.
void optionalLinear(const WeightSet& w, const std::string& name, std::vector<std::int64_t> weightShape,
  at::Tensor& weight, at::Tensor& bias)
{
  const bool hasW = w.has(name + ".weight");
  const bool hasB = w.has(name + ".bias");
  if (!hasW && !hasB)
  {
    return;
  }
  weight = w.require(name + ".weight", weightShape);
  bias = w.require(name + ".bias", { weightShape[0] });
}

} // namespace

VisionTransformer::VisionTransformer(
  const ModelConfig& config, const WeightSet& w, const std::string& p)
  : Config(config)
{
  const std::int64_t d = config.hiddenSize;
  const std::int64_t c = config.numChannels;
  const std::int64_t ps = config.patchSize;
  const std::int64_t numPatches =
    (config.imageHeight / config.patchSize) * (config.imageWidth / config.patchSize);
  if (numPatches <= 0)
  {
    throw ModelError(config.sourcePath + ": image_size is smaller than patch_size");
  }
  ClsToken = w.require(p + "embeddings.cls_token", { 1, 1, d });
  PositionEmbeddings = w.require(p + "embeddings.position_embeddings", { 1, numPatches + 1, d });
  PatchW = w.require(p + "embeddings.patch_embeddings.projection.weight", { d, c, ps, ps });
  PatchB = w.require(p + "embeddings.patch_embeddings.projection.bias", { d });
  const std::int64_t inter = config.intermediateSize;
  for (int i = 0; i < config.numHiddenLayers; ++i)
  {
    const std::string l = p + "encoder.layer." + std::to_string(i) + ".";
    Layer L;
    L.lnBeforeW = w.require(l + "layernorm_before.weight", { d });
    L.lnBeforeB = w.require(l + "layernorm_before.bias", { d });
    L.queryW = w.require(l + "attention.attention.query.weight", { d, d });
    L.keyW = w.require(l + "attention.attention.key.weight", { d, d });
    L.valueW = w.require(l + "attention.attention.value.weight", { d, d });
    if (config.qkvBias)
    {
      L.queryB = w.require(l + "attention.attention.query.bias", { d });
      L.keyB = w.require(l + "attention.attention.key.bias", { d });
      L.valueB = w.require(l + "attention.attention.value.bias", { d });
    }
    L.attnOutW = w.require(l + "attention.output.dense.weight", { d, d });
    L.attnOutB = w.require(l + "attention.output.dense.bias", { d });
    L.lnAfterW = w.require(l + "layernorm_after.weight", { d });
    L.lnAfterB = w.require(l + "layernorm_after.bias", { d });
    L.interW = w.require(l + "intermediate.dense.weight", { inter, d });
    L.interB = w.require(l + "intermediate.dense.bias", { inter });
    L.outW = w.require(l + "output.dense.weight", { d, inter });
    L.outB = w.require(l + "output.dense.bias", { d });
    Layers.push_back(L);
  }
  FinalLnW = w.require(p + "layernorm.weight", { d });
  FinalLnB = w.require(p + "layernorm.bias", { d });
  optionalLinear(w, p + "pooler.dense", { d, d }, PoolerWeight, PoolerBias);
  if (w.has("classifier.weight") || w.has("classifier.bias"))
  {
    const at::Tensor& cw = w.has("classifier.weight") ? w.tensors().at("classifier.weight") : at::Tensor();
    const std::int64_t k = (cw.defined() && cw.dim() == 2) ? cw.size(0) : -1;
    if (k <= 0)
    {
      throw ModelError(w.sourcePath() + ": weight 'classifier.weight' is missing or not a [labels, " +
        std::to_string(d) + "] matrix");
    }
    optionalLinear(w, "classifier", { k, d }, ClassifierWeight, ClassifierBias);
  }
}

std::int64_t VisionTransformer::numLabels() const
{
  return ClassifierWeight.defined() ? ClassifierWeight.size(0) : 0;
}

void VisionTransformer::to(at::Device device, at::ScalarType dtype)
{
  auto move = [&](at::Tensor& t) {
    if (t.defined())
    {
      t = t.to(device, dtype);
    }
  };
  for (at::Tensor* t : { &ClsToken, &PositionEmbeddings, &PatchW, &PatchB, &FinalLnW, &FinalLnB,
         &PoolerWeight, &PoolerBias, &ClassifierWeight, &ClassifierBias })
  {
    move(*t);
  }
  for (Layer& L : Layers)
  {
    for (at::Tensor* t : { &L.lnBeforeW, &L.lnBeforeB, &L.queryW, &L.queryB, &L.keyW, &L.keyB,
           &L.valueW, &L.valueB, &L.attnOutW, &L.attnOutB, &L.lnAfterW, &L.lnAfterB, &L.interW,
           &L.interB, &L.outW, &L.outB })
    {
      move(*t);
    }
  }
}

at::Tensor VisionTransformer::positionEmbeddings(std::int64_t gridH, std::int64_t gridW) const
{
  const std::int64_t numPositions = PositionEmbeddings.size(1) - 1;
  if (gridH * gridW == numPositions && gridH == Config.imageHeight / Config.patchSize)
  {
    return PositionEmbeddings;
  }
  // transformers' interpolate_pos_encoding: bicubic resize of the patch grid.
  const std::int64_t d = PositionEmbeddings.size(2);
  const std::int64_t h0 = Config.imageHeight / Config.patchSize;
  const std::int64_t w0 = Config.imageWidth / Config.patchSize;
  at::Tensor cls = PositionEmbeddings.narrow(1, 0, 1);
  at::Tensor grid = PositionEmbeddings.narrow(1, 1, numPositions).reshape({ 1, h0, w0, d }).permute({ 0, 3, 1, 2 });
  grid = at::upsample_bicubic2d(grid.to(at::kFloat), { gridH, gridW }, false).to(PositionEmbeddings.scalar_type());
  grid = grid.permute({ 0, 2, 3, 1 }).reshape({ 1, gridH * gridW, d });
  return at::cat({ cls, grid }, 1);
}

BackboneOutput VisionTransformer::forward(const at::Tensor& pixelValues) const
{
  if (pixelValues.dim() != 4 || pixelValues.size(1) != Config.numChannels)
  {
    throw ModelError("ViT input must be [batch, " + std::to_string(Config.numChannels) +
      ", height, width], got " + shapeToString(pixelValues.sizes()));
  }
  if (pixelValues.size(2) < Config.patchSize || pixelValues.size(3) < Config.patchSize)
  {
    throw ModelError("ViT input " + shapeToString(pixelValues.sizes()) + " is smaller than one patch");
  }
  const std::int64_t b = pixelValues.size(0);
  const std::int64_t d = Config.hiddenSize;
  const std::int64_t heads = Config.numAttentionHeads;
  const std::int64_t hd = d / heads;
  const double eps = Config.layerNormEps;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));

  at::Tensor x = at::conv2d(pixelValues, PatchW, PatchB, { Config.patchSize, Config.patchSize });
  const std::int64_t gh = x.size(2), gw = x.size(3);
  x = x.flatten(2).transpose(1, 2); // [B, N, D]
  x = at::cat({ ClsToken.expand({ b, 1, d }), x }, 1);
  x = x + positionEmbeddings(gh, gw);
  const std::int64_t n = x.size(1);

  for (const Layer& L : Layers)
  {
    at::Tensor h = at::layer_norm(x, { d }, L.lnBeforeW, L.lnBeforeB, eps);
    auto split = [&](const at::Tensor& w, const at::Tensor& bias) {
      return at::linear(h, w, bias).view({ b, n, heads, hd }).transpose(1, 2);
    };
    at::Tensor q = split(L.queryW, L.queryB);
    at::Tensor k = split(L.keyW, L.keyB);
    at::Tensor v = split(L.valueW, L.valueB);
    at::Tensor scores = at::matmul(q, k.transpose(2, 3)) * scale;
    at::Tensor probs = at::softmax(scores, -1, at::kFloat).to(q.scalar_type());
    at::Tensor ctx = at::matmul(probs, v).transpose(1, 2).reshape({ b, n, d });
    x = x + at::linear(ctx, L.attnOutW, L.attnOutB);
    h = at::layer_norm(x, { d }, L.lnAfterW, L.lnAfterB, eps);
    h = applyActivation(at::linear(h, L.interW, L.interB), Config.hiddenAct);
    x = x + at::linear(h, L.outW, L.outB);
  }

  BackboneOutput out;
  out.lastHiddenState = at::layer_norm(x, { d }, FinalLnW, FinalLnB, eps);
  at::Tensor first = out.lastHiddenState.select(1, 0);
  if (PoolerWeight.defined())
  {
    out.poolerOutput = at::tanh(at::linear(first, PoolerWeight, PoolerBias));
  }
  if (ClassifierWeight.defined())
  {
    out.logits = at::linear(first, ClassifierWeight, ClassifierBias);
  }
  return out;
}

} // namespace engine
} // namespace dualembed
