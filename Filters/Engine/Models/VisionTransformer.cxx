#include "VisionTransformer.h"

#include "EngineError.h"

#include <ATen/ATen.h>

#include <cmath>
#include <functional>
#include <vector>

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

/// The linear layer `name` whose output DINOv2 multiplies by its layer scale
/// `scale`: gamma * (W x + b) = (gamma W) x + gamma b, one product.
Linear scaledLinear(const WeightSet& w, const std::string& name, std::int64_t out, std::int64_t in,
  const std::string& scale)
{
  at::Tensor weight = w.require(name + ".weight", { out, in });
  at::Tensor bias = w.require(name + ".bias", { out });
  if (!scale.empty())
  {
    const at::Tensor gamma = w.require(scale, { out });
    weight = weight * gamma.view({ out, 1 });
    bias = bias * gamma;
  }
  return Linear(weight, bias);
}

/// The shape of BEiT's relative position bias table: the configured window's
/// (2 h - 1) (2 w - 1) relative offsets and 3 entries for CLS, per head.
std::vector<std::int64_t> beitTableShape(const ModelConfig& c)
{
  const std::int64_t h = c.imageHeight / c.patchSize, w = c.imageWidth / c.patchSize;
  return { (2 * h - 1) * (2 * w - 1) + 3, c.numAttentionHeads };
}

/// BeitRelativePositionBias for a gh x gw patch grid, [1, heads, N, N] float32
/// (N = 1 + gh gw): the table of the configured window (wh0 x ww0 patches)
/// resized bilinearly to the grid's (2 gh - 1) x (2 gw - 1) relative offsets,
/// then read per token pair; the CLS row, column and corner take the table's
/// last three entries.
at::Tensor beitPositionBias(
  const at::Tensor& table, std::int64_t wh0, std::int64_t ww0, std::int64_t gh, std::int64_t gw)
{
  const std::int64_t heads = table.size(1);
  const std::int64_t oldH = 2 * wh0 - 1, oldW = 2 * ww0 - 1, newH = 2 * gh - 1, newW = 2 * gw - 1;
  const std::int64_t offsets = newH * newW;
  // transformers views the table as [oldW, oldH]: the same for the square
  // windows of every checkpoint, and kept so for the others.
  at::Tensor grid = table.narrow(0, 0, oldH * oldW)
                      .to(at::kFloat)
                      .reshape({ 1, oldW, oldH, heads })
                      .permute({ 0, 3, 1, 2 });
  grid = at::upsample_bilinear2d(grid, { newH, newW }, false)
           .permute({ 0, 2, 3, 1 })
           .reshape({ offsets, heads });
  const at::Tensor resized = at::cat({ grid, table.narrow(0, oldH * oldW, 3).to(at::kFloat) });
  const std::int64_t n = gh * gw + 1;
  at::Tensor index = at::empty({ n * n }, at::kLong);
  auto* p = index.data_ptr<std::int64_t>();
  for (std::int64_t a = 0; a < n; ++a)
  {
    for (std::int64_t b = 0; b < n; ++b)
    {
      std::int64_t entry = offsets + 2; // CLS to CLS
      if (a > 0 && b > 0)
      {
        const std::int64_t dy = (a - 1) / gw - (b - 1) / gw + gh - 1;
        const std::int64_t dx = (a - 1) % gw - (b - 1) % gw + gw - 1;
        entry = dy * newW + dx;
      }
      else if (b > 0)
      {
        entry = offsets; // CLS to a patch
      }
      else if (a > 0)
      {
        entry = offsets + 1; // a patch to CLS
      }
      p[a * n + b] = entry;
    }
  }
  return resized.index_select(0, index.to(table.device()))
    .view({ n, n, heads })
    .permute({ 2, 0, 1 })
    .unsqueeze(0)
    .contiguous();
}

} // namespace

VisionTransformer::VisionTransformer(
  const ModelConfig& config, const WeightSet& w, const std::string& p)
  : Config(config)
{
  const std::int64_t d = config.hiddenSize;
  const std::int64_t numPatches =
    (config.imageHeight / config.patchSize) * (config.imageWidth / config.patchSize);
  if (numPatches <= 0)
  {
    throw ModelError(config.sourcePath + ": image_size is smaller than patch_size");
  }
  loadEmbeddings(w, p, numPatches);
  const bool clipLayers =
    config.modelType == ModelType::Clip || config.modelType == ModelType::Siglip;
  const bool beit = config.modelType == ModelType::Beit;
  for (int i = 0; i < config.numHiddenLayers; ++i)
  {
    if (clipLayers)
    {
      loadClipLayer(w, p + "encoder.layers." + std::to_string(i) + ".", config.intermediateSize);
    }
    else if (beit)
    {
      loadBeitLayer(w, p + "encoder.layer." + std::to_string(i) + ".", config.intermediateSize);
    }
    else
    {
      loadLayer(w, p + "encoder.layer." + std::to_string(i) + ".", config.intermediateSize);
    }
  }
  if (beit && config.sharedRelativePositionBias)
  {
    SharedBiasTable = w.require(
      p + "encoder.relative_position_bias.relative_position_bias_table", beitTableShape(config));
  }
  if (!(beit && config.meanPooling)) // BEiT with mean pooling has no final norm
  {
    const std::string finalNorm = p + (clipLayers ? "post_layernorm." : "layernorm.");
    FinalLnW = w.require(finalNorm + "weight", { d });
    FinalLnB = w.require(finalNorm + "bias", { d });
  }
  loadHeads(w, p);
}

void VisionTransformer::loadEmbeddings(
  const WeightSet& w, const std::string& p, std::int64_t numPatches)
{
  const std::int64_t d = Config.hiddenSize;
  const std::int64_t c = Config.numChannels;
  const std::int64_t ps = Config.patchSize;
  const std::int64_t positions = numPatches + Config.positionedPrefixTokens();
  if (Config.modelType == ModelType::Siglip)
  {
    // SiglipVisionEmbeddings: no class token, positions as an nn.Embedding.
    PositionEmbeddings = w.require(p + "embeddings.position_embedding.weight", { positions, d })
                           .view({ 1, positions, d });
    Patch = Linear(
      w.require(p + "embeddings.patch_embedding.weight", { d, c, ps, ps }).reshape({ d, -1 }),
      w.require(p + "embeddings.patch_embedding.bias", { d }));
    return;
  }
  if (Config.modelType == ModelType::Clip)
  {
    // CLIPVisionEmbeddings: a class embedding [D], positions as an nn.Embedding, no patch bias.
    ClsToken = w.require(p + "embeddings.class_embedding", { d }).view({ 1, 1, d });
    PositionEmbeddings = w.require(p + "embeddings.position_embedding.weight", { positions, d })
                           .view({ 1, positions, d });
    Patch = Linear(
      w.require(p + "embeddings.patch_embedding.weight", { d, c, ps, ps }).reshape({ d, -1 }),
      at::Tensor());
    PreLnW = w.require(p + "pre_layrnorm.weight", { d });
    PreLnB = w.require(p + "pre_layrnorm.bias", { d });
    return;
  }
  ClsToken = w.require(p + "embeddings.cls_token", { 1, 1, d });
  if (Config.modelType == ModelType::Deit)
  {
    DistillationToken = w.require(p + "embeddings.distillation_token", { 1, 1, d });
  }
  if (Config.numRegisterTokens > 0)
  {
    RegisterTokens =
      w.require(p + "embeddings.register_tokens", { 1, Config.numRegisterTokens, d });
  }
  if (Config.absolutePositions) // BEiT: use_absolute_position_embeddings
  {
    PositionEmbeddings = w.require(p + "embeddings.position_embeddings", { 1, positions, d });
  }
  Patch = Linear(w.require(p + "embeddings.patch_embeddings.projection.weight", { d, c, ps, ps })
                   .reshape({ d, -1 }),
    w.require(p + "embeddings.patch_embeddings.projection.bias", { d }));
}

void VisionTransformer::loadNorms(
  const WeightSet& w, const std::string& before, const std::string& after, Layer& L) const
{
  const std::int64_t d = Config.hiddenSize;
  L.lnBeforeW = w.require(before + "weight", { d });
  L.lnBeforeB = w.require(before + "bias", { d });
  L.lnAfterW = w.require(after + "weight", { d });
  L.lnAfterB = w.require(after + "bias", { d });
}

void VisionTransformer::loadClipLayer(const WeightSet& w, const std::string& l, std::int64_t inter)
{
  const std::int64_t d = Config.hiddenSize;
  Layer L;
  loadNorms(w, l + "layer_norm1.", l + "layer_norm2.", L);
  const std::string a = l + "self_attn.";
  L.qkv = qkvLinear(w, a, { "q_proj", "k_proj", "v_proj" }, d, true);
  L.attnOut = scaledLinear(w, a + "out_proj", d, d, "");
  L.inter = scaledLinear(w, l + "mlp.fc1", inter, d, "");
  L.out = scaledLinear(w, l + "mlp.fc2", d, inter, "");
  Layers.push_back(std::move(L));
}

void VisionTransformer::loadLayer(const WeightSet& w, const std::string& l, std::int64_t inter)
{
  const std::int64_t d = Config.hiddenSize;
  const bool dinov2 = Config.modelType == ModelType::Dinov2;
  Layer L;
  loadNorms(w, l + (dinov2 ? "norm1." : "layernorm_before."),
    l + (dinov2 ? "norm2." : "layernorm_after."), L);
  L.qkv = qkvLinear(w, l + "attention.attention.", { "query", "key", "value" }, d, Config.qkvBias);
  L.attnOut = scaledLinear(
    w, l + "attention.output.dense", d, d, dinov2 ? l + "layer_scale1.lambda1" : std::string());
  if (!dinov2)
  {
    L.inter = scaledLinear(w, l + "intermediate.dense", inter, d, "");
    L.out = scaledLinear(w, l + "output.dense", d, inter, "");
  }
  else if (Config.swiglu)
  {
    L.inter = scaledLinear(w, l + "mlp.weights_in", 2 * inter, d, "");
    L.out = scaledLinear(w, l + "mlp.weights_out", d, inter, l + "layer_scale2.lambda1");
  }
  else
  {
    L.inter = scaledLinear(w, l + "mlp.fc1", inter, d, "");
    L.out = scaledLinear(w, l + "mlp.fc2", d, inter, l + "layer_scale2.lambda1");
  }
  Layers.push_back(std::move(L));
}

void VisionTransformer::loadBeitLayer(const WeightSet& w, const std::string& l, std::int64_t inter)
{
  const std::int64_t d = Config.hiddenSize;
  Layer L;
  loadNorms(w, l + "layernorm_before.", l + "layernorm_after.", L);
  // BeitSelfAttention: the key has no bias (zeros in the stacked product).
  const std::string a = l + "attention.attention.";
  const at::Tensor queryBias = w.require(a + "query.bias", { d });
  L.qkv =
    Linear(at::cat({ w.require(a + "query.weight", { d, d }), w.require(a + "key.weight", { d, d }),
             w.require(a + "value.weight", { d, d }) }),
      at::cat({ queryBias, at::zeros_like(queryBias), w.require(a + "value.bias", { d }) }));
  const bool scaled = Config.layerScale;
  L.attnOut =
    scaledLinear(w, l + "attention.output.dense", d, d, scaled ? l + "lambda_1" : std::string());
  L.inter = scaledLinear(w, l + "intermediate.dense", inter, d, "");
  L.out = scaledLinear(w, l + "output.dense", d, inter, scaled ? l + "lambda_2" : std::string());
  if (Config.relativePositionBias)
  {
    L.biasTable =
      w.require(a + "relative_position_bias.relative_position_bias_table", beitTableShape(Config));
  }
  Layers.push_back(std::move(L));
}

void VisionTransformer::loadHeads(const WeightSet& w, const std::string& p)
{
  const std::int64_t d = Config.hiddenSize;
  switch (Config.modelType)
  {
    case ModelType::Dinov2: // the classifier reads [CLS, mean of the patch tokens]
      Classifier = classifierLinear(w, "classifier", 2 * d);
      break;
    case ModelType::Beit: // the classifier reads the pooler: the normed patch mean, or CLS
      if (Config.meanPooling &&
        (w.has(p + "pooler.layernorm.weight") || w.has("classifier.weight")))
      {
        PoolerLnW = w.require(p + "pooler.layernorm.weight", { d });
        PoolerLnB = w.require(p + "pooler.layernorm.bias", { d });
      }
      Classifier = classifierLinear(w, "classifier", d);
      break;
    case ModelType::Siglip: // the classifier reads the mean of the tokens
      Classifier = classifierLinear(w, "classifier", d);
      loadPoolingHead(w, p);
      break;
    case ModelType::Clip: // the classifier reads the mean of the patch tokens
      Classifier = classifierLinear(w, "classifier", d);
      if (w.has("visual_projection.weight"))
      {
        const at::Tensor weight = w.tensors().at("visual_projection.weight");
        if (weight.dim() != 2 || weight.size(1) != d)
        {
          throw ModelError(w.sourcePath() + ": weight 'visual_projection.weight' has shape " +
            shapeToString(weight.sizes()) + ", not [projection_dim, " + std::to_string(d) + "]");
        }
        Projection = Linear(weight, at::Tensor());
      }
      break;
    case ModelType::Deit:
      Pooler = optionalLinear(w, p + "pooler.dense", { d, d });
      if (w.has("cls_classifier.weight") || w.has("distillation_classifier.weight"))
      {
        Classifier = classifierLinear(w, "cls_classifier", d);
        DistillationClassifier = classifierLinear(w, "distillation_classifier", d);
        if (Classifier.outFeatures() != DistillationClassifier.outFeatures())
        {
          throw ModelError(w.sourcePath() +
            ": cls_classifier and distillation_classifier have different label counts");
        }
      }
      else
      {
        Classifier = classifierLinear(w, "classifier", d);
      }
      break;
    default:
      Pooler = optionalLinear(w, p + "pooler.dense", { d, d });
      Classifier = classifierLinear(w, "classifier", d);
      break;
  }
}

void VisionTransformer::loadPoolingHead(const WeightSet& w, const std::string& p)
{
  const std::string h = p + "head.";
  if (!w.has(h + "probe"))
  {
    return; // vision_use_head = false (SiglipForImageClassification)
  }
  const std::int64_t d = Config.hiddenSize;
  const std::int64_t heads = Config.numAttentionHeads;
  const at::Tensor inW = w.require(h + "attention.in_proj_weight", { 3 * d, d });
  const at::Tensor inB = w.require(h + "attention.in_proj_bias", { 3 * d });
  // The query is the same for every image: projected once, split into heads.
  const at::Tensor probe = w.require(h + "probe", { 1, 1, d }).to(at::kFloat);
  Head.probe =
    at::linear(probe, inW.narrow(0, 0, d).to(at::kFloat), inB.narrow(0, 0, d).to(at::kFloat))
      .view({ 1, 1, heads, d / heads })
      .permute({ 0, 2, 1, 3 })
      .contiguous();
  Head.keyValue = Linear(inW.narrow(0, d, 2 * d), inB.narrow(0, d, 2 * d));
  Head.out = scaledLinear(w, h + "attention.out_proj", d, d, "");
  Head.lnW = w.require(h + "layernorm.weight", { d });
  Head.lnB = w.require(h + "layernorm.bias", { d });
  Head.fc1 = scaledLinear(w, h + "mlp.fc1", Config.intermediateSize, d, "");
  Head.fc2 = scaledLinear(w, h + "mlp.fc2", d, Config.intermediateSize, "");
}

at::Tensor VisionTransformer::poolingHead(const at::Tensor& tokens) const
{
  // nn.MultiheadAttention with one query, then x + mlp(layernorm(x)).
  const std::int64_t b = tokens.size(0), n = tokens.size(1), d = Config.hiddenSize;
  const std::int64_t heads = Config.numAttentionHeads, hd = d / heads;
  const at::Tensor kv = Head.keyValue.forward(tokens, at::kFloat).view({ b, n, 2, heads, hd });
  const at::Tensor k = kv.select(2, 0).permute({ 0, 2, 3, 1 }); // [B, heads, hd, N]
  const at::Tensor v = kv.select(2, 1).permute({ 0, 2, 1, 3 }); // [B, heads, N, hd]
  const at::Tensor scores =
    at::softmax(at::matmul(Head.probe, k) / std::sqrt(static_cast<double>(hd)), -1);
  const at::Tensor context = at::matmul(scores, v).permute({ 0, 2, 1, 3 }).reshape({ b, 1, d });
  at::Tensor x = Head.out.forward(context, at::kFloat);
  const at::Tensor normed = at::layer_norm(x, { d }, Head.lnW, Head.lnB, Config.layerNormEps);
  Head.fc2.accumulate(Head.fc1.forward(normed, at::kFloat, &Config.hiddenAct), x);
  return x.select(1, 0);
}

BackboneOutput VisionTransformer::beitOutput(const at::Tensor& x) const
{
  const std::int64_t d = Config.hiddenSize;
  const double eps = Config.layerNormEps;
  BackboneOutput out;
  if (Config.meanPooling)
  {
    out.lastHiddenState = x; // BeitModel's layernorm is the identity then
    if (PoolerLnW.defined())
    {
      const at::Tensor patchMean = x.narrow(1, 1, x.size(1) - 1).mean(1);
      out.poolerOutput = at::layer_norm(patchMean, { d }, PoolerLnW, PoolerLnB, eps);
    }
  }
  else
  {
    out.lastHiddenState = at::layer_norm(x, { d }, FinalLnW, FinalLnB, eps);
    out.poolerOutput = out.lastHiddenState.select(1, 0);
  }
  if (Classifier.defined())
  {
    out.logits = Classifier.forward(out.poolerOutput, at::kFloat);
  }
  return out;
}

std::int64_t VisionTransformer::numLabels() const
{
  return Classifier.outFeatures();
}

void VisionTransformer::to(at::Device device, at::ScalarType dtype)
{
  // Only the big products take the compute type; see the header.
  ComputeType = dtype;
  for (at::Tensor* t : { &ClsToken, &DistillationToken, &RegisterTokens, &PositionEmbeddings,
         &SharedBiasTable, &PoolerLnW, &PoolerLnB, &PreLnW, &PreLnB, &FinalLnW, &FinalLnB })
  {
    if (t->defined())
    {
      *t = t->to(device, at::kFloat);
    }
  }
  Patch.to(device, dtype);
  Pooler.to(device, at::kFloat);
  Classifier.to(device, at::kFloat);
  DistillationClassifier.to(device, at::kFloat);
  Projection.to(device, at::kFloat);
  for (Linear* m : { &Head.keyValue, &Head.out, &Head.fc1, &Head.fc2 })
  {
    m->to(device, at::kFloat);
  }
  for (at::Tensor* t : { &Head.probe, &Head.lnW, &Head.lnB })
  {
    if (t->defined())
    {
      *t = t->to(device, at::kFloat);
    }
  }
  for (Layer& L : Layers)
  {
    for (at::Tensor* t : { &L.lnBeforeW, &L.lnBeforeB, &L.lnAfterW, &L.lnAfterB, &L.biasTable })
    {
      if (t->defined())
      {
        *t = t->to(device, at::kFloat);
      }
    }
    for (Linear* m : { &L.qkv, &L.attnOut, &L.inter, &L.out })
    {
      m->to(device, dtype);
    }
  }
}

at::Tensor VisionTransformer::positionEmbeddings(std::int64_t gridH, std::int64_t gridW) const
{
  const std::int64_t prefix = Config.positionedPrefixTokens();
  const std::int64_t numPositions = PositionEmbeddings.size(1) - prefix;
  std::int64_t h0 = Config.imageHeight / Config.patchSize;
  std::int64_t w0 = Config.imageWidth / Config.patchSize;
  if (gridH * gridW == numPositions && gridH == h0)
  {
    return PositionEmbeddings;
  }
  // transformers' interpolate_pos_encoding: bicubic resize of the patch grid
  // (a square grid of sqrt(positions) for DeiT and DINOv2, as they assume;
  // DINOv2 with registers antialiases).
  if (Config.modelType != ModelType::Vit && Config.modelType != ModelType::Beit)
  {
    h0 = w0 = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(numPositions))));
  }
  const std::int64_t d = PositionEmbeddings.size(2);
  at::Tensor tokens = PositionEmbeddings.narrow(1, 0, prefix);
  at::Tensor grid = PositionEmbeddings.narrow(1, prefix, numPositions)
                      .reshape({ 1, h0, w0, d })
                      .permute({ 0, 3, 1, 2 });
  grid = Config.modelTypeName == "dinov2_with_registers"
    ? at::_upsample_bicubic2d_aa(grid.to(at::kFloat), { gridH, gridW }, false)
    : at::upsample_bicubic2d(grid.to(at::kFloat), { gridH, gridW }, false);
  grid = grid.to(PositionEmbeddings.scalar_type());
  grid = grid.permute({ 0, 2, 3, 1 }).reshape({ 1, gridH * gridW, d });
  return at::cat({ tokens, grid }, 1);
}

at::Tensor VisionTransformer::logits(const at::Tensor& lastHiddenState) const
{
  const at::Tensor first = lastHiddenState.select(1, 0);
  const at::Tensor patches = lastHiddenState.narrow(1, 1, lastHiddenState.size(1) - 1);
  if (Config.modelType == ModelType::Dinov2) // registers are not patches
  {
    const std::int64_t prefix = Config.prefixTokens();
    const at::Tensor patchMean =
      lastHiddenState.narrow(1, prefix, lastHiddenState.size(1) - prefix).mean(1);
    return Classifier.forward(at::cat({ first, patchMean }, 1), at::kFloat);
  }
  if (Config.modelType == ModelType::Clip)
  {
    return Classifier.forward(patches.mean(1), at::kFloat);
  }
  if (Config.modelType == ModelType::Siglip)
  {
    return Classifier.forward(lastHiddenState.mean(1), at::kFloat);
  }
  at::Tensor out = Classifier.forward(first, at::kFloat);
  if (DistillationClassifier.defined())
  {
    const at::Tensor second = lastHiddenState.select(1, 1);
    out = (out + DistillationClassifier.forward(second, at::kFloat)) / 2;
  }
  return out;
}

BackboneOutput VisionTransformer::forward(const at::Tensor& pixelValues) const
{
  if (pixelValues.dim() != 4 || pixelValues.size(1) != Config.numChannels)
  {
    throw ModelError(Config.modelTypeName + " input must be [batch, " +
      std::to_string(Config.numChannels) + ", height, width], got " +
      shapeToString(pixelValues.sizes()));
  }
  if (pixelValues.size(2) < Config.patchSize || pixelValues.size(3) < Config.patchSize)
  {
    throw ModelError(Config.modelTypeName + " input " + shapeToString(pixelValues.sizes()) +
      " is smaller than one patch");
  }
  const std::int64_t b = pixelValues.size(0);
  const std::int64_t d = Config.hiddenSize;
  const std::int64_t heads = Config.numAttentionHeads;
  const std::int64_t hd = d / heads;
  const double eps = Config.layerNormEps;
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));

  const at::ScalarType ct = ComputeType;
  // Residual stream x in float32 throughout.
  at::Tensor x = Patch.forward(patchRows(pixelValues, Config.patchSize), at::kFloat); // [B, P, D]
  const std::int64_t gh = pixelValues.size(2) / Config.patchSize,
                     gw = pixelValues.size(3) / Config.patchSize;
  if (DistillationToken.defined())
  {
    x = at::cat({ ClsToken.expand({ b, 1, d }), DistillationToken.expand({ b, 1, d }), x }, 1);
  }
  else if (ClsToken.defined()) // SigLIP has none
  {
    x = at::cat({ ClsToken.expand({ b, 1, d }), x }, 1);
  }
  if (PositionEmbeddings.defined()) // BEiT may have none
  {
    x = x + positionEmbeddings(gh, gw);
  }
  if (RegisterTokens.defined()) // after CLS, without positions
  {
    x = at::cat(
      { x.narrow(1, 0, 1), RegisterTokens.expand({ b, -1, d }), x.narrow(1, 1, x.size(1) - 1) }, 1);
  }
  if (PreLnW.defined())
  {
    x = at::layer_norm(x, { d }, PreLnW, PreLnB, eps); // CLIP's pre_layrnorm
  }
  const std::int64_t n = x.size(1);
  // BEiT's relative position bias, [1, heads, N, N], added to every image's scores.
  const auto positionBias = [&](const at::Tensor& table) {
    return beitPositionBias(
      table, Config.imageHeight / Config.patchSize, Config.imageWidth / Config.patchSize, gh, gw);
  };
  const at::Tensor sharedBias =
    SharedBiasTable.defined() ? positionBias(SharedBiasTable) : at::Tensor();

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
    at::Tensor bias = L.biasTable.defined() ? positionBias(L.biasTable) : at::Tensor();
    if (sharedBias.defined())
    {
      bias = bias.defined() ? bias + sharedBias : sharedBias;
    }
    std::function<void(at::Tensor&, std::int64_t)> addBias;
    if (bias.defined())
    {
      addBias = [&bias](at::Tensor& scores, std::int64_t) { scores.add_(bias); };
    }
    attention(heads3[0], heads3[1].transpose(2, 3), heads3[2], scale, addBias, ctxHeads);
    L.attnOut.accumulate(ctx, x);
    h = layerNormTo(x, L.lnAfterW, L.lnAfterB, eps, ct);
    if (Config.swiglu)
    {
      // transformers' Dinov2SwiGLUFFN: silu(x1) * x2 of the two halves.
      const at::Tensor both = L.inter.forward(h, at::kFloat);
      const auto halves = both.chunk(2, -1);
      L.out.accumulate(at::silu(halves[0]) * halves[1], x);
    }
    else
    {
      L.out.accumulate(L.inter.forward(h, ct, &Config.hiddenAct), x);
    }
  }

  if (Config.modelType == ModelType::Beit)
  {
    return beitOutput(x);
  }
  BackboneOutput out;
  if (Config.modelType == ModelType::Clip)
  {
    // last_hidden_state is not normed; pooler_output is the post-normed CLS token.
    out.lastHiddenState = x;
    out.poolerOutput = at::layer_norm(x.select(1, 0), { d }, FinalLnW, FinalLnB, eps);
    if (Projection.defined())
    {
      out.projection = Projection.forward(out.poolerOutput, at::kFloat);
    }
    if (Classifier.defined())
    {
      out.logits = logits(out.lastHiddenState);
    }
    return out;
  }
  out.lastHiddenState = at::layer_norm(x, { d }, FinalLnW, FinalLnB, eps);
  if (Config.modelType == ModelType::Siglip)
  {
    if (Head.probe.defined())
    {
      out.poolerOutput = poolingHead(out.lastHiddenState);
    }
    if (Classifier.defined())
    {
      out.logits = logits(out.lastHiddenState);
    }
    return out;
  }
  const at::Tensor first = out.lastHiddenState.select(1, 0);
  if (Pooler.defined())
  {
    out.poolerOutput = at::tanh(Pooler.forward(first, at::kFloat));
  }
  else if (Config.modelType == ModelType::Dinov2)
  {
    out.poolerOutput = first; // Dinov2Model's pooler_output: the normed CLS token
  }
  if (Classifier.defined())
  {
    out.logits = logits(out.lastHiddenState);
  }
  return out;
}

} // namespace engine
} // namespace dualembed
