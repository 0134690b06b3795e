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
Linear optionalLinear(
  const WeightSet& w, const std::string& name, std::vector<std::int64_t> weightShape)
{
  const bool hasW = w.has(name + ".weight");
  const bool hasB = w.has(name + ".bias");
  if (!hasW && !hasB)
  {
    return Linear();
  }
  const at::Tensor weight = w.require(name + ".weight", weightShape);
  return Linear(weight, w.require(name + ".bias", { weightShape[0] }));
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
  Patch = Linear(w.require(p + "embeddings.patch_embeddings.projection.weight", { d, c, ps, ps })
                   .reshape({ d, -1 }),
    w.require(p + "embeddings.patch_embeddings.projection.bias", { d }));
  const std::int64_t inter = config.intermediateSize;
  for (int i = 0; i < config.numHiddenLayers; ++i)
  {
    const std::string l = p + "encoder.layer." + std::to_string(i) + ".";
    Layer L;
    L.lnBeforeW = w.require(l + "layernorm_before.weight", { d });
    L.lnBeforeB = w.require(l + "layernorm_before.bias", { d });
    const std::string a = l + "attention.attention.";
    at::Tensor qkvB;
    if (config.qkvBias)
    {
      qkvB = at::cat({ w.require(a + "query.bias", { d }), w.require(a + "key.bias", { d }),
        w.require(a + "value.bias", { d }) });
    }
    L.qkv =
      Linear(at::cat({ w.require(a + "query.weight", { d, d }),
               w.require(a + "key.weight", { d, d }), w.require(a + "value.weight", { d, d }) }),
        qkvB);
    L.attnOut = Linear(w.require(l + "attention.output.dense.weight", { d, d }),
      w.require(l + "attention.output.dense.bias", { d }));
    L.lnAfterW = w.require(l + "layernorm_after.weight", { d });
    L.lnAfterB = w.require(l + "layernorm_after.bias", { d });
    L.inter = Linear(w.require(l + "intermediate.dense.weight", { inter, d }),
      w.require(l + "intermediate.dense.bias", { inter }));
    L.out = Linear(w.require(l + "output.dense.weight", { d, inter }),
      w.require(l + "output.dense.bias", { d }));
    Layers.push_back(std::move(L));
  }
  FinalLnW = w.require(p + "layernorm.weight", { d });
  FinalLnB = w.require(p + "layernorm.bias", { d });
  Pooler = optionalLinear(w, p + "pooler.dense", { d, d });
  if (w.has("classifier.weight") || w.has("classifier.bias"))
  {
    const at::Tensor& cw =
      w.has("classifier.weight") ? w.tensors().at("classifier.weight") : at::Tensor();
    const std::int64_t k = (cw.defined() && cw.dim() == 2) ? cw.size(0) : -1;
    if (k <= 0)
    {
      throw ModelError(w.sourcePath() +
        ": weight 'classifier.weight' is missing or not a [labels, " + std::to_string(d) +
        "] matrix");
    }
    Classifier = optionalLinear(w, "classifier", { k, d });
  }
}

std::int64_t VisionTransformer::numLabels() const
{
  return Classifier.outFeatures();
}

void VisionTransformer::to(at::Device device, at::ScalarType dtype)
{
  // Only the big products take the compute type; see the header.
  ComputeType = dtype;
  for (at::Tensor* t : { &ClsToken, &PositionEmbeddings, &FinalLnW, &FinalLnB })
  {
    *t = t->to(device, at::kFloat);
  }
  Patch.to(device, dtype);
  Pooler.to(device, at::kFloat);
  Classifier.to(device, at::kFloat);
  for (Layer& L : Layers)
  {
    for (at::Tensor* t : { &L.lnBeforeW, &L.lnBeforeB, &L.lnAfterW, &L.lnAfterB })
    {
      *t = t->to(device, at::kFloat);
    }
    for (Linear* m : { &L.qkv, &L.attnOut, &L.inter, &L.out })
    {
      m->to(device, dtype);
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
  at::Tensor grid =
    PositionEmbeddings.narrow(1, 1, numPositions).reshape({ 1, h0, w0, d }).permute({ 0, 3, 1, 2 });
  grid = at::upsample_bicubic2d(grid.to(at::kFloat), { gridH, gridW }, false)
           .to(PositionEmbeddings.scalar_type());
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
    throw ModelError(
      "ViT input " + shapeToString(pixelValues.sizes()) + " is smaller than one patch");
  }
  const std::int64_t b = pixelValues.size(0);
  const std::int64_t d = Config.hiddenSize;
  const std::int64_t heads = Config.numAttentionHeads;
  const std::int64_t hd = d / heads;
  const double eps = Config.layerNormEps;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));

  const at::ScalarType ct = ComputeType;
  // Residual stream x in float32 throughout.
  at::Tensor x = Patch.forward(patchRows(pixelValues, Config.patchSize), at::kFloat); // [B, N-1, D]
  const std::int64_t gh = pixelValues.size(2) / Config.patchSize,
                     gw = pixelValues.size(3) / Config.patchSize;
  x = at::cat({ ClsToken.expand({ b, 1, d }), x }, 1);
  x = x + positionEmbeddings(gh, gw);
  const std::int64_t n = x.size(1);

  for (const Layer& L : Layers)
  {
    at::Tensor h = layerNormTo(x, L.lnBeforeW, L.lnBeforeB, eps, ct);
    // [B, N, 3, heads, hd]: q, k and v are strided views of one product.
    const at::Tensor qkv = L.qkv.forward(h, ct).view({ b, n, 3, heads, hd });
    // Heads-major copies: oneDNN's AMX/AVX-512 batched kernels need dense
    // per-head matrices (on the strided views it ran a generic kernel 20x slower).
    const at::Tensor heads3 = qkv.permute({ 2, 0, 3, 1, 4 }).contiguous(); // [3, B, heads, N, hd]
    at::Tensor ctx = at::empty({ b, n, d }, qkv.options());
    at::Tensor ctxHeads = ctx.view({ b, n, heads, hd }).permute({ 0, 2, 1, 3 });
    attention(heads3[0], heads3[1].transpose(2, 3), heads3[2], scale, nullptr, ctxHeads);
    L.attnOut.accumulate(ctx, x);
    h = layerNormTo(x, L.lnAfterW, L.lnAfterB, eps, ct);
    L.out.accumulate(L.inter.forward(h, ct, &Config.hiddenAct), x);
  }

  BackboneOutput out;
  out.lastHiddenState = at::layer_norm(x, { d }, FinalLnW, FinalLnB, eps);
  const at::Tensor first = out.lastHiddenState.select(1, 0);
  if (Pooler.defined())
  {
    out.poolerOutput = at::tanh(Pooler.forward(first, at::kFloat));
  }
  if (Classifier.defined())
  {
    out.logits = Classifier.forward(first, at::kFloat);
  }
  return out;
}

} // namespace engine
} // namespace dualembed
