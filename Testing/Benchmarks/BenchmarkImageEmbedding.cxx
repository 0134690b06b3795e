// Throughput benchmark of the DualEmbed engine (not a CTest test).
//
//   BenchmarkImageEmbedding MODEL_DIR [--batch 24] [--images 96] [--warmup 1]
//       [--device cpu|cuda] [--precision float32|bfloat16] [--threads N]
//       [--preprocess-images 96] [--host-input] [--no-buffer-reuse] [--profile]
//   BenchmarkImageEmbedding --check-fixtures Testing/Data/hf-reference
//       [--device cuda] [--precision float32] [--tolerance 1e-4]
//
// Benchmark mode: random pixel values [B,3,H,W] (H = W = --image, else the
// model's input size) made beforehand (on the
// compute device unless --host-input), `warmup` batches, then ceil(images/B)
// timed batches of EmbeddingModel::run(), all in one BufferReuseScope as the
// Image Embedding filter runs them (--no-buffer-reuse: without). Prints images/s, ms/batch and, for
// ViT models, GFLOP/s from an analytic FLOP count. Preprocessing throughput
// (preprocessImage on random uint8 RGB images) is measured apart, on one
// thread and on all threads. Lines starting with "RESULT" are for scripts.
//
// Fixture mode: loads each Hugging Face fixture model (model.safetensors) on
// the chosen device and compares first_token / mean_token / pooler_output /
// logits / probs with expected.json; exit status 1 when a difference exceeds
// the tolerance. The TorchScript traces are run too, for information only.
#include "BufferReuse.h"
#include "ImageEmbedding.h"
#include "ImagePreprocessor.h"
#include "ModelConfig.h"
#include "NpyReader.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <dlfcn.h>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace de = dualembed::engine;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

namespace
{

struct Args
{
  std::string model;
  std::string fixtures;
  int batch = 24;
  int images = 96;
  int warmup = 1;
  int threads = 0;
  int preprocessImages = 96;
  int image = 0; // input height and width; 0: the model's (config.json's image_size)
  bool hostInput = false;
  bool bufferReuse = true;
  bool profile = false;
  double tolerance = -1;
  de::ComputeDevice device = de::ComputeDevice::Cpu;
  de::Precision precision = de::Precision::Float32;
};

[[noreturn]] void usage(const std::string& error)
{
  std::cerr
    << "error: " << error << "\n"
    << "usage: BenchmarkImageEmbedding MODEL_DIR [--batch N] [--images N] [--warmup N]\n"
    << "         [--device cpu|cuda] [--precision float32|bfloat16] [--threads N]\n"
    << "         [--preprocess-images N] [--image N] [--host-input] [--no-buffer-reuse]\n"
    << "         [--profile]\n"
    << "       BenchmarkImageEmbedding --check-fixtures HF_REFERENCE_DIR [--device cpu|cuda]\n"
    << "         [--precision float32|bfloat16] [--tolerance X]\n";
  std::exit(2);
}

Args parseArgs(int argc, char** argv)
{
  Args a;
  for (int i = 1; i < argc; ++i)
  {
    const std::string s = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
      {
        usage(s + " needs a value");
      }
      return argv[++i];
    };
    auto integer = [&]() {
      const std::string v = value();
      try
      {
        return std::stoi(v);
      }
      catch (const std::exception&)
      {
        usage(s + ": not an integer: " + v);
      }
    };
    if (s == "--batch")
      a.batch = integer();
    else if (s == "--images")
      a.images = integer();
    else if (s == "--warmup")
      a.warmup = integer();
    else if (s == "--threads")
      a.threads = integer();
    else if (s == "--preprocess-images")
      a.preprocessImages = integer();
    else if (s == "--image")
      a.image = integer();
    else if (s == "--host-input")
      a.hostInput = true;
    else if (s == "--no-buffer-reuse")
      a.bufferReuse = false;
    else if (s == "--profile")
      a.profile = true;
    else if (s == "--tolerance")
      a.tolerance = std::stod(value());
    else if (s == "--check-fixtures")
      a.fixtures = value();
    else if (s == "--device")
    {
      const std::string v = value();
      if (v == "cpu")
        a.device = de::ComputeDevice::Cpu;
      else if (v == "cuda")
        a.device = de::ComputeDevice::Cuda;
      else
        usage("--device must be cpu or cuda");
    }
    else if (s == "--precision")
    {
      const std::string v = value();
      if (v == "float32")
        a.precision = de::Precision::Float32;
      else if (v == "bfloat16")
        a.precision = de::Precision::BFloat16;
      else
        usage("--precision must be float32 or bfloat16");
    }
    else if (!s.empty() && s[0] == '-')
      usage("unknown option " + s);
    else if (a.model.empty())
      a.model = s;
    else
      usage("more than one model folder");
  }
  if (a.model.empty() && a.fixtures.empty())
  {
    usage("no model folder");
  }
  if (a.batch < 1 || a.images < 1 || a.warmup < 0)
  {
    usage("--batch and --images must be >= 1, --warmup >= 0");
  }
  if (a.tolerance < 0)
  {
    a.tolerance = a.precision == de::Precision::BFloat16 ? 5e-2 : 1e-4;
  }
  return a;
}

/// CPU seconds of the whole process (all threads): on a shared machine,
/// images per CPU-second depends less on the other jobs than images/s.
double processCpuSeconds()
{
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

double seconds(Clock::time_point a, Clock::time_point b)
{
  return std::chrono::duration<double>(b - a).count();
}

void sync(const at::Device& device)
{
  if (device.is_cuda())
  {
    torch::cuda::synchronize();
  }
}

/// Analytic FLOPs (multiply and add counted apart, 2 per MAC) of one ViT
/// forward: patch embedding 2*(N-1)*(C*p*p)*d; per layer
/// 2*N*(4*d*d + 2*d*I) for the linear layers and 2*2*N*N*d for QK^T and
/// attn*V; pooler/classifier 2*d*d (negligible). N = patches + 1.
/// Softmax, GELU, LayerNorm and additions are left out.
struct VitFlops
{
  double total = 0, linear = 0, attention = 0, patch = 0;
  std::int64_t tokens = 0;
};

VitFlops vitFlops(const de::ModelConfig& c, int height, int width)
{
  VitFlops f;
  const double d = c.hiddenSize, inter = c.intermediateSize, p = c.patchSize;
  const std::int64_t patches = (height / c.patchSize) * (width / c.patchSize);
  f.tokens = patches + 1;
  const double n = static_cast<double>(f.tokens);
  f.patch = 2.0 * patches * (c.numChannels * p * p) * d;
  f.linear = c.numHiddenLayers * 2.0 * n * (4 * d * d + 2 * d * inter);
  f.attention = c.numHiddenLayers * 2.0 * 2.0 * n * n * d;
  f.total = f.patch + f.linear + f.attention + 2.0 * d * d;
  return f;
}

std::string fmt(double v, int precision = 2)
{
  std::ostringstream s;
  s << std::fixed << std::setprecision(precision) << v;
  return s.str();
}

// ---- runtime checks -------------------------------------------------------------

/// OpenBLAS's kernel set ("Haswell", "SkylakeX", ... or "Prescott" when its
/// CPU detection fails, as on some VMs), or "" when OpenBLAS is not loaded.
std::string openblasCoreName()
{
  using Fn = char* (*)();
  void* sym = ::dlsym(RTLD_DEFAULT, "openblas_get_corename");
  if (!sym)
  {
    for (const char* lib : { "libopenblas.so.0", "libblas.so.3" })
    {
      if (void* h = ::dlopen(lib, RTLD_NOW | RTLD_NOLOAD))
      {
        sym = ::dlsym(h, "openblas_get_corename");
        if (sym)
          break;
      }
    }
  }
  if (!sym)
  {
    return std::string();
  }
  const char* name = reinterpret_cast<Fn>(sym)();
  return name ? name : "";
}

bool cpuHasFlag(const std::string& flag)
{
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
  {
    if (line.rfind("flags", 0) == 0)
    {
      return (line + " ").find(" " + flag + " ") != std::string::npos;
    }
  }
  return false;
}

// ---- op profile (--profile) ---------------------------------------------------------

/// Wall time per top-level ATen op (ops called from ops are not counted
/// apart), collected with a global RecordFunction callback.
struct OpProfile
{
  struct Entry
  {
    double seconds = 0;
    std::int64_t calls = 0;
  };
  static std::map<std::string, Entry>& table()
  {
    static std::map<std::string, Entry> t;
    return t;
  }
  static std::mutex& mutex()
  {
    static std::mutex m;
    return m;
  }
  struct Ctx : at::ObserverContext
  {
    Clock::time_point start;
    bool top = false;
  };
  static int& depth()
  {
    thread_local int d = 0;
    return d;
  }
  static std::unique_ptr<at::ObserverContext> onStart(const at::RecordFunction&)
  {
    auto ctx = std::make_unique<Ctx>();
    ctx->top = depth()++ == 0;
    ctx->start = Clock::now();
    return ctx;
  }
  static void onEnd(const at::RecordFunction& fn, at::ObserverContext* c)
  {
    auto* ctx = static_cast<Ctx*>(c);
    --depth();
    if (!ctx || !ctx->top)
    {
      return;
    }
    const double s = seconds(ctx->start, Clock::now());
    std::lock_guard<std::mutex> lock(mutex());
    Entry& e = table()[fn.name()];
    e.seconds += s;
    ++e.calls;
  }
  static at::CallbackHandle install()
  {
    return at::addGlobalCallback(
      at::RecordFunctionCallback(&onStart, &onEnd).scopes({ at::RecordScope::FUNCTION }));
  }
  static void print(double wall, int batches)
  {
    std::vector<std::pair<std::string, Entry>> rows(table().begin(), table().end());
    std::sort(rows.begin(), rows.end(),
      [](const auto& x, const auto& y) { return x.second.seconds > y.second.seconds; });
    double sum = 0;
    for (const auto& r : rows)
    {
      sum += r.second.seconds;
    }
    std::cout << "\nTop-level ATen ops over " << batches << " batch(es) (wall " << fmt(wall, 3)
              << " s, ops " << fmt(sum, 3) << " s; CPU timing, CUDA kernels are asynchronous):\n";
    for (const auto& r : rows)
    {
      if (r.second.seconds < 0.002 * sum)
      {
        continue;
      }
      std::cout << "  " << std::left << std::setw(34) << r.first << std::right << std::setw(9)
                << fmt(1e3 * r.second.seconds / batches, 2) << " ms/batch " << std::setw(6)
                << fmt(100 * r.second.seconds / sum, 1) << " %  " << r.second.calls / batches
                << " calls/batch\n";
    }
  }
};

// ---- preprocessing ------------------------------------------------------------

/// Images/s of preprocessImage on `count` random images of h x w x 3, with
/// `threads` std::threads each taking a contiguous share.
double preprocessRate(const de::PreprocessorConfig& config, int count, int h, int w, int threads)
{
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(count) * h * w * 3);
  for (auto& p : pixels)
  {
    p = static_cast<std::uint8_t>(byte(rng));
  }
  const de::ImageSize outSize = de::preprocessedSize(config, h, w);
  const std::size_t outPer = static_cast<std::size_t>(3) * outSize.height * outSize.width;
  std::vector<float> out(outPer * count);
  auto work = [&](int begin, int end) {
    for (int i = begin; i < end; ++i)
    {
      de::preprocessImage(pixels.data() + static_cast<std::size_t>(i) * h * w * 3, h, w, 3, config,
        out.data() + outPer * i);
    }
  };
  work(0, std::min(count, 2)); // warm-up (page faults, coefficient code paths)
  const auto t0 = Clock::now();
  if (threads <= 1)
  {
    work(0, count);
  }
  else
  {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
    {
      pool.emplace_back(work, count * t / threads, count * (t + 1) / threads);
    }
    for (auto& th : pool)
    {
      th.join();
    }
  }
  return count / seconds(t0, Clock::now());
}

void benchmarkPreprocessing(const de::EmbeddingModel& model, int count)
{
  if (count <= 0)
  {
    return;
  }
  de::PreprocessorConfig config;
  std::string source = "ViTImageProcessor defaults";
  if (!model.preprocessorConfigPath().empty())
  {
    config = de::loadPreprocessorConfig(model.preprocessorConfigPath());
    source = model.preprocessorConfigPath();
  }
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::cout << "\nPreprocessing (preprocessImage, " << source << ", resample " << config.resample
            << ", " << count << " random uint8 RGB images; not part of the model timing):\n";
  struct Case
  {
    int h, w;
  };
  for (const Case c : { Case{ 224, 224 }, Case{ 32, 32 } })
  {
    const double one = preprocessRate(config, count, c.h, c.w, 1);
    const double all = preprocessRate(config, count, c.h, c.w, hw);
    const de::ImageSize o = de::preprocessedSize(config, c.h, c.w);
    std::cout << "  " << c.h << "x" << c.w << " -> " << o.height << "x" << o.width << ": "
              << fmt(one, 1) << " images/s on 1 thread, " << fmt(all, 1) << " images/s on " << hw
              << " threads\n";
    std::cout << "RESULT preprocess_" << c.h << "x" << c.w
              << "_1thread_images_per_s=" << fmt(one, 1) << " preprocess_" << c.h << "x" << c.w
              << "_" << hw << "threads_images_per_s=" << fmt(all, 1) << "\n";
  }
}

// ---- benchmark mode -------------------------------------------------------------

int runBenchmark(const Args& a)
{
  de::EmbeddingOptions options;
  options.device = a.device;
  options.precision = a.precision;
  options.threads = a.threads;
  options.pooling = de::Pooling::Auto;
  options.reuseBuffers = a.bufferReuse;

  const auto tl0 = Clock::now();
  de::EmbeddingModel model(a.model, options);
  const double loadS = seconds(tl0, Clock::now());
  const at::Device device(model.deviceName());
  std::cout << "Model: " << a.model << " (" << model.modelType() << ", embedding "
            << model.embeddingDim() << ", input " << model.inputHeight() << "x"
            << model.inputWidth() << ") loaded in " << fmt(loadS, 2) << " s on "
            << model.deviceName() << ", " << model.precisionName() << "\n";
  if (device.is_cuda())
  {
    std::cout << "CUDA devices: " << torch::cuda::device_count() << "\n";
  }
  std::cout << "ATen threads now: " << at::get_num_threads() << "\n";

  const int b = a.batch;
  const int batches = (a.images + b - 1) / b;
  const int total = batches * b;
  at::manual_seed(0);
  // DINOv2's config says 518 (its position grid); people embed at 224.
  const int height = a.image > 0 ? a.image : model.inputHeight();
  const int width = a.image > 0 ? a.image : model.inputWidth();
  std::cout << "Input: " << height << "x" << width << "\n";
  at::Tensor x = at::randn({ b, 3, height, width });
  if (!a.hostInput)
  {
    x = x.to(device);
  }
  sync(device);

  std::unique_ptr<de::BufferReuseScope> reuse;
  if (a.bufferReuse)
  {
    reuse.reset(new de::BufferReuseScope);
  }
  for (int i = 0; i < a.warmup; ++i)
  {
    (void)model.run(x);
  }
  sync(device);

  at::CallbackHandle profileHandle = 0;
  if (a.profile)
  {
    profileHandle = OpProfile::install();
  }
  std::vector<double> ms;
  const double cpu0 = processCpuSeconds();
  const auto t0 = Clock::now();
  for (int i = 0; i < batches; ++i)
  {
    const auto s = Clock::now();
    de::EmbeddingOutput out = model.run(x);
    sync(device);
    ms.push_back(1e3 * seconds(s, Clock::now()));
    if (i == 0 && !(out.embedding.size(0) == b && out.embedding.size(1) == model.embeddingDim()))
    {
      std::cerr << "unexpected embedding shape\n";
      return 1;
    }
  }
  const double wall = seconds(t0, Clock::now());
  const double cpu = processCpuSeconds() - cpu0;
  if (reuse)
  {
    std::cout << "Buffer reuse: " << de::BufferReuseScope::reusedBlocks()
              << " blocks handed out again, "
              << fmt(de::BufferReuseScope::cachedBytes() / 1048576.0, 0)
              << " MiB held between batches\n";
  }
  if (a.profile)
  {
    at::removeCallback(profileHandle);
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  const double rate = total / wall;

  std::cout << "\nModel forward (EmbeddingModel::run, input "
            << (a.hostInput ? "on the host" : "made on the device") << "): batch " << b << ", "
            << batches << " batches = " << total << " images after " << a.warmup
            << " warm-up batch(es)\n";
  std::cout << "  " << fmt(rate, 2) << " images/s; ms/batch mean " << fmt(1e3 * wall / batches, 1)
            << ", median " << fmt(median, 1) << ", min " << fmt(sorted.front(), 1) << ", max "
            << fmt(sorted.back(), 1) << "\n";
  std::cout << "  process CPU time " << fmt(cpu / total, 3) << " s/image (" << fmt(cpu / wall, 2)
            << " cores busy on average)\n";

  double gflops = 0, perImage = 0;
  const std::string configPath = model.isTorchScript() ? std::string() : a.model + "/config.json";
  if (model.modelType() == "vit" && !configPath.empty())
  {
    const de::ModelConfig config = de::loadModelConfig(configPath);
    const VitFlops f = vitFlops(config, height, width);
    perImage = f.total;
    gflops = perImage * rate / 1e9;
    std::cout << "  FLOPs/image (2 per multiply-add; " << f.tokens
              << " tokens): " << fmt(f.total / 1e9, 3) << " GFLOP = linear "
              << fmt(f.linear / 1e9, 3) << " + attention " << fmt(f.attention / 1e9, 3)
              << " + patch embedding " << fmt(f.patch / 1e9, 3) << " (= " << fmt(f.total / 2e9, 2)
              << " GMAC)\n";
    std::cout << "  " << fmt(gflops, 1) << " GFLOP/s\n";
  }
  std::cout << "RESULT engine images_per_s=" << fmt(rate, 3)
            << " ms_per_batch=" << fmt(1e3 * wall / batches, 2) << " batch=" << b
            << " images=" << total << " device=" << model.deviceName()
            << " precision=" << model.precisionName()
            << " gflop_per_image=" << fmt(perImage / 1e9, 3) << " gflops=" << fmt(gflops, 1)
            << " cpu_s_per_image=" << fmt(cpu / total, 4) << "\n";

  if (a.profile)
  {
    OpProfile::print(wall, batches);
  }
  benchmarkPreprocessing(model, a.preprocessImages);
  return 0;
}

// ---- fixture mode ------------------------------------------------------------------

at::Tensor jsonMatrix(const Json& rows)
{
  std::vector<float> values;
  std::int64_t cols = 0;
  for (const auto& row : rows)
  {
    cols = static_cast<std::int64_t>(row.size());
    for (const auto& v : row)
    {
      values.push_back(v.get<float>());
    }
  }
  return at::from_blob(values.data(), { static_cast<std::int64_t>(rows.size()), cols }, at::kFloat)
    .clone();
}

double maxDiff(const at::Tensor& actual, const Json& reference)
{
  const at::Tensor ref = jsonMatrix(reference);
  if (!actual.defined() || actual.sizes() != ref.sizes())
  {
    return std::numeric_limits<double>::infinity();
  }
  return (actual - ref).abs().max().item<double>();
}

int checkFixtures(const Args& a)
{
  const std::string dir = a.fixtures;
  Json expected;
  {
    std::ifstream in(dir + "/expected.json");
    if (!in)
    {
      std::cerr << "cannot read " << dir << "/expected.json\n";
      return 2;
    }
    expected = Json::parse(in);
  }
  int failures = 0, checks = 0;
  double worst = 0;
  const char* device = a.device == de::ComputeDevice::Cuda ? "cuda" : "cpu";
  std::cout << "Fixture check on " << device << ", "
            << (a.precision == de::Precision::BFloat16 ? "bfloat16" : "float32") << ", tolerance "
            << a.tolerance << "\n";
  for (const auto& item : expected.at("models").items())
  {
    const std::string name = item.key();
    const Json& ref = item.value();
    const std::string folder = dir + "/" + name;
    const auto npy = dualembed::testdata::readNpy(folder + "/pixel_values.npy");
    std::vector<float> v = npy.values<float>("<f4");
    const std::vector<std::int64_t> shape(npy.shape.begin(), npy.shape.end());
    const at::Tensor x = at::from_blob(v.data(), shape, at::kFloat).clone();

    auto check = [&](const std::string& what, const at::Tensor& actual, const std::string& key) {
      const double d = maxDiff(actual, ref.at(key));
      const bool ok = d <= a.tolerance;
      ++checks;
      failures += ok ? 0 : 1;
      worst = std::max(worst, d);
      std::cout << "  [max-abs-diff] " << std::left << std::setw(22) << name << std::setw(26)
                << what << std::scientific << std::setprecision(3) << d << std::defaultfloat
                << (ok ? "  ok" : "  FAIL") << "\n";
    };
    try
    {
      struct P
      {
        de::Pooling pooling;
        const char* key;
      };
      for (const P p : { P{ de::Pooling::FirstToken, "first_token" },
             P{ de::Pooling::Mean, "mean_token" }, P{ de::Pooling::Pooler, "pooler_output" } })
      {
        if (!ref.contains(p.key))
        {
          continue;
        }
        de::EmbeddingOptions o;
        o.device = a.device;
        o.precision = a.precision;
        o.pooling = p.pooling;
        o.threads = a.threads;
        de::EmbeddingModel m(folder, o);
        const de::EmbeddingOutput out = m.run(x);
        check(std::string("safetensors ") + p.key, out.embedding, p.key);
        if (p.pooling == de::Pooling::FirstToken && ref.contains("logits"))
        {
          check("safetensors logits", out.logits, "logits");
          check("safetensors probs", out.probs, "probs");
        }
      }
    }
    catch (const std::exception& e)
    {
      ++checks;
      ++failures;
      std::cout << "  " << name << ": FAIL: " << e.what() << "\n";
    }
    // TorchScript traces: for information (their device handling is the
    // tracer's), not counted.
    try
    {
      de::EmbeddingOptions o;
      o.device = a.device;
      o.precision = a.precision;
      o.threads = a.threads;
      de::EmbeddingModel m(folder + "/traced.pt", o);
      const de::EmbeddingOutput out = m.run(x);
      std::cout << "  [info] " << std::left << std::setw(22) << name << std::setw(26)
                << "traced.pt first_token" << std::scientific << std::setprecision(3)
                << maxDiff(out.embedding, ref.at("first_token")) << std::defaultfloat << "\n";
    }
    catch (const std::exception& e)
    {
      std::cout << "  [info] " << name << " traced.pt: " << e.what() << "\n";
    }
  }
  std::cout << "RESULT fixtures device=" << device << " checks=" << checks
            << " failures=" << failures << " worst_max_abs_diff=" << std::scientific << worst
            << std::defaultfloat << "\n";
  return failures == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv)
{
  const Args a = parseArgs(argc, argv);
  try
  {
    const int threads = de::setEngineThreads(a.threads);
    at::Tensor m = at::ones({ 64, 64 });
    (void)at::matmul(m, m); // maps the BLAS library before listing it
    const std::string info = de::engineRuntimeInfo();
    std::cout << "Engine runtime (" << threads << " intra-op threads requested):\n" << info;
    if (info.find("openblas") == std::string::npos && info.find("mkl") == std::string::npos)
    {
      std::cout << "WARNING: no OpenBLAS/MKL mapped; CPU timings would be those of a slow BLAS\n";
    }
    const std::string core = openblasCoreName();
    if (!core.empty())
    {
      const char* env = std::getenv("OPENBLAS_CORETYPE");
      std::cout << "OpenBLAS core: " << core
                << (env ? std::string(" (OPENBLAS_CORETYPE=") + env + ")" : "") << "\n";
      if ((core == "Prescott" || core == "Core2" || core == "Nehalem" || core == "Sandybridge") &&
        (cpuHasFlag("avx2") || cpuHasFlag("avx512f")))
      {
        std::cout << "WARNING: OpenBLAS picked the " << core << " kernels on a CPU with "
                  << (cpuHasFlag("avx512f") ? "AVX-512" : "AVX2")
                  << " (CPU detection failed); set OPENBLAS_CORETYPE="
                  << (cpuHasFlag("avx512f") ? "SkylakeX" : "Haswell")
                  << " for several times faster sgemm\n";
      }
    }
    if (!a.fixtures.empty())
    {
      return checkFixtures(a);
    }
    return runBenchmark(a);
  }
  catch (const std::exception& e)
  {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
