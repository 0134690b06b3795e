// Hugging Face `config.json` of the model families the engine runs natively
// (ViT, DeiT, DINOv2, BEiT, CLIP, SigLIP, Swin, ResNet, ConvNeXt), the checked access to a
// checkpoint's weights, and the interface every backbone implements.
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
  Deit,   // ViT with a distillation token
  Dinov2, // ViT with layer scale (and SwiGLU, and register tokens)
  Beit,   // ViT with relative position bias, layer scale and a mean-pooling norm
  Clip,   // the vision tower of CLIP: pre- and post-norm, an optional projection
  Siglip, // the vision tower of SigLIP: no CLS token, an attention-pooling head
  Swin,
  ResNet,
  ConvNext
};

/// The model_type values read natively, for messages: "'vit', 'swin', ...".
std::string supportedModelTypes();
/// The family of a model_type value ("clip_vision_model" is Clip); false when unknown.
bool modelTypeFromName(const std::string& name, ModelType& type);

enum class Activation
{
  Gelu,     // exact (erf): "gelu"
  GeluTanh, // "gelu_new", "gelu_pytorch_tanh", "gelu_fast"
  QuickGelu,
  Relu,
  Silu
};

/// The fields of config.json that the forward passes need. Absent keys take
/// the defaults of transformers' ViTConfig, DeiTConfig, Dinov2Config,
/// BeitConfig, SwinConfig, ResNetConfig and ConvNextConfig.
struct ModelConfig
{
  ModelType modelType = ModelType::Vit;
  std::string modelTypeName;         // "vit", "deit", "dinov2", "clip", "swin", "resnet", ...
  std::string sourcePath;            // config.json, for messages
  std::vector<std::string> id2label; // ordered by id; empty when absent

  int numChannels = 3;
  int imageHeight = 224;
  int imageWidth = 224;
  int patchSize = 16;
  double layerNormEps = 1e-12;
  bool qkvBias = true;
  Activation hiddenAct = Activation::Gelu;

  // ViT, DeiT, DINOv2, CLIP, SigLIP
  int hiddenSize = 768;
  int numHiddenLayers = 12;
  int numAttentionHeads = 12;
  int intermediateSize = 3072; // DINOv2: int(hidden_size * mlp_ratio), SwiGLU's own rule
  bool swiglu = false;         // DINOv2's use_swiglu_ffn
  int numRegisterTokens = 0;   // dinov2_with_registers: tokens between CLS and the patches

  // BEiT
  bool absolutePositions = true;     // use_absolute_position_embeddings (BEiT's default: false)
  bool relativePositionBias = false; // use_relative_position_bias: one table per layer
  bool sharedRelativePositionBias = false; // use_shared_relative_position_bias: one table
  bool layerScale = false;                 // layer_scale_init_value > 0: lambda_1, lambda_2
  bool meanPooling = false; // use_mean_pooling: no final norm, the pooler norms the patches' mean

  /// Whether the family is a plain ViT encoder (ViT, DeiT, DINOv2, BEiT, CLIP,
  /// SigLIP); how many tokens precede the patches (CLS, DeiT's distillation
  /// token, DINOv2's registers; none in SigLIP); and how many of those have
  /// a position embedding (registers have none).
  bool isVitEncoder() const;
  int prefixTokens() const;
  int positionedPrefixTokens() const;

  // Swin
  int embedDim = 96;
  std::vector<int> depths;
  std::vector<int> numHeads;
  int windowSize = 7;
  double mlpRatio = 4.0;
  bool useAbsoluteEmbeddings = false;

  // ResNet and ConvNeXt: the stages' widths (their depths are `depths`)
  std::vector<int> hiddenSizes;
  // ResNet
  int embeddingSize = 64; // the stem's width
  bool bottleneck = true; // layer_type "bottleneck" (else "basic")
  bool downsampleInFirstStage = false;
  bool downsampleInBottleneck = false; // stride in the first 1x1 (v1) instead of the 3x3 (v1.5)

  /// Width of the final hidden state (ViT: hidden_size; Swin: embed_dim *
  /// 2^(stages-1); ResNet, ConvNeXt: the last of hidden_sizes).
  int finalHiddenSize() const;
};

/// Parses and validates config.json text. Throws ModelError naming
/// `sourcePath` (and the key) on malformed JSON, unsupported model_type
/// (supportedModelTypes()) or invalid geometry.
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
  at::Tensor projection;      // [B, P]: CLIP's image_embeds, or undefined
};

/// A model family's forward pass over plain tensors.
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
  /// Whether lastHiddenState starts with a CLS token (not the convolutional families).
  virtual bool hasFirstToken() const { return true; }
  /// Whether the forward gives a projection (CLIP's visual_projection), and its width.
  virtual bool hasProjection() const { return false; }
  virtual std::int64_t projectionDim() const { return 0; }
  virtual std::int64_t numLabels() const = 0;
};

// Shared tensor helpers of the forward passes.
at::Tensor applyActivation(const at::Tensor& x, Activation act);
std::string shapeToString(at::IntArrayRef shape);

} // namespace engine
} // namespace dualembed

#endif
