#include "SwinTransformer.h"

#include "EngineError.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

namespace dualembed
{
namespace engine
{
namespace
{

// transformers builds these LayerNorms with the PyTorch default epsilon.
constexpr double kDefaultLayerNormEps = 1e-5;

/// Relative position index of a `window` x `window` window into the bias
/// table of a `tableWindow` x `tableWindow` window (equal in transformers;
/// a smaller window, used when the feature map is smaller than the
/// configured window, reads the central part of the table).
at::Tensor relativePositionIndex(std::int64_t window, std::int64_t tableWindow)
{
  const std::int64_t n = window * window;
  at::Tensor index = at::empty({ n * n }, at::kLong);
  auto* p = index.data_ptr<std::int64_t>();
  for (std::int64_t a = 0; a < n; ++a)
  {
    for (std::int64_t b = 0; b < n; ++b)
    {
      const std::int64_t dy = a / window - b / window + tableWindow - 1;
      const std::int64_t dx = a % window - b % window + tableWindow - 1;
      p[a * n + b] = dy * (2 * tableWindow - 1) + dx;
    }
  }
  return index;
}

/// Shifted-window attention mask [numWindows, N, N] (0 or -100).
at::Tensor shiftedWindowMask(
  std::int64_t height, std::int64_t width, std::int64_t window, std::int64_t shift)
{
  std::vector<int> region(static_cast<std::size_t>(height * width));
  auto band = [&](std::int64_t i, std::int64_t size) {
    return i < size - window ? 0 : (i < size - shift ? 1 : 2);
  };
  for (std::int64_t y = 0; y < height; ++y)
  {
    for (std::int64_t x = 0; x < width; ++x)
    {
      region[static_cast<std::size_t>(y * width + x)] = band(y, height) * 3 + band(x, width);
    }
  }
  const std::int64_t nh = height / window, nw = width / window, n = window * window;
  at::Tensor mask = at::zeros({ nh * nw, n, n }, at::kFloat);
  auto* m = mask.data_ptr<float>();
  for (std::int64_t wy = 0; wy < nh; ++wy)
  {
    for (std::int64_t wx = 0; wx < nw; ++wx)
    {
      float* mw = m + (wy * nw + wx) * n * n;
      for (std::int64_t a = 0; a < n; ++a)
      {
        const int ra = region[static_cast<std::size_t>(
          (wy * window + a / window) * width + wx * window + a % window)];
        for (std::int64_t b = 0; b < n; ++b)
        {
          const int rb = region[static_cast<std::size_t>(
            (wy * window + b / window) * width + wx * window + b % window)];
          mw[a * n + b] = (ra == rb) ? 0.0f : -100.0f;
        }
      }
    }
  }
  return mask;
}

/// The windowed layout of a [B, height, width] token map as row indices, for
/// the gather before and the scatter after the window attention: the map is
/// zero-padded to whole windows and rolled by -shift, as transformers does;
/// row (b, window, position) of the windows is token `windowRows[...]` of x
/// ([B * height * width] rows, -1 for padding), and token i of x is row
/// `tokenRows[i]` of the windows.
struct WindowLayout
{
  at::Tensor windowRows, tokenRows;
  std::int64_t windowsPerImage = 0;
  std::int64_t paddedHeight = 0, paddedWidth = 0; // whole windows
};

WindowLayout windowLayout(std::int64_t batch, std::int64_t height, std::int64_t width,
  std::int64_t window, std::int64_t shift)
{
  const std::int64_t hp = height + (window - height % window) % window;
  const std::int64_t wp = width + (window - width % window) % window;
  const std::int64_t nh = hp / window, nw = wp / window, n = window * window;
  const std::int64_t perImage = nh * nw * n, tokens = height * width;
  WindowLayout layout;
  layout.windowsPerImage = nh * nw;
  layout.paddedHeight = hp;
  layout.paddedWidth = wp;
  layout.windowRows = at::empty({ batch * perImage }, at::kLong);
  layout.tokenRows = at::empty({ batch * tokens }, at::kLong);
  auto* wr = layout.windowRows.data_ptr<std::int64_t>();
  auto* tr = layout.tokenRows.data_ptr<std::int64_t>();
  for (std::int64_t w = 0, r = 0; w < nh * nw; ++w)
  {
    for (std::int64_t a = 0; a < n; ++a, ++r)
    {
      // torch.roll(x, -shift): position p of the rolled map is p + shift of the padded one
      const std::int64_t y = ((w / nw) * window + a / window + shift) % hp;
      const std::int64_t x = ((w % nw) * window + a % window + shift) % wp;
      const bool inside = y < height && x < width;
      wr[r] = inside ? y * width + x : -1;
      if (inside)
      {
        tr[y * width + x] = r;
      }
    }
  }
  for (std::int64_t b = 1; b < batch; ++b)
  {
    for (std::int64_t r = 0; r < perImage; ++r)
    {
      wr[b * perImage + r] = wr[r] < 0 ? -1 : wr[r] + b * tokens;
    }
    for (std::int64_t t = 0; t < tokens; ++t)
    {
      tr[b * tokens + t] = tr[t] + b * perImage;
    }
  }
  return layout;
}

} // namespace

SwinTransformer::SwinTransformer(
  const ModelConfig& config, const WeightSet& w, const std::string& p)
  : Config(config)
{
  const std::int64_t e = config.embedDim;
  const std::int64_t ps = config.patchSize;
  const std::int64_t win = config.windowSize;
  Patch = Linear(w.require(p + "embeddings.patch_embeddings.projection.weight",
                    { e, config.numChannels, ps, ps })
                   .reshape({ e, -1 }),
    w.require(p + "embeddings.patch_embeddings.projection.bias", { e }));
  EmbedNormW = w.require(p + "embeddings.norm.weight", { e });
  EmbedNormB = w.require(p + "embeddings.norm.bias", { e });
  const std::size_t numStages = config.depths.size();
  for (std::size_t s = 0; s < numStages; ++s)
  {
    Stage st;
    st.dim = e << s;
    st.heads = config.numHeads[s];
    const std::int64_t d = st.dim;
    const std::int64_t hidden = static_cast<std::int64_t>(config.mlpRatio * static_cast<double>(d));
    const std::string sp = p + "encoder.layers." + std::to_string(s) + ".";
    for (int i = 0; i < config.depths[s]; ++i)
    {
      const std::string l = sp + "blocks." + std::to_string(i) + ".";
      Block B;
      B.lnBeforeW = w.require(l + "layernorm_before.weight", { d });
      B.lnBeforeB = w.require(l + "layernorm_before.bias", { d });
      const std::string a = l + "attention.self.";
      B.qkv = qkvLinear(w, a, { "query", "key", "value" }, d, config.qkvBias);
      B.biasTable = w.require(l + "attention.self.relative_position_bias_table",
        { (2 * win - 1) * (2 * win - 1), st.heads });
      B.attnOut = Linear(w.require(l + "attention.output.dense.weight", { d, d }),
        w.require(l + "attention.output.dense.bias", { d }));
      B.lnAfterW = w.require(l + "layernorm_after.weight", { d });
      B.lnAfterB = w.require(l + "layernorm_after.bias", { d });
      B.inter = Linear(w.require(l + "intermediate.dense.weight", { hidden, d }),
        w.require(l + "intermediate.dense.bias", { hidden }));
      B.out = Linear(w.require(l + "output.dense.weight", { d, hidden }),
        w.require(l + "output.dense.bias", { d }));
      st.blocks.push_back(std::move(B));
    }
    if (s + 1 < numStages)
    {
      st.mergeNormW = w.require(sp + "downsample.norm.weight", { 4 * d });
      st.mergeNormB = w.require(sp + "downsample.norm.bias", { 4 * d });
      st.mergeReduction =
        Linear(w.require(sp + "downsample.reduction.weight", { 2 * d, 4 * d }), at::Tensor());
    }
    Stages.push_back(std::move(st));
  }
  const std::int64_t f = config.finalHiddenSize();
  FinalLnW = w.require(p + "layernorm.weight", { f });
  FinalLnB = w.require(p + "layernorm.bias", { f });
  Classifier = classifierLinear(w, "classifier", f);
}

std::int64_t SwinTransformer::numLabels() const
{
  return Classifier.outFeatures();
}

void SwinTransformer::to(at::Device device, at::ScalarType dtype)
{
  // Only the big products take the compute type; see the header.
  ComputeType = dtype;
  auto move = [&](at::Tensor& t) {
    if (t.defined())
    {
      t = t.to(device, at::kFloat);
    }
  };
  for (at::Tensor* t : { &EmbedNormW, &EmbedNormB, &FinalLnW, &FinalLnB })
  {
    move(*t);
  }
  Patch.to(device, dtype);
  Classifier.to(device, at::kFloat);
  for (Stage& st : Stages)
  {
    move(st.mergeNormW);
    move(st.mergeNormB);
    st.mergeReduction.to(device, dtype);
    for (Block& B : st.blocks)
    {
      for (at::Tensor* t : { &B.lnBeforeW, &B.lnBeforeB, &B.biasTable, &B.lnAfterW, &B.lnAfterB })
      {
        move(*t);
      }
      for (Linear* m : { &B.qkv, &B.attnOut, &B.inter, &B.out })
      {
        m->to(device, dtype);
      }
    }
  }
}

at::Tensor SwinTransformer::block(const Block& blk, const at::Tensor& x, std::int64_t height,
  std::int64_t width, std::int64_t dim, std::int64_t heads, bool shifted) const
{
  // transformers' SwinLayer.set_shift_and_window_size
  std::int64_t window = Config.windowSize;
  std::int64_t shift = shifted ? Config.windowSize / 2 : 0;
  if (std::min(height, width) <= window)
  {
    shift = 0;
    window = std::min(height, width);
  }
  const std::int64_t b = x.size(0);
  const std::int64_t hd = dim / heads;
  const std::int64_t n = window * window;
  const at::ScalarType ct = ComputeType;

  // Norm, padding, roll and window partition in one gather.
  const at::Tensor x2d = x.reshape({ -1, dim });
  WindowLayout layout = windowLayout(b, height, width, window, shift);
  layout.windowRows = layout.windowRows.to(x.device());
  layout.tokenRows = layout.tokenRows.to(x.device());
  const at::Tensor windows =
    layerNormRowsTo(x2d, layout.windowRows, blk.lnBeforeW, blk.lnBeforeB, Config.layerNormEps, ct);
  const std::int64_t bw = windows.size(0) / n;

  // [bw, N, 3, heads, hd]: q, k and v are strided views of one product.
  const at::Tensor qkv = blk.qkv.forward(windows, ct).view({ bw, n, 3, heads, hd });
  // Heads-major copies: oneDNN's AMX/AVX-512 batched kernels need dense
  // per-head matrices (on the strided views it ran a generic kernel 20x slower).
  const at::Tensor heads3 = qkv.permute({ 2, 0, 3, 1, 4 }).contiguous(); // [3, bw, heads, N, hd]
  // Position bias and (shifted) window mask as one float32 term per window
  // of an image, [windows or 1, heads, N, N], added to each chunk's scores.
  const at::Tensor index = relativePositionIndex(window, Config.windowSize).to(x.device());
  at::Tensor biasMask =
    blk.biasTable.index_select(0, index).view({ n, n, heads }).permute({ 2, 0, 1 }).unsqueeze(0);
  if (shift > 0)
  {
    biasMask = biasMask +
      shiftedWindowMask(layout.paddedHeight, layout.paddedWidth, window, shift)
        .to(x.device())
        .unsqueeze(1);
  }
  biasMask = biasMask.contiguous();
  const std::int64_t perImage = biasMask.size(0);
  auto addBiasAndMask = [&](at::Tensor& scores, std::int64_t first) {
    const std::int64_t rows = scores.size(0);
    if (perImage == 1)
    {
      scores.add_(biasMask);
    }
    else if (rows % perImage == 0) // whole images (attention's alignRows)
    {
      scores.view({ rows / perImage, perImage, heads, n, n }).add_(biasMask.unsqueeze(0));
    }
    else // a part of one image's windows
    {
      scores.add_(biasMask.narrow(0, first % perImage, rows));
    }
  };
  at::Tensor ctx = at::empty({ bw, n, dim }, qkv.options());
  at::Tensor ctxHeads = ctx.view({ bw, n, heads, hd }).permute({ 0, 2, 1, 3 });
  attention(heads3[0], heads3[1].transpose(2, 3), heads3[2],
    1.0 / std::sqrt(static_cast<double>(hd)), addBiasAndMask, ctxHeads, perImage);
  ctx = blk.attnOut.forward(ctx.view({ bw * n, dim }), at::kFloat);

  // Window reverse, roll back and crop in one gather, with the residual.
  at::Tensor out = addRows(x2d, ctx, layout.tokenRows).view({ b, height * width, dim });
  const at::Tensor m = layerNormTo(out, blk.lnAfterW, blk.lnAfterB, Config.layerNormEps, ct);
  blk.out.accumulate(blk.inter.forward(m, ct, &Config.hiddenAct), out);
  return out;
}

BackboneOutput SwinTransformer::forward(const at::Tensor& pixelValues) const
{
  if (pixelValues.dim() != 4 || pixelValues.size(1) != Config.numChannels)
  {
    throw ModelError("Swin input must be [batch, " + std::to_string(Config.numChannels) +
      ", height, width], got " + shapeToString(pixelValues.sizes()));
  }
  const std::int64_t ps = Config.patchSize;
  at::Tensor px = pixelValues;
  const std::int64_t padW = (ps - px.size(3) % ps) % ps;
  const std::int64_t padH = (ps - px.size(2) % ps) % ps;
  if (padW > 0 || padH > 0)
  {
    px = at::constant_pad_nd(px, { 0, padW, 0, padH }, 0.0);
  }
  std::int64_t height = px.size(2) / ps, width = px.size(3) / ps;
  const std::int64_t b = px.size(0);
  at::Tensor x = Patch.forward(patchRows(px, ps), at::kFloat); // [B, height*width, embedDim]
  x = at::layer_norm(x, { Config.embedDim }, EmbedNormW, EmbedNormB, kDefaultLayerNormEps);

  for (const Stage& st : Stages)
  {
    for (std::size_t i = 0; i < st.blocks.size(); ++i)
    {
      x = block(st.blocks[i], x, height, width, st.dim, st.heads, i % 2 == 1);
    }
    if (st.mergeReduction.defined())
    {
      at::Tensor f = x.reshape({ b, height, width, st.dim });
      if (height % 2 == 1 || width % 2 == 1)
      {
        f = at::constant_pad_nd(f, { 0, 0, 0, width % 2, 0, height % 2 }, 0.0);
      }
      using at::indexing::None;
      using at::indexing::Slice;
      at::Tensor x0 = f.index({ Slice(), Slice(0, None, 2), Slice(0, None, 2), Slice() });
      at::Tensor x1 = f.index({ Slice(), Slice(1, None, 2), Slice(0, None, 2), Slice() });
      at::Tensor x2 = f.index({ Slice(), Slice(0, None, 2), Slice(1, None, 2), Slice() });
      at::Tensor x3 = f.index({ Slice(), Slice(1, None, 2), Slice(1, None, 2), Slice() });
      f = at::cat({ x0, x1, x2, x3 }, -1).reshape({ b, -1, 4 * st.dim });
      f = layerNormTo(f, st.mergeNormW, st.mergeNormB, kDefaultLayerNormEps, ComputeType);
      x = st.mergeReduction.forward(f, at::kFloat);
      height = (height + 1) / 2;
      width = (width + 1) / 2;
    }
  }

  BackboneOutput out;
  out.lastHiddenState =
    at::layer_norm(x, { Config.finalHiddenSize() }, FinalLnW, FinalLnB, Config.layerNormEps);
  out.poolerOutput = out.lastHiddenState.mean(1);
  if (Classifier.defined())
  {
    out.logits = Classifier.forward(out.poolerOutput, at::kFloat);
  }
  return out;
}

} // namespace engine
} // namespace dualembed
