// Forward pass of Hugging Face ViTModel / ViTForImageClassification over
// plain tensors (eager attention), matching transformers in float32.
#ifndef DualEmbed_Engine_VisionTransformer_h
#define DualEmbed_Engine_VisionTransformer_h

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
  bool hasPooler() const override { return PoolerWeight.defined(); }
  bool hasClassifier() const override { return ClassifierWeight.defined(); }
  std::int64_t numLabels() const override;

private:
  struct Layer
  {
    at::Tensor lnBeforeW, lnBeforeB, queryW, queryB, keyW, keyB, valueW, valueB;
    at::Tensor attnOutW, attnOutB, lnAfterW, lnAfterB, interW, interB, outW, outB;
  };

  at::Tensor positionEmbeddings(std::int64_t gridH, std::int64_t gridW) const;

  ModelConfig Config;
  at::Tensor ClsToken, PositionEmbeddings, PatchW, PatchB;
  std::vector<Layer> Layers;
  at::Tensor FinalLnW, FinalLnB;
  at::Tensor PoolerWeight, PoolerBias;
  at::Tensor ClassifierWeight, ClassifierBias;
};

} // namespace engine
} // namespace dualembed

#endif
