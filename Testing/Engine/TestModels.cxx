// Tests of model loading and forward passes (Filters/Engine): Hugging Face
// ViT / Swin folders from model.safetensors and pytorch_model.bin, TorchScript
// traces, and every way a model file can be wrong. Reference values come from
// transformers (Testing/Data/hf-reference/expected.json, see the README in the
// shared fixtures); inputs are the preprocessed pixel_values.npy, so these
// tests do not depend on the image preprocessing.
#include "../MemoryCap.h"
#include "BufferReuse.h"
#include "EngineError.h"
#include "ImageEmbedding.h"
#include "ImagePreprocessor.h"
#include "ModelConfig.h"
#include "NpyReader.h"
#include "SafeTensors.h"
#include "TorchCheckpoint.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/CPUAllocator.h>
#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/script.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sched.h>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using dualembed::engine::ComputeDevice;
using dualembed::engine::EmbeddingModel;
using dualembed::engine::EmbeddingOptions;
using dualembed::engine::EmbeddingOutput;
using dualembed::engine::ModelError;
using dualembed::engine::Pooling;
using dualembed::engine::TensorMap;
using Json = nlohmann::json;

namespace
{

constexpr double kTolerance = 1e-4;

const std::string& referenceDir()
{
  static const std::string dir = std::string(DUALEMBED_TESTING_DATA_DIR) + "/hf-reference";
  return dir;
}

std::string modelDir(const std::string& model)
{
  return referenceDir() + "/" + model;
}

const Json& expected()
{
  static const Json j = [] {
    std::ifstream in(referenceDir() + "/expected.json");
    return Json::parse(in);
  }();
  return j;
}

const Json& expectedFor(const std::string& model)
{
  return expected().at("models").at(model);
}

at::Tensor pixelValues(const std::string& model)
{
  const auto npy = dualembed::testdata::readNpy(modelDir(model) + "/pixel_values.npy");
  std::vector<float> v = npy.values<float>("<f4");
  std::vector<std::int64_t> shape(npy.shape.begin(), npy.shape.end());
  return at::from_blob(v.data(), shape, at::kFloat).clone();
}

at::Tensor jsonMatrix(const Json& rows)
{
  std::vector<float> values;
  std::int64_t cols = -1;
  for (const auto& row : rows)
  {
    if (cols < 0)
    {
      cols = static_cast<std::int64_t>(row.size());
    }
    for (const auto& x : row)
    {
      values.push_back(x.get<float>());
    }
  }
  return at::from_blob(values.data(), { static_cast<std::int64_t>(rows.size()), cols }, at::kFloat)
    .clone();
}

/// Max abs difference, +inf on a shape mismatch or an undefined tensor.
double maxDiff(const at::Tensor& actual, const Json& reference)
{
  at::Tensor ref = jsonMatrix(reference);
  if (!actual.defined() || actual.sizes() != ref.sizes())
  {
    return std::numeric_limits<double>::infinity();
  }
  return (actual - ref).abs().max().item<double>();
}

void report(
  const std::string& model, const std::string& format, const std::string& what, double diff)
{
  std::cout << "[max-abs-diff] " << model << " " << format << " " << what << " " << diff
            << std::endl;
}

const std::vector<std::string>& allModels()
{
  static const std::vector<std::string> models = { "vit-tiny", "vit-tiny-classifier", "swin-tiny",
    "swin-tiny-classifier", "vit-p16-224", "swin-p4-w7-224" };
  return models;
}

std::vector<std::string> id2labelOf(const std::string& model)
{
  std::vector<std::string> names;
  const Json& labels = expectedFor(model).at("id2label");
  for (std::size_t i = 0; i < labels.size(); ++i)
  {
    names.push_back(labels.at(std::to_string(i)).get<std::string>());
  }
  return names;
}

// ---- temporary files --------------------------------------------------------

class TempDir
{
public:
  TempDir()
  {
    std::string pattern = (fs::temp_directory_path() / "dualembed-models-XXXXXX").string();
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data()))
    {
      throw std::runtime_error("mkdtemp failed");
    }
    Path = buf.data();
  }
  ~TempDir()
  {
    std::error_code ec;
    fs::remove_all(Path, ec);
  }
  std::string file(const std::string& name) const { return (fs::path(Path) / name).string(); }
  const std::string& path() const { return Path; }

private:
  std::string Path;
};

void writeText(const std::string& path, const std::string& text)
{
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string readBytes(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string le64(std::uint64_t v)
{
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i)
  {
    s[static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
  return s;
}

/// A safetensors file from a header JSON and a data section.
std::string safetensorsBytes(const std::string& header, const std::string& data)
{
  return le64(header.size()) + header + data;
}

/// Writes float32 tensors as a valid safetensors file.
void writeSafeTensors(const std::string& path, const TensorMap& tensors)
{
  Json header = Json::object();
  std::string data;
  for (const auto& kv : tensors)
  {
    at::Tensor t = kv.second.to(at::kFloat).contiguous();
    const std::size_t begin = data.size();
    data.append(static_cast<const char*>(t.data_ptr()), t.numel() * sizeof(float));
    header[kv.first] = { { "dtype", "F32" }, { "shape", t.sizes().vec() },
      { "data_offsets", { begin, data.size() } } };
  }
  writeText(path, safetensorsBytes(header.dump(), data));
}

/// A model folder in `dir` with `model`'s config.json and the given weights.
std::string makeModelFolder(const TempDir& dir, const std::string& model, const TensorMap& tensors)
{
  fs::copy_file(modelDir(model) + "/config.json", dir.file("config.json"));
  writeSafeTensors(dir.file("model.safetensors"), tensors);
  return dir.path();
}

template <typename F>
std::string modelErrorMessage(F&& f)
{
  try
  {
    f();
  }
  catch (const ModelError& e)
  {
    return e.what();
  }
  catch (const std::exception& e)
  {
    return std::string("UNEXPECTED EXCEPTION TYPE: ") + e.what();
  }
  return "NO EXCEPTION";
}

#define EXPECT_MODEL_ERROR(statement, fragment)                                                    \
  do                                                                                               \
  {                                                                                                \
    const std::string msg_ = modelErrorMessage([&] { statement; });                                \
    EXPECT_NE(msg_.find(fragment), std::string::npos) << "message: " << msg_;                      \
    EXPECT_EQ(msg_.find("UNEXPECTED EXCEPTION TYPE"), std::string::npos) << msg_;                  \
    EXPECT_NE(msg_, "NO EXCEPTION");                                                               \
  } while (0)

EmbeddingOptions cpuOptions(Pooling pooling = Pooling::Auto)
{
  EmbeddingOptions o;
  o.pooling = pooling;
  o.device = ComputeDevice::Cpu;
  return o;
}

} // namespace

// ---- runtime ----------------------------------------------------------------

TEST(Runtime, ReportsThreadsAndBlas)
{
  const int n = dualembed::engine::setEngineThreads();
  EXPECT_GE(n, 1);
  EXPECT_EQ(at::get_num_threads(), n);
  at::Tensor a = at::ones({ 64, 64 });
  (void)at::matmul(a, a); // maps the BLAS library
  const std::string info = dualembed::engine::engineRuntimeInfo();
  std::cout << info << std::endl;
  // Debian's reference BLAS is ~50x slower: LibTorch must run on OpenBLAS.
  EXPECT_NE(info.find("openblas"), std::string::npos) << info;
}

TEST(Runtime, EngineLoopsUseEveryThread)
{
  // The engine's at::parallel_for loops are parallel only when it is
  // compiled with OpenMP; without it they silently ran on one thread.
  at::set_num_threads(2);
  EXPECT_EQ(dualembed::engine::engineLoopThreads(), 2);
  at::set_num_threads(1);
  EXPECT_EQ(dualembed::engine::engineLoopThreads(), 1);
  dualembed::engine::setEngineThreads();
}

TEST(Runtime, ThreadsFollowTheCpuAffinity)
{
  // mpiexec binds each rank to its share of the cores: the default thread
  // count must be that share, not the machine's cores.
  cpu_set_t all;
  ASSERT_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
  const int allowed = CPU_COUNT(&all);
  EXPECT_EQ(dualembed::engine::usableCores(), allowed);
  int first = 0;
  while (!CPU_ISSET(first, &all))
  {
    ++first;
  }
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  EXPECT_EQ(dualembed::engine::usableCores(), 1);
  EXPECT_EQ(dualembed::engine::setEngineThreads(), 1);
  EXPECT_EQ(at::get_num_threads(), 1);
  ASSERT_EQ(sched_setaffinity(0, sizeof(all), &all), 0);
  EXPECT_EQ(dualembed::engine::setEngineThreads(), allowed);
}

// ---- checkpoint readers -----------------------------------------------------

TEST(Checkpoints, TorchPickleMatchesSafeTensors)
{
  for (const auto& model : allModels())
  {
    const TensorMap safe =
      dualembed::engine::loadSafeTensors(modelDir(model) + "/model.safetensors");
    // transformers 5 state dicts use new module names (layers.N.attention.q_proj, ...)
    TensorMap bin = dualembed::engine::loadTorchCheckpoint(modelDir(model) + "/pytorch_model.bin");
    dualembed::engine::canonicalizeWeightNames(bin,
      model.rfind("swin", 0) == 0 ? dualembed::engine::ModelType::Swin
                                  : dualembed::engine::ModelType::Vit);
    ASSERT_EQ(safe.size(), bin.size()) << model;
    for (const auto& kv : safe)
    {
      auto it = bin.find(kv.first);
      ASSERT_NE(it, bin.end()) << model << " " << kv.first;
      ASSERT_EQ(it->second.sizes(), kv.second.sizes()) << kv.first;
      EXPECT_TRUE(at::equal(it->second, kv.second)) << model << " " << kv.first;
    }
  }
}

// ---- forward passes against transformers ------------------------------------

class ReferenceModels : public ::testing::TestWithParam<std::tuple<std::string, std::string>>
{
};

TEST_P(ReferenceModels, MatchTransformers)
{
  const std::string model = std::get<0>(GetParam());
  const std::string format = std::get<1>(GetParam());
  const std::string weights = modelDir(model) + "/" + format;
  const Json& ref = expectedFor(model);
  const at::Tensor x = pixelValues(model);
  const bool swin = model.rfind("swin", 0) == 0;
  const bool classifier = ref.contains("logits");

  EmbeddingModel first(weights, cpuOptions(Pooling::FirstToken));
  EXPECT_EQ(first.modelType(), swin ? "swin" : "vit");
  EXPECT_EQ(first.weightsPath(), weights);
  EXPECT_EQ(first.hasHead(), classifier);
  EXPECT_EQ(first.inputHeight(), static_cast<int>(x.size(2)));
  EXPECT_EQ(first.inputWidth(), static_cast<int>(x.size(3)));
  EXPECT_EQ(first.embeddingDim(), ref.at("last_hidden_state_shape").at(2).get<std::int64_t>());
  EXPECT_EQ(first.deviceName(), "cpu");
  const EmbeddingOutput o1 = first.run(x);
  double d = maxDiff(o1.embedding, ref.at("first_token"));
  report(model, format, "first_token", d);
  EXPECT_LE(d, kTolerance);
  if (classifier)
  {
    d = maxDiff(o1.logits, ref.at("logits"));
    report(model, format, "logits", d);
    EXPECT_LE(d, kTolerance);
    d = maxDiff(o1.probs, ref.at("probs"));
    report(model, format, "probs", d);
    EXPECT_LE(d, kTolerance);
    EXPECT_EQ(first.classNames(), id2labelOf(model));
  }
  else
  {
    EXPECT_FALSE(o1.logits.defined());
    EXPECT_FALSE(o1.probs.defined());
    EXPECT_TRUE(first.classNames().empty());
  }

  EmbeddingModel mean(weights, cpuOptions(Pooling::Mean));
  d = maxDiff(mean.run(x).embedding, ref.at("mean_token"));
  report(model, format, "mean_token", d);
  EXPECT_LE(d, kTolerance);

  if (ref.contains("pooler_output"))
  {
    EmbeddingModel pooler(weights, cpuOptions(Pooling::Pooler));
    d = maxDiff(pooler.run(x).embedding, ref.at("pooler_output"));
    report(model, format, "pooler_output", d);
    EXPECT_LE(d, kTolerance);
  }
  else
  {
    EXPECT_MODEL_ERROR(EmbeddingModel(weights, cpuOptions(Pooling::Pooler)), "pooler.dense.weight");
  }

  // auto: ViT -> first token, Swin -> mean
  EmbeddingModel automatic(weights, cpuOptions(Pooling::Auto));
  EXPECT_EQ(automatic.pooling(), swin ? Pooling::Mean : Pooling::FirstToken);
  d = maxDiff(automatic.run(x).embedding, ref.at(swin ? "mean_token" : "first_token"));
  EXPECT_LE(d, kTolerance);
}

INSTANTIATE_TEST_SUITE_P(AllModels, ReferenceModels,
  ::testing::Combine(::testing::Values("vit-tiny", "vit-tiny-classifier", "swin-tiny",
                       "swin-tiny-classifier", "vit-p16-224", "swin-p4-w7-224"),
    ::testing::Values("model.safetensors", "pytorch_model.bin")),
  [](const ::testing::TestParamInfo<ReferenceModels::ParamType>& info) {
    std::string name = std::get<0>(info.param) + "_" + std::get<1>(info.param);
    for (char& c : name)
    {
      if (!std::isalnum(static_cast<unsigned char>(c)))
      {
        c = '_';
      }
    }
    return name;
  });

TEST(ReferenceModels, FolderPathPrefersSafeTensors)
{
  EmbeddingModel m(modelDir("vit-tiny-classifier"), cpuOptions());
  EXPECT_EQ(m.weightsPath(), modelDir("vit-tiny-classifier") + "/model.safetensors");
  EXPECT_EQ(m.classNames(), id2labelOf("vit-tiny-classifier"));
  EXPECT_EQ(m.numLabels(), 3);
  EXPECT_EQ(m.preprocessorConfigPath(),
    fs::exists(modelDir("vit-tiny-classifier") + "/preprocessor_config.json")
      ? modelDir("vit-tiny-classifier") + "/preprocessor_config.json"
      : std::string());
}

TEST(ReferenceModels, PytorchBinAloneInFolder)
{
  TempDir dir;
  fs::copy_file(modelDir("swin-tiny-classifier") + "/config.json", dir.file("config.json"));
  fs::copy_file(
    modelDir("swin-tiny-classifier") + "/pytorch_model.bin", dir.file("pytorch_model.bin"));
  EmbeddingModel m(dir.path(), cpuOptions());
  EXPECT_EQ(m.weightsPath(), dir.file("pytorch_model.bin"));
  const EmbeddingOutput o = m.run(pixelValues("swin-tiny-classifier"));
  EXPECT_LE(maxDiff(o.logits, expectedFor("swin-tiny-classifier").at("logits")), kTolerance);
}

TEST(ReferenceModels, BatchOfOneAndEmptyBatch)
{
  EmbeddingModel m(modelDir("swin-tiny"), cpuOptions(Pooling::FirstToken));
  const at::Tensor x = pixelValues("swin-tiny");
  const EmbeddingOutput one = m.run(x.narrow(0, 3, 1));
  const Json& ref = expectedFor("swin-tiny").at("first_token");
  EXPECT_LE(maxDiff(one.embedding, Json::array({ ref.at(3) })), kTolerance);
  const EmbeddingOutput none = m.run(x.narrow(0, 0, 0));
  EXPECT_EQ(none.embedding.sizes(), at::IntArrayRef({ 0, 24 }));
}

TEST(ReferenceModels, SwinOddResolutionsRun)
{
  // Padding to whole windows (36/2 = 18 patches, window 4) and a window
  // clamped to a feature map smaller than the configured window.
  EmbeddingModel m(modelDir("swin-tiny-classifier"), cpuOptions());
  for (std::int64_t size : { 36, 30, 14, 6 })
  {
    const EmbeddingOutput o = m.run(at::randn({ 2, 3, size, size + 2 }));
    EXPECT_EQ(o.embedding.sizes(), at::IntArrayRef({ 2, 24 })) << size;
    EXPECT_TRUE(at::isfinite(o.embedding).all().item<bool>()) << size;
    EXPECT_LE((o.probs.sum(1) - 1).abs().max().item<double>(), 1e-5);
  }
}

namespace
{

/// transformers' SwinModel forward (modeling_swin.py: pad, roll, window
/// partition, masked window attention, reverse, roll back, crop; patch
/// merging with odd-size padding) in plain ATen ops, in double: the oracle
/// for the engine's fused window gathers on sizes that need padding.
at::Tensor swinReferenceLogits(const TensorMap& w, const at::Tensor& pixels, const Json& config)
{
  auto t = [&](const std::string& name) { return w.at(name).to(at::kDouble); };
  const std::int64_t ps = config.at("patch_size"), win0 = config.at("window_size");
  const double eps = config.at("layer_norm_eps");
  const std::vector<std::int64_t> heads = config.at("num_heads"), depths = config.at("depths");
  at::Tensor px = pixels.to(at::kDouble);
  px = at::constant_pad_nd(px, { 0, (ps - px.size(3) % ps) % ps, 0, (ps - px.size(2) % ps) % ps });
  at::Tensor x = at::conv2d(px, t("swin.embeddings.patch_embeddings.projection.weight"),
    t("swin.embeddings.patch_embeddings.projection.bias"), { ps, ps });
  std::int64_t b = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3);
  x = x.flatten(2).transpose(1, 2);
  x = at::layer_norm(
    x, { c }, t("swin.embeddings.norm.weight"), t("swin.embeddings.norm.bias"), 1e-5);
  for (std::size_t s = 0; s < depths.size(); ++s)
  {
    const std::string sp = "swin.encoder.layers." + std::to_string(s) + ".";
    for (std::int64_t i = 0; i < depths[s]; ++i)
    {
      const std::string l = sp + "blocks." + std::to_string(i) + ".";
      std::int64_t win = win0, shift = i % 2 ? win0 / 2 : 0;
      if (std::min(h, wd) <= win)
      {
        shift = 0;
        win = std::min(h, wd);
      }
      const std::int64_t n = win * win, nh = heads[s], hd = c / nh;
      at::Tensor y = at::layer_norm(
        x, { c }, t(l + "layernorm_before.weight"), t(l + "layernorm_before.bias"), eps)
                       .view({ b, h, wd, c });
      const std::int64_t pr = (win - wd % win) % win, pb = (win - h % win) % win, hp = h + pb,
                         wp = wd + pr;
      y = at::constant_pad_nd(y, { 0, 0, 0, pr, 0, pb });
      if (shift > 0)
      {
        y = at::roll(y, { -shift, -shift }, { 1, 2 });
      }
      const std::int64_t nw = (hp / win) * (wp / win);
      y = y.view({ b, hp / win, win, wp / win, win, c })
            .permute({ 0, 1, 3, 2, 4, 5 })
            .reshape({ -1, n, c });
      const std::string a = l + "attention.self.";
      auto split = [&](const std::string& k) {
        return at::linear(y, t(a + k + ".weight"), t(a + k + ".bias"))
          .view({ -1, n, nh, hd })
          .permute({ 0, 2, 1, 3 });
      };
      at::Tensor scores =
        at::matmul(split("query"), split("key").transpose(2, 3)) / std::sqrt(double(hd));
      const at::Tensor coords =
        at::stack(at::meshgrid({ at::arange(win), at::arange(win) }, "ij")).flatten(1);
      at::Tensor rel = (coords.unsqueeze(2) - coords.unsqueeze(1)).permute({ 1, 2, 0 }) + (win - 1);
      const at::Tensor index = rel.select(2, 0) * (2 * win - 1) + rel.select(2, 1);
      scores = scores +
        t(a + "relative_position_bias_table")
          .index_select(0, index.flatten())
          .view({ n, n, nh })
          .permute({ 2, 0, 1 })
          .unsqueeze(0);
      if (shift > 0)
      {
        at::Tensor img = at::zeros({ hp, wp }, at::kLong);
        const std::int64_t cuts[3][2] = { { 0, -win }, { -win, -shift }, { -shift, 0 } };
        std::int64_t region = 0;
        for (auto& ys : cuts)
        {
          for (auto& xs : cuts)
          {
            img.narrow(0, (ys[0] + hp) % hp, (ys[1] ? ys[1] + hp : hp) - (ys[0] + hp) % hp)
              .narrow(1, (xs[0] + wp) % wp, (xs[1] ? xs[1] + wp : wp) - (xs[0] + wp) % wp)
              .fill_(region++);
          }
        }
        const at::Tensor mw =
          img.view({ hp / win, win, wp / win, win }).permute({ 0, 2, 1, 3 }).reshape({ nw, n });
        const at::Tensor mask = (mw.unsqueeze(1) - mw.unsqueeze(2)).ne(0).to(at::kDouble) * -100.0;
        scores = (scores.view({ b, nw, nh, n, n }) + mask.unsqueeze(1).unsqueeze(0))
                   .view({ -1, nh, n, n });
      }
      at::Tensor ctx = at::matmul(at::softmax(scores, -1), split("value"))
                         .permute({ 0, 2, 1, 3 })
                         .reshape({ -1, n, c });
      ctx = at::linear(
        ctx, t(l + "attention.output.dense.weight"), t(l + "attention.output.dense.bias"));
      ctx = ctx.view({ b, hp / win, wp / win, win, win, c })
              .permute({ 0, 1, 3, 2, 4, 5 })
              .reshape({ b, hp, wp, c });
      if (shift > 0)
      {
        ctx = at::roll(ctx, { shift, shift }, { 1, 2 });
      }
      x = x + ctx.narrow(1, 0, h).narrow(2, 0, wd).reshape({ b, h * wd, c });
      const at::Tensor m = at::layer_norm(
        x, { c }, t(l + "layernorm_after.weight"), t(l + "layernorm_after.bias"), eps);
      x = x +
        at::linear(at::gelu(at::linear(
                     m, t(l + "intermediate.dense.weight"), t(l + "intermediate.dense.bias"))),
          t(l + "output.dense.weight"), t(l + "output.dense.bias"));
    }
    if (s + 1 < depths.size())
    {
      at::Tensor f = at::constant_pad_nd(x.view({ b, h, wd, c }), { 0, 0, 0, wd % 2, 0, h % 2 });
      using at::indexing::None;
      using at::indexing::Slice;
      f = at::cat({ f.index({ Slice(), Slice(0, None, 2), Slice(0, None, 2) }),
                    f.index({ Slice(), Slice(1, None, 2), Slice(0, None, 2) }),
                    f.index({ Slice(), Slice(0, None, 2), Slice(1, None, 2) }),
                    f.index({ Slice(), Slice(1, None, 2), Slice(1, None, 2) }) },
        -1)
            .view({ b, -1, 4 * c });
      f = at::layer_norm(
        f, { 4 * c }, t(sp + "downsample.norm.weight"), t(sp + "downsample.norm.bias"), 1e-5);
      x = at::linear(f, t(sp + "downsample.reduction.weight"));
      h = (h + 1) / 2;
      wd = (wd + 1) / 2;
      c *= 2;
    }
  }
  x = at::layer_norm(x, { c }, t("swin.layernorm.weight"), t("swin.layernorm.bias"), eps);
  return at::linear(x.mean(1), t("classifier.weight"), t("classifier.bias"));
}

} // namespace

TEST(ReferenceModels, SwinPaddedWindowsMatchTransformersCode)
{
  // 36 x 38 pixels: 18 x 19 patches padded to 20 x 20 for window 4 with a
  // shift of 2, then 9 x 10 (odd merge padding) padded to 12 x 12; 30 x 32:
  // 15 x 16 patches.
  const std::string dir = modelDir("swin-tiny-classifier");
  const TensorMap weights = dualembed::engine::loadSafeTensors(dir + "/model.safetensors");
  Json config;
  std::ifstream(dir + "/config.json") >> config;
  EmbeddingModel m(dir, cpuOptions());
  for (std::int64_t size : { 36, 30 })
  {
    at::manual_seed(size);
    const at::Tensor x = at::randn({ 2, 3, size, size + 2 });
    const at::Tensor expected = swinReferenceLogits(weights, x, config);
    EXPECT_LE((m.run(x).logits.to(at::kDouble) - expected).abs().max().item<double>(), 1e-5)
      << size;
  }
}

// ---- buffer reuse -------------------------------------------------------------

TEST(BufferReuse, HandsLargeBlocksOutAgainWithinTheScope)
{
  using dualembed::engine::BufferReuseScope;
  at::Allocator* const before = c10::GetCPUAllocator();
  const std::int64_t floats = 1 << 20; // 4 MiB
  at::Tensor outlives;
  {
    const BufferReuseScope scope;
    EXPECT_NE(c10::GetCPUAllocator(), before);
    void* first = nullptr;
    {
      at::Tensor a = at::ones({ floats });
      first = a.data_ptr();
    }
    EXPECT_EQ(BufferReuseScope::cachedBytes(), std::size_t(floats) * 4);
    {
      const BufferReuseScope nested; // does not end the reuse
    }
    at::Tensor again = at::empty({ floats });
    EXPECT_EQ(again.data_ptr(), first);
    EXPECT_EQ(BufferReuseScope::reusedBlocks(), 1u);
    EXPECT_EQ(BufferReuseScope::cachedBytes(), 0u);
    at::Tensor other = at::empty({ floats + 1 }); // other sizes are not matched
    EXPECT_NE(other.data_ptr(), first);
    EXPECT_EQ(at::zeros({ 10 }).sum().item<float>(), 0.0f); // small blocks pass through
    // ATen's raw interface (oneDNN convolutions), large and small blocks
    for (std::size_t bytes : { std::size_t(8) << 20, std::size_t(64) })
    {
      void* raw = c10::GetCPUAllocator()->raw_allocate(bytes);
      ASSERT_NE(raw, nullptr);
      std::memset(raw, 1, bytes);
      c10::GetCPUAllocator()->raw_deallocate(raw);
    }
    outlives = at::full({ floats }, 2.0f);
  }
  EXPECT_EQ(c10::GetCPUAllocator(), before);
  EXPECT_EQ(BufferReuseScope::cachedBytes(), 0u);
  EXPECT_EQ(outlives.sum().item<double>(), 2.0 * floats); // freed normally below
}

TEST(BufferReuse, ModelResultsUnchanged)
{
  // The same batch twice in one scope (the second reuses every large
  // block of the first) and once without reuse: identical embeddings.
  EmbeddingOptions plain = cpuOptions();
  plain.reuseBuffers = false;
  EmbeddingModel withoutReuse(modelDir("swin-p4-w7-224"), plain);
  EmbeddingModel m(modelDir("swin-p4-w7-224"), cpuOptions());
  at::manual_seed(4);
  const at::Tensor x = at::randn({ 2, 3, 224, 224 });
  const at::Tensor expected = withoutReuse.run(x).embedding;
  const dualembed::engine::BufferReuseScope scope;
  EXPECT_TRUE(at::equal(m.run(x).embedding, expected));
  EXPECT_TRUE(at::equal(m.run(x).embedding, expected));
  EXPECT_GT(dualembed::engine::BufferReuseScope::reusedBlocks(), 0u);
}

// ---- TorchScript ------------------------------------------------------------

class TracedModels : public ::testing::TestWithParam<std::string>
{
};

TEST_P(TracedModels, MatchTransformers)
{
  const std::string model = GetParam();
  const Json& ref = expectedFor(model);
  const bool classifier = ref.contains("logits");
  EmbeddingModel m(modelDir(model) + "/traced.pt", cpuOptions());
  EXPECT_TRUE(m.isTorchScript());
  EXPECT_EQ(m.modelType(), "torchscript");
  const at::Tensor x = pixelValues(model);
  EXPECT_EQ(m.inputHeight(), static_cast<int>(x.size(2)));
  EXPECT_EQ(m.embeddingDim(), ref.at("last_hidden_state_shape").at(2).get<std::int64_t>());
  const EmbeddingOutput o = m.run(x);
  double d = maxDiff(o.embedding, ref.at("first_token"));
  report(model, "traced.pt", "first_token", d);
  EXPECT_LE(d, kTolerance);
  // The traces return (first_token, logits) for classifiers and
  // (first_token, mean_token) otherwise; the engine takes the second
  // element as logits either way.
  ASSERT_TRUE(m.hasHead());
  d = maxDiff(o.logits, ref.at(classifier ? "logits" : "mean_token"));
  report(model, "traced.pt", classifier ? "logits" : "second_output(mean_token)", d);
  EXPECT_LE(d, kTolerance);
  if (classifier)
  {
    d = maxDiff(o.probs, ref.at("probs"));
    report(model, "traced.pt", "probs", d);
    EXPECT_LE(d, kTolerance);
    EXPECT_EQ(m.classNames(), id2labelOf(model));
  }
}

INSTANTIATE_TEST_SUITE_P(AllModels, TracedModels,
  ::testing::Values("vit-tiny", "vit-tiny-classifier", "swin-tiny", "swin-tiny-classifier",
    "vit-p16-224", "swin-p4-w7-224"),
  [](const ::testing::TestParamInfo<std::string>& info) {
    std::string name = info.param;
    for (char& c : name)
    {
      if (!std::isalnum(static_cast<unsigned char>(c)))
      {
        c = '_';
      }
    }
    return name;
  });

TEST(TorchScript, SingleTensorEmbedding)
{
  EmbeddingOptions o = cpuOptions();
  o.inputHeight = 5;
  o.inputWidth = 7;
  EmbeddingModel m(std::string(DUALEMBED_TESTING_DATA_DIR) + "/torchscript/mean_colour.pt", o);
  EXPECT_EQ(m.embeddingDim(), 3);
  EXPECT_FALSE(m.hasHead());
  EXPECT_EQ(m.inputHeight(), 5);
  const at::Tensor x = at::randn({ 4, 3, 9, 9 });
  const EmbeddingOutput out = m.run(x);
  EXPECT_TRUE(at::allclose(out.embedding, x.mean({ 2, 3 })));
  EXPECT_FALSE(out.logits.defined());
}

TEST(TorchScript, WrongOutputShapesAreRejected)
{
  const std::string dir = std::string(DUALEMBED_TESTING_DATA_DIR) + "/torchscript/";
  EXPECT_MODEL_ERROR(
    EmbeddingModel(dir + "bad_output_shape.pt", cpuOptions()), "embedding must be");
  EXPECT_MODEL_ERROR(EmbeddingModel(dir + "bad_logits_shape.pt", cpuOptions()), "logits must be");
}

TEST(TorchScript, NotTorchScriptFiles)
{
  TempDir dir;
  writeText(dir.file("model.pt"), "this is a text file, not a TorchScript archive\n");
  EXPECT_MODEL_ERROR(
    EmbeddingModel(dir.file("model.pt"), cpuOptions()), "not a loadable TorchScript");
  // a torch.save state dict is a zip too, but no TorchScript module
  fs::copy_file(modelDir("vit-tiny") + "/pytorch_model.bin", dir.file("state_dict.pt"));
  EXPECT_MODEL_ERROR(EmbeddingModel(dir.file("state_dict.pt"), cpuOptions()), "state_dict.pt");
  writeText(dir.file("empty.pt"), "");
  EXPECT_MODEL_ERROR(EmbeddingModel(dir.file("empty.pt"), cpuOptions()), "empty.pt");
}

// ---- bad model folders ------------------------------------------------------

TEST(BadModels, MissingPath)
{
  EXPECT_MODEL_ERROR(EmbeddingModel("/nonexistent/dualembed/model", cpuOptions()), "no such model");
}

TEST(BadModels, MissingConfig)
{
  TempDir dir;
  fs::copy_file(modelDir("vit-tiny") + "/model.safetensors", dir.file("model.safetensors"));
  EXPECT_MODEL_ERROR(EmbeddingModel(dir.path(), cpuOptions()), "no config.json");
}

TEST(BadModels, MalformedConfig)
{
  TempDir dir;
  writeText(dir.file("config.json"), "{\"model_type\": \"vit\", \"hidden_size\": ");
  fs::copy_file(modelDir("vit-tiny") + "/model.safetensors", dir.file("model.safetensors"));
  EXPECT_MODEL_ERROR(EmbeddingModel(dir.path(), cpuOptions()), "malformed JSON");
  writeText(dir.file("config.json"), "{\"model_type\": \"vit\", \"hidden_size\": \"big\"}");
  EXPECT_MODEL_ERROR(EmbeddingModel(dir.path(), cpuOptions()), "'hidden_size' must be an integer");
  writeText(dir.file("config.json"),
    "{\"model_type\": \"vit\", \"hidden_size\": 48, \"num_attention_heads\": 5}");
  EXPECT_MODEL_ERROR(EmbeddingModel(dir.path(), cpuOptions()), "not a multiple");
  writeText(dir.file("config.json"), "[1, 2]");
  EXPECT_MODEL_ERROR(EmbeddingModel(dir.path(), cpuOptions()), "config.json");
}

TEST(BadModels, UnsupportedModelType)
{
  TempDir dir;
  writeText(dir.file("config.json"), "{\"model_type\": \"bert\", \"hidden_size\": 48}");
  fs::copy_file(modelDir("vit-tiny") + "/model.safetensors", dir.file("model.safetensors"));
  const std::string msg = modelErrorMessage([&] { EmbeddingModel(dir.path(), cpuOptions()); });
  EXPECT_NE(msg.find("bert"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'vit'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'swin'"), std::string::npos) << msg;
  writeText(dir.file("config.json"), "{\"hidden_size\": 48}");
  EXPECT_MODEL_ERROR(EmbeddingModel(dir.path(), cpuOptions()), "model_type");
}

TEST(BadModels, MissingWeightsFile)
{
  TempDir dir;
  fs::copy_file(modelDir("vit-tiny") + "/config.json", dir.file("config.json"));
  EXPECT_MODEL_ERROR(EmbeddingModel(dir.path(), cpuOptions()), "no weights");
}

TEST(BadModels, MissingWeight)
{
  TensorMap t = dualembed::engine::loadSafeTensors(modelDir("vit-tiny") + "/model.safetensors");
  t.erase("encoder.layer.1.attention.attention.query.weight");
  TempDir dir;
  makeModelFolder(dir, "vit-tiny", t);
  EXPECT_MODEL_ERROR(EmbeddingModel(dir.path(), cpuOptions()),
    "model.safetensors has no weight 'encoder.layer.1.attention.attention.query.weight'");

  TensorMap s =
    dualembed::engine::loadSafeTensors(modelDir("swin-tiny-classifier") + "/model.safetensors");
  s.erase("swin.encoder.layers.1.blocks.1.attention.self.relative_position_bias_table");
  TempDir dir2;
  makeModelFolder(dir2, "swin-tiny-classifier", s);
  EXPECT_MODEL_ERROR(EmbeddingModel(dir2.path(), cpuOptions()),
    "has no weight 'swin.encoder.layers.1.blocks.1.attention.self.relative_position_bias_table'");
}

TEST(BadModels, WrongShapeWeight)
{
  TensorMap t = dualembed::engine::loadSafeTensors(modelDir("vit-tiny") + "/model.safetensors");
  t["layernorm.weight"] = at::ones({ 47 });
  TempDir dir;
  makeModelFolder(dir, "vit-tiny", t);
  const std::string msg = modelErrorMessage([&] { EmbeddingModel(dir.path(), cpuOptions()); });
  EXPECT_NE(msg.find("'layernorm.weight'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[47]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[48]"), std::string::npos) << msg;

  TensorMap s = dualembed::engine::loadSafeTensors(modelDir("swin-tiny") + "/model.safetensors");
  s["encoder.layers.0.downsample.reduction.weight"] = at::ones({ 48, 24 });
  TempDir dir2;
  makeModelFolder(dir2, "swin-tiny", s);
  EXPECT_MODEL_ERROR(EmbeddingModel(dir2.path(), cpuOptions()), "[24, 48]");

  // a classifier that does not match id2label
  TensorMap c =
    dualembed::engine::loadSafeTensors(modelDir("vit-tiny-classifier") + "/model.safetensors");
  c["classifier.weight"] = at::ones({ 4, 48 });
  c["classifier.bias"] = at::ones({ 4 });
  TempDir dir3;
  makeModelFolder(dir3, "vit-tiny-classifier", c);
  EXPECT_MODEL_ERROR(EmbeddingModel(dir3.path(), cpuOptions()), "id2label has 3 labels");
}

TEST(BadModels, TruncatedSafeTensors)
{
  const std::string bytes = readBytes(modelDir("vit-tiny") + "/model.safetensors");
  TempDir dir;
  fs::copy_file(modelDir("vit-tiny") + "/config.json", dir.file("config.json"));
  for (std::size_t keep :
    { std::size_t(0), std::size_t(5), std::size_t(100), bytes.size() / 2, bytes.size() - 1 })
  {
    SCOPED_TRACE("kept bytes: " + std::to_string(keep));
    writeText(dir.file("model.safetensors"), bytes.substr(0, keep));
    EXPECT_MODEL_ERROR(EmbeddingModel(dir.path(), cpuOptions()), "model.safetensors");
  }
}

TEST(BadModels, HostileSafeTensorsHeaders)
{
  using dualembed::engine::parseSafeTensors;
  const std::string data(64, '\0');
  const auto header = [](const std::string& entries) { return "{" + entries + "}"; };
  // header length larger than the file
  EXPECT_MODEL_ERROR(parseSafeTensors(le64(1000) + "{}", "h.safetensors"), "exceeds the file size");
  // absurd header length
  EXPECT_MODEL_ERROR(parseSafeTensors(le64(~0ull) + "{}", "h.safetensors"), "implausible");
  // offsets beyond the data section
  EXPECT_MODEL_ERROR(
    parseSafeTensors(
      safetensorsBytes(
        header("\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[60,76]}"), data),
      "h.safetensors"),
    "outside the data section");
  // overlapping tensors
  EXPECT_MODEL_ERROR(
    parseSafeTensors(
      safetensorsBytes(header("\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                              "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}"),
        data),
      "h.safetensors"),
    "overlaps");
  // size does not match shape * dtype
  EXPECT_MODEL_ERROR(
    parseSafeTensors(
      safetensorsBytes(
        header("\"a\":{\"dtype\":\"F32\",\"shape\":[5],\"data_offsets\":[0,16]}"), data),
      "h.safetensors"),
    "tensor 'a'");
  // unknown dtype
  EXPECT_MODEL_ERROR(
    parseSafeTensors(
      safetensorsBytes(
        header("\"a\":{\"dtype\":\"F8\",\"shape\":[4],\"data_offsets\":[0,4]}"), data),
      "h.safetensors"),
    "unsupported dtype");
  // negative offset, reversed offsets, shape not a list, invalid JSON, not an object
  EXPECT_MODEL_ERROR(
    parseSafeTensors(
      safetensorsBytes(
        header("\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}"), data),
      "h.safetensors"),
    "data_offsets");
  EXPECT_MODEL_ERROR(
    parseSafeTensors(
      safetensorsBytes(
        header("\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}"), data),
      "h.safetensors"),
    "outside the data section");
  EXPECT_MODEL_ERROR(
    parseSafeTensors(
      safetensorsBytes(
        header("\"a\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,16]}"), data),
      "h.safetensors"),
    "shape");
  EXPECT_MODEL_ERROR(
    parseSafeTensors(safetensorsBytes("{\"a\":", data), "h.safetensors"), "not valid JSON");
  EXPECT_MODEL_ERROR(
    parseSafeTensors(safetensorsBytes("[1,2]", data), "h.safetensors"), "not a JSON object");
  EXPECT_MODEL_ERROR(
    parseSafeTensors(
      safetensorsBytes(
        header(
          "\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,16]}"),
        data),
      "h.safetensors"),
    "tensor 'a'");

  // other dtypes are converted to float32
  std::string bytes(10, '\0');
  const std::uint16_t bf16 = 0x3fc0; // 1.5
  std::memcpy(&bytes[0], &bf16, 2);
  const std::int64_t i64 = -7;
  std::memcpy(&bytes[2], &i64, 8);
  const TensorMap ok = parseSafeTensors(
    safetensorsBytes(header("\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[0,2]},"
                            "\"i\":{\"dtype\":\"I64\",\"shape\":[1,1],\"data_offsets\":[2,10]},"
                            "\"__metadata__\":{\"format\":\"pt\"}"),
      bytes),
    "ok.safetensors");
  ASSERT_EQ(ok.size(), 2u);
  EXPECT_EQ(ok.at("b").scalar_type(), at::kFloat);
  EXPECT_EQ(ok.at("b").item<float>(), 1.5f);
  EXPECT_EQ(ok.at("i").sizes(), at::IntArrayRef({ 1, 1 }));
  EXPECT_EQ(ok.at("i").item<float>(), -7.0f);
}

namespace
{

/// A torch.save-like zip archive whose data.pkl is `pickle`.
void writeCheckpoint(const std::string& path, const std::string& pickle,
  const std::vector<std::pair<std::string, std::string>>& records = {})
{
  caffe2::serialize::PyTorchStreamWriter writer(path);
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  for (const auto& r : records)
  {
    writer.writeRecord(r.first, r.second.data(), r.second.size());
  }
  writer.writeEndOfFile();
}

std::string binunicode(const std::string& s)
{
  std::string out = "X";
  const auto n = static_cast<std::uint32_t>(s.size());
  out.append(reinterpret_cast<const char*>(&n), 4);
  return out + s;
}

/// OrderedDict with one tensor 'w' of `size`/`stride` on storage '0' of numel floats.
std::string statePickle(
  int numel, int offset, const std::vector<int>& size, const std::vector<int>& stride)
{
  std::string p = "\x80\x02"
                  "ccollections\nOrderedDict\n)R(";
  p += binunicode("w");
  p += "ctorch._utils\n_rebuild_tensor_v2\n((";
  p += binunicode("storage") + "ctorch\nFloatStorage\n" + binunicode("0") + binunicode("cpu");
  p += "K" + std::string(1, static_cast<char>(numel)) + "tQK" +
    std::string(1, static_cast<char>(offset)) + "(";
  for (int s : size)
  {
    p += "K" + std::string(1, static_cast<char>(s));
  }
  p += "t(";
  for (int s : stride)
  {
    p += "K" + std::string(1, static_cast<char>(s));
  }
  p += "t\x89}tRu.";
  return p;
}

std::string floats(int n)
{
  std::string s(static_cast<std::size_t>(n) * 4, '\0');
  for (int i = 0; i < n; ++i)
  {
    const float v = static_cast<float>(i);
    std::memcpy(&s[static_cast<std::size_t>(i) * 4], &v, 4);
  }
  return s;
}

} // namespace

TEST(BadModels, TorchCheckpointPickles)
{
  using dualembed::engine::loadTorchCheckpoint;
  TempDir dir;
  const std::string f = dir.file("pytorch_model.bin");

  // A well-formed one with offset and strides (a transposed view).
  writeCheckpoint(f, statePickle(12, 2, { 2, 3 }, { 1, 2 }), { { "data/0", floats(12) } });
  const TensorMap ok = loadTorchCheckpoint(f);
  ASSERT_EQ(ok.count("w"), 1u);
  const at::Tensor expectedW = at::arange(12, at::kFloat).as_strided({ 2, 3 }, { 1, 2 }, 2);
  EXPECT_TRUE(at::equal(ok.at("w"), expectedW)) << ok.at("w");

  // view beyond its storage
  writeCheckpoint(f, statePickle(12, 8, { 2, 3 }, { 3, 1 }), { { "data/0", floats(12) } });
  EXPECT_MODEL_ERROR(loadTorchCheckpoint(f), "beyond its storage");
  // storage record missing / too short
  writeCheckpoint(f, statePickle(12, 0, { 2, 3 }, { 3, 1 }));
  EXPECT_MODEL_ERROR(loadTorchCheckpoint(f), "missing");
  writeCheckpoint(f, statePickle(12, 0, { 2, 3 }, { 3, 1 }), { { "data/0", floats(5) } });
  EXPECT_MODEL_ERROR(loadTorchCheckpoint(f), "truncated");
  // arbitrary callables are refused
  writeCheckpoint(f,
    "\x80\x02"
    "cos\nsystem\n" +
      binunicode("true") + "\x85R.");
  EXPECT_MODEL_ERROR(loadTorchCheckpoint(f), "os.system");
  // unknown opcode, truncated pickle, unbalanced stack, bad memo
  writeCheckpoint(f, "\x80\x02}\xff.");
  EXPECT_MODEL_ERROR(loadTorchCheckpoint(f), "unsupported pickle opcode 0xff");
  writeCheckpoint(f, "\x80\x02}(" + binunicode("a"));
  EXPECT_MODEL_ERROR(loadTorchCheckpoint(f), "unexpected end");
  writeCheckpoint(f, "\x80\x02}}.");
  EXPECT_MODEL_ERROR(loadTorchCheckpoint(f), "unbalanced");
  writeCheckpoint(f, "\x80\x02h\x07.");
  EXPECT_MODEL_ERROR(loadTorchCheckpoint(f), "memo");
  writeCheckpoint(f, "\x80\x02s.");
  EXPECT_MODEL_ERROR(loadTorchCheckpoint(f), "malformed pickle");
  // not a dict at top level
  writeCheckpoint(f, "\x80\x02].");
  EXPECT_MODEL_ERROR(loadTorchCheckpoint(f), "not a state dict");
  // not a zip, truncated zip
  writeText(f, "plain text");
  EXPECT_MODEL_ERROR(loadTorchCheckpoint(f), "pytorch_model.bin");
  const std::string real = readBytes(modelDir("vit-tiny") + "/pytorch_model.bin");
  writeText(f, real.substr(0, real.size() / 2));
  EXPECT_MODEL_ERROR(loadTorchCheckpoint(f), "pytorch_model.bin");
}

// ---- hostile checkpoints and configs (found by Testing/Fuzz) ------------------

namespace
{

/// LONG1 of a signed 64-bit integer (8 bytes, little-endian).
std::string long1(std::int64_t v)
{
  std::string out = "\x8a\x08";
  out.append(reinterpret_cast<const char*>(&v), 8);
  return out;
}

/// {'w': _rebuild_tensor_v2(storage '0' of `numel` floats, offset, size, stride)}
/// with every integer as LONG1, so that any 64-bit value fits.
std::string wideStatePickle(std::int64_t numel, std::int64_t offset,
  const std::vector<std::int64_t>& size, const std::vector<std::int64_t>& stride)
{
  std::string p = "\x80\x02}(" + binunicode("w");
  p += "ctorch._utils\n_rebuild_tensor_v2\n((";
  p += binunicode("storage") + "ctorch\nFloatStorage\n" + binunicode("0") + binunicode("cpu");
  p += long1(numel) + "tQ" + long1(offset) + "(";
  for (const auto s : size)
  {
    p += long1(s);
  }
  p += "t(";
  for (const auto s : stride)
  {
    p += long1(s);
  }
  return p + "t\x89}tRu.";
}

} // namespace

TEST(HostileInput, SelfContainingDictDoesNotLeak)
{
  // d = {}; d['a'] = d: a cycle (leaked by shared_ptr values; LeakSanitizer
  // in the sanitizer build fails this test if it comes back).
  TempDir dir;
  const std::string f = dir.file("pytorch_model.bin");
  writeCheckpoint(
    f, std::string("\x80\x02}q\x00", 5) + binunicode("a") + std::string("h\x00s.", 4));
  EXPECT_TRUE(dualembed::engine::loadTorchCheckpoint(f).empty());
}

TEST(HostileInput, DeeplyNestedTuplesDoNotOverflowTheStack)
{
  // 1 000 000 nested 1-tuples: a recursive destructor overflowed the stack.
  TempDir dir;
  const std::string f = dir.file("pytorch_model.bin");
  writeCheckpoint(f, "\x80\x02N" + std::string(1000000, '\x85') + ".");
  EXPECT_MODEL_ERROR(dualembed::engine::loadTorchCheckpoint(f), "not a state dict");
}

TEST(HostileInput, StrideZeroTensorCannotAllocateGigabytes)
{
  // size 2^31, stride 0 over 6 floats: 8 GiB of float32 from a tiny file.
  TempDir dir;
  const std::string f = dir.file("pytorch_model.bin");
  writeCheckpoint(
    f, wideStatePickle(6, 0, { std::int64_t(1) << 31 }, { 0 }), { { "data/0", floats(6) } });
  dualembed::testing::MemoryCap cap(1ull << 30);
  EXPECT_MODEL_ERROR(dualembed::engine::loadTorchCheckpoint(f), "over a storage of 6");
}

TEST(HostileInput, StorageOffsetAndStrideOverflowsAreRefused)
{
  TempDir dir;
  const std::string f = dir.file("pytorch_model.bin");
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  writeCheckpoint(f, wideStatePickle(6, max - 1, { 2 }, { 1 }), { { "data/0", floats(6) } });
  EXPECT_MODEL_ERROR(dualembed::engine::loadTorchCheckpoint(f), "outside its storage");
  writeCheckpoint(
    f, wideStatePickle(6, 0, { 3, max / 2 }, { max / 2, 1 }), { { "data/0", floats(6) } });
  EXPECT_MODEL_ERROR(dualembed::engine::loadTorchCheckpoint(f), "overflows");
  // a storage size whose byte count overflows
  writeCheckpoint(f, wideStatePickle(max / 2, 0, { 1 }, { 1 }), { { "data/0", floats(6) } });
  EXPECT_MODEL_ERROR(dualembed::engine::loadTorchCheckpoint(f), "truncated");
}

TEST(HostileInput, SwinWidthsAreBoundedBeforeIntegerConversion)
{
  using dualembed::engine::parseModelConfig;
  EXPECT_MODEL_ERROR(
    parseModelConfig(R"({"model_type":"swin","mlp_ratio":1e10})", "config.json"), "MLP width over");
  EXPECT_MODEL_ERROR(
    parseModelConfig(R"({"model_type":"swin","embed_dim":16777216,)"
                     R"("mlp_ratio":0.5,"depths":[1,1,1,1,1,1],"num_heads":[1,1,1,1,1,1]})",
      "config.json"),
    "embed_dim 16777216");
  // the largest widths allowed still parse
  EXPECT_NO_THROW(
    parseModelConfig(R"({"model_type":"swin","embed_dim":96,"mlp_ratio":4.0})", "c.json"));
}

TEST(HostileInput, PreprocessedImagesAreBounded)
{
  using dualembed::engine::parsePreprocessorConfig;
  EXPECT_MODEL_ERROR(parsePreprocessorConfig(R"({"size": {"height": 1048576, "width": 1048576}})"),
    "more than 67108864");
  EXPECT_MODEL_ERROR(
    parsePreprocessorConfig(R"({"do_center_crop": true, "crop_size": [65536, 65536]})"),
    "crop_size");
  // shortest_edge on a very elongated image
  const auto config = parsePreprocessorConfig(R"({"size": {"shortest_edge": 8192}})");
  EXPECT_MODEL_ERROR(dualembed::engine::preprocessedSize(config, 1, 65536), "more than 67108864");
}

// ---- TorchScript input size from preprocessor_config.json -------------------

namespace
{

/// A TorchScript module (made with LibTorch here, no Python needed) whose
/// forward accepts only [B, 3, height, width] and returns the mean colour.
void writeSizedScript(const std::string& path, int height, int width)
{
  torch::jit::Module module("SizedMeanColour");
  module.define("def forward(self, x):\n"
                "    assert x.size(2) == " +
    std::to_string(height) + " and x.size(3) == " + std::to_string(width) + ", 'this model takes " +
    std::to_string(height) + "x" + std::to_string(width) +
    " inputs'\n"
    "    return x.mean(dim=[2, 3])\n");
  module.save(path);
}

} // namespace

TEST(TorchScript, InputSizeFromPreprocessorConfig)
{
  TempDir dir;
  const std::string script = dir.file("model.pt");
  writeSizedScript(script, 40, 24);
  // Without a configuration the probe uses 224 x 224, which this model refuses.
  EXPECT_MODEL_ERROR(EmbeddingModel(script, cpuOptions()), "224");

  writeText(dir.file("preprocessor_config.json"), R"({"size": {"height": 40, "width": 24}})");
  EmbeddingModel m(script, cpuOptions());
  EXPECT_EQ(m.inputHeight(), 40);
  EXPECT_EQ(m.inputWidth(), 24);
  EXPECT_EQ(m.embeddingDim(), 3);
  const at::Tensor x = at::rand({ 2, 3, 40, 24 });
  EXPECT_TRUE(at::allclose(m.run(x).embedding, x.mean({ 2, 3 })));

  // crop_size wins when the configuration crops (as Hugging Face processors do)
  writeSizedScript(script, 30, 30);
  writeText(dir.file("preprocessor_config.json"),
    R"({"size": {"shortest_edge": 36}, "do_center_crop": true, "crop_size": {"height": 30, "width": 30}})");
  EXPECT_EQ(EmbeddingModel(script, cpuOptions()).inputHeight(), 30);
  // shortest_edge alone: square inputs of that side
  writeSizedScript(script, 36, 36);
  writeText(dir.file("preprocessor_config.json"), R"({"size": {"shortest_edge": 36}})");
  EXPECT_EQ(EmbeddingModel(script, cpuOptions()).inputWidth(), 36);
  // a config.json beside it does not override what the images are resized to
  writeText(dir.file("config.json"), R"({"model_type": "vit", "image_size": 224})");
  EXPECT_EQ(EmbeddingModel(script, cpuOptions()).inputHeight(), 36);
}

// ---- devices and inputs -----------------------------------------------------

TEST(BadModels, CudaRequestedWithoutCuda)
{
  if (torch::cuda::is_available())
  {
    GTEST_SKIP() << "a CUDA device is available here";
  }
  EmbeddingOptions o;
  o.device = ComputeDevice::Cuda;
  EXPECT_MODEL_ERROR(EmbeddingModel(modelDir("vit-tiny"), o), "CUDA");
  EXPECT_MODEL_ERROR(EmbeddingModel(modelDir("vit-tiny") + "/traced.pt", o), "CUDA");
}

TEST(BadModels, WrongInputs)
{
  EmbeddingModel vit(modelDir("vit-tiny"), cpuOptions());
  EXPECT_MODEL_ERROR(vit.run(at::zeros({ 2, 1, 32, 32 })), "[2, 1, 32, 32]");
  EXPECT_MODEL_ERROR(vit.run(at::zeros({ 3, 32, 32 })), "[3, 32, 32]");
  EXPECT_MODEL_ERROR(vit.run(at::zeros({ 1, 3, 4, 4 })), "smaller than one patch");
  EXPECT_MODEL_ERROR(vit.run(at::Tensor()), "nothing");
  // another resolution: position embeddings are interpolated (as transformers'
  // interpolate_pos_encoding); the result has the right shape
  EXPECT_EQ(vit.run(at::zeros({ 1, 3, 48, 40 })).embedding.sizes(), at::IntArrayRef({ 1, 48 }));
  EmbeddingModel traced(modelDir("vit-tiny") + "/traced.pt", cpuOptions());
  EXPECT_MODEL_ERROR(traced.run(at::zeros({ 2, 3, 8, 9 })), "traced.pt");
}

TEST(Options, PoolingNames)
{
  using dualembed::engine::parsePooling;
  using dualembed::engine::poolingName;
  for (Pooling p : { Pooling::Auto, Pooling::FirstToken, Pooling::Mean, Pooling::Pooler })
  {
    EXPECT_EQ(parsePooling(poolingName(p)), p);
  }
  EXPECT_MODEL_ERROR(parsePooling("cls"), "first-token");
}
