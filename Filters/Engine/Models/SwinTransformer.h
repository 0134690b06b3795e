// Forward pass of Hugging Face SwinModel / SwinForImageClassification over
// plain tensors: patch embedding, shifted-window attention with relative
// position bias and attention mask, padding to whole windows, patch merging,
// final layer norm and mean pooling (pooler_output). In bfloat16 only the
// products (linear layers, attention) take bfloat16 inputs; they accumulate
// in float32, and the residual stream, layer norms, attention bias and mask,
// softmax, pooling and head stay float32.
#ifndef DualEmbed_Engine_SwinTransformer_h
#define DualEmbed_Engine_SwinTransformer_h

#include "Matmul.h"
#include "ModelConfig.h"

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace dualembed
{
namespace engine
{

class SwinTransformer : public Backbone
{
public:
  /// `prefix` is "" (SwinModel) or "swin." (SwinForImageClassification);
  /// `classifier.*` is optional. relative_position_index buffers are
  /// recomputed (they need not be in the checkpoint).
  SwinTransformer(const ModelConfig& config, const WeightSet& weights, const std::string& prefix);

  BackboneOutput forward(const at::Tensor& pixelValues) const override;
  void to(at::Device device, at::ScalarType dtype) override;
  bool hasPooler() const override { return true; }
  bool hasClassifier() const override { return Classifier.defined(); }
  std::int64_t numLabels() const override;

private:
  struct Block
  {
    at::Tensor lnBeforeW, lnBeforeB, biasTable, lnAfterW, lnAfterB;
    Linear qkv; // query, key and value in one product
    Linear attnOut, inter, out;
  };
  struct Stage
  {
    std::int64_t dim = 0;
    std::int64_t heads = 0;
    std::vector<Block> blocks;
    at::Tensor mergeNormW, mergeNormB; // undefined for the last stage
    Linear mergeReduction;
  };

  at::Tensor block(const Block& blk, const at::Tensor& x, std::int64_t height, std::int64_t width,
    std::int64_t dim, std::int64_t heads, bool shifted) const;

  ModelConfig Config;
  Linear Patch; // the stride-patch convolution as a product over patch rows
  at::Tensor EmbedNormW, EmbedNormB;
  std::vector<Stage> Stages;
  at::Tensor FinalLnW, FinalLnB;
  Linear Classifier; // optional
  at::ScalarType ComputeType = at::kFloat;
};

} // namespace engine
} // namespace dualembed

#endif
