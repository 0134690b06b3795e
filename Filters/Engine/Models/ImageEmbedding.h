// The engine side of the ImageEmbedding filter: a model loaded from a
// Hugging Face folder (ViT / Swin, with or without classifier) or from a
// TorchScript file, run on preprocessed pixel batches.
//
//   EmbeddingModel model("/path/to/hf-folder", options);
//   EmbeddingOutput out = model.run(pixelValues); // [B,3,H,W] float32 CPU
//   out.embedding  [B, D]; out.logits / out.probs [B, K] when hasHead().
//
// All failures (missing or malformed files, missing weights, wrong shapes,
// unusable device, failing forward) throw ModelError with a message naming
// the file involved. Not thread-safe: one run() at a time per model.
#ifndef DualEmbed_Engine_ImageEmbedding_h
#define DualEmbed_Engine_ImageEmbedding_h

#include "EngineThreads.h"     // setEngineThreads, for the model's users
#include "EngineTypes.h"       // ProgressCallback
#include "ImagePreprocessor.h" // ImageView, PreprocessorConfig
#include "ModelConfig.h"       // ModelType

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dualembed
{
namespace engine
{

enum class Pooling
{
  Auto,       // what the family's classifier reads: autoPooling()
  FirstToken, // last_hidden_state[:, 0] (after the final layer norm)
  Mean,       // mean over tokens of last_hidden_state (= Swin's and ResNet's pooler_output)
  Pooler,     // the model's pooler_output (ViT: tanh(dense(CLS)), needs pooler weights;
              // ConvNeXt: the layer norm of the mean; CLIP: the post-normed CLS token)
  Projection  // CLIP's image_embeds: the pooler output through visual_projection
};

enum class ComputeDevice
{
  Auto, // CUDA when available, else CPU
  Cpu,
  Cuda
};

enum class Precision
{
  Float32,
  BFloat16 // CUDA, or a CPU with AVX512-BF16 / AMX (cpuHasBFloat16())
};

/// What Pooling::Auto takes for a family: what its own classifier reads
/// (ViT, DeiT, DINOv2: first-token; Swin: mean; ResNet, ConvNeXt: pooler;
/// CLIP: projection, or pooler where the checkpoint has none; SigLIP: pooler,
/// its attention-pooling head, or mean without one), and its name for
/// a model_type name ("auto" for an unknown one or TorchScript).
Pooling autoPooling(ModelType type);
std::string autoPoolingName(const std::string& modelTypeName);

/// "auto", "first-token", "mean", "pooler", "projection" (ModelError otherwise).
Pooling parsePooling(const std::string& name);
std::string poolingName(Pooling pooling);

struct EmbeddingOptions
{
  Pooling pooling = Pooling::Auto; // ignored for TorchScript (the script decides)
  ComputeDevice device = ComputeDevice::Auto;
  Precision precision = Precision::Float32;
  /// Threads set before loading and before each run() (setEngineThreads):
  /// 0 = usableCores(), > 0 = that many, < 0 = leave as is.
  int threads = 0;
  /// TorchScript only: input size of the validation probe and of
  /// inputHeight()/inputWidth(). 0 = the size fixed by a
  /// preprocessor_config.json next to the file (modelInputSize), else
  /// image_size of a config.json there, else 224.
  int inputHeight = 0;
  int inputWidth = 0;
  /// Keep the large CPU buffers of a forward for the next layer and batch
  /// (BufferReuseScope); off only to measure what it saves.
  bool reuseBuffers = true;
};

/// All float32, contiguous, on the CPU. logits/probs undefined without a head.
struct EmbeddingOutput
{
  at::Tensor embedding; // [B, D]
  at::Tensor logits;    // [B, K]
  at::Tensor probs;     // [B, K], softmax(logits)
};

class EmbeddingModel
{
public:
  /// `path`: a Hugging Face model folder (config.json + model.safetensors,
  /// model.safetensors.index.json shards, or pytorch_model.bin), a weights
  /// file or config.json inside such a folder, or a TorchScript file.
  explicit EmbeddingModel(
    const std::string& path, const EmbeddingOptions& options = EmbeddingOptions());
  ~EmbeddingModel();
  EmbeddingModel(EmbeddingModel&&) noexcept;
  EmbeddingModel& operator=(EmbeddingModel&&) noexcept;
  EmbeddingModel(const EmbeddingModel&) = delete;
  EmbeddingModel& operator=(const EmbeddingModel&) = delete;

  /// pixelValues: [B, 3, H, W] float (any device; copied as needed).
  EmbeddingOutput run(const at::Tensor& pixelValues);

  /// config.json's model_type ("vit", "swin", "resnet", ...) or "torchscript".
  const std::string& modelType() const;
  bool isTorchScript() const;
  std::int64_t embeddingDim() const;
  bool hasHead() const;
  std::int64_t numLabels() const; // 0 without head
  /// id2label ordered by id ("LABEL_i" where config.json has none); empty without head.
  const std::vector<std::string>& classNames() const;
  int inputHeight() const;
  int inputWidth() const;
  /// The pooling actually used (Auto resolved; Auto for TorchScript), and
  /// the one asked for (Auto resolves per checkpoint: CLIP without its
  /// projection takes pooler, SigLIP or BEiT without a pooler mean).
  Pooling pooling() const;
  Pooling requestedPooling() const;
  /// File the weights came from (model.safetensors, pytorch_model.bin or the .pt).
  const std::string& weightsPath() const;
  /// preprocessor_config.json next to the model, or "" when there is none.
  const std::string& preprocessorConfigPath() const;
  /// "cpu" or "cuda:0"; and the compute dtype ("float32" / "bfloat16").
  std::string deviceName() const;
  std::string precisionName() const;

private:
  struct Impl;
  std::unique_ptr<Impl> P;
};

/// Where embedImages() finds the samples' images.
class ImageSource
{
public:
  virtual ~ImageSource() = default;
  virtual std::int64_t count() const = 0;
  /// The pixels of sample `index`, valid until image() is called again with
  /// the same `slot` (slot < the batch size: a batch's images live together).
  /// Throws ModelError when the image cannot be read.
  virtual ImageView image(std::int64_t index, std::size_t slot) = 0;
};

/// The rows embedImages() writes, one per image: embeddingDim() floats, and
/// numLabels() for a model with a head (else null).
struct EmbeddingTargets
{
  float* embedding = nullptr;
  float* logits = nullptr;
  float* probs = nullptr;
};

/// Embeds every image of `images`, `batchSize` at a time: preprocesses a
/// batch in parallel (every image of a batch must come to one size), runs
/// the model and copies its rows into `targets`. `progress(fraction)` is
/// called before each batch; false aborts (Aborted). Throws ModelError for an
/// image that cannot be read or preprocessed, or a failing forward.
void embedImages(EmbeddingModel& model, ImageSource& images,
  const PreprocessorConfig& preprocessing, std::int64_t batchSize, const EmbeddingTargets& targets,
  const std::function<bool(double)>& progress);

} // namespace engine
} // namespace dualembed

#endif
