// Forward pass of Hugging Face ViTModel / ViTForImageClassification over
// plain tensors (eager attention), matching transformers in float32.
// In bfloat16 only the products (linear layers, attention) take bfloat16
// inputs; they accumulate in float32, and the residual stream, layer norms,
// softmax, pooling and heads stay float32.
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
  /// `prefix` is "" (ViTModel) or "vit." (ViTForImageClassification); the
  /// classifier (`classifier.weight`/`.bias`, unprefixed) and the pooler are
  /// optional, every other weight must be present with the configured shape.
  VisionTransformer(const ModelConfig& config, const WeightSet& weights, const std::string& prefix);

  BackboneOutput forward(const at::Tensor& pixelValues) const override;
  void to(at::Device device, at::ScalarType dtype) override;
  bool hasPooler() const override { return Pooler.defined(); }
  bool hasClassifier() const override { return Classifier.defined(); }
  std::int64_t numLabels() const override;

private:
  struct Layer
  {
    at::Tensor lnBeforeW, lnBeforeB, lnAfterW, lnAfterB;
    Linear qkv; // query, key and value in one product
    Linear attnOut, inter, out;
  };

  at::Tensor positionEmbeddings(std::int64_t gridH, std::int64_t gridW) const;

  ModelConfig Config;
  at::Tensor ClsToken, PositionEmbeddings;
  Linear Patch; // the stride-patch convolution as a product over patch rows
  std::vector<Layer> Layers;
  at::Tensor FinalLnW, FinalLnB;
  Linear Pooler, Classifier; // optional
  at::ScalarType ComputeType = at::kFloat;
};

} // namespace engine
} // namespace dualembed

#endif
