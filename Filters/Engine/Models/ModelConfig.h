// Hugging Face `config.json` of ViT and Swin models, the checked access to a
// checkpoint's weights, and the interface both backbones implement.
#ifndef DualEmbed_Engine_ModelConfig_h
#define DualEmbed_Engine_ModelConfig_h

#include "SafeTensors.h" // TensorMap

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dualembed
{
namespace engine
{

enum class ModelType
{
  Vit,
  Swin
};

enum class Activation
{
  Gelu,     // exact (erf): "gelu"
  GeluTanh, // "gelu_new", "gelu_pytorch_tanh", "gelu_fast"
  QuickGelu,
  Relu,
  Silu
};

/// The fields of config.json that the forward passes need. Absent keys take
/// the defaults of transformers' ViTConfig / SwinConfig.
struct ModelConfig
{
  ModelType modelType = ModelType::Vit;
  std::string modelTypeName;         // "vit" or "swin"
  std::string sourcePath;            // config.json, for messages
  std::vector<std::string> id2label; // ordered by id; empty when absent

  int numChannels = 3;
  int imageHeight = 224;
  int imageWidth = 224;
  int patchSize = 16;
  double layerNormEps = 1e-12;
  bool qkvBias = true;
  Activation hiddenAct = Activation::Gelu;

  // ViT
  int hiddenSize = 768;
  int numHiddenLayers = 12;
  int numAttentionHeads = 12;
  int intermediateSize = 3072;

  // Swin
  int embedDim = 96;
  std::vector<int> depths;
  std::vector<int> numHeads;
  int windowSize = 7;
  double mlpRatio = 4.0;
  bool useAbsoluteEmbeddings = false;

  /// Width of the final hidden state (ViT: hidden_size; Swin: embed_dim * 2^(stages-1)).
  int finalHiddenSize() const;
};

/// Parses and validates config.json text. Throws ModelError naming
/// `sourcePath` (and the key) on malformed JSON, unsupported model_type
/// (only "vit" and "swin") or invalid geometry.
ModelConfig parseModelConfig(const std::string& jsonText, const std::string& sourcePath);

/// Reads and parses a config.json file.
ModelConfig loadModelConfig(const std::string& path);

/// Renames the weights of a state dict saved from transformers >= 5 in-memory
/// modules (`layers.N.attention.q_proj`, `mlp.fc1`, ...; what
/// `torch.save(model.state_dict())` writes) to the hub names that
/// `save_pretrained` writes and the forward passes use
/// (`encoder.layer.N.attention.attention.query`, `intermediate.dense`, ...).
/// Names already in hub form are left alone.
void canonicalizeWeightNames(TensorMap& tensors, ModelType type);

/// Weights of one checkpoint with shape-checked access.
class WeightSet
{
public:
  WeightSet(TensorMap tensors, std::string sourcePath);

  /// Throws ModelError "<file> has no weight '<name>'" or a shape mismatch.
  at::Tensor require(const std::string& name, std::vector<std::int64_t> shape) const;

  /// Undefined tensor when absent; throws on a shape mismatch.
  at::Tensor optional(const std::string& name, std::vector<std::int64_t> shape) const;

  bool has(const std::string& name) const;
  const TensorMap& tensors() const { return Tensors; }
  const std::string& sourcePath() const { return SourcePath; }

private:
  TensorMap Tensors;
  std::string SourcePath;
};

/// What a backbone (plus optional classifier) computes for a batch.
struct BackboneOutput
{
  at::Tensor lastHiddenState; // [B, N, D] after the final layer norm
  at::Tensor poolerOutput;    // [B, D] or undefined (ViT without pooler)
  at::Tensor logits;          // [B, K] or undefined (no classifier)
};

/// A ViT or Swin forward pass over plain tensors.
class Backbone
{
public:
  virtual ~Backbone() = default;
  /// pixelValues: [B, C, H, W] on the backbone's device and dtype.
  virtual BackboneOutput forward(const at::Tensor& pixelValues) const = 0;
  /// Moves (and casts floating) weights.
  virtual void to(at::Device device, at::ScalarType dtype) = 0;
  virtual bool hasPooler() const = 0;
  virtual bool hasClassifier() const = 0;
  virtual std::int64_t numLabels() const = 0;
};

// Shared tensor helpers of the forward passes.
at::Tensor applyActivation(const at::Tensor& x, Activation act);
std::string shapeToString(at::IntArrayRef shape);

} // namespace engine
} // namespace dualembed

#endif
