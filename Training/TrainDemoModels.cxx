// TrainDemoModels: makes the bundled demo models of DualEmbed (Data/models),
// a foundation / fine-tuned pair of small Vision Transformers on Fashion-MNIST.
//
//   1. Foundation: a ViTModel pre-trained without labels on the 60 000
//      training images by rotation prediction (0/90/180/270 degrees; the
//      4-way head is thrown away).
//   2. Fine-tuned: the same backbone, fine-tuned with the labels as a
//      ViTForImageClassification (classifier on the CLS token).
//
// Both are written as Hugging Face model folders (config.json,
// model.safetensors, preprocessor_config.json) in the exact transformers ViT
// layout and weight names, then loaded back with the engine's EmbeddingModel
// to check that its outputs equal the training model's (max |diff| <= 1e-4).
//
//   TrainDemoModels --data /usr/share/datasets/fashion-mnist --out Data/models --seed 1
//
// Training batches go through the engine's own preprocessing (the folders'
// preprocessor_config.json), so training and inference see the same numbers.
// Runs are reproducible for a given seed and thread count.
#include "SafeTensorsWriter.h"

#include "ImageEmbedding.h"
#include "ImagePreprocessor.h"
#include "SafeTensors.h"

#ifdef DUALEMBED_TRAINING_WITH_FORMATS
#include "ImageDataset.h"
#else
#include "FashionMnist.h"
#endif

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// OpenBLAS keeps its own thread pool (not ATen's): sized along with ATen's
// when the BLAS in use is OpenBLAS (weak: absent with another BLAS).
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace fs = std::filesystem;
namespace nn = torch::nn;
using Json = nlohmann::json;

namespace
{

const std::vector<std::string> kClassNames = { "T-shirt/top", "Trouser", "Pullover", "Dress",
  "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };

// Fashion-MNIST training-set pixel statistics (mean 0.2860, std 0.3530).
constexpr double kMean = 0.286;
constexpr double kStd = 0.353;
constexpr int kImageSize = 28;

struct Options
{
  std::string dataDir = "/usr/share/datasets/fashion-mnist";
  std::string outDir = "Data/models";
  std::uint64_t seed = 1;
  int threads = 0; // 0 = hardware concurrency
  int hidden = 64;
  int layers = 4;
  int heads = 2;
  int mlp = 128;
  int patch = 7;
  int pretrainEpochs = 2;
  int finetuneEpochs = 10;
  int batch = 128;
  double pretrainLr = 2e-3;
  double finetuneLr = 2e-3;
  bool augment = false; // random crop (padding 2); horizontal flip when fine-tuning
  double weightDecay = 0.05;
  std::int64_t trainLimit = -1; // use only the first N training images (quick trials)
  std::string device = "cpu";   // "cpu" or "cuda" (training only; the check runs on the CPU)
};

void usage()
{
  std::cout
    << "Usage: TrainDemoModels [options]\n"
       "  --data DIR             Fashion-MNIST IDX .gz files (default "
       "/usr/share/datasets/fashion-mnist)\n"
       "  --out DIR              writes DIR/fashion-vit-foundation, DIR/fashion-vit-ft and one "
       "checkpoint per\n"
       "                         fine-tuning epoch in DIR/fashion-vit-ft-run/checkpoint-<step> "
       "(default Data/models)\n"
       "  --seed N               random seed (default 1)\n"
       "  --threads N            ATen and OpenBLAS threads (default: all cores; 1 is faster on a "
       "busy machine)\n"
       "  --hidden N --layers N --heads N --mlp N --patch N   ViT shape (default 64 4 2 128 7)\n"
       "  --pretrain-epochs N    rotation-prediction epochs (default 2)\n"
       "  --finetune-epochs N    classification epochs (default 10)\n"
       "  --batch N              batch size (default 128)\n"
       "  --pretrain-lr X --finetune-lr X --weight-decay X   AdamW (default 2e-3 2e-3 0.05)\n"
       "  --augment 0|1          random crop (padding 2) in both stages, horizontal flip when "
       "fine-tuning (default 0)\n"
       "  --device cpu|cuda      where to train (default cpu); the engine check runs on the CPU\n"
       "  --train-limit N        use only the first N training images (quick trials)\n";
}

Options parseOptions(int argc, char** argv)
{
  Options o;
  for (int i = 1; i < argc; ++i)
  {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help")
    {
      usage();
      std::exit(0);
    }
    if (i + 1 >= argc)
    {
      throw std::runtime_error("option " + a + " needs a value (see --help)");
    }
    const std::string v = argv[++i];
    if (a == "--data")
      o.dataDir = v;
    else if (a == "--out")
      o.outDir = v;
    else if (a == "--seed")
      o.seed = std::stoull(v);
    else if (a == "--threads")
      o.threads = std::stoi(v);
    else if (a == "--hidden")
      o.hidden = std::stoi(v);
    else if (a == "--layers")
      o.layers = std::stoi(v);
    else if (a == "--heads")
      o.heads = std::stoi(v);
    else if (a == "--mlp")
      o.mlp = std::stoi(v);
    else if (a == "--patch")
      o.patch = std::stoi(v);
    else if (a == "--pretrain-epochs")
      o.pretrainEpochs = std::stoi(v);
    else if (a == "--finetune-epochs")
      o.finetuneEpochs = std::stoi(v);
    else if (a == "--batch")
      o.batch = std::stoi(v);
    else if (a == "--pretrain-lr")
      o.pretrainLr = std::stod(v);
    else if (a == "--finetune-lr")
      o.finetuneLr = std::stod(v);
    else if (a == "--weight-decay")
      o.weightDecay = std::stod(v);
    else if (a == "--train-limit")
      o.trainLimit = std::stoll(v);
    else if (a == "--augment")
      o.augment = std::stoi(v) != 0;
    else if (a == "--device")
      o.device = v;
    else
      throw std::runtime_error("unknown option " + a + " (see --help)");
  }
  if (o.hidden % o.heads != 0 || kImageSize % o.patch != 0 || o.batch <= 0)
  {
    throw std::runtime_error("hidden must be a multiple of heads, patch must divide 28, batch > 0");
  }
  return o;
}

// ---------------------------------------------------------------------------
// The model: transformers' ViT, module by module, so that named_parameters()
// yields exactly the Hugging Face weight names.

void truncNormal(torch::Tensor t, double std)
{
  torch::NoGradGuard noGrad;
  t.normal_(0.0, std).clamp_(-2.0 * std, 2.0 * std);
}

nn::Linear makeLinear(int in, int out)
{
  nn::Linear l(nn::LinearOptions(in, out));
  truncNormal(l->weight, 0.02);
  torch::NoGradGuard noGrad;
  l->bias.zero_();
  return l;
}

nn::LayerNorm makeLayerNorm(int d)
{
  return nn::LayerNorm(nn::LayerNormOptions({ d }).eps(1e-12));
}

struct PatchEmbeddingsImpl : nn::Module
{
  PatchEmbeddingsImpl(int channels, int d, int p)
    : Patch(p)
  {
    projection =
      register_module("projection", nn::Conv2d(nn::Conv2dOptions(channels, d, p).stride(p)));
    truncNormal(projection->weight, 0.02);
    torch::NoGradGuard noGrad;
    projection->bias.zero_();
  }
  /// [B, C, H, W] -> [B, N, D]. A stride-p convolution with a p x p kernel is
  /// a linear map of each flattened (C, p, p) patch; that is faster to train.
  torch::Tensor forward(const torch::Tensor& x)
  {
    const std::int64_t b = x.size(0), c = x.size(1), gh = x.size(2) / Patch, gw = x.size(3) / Patch;
    torch::Tensor patches = x.reshape({ b, c, gh, Patch, gw, Patch })
                              .permute({ 0, 2, 4, 1, 3, 5 })
                              .reshape({ b, gh * gw, c * Patch * Patch });
    return torch::linear(
      patches, projection->weight.view({ projection->weight.size(0), -1 }), projection->bias);
  }
  std::int64_t Patch;
  nn::Conv2d projection{ nullptr };
};
TORCH_MODULE(PatchEmbeddings);

struct EmbeddingsImpl : nn::Module
{
  EmbeddingsImpl(int channels, int d, int p, int numPatches)
  {
    cls_token = register_parameter("cls_token", torch::zeros({ 1, 1, d }));
    position_embeddings =
      register_parameter("position_embeddings", torch::zeros({ 1, numPatches + 1, d }));
    truncNormal(cls_token, 0.02);
    truncNormal(position_embeddings, 0.02);
    patch_embeddings = register_module("patch_embeddings", PatchEmbeddings(channels, d, p));
  }
  torch::Tensor forward(const torch::Tensor& pixels)
  {
    torch::Tensor x = patch_embeddings(pixels);
    x = torch::cat({ cls_token.expand({ x.size(0), 1, x.size(2) }), x }, 1);
    return x + position_embeddings;
  }
  torch::Tensor cls_token, position_embeddings;
  PatchEmbeddings patch_embeddings{ nullptr };
};
TORCH_MODULE(Embeddings);

struct SelfAttentionImpl : nn::Module
{
  SelfAttentionImpl(int d, int heads)
    : Heads(heads)
  {
    query = register_module("query", makeLinear(d, d));
    key = register_module("key", makeLinear(d, d));
    value = register_module("value", makeLinear(d, d));
  }
  torch::Tensor forward(const torch::Tensor& h)
  {
    const std::int64_t b = h.size(0), n = h.size(1), d = h.size(2), hd = d / Heads;
    // One product for query, key and value (faster than three on small
    // matrices); the weights stay three HF-named tensors.
    torch::Tensor qkv = torch::linear(h, torch::cat({ query->weight, key->weight, value->weight }),
      torch::cat({ query->bias, key->bias, value->bias }));
    qkv = qkv.view({ b, n, 3, Heads, hd }).permute({ 2, 0, 3, 1, 4 }); // [3, B, heads, N, hd]
    torch::Tensor q = qkv[0], k = qkv[1], v = qkv[2];
    torch::Tensor probs =
      torch::softmax(torch::matmul(q, k.transpose(2, 3)) / std::sqrt(double(hd)), -1);
    return torch::matmul(probs, v).transpose(1, 2).reshape({ b, n, d });
  }
  std::int64_t Heads;
  nn::Linear query{ nullptr }, key{ nullptr }, value{ nullptr };
};
TORCH_MODULE(SelfAttention);

/// transformers' ViTSelfOutput / ViTIntermediate / ViTOutput: one `dense` each.
struct DenseImpl : nn::Module
{
  DenseImpl(int in, int out) { dense = register_module("dense", makeLinear(in, out)); }
  torch::Tensor forward(const torch::Tensor& x) { return dense(x); }
  nn::Linear dense{ nullptr };
};
TORCH_MODULE(Dense);

struct AttentionImpl : nn::Module
{
  AttentionImpl(int d, int heads)
  {
    attention = register_module("attention", SelfAttention(d, heads));
    output = register_module("output", Dense(d, d));
  }
  torch::Tensor forward(const torch::Tensor& h) { return output(attention(h)); }
  SelfAttention attention{ nullptr };
  Dense output{ nullptr };
};
TORCH_MODULE(Attention);

struct LayerImpl : nn::Module
{
  LayerImpl(int d, int heads, int mlp)
  {
    layernorm_before = register_module("layernorm_before", makeLayerNorm(d));
    attention = register_module("attention", Attention(d, heads));
    layernorm_after = register_module("layernorm_after", makeLayerNorm(d));
    intermediate = register_module("intermediate", Dense(d, mlp));
    output = register_module("output", Dense(mlp, d));
  }
  torch::Tensor forward(torch::Tensor x)
  {
    x = x + attention(layernorm_before(x));
    return x + output(torch::gelu(intermediate(layernorm_after(x)))); // exact (erf) GELU
  }
  nn::LayerNorm layernorm_before{ nullptr }, layernorm_after{ nullptr };
  Attention attention{ nullptr };
  Dense intermediate{ nullptr }, output{ nullptr };
};
TORCH_MODULE(Layer);

struct EncoderImpl : nn::Module
{
  EncoderImpl(int d, int heads, int mlp, int layers)
  {
    layer = register_module("layer", nn::ModuleList());
    for (int i = 0; i < layers; ++i)
    {
      layer->push_back(Layer(d, heads, mlp));
    }
  }
  torch::Tensor forward(torch::Tensor x)
  {
    for (const auto& m : *layer)
    {
      x = m->as<LayerImpl>()->forward(x);
    }
    return x;
  }
  nn::ModuleList layer{ nullptr };
};
TORCH_MODULE(Encoder);

/// transformers' ViTModel(add_pooling_layer=False): last_hidden_state.
struct VitModelImpl : nn::Module
{
  explicit VitModelImpl(const Options& o)
  {
    const int numPatches = (kImageSize / o.patch) * (kImageSize / o.patch);
    embeddings = register_module("embeddings", Embeddings(3, o.hidden, o.patch, numPatches));
    encoder = register_module("encoder", Encoder(o.hidden, o.heads, o.mlp, o.layers));
    layernorm = register_module("layernorm", makeLayerNorm(o.hidden));
  }
  torch::Tensor forward(const torch::Tensor& pixels)
  {
    return layernorm(encoder(embeddings(pixels)));
  }
  /// The embedding DualEmbed uses: the CLS token after the final layer norm.
  torch::Tensor cls(const torch::Tensor& pixels) { return forward(pixels).select(1, 0); }
  Embeddings embeddings{ nullptr };
  Encoder encoder{ nullptr };
  nn::LayerNorm layernorm{ nullptr };
};
TORCH_MODULE(VitModel);

/// transformers' ViTForImageClassification: `vit.` backbone + `classifier`.
struct VitClassifierImpl : nn::Module
{
  VitClassifierImpl(VitModel backbone, int hidden, int labels)
  {
    vit = register_module("vit", backbone);
    classifier = register_module("classifier", makeLinear(hidden, labels));
  }
  torch::Tensor forward(const torch::Tensor& pixels) { return classifier(vit->cls(pixels)); }
  VitModel vit{ nullptr };
  nn::Linear classifier{ nullptr };
};
TORCH_MODULE(VitClassifier);

// ---------------------------------------------------------------------------
// Data.

struct Dataset
{
  std::int64_t count = 0;
  std::vector<std::uint8_t> pixels; // count * 28 * 28
  std::vector<std::int32_t> labels;
};

Dataset loadSplit(const std::string& dir, const std::string& split, std::int64_t limit)
{
  Dataset d;
#ifdef DUALEMBED_TRAINING_WITH_FORMATS
  namespace formats = dualembed::formats;
  const formats::DatasetInfo info =
    formats::probeDataset(dir + "/" + split + "-images-idx3-ubyte.gz");
  if (info.height != kImageSize || info.width != kImageSize || info.channels != 1)
  {
    throw std::runtime_error(info.path + " does not hold 28x28 grayscale images");
  }
  const std::int64_t n = limit >= 0 ? std::min(limit, info.numberOfSamples) : info.numberOfSamples;
  formats::SampleBlock block = formats::readSamples(info, 0, n);
  d.count = n;
  d.pixels = std::move(block.pixels);
  d.labels = std::move(block.labels);
#else
  dualembed::training::IdxImages idx = dualembed::training::readFashionMnist(dir, split, limit);
  if (idx.height != kImageSize || idx.width != kImageSize)
  {
    throw std::runtime_error(dir + ": " + split + " images are not 28x28");
  }
  d.count = idx.count;
  d.pixels = std::move(idx.pixels);
  d.labels = std::move(idx.labels);
#endif
  for (std::int32_t l : d.labels)
  {
    if (l < 0 || l >= static_cast<int>(kClassNames.size()))
    {
      throw std::runtime_error(
        dir + ": " + split + " label " + std::to_string(l) + " is not a Fashion-MNIST class");
    }
  }
  return d;
}

/// Portable random integer in [0, n) (std::uniform_int_distribution is not
/// the same on every standard library).
inline std::uint64_t randBelow(std::mt19937_64& rng, std::uint64_t n)
{
  return rng() % n;
}

/// Copies image `src` into `dst` (28 x 28), rotated by quarter*90 degrees
/// counter-clockwise, mirrored when `flip`, shifted by (dy, dx) with zero
/// fill (= torchvision RandomCrop(28, padding=2) for |dy|, |dx| <= 2).
void transformImage(
  const std::uint8_t* src, std::uint8_t* dst, int quarter, bool flip, int dy, int dx)
{
  constexpr int n = kImageSize;
  for (int y = 0; y < n; ++y)
  {
    for (int x = 0; x < n; ++x)
    {
      // Position in the rotated (and flipped) image, before the shift.
      int ry = y + dy, rx = x + dx;
      if (ry < 0 || ry >= n || rx < 0 || rx >= n)
      {
        dst[y * n + x] = 0;
        continue;
      }
      if (flip)
      {
        rx = n - 1 - rx;
      }
      int sy = ry, sx = rx;
      switch (quarter)
      {
        case 1:
          sy = rx;
          sx = n - 1 - ry;
          break; // 90 degrees counter-clockwise
        case 2:
          sy = n - 1 - ry;
          sx = n - 1 - rx;
          break; // 180
        case 3:
          sy = n - 1 - rx;
          sx = ry;
          break; // 270
        default:
          break;
      }
      dst[y * n + x] = src[sy * n + sx];
    }
  }
}

/// Preprocessed pixel values [count, 3, 28, 28] of 8-bit grayscale images,
/// through the engine's preprocessing (convert to RGB, rescale, normalize).
torch::Tensor preprocess(const std::uint8_t* pixels, std::int64_t count,
  const dualembed::engine::PreprocessorConfig& config)
{
  torch::Tensor out = torch::empty({ count, 3, kImageSize, kImageSize }, torch::kFloat);
  dualembed::engine::preprocessBatch(pixels, static_cast<std::size_t>(count), kImageSize,
    kImageSize, 1, config, out.data_ptr<float>());
  return out;
}

dualembed::engine::PreprocessorConfig preprocessorConfig()
{
  dualembed::engine::PreprocessorConfig c;
  c.doResize = true;
  c.height = kImageSize;
  c.width = kImageSize;
  c.resample = 2;
  c.doRescale = true;
  c.rescaleFactor = 1.0 / 255.0;
  c.doNormalize = true;
  c.mean = { { float(kMean), float(kMean), float(kMean) } };
  c.std = { { float(kStd), float(kStd), float(kStd) } };
  return c;
}

// ---------------------------------------------------------------------------
// Training.

double seconds(std::chrono::steady_clock::time_point since)
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

/// AdamW with weight decay on the matrices only (not on biases, layer norms,
/// the CLS token and position embeddings).
std::unique_ptr<torch::optim::AdamW> makeOptimizer(nn::Module& model, double lr, double weightDecay)
{
  std::vector<torch::Tensor> decay, noDecay;
  for (const auto& p : model.named_parameters())
  {
    const bool matrix = p.value().dim() >= 2 && p.key().size() > 7 &&
      p.key().compare(p.key().size() - 7, 7, ".weight") == 0;
    (matrix ? decay : noDecay).push_back(p.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay,
    std::make_unique<torch::optim::AdamWOptions>(
      torch::optim::AdamWOptions(lr).weight_decay(weightDecay)));
  groups.emplace_back(noDecay,
    std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(lr).weight_decay(0.0)));
  return std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(lr));
}

/// Linear warm-up, then cosine decay to 1 % of the peak.
double learningRate(double peak, std::int64_t step, std::int64_t warmup, std::int64_t total)
{
  if (step < warmup)
  {
    return peak * double(step + 1) / double(warmup);
  }
  const double t = double(step - warmup) / double(std::max<std::int64_t>(1, total - warmup));
  const double pi = std::acos(-1.0);
  return peak * (0.01 + 0.99 * 0.5 * (1.0 + std::cos(pi * std::min(1.0, t))));
}

enum class Task
{
  Rotation,      // self-supervised: predict the rotation, labels unused
  Classification // supervised: predict the class
};

/// What one epoch ended with, for checkpoints (trainer_state.json's log_history).
struct EpochLog
{
  int epoch = 0;         // 1-based
  std::int64_t step = 0; // optimizer steps so far (Trainer's global_step)
  std::int64_t maxSteps = 0;
  double loss = 0.0;
  double accuracy = 0.0;
  double learningRate = 0.0;
};

/// One training run of `epochs` epochs; `forward` maps pixels to logits.
/// `epochDone`, when set, runs after every epoch (the model in eval mode meanwhile).
template <typename Forward>
void train(const char* stage, Task task, nn::Module& model, Forward forward, const Dataset& data,
  const dualembed::engine::PreprocessorConfig& pre, const Options& o, int epochs, double peakLr,
  std::mt19937_64& rng, const std::function<void(const EpochLog&)>& epochDone = {})
{
  const torch::Device device(o.device);
  auto optimizer = makeOptimizer(model, peakLr, o.weightDecay);
  std::vector<torch::Tensor> params = model.parameters();
  const std::int64_t stepsPerEpoch = data.count / o.batch; // drop the last partial batch
  const std::int64_t total = stepsPerEpoch * epochs;
  const std::int64_t warmup = std::min<std::int64_t>(stepsPerEpoch / 2, 500);
  std::vector<std::int64_t> order(static_cast<std::size_t>(data.count));
  std::vector<std::uint8_t> batchPixels(
    static_cast<std::size_t>(o.batch) * kImageSize * kImageSize);
  std::vector<std::int64_t> batchTargets(static_cast<std::size_t>(o.batch));
  std::int64_t step = 0;
  model.train();
  for (int epoch = 0; epoch < epochs; ++epoch)
  {
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < order.size(); ++i)
    {
      order[i] = static_cast<std::int64_t>(i);
    }
    for (std::size_t i = order.size(); i > 1; --i) // Fisher-Yates with our own RNG
    {
      std::swap(order[i - 1], order[randBelow(rng, i)]);
    }
    double lossSum = 0.0;
    std::int64_t correct = 0, seen = 0;
    for (std::int64_t s = 0; s < stepsPerEpoch; ++s, ++step)
    {
      for (int j = 0; j < o.batch; ++j)
      {
        const std::int64_t idx = order[static_cast<std::size_t>(s * o.batch + j)];
        const int quarter = task == Task::Rotation ? static_cast<int>(randBelow(rng, 4)) : 0;
        bool flip = false;
        int dy = 0, dx = 0;
        if (o.augment)
        {
          // No flips for rotation prediction: a mirrored shoe turned by 90
          // degrees looks like the unmirrored one turned by 270.
          flip = task == Task::Classification && randBelow(rng, 2) == 1;
          dy = static_cast<int>(randBelow(rng, 5)) - 2;
          dx = static_cast<int>(randBelow(rng, 5)) - 2;
        }
        transformImage(data.pixels.data() + idx * kImageSize * kImageSize,
          batchPixels.data() + static_cast<std::size_t>(j) * kImageSize * kImageSize, quarter, flip,
          dy, dx);
        batchTargets[j] =
          task == Task::Rotation ? quarter : data.labels[static_cast<std::size_t>(idx)];
      }
      const double lr = learningRate(peakLr, step, warmup, total);
      for (auto& group : optimizer->param_groups())
      {
        static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
      }
      torch::Tensor x = preprocess(batchPixels.data(), o.batch, pre).to(device);
      torch::Tensor y = torch::from_blob(batchTargets.data(), { o.batch }, torch::kLong).to(device);
      torch::Tensor logits = forward(x);
      torch::Tensor loss = nn::functional::cross_entropy(logits, y);
      optimizer->zero_grad();
      loss.backward();
      nn::utils::clip_grad_norm_(params, 1.0);
      optimizer->step();
      lossSum += loss.item<double>() * o.batch;
      correct += logits.argmax(1).eq(y).sum().item<std::int64_t>();
      seen += o.batch;
      if (epoch == 0 && s == 19)
      {
        std::printf("[%s] first 20 steps: %.2f s (about %.0f s per epoch)\n", stage, seconds(start),
          seconds(start) / 20.0 * double(stepsPerEpoch));
        std::fflush(stdout);
      }
    }
    std::printf("[%s] epoch %d/%d  loss %.4f  train accuracy %.4f  lr %.2e  %.1f s\n", stage,
      epoch + 1, epochs, lossSum / double(seen), double(correct) / double(seen),
      learningRate(peakLr, step - 1, warmup, total), seconds(start));
    std::fflush(stdout);
    if (epochDone)
    {
      model.eval();
      epochDone({ epoch + 1, step, total, lossSum / double(seen), double(correct) / double(seen),
        learningRate(peakLr, step - 1, warmup, total) });
      model.train();
    }
  }
  model.eval();
}

/// Logits of all images of `data` (eval mode, no augmentation).
template <typename Forward>
torch::Tensor predict(Forward forward, const Dataset& data,
  const dualembed::engine::PreprocessorConfig& pre, std::int64_t count, const torch::Device& device)
{
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> parts;
  constexpr std::int64_t chunk = 500;
  for (std::int64_t first = 0; first < count; first += chunk)
  {
    const std::int64_t n = std::min(chunk, count - first);
    parts.push_back(
      forward(preprocess(data.pixels.data() + first * kImageSize * kImageSize, n, pre).to(device))
        .to(torch::kCPU));
  }
  return torch::cat(parts, 0);
}

double accuracy(const torch::Tensor& logits, const Dataset& data, std::int64_t count)
{
  torch::Tensor labels =
    torch::tensor(std::vector<std::int64_t>(data.labels.begin(), data.labels.begin() + count));
  return logits.argmax(1).eq(labels).to(torch::kDouble).mean().item<double>();
}

// ---------------------------------------------------------------------------
// Saving.

void writeJson(const fs::path& path, const Json& j)
{
  std::ofstream out(path, std::ios::trunc);
  out << j.dump(2) << "\n";
  if (!out)
  {
    throw std::runtime_error("Cannot write " + path.string());
  }
}

Json modelConfig(const Options& o, bool classifier)
{
  Json c = Json::object();
  c["architectures"] = { classifier ? "ViTForImageClassification" : "ViTModel" };
  c["attention_probs_dropout_prob"] = 0.0;
  c["encoder_stride"] = o.patch;
  c["hidden_act"] = "gelu";
  c["hidden_dropout_prob"] = 0.0;
  c["hidden_size"] = o.hidden;
  c["image_size"] = kImageSize;
  c["initializer_range"] = 0.02;
  c["intermediate_size"] = o.mlp;
  c["layer_norm_eps"] = 1e-12;
  c["model_type"] = "vit";
  c["num_attention_heads"] = o.heads;
  c["num_channels"] = 3;
  c["num_hidden_layers"] = o.layers;
  c["patch_size"] = o.patch;
  c["qkv_bias"] = true;
  c["torch_dtype"] = "float32";
  if (classifier)
  {
    Json id2label = Json::object(), label2id = Json::object();
    for (std::size_t i = 0; i < kClassNames.size(); ++i)
    {
      id2label[std::to_string(i)] = kClassNames[i];
      label2id[kClassNames[i]] = static_cast<int>(i);
    }
    c["id2label"] = id2label;
    c["label2id"] = label2id;
    c["problem_type"] = "single_label_classification";
  }
  return c;
}

Json preprocessorJson()
{
  return Json{ { "do_normalize", true }, { "do_rescale", true }, { "do_resize", true },
    { "image_mean", { kMean, kMean, kMean } }, { "image_processor_type", "ViTImageProcessor" },
    { "image_std", { kStd, kStd, kStd } }, { "resample", 2 }, { "rescale_factor", 1.0 / 255.0 },
    { "size", { { "height", kImageSize }, { "width", kImageSize } } } };
}

void saveModel(const fs::path& dir, nn::Module& model, const Options& o, bool classifier)
{
  fs::create_directories(dir);
  std::map<std::string, at::Tensor> tensors;
  for (const auto& p : model.named_parameters())
  {
    tensors[p.key()] = p.value();
  }
  dualembed::training::writeSafeTensors((dir / "model.safetensors").string(), tensors);
  writeJson(dir / "config.json", modelConfig(o, classifier));
  writeJson(dir / "preprocessor_config.json", preprocessorJson());
  std::printf("wrote %s (%zu tensors)\n", dir.string().c_str(), tensors.size());
}

/// A Hugging Face Trainer checkpoint: `<run>/checkpoint-<step>/` with the model
/// folder's files and trainer_state.json (global_step, epoch, log_history), as
/// Trainer writes it, so that the Checkpoint Series reader sees a real run.
void saveCheckpoint(const fs::path& runDir, nn::Module& model, const Options& o,
  const std::vector<EpochLog>& history, int epochs)
{
  const EpochLog& last = history.back();
  const fs::path dir = runDir / ("checkpoint-" + std::to_string(last.step));
  saveModel(dir, model, o, true);
  Json log = Json::array();
  for (const EpochLog& e : history)
  {
    log.push_back(Json{ { "epoch", double(e.epoch) }, { "step", e.step }, { "loss", e.loss },
      { "train_accuracy", e.accuracy }, { "learning_rate", e.learningRate } });
  }
  writeJson(dir / "trainer_state.json",
    Json{ { "best_metric", nullptr }, { "best_model_checkpoint", nullptr },
      { "epoch", double(last.epoch) }, { "global_step", last.step },
      { "is_hyper_param_search", false }, { "is_local_process_zero", true },
      { "is_world_process_zero", true }, { "log_history", log },
      { "logging_steps", last.step / last.epoch }, { "max_steps", last.maxSteps },
      { "num_train_epochs", epochs }, { "save_steps", last.step / last.epoch },
      { "train_batch_size", o.batch }, { "trial_name", nullptr }, { "trial_params", nullptr } });
}

/// Max |engine - training| over the first `count` test images, for the
/// embedding (CLS after the final layer norm) and, with a head, the logits.
/// Inputs come from the engine's preprocessing of the folder's
/// preprocessor_config.json, as in the ImageEmbedding filter.
double verifyWithEngine(const fs::path& dir, VitModel vit, VitClassifier classifier,
  const Dataset& test, std::int64_t count, int threads, double* engineAccuracy)
{
  using namespace dualembed::engine;
  EmbeddingOptions options;
  options.device = ComputeDevice::Cpu;
  options.threads = threads;
  EmbeddingModel model(dir.string(), options);
  const PreprocessorConfig pre = loadPreprocessorConfig(model.preprocessorConfigPath());
  torch::Tensor pixels = preprocess(test.pixels.data(), count, pre);
  EmbeddingOutput out = model.run(pixels);
  torch::NoGradGuard noGrad;
  const bool withHead = static_cast<bool>(classifier);
  if (model.embeddingDim() != vit->layernorm->options.normalized_shape()[0] ||
    model.hasHead() != withHead || model.pooling() != Pooling::FirstToken)
  {
    throw std::runtime_error(
      dir.string() + ": the engine sees another model shape than the one trained");
  }
  double diff = (out.embedding - vit->cls(pixels)).abs().max().item<double>();
  if (withHead)
  {
    if (model.classNames() != kClassNames)
    {
      throw std::runtime_error(dir.string() + ": the engine reads other class names");
    }
    diff = std::max(diff, (out.logits - classifier(pixels)).abs().max().item<double>());
    *engineAccuracy = accuracy(out.logits, test, count);
  }
  return diff;
}

} // namespace

int main(int argc, char** argv)
{
  try
  {
    const Options o = parseOptions(argc, argv);
    const auto start = std::chrono::steady_clock::now();
    const int threads = o.threads > 0
      ? o.threads
      : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(threads);
    if (openblas_set_num_threads)
    {
      openblas_set_num_threads(threads);
    }
    const torch::Device device(o.device);
    if (device.is_cuda() && !torch::cuda::is_available())
    {
      throw std::runtime_error("--device " + o.device + ": CUDA is not available");
    }
    torch::manual_seed(o.seed);
    std::mt19937_64 rng(o.seed);
    std::printf("TrainDemoModels: %s, seed %llu, %d threads, ViT hidden %d, %d layers, %d heads, "
                "MLP %d, patch %d\n",
      o.device.c_str(), static_cast<unsigned long long>(o.seed), threads, o.hidden, o.layers,
      o.heads, o.mlp, o.patch);
    std::printf("%s\n", dualembed::engine::engineRuntimeInfo().c_str());

    const Dataset trainSet = loadSplit(o.dataDir, "train", o.trainLimit);
    const Dataset testSet = loadSplit(o.dataDir, "t10k", -1);
    std::printf("Fashion-MNIST: %lld training, %lld test images from %s\n",
      static_cast<long long>(trainSet.count), static_cast<long long>(testSet.count),
      o.dataDir.c_str());
    const dualembed::engine::PreprocessorConfig pre = preprocessorConfig();

    // Stage 1: self-supervised rotation prediction (no labels).
    VitModel vit(o);
    nn::Linear rotationHead = makeLinear(o.hidden, 4);
    nn::Sequential pretrainModules; // holds both for the optimizer; the head is not saved
    pretrainModules->push_back(vit);
    pretrainModules->push_back(rotationHead);
    pretrainModules->to(device);
    std::int64_t params = 0;
    for (const auto& p : vit->parameters())
    {
      params += p.numel();
    }
    std::printf("backbone parameters: %lld\n", static_cast<long long>(params));
    const auto pretrainStart = std::chrono::steady_clock::now();
    train(
      "pretrain", Task::Rotation, *pretrainModules,
      [&](const torch::Tensor& x) { return rotationHead(vit->cls(x)); }, trainSet, pre, o,
      o.pretrainEpochs, o.pretrainLr, rng);
    const double pretrainSeconds = seconds(pretrainStart);
    const fs::path foundationDir = fs::path(o.outDir) / "fashion-vit-foundation";
    saveModel(foundationDir, *vit, o, false);

    // Stage 2: supervised fine-tuning of the same backbone with a new head.
    VitClassifier classifier(vit, o.hidden, static_cast<int>(kClassNames.size()));
    classifier->to(device);
    const auto finetuneStart = std::chrono::steady_clock::now();
    // One checkpoint per epoch, as Trainer's save_strategy="epoch" (no RNG is
    // drawn, so the run and the final model are the same with or without them).
    const fs::path runDir = fs::path(o.outDir) / "fashion-vit-ft-run";
    fs::remove_all(runDir);
    std::vector<EpochLog> history;
    train(
      "finetune", Task::Classification, *classifier,
      [&](const torch::Tensor& x) { return classifier(x); }, trainSet, pre, o, o.finetuneEpochs,
      o.finetuneLr, rng,
      [&](const EpochLog& e) {
        history.push_back(e);
        saveCheckpoint(runDir, *classifier, o, history, o.finetuneEpochs);
      });
    const double finetuneSeconds = seconds(finetuneStart);
    const fs::path ftDir = fs::path(o.outDir) / "fashion-vit-ft";
    saveModel(ftDir, *classifier, o, true);
    const double trainingSeconds = seconds(start);

    // Evaluation on the 10 000 test images, then the engine round trip.
    const torch::Tensor testLogits = predict(
      [&](const torch::Tensor& x) { return classifier(x); }, testSet, pre, testSet.count, device);
    const double testAccuracy = accuracy(testLogits, testSet, testSet.count);
    const std::int64_t checkCount = std::min<std::int64_t>(1000, testSet.count);
    const double first1000 = accuracy(testLogits.narrow(0, 0, checkCount), testSet, checkCount);
    double engineAccuracy = 0.0;
    classifier->to(torch::kCPU); // the engine check runs on the CPU
    // The foundation folder was saved before fine-tuning changed the backbone:
    // compare it with a copy of the weights as saved.
    VitModel foundation(o);
    {
      torch::NoGradGuard noGrad;
      const dualembed::engine::TensorMap saved =
        dualembed::engine::loadSafeTensors((foundationDir / "model.safetensors").string());
      for (auto& p : foundation->named_parameters())
      {
        p.value().copy_(saved.at(p.key()));
      }
      foundation->eval();
    }
    const double foundationDiff = verifyWithEngine(
      foundationDir, foundation, VitClassifier(nullptr), testSet, checkCount, threads, nullptr);
    const double ftDiff =
      verifyWithEngine(ftDir, vit, classifier, testSet, checkCount, threads, &engineAccuracy);

    std::printf("pretraining %.1f s, fine-tuning %.1f s, total training %.1f s\n", pretrainSeconds,
      finetuneSeconds, trainingSeconds);
    std::printf(
      "fine-tuned test accuracy: %.4f on %lld images, %.4f on the first %lld (engine: %.4f)\n",
      testAccuracy, static_cast<long long>(testSet.count), first1000,
      static_cast<long long>(checkCount), engineAccuracy);
    std::printf("engine vs training max |diff| on %lld test images: foundation embedding %.3g, "
                "fine-tuned embedding+logits %.3g\n",
      static_cast<long long>(checkCount), foundationDiff, ftDiff);
    std::printf("total time %.1f s\n", seconds(start));
    if (!(foundationDiff <= 1e-4 && ftDiff <= 1e-4))
    {
      std::fprintf(
        stderr, "error: the engine's outputs differ from the training model's by more than 1e-4\n");
      return 2;
    }
    return 0;
  }
  catch (const std::exception& e)
  {
    std::fprintf(stderr, "TrainDemoModels: %s\n", e.what());
    return 1;
  }
}
