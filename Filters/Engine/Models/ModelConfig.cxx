#include "ModelConfig.h"

#include "EngineError.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

namespace dualembed
{
namespace engine
{
namespace
{

using Json = nlohmann::json;

[[noreturn]] void configError(const std::string& path, const std::string& what)
{
  throw ModelError(path + ": " + what);
}

/// An integer in [minimum, 2^24]; `fallback` when the key is absent or null.
int getInt(const Json& j, const char* key, int fallback, const std::string& path, int minimum = 1)
{
  if (!j.contains(key) || j[key].is_null())
  {
    return fallback;
  }
  const Json& v = j[key];
  if (!v.is_number_integer())
  {
    configError(path, std::string("'") + key + "' must be an integer, found " + v.dump());
  }
  const auto i = v.get<std::int64_t>();
  if (i < minimum || i > (1 << 24))
  {
    configError(path,
      std::string("'") + key + "' must be " +
        (minimum == 1 ? "a positive integer" : "an integer >= " + std::to_string(minimum)) +
        ", found " + v.dump());
  }
  return static_cast<int>(i);
}

/// Any number; `fallback` when the key is absent or null.
double getNumber(const Json& j, const char* key, double fallback, const std::string& path)
{
  if (!j.contains(key) || j[key].is_null())
  {
    return fallback;
  }
  const Json& v = j[key];
  if (!v.is_number())
  {
    configError(path, std::string("'") + key + "' must be a number, found " + v.dump());
  }
  return v.get<double>();
}

/// A positive, finite number.
double getDouble(const Json& j, const char* key, double fallback, const std::string& path)
{
  const double d = getNumber(j, key, fallback, path);
  if (!(d > 0.0) || !std::isfinite(d))
  {
    configError(
      path, std::string("'") + key + "' must be a positive number, found " + j[key].dump());
  }
  return d;
}

bool getBool(const Json& j, const char* key, bool fallback, const std::string& path)
{
  if (!j.contains(key) || j[key].is_null())
  {
    return fallback;
  }
  if (!j[key].is_boolean())
  {
    configError(path, std::string("'") + key + "' must be true or false, found " + j[key].dump());
  }
  return j[key].get<bool>();
}

std::vector<int> getIntList(
  const Json& j, const char* key, std::vector<int> fallback, const std::string& path)
{
  if (!j.contains(key) || j[key].is_null())
  {
    return fallback;
  }
  const Json& v = j[key];
  if (!v.is_array() || v.empty())
  {
    configError(
      path, std::string("'") + key + "' must be a non-empty list of integers, found " + v.dump());
  }
  std::vector<int> out;
  for (const auto& x : v)
  {
    if (!x.is_number_integer() || x.get<std::int64_t>() <= 0 || x.get<std::int64_t>() > (1 << 24))
    {
      configError(
        path, std::string("'") + key + "' must hold positive integers, found " + v.dump());
    }
    out.push_back(x.get<int>());
  }
  return out;
}

/// image_size / patch_size: an integer or a pair.
std::pair<int, int> getSize(const Json& j, const char* key, int fallback, const std::string& path)
{
  if (!j.contains(key) || j[key].is_null())
  {
    return { fallback, fallback };
  }
  const Json& v = j[key];
  if (v.is_array())
  {
    std::vector<int> l = getIntList(j, key, {}, path);
    if (l.size() != 2)
    {
      configError(
        path, std::string("'") + key + "' must be an integer or a pair, found " + v.dump());
    }
    return { l[0], l[1] };
  }
  const int i = getInt(j, key, fallback, path);
  return { i, i };
}

Activation getActivation(const Json& j, const std::string& path)
{
  if (!j.contains("hidden_act") || j["hidden_act"].is_null())
  {
    return Activation::Gelu;
  }
  const Json& v = j["hidden_act"];
  const std::string name = v.is_string() ? v.get<std::string>() : v.dump();
  if (name == "gelu")
  {
    return Activation::Gelu;
  }
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast")
  {
    return Activation::GeluTanh;
  }
  if (name == "quick_gelu")
  {
    return Activation::QuickGelu;
  }
  if (name == "relu")
  {
    return Activation::Relu;
  }
  if (name == "silu" || name == "swish")
  {
    return Activation::Silu;
  }
  configError(path,
    "hidden_act '" + name +
      "' is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, quick_gelu, "
      "relu, silu)");
}

std::vector<std::string> getId2Label(const Json& j, const std::string& path)
{
  std::vector<std::string> labels;
  if (!j.contains("id2label") || j["id2label"].is_null())
  {
    return labels;
  }
  const Json& v = j["id2label"];
  if (!v.is_object())
  {
    configError(path, "'id2label' must be an object mapping ids to names");
  }
  std::vector<std::pair<long, std::string>> pairs;
  for (auto it = v.begin(); it != v.end(); ++it)
  {
    std::size_t used = 0;
    long id = -1;
    try
    {
      id = std::stol(it.key(), &used);
    }
    catch (const std::exception&)
    {
      used = 0;
    }
    if (used != it.key().size() || id < 0)
    {
      configError(path, "'id2label' key '" + it.key() + "' is not a non-negative integer");
    }
    if (!it.value().is_string())
    {
      configError(path, "'id2label' entry " + it.key() + " is not a string");
    }
    pairs.emplace_back(id, it.value().get<std::string>());
  }
  std::sort(pairs.begin(), pairs.end());
  for (std::size_t i = 0; i < pairs.size(); ++i)
  {
    if (pairs[i].first != static_cast<long>(i))
    {
      configError(path,
        "'id2label' ids must be 0.." + std::to_string(pairs.size() - 1) +
          " without gaps or duplicates");
    }
    labels.push_back(pairs[i].second);
  }
  return labels;
}

} // namespace

std::string supportedModelTypes()
{
  return "'vit', 'deit', 'dinov2', 'dinov2_with_registers', 'beit', 'clip', 'clip_vision_model', "
         "'siglip', 'siglip_vision_model', 'swin', 'resnet' and 'convnext'";
}

bool modelTypeFromName(const std::string& name, ModelType& type)
{
  static const std::map<std::string, ModelType> types = { { "vit", ModelType::Vit },
    { "deit", ModelType::Deit }, { "dinov2", ModelType::Dinov2 },
    { "dinov2_with_registers", ModelType::Dinov2 }, { "beit", ModelType::Beit },
    { "clip", ModelType::Clip }, { "clip_vision_model", ModelType::Clip },
    { "siglip", ModelType::Siglip }, { "siglip_vision_model", ModelType::Siglip },
    { "swin", ModelType::Swin }, { "resnet", ModelType::ResNet },
    { "convnext", ModelType::ConvNext } };
  const auto found = types.find(name);
  if (found == types.end())
  {
    return false;
  }
  type = found->second;
  return true;
}

bool ModelConfig::isVitEncoder() const
{
  return modelType == ModelType::Vit || modelType == ModelType::Deit ||
    modelType == ModelType::Dinov2 || modelType == ModelType::Beit ||
    modelType == ModelType::Clip || modelType == ModelType::Siglip;
}

int ModelConfig::positionedPrefixTokens() const
{
  return modelType == ModelType::Deit ? 2 : (modelType == ModelType::Siglip ? 0 : 1);
}

int ModelConfig::prefixTokens() const
{
  return positionedPrefixTokens() + numRegisterTokens;
}

int ModelConfig::finalHiddenSize() const
{
  switch (modelType)
  {
    case ModelType::Vit:
    case ModelType::Deit:
    case ModelType::Dinov2:
    case ModelType::Beit:
    case ModelType::Clip:
    case ModelType::Siglip:
      return hiddenSize;
    case ModelType::Swin:
      return embedDim * (1 << (depths.size() - 1));
    case ModelType::ResNet:
    case ModelType::ConvNext:
      return hiddenSizes.back();
  }
  return hiddenSize;
}

namespace
{
/// ResNetConfig's and ConvNextConfig's stages: hidden_sizes and depths, one each per stage.
void parseStages(const Json& j, ModelConfig& c, std::vector<int> sizes, std::vector<int> depths)
{
  const std::string& path = c.sourcePath;
  c.hiddenSizes = getIntList(j, "hidden_sizes", std::move(sizes), path);
  c.depths = getIntList(j, "depths", std::move(depths), path);
  if (c.hiddenSizes.size() != c.depths.size())
  {
    configError(path, "'hidden_sizes' and 'depths' differ in length");
  }
  if (c.depths.size() > 8)
  {
    configError(path, "more than 8 stages");
  }
}

void parseResNet(const Json& j, ModelConfig& c)
{
  const std::string& path = c.sourcePath;
  c.embeddingSize = getInt(j, "embedding_size", 64, path);
  parseStages(j, c, { 256, 512, 1024, 2048 }, { 3, 4, 6, 3 });
  const std::string layerType = j.contains("layer_type") && j["layer_type"].is_string()
    ? j["layer_type"].get<std::string>()
    : "bottleneck";
  if (layerType != "bottleneck" && layerType != "basic")
  {
    configError(path, "layer_type '" + layerType + "' is not 'bottleneck' or 'basic'");
  }
  c.bottleneck = layerType == "bottleneck";
  c.downsampleInFirstStage = getBool(j, "downsample_in_first_stage", false, path);
  c.downsampleInBottleneck = getBool(j, "downsample_in_bottleneck", false, path);
  for (int width : c.hiddenSizes)
  {
    if (c.bottleneck && width % 4 != 0)
    {
      configError(
        path, "hidden_sizes of a bottleneck ResNet must be multiples of 4 (the reduction)");
    }
  }
}

/// BeitConfig's position and pooling switches (its defaults: relative bias
/// off, layer scale 0.1, mean pooling on).
void parseBeit(const Json& j, ModelConfig& c)
{
  const std::string& path = c.sourcePath;
  c.absolutePositions = getBool(j, "use_absolute_position_embeddings", false, path);
  c.relativePositionBias = getBool(j, "use_relative_position_bias", false, path);
  c.sharedRelativePositionBias = getBool(j, "use_shared_relative_position_bias", false, path);
  // 0 (or less) is valid here: no lambda_1 and lambda_2 at all.
  c.layerScale = getNumber(j, "layer_scale_init_value", 0.1, path) > 0.0;
  c.meanPooling = getBool(j, "use_mean_pooling", true, path);
}

/// ViTConfig, DeiTConfig, Dinov2Config, BeitConfig and CLIPVisionConfig: one
/// encoder, the families' defaults (DINOv2: patch 14, eps 1e-6, the MLP width
/// from mlp_ratio, 4 registers with registers; CLIP: patch 32, eps 1e-5,
/// quick GELU).
void parseVitEncoder(const Json& j, ModelConfig& c)
{
  const std::string& path = c.sourcePath;
  const bool dinov2 = c.modelType == ModelType::Dinov2;
  const bool clip = c.modelType == ModelType::Clip;
  const bool siglip = c.modelType == ModelType::Siglip;
  const auto patch = getSize(j, "patch_size", dinov2 ? 14 : (clip ? 32 : 16), path);
  if (patch.first != patch.second)
  {
    configError(path, "non-square patch_size is not supported");
  }
  c.patchSize = patch.first;
  c.layerNormEps =
    getDouble(j, "layer_norm_eps", (dinov2 || siglip) ? 1e-6 : (clip ? 1e-5 : 1e-12), path);
  c.hiddenSize = getInt(j, "hidden_size", 768, path);
  c.numHiddenLayers = getInt(j, "num_hidden_layers", 12, path);
  c.numAttentionHeads = getInt(j, "num_attention_heads", 12, path);
  if (dinov2)
  {
    const double hidden = c.hiddenSize * getDouble(j, "mlp_ratio", 4.0, path);
    if (hidden < 1.0 || hidden > double(1 << 24))
    {
      configError(path, "mlp_ratio gives an MLP width out of range");
    }
    c.intermediateSize = static_cast<int>(hidden);
    c.swiglu = getBool(j, "use_swiglu_ffn", false, path);
    if (c.swiglu) // transformers' Dinov2SwiGLUFFN: 2/3 of the width, rounded up to 8
    {
      c.intermediateSize = (static_cast<int>(c.intermediateSize * 2.0 / 3.0) + 7) / 8 * 8;
    }
    if (c.modelTypeName == "dinov2_with_registers")
    {
      c.numRegisterTokens = getInt(j, "num_register_tokens", 4, path, 0);
      if (c.numRegisterTokens > 1024)
      {
        configError(path, "'num_register_tokens' over 1024");
      }
    }
  }
  else
  {
    c.intermediateSize = getInt(j, "intermediate_size", 3072, path);
  }
  if (c.hiddenSize % c.numAttentionHeads != 0)
  {
    configError(path,
      "hidden_size " + std::to_string(c.hiddenSize) + " is not a multiple of num_attention_heads " +
        std::to_string(c.numAttentionHeads));
  }
  if (c.modelType == ModelType::Beit)
  {
    parseBeit(j, c);
  }
}

void parseConvNext(const Json& j, ModelConfig& c)
{
  const std::string& path = c.sourcePath;
  const auto patch = getSize(j, "patch_size", 4, path);
  if (patch.first != patch.second)
  {
    configError(path, "non-square patch_size is not supported");
  }
  c.patchSize = patch.first;
  c.layerNormEps = getDouble(j, "layer_norm_eps", 1e-12, path);
  parseStages(j, c, { 96, 192, 384, 768 }, { 3, 3, 9, 3 });
  if (getInt(j, "num_stages", static_cast<int>(c.depths.size()), path) !=
    static_cast<int>(c.depths.size()))
  {
    configError(path, "'num_stages' differs from the length of 'depths'");
  }
}
} // namespace

namespace
{
/// The fields of one family (a full CLIP checkpoint: of its vision_config).
void parseFamily(const Json& j, ModelConfig& c);
}

ModelConfig parseModelConfig(const std::string& text, const std::string& path)
{
  Json j;
  try
  {
    j = Json::parse(text);
  }
  catch (const Json::exception& e)
  {
    configError(path, std::string("malformed JSON: ") + e.what());
  }
  if (!j.is_object())
  {
    configError(path, "is not a JSON object");
  }
  if (!j.contains("model_type") || !j["model_type"].is_string())
  {
    configError(path, "has no 'model_type'; supported model types are " + supportedModelTypes());
  }
  ModelConfig c;
  c.sourcePath = path;
  c.modelTypeName = j["model_type"].get<std::string>();
  if (!modelTypeFromName(c.modelTypeName, c.modelType))
  {
    configError(path,
      "model_type '" + c.modelTypeName + "' is not supported; supported model types are " +
        supportedModelTypes() + " (or use a TorchScript file)");
  }

  c.id2label = getId2Label(j, path);
  // A full CLIP or SigLIP checkpoint's config keeps the vision tower's fields in vision_config.
  const bool nested = c.modelTypeName == "clip" || c.modelTypeName == "siglip";
  if (nested && !(j.contains("vision_config") && j["vision_config"].is_object()))
  {
    configError(path, "a '" + c.modelTypeName + "' configuration needs its 'vision_config' object");
  }
  const Json& fields = nested ? j["vision_config"] : j;
  parseFamily(fields, c);
  return c;
}

namespace
{
void parseFamily(const Json& j, ModelConfig& c)
{
  const std::string& path = c.sourcePath;
  c.numChannels = getInt(j, "num_channels", 3, path);
  c.qkvBias = getBool(j, "qkv_bias", true, path);
  if (c.modelType == ModelType::ResNet && !j.contains("hidden_act"))
  {
    c.hiddenAct = Activation::Relu; // ResNetConfig's default
  }
  else if (c.modelType == ModelType::Clip && !j.contains("hidden_act"))
  {
    c.hiddenAct = Activation::QuickGelu; // CLIPVisionConfig's default
  }
  else if (c.modelType == ModelType::Siglip && !j.contains("hidden_act"))
  {
    c.hiddenAct = Activation::GeluTanh; // SiglipVisionConfig's gelu_pytorch_tanh
  }
  else
  {
    c.hiddenAct = getActivation(j, path);
  }
  const auto image = getSize(j, "image_size", 224, path);
  c.imageHeight = image.first;
  c.imageWidth = image.second;

  if (c.modelType == ModelType::ResNet)
  {
    parseResNet(j, c);
  }
  else if (c.modelType == ModelType::ConvNext)
  {
    parseConvNext(j, c);
  }
  else if (c.isVitEncoder())
  {
    parseVitEncoder(j, c);
  }
  else
  {
    const auto patch = getSize(j, "patch_size", 4, path);
    if (patch.first != patch.second)
    {
      configError(path, "non-square patch_size is not supported");
    }
    c.patchSize = patch.first;
    c.layerNormEps = getDouble(j, "layer_norm_eps", 1e-5, path);
    c.embedDim = getInt(j, "embed_dim", 96, path);
    c.depths = getIntList(j, "depths", { 2, 2, 6, 2 }, path);
    c.numHeads = getIntList(j, "num_heads", { 3, 6, 12, 24 }, path);
    c.windowSize = getInt(j, "window_size", 7, path);
    c.mlpRatio = getDouble(j, "mlp_ratio", 4.0, path);
    c.useAbsoluteEmbeddings = getBool(j, "use_absolute_embeddings", false, path);
    if (c.depths.size() != c.numHeads.size())
    {
      configError(path, "'depths' and 'num_heads' differ in length");
    }
    if (c.depths.size() > 8)
    {
      configError(path, "more than 8 Swin stages");
    }
    for (std::size_t s = 0; s < c.depths.size(); ++s)
    {
      // Stage widths double; computed in 64 bits and bounded like every other
      // size so that the int arithmetic of the forward pass cannot overflow.
      const std::int64_t dim = std::int64_t(c.embedDim) << s;
      if (dim > (1 << 24))
      {
        configError(path,
          "embed_dim " + std::to_string(c.embedDim) + " gives stage " + std::to_string(s) +
            " the width " + std::to_string(dim) + ", more than " + std::to_string(1 << 24));
      }
      if (dim % c.numHeads[s] != 0)
      {
        configError(path,
          "stage " + std::to_string(s) + " width " + std::to_string(dim) +
            " is not a multiple of its num_heads " + std::to_string(c.numHeads[s]));
      }
      // Compared as a double before any conversion to an integer.
      const double hidden = c.mlpRatio * static_cast<double>(dim);
      if (hidden < 1.0)
      {
        configError(path, "mlp_ratio is too small");
      }
      if (hidden > double(1 << 24))
      {
        configError(path,
          "mlp_ratio " + std::to_string(c.mlpRatio) + " gives stage " + std::to_string(s) +
            " an MLP width over " + std::to_string(1 << 24));
      }
    }
    if (c.useAbsoluteEmbeddings)
    {
      configError(path,
        "use_absolute_embeddings = true is not supported for Swin "
        "(transformers' SwinModel cannot run such a model either)");
    }
  }
}
} // namespace

ModelConfig loadModelConfig(const std::string& path)
{
  std::ifstream in(path, std::ios::binary);
  if (!in)
  {
    throw ModelError(path + ": cannot open the model configuration (config.json)");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return parseModelConfig(buffer.str(), path);
}

namespace
{

/// Position just after "<digits>." at `pos`, or npos.
std::size_t afterIndex(const std::string& s, std::size_t pos)
{
  std::size_t i = pos;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
  {
    ++i;
  }
  return (i > pos && i < s.size() && s[i] == '.') ? i + 1 : std::string::npos;
}

bool replacePrefix(std::string& s, std::size_t at, const std::string& from, const std::string& to)
{
  if (s.compare(at, from.size(), from) != 0)
  {
    return false;
  }
  s.replace(at, from.size(), to);
  return true;
}

} // namespace

void canonicalizeWeightNames(TensorMap& tensors, ModelType type)
{
  // DINOv2's (mlp.fc1, norm1) and the convolutional families' names are not renamed.
  if (type != ModelType::Vit && type != ModelType::Deit && type != ModelType::Swin)
  {
    return;
  }
  const bool vit = type != ModelType::Swin;
  const std::string attention = vit ? "attention.attention." : "attention.self.";
  const std::vector<std::pair<std::string, std::string>> blockRules = {
    { "attention.q_proj.", attention + "query." },
    { "attention.k_proj.", attention + "key." },
    { "attention.v_proj.", attention + "value." },
    { "attention.o_proj.", "attention.output.dense." },
    { "attention.relative_position_bias.", "attention.self." },
    { "mlp.fc1.", "intermediate.dense." },
    { "mlp.fc2.", "output.dense." },
  };
  TensorMap renamed;
  for (auto& kv : tensors)
  {
    std::string name = kv.first;
    // the model prefix of *ForImageClassification checkpoints
    std::size_t at = 0;
    for (const char* prefix : { "vit.", "deit.", "swin." })
    {
      if (name.compare(0, std::strlen(prefix), prefix) == 0)
      {
        at = std::strlen(prefix);
      }
    }
    std::size_t block = std::string::npos;
    if (vit)
    {
      if (name.compare(at, 7, "layers.") == 0 && afterIndex(name, at + 7) != std::string::npos)
      {
        name.replace(at, 7, "encoder.layer.");
        block = afterIndex(name, at + 14);
      }
    }
    else if (name.compare(at, 15, "encoder.layers.") == 0)
    {
      const std::size_t stage = afterIndex(name, at + 15);
      if (stage != std::string::npos && name.compare(stage, 7, "blocks.") == 0)
      {
        block = afterIndex(name, stage + 7);
      }
    }
    if (block != std::string::npos)
    {
      for (const auto& rule : blockRules)
      {
        if (replacePrefix(name, block, rule.first, rule.second))
        {
          break;
        }
      }
    }
    if (name != kv.first && tensors.count(name) == 0)
    {
      renamed[name] = kv.second;
    }
    else
    {
      renamed[kv.first] = kv.second;
    }
  }
  tensors.swap(renamed);
}

WeightSet::WeightSet(TensorMap tensors, std::string sourcePath)
  : Tensors(std::move(tensors))
  , SourcePath(std::move(sourcePath))
{
}

bool WeightSet::has(const std::string& name) const
{
  return Tensors.count(name) != 0;
}

at::Tensor WeightSet::optional(const std::string& name, std::vector<std::int64_t> shape) const
{
  auto it = Tensors.find(name);
  if (it == Tensors.end())
  {
    return at::Tensor();
  }
  if (it->second.sizes() != at::IntArrayRef(shape))
  {
    throw ModelError(SourcePath + ": weight '" + name + "' has shape " +
      shapeToString(it->second.sizes()) + " but the configuration expects " + shapeToString(shape));
  }
  return it->second;
}

at::Tensor WeightSet::require(const std::string& name, std::vector<std::int64_t> shape) const
{
  at::Tensor t = optional(name, std::move(shape));
  if (!t.defined())
  {
    throw ModelError(SourcePath + " has no weight '" + name + "'");
  }
  return t;
}

at::Tensor applyActivation(const at::Tensor& x, Activation act)
{
  switch (act)
  {
    case Activation::Gelu:
      return at::gelu(x);
    case Activation::GeluTanh:
      return at::gelu(x, "tanh");
    case Activation::QuickGelu:
      return x * at::sigmoid(1.702 * x);
    case Activation::Relu:
      return at::relu(x);
    case Activation::Silu:
      return at::silu(x);
  }
  return x;
}

std::string shapeToString(at::IntArrayRef shape)
{
  std::ostringstream s;
  s << "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
  {
    s << (i ? ", " : "") << shape[i];
  }
  s << "]";
  return s.str();
}

} // namespace engine
} // namespace dualembed
