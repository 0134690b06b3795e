// Bit-exact reimplementation of the preprocessing that Hugging Face
// ViTImageProcessor (PIL backend) applies: PIL convert("RGB"), PIL resize
// (libImaging/Resample.c fixed-point convolution, libImaging/Geometry.c
// nearest), transformers' rescale (float64, then float32) and normalize
// (float32). Written from the algorithms' descriptions; see Documentation/SPEC.md §2.1.
//
// Floating-point note: the filter weights must be computed with the same
// double operations as PIL, in the same order and without fused
// multiply-adds; CMakeLists.txt compiles this file with -ffp-contract=off.
#include "ImagePreprocessor.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace dualembed
{
namespace engine
{

namespace
{

// ---------------------------------------------------------------------------
// Resampling filters (PIL libImaging/Resample.c), in double precision.

constexpr double Pi = 3.14159265358979323846; // M_PI

double boxFilter(double x)
{
  return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0;
}

double bilinearFilter(double x)
{
  if (x < 0.0)
  {
    x = -x;
  }
  return x < 1.0 ? 1.0 - x : 0.0;
}

double hammingFilter(double x)
{
  if (x < 0.0)
  {
    x = -x;
  }
  if (x == 0.0)
  {
    return 1.0;
  }
  if (x >= 1.0)
  {
    return 0.0;
  }
  x = x * Pi;
  // PIL writes the window constants as float literals.
  return std::sin(x) / x * (static_cast<double>(0.54f) + static_cast<double>(0.46f) * std::cos(x));
}

double bicubicFilter(double x)
{
  // Keys' cubic convolution with a = -0.5, evaluated in PIL's order.
  const double a = -0.5;
  if (x < 0.0)
  {
    x = -x;
  }
  if (x < 1.0)
  {
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  }
  if (x < 2.0)
  {
    return (((x - 5) * x + 8) * x - 4) * a;
  }
  return 0.0;
}

double sincFilter(double x)
{
  if (x == 0.0)
  {
    return 1.0;
  }
  x = x * Pi;
  return std::sin(x) / x;
}

double lanczosFilter(double x)
{
  if (-3.0 <= x && x < 3.0)
  {
    return sincFilter(x) * sincFilter(x / 3);
  }
  return 0.0;
}

struct Filter
{
  double (*function)(double);
  double support;
};

Filter filterFor(int resample)
{
  switch (static_cast<ResampleFilter>(resample))
  {
    case ResampleFilter::Box:
      return { boxFilter, 0.5 };
    case ResampleFilter::Bilinear:
      return { bilinearFilter, 1.0 };
    case ResampleFilter::Hamming:
      return { hammingFilter, 1.0 };
    case ResampleFilter::Bicubic:
      return { bicubicFilter, 2.0 };
    case ResampleFilter::Lanczos:
      return { lanczosFilter, 3.0 };
    default:
      break;
  }
  throw ModelError("Unsupported resampling filter " + std::to_string(resample) +
    ": use 0 (nearest), 1 (Lanczos), 2 (bilinear), 3 (bicubic), 4 (box) or 5 (Hamming).");
}

// 8 bits of result, 2 bits of head room for negative lobes and overshoot.
constexpr int PrecisionBits = 32 - 8 - 2;

/// Filter taps of one pass: for output index i, input indices
/// [bounds[2i], bounds[2i] + bounds[2i+1]) with fixed-point weights
/// weights[i*kernelSize + k].
struct Coefficients
{
  int kernelSize = 0;
  std::vector<int> bounds;
  std::vector<int32_t> weights;
};

Coefficients precomputeCoefficients(int inSize, int outSize, const Filter& filter)
{
  // PIL passes the crop box as floats: in0 = 0, in1 = inSize.
  const float in0 = 0.0f;
  const float in1 = static_cast<float>(inSize);
  const double scale = static_cast<double>(in1 - in0) / outSize;
  double filterScale = scale;
  if (filterScale < 1.0)
  {
    filterScale = 1.0;
  }
  // Widen the filter when shrinking (antialiasing).
  const double support = filter.support * filterScale;
  const int kernelSize = static_cast<int>(std::ceil(support)) * 2 + 1;

  Coefficients result;
  result.kernelSize = kernelSize;
  result.bounds.resize(static_cast<std::size_t>(outSize) * 2);
  result.weights.assign(static_cast<std::size_t>(outSize) * kernelSize, 0);
  std::vector<double> k(static_cast<std::size_t>(kernelSize));

  for (int xx = 0; xx < outSize; ++xx)
  {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterScale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0)
    {
      xmin = 0;
    }
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > inSize)
    {
      xmax = inSize;
    }
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x)
    {
      const double w = filter.function((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x)
    {
      if (ww != 0.0)
      {
        k[x] /= ww;
      }
    }
    // Fixed point with rounding half away from zero.
    int32_t* fixed = &result.weights[static_cast<std::size_t>(xx) * kernelSize];
    for (int x = 0; x < xmax; ++x)
    {
      if (k[x] < 0)
      {
        fixed[x] = static_cast<int32_t>(-0.5 + k[x] * (1 << PrecisionBits));
      }
      else
      {
        fixed[x] = static_cast<int32_t>(0.5 + k[x] * (1 << PrecisionBits));
      }
    }
    result.bounds[2 * xx + 0] = xmin;
    result.bounds[2 * xx + 1] = xmax;
  }
  return result;
}

inline uint8_t clip8(int32_t accumulator)
{
  const int32_t v = accumulator >> PrecisionBits; // arithmetic shift, as in PIL
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

/// Horizontal pass over rows [rowBegin, rowEnd) of a single-channel plane.
void resampleHorizontal(const uint8_t* in, int inWidth, int rowBegin, int rowEnd, uint8_t* out,
  int outWidth, const Coefficients& c)
{
  for (int yy = rowBegin; yy < rowEnd; ++yy)
  {
    const uint8_t* row = in + static_cast<std::size_t>(yy) * inWidth;
    uint8_t* outRow = out + static_cast<std::size_t>(yy - rowBegin) * outWidth;
    for (int xx = 0; xx < outWidth; ++xx)
    {
      const int xmin = c.bounds[2 * xx];
      const int xmax = c.bounds[2 * xx + 1];
      const int32_t* k = &c.weights[static_cast<std::size_t>(xx) * c.kernelSize];
      int32_t ss = 1 << (PrecisionBits - 1);
      for (int x = 0; x < xmax; ++x)
      {
        ss += static_cast<int32_t>(row[x + xmin]) * k[x];
      }
      outRow[xx] = clip8(ss);
    }
  }
}

/// Vertical pass of a single-channel plane; bounds are relative to `in`'s
/// first row minus rowOffset.
void resampleVertical(
  const uint8_t* in, int width, int rowOffset, uint8_t* out, int outHeight, const Coefficients& c)
{
  std::vector<int32_t> acc(static_cast<std::size_t>(width));
  for (int yy = 0; yy < outHeight; ++yy)
  {
    const int ymin = c.bounds[2 * yy] - rowOffset;
    const int ymax = c.bounds[2 * yy + 1];
    const int32_t* k = &c.weights[static_cast<std::size_t>(yy) * c.kernelSize];
    std::fill(acc.begin(), acc.end(), 1 << (PrecisionBits - 1));
    for (int y = 0; y < ymax; ++y)
    {
      const uint8_t* row = in + static_cast<std::size_t>(y + ymin) * width;
      const int32_t w = k[y];
      for (int xx = 0; xx < width; ++xx)
      {
        acc[xx] += static_cast<int32_t>(row[xx]) * w;
      }
    }
    uint8_t* outRow = out + static_cast<std::size_t>(yy) * width;
    for (int xx = 0; xx < width; ++xx)
    {
      outRow[xx] = clip8(acc[xx]);
    }
  }
}

/// PIL's ImagingResampleInner on one plane: horizontal pass first (only on
/// the rows the vertical pass reads), vertical second, each skipped when its
/// dimension is unchanged.
void resamplePlane(const uint8_t* in, int inHeight, int inWidth, uint8_t* out, int outHeight,
  int outWidth, const Filter& filter)
{
  const bool needHorizontal = outWidth != inWidth;
  const bool needVertical = outHeight != inHeight;
  const Coefficients vertical = precomputeCoefficients(inHeight, outHeight, filter);
  const int rowFirst = vertical.bounds[0];
  const int rowLast = vertical.bounds[2 * outHeight - 2] + vertical.bounds[2 * outHeight - 1];

  std::vector<uint8_t> temp;
  const uint8_t* source = in;
  int sourceWidth = inWidth;
  int rowOffset = 0;
  if (needHorizontal)
  {
    const Coefficients horizontal = precomputeCoefficients(inWidth, outWidth, filter);
    temp.resize(static_cast<std::size_t>(outWidth) * (rowLast - rowFirst));
    resampleHorizontal(in, inWidth, rowFirst, rowLast, temp.data(), outWidth, horizontal);
    source = temp.data();
    sourceWidth = outWidth;
    rowOffset = rowFirst;
    if (!needVertical)
    {
      // rowFirst == 0 and rowLast == inHeight here: the temp is the result.
      std::copy(temp.begin(), temp.end(), out);
      return;
    }
  }
  if (needVertical)
  {
    resampleVertical(source, sourceWidth, rowOffset, out, outHeight, vertical);
    return;
  }
  std::copy(in, in + static_cast<std::size_t>(inHeight) * inWidth, out);
}

inline int coord(double v)
{
  return v < 0.0 ? -1 : static_cast<int>(v);
}

/// PIL's nearest-neighbour resize: an affine transform sampled at pixel
/// centres with accumulated double coordinates (Geometry.c,
/// ImagingScaleAffine); pixels that map outside the input are 0.
void nearestPlane(
  const uint8_t* in, int inHeight, int inWidth, uint8_t* out, int outHeight, int outWidth)
{
  const double a0 = static_cast<double>(static_cast<float>(inWidth) - 0.0f) / outWidth;
  const double a4 = static_cast<double>(static_cast<float>(inHeight) - 0.0f) / outHeight;
  std::vector<int> xin(static_cast<std::size_t>(outWidth));
  double xo = 0.0 + a0 * 0.5;
  for (int x = 0; x < outWidth; ++x)
  {
    xin[x] = coord(xo);
    xo += a0;
  }
  double yo = 0.0 + a4 * 0.5;
  for (int y = 0; y < outHeight; ++y)
  {
    const int yi = coord(yo);
    uint8_t* outRow = out + static_cast<std::size_t>(y) * outWidth;
    if (yi >= 0 && yi < inHeight)
    {
      const uint8_t* row = in + static_cast<std::size_t>(yi) * inWidth;
      for (int x = 0; x < outWidth; ++x)
      {
        outRow[x] = (xin[x] >= 0 && xin[x] < inWidth) ? row[xin[x]] : 0;
      }
    }
    else
    {
      std::fill(outRow, outRow + outWidth, uint8_t{ 0 });
    }
    yo += a4;
  }
}

void checkResample(int resample)
{
  if (resample < 0 || resample > 5)
  {
    throw ModelError("Unsupported resampling filter " + std::to_string(resample) +
      ": use 0 (nearest), 1 (Lanczos), 2 (bilinear), 3 (bicubic), 4 (box) or 5 (Hamming).");
  }
}

void resizePlane(const uint8_t* in, int inHeight, int inWidth, uint8_t* out, int outHeight,
  int outWidth, int resample)
{
  if (outHeight == inHeight && outWidth == inWidth)
  {
    std::copy(in, in + static_cast<std::size_t>(inHeight) * inWidth, out);
  }
  else if (resample == static_cast<int>(ResampleFilter::Nearest))
  {
    nearestPlane(in, inHeight, inWidth, out, outHeight, outWidth);
  }
  else
  {
    resamplePlane(in, inHeight, inWidth, out, outHeight, outWidth, filterFor(resample));
  }
}

void checkImage(int height, int width, int channels)
{
  if (height <= 0 || width <= 0)
  {
    throw ModelError("Cannot preprocess an image of " + std::to_string(width) + " x " +
      std::to_string(height) + " pixels: both sizes must be positive.");
  }
  if (channels < 1 || channels > 4)
  {
    throw ModelError("Cannot preprocess an image with " + std::to_string(channels) +
      " channels: expected 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA).");
  }
}

/// Python's floor division for the crop offset.
inline int floorDiv2(int v)
{
  return v >= 0 ? v / 2 : -((-v + 1) / 2);
}

// ---------------------------------------------------------------------------
// preprocessor_config.json

using nlohmann::json;

[[noreturn]] void badKey(const std::string& source, const std::string& key, const std::string& what)
{
  throw ModelError("Preprocessor configuration '" + source + "': key '" + key + "' " + what + ".");
}

bool readBool(const json& j, const std::string& key, bool fallback, const std::string& source)
{
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
  {
    return fallback;
  }
  if (!it->is_boolean())
  {
    badKey(source, key, "must be true or false, not " + it->dump());
  }
  return it->get<bool>();
}

int readPositiveInt(const json& value, const std::string& key, const std::string& source)
{
  if (value.is_number_integer() || value.is_number_unsigned())
  {
    const long long v = value.get<long long>();
    if (v > 0 && v <= 1 << 20)
    {
      return static_cast<int>(v);
    }
  }
  else if (value.is_number_float())
  {
    const double v = value.get<double>();
    if (v > 0 && v <= (1 << 20) && v == std::floor(v))
    {
      return static_cast<int>(v);
    }
  }
  badKey(source, key, "must be a positive whole number of pixels, not " + value.dump());
}

/// size / crop_size: {height, width}, {shortest_edge}, a number (square) or
/// [height, width]. Returns false for shortest_edge (stored in *edge).
bool readSize(const json& value, const std::string& key, const std::string& source, int* height,
  int* width, int* edge)
{
  if (value.is_number())
  {
    *height = *width = readPositiveInt(value, key, source);
    return true;
  }
  if (value.is_array() && value.size() == 2)
  {
    *height = readPositiveInt(value[0], key, source);
    *width = readPositiveInt(value[1], key, source);
    return true;
  }
  if (value.is_object())
  {
    const bool hasHeight = value.contains("height") && !value["height"].is_null();
    const bool hasWidth = value.contains("width") && !value["width"].is_null();
    const bool hasShortest = value.contains("shortest_edge") && !value["shortest_edge"].is_null();
    const bool hasLongest = value.contains("longest_edge") && !value["longest_edge"].is_null();
    if (hasHeight && hasWidth)
    {
      *height = readPositiveInt(value["height"], key + ".height", source);
      *width = readPositiveInt(value["width"], key + ".width", source);
      return true;
    }
    if (hasShortest && !hasLongest && edge)
    {
      *edge = readPositiveInt(value["shortest_edge"], key + ".shortest_edge", source);
      *height = *width = *edge;
      return false;
    }
  }
  badKey(source, key,
    std::string("must be {\"height\": h, \"width\": w}") +
      (edge ? ", {\"shortest_edge\": n}" : "") + ", a number or [h, w], not " + value.dump());
}

/// Each side may be up to 2^20, but one preprocessed image allocates
/// 3·H·W floats: bound the product too.
constexpr long long MaxPixels = 1ll << 26; // 8192 x 8192

void checkPixelCount(const std::string& source, const std::string& key, int height, int width)
{
  if (static_cast<long long>(height) * width > MaxPixels)
  {
    badKey(source, key,
      "asks for " + std::to_string(height) + " x " + std::to_string(width) + " pixels, more than " +
        std::to_string(MaxPixels) + " (8192 x 8192)");
  }
}

std::array<float, 3> readTriple(const json& j, const std::string& key,
  const std::array<float, 3>& fallback, const std::string& source)
{
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
  {
    return fallback;
  }
  std::array<float, 3> result{};
  if (it->is_number())
  {
    // numpy: np.array([value] * 3, dtype=np.float32)
    result.fill(static_cast<float>(it->get<double>()));
    return result;
  }
  if (it->is_array() && it->size() == 3)
  {
    for (std::size_t i = 0; i < 3; ++i)
    {
      if (!(*it)[i].is_number())
      {
        badKey(source, key, "must hold 3 numbers (one per RGB channel), not " + it->dump());
      }
      result[i] = static_cast<float>((*it)[i].get<double>());
    }
    return result;
  }
  badKey(source, key,
    "must be a number or a list of 3 numbers (one per RGB channel), not " + it->dump());
}

/// Whether the file was written by an image processor (or its older
/// feature extractor) whose name starts with `family`.
bool isProcessor(const json& j, const char* family)
{
  for (const char* key : { "image_processor_type", "feature_extractor_type" })
  {
    auto it = j.find(key);
    if (it != j.end() && it->is_string() && it->get<std::string>().rfind(family, 0) == 0)
    {
      return true;
    }
  }
  return false;
}

/// ConvNextImageProcessor: ResNet's and ConvNeXt's checkpoints use it.
bool isConvNextProcessor(const json& j)
{
  return isProcessor(j, "ConvNext");
}

/// Processors that read a plain number `size` as the shortest edge
/// (get_size_dict(size, default_to_square=False)), not as a square:
/// CLIPImageProcessor and BitImageProcessor (DINOv2's).
bool numberSizeIsShortestEdge(const json& j)
{
  return isProcessor(j, "CLIP") || isProcessor(j, "Bit");
}

/// ConvNextImageProcessor's resize, in the terms of the other processors:
/// size is the shortest edge (a number means that too; default 384); below
/// 384 the shortest edge is resized to int(size / crop_pct), aspect kept, and
/// the centre size x size cropped; from 384 on the image is warped to size x
/// size without a crop.
void applyConvNextResize(const json& j, const std::string& source, PreprocessorConfig& config)
{
  int edge = 384;
  if (auto it = j.find("size"); it != j.end() && !it->is_null())
  {
    if (it->is_object() && !it->contains("shortest_edge"))
    {
      badKey(
        source, "size", "must give shortest_edge for ConvNextImageProcessor, not " + it->dump());
    }
    edge = it->is_object() ? readPositiveInt((*it)["shortest_edge"], "size.shortest_edge", source)
                           : readPositiveInt(*it, "size", source);
  }
  double cropPct = 224.0 / 256.0;
  if (auto it = j.find("crop_pct"); it != j.end() && !it->is_null())
  {
    if (!it->is_number() || !(it->get<double>() > 0.0) || it->get<double>() > 1.0)
    {
      badKey(source, "crop_pct", "must be a number in (0, 1], such as 0.875, not " + it->dump());
    }
    cropPct = it->get<double>();
  }
  checkPixelCount(source, "size", edge, edge);
  config.height = config.width = edge;
  config.shortestEdge = 0;
  config.doCenterCrop = false;
  if (edge < 384)
  {
    config.shortestEdge = static_cast<int>(edge / cropPct); // Python's int(): towards zero
    config.doCenterCrop = true;
    config.cropHeight = config.cropWidth = edge;
  }
  checkPixelCount(source, "crop_pct", config.shortestEdge, config.shortestEdge);
}

} // namespace

// ---------------------------------------------------------------------------

PreprocessorConfig parsePreprocessorConfig(
  const std::string& jsonText, const std::string& sourceName)
{
  json j;
  try
  {
    j = json::parse(jsonText);
  }
  catch (const json::exception& e)
  {
    throw ModelError("Preprocessor configuration '" + sourceName + "' is not valid JSON (" +
      e.what() + "); restore the file from the model's original folder.");
  }
  if (!j.is_object())
  {
    throw ModelError("Preprocessor configuration '" + sourceName +
      "' must hold a JSON object with keys such as \"size\" and \"image_mean\".");
  }

  PreprocessorConfig config;
  config.doResize = readBool(j, "do_resize", config.doResize, sourceName);
  if (auto it = j.find("size"); it != j.end() && !it->is_null())
  {
    int edge = 0;
    readSize(*it, "size", sourceName, &config.height, &config.width, &edge);
    if (it->is_number() && numberSizeIsShortestEdge(j))
    {
      edge = config.height;
    }
    config.shortestEdge = edge;
    checkPixelCount(sourceName, "size", config.height, config.width);
  }
  if (auto it = j.find("resample"); it != j.end() && !it->is_null())
  {
    if (!it->is_number_integer() && !it->is_number_unsigned())
    {
      badKey(sourceName, "resample",
        "must be a PIL filter number (0 nearest, 2 bilinear, 3 bicubic...), not " + it->dump());
    }
    const long long r = it->get<long long>();
    if (r < 0 || r > 5)
    {
      badKey(sourceName, "resample",
        "must be a PIL filter number: 0 nearest, 1 Lanczos, 2 bilinear, 3 bicubic, 4 box or 5 "
        "Hamming, not " +
          it->dump());
    }
    config.resample = static_cast<int>(r);
  }
  config.doCenterCrop = readBool(j, "do_center_crop", config.doCenterCrop, sourceName);
  if (auto it = j.find("crop_size"); it != j.end() && !it->is_null())
  {
    readSize(*it, "crop_size", sourceName, &config.cropHeight, &config.cropWidth, nullptr);
    checkPixelCount(sourceName, "crop_size", config.cropHeight, config.cropWidth);
  }
  if (isConvNextProcessor(j))
  {
    applyConvNextResize(j, sourceName, config);
  }
  config.doRescale = readBool(j, "do_rescale", config.doRescale, sourceName);
  if (auto it = j.find("rescale_factor"); it != j.end() && !it->is_null())
  {
    if (!it->is_number())
    {
      badKey(sourceName, "rescale_factor",
        "must be a number such as 0.00392156862745098 (1/255), not " + it->dump());
    }
    config.rescaleFactor = it->get<double>();
  }
  config.doNormalize = readBool(j, "do_normalize", config.doNormalize, sourceName);
  config.mean = readTriple(j, "image_mean", config.mean, sourceName);
  config.std = readTriple(j, "image_std", config.std, sourceName);
  if (config.doNormalize)
  {
    for (float s : config.std)
    {
      if (!(s != 0.0f) || !std::isfinite(s))
      {
        badKey(sourceName, "image_std", "must hold finite, non-zero numbers");
      }
    }
  }
  return config;
}

PreprocessorConfig loadPreprocessorConfig(const std::string& jsonPath)
{
  std::ifstream file(jsonPath, std::ios::binary);
  if (!file)
  {
    throw ModelError("Cannot open preprocessor configuration '" + jsonPath +
      "': check that the model folder contains preprocessor_config.json.");
  }
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad())
  {
    throw ModelError("Cannot read preprocessor configuration '" + jsonPath + "'.");
  }
  return parsePreprocessorConfig(text.str(), jsonPath);
}

ImageSize preprocessedSize(const PreprocessorConfig& config, int height, int width)
{
  ImageSize size{ height, width };
  if (config.doResize)
  {
    if (config.shortestEdge > 0)
    {
      // transformers.image_transforms.get_resize_output_image_size with
      // default_to_square=False: int(requested_short * long / short).
      const bool portrait = width <= height;
      const long long shortSide = portrait ? width : height;
      const long long longSide = portrait ? height : width;
      const long long newShort = config.shortestEdge;
      if (shortSide <= 0)
      {
        throw ModelError("Cannot resize an image of " + std::to_string(width) + " x " +
          std::to_string(height) + " pixels.");
      }
      const double ratio =
        static_cast<double>(newShort * longSide) / static_cast<double>(shortSide);
      // Checked as a double: a very elongated image would overflow the int.
      if (ratio * static_cast<double>(newShort) > static_cast<double>(MaxPixels))
      {
        throw ModelError("Resizing the shortest edge of a " + std::to_string(width) + " x " +
          std::to_string(height) + " image to " + std::to_string(newShort) +
          " pixels gives more than " + std::to_string(MaxPixels) + " pixels.");
      }
      const int newLong = static_cast<int>(ratio);
      size = portrait ? ImageSize{ newLong, static_cast<int>(newShort) }
                      : ImageSize{ static_cast<int>(newShort), newLong };
    }
    else
    {
      size = ImageSize{ config.height, config.width };
    }
  }
  if (config.doCenterCrop)
  {
    size = ImageSize{ config.cropHeight, config.cropWidth };
  }
  return size;
}

ImageSize modelInputSize(const PreprocessorConfig& config)
{
  if (config.doCenterCrop)
  {
    return { config.cropHeight, config.cropWidth };
  }
  if (config.doResize)
  {
    return config.shortestEdge > 0 ? ImageSize{ config.shortestEdge, config.shortestEdge }
                                   : ImageSize{ config.height, config.width };
  }
  return {};
}

void convertToRgb(const uint8_t* pixels, int height, int width, int channels, uint8_t* rgb)
{
  checkImage(height, width, channels);
  const std::size_t n = static_cast<std::size_t>(height) * width;
  for (std::size_t i = 0; i < n; ++i)
  {
    const uint8_t* p = pixels + i * channels;
    uint8_t* q = rgb + i * 3;
    if (channels <= 2)
    {
      q[0] = q[1] = q[2] = p[0];
    }
    else
    {
      q[0] = p[0];
      q[1] = p[1];
      q[2] = p[2];
    }
  }
}

void resizeImage(const uint8_t* pixels, int height, int width, int channels, uint8_t* out,
  int outHeight, int outWidth, int resample)
{
  if (height <= 0 || width <= 0 || outHeight <= 0 || outWidth <= 0 || channels <= 0)
  {
    throw ModelError("Cannot resize an image of " + std::to_string(width) + " x " +
      std::to_string(height) + " pixels to " + std::to_string(outWidth) + " x " +
      std::to_string(outHeight) + ": all sizes and the channel count must be positive.");
  }
  checkResample(resample);
  const std::size_t inCount = static_cast<std::size_t>(height) * width;
  const std::size_t outCount = static_cast<std::size_t>(outHeight) * outWidth;
  std::vector<uint8_t> plane(inCount);
  std::vector<uint8_t> resized(outCount);
  for (int c = 0; c < channels; ++c)
  {
    for (std::size_t i = 0; i < inCount; ++i)
    {
      plane[i] = pixels[i * channels + c];
    }
    resizePlane(plane.data(), height, width, resized.data(), outHeight, outWidth, resample);
    for (std::size_t i = 0; i < outCount; ++i)
    {
      out[i * channels + c] = resized[i];
    }
  }
}

void preprocessImage(const uint8_t* pixels, int height, int width, int channels,
  const PreprocessorConfig& config, float* out)
{
  checkImage(height, width, channels);
  checkResample(config.resample);

  // 1. RGB planes. PIL's convert("RGB") replicates L (dropping alpha), so
  //    gray inputs need one plane only: resampling works per channel.
  const int planes = channels <= 2 ? 1 : 3;
  const std::size_t inCount = static_cast<std::size_t>(height) * width;
  std::vector<uint8_t> rgb(inCount * planes);
  for (int c = 0; c < planes; ++c)
  {
    uint8_t* plane = rgb.data() + c * inCount;
    for (std::size_t i = 0; i < inCount; ++i)
    {
      plane[i] = pixels[i * channels + c];
    }
  }

  // 2. Resize.
  ImageSize resized{ height, width };
  std::vector<uint8_t> resizedPlanes;
  const uint8_t* source = rgb.data();
  if (config.doResize)
  {
    PreprocessorConfig noCrop = config;
    noCrop.doCenterCrop = false;
    resized = preprocessedSize(noCrop, height, width);
    if (resized.height <= 0 || resized.width <= 0)
    {
      throw ModelError("The preprocessor configuration resizes a " + std::to_string(width) + " x " +
        std::to_string(height) + " image to an empty one; check its \"size\".");
    }
    if (resized.height != height || resized.width != width)
    {
      const std::size_t outCount = static_cast<std::size_t>(resized.height) * resized.width;
      resizedPlanes.resize(outCount * planes);
      for (int c = 0; c < planes; ++c)
      {
        resizePlane(rgb.data() + c * inCount, height, width, resizedPlanes.data() + c * outCount,
          resized.height, resized.width, config.resample);
      }
      source = resizedPlanes.data();
    }
  }

  // 3. Center crop (zero padding where the image is smaller), as
  //    transformers.image_transforms.center_crop.
  int outHeight = resized.height;
  int outWidth = resized.width;
  int offsetY = 0;
  int offsetX = 0;
  if (config.doCenterCrop)
  {
    outHeight = config.cropHeight;
    outWidth = config.cropWidth;
    offsetY = floorDiv2(resized.height - outHeight);
    offsetX = floorDiv2(resized.width - outWidth);
  }

  // 4. Rescale in float64 then cast to float32 (transformers' rescale), then
  //    normalize in float32: (x - mean) / std. A 256-entry table per channel
  //    performs exactly these operations.
  std::array<std::array<float, 256>, 3> table;
  for (int c = 0; c < 3; ++c)
  {
    for (int v = 0; v < 256; ++v)
    {
      float x = config.doRescale ? static_cast<float>(static_cast<double>(v) * config.rescaleFactor)
                                 : static_cast<float>(v);
      if (config.doNormalize)
      {
        x = (x - config.mean[c]) / config.std[c];
      }
      table[c][v] = x;
    }
  }

  const std::size_t planeCount = static_cast<std::size_t>(resized.height) * resized.width;
  const std::size_t outCount = static_cast<std::size_t>(outHeight) * outWidth;
  for (int c = 0; c < 3; ++c)
  {
    const uint8_t* plane = source + (planes == 1 ? 0 : c * planeCount);
    const std::array<float, 256>& lut = table[c];
    float* dst = out + c * outCount;
    for (int y = 0; y < outHeight; ++y)
    {
      const int sy = y + offsetY;
      for (int x = 0; x < outWidth; ++x)
      {
        const int sx = x + offsetX;
        const bool inside = sy >= 0 && sy < resized.height && sx >= 0 && sx < resized.width;
        const uint8_t v = inside ? plane[static_cast<std::size_t>(sy) * resized.width + sx] : 0;
        dst[static_cast<std::size_t>(y) * outWidth + x] = lut[v];
      }
    }
  }
}

std::vector<float> preprocessImage(
  const uint8_t* pixels, int height, int width, int channels, const PreprocessorConfig& config)
{
  checkImage(height, width, channels);
  const ImageSize size = preprocessedSize(config, height, width);
  std::vector<float> out(static_cast<std::size_t>(3) * size.height * size.width);
  preprocessImage(pixels, height, width, channels, config, out.data());
  return out;
}

void preprocessBatch(const uint8_t* pixels, std::size_t count, int height, int width, int channels,
  const PreprocessorConfig& config, float* out)
{
  checkImage(height, width, channels);
  const ImageSize size = preprocessedSize(config, height, width);
  const std::size_t inStride = static_cast<std::size_t>(height) * width * channels;
  const std::size_t outStride = static_cast<std::size_t>(3) * size.height * size.width;
  for (std::size_t i = 0; i < count; ++i)
  {
    preprocessImage(pixels + i * inStride, height, width, channels, config, out + i * outStride);
  }
}

void preprocessBatch(
  const std::vector<ImageView>& images, const PreprocessorConfig& config, float* out)
{
  if (images.empty())
  {
    return;
  }
  const ImageSize first = preprocessedSize(config, images.front().height, images.front().width);
  const std::size_t outStride = static_cast<std::size_t>(3) * first.height * first.width;
  for (std::size_t i = 0; i < images.size(); ++i)
  {
    const ImageView& image = images[i];
    const ImageSize size = preprocessedSize(config, image.height, image.width);
    if (size.height != first.height || size.width != first.width)
    {
      throw ModelError("Image " + std::to_string(i) + " preprocesses to " +
        std::to_string(size.width) + " x " + std::to_string(size.height) +
        " pixels but image 0 to " + std::to_string(first.width) + " x " +
        std::to_string(first.height) +
        ": a batch needs one size; use a {\"height\", \"width\"} size in the preprocessor "
        "configuration.");
    }
    preprocessImage(
      image.pixels, image.height, image.width, image.channels, config, out + i * outStride);
  }
}

} // namespace engine
} // namespace dualembed
