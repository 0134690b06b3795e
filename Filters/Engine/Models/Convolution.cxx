#include "Convolution.h"

#include <ATen/ATen.h>
#ifdef DUALEMBED_WITH_DNNL
#include "OneDnn.h"
#endif

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
using dt = dnnl::memory::data_type;
using onednn::cpuEngine;
using onednn::memoryOf;

namespace
{
/// A channels-last map [B, C, H, W] as oneDNN's nhwc: the same memory
/// whatever strides PyTorch gives its size-1 dimensions, so one primitive
/// serves every tensor of its shape.
dnnl::memory::desc mapDesc(const at::Tensor& t)
{
  return dnnl::memory::desc(dnnl::memory::dims(t.sizes().begin(), t.sizes().end()),
    onednn::dataType(t.scalar_type()), dnnl::memory::format_tag::nhwc);
}
} // namespace
#endif

struct Convolution::Impl
{
  at::Tensor weight, bias; // as given (oneDNN: float32 on the CPU; else device, compute type)
  std::int64_t stride = 1, padding = 0, groups = 1;
  at::ScalarType computeType = at::kFloat;
  bool oneDnn = false;
#ifdef DUALEMBED_WITH_DNNL
  struct Primitive
  {
    dnnl::convolution_forward prim;
    dnnl::memory weights;
  };
  // (batch, height, width, output type, residual, relu) -> primitive; the
  // laid-out weights are shared where the layouts agree (usually every shape).
  mutable std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t, at::ScalarType, bool, bool>,
    Primitive>
    primitives;
  mutable std::vector<dnnl::memory> laidOut;
  mutable std::mutex mutex;

  const Primitive& primitive(
    const at::Tensor& x, const at::Tensor& out, bool residual, bool relu) const
  {
    const auto key =
      std::make_tuple(x.size(0), x.size(2), x.size(3), out.scalar_type(), residual, relu);
    auto it = primitives.find(key);
    if (it != primitives.end())
    {
      return it->second;
    }
    // Grouped: [groups, out / groups, in / groups, k, k].
    dnnl::memory::dims w(weight.sizes().begin(), weight.sizes().end());
    if (groups > 1)
    {
      w[0] /= groups;
      w.insert(w.begin(), groups);
    }
    const dnnl::memory::desc anyWeights(
      w, onednn::dataType(computeType), dnnl::memory::format_tag::any);
    const dnnl::memory::desc biasDesc({ weight.size(0) }, dt::f32, dnnl::memory::format_tag::a);
    dnnl::post_ops ops;
    if (residual)
    {
      ops.append_sum(1.0f);
    }
    if (relu)
    {
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    }
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    const dnnl::memory::dims strides{ stride, stride }, pad{ padding, padding };
    const dnnl::convolution_forward::desc desc = bias.defined()
      ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
          dnnl::algorithm::convolution_direct, mapDesc(x), anyWeights, biasDesc, mapDesc(out),
          strides, pad, pad)
      : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
          dnnl::algorithm::convolution_direct, mapDesc(x), anyWeights, mapDesc(out), strides, pad,
          pad);
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, cpuEngine());
    Primitive p;
    p.prim = dnnl::convolution_forward(pd);
    for (const dnnl::memory& m : laidOut)
    {
      if (m.get_desc() == pd.weights_desc())
      {
        p.weights = m;
      }
    }
    if (!p.weights)
    {
      const dnnl::memory::desc plain(
        w, dt::f32, groups > 1 ? dnnl::memory::format_tag::goihw : dnnl::memory::format_tag::oihw);
      dnnl::memory from(plain, cpuEngine(), weight.data_ptr());
      p.weights = dnnl::memory(pd.weights_desc(), cpuEngine());
      dnnl::stream stream(cpuEngine());
      dnnl::reorder(from, p.weights).execute(stream, from, p.weights);
      stream.wait();
      laidOut.push_back(p.weights);
    }
    return primitives.emplace(key, p).first->second;
  }

  void run(const at::Tensor& x, const at::Tensor& out, bool residual, bool relu) const
  {
    std::lock_guard<std::mutex> lock(mutex);
    const Primitive& p = primitive(x, out, residual, relu);
    std::unordered_map<int, dnnl::memory> args{ { DNNL_ARG_SRC, memoryOf(mapDesc(x), x) },
      { DNNL_ARG_WEIGHTS, p.weights }, { DNNL_ARG_DST, memoryOf(mapDesc(out), out) } };
    if (bias.defined())
    {
      args.emplace(DNNL_ARG_BIAS,
        dnnl::memory({ { bias.size(0) }, dt::f32, dnnl::memory::format_tag::a }, cpuEngine(),
          bias.data_ptr()));
    }
    dnnl::stream stream(cpuEngine());
    p.prim.execute(stream, args);
    stream.wait();
  }
#endif

  std::int64_t outputSize(std::int64_t in) const
  {
    return (in + 2 * padding - weight.size(2)) / stride + 1;
  }
};

Convolution::Convolution() = default;
Convolution::~Convolution() = default;
Convolution::Convolution(Convolution&&) noexcept = default;
Convolution& Convolution::operator=(Convolution&&) noexcept = default;

Convolution::Convolution(const at::Tensor& weight, const at::Tensor& bias, std::int64_t stride,
  std::int64_t padding, std::int64_t groups)
  : P(new Impl)
{
  P->weight = weight.to(at::kFloat).contiguous();
  if (bias.defined())
  {
    P->bias = bias.to(at::kFloat).contiguous();
  }
  P->stride = stride;
  P->padding = padding;
  P->groups = groups;
}

bool Convolution::defined() const
{
  return P != nullptr;
}

void Convolution::to(at::Device device, at::ScalarType computeType)
{
  if (!P)
  {
    return;
  }
  P->computeType = computeType;
#ifdef DUALEMBED_WITH_DNNL
  P->primitives.clear();
  P->laidOut.clear();
  P->oneDnn = device.is_cpu() && (computeType == at::kFloat || computeType == at::kBFloat16);
  if (P->oneDnn)
  {
    // Laid out for the compute type on first use; the bias stays float32.
    P->weight = P->weight.to(at::kCPU, at::kFloat).contiguous();
    if (P->bias.defined())
    {
      P->bias = P->bias.to(at::kCPU, at::kFloat).contiguous();
    }
    return;
  }
#endif
  P->weight = P->weight.to(device, computeType).contiguous(at::MemoryFormat::ChannelsLast);
  if (P->bias.defined())
  {
    P->bias = P->bias.to(device, computeType);
  }
}

at::Tensor Convolution::forward(const at::Tensor& x, bool relu, at::ScalarType outType) const
{
  if (outType == at::ScalarType::Undefined)
  {
    outType = P->computeType;
  }
#ifdef DUALEMBED_WITH_DNNL
  if (P->oneDnn)
  {
    const at::Tensor in = x.to(P->computeType).contiguous(at::MemoryFormat::ChannelsLast);
    at::Tensor out = at::empty(
      { in.size(0), P->weight.size(0), P->outputSize(in.size(2)), P->outputSize(in.size(3)) },
      in.options().dtype(outType).memory_format(at::MemoryFormat::ChannelsLast));
    P->run(in, out, false, relu);
    return out;
  }
#endif
  at::Tensor y = at::conv2d(x, P->weight, P->bias, { P->stride, P->stride },
    { P->padding, P->padding }, { 1, 1 }, P->groups);
  return (relu ? y.relu_() : y).to(outType);
}

void Convolution::accumulate(const at::Tensor& x, at::Tensor& residual, bool relu) const
{
#ifdef DUALEMBED_WITH_DNNL
  if (P->oneDnn && residual.scalar_type() == P->computeType &&
    residual.is_contiguous(at::MemoryFormat::ChannelsLast))
  {
    P->run(x.to(P->computeType).contiguous(at::MemoryFormat::ChannelsLast), residual, true, relu);
    return;
  }
#endif
  residual.add_(forward(x, false));
  if (relu)
  {
    residual.relu_();
  }
}

} // namespace engine
} // namespace dualembed
