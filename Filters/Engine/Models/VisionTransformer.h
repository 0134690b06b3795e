// Forward pass of the plain ViT encoders of Hugging Face over plain tensors
// (eager attention), matching transformers in float32:
// - ViTModel / ViTForImageClassification;
// - DeiTModel / DeiTForImageClassification(WithTeacher): a distillation token
//   after the CLS token; the teacher variant's logits are the mean of its two
//   heads (CLS and distillation token);
// - Dinov2Model / Dinov2ForImageClassification: layer scale (folded into the
//   products it follows), an MLP or SwiGLU, pooler_output = the normed CLS
//   token, a classifier over [CLS, mean of the patch tokens]; with registers
//   (dinov2_with_registers): register tokens after CLS, without positions,
//   positions resized with antialiasing;
// - BeitModel / BeitForImageClassification: no key bias, a relative position
//   bias per layer or shared (its table resized to the input's patch grid),
//   optional absolute positions, layer scale (folded), and with mean pooling
//   no final norm: pooler_output = the normed mean of the patch tokens (else
//   the normed CLS token), which the classifier reads;
// - CLIPVisionModel(WithProjection), the vision tower of a full CLIPModel and
//   CLIPForImageClassification: a layer norm before the encoder, quick GELU,
//   last_hidden_state not normed, pooler_output = the post-normed CLS token,
//   image_embeds = its projection, a classifier over the patch tokens' mean;
// - SiglipVisionModel, the vision tower of a full SiglipModel and
//   SiglipForImageClassification: no CLS token, last_hidden_state post-normed,
//   pooler_output = the attention-pooling head (one learned query), a
//   classifier over the tokens' mean.
// Position embeddings are interpolated (bicubic) to the input's patch grid
// as transformers does. In bfloat16 only the products (linear layers,
// attention) take bfloat16 inputs; they accumulate in float32, and the
// residual stream, layer norms, softmax, pooling and heads stay float32.
#ifndef DualEmbed_Engine_VisionTransformer_h
#define DualEmbed_Engine_VisionTransformer_h

#include "Matmul.h"
#include "ModelConfig.h"

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace dualembed
{
namespace engine
{

class VisionTransformer : public Backbone
{
public:
  /// `prefix` is "" (the bare model) or "vit.", "deit.", "dinov2.", "beit."
  /// (the classification model), "vision_model." for CLIP and SigLIP; the classifier
  /// (unprefixed), ViT's and DeiT's pooler and CLIP's projection are optional,
  /// every other weight must be present with the configured shape.
  VisionTransformer(const ModelConfig& config, const WeightSet& weights, const std::string& prefix);

  BackboneOutput forward(const at::Tensor& pixelValues) const override;
  void to(at::Device device, at::ScalarType dtype) override;
  bool hasPooler() const override
  {
    return Pooler.defined() || Head.probe.defined() || Config.modelType == ModelType::Dinov2 ||
      Config.modelType == ModelType::Clip ||
      (Config.modelType == ModelType::Beit && (!Config.meanPooling || PoolerLnW.defined()));
  }
  bool hasFirstToken() const override { return Config.prefixTokens() > 0; }
  bool hasProjection() const override { return Projection.defined(); }
  std::int64_t projectionDim() const override { return Projection.outFeatures(); }
  bool hasClassifier() const override { return Classifier.defined(); }
  std::int64_t numLabels() const override;

private:
  struct Layer
  {
    at::Tensor lnBeforeW, lnBeforeB, lnAfterW, lnAfterB;
    Linear qkv;                 // query, key and value in one product
    Linear attnOut, inter, out; // DINOv2, BEiT: their layer scales folded into attnOut and out
    at::Tensor biasTable;       // BEiT's relative position bias of this layer, optional
  };

  /// The layer norms before attention and before the MLP (`before`, `after`: name prefixes).
  void loadNorms(
    const WeightSet& w, const std::string& before, const std::string& after, Layer& L) const;
  void loadLayer(const WeightSet& w, const std::string& prefix, std::int64_t inter);
  void loadBeitLayer(const WeightSet& w, const std::string& prefix, std::int64_t inter);
  void loadClipLayer(const WeightSet& w, const std::string& prefix, std::int64_t inter);
  void loadEmbeddings(const WeightSet& w, const std::string& prefix, std::int64_t numPatches);
  void loadPoolingHead(const WeightSet& w, const std::string& prefix);
  at::Tensor poolingHead(const at::Tensor& lastHiddenState) const;
  void loadHeads(const WeightSet& w, const std::string& prefix);
  at::Tensor positionEmbeddings(std::int64_t gridH, std::int64_t gridW) const;
  at::Tensor logits(const at::Tensor& lastHiddenState) const;
  BackboneOutput beitOutput(const at::Tensor& x) const;

  ModelConfig Config;
  at::Tensor ClsToken, DistillationToken, RegisterTokens, PositionEmbeddings;
  at::Tensor SharedBiasTable;      // BEiT's relative position bias shared by all layers, optional
  at::Tensor PoolerLnW, PoolerLnB; // BEiT's pooler norm (mean pooling)
  Linear Patch;                    // the stride-patch convolution as a product over patch rows
  std::vector<Layer> Layers;
  at::Tensor PreLnW, PreLnB;     // CLIP's pre_layrnorm
  at::Tensor FinalLnW, FinalLnB; // CLIP: post_layernorm, of the CLS token only
  Linear Pooler, Classifier;     // optional
  Linear Projection;             // CLIP's visual_projection, optional
  Linear DistillationClassifier; // DeiT with teacher: averaged with Classifier
  struct PoolingHead             // SigLIP's SiglipMultiheadAttentionPoolingHead
  {
    at::Tensor probe; // its query, projected at load: [1, heads, 1, head width]
    Linear keyValue, out, fc1, fc2;
    at::Tensor lnW, lnB;
  } Head;
  at::ScalarType ComputeType = at::kFloat;
};

} // namespace engine
} // namespace dualembed

#endif
