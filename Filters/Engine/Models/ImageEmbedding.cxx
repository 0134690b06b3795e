#include "ImageEmbedding.h"

#include "BufferReuse.h"
#include "ConvNext.h"
#include "EngineError.h"
#include "ImagePreprocessor.h"
#include "Matmul.h"
#include "ModelConfig.h"
#include "ResNet.h"
#include "SafeTensors.h"
#include "SwinTransformer.h"
#include "TorchCheckpoint.h"
#include "VisionTransformer.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/script.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <sys/stat.h>

namespace dualembed
{
namespace engine
{
namespace
{

bool isDirectory(const std::string& path)
{
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool isFile(const std::string& path)
{
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string joinPath(const std::string& dir, const std::string& name)
{
  if (dir.empty())
  {
    return name;
  }
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string parentDir(const std::string& path)
{
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos)
  {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string baseName(const std::string& path)
{
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool endsWith(const std::string& s, const std::string& suffix)
{
  return s.size() >= suffix.size() &&
    s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// First line of an exception message, plus its last non-empty line when
/// they differ (TorchScript puts the actual error last).
std::string firstLine(const std::string& s)
{
  const auto nl = s.find('\n');
  if (nl == std::string::npos)
  {
    return s;
  }
  std::string first = s.substr(0, nl);
  std::string rest = s.substr(nl + 1);
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == ' '))
  {
    rest.pop_back();
  }
  const auto lastNl = rest.find_last_of('\n');
  std::string last = lastNl == std::string::npos ? rest : rest.substr(lastNl + 1);
  if (last.empty() || last == first)
  {
    return first;
  }
  return first + " ... " + last;
}

/// Shards listed in model.safetensors.index.json, merged.
TensorMap loadShardedSafeTensors(const std::string& indexPath)
{
  std::ifstream in(indexPath, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  nlohmann::json index;
  try
  {
    index = nlohmann::json::parse(text.str());
  }
  catch (const nlohmann::json::exception& e)
  {
    throw ModelError(indexPath + ": malformed JSON: " + e.what());
  }
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
  {
    throw ModelError(indexPath + ": has no 'weight_map' object");
  }
  std::set<std::string> shards;
  for (const auto& item : index["weight_map"].items())
  {
    if (!item.value().is_string() || item.value().get<std::string>().find('/') != std::string::npos)
    {
      throw ModelError(indexPath + ": invalid shard name for '" + item.key() + "'");
    }
    shards.insert(item.value().get<std::string>());
  }
  TensorMap all;
  const std::string dir = parentDir(indexPath);
  for (const auto& shard : shards)
  {
    TensorMap part = loadSafeTensors(joinPath(dir, shard));
    all.insert(part.begin(), part.end());
  }
  return all;
}

at::Device resolveDevice(ComputeDevice requested)
{
  const bool cuda = torch::cuda::is_available();
  switch (requested)
  {
    case ComputeDevice::Cpu:
      return at::Device(at::kCPU);
    case ComputeDevice::Cuda:
      if (!cuda)
      {
        throw ModelError("CUDA was requested but no CUDA device is usable by this LibTorch build "
                         "(choose the CPU or Auto device)");
      }
      return at::Device(at::kCUDA, 0);
    case ComputeDevice::Auto:
    default:
      return cuda ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  }
}

void applyThreads(int threads)
{
  if (threads < 0)
  {
    return;
  }
  const int n = threads > 0 ? threads : usableCores();
  if (at::get_num_threads() != n)
  {
    setEngineThreads(n);
  }
}

/// "resnet." of ResNetForImageClassification checkpoints, "" of ResNetModel
/// ones (likewise for every family): found by the family's first weight.
std::string weightPrefix(const ModelConfig& config, const WeightSet& weights)
{
  static const std::map<ModelType, std::string> firstWeight = {
    { ModelType::Vit, "embeddings.patch_embeddings.projection.weight" },
    { ModelType::Deit, "embeddings.patch_embeddings.projection.weight" },
    { ModelType::Dinov2, "embeddings.patch_embeddings.projection.weight" },
    { ModelType::Beit, "embeddings.patch_embeddings.projection.weight" },
    { ModelType::Clip, "embeddings.patch_embedding.weight" },
    { ModelType::Siglip, "embeddings.patch_embedding.weight" },
    { ModelType::Swin, "embeddings.patch_embeddings.projection.weight" },
    { ModelType::ResNet, "embedder.embedder.convolution.weight" },
    { ModelType::ConvNext, "embeddings.patch_embeddings.weight" },
  };
  // CLIP's and SigLIP's vision tower is "vision_model." in every checkpoint that has one.
  const bool tower = config.modelType == ModelType::Clip || config.modelType == ModelType::Siglip;
  const std::string prefix = tower ? "vision_model." : config.modelTypeName + ".";
  return weights.has(prefix + firstWeight.at(config.modelType)) ? prefix : std::string();
}

std::unique_ptr<Backbone> makeBackbone(const ModelConfig& config, const WeightSet& weights)
{
  const std::string prefix = weightPrefix(config, weights);
  switch (config.modelType)
  {
    case ModelType::Vit:
    case ModelType::Deit:
    case ModelType::Dinov2:
    case ModelType::Beit:
    case ModelType::Clip:
    case ModelType::Siglip:
      return std::make_unique<VisionTransformer>(config, weights, prefix);
    case ModelType::Swin:
      return std::make_unique<SwinTransformer>(config, weights, prefix);
    case ModelType::ResNet:
      return std::make_unique<ResNet>(config, weights, prefix);
    case ModelType::ConvNext:
      return std::make_unique<ConvNext>(config, weights, prefix);
  }
  throw ModelError(config.sourcePath + ": no forward pass for model_type " + config.modelTypeName);
}

} // namespace

Pooling autoPooling(ModelType type)
{
  switch (type)
  {
    case ModelType::Vit:
    case ModelType::Deit:         // its teacher variant averages the CLS and distillation heads
    case ModelType::Dinov2:       // = its pooler_output; its classifier adds the patches' mean
      return Pooling::FirstToken; // the CLS token, which the classifiers read
    case ModelType::Clip: // image_embeds, what CLIP compares (pooler without the projection)
      return Pooling::Projection;
    case ModelType::Swin:
      return Pooling::Mean; // Swin's pooler_output is the mean of its tokens
    case ModelType::ResNet:
    case ModelType::ConvNext:
      return Pooling::Pooler; // what their classifiers read (ConvNeXt: the normed mean)
    case ModelType::Siglip:   // its attention-pooling head: what SigLIP compares with texts
      return Pooling::Pooler;
    case ModelType::Beit: // what its classifier reads: the normed patch mean (or CLS)
      return Pooling::Pooler;
  }
  return Pooling::FirstToken;
}

std::string autoPoolingName(const std::string& modelTypeName)
{
  ModelType type;
  // A TorchScript model or an unknown type: the model decides.
  return modelTypeFromName(modelTypeName, type) ? poolingName(autoPooling(type)) : "auto";
}

Pooling parsePooling(const std::string& name)
{
  if (name == "auto")
  {
    return Pooling::Auto;
  }
  if (name == "first-token")
  {
    return Pooling::FirstToken;
  }
  if (name == "mean")
  {
    return Pooling::Mean;
  }
  if (name == "pooler")
  {
    return Pooling::Pooler;
  }
  if (name == "projection")
  {
    return Pooling::Projection;
  }
  throw ModelError(
    "unknown pooling '" + name + "' (choose auto, first-token, mean, pooler or projection)");
}

std::string poolingName(Pooling pooling)
{
  switch (pooling)
  {
    case Pooling::FirstToken:
      return "first-token";
    case Pooling::Mean:
      return "mean";
    case Pooling::Pooler:
      return "pooler";
    case Pooling::Projection:
      return "projection";
    case Pooling::Auto:
    default:
      return "auto";
  }
}

/// bfloat16 for TorchScript as torch.autocast(device, dtype) gives it: the
/// script's weights and the float32 constants that traces carry stay as they
/// are, and autocast runs the products (linear, matmul, convolution) in
/// `dtype`. Casting the module's parameters instead fails on every trace
/// made with transformers ("expected scalar type BFloat16 but found Float").
class ScriptAutocast
{
public:
  ScriptAutocast(at::Device device, at::ScalarType dtype)
    : Active(dtype != at::kFloat)
    , Cuda(device.is_cuda())
  {
    if (!Active)
    {
      return;
    }
    PreviousEnabled = Cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
    PreviousType =
      Cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
    setState(true, dtype);
    at::autocast::increment_nesting();
  }
  ~ScriptAutocast()
  {
    if (!Active)
    {
      return;
    }
    if (at::autocast::decrement_nesting() == 0)
    {
      at::autocast::clear_cache();
    }
    setState(PreviousEnabled, PreviousType);
  }
  ScriptAutocast(const ScriptAutocast&) = delete;
  ScriptAutocast& operator=(const ScriptAutocast&) = delete;

private:
  void setState(bool enabled, at::ScalarType dtype) const
  {
    if (Cuda)
    {
      at::autocast::set_autocast_gpu_dtype(dtype);
      at::autocast::set_enabled(enabled);
    }
    else
    {
      at::autocast::set_autocast_cpu_dtype(dtype);
      at::autocast::set_cpu_enabled(enabled);
    }
  }

  bool Active, Cuda;
  bool PreviousEnabled = false;
  at::ScalarType PreviousType = at::kFloat;
};

struct EmbeddingModel::Impl
{
  EmbeddingOptions Options;
  std::string ModelTypeName;
  bool TorchScript = false;
  std::unique_ptr<Backbone> Net;
  torch::jit::Module Script;
  Pooling Pool = Pooling::Auto;
  std::int64_t EmbeddingDim = 0;
  std::int64_t NumLabels = 0;
  std::vector<std::string> ClassNames;
  int InputHeight = 0;
  int InputWidth = 0;
  int NumChannels = 3;
  std::string WeightsPath;
  std::string PreprocessorPath;
  at::Device Device = at::Device(at::kCPU);
  at::ScalarType DType = at::kFloat;

  void setClassNames(const std::vector<std::string>& id2label, const std::string& configPath)
  {
    ClassNames.clear();
    if (NumLabels == 0)
    {
      return;
    }
    if (id2label.empty())
    {
      for (std::int64_t i = 0; i < NumLabels; ++i)
      {
        ClassNames.push_back("LABEL_" + std::to_string(i));
      }
      return;
    }
    if (static_cast<std::int64_t>(id2label.size()) != NumLabels)
    {
      throw ModelError(configPath + ": id2label has " + std::to_string(id2label.size()) +
        " labels but the classifier has " + std::to_string(NumLabels) + " outputs");
    }
    ClassNames = id2label;
  }

  void loadHuggingFace(const std::string& dir, std::string weightsFile)
  {
    const std::string configPath = joinPath(dir, "config.json");
    if (!isFile(configPath))
    {
      throw ModelError(dir +
        ": no config.json in the model folder (a Hugging Face model folder "
        "needs config.json and model.safetensors or pytorch_model.bin)");
    }
    ModelConfig config = loadModelConfig(configPath);
    const std::string pre = joinPath(dir, "preprocessor_config.json");
    PreprocessorPath = isFile(pre) ? pre : std::string();

    TensorMap tensors;
    if (weightsFile.empty())
    {
      const std::string safe = joinPath(dir, "model.safetensors");
      const std::string index = joinPath(dir, "model.safetensors.index.json");
      const std::string bin = joinPath(dir, "pytorch_model.bin");
      if (isFile(safe))
      {
        weightsFile = safe;
      }
      else if (isFile(index))
      {
        weightsFile = index;
      }
      else if (isFile(bin))
      {
        weightsFile = bin;
      }
      else
      {
        throw ModelError(dir +
          ": no weights in the model folder (expected model.safetensors, "
          "model.safetensors.index.json or pytorch_model.bin)");
      }
    }
    if (endsWith(weightsFile, ".index.json"))
    {
      tensors = loadShardedSafeTensors(weightsFile);
    }
    else if (endsWith(weightsFile, ".safetensors"))
    {
      tensors = loadSafeTensors(weightsFile);
    }
    else
    {
      tensors = loadTorchCheckpoint(weightsFile);
    }
    WeightsPath = weightsFile;
    canonicalizeWeightNames(tensors, config.modelType);
    WeightSet weights(std::move(tensors), weightsFile);

    ModelTypeName = config.modelTypeName;
    Net = makeBackbone(config, weights);
    Pool = Options.pooling == Pooling::Auto ? autoPooling(config.modelType) : Options.pooling;
    if (Options.pooling == Pooling::Auto && Pool == Pooling::Projection && !Net->hasProjection())
    {
      Pool = Pooling::Pooler; // a CLIPVisionModel without visual_projection
    }
    if (Options.pooling == Pooling::Auto && Pool == Pooling::Pooler && !Net->hasPooler())
    {
      Pool = Pooling::Mean; // SiglipForImageClassification: no head, its classifier reads the mean
    }
    if (Pool == Pooling::Projection && !Net->hasProjection())
    {
      throw ModelError(weightsFile +
        " has no projection ('visual_projection.weight' of a CLIP model); choose pooler, "
        "first-token or mean pooling");
    }
    if (Pool == Pooling::Pooler && !Net->hasPooler())
    {
      const char* pooler =
        config.modelType == ModelType::Beit ? "pooler.layernorm.weight" : "pooler.dense.weight";
      throw ModelError(weightsFile + " has no pooler weights ('" + weightPrefix(config, weights) +
        pooler + "'); choose first-token or mean pooling");
    }
    if (Pool == Pooling::FirstToken && !Net->hasFirstToken())
    {
      throw ModelError("first-token pooling needs a CLS token, and a " + ModelTypeName +
        " model has none: choose auto (" + poolingName(autoPooling(config.modelType)) +
        "), mean or pooler");
    }
    EmbeddingDim = Pool == Pooling::Projection ? Net->projectionDim() : config.finalHiddenSize();
    NumLabels = Net->numLabels();
    setClassNames(config.id2label, configPath);
    InputHeight = config.imageHeight;
    InputWidth = config.imageWidth;
    NumChannels = config.numChannels;
    Net->to(Device, DType);
  }

  void loadTorchScript(const std::string& path)
  {
    TorchScript = true;
    ModelTypeName = "torchscript";
    WeightsPath = path;
    const std::string dir = parentDir(path);
    const std::string pre = joinPath(dir, "preprocessor_config.json");
    PreprocessorPath = isFile(pre) ? pre : std::string();
    std::vector<std::string> id2label;
    std::string configPath = joinPath(dir, "config.json");
    InputHeight = 224;
    InputWidth = 224;
    if (isFile(configPath))
    {
      try
      {
        ModelConfig config = loadModelConfig(configPath);
        InputHeight = config.imageHeight;
        InputWidth = config.imageWidth;
        id2label = config.id2label;
      }
      catch (const ModelError&)
      {
        // a config.json that is not ViT/Swin says nothing about the script
      }
    }
    // The preprocessor configuration fixes what the filter will feed the
    // script, so it decides the probe's size before config.json does.
    if (!PreprocessorPath.empty())
    {
      const ImageSize size = modelInputSize(loadPreprocessorConfig(PreprocessorPath));
      if (size.height > 0)
      {
        InputHeight = size.height;
        InputWidth = size.width;
      }
    }
    if (Options.inputHeight > 0)
    {
      InputHeight = Options.inputHeight;
    }
    if (Options.inputWidth > 0)
    {
      InputWidth = Options.inputWidth;
    }
    try
    {
      loadScriptOn(path);
    }
    catch (const ModelError&)
    {
      // Traces often hard-code the device they were traced on (tensors made
      // with device=cpu inside the graph). With the Auto device, fall back to
      // the CPU; with CUDA requested explicitly, report it.
      if (!(Options.device == ComputeDevice::Auto && Device.is_cuda() && DType == at::kFloat))
      {
        throw;
      }
      Device = at::Device(at::kCPU);
      loadScriptOn(path);
    }
    setClassNames(id2label.size() == static_cast<std::size_t>(NumLabels)
        ? id2label
        : std::vector<std::string>(),
      configPath);
  }

  void loadScriptOn(const std::string& path)
  {
    // TorchScript files are zip archives: check the signature first, because
    // LibTorch 2.x crashes on some other files instead of throwing.
    char signature[4] = { 0, 0, 0, 0 };
    std::ifstream file(path, std::ios::binary);
    if (!file.read(signature, 4) || std::string(signature, 4) != std::string("PK\x03\x04", 4))
    {
      throw ModelError(path +
        ": not a loadable TorchScript file (not a zip archive made by "
        "torch.jit.save; a Hugging Face model is a folder with config.json)");
    }
    try
    {
      // Loading onto the device moves the code's constants too; Module::to()
      // would also cast integer buffers (index tables) to the float dtype.
      // The weights stay float32 in every precision (ScriptAutocast).
      Script = torch::jit::load(path, Device);
      Script.eval();
    }
    catch (const std::exception& e)
    {
      throw ModelError(
        path + ": not a loadable TorchScript file (torch::jit::load: " + firstLine(e.what()) + ")");
    }
    // Probe: a batch of 2 must give [2, D] (and [2, K]).
    EmbeddingOutput probe;
    try
    {
      at::InferenceMode guard;
      probe = forward(at::zeros({ 2, NumChannels, InputHeight, InputWidth },
        at::TensorOptions().dtype(at::kFloat).device(Device)));
    }
    catch (const ModelError& e)
    {
      throw ModelError(path + ": " + e.what());
    }
    catch (const std::exception& e)
    {
      throw ModelError(path + ": the TorchScript forward fails on a [2, " +
        std::to_string(NumChannels) + ", " + std::to_string(InputHeight) + ", " +
        std::to_string(InputWidth) + "] input: " + firstLine(e.what()));
    }
    EmbeddingDim = probe.embedding.size(1);
    NumLabels = probe.logits.defined() ? probe.logits.size(1) : 0;
  }

  static void checkBatchMatrix(const at::Tensor& t, std::int64_t batch, const char* what)
  {
    if (t.dim() != 2 || t.size(0) != batch || t.size(1) < 1 || !at::isFloatingType(t.scalar_type()))
    {
      throw ModelError(std::string("TorchScript ") + what +
        " must be a floating [batch=" + std::to_string(batch) + ", features] tensor, got " +
        at::toString(t.scalar_type()) + " " + shapeToString(t.sizes()) +
        "; the script must map [B,3,H,W] to an embedding [B,D] or to "
        "(embedding [B,D], logits [B,K])");
    }
  }

  /// Raw outputs on the compute device (not yet converted).
  EmbeddingOutput forward(const at::Tensor& x)
  {
    EmbeddingOutput out;
    const std::int64_t batch = x.size(0);
    if (TorchScript)
    {
      const ScriptAutocast mixedPrecision(Device, DType);
      c10::IValue result = Script.forward({ x });
      std::vector<c10::IValue> items;
      if (result.isTensor())
      {
        items.push_back(result);
      }
      else if (result.isTuple())
      {
        items = result.toTupleRef().elements().vec();
      }
      else if (result.isList())
      {
        items = result.toListRef().vec();
      }
      if (items.empty() || items.size() > 2 ||
        !std::all_of(items.begin(), items.end(), [](const c10::IValue& v) { return v.isTensor(); }))
      {
        throw ModelError("TorchScript forward returned " + result.tagKind() +
          "; it must return an embedding [B,D] or a tuple (embedding [B,D], logits [B,K])");
      }
      out.embedding = items[0].toTensor();
      checkBatchMatrix(out.embedding, batch, "embedding");
      if (items.size() == 2)
      {
        out.logits = items[1].toTensor();
        checkBatchMatrix(out.logits, batch, "logits");
      }
      return out;
    }
    BackboneOutput o = Net->forward(x);
    switch (Pool)
    {
      case Pooling::Mean:
        out.embedding = o.lastHiddenState.mean(1);
        break;
      case Pooling::Pooler:
        out.embedding = o.poolerOutput;
        break;
      case Pooling::Projection:
        out.embedding = o.projection;
        break;
      case Pooling::FirstToken:
      case Pooling::Auto:
      default:
        out.embedding = o.lastHiddenState.select(1, 0);
        break;
    }
    out.logits = o.logits;
    return out;
  }
};

EmbeddingModel::EmbeddingModel(const std::string& path, const EmbeddingOptions& options)
  : P(new Impl)
{
  P->Options = options;
  applyThreads(options.threads);
  P->Device = resolveDevice(options.device);
  if (options.precision == Precision::BFloat16)
  {
    // Without native bf16 products, bf16 would be emulated: slower than float32.
    if (P->Device.is_cpu() && !cpuHasBFloat16())
    {
      throw ModelError("bfloat16 precision on the CPU needs AVX512-BF16 or AMX" +
        (matmulUsesOneDnn() ? " (this CPU runs oneDNN at " + cpuIsaName() + ")"
                            : std::string(" and an engine built with oneDNN (libdnnl-dev)")) +
        "; use float32");
    }
    P->DType = at::kBFloat16;
  }
  if (P->Device.is_cuda() && P->DType == at::kFloat)
  {
    // float32 means float32: no TensorFloat-32 in matmuls and convolutions
    // (process-wide setting, as torch.backends.*.allow_tf32 = False).
    at::globalContext().setAllowTF32CuBLAS(false);
    at::globalContext().setAllowTF32CuDNN(false);
  }
  try
  {
    if (isDirectory(path))
    {
      P->loadHuggingFace(path, std::string());
    }
    else if (!isFile(path))
    {
      throw ModelError(path + ": no such model file or folder");
    }
    else if (baseName(path) == "config.json")
    {
      P->loadHuggingFace(parentDir(path), std::string());
    }
    else if (endsWith(path, ".safetensors") || endsWith(path, ".index.json") ||
      endsWith(path, ".bin"))
    {
      P->loadHuggingFace(parentDir(path), path);
    }
    else
    {
      P->loadTorchScript(path);
    }
  }
  catch (const ModelError&)
  {
    throw;
  }
  catch (const std::exception& e)
  {
    throw ModelError(path + ": cannot load the model: " + firstLine(e.what()));
  }
}

EmbeddingModel::~EmbeddingModel() = default;
EmbeddingModel::EmbeddingModel(EmbeddingModel&&) noexcept = default;
EmbeddingModel& EmbeddingModel::operator=(EmbeddingModel&&) noexcept = default;

EmbeddingOutput EmbeddingModel::run(const at::Tensor& pixelValues)
{
  if (!pixelValues.defined() || pixelValues.dim() != 4 || pixelValues.size(1) != P->NumChannels ||
    !at::isFloatingType(pixelValues.scalar_type()))
  {
    throw ModelError(P->WeightsPath + ": model input must be a floating [batch, " +
      std::to_string(P->NumChannels) + ", height, width] tensor, got " +
      (pixelValues.defined() ? shapeToString(pixelValues.sizes()) : std::string("nothing")));
  }
  if (pixelValues.size(2) < 1 || pixelValues.size(3) < 1)
  {
    throw ModelError(P->WeightsPath + ": model input has an empty image size");
  }
  applyThreads(P->Options.threads);
  EmbeddingOutput out;
  if (pixelValues.size(0) == 0)
  {
    out.embedding = at::zeros({ 0, P->EmbeddingDim }, at::kFloat);
    if (P->NumLabels > 0)
    {
      out.logits = at::zeros({ 0, P->NumLabels }, at::kFloat);
      out.probs = at::zeros({ 0, P->NumLabels }, at::kFloat);
    }
    return out;
  }
  try
  {
    at::InferenceMode guard;
    std::unique_ptr<BufferReuseScope> reuse;
    if (P->Options.reuseBuffers)
    {
      reuse.reset(new BufferReuseScope);
    }
    // Float32 pixels: ViT/Swin cast for their products themselves, scripts under autocast.
    at::Tensor x = pixelValues.to(P->Device, at::kFloat).contiguous();
    EmbeddingOutput raw = P->forward(x);
    out.embedding = raw.embedding.to(at::kCPU, at::kFloat).contiguous();
    if (raw.logits.defined())
    {
      out.logits = raw.logits.to(at::kCPU, at::kFloat).contiguous();
      out.probs = at::softmax(out.logits, -1);
    }
  }
  catch (const ModelError& e)
  {
    throw ModelError(P->WeightsPath + ": " + e.what());
  }
  catch (const std::exception& e)
  {
    throw ModelError(P->WeightsPath + ": the model forward pass failed on input " +
      shapeToString(pixelValues.sizes()) + ": " + firstLine(e.what()));
  }
  // Outputs created under InferenceMode are inference tensors; clone so that
  // callers may use them in ordinary (autograd-recording) code too.
  out.embedding = out.embedding.clone();
  if (out.logits.defined())
  {
    out.logits = out.logits.clone();
    out.probs = out.probs.clone();
  }
  return out;
}

const std::string& EmbeddingModel::modelType() const
{
  return P->ModelTypeName;
}

bool EmbeddingModel::isTorchScript() const
{
  return P->TorchScript;
}

std::int64_t EmbeddingModel::embeddingDim() const
{
  return P->EmbeddingDim;
}

bool EmbeddingModel::hasHead() const
{
  return P->NumLabels > 0;
}

std::int64_t EmbeddingModel::numLabels() const
{
  return P->NumLabels;
}

const std::vector<std::string>& EmbeddingModel::classNames() const
{
  return P->ClassNames;
}

int EmbeddingModel::inputHeight() const
{
  return P->InputHeight;
}

int EmbeddingModel::inputWidth() const
{
  return P->InputWidth;
}

Pooling EmbeddingModel::pooling() const
{
  return P->TorchScript ? Pooling::Auto : P->Pool;
}

Pooling EmbeddingModel::requestedPooling() const
{
  return P->Options.pooling;
}

const std::string& EmbeddingModel::weightsPath() const
{
  return P->WeightsPath;
}

const std::string& EmbeddingModel::preprocessorConfigPath() const
{
  return P->PreprocessorPath;
}

std::string EmbeddingModel::deviceName() const
{
  return P->Device.str();
}

std::string EmbeddingModel::precisionName() const
{
  return P->DType == at::kBFloat16 ? "bfloat16" : "float32";
}

namespace
{
void copyRows(const at::Tensor& rows, float* target, std::int64_t firstRow)
{
  const at::Tensor contiguous = rows.contiguous();
  std::copy_n(
    contiguous.data_ptr<float>(), contiguous.numel(), target + firstRow * contiguous.size(1));
}
}

void embedImages(EmbeddingModel& model, ImageSource& images,
  const PreprocessorConfig& preprocessing, std::int64_t batchSize, const EmbeddingTargets& targets,
  const std::function<bool(double)>& progress)
{
  const std::int64_t n = images.count();
  const std::int64_t batches = (n + batchSize - 1) / batchSize;
  std::vector<ImageView> views;
  std::vector<float> pixelValues;
  // The forward's large buffers go from batch to batch (freed after the loop).
  const BufferReuseScope reuseBuffers;
  for (std::int64_t batch = 0; batch < batches; ++batch)
  {
    const std::int64_t first = batch * batchSize;
    if (progress && !progress(static_cast<double>(batch) / batches))
    {
      throw Aborted("Image Embedding aborted after " + std::to_string(first) + " of " +
        std::to_string(n) + " samples: the output is empty.");
    }
    const std::int64_t count = std::min(batchSize, n - first);
    views.resize(count);
    for (std::int64_t i = 0; i < count; ++i)
    {
      views[i] = images.image(first + i, static_cast<std::size_t>(i));
    }
    // Every image of a batch must preprocess to one size (fixed-size configs always do).
    const ImageSize size = preprocessedSize(preprocessing, views[0].height, views[0].width);
    for (std::int64_t i = 1; i < count; ++i)
    {
      const ImageSize own = preprocessedSize(preprocessing, views[i].height, views[i].width);
      if (own.height != size.height || own.width != size.width)
      {
        throw ModelError("Sample " + std::to_string(first + i) + " preprocesses to " +
          std::to_string(own.height) + "x" + std::to_string(own.width) + " but sample " +
          std::to_string(first) + " to " + std::to_string(size.height) + "x" +
          std::to_string(size.width) +
          ": the preprocessor configuration must resize to a fixed size.");
      }
    }
    const std::size_t floatsPerImage = std::size_t(3) * size.height * size.width;
    pixelValues.resize(floatsPerImage * count);
    // ATen rethrows the first exception of a worker on this thread.
    at::parallel_for(0, count, 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i)
      {
        preprocessImage(views[i].pixels, views[i].height, views[i].width, views[i].channels,
          preprocessing, pixelValues.data() + floatsPerImage * i);
      }
    });
    const at::Tensor batchTensor =
      at::from_blob(pixelValues.data(), { static_cast<long>(count), 3, size.height, size.width },
        at::TensorOptions().dtype(at::kFloat));
    const EmbeddingOutput result = model.run(batchTensor);
    copyRows(result.embedding, targets.embedding, first);
    if (model.hasHead())
    {
      copyRows(result.logits, targets.logits, first);
      copyRows(result.probs, targets.probs, first);
    }
  }
  if (progress)
  {
    progress(1.0);
  }
}

} // namespace engine
} // namespace dualembed
