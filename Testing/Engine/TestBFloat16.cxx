// bfloat16 on the CPU (AVX512-BF16 / AMX through oneDNN): refused with a
// clear message where the CPU lacks it, else close to float32 — cosine
// similarity >= 0.999 per sample between the bf16 and fp32 embeddings on the
// transformers fixtures and on full-size random ViT-B/16 and Swin-B models.
// The tests that need the CPU feature are skipped, with the reason, on CPUs
// without it; CTest also runs the refusal under DNNL_MAX_CPU_ISA=AVX512_CORE.
#include "EngineError.h"
#include "ImageEmbedding.h"
#include "Matmul.h"
#include "NpyReader.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using dualembed::engine::ComputeDevice;
using dualembed::engine::EmbeddingModel;
using dualembed::engine::EmbeddingOptions;
using dualembed::engine::EmbeddingOutput;
using dualembed::engine::ModelError;
using dualembed::engine::Pooling;
using dualembed::engine::Precision;
using Json = nlohmann::json;

namespace
{

constexpr double kMinCosine = 0.999;

std::string modelDir(const std::string& model)
{
  return std::string(DUALEMBED_TESTING_DATA_DIR) + "/hf-reference/" + model;
}

at::Tensor pixelValues(const std::string& model)
{
  const auto npy = dualembed::testdata::readNpy(modelDir(model) + "/pixel_values.npy");
  std::vector<float> v = npy.values<float>("<f4");
  std::vector<std::int64_t> shape(npy.shape.begin(), npy.shape.end());
  return at::from_blob(v.data(), shape, at::kFloat).clone();
}

EmbeddingOptions options(Precision precision, Pooling pooling = Pooling::Auto)
{
  EmbeddingOptions o;
  o.device = ComputeDevice::Cpu;
  o.precision = precision;
  o.pooling = pooling;
  return o;
}

/// Smallest per-row cosine similarity of a and b [B, D].
double minCosine(const at::Tensor& a, const at::Tensor& b)
{
  return at::cosine_similarity(a.to(at::kDouble), b.to(at::kDouble), 1).min().item<double>();
}

#define SKIP_WITHOUT_BF16()                                                                        \
  if (!dualembed::engine::cpuHasBFloat16())                                                        \
  {                                                                                                \
    GTEST_SKIP() << "this CPU has no AVX512-BF16 / AMX (oneDNN ISA '"                              \
                 << dualembed::engine::cpuIsaName() << "'): bfloat16 is refused here";             \
  }

/// A Hugging Face folder with N(0, 0.02) weights (layer norms 1 / 0), the
/// tensors written as one float32 safetensors file.
class RandomModel
{
public:
  RandomModel(const std::string& name, const Json& config,
    const std::vector<std::pair<std::string, std::vector<std::int64_t>>>& tensors)
    : Dir(fs::temp_directory_path() / ("dualembed-bf16-" + name + "-" + std::to_string(::getpid())))
  {
    fs::create_directories(Dir);
    std::ofstream(Dir / "config.json") << config.dump();
    at::manual_seed(7);
    Json header = Json::object();
    std::vector<at::Tensor> data;
    std::int64_t offset = 0;
    for (const auto& t : tensors)
    {
      const std::string& key = t.first;
      const bool norm = key.find("norm") != std::string::npos;
      at::Tensor v = norm
        ? (key.find("weight") != std::string::npos ? at::ones(t.second) : at::zeros(t.second))
        : at::randn(t.second) * 0.02;
      const std::int64_t bytes = v.numel() * 4;
      header[key] = { { "dtype", "F32" }, { "shape", t.second },
        { "data_offsets", { offset, offset + bytes } } };
      offset += bytes;
      data.push_back(v.contiguous());
    }
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::ofstream out(Dir / "model.safetensors", std::ios::binary);
    const std::uint64_t n = text.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out << text;
    for (const at::Tensor& v :
      data) // nlohmann's object keeps keys sorted; offsets follow `tensors`
    {
      out.write(static_cast<const char*>(v.data_ptr()), v.numel() * 4);
    }
  }
  ~RandomModel() { fs::remove_all(Dir); }
  std::string path() const { return Dir.string(); }

private:
  fs::path Dir;
};

RandomModel randomVitBase()
{
  const std::int64_t d = 768, inter = 3072;
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> t = {
    { "embeddings.cls_token", { 1, 1, d } }, { "embeddings.position_embeddings", { 1, 197, d } },
    { "embeddings.patch_embeddings.projection.weight", { d, 3, 16, 16 } },
    { "embeddings.patch_embeddings.projection.bias", { d } }, { "layernorm.weight", { d } },
    { "layernorm.bias", { d } }
  };
  for (int i = 0; i < 12; ++i)
  {
    const std::string l = "encoder.layer." + std::to_string(i) + ".";
    for (const char* n : { "query", "key", "value" })
    {
      t.push_back({ l + "attention.attention." + n + ".weight", { d, d } });
      t.push_back({ l + "attention.attention." + n + ".bias", { d } });
    }
    t.insert(t.end(),
      { { l + "attention.output.dense.weight", { d, d } },
        { l + "attention.output.dense.bias", { d } },
        { l + "intermediate.dense.weight", { inter, d } },
        { l + "intermediate.dense.bias", { inter } }, { l + "output.dense.weight", { d, inter } },
        { l + "output.dense.bias", { d } }, { l + "layernorm_before.weight", { d } },
        { l + "layernorm_before.bias", { d } }, { l + "layernorm_after.weight", { d } },
        { l + "layernorm_after.bias", { d } } });
  }
  const Json config = { { "model_type", "vit" }, { "hidden_size", d }, { "num_hidden_layers", 12 },
    { "num_attention_heads", 12 }, { "intermediate_size", inter }, { "hidden_act", "gelu" },
    { "layer_norm_eps", 1e-12 }, { "image_size", 224 }, { "patch_size", 16 }, { "num_channels", 3 },
    { "qkv_bias", true } };
  return RandomModel("vit-b16", config, t);
}

RandomModel randomSwinBase()
{
  const std::int64_t e = 128, win = 7;
  const std::vector<int> depths = { 2, 2, 18, 2 }, heads = { 4, 8, 16, 32 };
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> t = {
    { "embeddings.patch_embeddings.projection.weight", { e, 3, 4, 4 } },
    { "embeddings.patch_embeddings.projection.bias", { e } }, { "embeddings.norm.weight", { e } },
    { "embeddings.norm.bias", { e } }, { "layernorm.weight", { 8 * e } },
    { "layernorm.bias", { 8 * e } }
  };
  for (std::size_t s = 0; s < depths.size(); ++s)
  {
    const std::int64_t d = e << s;
    for (int i = 0; i < depths[s]; ++i)
    {
      const std::string l =
        "encoder.layers." + std::to_string(s) + ".blocks." + std::to_string(i) + ".";
      for (const char* n : { "query", "key", "value" })
      {
        t.push_back({ l + "attention.self." + n + ".weight", { d, d } });
        t.push_back({ l + "attention.self." + n + ".bias", { d } });
      }
      t.insert(t.end(),
        { { l + "attention.self.relative_position_bias_table",
            { (2 * win - 1) * (2 * win - 1), heads[s] } },
          { l + "attention.output.dense.weight", { d, d } },
          { l + "attention.output.dense.bias", { d } },
          { l + "intermediate.dense.weight", { 4 * d, d } },
          { l + "intermediate.dense.bias", { 4 * d } }, { l + "output.dense.weight", { d, 4 * d } },
          { l + "output.dense.bias", { d } }, { l + "layernorm_before.weight", { d } },
          { l + "layernorm_before.bias", { d } }, { l + "layernorm_after.weight", { d } },
          { l + "layernorm_after.bias", { d } } });
    }
    if (s + 1 < depths.size())
    {
      const std::string m = "encoder.layers." + std::to_string(s) + ".downsample.";
      t.insert(t.end(),
        { { m + "norm.weight", { 4 * d } }, { m + "norm.bias", { 4 * d } },
          { m + "reduction.weight", { 2 * d, 4 * d } } });
    }
  }
  const Json config = { { "model_type", "swin" }, { "embed_dim", e }, { "depths", depths },
    { "num_heads", heads }, { "window_size", win }, { "mlp_ratio", 4.0 }, { "hidden_act", "gelu" },
    { "layer_norm_eps", 1e-5 }, { "image_size", 224 }, { "patch_size", 4 }, { "num_channels", 3 },
    { "qkv_bias", true }, { "hidden_size", 8 * e } };
  return RandomModel("swin-b", config, t);
}

void expectCloseToFloat32(const std::string& path, const at::Tensor& x, const std::string& what)
{
  for (const Pooling pooling : { Pooling::FirstToken, Pooling::Mean })
  {
    EmbeddingModel fp32(path, options(Precision::Float32, pooling));
    EmbeddingModel bf16(path, options(Precision::BFloat16, pooling));
    EXPECT_EQ(bf16.precisionName(), "bfloat16");
    const EmbeddingOutput a = fp32.run(x);
    const EmbeddingOutput b = bf16.run(x);
    ASSERT_EQ(b.embedding.scalar_type(), at::kFloat);
    const double c = minCosine(a.embedding, b.embedding);
    std::cout << "[bf16-cosine] " << what << " " << dualembed::engine::poolingName(pooling)
              << " min " << c << " max-abs-diff "
              << (a.embedding - b.embedding).abs().max().item<double>() << std::endl;
    EXPECT_GE(c, kMinCosine) << what;
    if (a.logits.defined())
    {
      // Heads: probabilities within 0.01 (the fixtures' classifiers have 3
      // near-zero logits, where a cosine says little).
      ASSERT_TRUE(b.logits.defined());
      const double dp = (a.probs - b.probs).abs().max().item<double>();
      std::cout << "[bf16-cosine] " << what << " probs max-abs-diff " << dp << std::endl;
      EXPECT_LE(dp, 0.01) << what;
      EXPECT_LE((b.probs.sum(1) - 1).abs().max().item<double>(), 1e-5);
    }
  }
}

} // namespace

TEST(BFloat16, RefusedWithoutCpuSupport)
{
  EmbeddingOptions o = options(Precision::BFloat16);
  if (dualembed::engine::cpuHasBFloat16())
  {
    EmbeddingModel m(modelDir("vit-tiny"), o);
    EXPECT_EQ(m.precisionName(), "bfloat16");
    std::cout << "bfloat16 available: oneDNN ISA " << dualembed::engine::cpuIsaName() << std::endl;
    return;
  }
  try
  {
    EmbeddingModel m(modelDir("vit-tiny"), o);
    ADD_FAILURE() << "bfloat16 accepted on a CPU without AVX512-BF16 / AMX";
  }
  catch (const ModelError& e)
  {
    EXPECT_NE(std::string(e.what()).find("AVX512-BF16 or AMX"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("float32"), std::string::npos) << e.what();
  }
  // float32 still runs
  EmbeddingModel m(modelDir("vit-tiny"), options(Precision::Float32));
  EXPECT_EQ(m.run(pixelValues("vit-tiny")).embedding.size(0), pixelValues("vit-tiny").size(0));
}

TEST(BFloat16, FixturesCloseToFloat32)
{
  SKIP_WITHOUT_BF16();
  for (const char* model : { "vit-tiny", "vit-tiny-classifier", "swin-tiny", "swin-tiny-classifier",
         "vit-p16-224", "swin-p4-w7-224" })
  {
    expectCloseToFloat32(modelDir(model), pixelValues(model), model);
  }
}

TEST(BFloat16, TracedFixturesUnderAutocast)
{
  // TorchScript traces carry float32 constants; the script runs under CPU
  // autocast with float32 weights, as torch.autocast("cpu", torch.bfloat16).
  SKIP_WITHOUT_BF16();
  for (const char* model :
    { "vit-tiny-classifier", "swin-tiny-classifier", "vit-p16-224", "swin-p4-w7-224" })
  {
    const std::string path = modelDir(model) + "/traced.pt";
    expectCloseToFloat32(path, pixelValues(model), std::string(model) + " traced.pt");
    // bf16 really ran (not float32 again), and autocast is off afterwards
    EmbeddingModel fp32(path, options(Precision::Float32));
    EmbeddingModel bf16(path, options(Precision::BFloat16));
    const at::Tensor x = pixelValues(model);
    EXPECT_GT((fp32.run(x).embedding - bf16.run(x).embedding).abs().max().item<double>(), 1e-4)
      << model;
    EXPECT_FALSE(at::autocast::is_cpu_enabled());
    EXPECT_EQ(
      at::autocast::get_autocast_cpu_dtype(), at::kBFloat16); // PyTorch's default, left as found
  }
}

TEST(BFloat16, FullSizeRandomVitBase)
{
  SKIP_WITHOUT_BF16();
  const RandomModel m = randomVitBase();
  at::manual_seed(1);
  expectCloseToFloat32(m.path(), at::randn({ 4, 3, 224, 224 }), "random ViT-B/16");
}

TEST(BFloat16, FullSizeRandomSwinBase)
{
  SKIP_WITHOUT_BF16();
  const RandomModel m = randomSwinBase();
  at::manual_seed(2);
  expectCloseToFloat32(m.path(), at::randn({ 4, 3, 224, 224 }), "random Swin-B");
}

// The oneDNN attention (float32, chunked: one image's ViT-B scores exceed
// the per-thread budget) against ATen in double.
TEST(Matmul, ChunkedAttentionMatchesAten)
{
  at::manual_seed(3);
  const std::int64_t b = 5, h = 12, n = 197, d = 64;
  const at::Tensor q = at::randn({ b, h, n, d }), k = at::randn({ b, h, n, d }),
                   v = at::randn({ b, h, n, d });
  const at::Tensor bias = at::randn({ b, h, n, n });
  at::Tensor ctx =
    at::empty({ b, n, h, d }).permute({ 0, 2, 1, 3 }); // heads of a [B, N, H*d] tensor
  int calls = 0;
  dualembed::engine::attention(
    q, k.transpose(2, 3), v, 0.125,
    [&](at::Tensor& scores, std::int64_t first) {
      ++calls;
      scores.add_(bias.narrow(0, first, scores.size(0)));
    },
    ctx);
  EXPECT_GT(calls, 1); // chunked
  const at::Tensor s =
    at::matmul(q.to(at::kDouble), k.to(at::kDouble).transpose(2, 3)) * 0.125 + bias.to(at::kDouble);
  const at::Tensor expected = at::matmul(at::softmax(s, -1), v.to(at::kDouble));
  EXPECT_LE((ctx.to(at::kDouble) - expected).abs().max().item<double>(), 1e-5);
}
