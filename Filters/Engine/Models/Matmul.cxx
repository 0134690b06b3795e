#include "Matmul.h"

#include "EngineError.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#ifdef DUALEMBED_WITH_DNNL
#include "OneDnn.h"
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace dualembed
{
namespace engine
{

#ifdef DUALEMBED_WITH_DNNL
namespace onednn
{
dnnl::engine& cpuEngine()
{
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::memory::data_type dataType(at::ScalarType type)
{
  switch (type)
  {
    case at::kFloat:
      return dnnl::memory::data_type::f32;
    case at::kBFloat16:
      return dnnl::memory::data_type::bf16;
    default:
      throw ModelError(
        std::string("oneDNN products take float32 or bfloat16, not ") + at::toString(type));
  }
}

dnnl::memory::desc stridedDesc(const at::Tensor& t)
{
  return dnnl::memory::desc(dnnl::memory::dims(t.sizes().begin(), t.sizes().end()),
    dataType(t.scalar_type()), dnnl::memory::dims(t.strides().begin(), t.strides().end()));
}

dnnl::memory memoryOf(const dnnl::memory::desc& desc, const at::Tensor& t)
{
  return dnnl::memory(desc, cpuEngine(), t.data_ptr());
}
} // namespace onednn

namespace
{

using dt = dnnl::memory::data_type;
using onednn::cpuEngine;
using onednn::dataType;
using onednn::memoryOf;
using onednn::stridedDesc;

/// The activation as a oneDNN post-op (all of transformers' ViT/Swin ones).
void appendActivation(dnnl::post_ops& ops, Activation act)
{
  switch (act)
  {
    case Activation::Gelu:
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
      break;
    case Activation::GeluTanh:
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_tanh, 0.0f, 0.0f);
      break;
    case Activation::QuickGelu: // x * sigmoid(1.702 x)
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_swish, 1.702f, 0.0f);
      break;
    case Activation::Relu:
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      break;
    case Activation::Silu:
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_swish, 1.0f, 0.0f);
      break;
  }
}

} // namespace
#endif

bool matmulUsesOneDnn()
{
#ifdef DUALEMBED_WITH_DNNL
  return true;
#else
  return false;
#endif
}

bool cpuHasBFloat16()
{
#ifdef DUALEMBED_WITH_DNNL
  // avx512_core_bf16 (0xe7) and avx512_core_amx (0x3e7) both contain these bits.
  const auto isa = static_cast<unsigned>(dnnl_get_effective_cpu_isa());
  const auto bf16 = static_cast<unsigned>(dnnl_cpu_isa_avx512_core_bf16);
  return (isa & bf16) == bf16;
#else
  return false;
#endif
}

std::string cpuIsaName()
{
#ifdef DUALEMBED_WITH_DNNL
  switch (dnnl_get_effective_cpu_isa())
  {
    case dnnl_cpu_isa_sse41:
      return "sse41";
    case dnnl_cpu_isa_avx:
      return "avx";
    case dnnl_cpu_isa_avx2:
      return "avx2";
    case dnnl_cpu_isa_avx2_vnni:
      return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core:
      return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx:
      return "avx512_core_amx";
    default:
      return "other";
  }
#else
  return std::string();
#endif
}

struct Linear::Impl
{
  at::Tensor weight, bias; // as given (CPU path: float32 CPU; else on the device, compute type)
  at::Device device = at::Device(at::kCPU);
  at::ScalarType computeType = at::kFloat;
  bool oneDnn = false;
#ifdef DUALEMBED_WITH_DNNL
  struct Product
  {
    dnnl::matmul prim;
    dnnl::memory weights;
    dnnl::memory::desc src, dst;
  };
  // (rows, output type, activation + 1 or 0, accumulate) -> product; the
  // packed weights are shared where the layouts agree (usually all rows).
  mutable std::map<std::tuple<std::int64_t, int, int, bool>, Product> products;
  mutable std::vector<dnnl::memory> packed;
  mutable std::mutex mutex;
  dnnl::memory::desc biasDesc;

  const Product& product(
    std::int64_t rows, at::ScalarType outType, const Activation* act, bool accumulate) const
  {
    const auto key = std::make_tuple(
      rows, static_cast<int>(outType), act ? static_cast<int>(*act) + 1 : 0, accumulate);
    auto it = products.find(key);
    if (it != products.end())
    {
      return it->second;
    }
    const std::int64_t n = weight.size(0), k = weight.size(1);
    const dnnl::memory::desc src({ rows, k }, dataType(computeType), dnnl::memory::format_tag::ab);
    const dnnl::memory::desc anyWeights(
      { k, n }, dataType(computeType), dnnl::memory::format_tag::any);
    const dnnl::memory::desc dst({ rows, n }, dataType(outType), dnnl::memory::format_tag::ab);
    dnnl::post_ops ops;
    if (accumulate)
    {
      ops.append_sum(1.0f);
    }
    if (act)
    {
      appendActivation(ops, *act);
    }
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    const dnnl::matmul::desc desc = bias.defined()
      ? dnnl::matmul::desc(src, anyWeights, biasDesc, dst)
      : dnnl::matmul::desc(src, anyWeights, dst);
    const dnnl::matmul::primitive_desc pd(desc, attr, cpuEngine());
    Product p;
    p.prim = dnnl::matmul(pd);
    p.src = src;
    p.dst = dst;
    for (const dnnl::memory& m : packed)
    {
      if (m.get_desc() == pd.weights_desc())
      {
        p.weights = m;
      }
    }
    if (!p.weights)
    {
      // W [n, k] row-major is the {k, n} weights matrix with strides {1, k}.
      const dnnl::memory::desc plain({ k, n }, dt::f32, dnnl::memory::format_tag::ba);
      dnnl::memory from(plain, cpuEngine(), weight.data_ptr());
      p.weights = dnnl::memory(pd.weights_desc(), cpuEngine());
      dnnl::stream stream(cpuEngine());
      dnnl::reorder(from, p.weights).execute(stream, from, p.weights);
      stream.wait();
      packed.push_back(p.weights);
    }
    return products.emplace(key, p).first->second;
  }

  void run(
    const at::Tensor& x2d, const at::Tensor& out2d, const Activation* act, bool accumulate) const
  {
    std::lock_guard<std::mutex> lock(mutex);
    const Product& p = product(x2d.size(0), out2d.scalar_type(), act, accumulate);
    std::unordered_map<int, dnnl::memory> args{ { DNNL_ARG_SRC, memoryOf(p.src, x2d) },
      { DNNL_ARG_WEIGHTS, p.weights }, { DNNL_ARG_DST, memoryOf(p.dst, out2d) } };
    if (bias.defined())
    {
      args.emplace(DNNL_ARG_BIAS, memoryOf(biasDesc, bias));
    }
    dnnl::stream stream(cpuEngine());
    p.prim.execute(stream, args);
    stream.wait();
  }
#endif
};

Linear::Linear() = default;
Linear::~Linear() = default;
Linear::Linear(Linear&&) noexcept = default;
Linear& Linear::operator=(Linear&&) noexcept = default;

Linear::Linear(const at::Tensor& weight, const at::Tensor& bias)
  : P(new Impl)
{
  P->weight = weight.to(at::kFloat).contiguous();
  if (bias.defined())
  {
    P->bias = bias.to(at::kFloat).contiguous();
  }
}

bool Linear::defined() const
{
  return P != nullptr;
}

std::int64_t Linear::outFeatures() const
{
  return P ? P->weight.size(0) : 0;
}

void Linear::to(at::Device device, at::ScalarType computeType)
{
  if (!P)
  {
    return;
  }
  P->device = device;
  P->computeType = computeType;
#ifdef DUALEMBED_WITH_DNNL
  P->products.clear();
  P->packed.clear();
  P->oneDnn = device.is_cpu() && (computeType == at::kFloat || computeType == at::kBFloat16);
  if (P->oneDnn)
  {
    // Packed for the compute type on first use; bias added in float32.
    P->weight = P->weight.to(at::kCPU, at::kFloat).contiguous();
    if (P->bias.defined())
    {
      P->bias = P->bias.to(at::kCPU, at::kFloat).contiguous();
      P->biasDesc =
        dnnl::memory::desc({ 1, P->bias.size(0) }, dt::f32, dnnl::memory::format_tag::ab);
    }
    return;
  }
#endif
  P->weight = P->weight.to(device, computeType);
  if (P->bias.defined())
  {
    P->bias = P->bias.to(device, computeType);
  }
}

at::Tensor Linear::forward(const at::Tensor& x, at::ScalarType outType, const Activation* act) const
{
  std::vector<std::int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = P->weight.size(0);
#ifdef DUALEMBED_WITH_DNNL
  if (P->oneDnn)
  {
    const at::Tensor x2d = x.to(P->computeType).contiguous().view({ -1, x.size(-1) });
    at::Tensor out = at::empty({ x2d.size(0), P->weight.size(0) }, x.options().dtype(outType));
    P->run(x2d, out, act, false);
    return out.view(shape);
  }
#endif
  at::Tensor y = at::linear(x.to(P->computeType), P->weight, P->bias);
  if (act)
  {
    y = applyActivation(y, *act);
  }
  return y.to(outType);
}

void Linear::accumulate(const at::Tensor& x, at::Tensor& accum) const
{
#ifdef DUALEMBED_WITH_DNNL
  if (P->oneDnn && accum.is_contiguous() && accum.scalar_type() == at::kFloat)
  {
    const at::Tensor x2d = x.to(P->computeType).contiguous().view({ -1, x.size(-1) });
    P->run(x2d, accum.view({ -1, accum.size(-1) }), nullptr, true);
    return;
  }
#endif
  accum.add_(forward(x, accum.scalar_type()));
}

Linear classifierLinear(const WeightSet& w, const std::string& name, std::int64_t features)
{
  const std::string weightName = name + ".weight";
  if (!w.has(weightName) && !w.has(name + ".bias"))
  {
    return Linear();
  }
  const at::Tensor weight = w.has(weightName) ? w.tensors().at(weightName) : at::Tensor();
  const std::int64_t labels = (weight.defined() && weight.dim() == 2) ? weight.size(0) : -1;
  if (labels <= 0)
  {
    throw ModelError(w.sourcePath() + ": weight '" + weightName +
      "' is missing or not a [labels, " + std::to_string(features) + "] matrix");
  }
  return Linear(w.require(weightName, { labels, features }), w.require(name + ".bias", { labels }));
}

Linear qkvLinear(const WeightSet& w, const std::string& prefix,
  const std::array<const char*, 3>& names, std::int64_t d, bool bias)
{
  std::vector<at::Tensor> weights, biases;
  for (const char* name : names)
  {
    weights.push_back(w.require(prefix + name + ".weight", { d, d }));
    if (bias)
    {
      biases.push_back(w.require(prefix + name + ".bias", { d }));
    }
  }
  return Linear(at::cat(weights), bias ? at::cat(biases) : at::Tensor());
}

at::Tensor batchedMatmul(
  const at::Tensor& a, const at::Tensor& b, double scale, at::ScalarType outType)
{
#ifdef DUALEMBED_WITH_DNNL
  if (a.is_cpu() && a.dim() == 4 && b.dim() == 4)
  {
    at::Tensor out =
      at::empty({ a.size(0), a.size(1), a.size(2), b.size(3) }, a.options().dtype(outType));
    const dnnl::memory::desc ad = stridedDesc(a), bd = stridedDesc(b), od = stridedDesc(out);
    dnnl::primitive_attr attr;
    if (scale != 1.0)
    {
      attr.set_output_scales(0, { static_cast<float>(scale) });
    }
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(ad, bd, od), attr, cpuEngine());
    dnnl::stream stream(cpuEngine());
    dnnl::matmul(pd).execute(stream,
      { { DNNL_ARG_SRC, memoryOf(ad, a) }, { DNNL_ARG_WEIGHTS, memoryOf(bd, b) },
        { DNNL_ARG_DST, memoryOf(od, out) } });
    stream.wait();
    return out;
  }
#endif
  at::Tensor out = at::matmul(a, b);
  if (scale != 1.0)
  {
    out = out * scale;
  }
  return out.to(outType);
}

void batchedMatmulInto(const at::Tensor& a, const at::Tensor& b, at::Tensor& dst)
{
#ifdef DUALEMBED_WITH_DNNL
  if (a.is_cpu() && a.dim() == 4 && b.dim() == 4 && dst.dim() == 4)
  {
    const dnnl::memory::desc ad = stridedDesc(a), bd = stridedDesc(b), od = stridedDesc(dst);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(ad, bd, od), cpuEngine());
    dnnl::stream stream(cpuEngine());
    dnnl::matmul(pd).execute(stream,
      { { DNNL_ARG_SRC, memoryOf(ad, a) }, { DNNL_ARG_WEIGHTS, memoryOf(bd, b) },
        { DNNL_ARG_DST, memoryOf(od, dst) } });
    stream.wait();
    return;
  }
#endif
  dst.copy_(at::matmul(a, b));
}

at::Tensor softmaxTo(const at::Tensor& scores, at::ScalarType outType)
{
#ifdef DUALEMBED_WITH_DNNL
  if (scores.is_cpu() && scores.scalar_type() == at::kFloat && scores.is_contiguous())
  {
    at::Tensor out = at::empty(scores.sizes(), scores.options().dtype(outType));
    const dnnl::memory::desc sd = stridedDesc(scores), od = stridedDesc(out);
    const dnnl::softmax_v2_forward::primitive_desc pd(
      dnnl::softmax_v2_forward::desc(dnnl::prop_kind::forward_inference,
        dnnl::algorithm::softmax_accurate, sd, od, static_cast<int>(scores.dim() - 1)),
      cpuEngine());
    dnnl::stream stream(cpuEngine());
    dnnl::softmax_v2_forward(pd).execute(
      stream, { { DNNL_ARG_SRC, memoryOf(sd, scores) }, { DNNL_ARG_DST, memoryOf(od, out) } });
    stream.wait();
    return out;
  }
#endif
  return at::softmax(scores, -1).to(outType);
}

void attention(const at::Tensor& q, const at::Tensor& kT, const at::Tensor& v, double scale,
  const std::function<void(at::Tensor&, std::int64_t)>& extra, at::Tensor& ctx,
  std::int64_t alignRows)
{
  const std::int64_t rows = q.size(0);
  const std::int64_t perRow = q.size(1) * q.size(2) * kT.size(3) * 4; // float32 score bytes
  // About 1 MB of scores per thread: they stay in L2 from the product through
  // the softmax to the second product (instead of 3 trips through memory).
  const std::int64_t budget = (std::int64_t(1) << 20) * std::max(1, at::get_num_threads());
  std::int64_t chunk =
    q.is_cpu() ? std::max<std::int64_t>(1, budget / std::max<std::int64_t>(1, perRow)) : rows;
  if (alignRows > 1 && chunk < rows)
  {
    // whole multiples of alignRows, or a divisor of it
    if (chunk >= alignRows)
    {
      chunk -= chunk % alignRows;
    }
    else
    {
      while (alignRows % chunk != 0)
      {
        --chunk;
      }
    }
  }
  for (std::int64_t r = 0; r < rows; r += chunk)
  {
    const std::int64_t c = std::min(chunk, rows - r);
    at::Tensor scores = batchedMatmul(q.narrow(0, r, c), kT.narrow(0, r, c), scale, at::kFloat);
    if (extra)
    {
      extra(scores, r);
    }
    at::Tensor out = ctx.narrow(0, r, c);
    batchedMatmulInto(softmaxTo(scores, q.scalar_type()), v.narrow(0, r, c), out);
  }
}

namespace
{

/// float -> bfloat16 bits, round to nearest even (as c10::BFloat16), NaN kept NaN; branch-free so
/// that it vectorizes.
inline std::uint16_t roundToBFloat16(float f)
{
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const std::uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
  return static_cast<std::uint16_t>(f != f ? 0x7FC0u : rounded);
}

inline void store(float* o, std::int64_t i, float f)
{
  o[i] = f;
}

inline void store(std::uint16_t* o, std::int64_t i, float f)
{
  o[i] = roundToBFloat16(f);
}

/// out row r = layer norm of x row source[r] (source == nullptr: row r), zeros where source[r] < 0.
template <typename Out>
void layerNormRows(const float* px, std::int64_t d, const std::int64_t* source, std::int64_t rows,
  const float* pw, const float* pb, float eps, Out* po)
{
  // Written so that the compiler vectorizes every loop (omp simd lets it
  // reorder the float sums).
  at::parallel_for(0, rows, 16, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r)
    {
      Out* o = po + r * d;
      const std::int64_t from = source ? source[r] : r;
      if (from < 0)
      {
        std::memset(o, 0, sizeof(Out) * static_cast<std::size_t>(d));
        continue;
      }
      const float* row = px + from * d;
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (std::int64_t i = 0; i < d; ++i)
      {
        sum += row[i];
      }
      const float mean = sum / static_cast<float>(d);
      float sq = 0.0f; // two passes: no cancellation on rows with a large mean
#pragma omp simd reduction(+ : sq)
      for (std::int64_t i = 0; i < d; ++i)
      {
        sq += (row[i] - mean) * (row[i] - mean);
      }
      const float inv = 1.0f / std::sqrt(sq / static_cast<float>(d) + eps);
#pragma omp simd
      for (std::int64_t i = 0; i < d; ++i)
      {
        store(o, i, (row[i] - mean) * inv * pw[i] + pb[i]);
      }
    }
  });
}

} // namespace

at::Tensor layerNormTo(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
  double eps, at::ScalarType outType)
{
  const std::int64_t d = x.size(-1);
  if (outType != at::kBFloat16 || !x.is_cpu() || x.scalar_type() != at::kFloat)
  {
    return at::layer_norm(x, { d }, weight, bias, eps).to(outType);
  }
  return layerNormRowsTo(x.reshape({ -1, d }), at::Tensor(), weight, bias, eps, outType)
    .view(x.sizes());
}

at::Tensor layerNormRowsTo(const at::Tensor& x2d, const at::Tensor& rows, const at::Tensor& weight,
  const at::Tensor& bias, double eps, at::ScalarType outType)
{
  const std::int64_t d = x2d.size(1);
  const std::int64_t count = rows.defined() ? rows.size(0) : x2d.size(0);
  if (!x2d.is_cpu() || x2d.scalar_type() != at::kFloat ||
    (outType != at::kFloat && outType != at::kBFloat16))
  {
    if (!rows.defined())
    {
      return at::layer_norm(x2d, { d }, weight, bias, eps).to(outType);
    }
    const at::Tensor valid = rows.ge(0).unsqueeze(1);
    const at::Tensor picked = x2d.index_select(0, rows.clamp_min(0));
    return at::layer_norm(picked, { d }, weight, bias, eps)
      .masked_fill(valid.logical_not(), 0.0)
      .to(outType);
  }
  const at::Tensor xc = x2d.contiguous();
  const at::Tensor w = weight.contiguous(), b = bias.contiguous();
  const at::Tensor source = rows.defined() ? rows.to(at::kLong).contiguous() : at::Tensor();
  at::Tensor out = at::empty({ count, d }, x2d.options().dtype(outType));
  const std::int64_t* ps = source.defined() ? source.data_ptr<std::int64_t>() : nullptr;
  if (outType == at::kFloat)
  {
    layerNormRows(xc.data_ptr<float>(), d, ps, count, w.data_ptr<float>(), b.data_ptr<float>(),
      static_cast<float>(eps), out.data_ptr<float>());
  }
  else
  {
    layerNormRows(xc.data_ptr<float>(), d, ps, count, w.data_ptr<float>(), b.data_ptr<float>(),
      static_cast<float>(eps), reinterpret_cast<std::uint16_t*>(out.data_ptr<at::BFloat16>()));
  }
  return out;
}

at::Tensor addRows(const at::Tensor& x2d, const at::Tensor& y2d, const at::Tensor& rows)
{
  if (!x2d.is_cpu() || x2d.scalar_type() != at::kFloat || y2d.scalar_type() != at::kFloat)
  {
    return x2d + y2d.index_select(0, rows).to(x2d.scalar_type());
  }
  const at::Tensor xc = x2d.contiguous(), yc = y2d.contiguous(),
                   rc = rows.to(at::kLong).contiguous();
  const std::int64_t n = xc.size(0), d = xc.size(1);
  at::Tensor out = at::empty({ n, d }, xc.options());
  const float* px = xc.data_ptr<float>();
  const float* py = yc.data_ptr<float>();
  const std::int64_t* pr = rc.data_ptr<std::int64_t>();
  float* po = out.data_ptr<float>();
  at::parallel_for(0, n, 16, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r)
    {
      const float* a = px + r * d;
      const float* b = py + pr[r] * d;
      float* o = po + r * d;
#pragma omp simd
      for (std::int64_t i = 0; i < d; ++i)
      {
        o[i] = a[i] + b[i];
      }
    }
  });
  return out;
}

at::Tensor patchRows(const at::Tensor& pixels, std::int64_t patch)
{
  const std::int64_t b = pixels.size(0), c = pixels.size(1);
  const std::int64_t gh = pixels.size(2) / patch, gw = pixels.size(3) / patch;
  return pixels.narrow(2, 0, gh * patch)
    .narrow(3, 0, gw * patch)
    .reshape({ b, c, gh, patch, gw, patch })
    .permute({ 0, 2, 4, 1, 3, 5 })
    .reshape({ b, gh * gw, c * patch * patch });
}

} // namespace engine
} // namespace dualembed
