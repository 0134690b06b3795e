// The model families that transformers' fixtures do not cover (ResNet,
// ConvNeXt, DeiT, DINOv2), as Hugging Face folders, against other
// implementations with the same weights (torchvision's models and blocks,
// torch's attention): make_model_references.py writes the folders, the pixel
// batches and the references' outputs (CTest runs it first, as this test's
// fixture, into DUALEMBED_MODEL_REFERENCE_DIR), and manifest.json lists
// which outputs each model has.
#include "EngineError.h"
#include "ImageEmbedding.h"
#include "ImagePreprocessor.h"
#include "Matmul.h" // cpuHasBFloat16
#include "NpyReader.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

using dualembed::engine::EmbeddingModel;
using dualembed::engine::EmbeddingOptions;
using dualembed::engine::ModelError;
using dualembed::engine::Pooling;
using dualembed::engine::Precision;

namespace
{

// The issue's bound for every family: embeddings, pooler outputs and logits.
constexpr double kTolerance = 1e-4;

std::string referenceDir()
{
  const char* dir = std::getenv("DUALEMBED_MODEL_REFERENCE_DIR");
  return dir ? dir : "";
}

/// manifest.json's entry of a model: its sizes, outputs, auto pooling and classes.
const nlohmann::json& manifest(const std::string& name)
{
  static const nlohmann::json all = [] {
    std::ifstream in(referenceDir() + "/manifest.json");
    return in ? nlohmann::json::parse(in) : nlohmann::json::object();
  }();
  static const nlohmann::json none = nlohmann::json::object();
  return all.contains("cases") && all["cases"].contains(name) ? all["cases"][name] : none;
}

bool hasOutput(const nlohmann::json& entry, const std::string& output)
{
  for (const auto& o : entry.value("outputs", nlohmann::json::array()))
  {
    if (o.get<std::string>() == output)
    {
      return true;
    }
  }
  return false;
}

std::string casePath(const std::string& name, const std::string& file = "")
{
  return referenceDir() + "/" + name + (file.empty() ? "" : "/" + file);
}

at::Tensor readTensor(const std::string& path)
{
  const auto npy = dualembed::testdata::readNpy(path);
  std::vector<float> v = npy.values<float>("<f4");
  std::vector<std::int64_t> shape(npy.shape.begin(), npy.shape.end());
  return at::from_blob(v.data(), shape, at::kFloat).clone();
}

EmbeddingOptions options(Pooling pooling, Precision precision = Precision::Float32)
{
  EmbeddingOptions o;
  o.pooling = pooling;
  o.precision = precision;
  o.device = dualembed::engine::ComputeDevice::Cpu;
  return o;
}

double maxDiff(const at::Tensor& actual, const at::Tensor& expected)
{
  EXPECT_TRUE(actual.defined());
  if (!actual.defined() || actual.sizes() != expected.sizes())
  {
    ADD_FAILURE() << "shape mismatch";
    return 1e30;
  }
  return (actual - expected).abs().max().item<double>();
}

class ModelFamilies : public ::testing::TestWithParam<const char*>
{
protected:
  void SetUp() override
  {
    if (referenceDir().empty() || manifest(GetParam()).empty())
    {
      FAIL() << "DUALEMBED_MODEL_REFERENCE_DIR is not set or its manifest.json lacks " << GetParam()
             << " (CTest runs make_model_references.py first)";
    }
  }
};

/// Every pooling the model has (first-token, mean, pooler, auto) and its logits,
/// at every size, within the issue's 1e-4 of the reference.
TEST_P(ModelFamilies, MatchTheReferenceAtEverySize)
{
  const std::string name = GetParam();
  const auto& entry = manifest(name);
  struct Choice
  {
    Pooling pooling;
    std::string output;
  };
  const std::string automatic = entry["auto"].get<std::string>();
  std::vector<Choice> choices = { { Pooling::Mean, "mean" },
    { Pooling::Auto, automatic == "first-token" ? "first" : automatic } };
  for (const Choice c : { Choice{ Pooling::FirstToken, "first" },
         Choice{ Pooling::Pooler, "pooler" }, Choice{ Pooling::Projection, "projection" } })
  {
    if (hasOutput(entry, c.output))
    {
      choices.push_back(c);
    }
  }
  for (const Choice& choice : choices)
  {
    EmbeddingModel model(casePath(name), options(choice.pooling));
    EXPECT_EQ(model.hasHead(), entry["classes"].get<int>() > 0) << name;
    for (const auto& size : entry["sizes"])
    {
      const std::string stem = size.get<std::string>() + "_";
      const at::Tensor pixels = readTensor(casePath(name, stem + "pixels.npy"));
      const auto out = model.run(pixels);
      const double d =
        maxDiff(out.embedding, readTensor(casePath(name, stem + choice.output + ".npy")));
      std::cout << "[model-family] " << name << " " << size.get<std::string>() << " "
                << dualembed::engine::poolingName(choice.pooling) << " " << d;
      EXPECT_LE(d, kTolerance) << name << " " << size << " " << choice.output;
      if (model.hasHead())
      {
        const at::Tensor logits = readTensor(casePath(name, stem + "logits.npy"));
        const double dl = maxDiff(out.logits, logits);
        std::cout << " logits " << dl;
        EXPECT_LE(dl, kTolerance) << name << " " << size;
        EXPECT_LE(maxDiff(out.probs, at::softmax(logits, 1)), kTolerance);
      }
      std::cout << std::endl;
    }
  }
}

TEST_P(ModelFamilies, FirstTokenOnlyWhereThereIsOne)
{
  const std::string name = GetParam();
  if (hasOutput(manifest(name), "first"))
  {
    EXPECT_NO_THROW(EmbeddingModel(casePath(name), options(Pooling::FirstToken)));
    return;
  }
  try
  {
    EmbeddingModel model(casePath(name), options(Pooling::FirstToken));
    FAIL() << "first-token pooling accepted for a model without a CLS token";
  }
  catch (const ModelError& e)
  {
    const std::string message = e.what();
    EXPECT_NE(message.find("needs a CLS token"), std::string::npos) << message;
    EXPECT_NE(message.find("choose auto (pooler), mean or pooler"), std::string::npos) << message;
  }
}

TEST_P(ModelFamilies, BFloat16CloseToFloat32)
{
  if (!dualembed::engine::cpuHasBFloat16())
  {
    GTEST_SKIP() << "this CPU has no AVX512-BF16 / AMX (oneDNN ISA '"
                 << dualembed::engine::cpuIsaName() << "'): bfloat16 is refused here";
  }
  const std::string name = GetParam();
  EmbeddingModel fp32(casePath(name), options(Pooling::Auto));
  EmbeddingModel bf16(casePath(name), options(Pooling::Auto, Precision::BFloat16));
  for (const auto& size : manifest(name)["sizes"])
  {
    const at::Tensor pixels = readTensor(casePath(name, size.get<std::string>() + "_pixels.npy"));
    const at::Tensor a = fp32.run(pixels).embedding, b = bf16.run(pixels).embedding;
    const double cosine = at::cosine_similarity(a, b, 1).min().item<double>();
    const double difference = (a - b).abs().max().item<double>();
    std::cout << "[bf16-cosine] " << name << " " << size.get<std::string>() << " min " << cosine
              << " max-abs-diff " << difference << std::endl;
    EXPECT_GE(cosine, 0.999) << name << " " << size;
    EXPECT_GT(difference, 1e-6) << "bfloat16 did not run (float32 again)";
  }
}

INSTANTIATE_TEST_SUITE_P(References, ModelFamilies,
  ::testing::Values("resnet-basic-classifier", "resnet-bottleneck", "convnext-classifier",
    "convnext", "deit-teacher", "deit", "dinov2-classifier", "dinov2-swiglu",
    "dinov2-registers-classifier", "beit-classifier", "beit-shared", "clip-classifier",
    "clip-projection", "siglip-classifier", "siglip-head"),
  [](const ::testing::TestParamInfo<const char*>& info) {
    std::string name = info.param;
    for (char& c : name)
    {
      c = c == '-' ? '_' : c;
    }
    return name;
  });

// ResNet's and ConvNeXt's checkpoints come with ConvNextImageProcessor: the
// same pixels as PIL's resize and transformers' crop and normalisation, both
// below 384 (resize to size / crop_pct, centre crop) and above (warp).
TEST(ConvNextProcessor, MatchesPil)
{
  ASSERT_FALSE(referenceDir().empty()) << "DUALEMBED_MODEL_REFERENCE_DIR is not set";
  const auto npy = dualembed::testdata::readNpy(casePath("convnext-processor", "image.npy"));
  const std::vector<std::uint8_t> image = npy.values<std::uint8_t>("|u1");
  const int height = static_cast<int>(npy.shape[0]), width = static_cast<int>(npy.shape[1]);
  for (const int size : { 48, 400 })
  {
    const auto config = dualembed::engine::loadPreprocessorConfig(
      casePath("convnext-processor", "preprocessor_config_" + std::to_string(size) + ".json"));
    const at::Tensor expected =
      readTensor(casePath("convnext-processor", "expected_" + std::to_string(size) + ".npy"));
    const auto out = dualembed::engine::preprocessImage(image.data(), height, width, 3, config);
    ASSERT_EQ(static_cast<std::int64_t>(out.size()), expected.numel()) << size;
    const at::Tensor actual =
      at::from_blob(const_cast<float*>(out.data()), expected.sizes(), at::kFloat);
    EXPECT_LE((actual - expected).abs().max().item<double>(), 1e-6) << size;
    const auto input = dualembed::engine::modelInputSize(config);
    EXPECT_EQ(input.height, size);
    EXPECT_EQ(input.width, size);
  }
}

// CLIPImageProcessor and BitImageProcessor (DINOv2) read a plain number as
// the shortest edge, keeping the aspect ratio; ViTImageProcessor as a square.
TEST(ClipProcessor, NumberSizeIsTheShortestEdge)
{
  for (const char* type : { "CLIPImageProcessor", "CLIPFeatureExtractor", "BitImageProcessor" })
  {
    const auto config =
      dualembed::engine::parsePreprocessorConfig(std::string(R"({"image_processor_type": ")") +
        type + R"(", "size": 224, "do_center_crop": true, "crop_size": 224})");
    EXPECT_EQ(config.shortestEdge, 224) << type;
    const auto size = dualembed::engine::preprocessedSize(config, 300, 400);
    EXPECT_EQ(size.height, 224);
    const auto resized = dualembed::engine::preprocessedSize(
      [&] {
        auto noCrop = config;
        noCrop.doCenterCrop = false;
        return noCrop;
      }(),
      300, 400);
    EXPECT_EQ(resized.height, 224) << type;
    EXPECT_EQ(resized.width, 298) << type; // int(224 * 400 / 300)
  }
  const auto vit = dualembed::engine::parsePreprocessorConfig(
    R"({"image_processor_type": "ViTImageProcessor", "size": 224})");
  EXPECT_EQ(vit.shortestEdge, 0);
}

TEST(ConvNextProcessor, SizeAndCropPctAreChecked)
{
  const auto old = dualembed::engine::parsePreprocessorConfig(
    R"({"feature_extractor_type": "ConvNextFeatureExtractor", "size": 224, "crop_pct": 0.875})");
  EXPECT_EQ(old.shortestEdge, 256);
  EXPECT_TRUE(old.doCenterCrop);
  EXPECT_EQ(old.cropHeight, 224);
  const auto defaults = dualembed::engine::parsePreprocessorConfig(
    R"({"image_processor_type": "ConvNextImageProcessor"})");
  EXPECT_EQ(defaults.shortestEdge, 0); // 384: warped, not cropped
  EXPECT_EQ(defaults.height, 384);
  EXPECT_FALSE(defaults.doCenterCrop);
  for (const char* bad :
    { R"({"image_processor_type": "ConvNextImageProcessor", "crop_pct": 0})",
      R"({"image_processor_type": "ConvNextImageProcessor", "crop_pct": "big"})",
      R"({"image_processor_type": "ConvNextImageProcessor", "size": {"height": 2, "width": 2}})" })
  {
    EXPECT_THROW(dualembed::engine::parsePreprocessorConfig(bad), ModelError) << bad;
  }
}

TEST(ModelFamilyConfigs, UnknownModelTypeListsTheFamilies)
{
  try
  {
    dualembed::engine::parseModelConfig(R"({"model_type": "efficientnet"})", "config.json");
    FAIL() << "efficientnet accepted";
  }
  catch (const ModelError& e)
  {
    const std::string message = e.what();
    EXPECT_NE(message.find("'vit', 'deit', 'dinov2', 'dinov2_with_registers', 'beit', 'clip', "
                           "'clip_vision_model', 'siglip', 'siglip_vision_model', 'swin', 'resnet' "
                           "and 'convnext'"),
      std::string::npos)
      << message;
    EXPECT_NE(message.find("TorchScript"), std::string::npos) << message;
  }
}

// What a results cache's provenance is compared with when Pooling is auto.
TEST(ModelFamilyConfigs, AutoPoolingPerFamily)
{
  using dualembed::engine::autoPoolingName;
  EXPECT_EQ(autoPoolingName("vit"), "first-token");
  EXPECT_EQ(autoPoolingName("dinov2"), "first-token");
  EXPECT_EQ(autoPoolingName("dinov2_with_registers"), "first-token");
  EXPECT_EQ(autoPoolingName("beit"), "pooler"); // its classifier reads the normed patch mean
  EXPECT_EQ(autoPoolingName("swin"), "mean");
  EXPECT_EQ(autoPoolingName("resnet"), "pooler");
  EXPECT_EQ(autoPoolingName("convnext"), "pooler");
  EXPECT_EQ(autoPoolingName("clip"), "projection"); // a full checkpoint's config nests its fields
  EXPECT_EQ(autoPoolingName("clip_vision_model"), "projection");
  EXPECT_EQ(autoPoolingName("siglip"), "pooler");
  EXPECT_EQ(autoPoolingName("torchscript"), "auto");
}

TEST(ModelFamilyConfigs, DefaultsAreTransformers)
{
  const auto resnet = dualembed::engine::parseModelConfig(R"({"model_type": "resnet"})", "c.json");
  EXPECT_EQ(resnet.finalHiddenSize(), 2048);
  EXPECT_TRUE(resnet.bottleneck);
  EXPECT_EQ(resnet.hiddenAct, dualembed::engine::Activation::Relu);
  const auto convnext =
    dualembed::engine::parseModelConfig(R"({"model_type": "convnext"})", "c.json");
  EXPECT_EQ(convnext.finalHiddenSize(), 768);
  EXPECT_EQ(convnext.layerNormEps, 1e-12);
  EXPECT_EQ(convnext.hiddenAct, dualembed::engine::Activation::Gelu);
  const auto dinov2 = dualembed::engine::parseModelConfig(R"({"model_type": "dinov2"})", "c.json");
  EXPECT_EQ(dinov2.patchSize, 14);
  EXPECT_EQ(dinov2.layerNormEps, 1e-6);
  EXPECT_EQ(dinov2.intermediateSize, 3072);
  const auto swiglu = dualembed::engine::parseModelConfig(
    R"({"model_type": "dinov2", "hidden_size": 1536, "num_attention_heads": 24, "use_swiglu_ffn": true})",
    "c.json");
  EXPECT_EQ(swiglu.intermediateSize, 4096); // DINOv2-g: (int(6144 * 2 / 3) + 7) // 8 * 8
  const auto registers =
    dualembed::engine::parseModelConfig(R"({"model_type": "dinov2_with_registers"})", "c.json");
  EXPECT_EQ(registers.numRegisterTokens, 4);
  EXPECT_EQ(registers.prefixTokens(), 5);
  EXPECT_EQ(registers.positionedPrefixTokens(), 1);
  EXPECT_EQ(dualembed::engine::parseModelConfig(
              R"({"model_type": "dinov2_with_registers", "num_register_tokens": 0})", "c.json")
              .numRegisterTokens,
    0);
  const auto beit = dualembed::engine::parseModelConfig(R"({"model_type": "beit"})", "c.json");
  EXPECT_FALSE(beit.absolutePositions); // BeitConfig: no positions, no relative bias either
  EXPECT_FALSE(beit.relativePositionBias);
  EXPECT_FALSE(beit.sharedRelativePositionBias);
  EXPECT_TRUE(beit.layerScale); // layer_scale_init_value 0.1
  EXPECT_TRUE(beit.meanPooling);
  EXPECT_EQ(beit.layerNormEps, 1e-12);
  EXPECT_EQ(beit.patchSize, 16);
  const auto deit = dualembed::engine::parseModelConfig(R"({"model_type": "deit"})", "c.json");
  EXPECT_EQ(deit.prefixTokens(), 2);
  EXPECT_EQ(deit.patchSize, 16);
  EXPECT_THROW(dualembed::engine::parseModelConfig(
                 R"({"model_type": "resnet", "hidden_sizes": [64, 128], "depths": [1]})", "c.json"),
    ModelError);
  EXPECT_THROW(dualembed::engine::parseModelConfig(
                 R"({"model_type": "resnet", "layer_type": "preactivation"})", "c.json"),
    ModelError);
}

} // namespace
