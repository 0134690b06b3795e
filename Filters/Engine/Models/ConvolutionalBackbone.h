// What the convolutional families (ResNet, ConvNeXt) share: no CLS token (the
// final map is returned as H*W tokens), a pooler output, and an optional
// classifier that reads it.
#ifndef DualEmbed_Engine_ConvolutionalBackbone_h
#define DualEmbed_Engine_ConvolutionalBackbone_h

#include "Matmul.h"
#include "ModelConfig.h"

#include <ATen/core/Tensor.h>

namespace dualembed
{
namespace engine
{

class ConvolutionalBackbone : public Backbone
{
public:
  bool hasPooler() const override { return true; }
  bool hasClassifier() const override { return Classifier.defined(); }
  bool hasFirstToken() const override { return false; }
  std::int64_t numLabels() const override { return Classifier.outFeatures(); }

protected:
  explicit ConvolutionalBackbone(const ModelConfig& config)
    : Config(config)
  {
  }

  /// `tokens` [B, H*W, C] and `pooled` [B, C] (float32), with the logits of the classifier.
  BackboneOutput outputs(const at::Tensor& tokens, const at::Tensor& pooled) const
  {
    BackboneOutput out;
    out.lastHiddenState = tokens;
    out.poolerOutput = pooled;
    if (Classifier.defined())
    {
      out.logits = Classifier.forward(pooled, at::kFloat);
    }
    return out;
  }

  ModelConfig Config;
  Linear Classifier;
  at::ScalarType ComputeType = at::kFloat;
};

} // namespace engine
} // namespace dualembed

#endif
