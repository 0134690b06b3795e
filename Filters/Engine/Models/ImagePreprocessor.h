// Image preprocessing of the DualEmbed engine: reproduces Hugging Face
// ViTImageProcessor with its PIL backend bit for bit (Documentation/SPEC.md §2.1).
//
// No VTK and no LibTorch here: the functions produce plain float buffers
// (channels first) that the model code wraps into tensors. Every function is
// pure (no shared state), so any of them may run on several threads at once.
#ifndef DualEmbed_Engine_ImagePreprocessor_h
#define DualEmbed_Engine_ImagePreprocessor_h

#include "EngineError.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dualembed
{
namespace engine
{

/// PIL's resampling filters, numbered as PIL.Image.Resampling (and as the
/// `resample` key of preprocessor_config.json).
enum class ResampleFilter : int
{
  Nearest = 0,
  Lanczos = 1,
  Bilinear = 2,
  Bicubic = 3,
  Box = 4,
  Hamming = 5
};

/// The preprocessing settings of a Hugging Face `preprocessor_config.json`.
/// Defaults are those of ViTImageProcessor.
struct PreprocessorConfig
{
  bool doResize = true;
  /// Output size when `size` is {height, width} (or a plain number, or
  /// [height, width]).
  int height = 224;
  int width = 224;
  /// > 0 when `size` is {"shortest_edge": n}. Transformers then resizes the
  /// shorter side to n and the longer one to int(n * long / short) (aspect
  /// ratio kept, as ViTImageProcessor of transformers 5 does; transformers 4
  /// rejected such a config). height and width are set to n as well, which is
  /// the output size for square inputs. Use preprocessedSize() for the rest.
  int shortestEdge = 0;
  /// A ResampleFilter value (PIL numbering): 0 nearest, 2 bilinear, 3 bicubic...
  int resample = static_cast<int>(ResampleFilter::Bilinear);
  /// Center crop after the resize (`do_center_crop`, `crop_size`): only
  /// configs that ask for it; pads with zeros where the image is smaller.
  bool doCenterCrop = false;
  int cropHeight = 224;
  int cropWidth = 224;
  bool doRescale = true;
  double rescaleFactor = 1.0 / 255.0;
  bool doNormalize = true;
  std::array<float, 3> mean{ { 0.5f, 0.5f, 0.5f } };
  std::array<float, 3> std{ { 0.5f, 0.5f, 0.5f } };
};

/// Reads a Hugging Face preprocessor_config.json (keys do_resize, size,
/// resample, do_center_crop, crop_size, do_rescale, rescale_factor,
/// do_normalize, image_mean, image_std; image_mean and image_std may be a
/// number or a list of 3 numbers; missing keys keep their defaults). A file
/// of ConvNextImageProcessor (image_processor_type or feature_extractor_type
/// ConvNext*: ResNet and ConvNeXt checkpoints) has its own resize rule, from
/// size and crop_pct, expressed in shortestEdge and the centre crop.
/// Throws ModelError naming the file and the key when the file cannot be read,
/// is not JSON, or a key has an unusable value.
PreprocessorConfig loadPreprocessorConfig(const std::string& jsonPath);

/// Same as loadPreprocessorConfig() on JSON text; sourceName names the origin
/// in error messages.
PreprocessorConfig parsePreprocessorConfig(
  const std::string& jsonText, const std::string& sourceName = "preprocessor_config.json");

struct ImageSize
{
  int height = 0;
  int width = 0;
};

/// Size (height, width) of the preprocessed image for an input of the given
/// size: the resize target (or the input size without resize), then the crop.
ImageSize preprocessedSize(const PreprocessorConfig& config, int height, int width);

/// The input size a model fed through this configuration sees whatever the
/// image size: crop_size when it crops, else size ({height, width}, or
/// shortest_edge squared as for square images). {0, 0} when it does not
/// resize (the size then follows the images).
ImageSize modelInputSize(const PreprocessorConfig& config);

/// Converts 8-bit pixels (row-major, channels interleaved) to RGB the way
/// PIL's Image.convert("RGB") does: 1 channel (L) replicated, 2 channels (LA)
/// L replicated and alpha dropped, 3 kept, 4 (RGBA) alpha dropped (not
/// composited). `rgb` receives height*width*3 bytes. Throws ModelError for
/// other channel counts.
void convertToRgb(const uint8_t* pixels, int height, int width, int channels, uint8_t* rgb);

/// Resizes 8-bit pixels (row-major, `channels` interleaved, each channel
/// independently) exactly like PIL's Image.resize((outWidth, outHeight),
/// resample) on an "L" or "RGB" image: the fixed-point separable convolution
/// of libImaging/Resample.c for bilinear, bicubic, Lanczos, box and Hamming,
/// the affine nearest-neighbour mapping of libImaging/Geometry.c for nearest.
/// `out` receives outHeight*outWidth*channels bytes.
void resizeImage(const uint8_t* pixels, int height, int width, int channels, uint8_t* out,
  int outHeight, int outWidth, int resample);

/// Full preprocessing of one image: convert to RGB, resize, center crop (if
/// configured), rescale and normalize, channels first. `out` receives
/// 3 * H' * W' floats, (H', W') = preprocessedSize(config, height, width);
/// for the usual {height, width} configs that is 3 * config.height *
/// config.width. Throws ModelError for invalid sizes, channel counts or
/// resample values.
void preprocessImage(const uint8_t* pixels, int height, int width, int channels,
  const PreprocessorConfig& config, float* out);

/// Convenience overload returning the buffer.
std::vector<float> preprocessImage(
  const uint8_t* pixels, int height, int width, int channels, const PreprocessorConfig& config);

/// Preprocesses `count` images of the same shape stored one after the other
/// (each height*width*channels bytes) into `out` ([count, 3, H', W']).
void preprocessBatch(const uint8_t* pixels, std::size_t count, int height, int width, int channels,
  const PreprocessorConfig& config, float* out);

/// Preprocesses images of possibly different shapes; all must give the same
/// output size (as with a fixed {height, width} resize), else ModelError.
/// `out` receives [images.size(), 3, H', W'].
struct ImageView
{
  const uint8_t* pixels = nullptr;
  int height = 0;
  int width = 0;
  int channels = 0;
};
void preprocessBatch(
  const std::vector<ImageView>& images, const PreprocessorConfig& config, float* out);

} // namespace engine
} // namespace dualembed

#endif
