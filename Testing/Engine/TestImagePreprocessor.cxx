// Tests of the engine's image preprocessing against Hugging Face
// ViTImageProcessor (PIL backend) and PIL itself. Reference data:
// Testing/Data/hf-reference (see make_raw_images.py there).
#include "ImagePreprocessor.h"
#include "NpyReader.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

using dualembed::engine::ImageSize;
using dualembed::engine::ImageView;
using dualembed::engine::ModelError;
using dualembed::engine::PreprocessorConfig;
using dualembed::testdata::NpyArray;
using dualembed::testdata::readNpy;

namespace engine = dualembed::engine;

namespace
{

const std::string DataDir = std::string(DUALEMBED_TESTING_DATA_DIR) + "/hf-reference";

// The fixture images in sorted order (the order of pixel_values.npy).
const std::vector<std::string> ImageNames = { "grad_45x37", "gray28_0", "gray28_1", "rgb32_0",
  "rgb32_1", "rgb32_2", "rgb32_3", "rgb_64x50" };

struct RawImage
{
  std::vector<uint8_t> pixels;
  int height = 0;
  int width = 0;
  int channels = 0;
};

RawImage loadRaw(const std::string& relativePath)
{
  const NpyArray a = readNpy(DataDir + "/" + relativePath);
  RawImage image;
  image.pixels = a.values<uint8_t>("|u1");
  if (a.shape.size() != 2 && a.shape.size() != 3)
  {
    throw std::runtime_error(relativePath + ": expected (H, W) or (H, W, C)");
  }
  image.height = static_cast<int>(a.shape[0]);
  image.width = static_cast<int>(a.shape[1]);
  image.channels = a.shape.size() == 3 ? static_cast<int>(a.shape[2]) : 1;
  return image;
}

double maxAbsDiff(const float* a, const float* b, std::size_t n)
{
  double m = 0.0;
  for (std::size_t i = 0; i < n; ++i)
  {
    m = std::max(m, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  }
  return m;
}

std::string writeTempFile(const std::string& name, const std::string& text)
{
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

template <typename F>
std::string modelErrorMessage(F&& f)
{
  try
  {
    f();
  }
  catch (const ModelError& e)
  {
    return e.what();
  }
  return "<no ModelError thrown>";
}

} // namespace

// ---------------------------------------------------------------------------
// Hugging Face reference: 6 models x 8 images.

class HfReference : public ::testing::TestWithParam<std::string>
{
};

TEST_P(HfReference, MatchesPixelValues)
{
  const std::string model = GetParam();
  const PreprocessorConfig config =
    engine::loadPreprocessorConfig(DataDir + "/" + model + "/preprocessor_config.json");
  const NpyArray expectedArray = readNpy(DataDir + "/" + model + "/pixel_values.npy");
  const std::vector<float> expected = expectedArray.values<float>("<f4");
  ASSERT_EQ(expectedArray.shape.size(), 4u);
  ASSERT_EQ(expectedArray.shape[0], ImageNames.size());
  ASSERT_EQ(expectedArray.shape[1], 3u);
  ASSERT_EQ(expectedArray.shape[2], static_cast<std::size_t>(config.height));
  ASSERT_EQ(expectedArray.shape[3], static_cast<std::size_t>(config.width));
  const std::size_t stride = 3 * expectedArray.shape[2] * expectedArray.shape[3];

  double worst = 0.0;
  std::size_t differing = 0;
  std::vector<float> out(stride);
  for (std::size_t i = 0; i < ImageNames.size(); ++i)
  {
    const RawImage image = loadRaw("images/" + ImageNames[i] + ".npy");
    engine::preprocessImage(
      image.pixels.data(), image.height, image.width, image.channels, config, out.data());
    const float* ref = expected.data() + i * stride;
    const double diff = maxAbsDiff(out.data(), ref, stride);
    for (std::size_t k = 0; k < stride; ++k)
    {
      differing += out[k] != ref[k];
    }
    EXPECT_LE(diff, 1e-6) << model << " / " << ImageNames[i];
    worst = std::max(worst, diff);
  }
  std::cout << "[ preprocess ] " << model << ": max abs diff " << worst << ", " << differing
            << " values not bit-identical" << std::endl;
  RecordProperty("max_abs_diff", std::to_string(worst));
  EXPECT_EQ(differing, 0u) << "expected bit-identical float32 output";
}

INSTANTIATE_TEST_SUITE_P(Models, HfReference,
  ::testing::Values("vit-tiny", "vit-tiny-classifier", "swin-tiny", "swin-tiny-classifier",
    "vit-p16-224", "swin-p4-w7-224"),
  [](const ::testing::TestParamInfo<std::string>& info) {
    std::string name = info.param;
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
  });

// ---------------------------------------------------------------------------
// PIL reference cases made by make_raw_images.py.

nlohmann::json loadCases()
{
  std::ifstream file(DataDir + "/pil-cases/cases.json");
  return nlohmann::json::parse(file);
}

TEST(PilCases, ResizeMatchesPil)
{
  const nlohmann::json cases = loadCases();
  int count = 0;
  for (const auto& c : cases["cases"])
  {
    if (c["kind"] != "resize")
    {
      continue;
    }
    const RawImage image = loadRaw(c["input"].get<std::string>());
    const int w = c["width"];
    const int h = c["height"];
    const int r = c["resample"];
    std::vector<uint8_t> rgb(static_cast<std::size_t>(image.height) * image.width * 3);
    engine::convertToRgb(
      image.pixels.data(), image.height, image.width, image.channels, rgb.data());
    std::vector<uint8_t> out(static_cast<std::size_t>(h) * w * 3);
    engine::resizeImage(rgb.data(), image.height, image.width, 3, out.data(), h, w, r);

    const NpyArray expected = readNpy(DataDir + "/" + c["expected"].get<std::string>());
    ASSERT_EQ(expected.shape, (std::vector<std::size_t>{ std::size_t(h), std::size_t(w), 3 }));
    const std::vector<uint8_t> ref = expected.values<uint8_t>("|u1");
    std::size_t mismatches = 0;
    int worst = 0;
    for (std::size_t i = 0; i < ref.size(); ++i)
    {
      mismatches += ref[i] != out[i];
      worst = std::max(worst, std::abs(int(ref[i]) - int(out[i])));
    }
    EXPECT_EQ(mismatches, 0u) << c["input"] << " -> " << w << "x" << h << " resample " << r
                              << ": max 8-bit difference " << worst;
    ++count;
  }
  EXPECT_GE(count, 10);
}

TEST(PilCases, PreprocessMatchesTransformersArithmetic)
{
  const nlohmann::json cases = loadCases();
  int count = 0;
  for (const auto& c : cases["cases"])
  {
    if (c["kind"] != "preprocess")
    {
      continue;
    }
    const PreprocessorConfig config = engine::parsePreprocessorConfig(c["config"].dump(), "case");
    const RawImage image = loadRaw(c["input"].get<std::string>());
    const NpyArray expected = readNpy(DataDir + "/" + c["expected"].get<std::string>());
    const ImageSize size = engine::preprocessedSize(config, image.height, image.width);
    ASSERT_EQ(expected.shape,
      (std::vector<std::size_t>{ 3, std::size_t(size.height), std::size_t(size.width) }))
      << c["input"];
    const std::vector<float> ref = expected.values<float>("<f4");
    const std::vector<float> out = engine::preprocessImage(
      image.pixels.data(), image.height, image.width, image.channels, config);
    ASSERT_EQ(out.size(), ref.size());
    EXPECT_EQ(maxAbsDiff(out.data(), ref.data(), ref.size()), 0.0)
      << c["input"] << " " << c["config"];
    ++count;
  }
  EXPECT_GE(count, 4);
}

// ---------------------------------------------------------------------------
// Colour conversion.

TEST(ConvertToRgb, GrayIsReplicated)
{
  const uint8_t gray[] = { 0, 17, 255, 128 };
  uint8_t rgb[12];
  engine::convertToRgb(gray, 2, 2, 1, rgb);
  for (int i = 0; i < 4; ++i)
  {
    EXPECT_EQ(rgb[3 * i + 0], gray[i]);
    EXPECT_EQ(rgb[3 * i + 1], gray[i]);
    EXPECT_EQ(rgb[3 * i + 2], gray[i]);
  }
}

TEST(ConvertToRgb, AlphaIsDroppedNotComposited)
{
  const uint8_t rgba[] = { 10, 20, 30, 0, 200, 100, 50, 128 };
  uint8_t rgb[6];
  engine::convertToRgb(rgba, 1, 2, 4, rgb);
  EXPECT_EQ(std::vector<uint8_t>(rgb, rgb + 6), (std::vector<uint8_t>{ 10, 20, 30, 200, 100, 50 }));

  const uint8_t la[] = { 77, 0, 99, 255 };
  engine::convertToRgb(la, 2, 1, 2, rgb);
  EXPECT_EQ(std::vector<uint8_t>(rgb, rgb + 6), (std::vector<uint8_t>{ 77, 77, 77, 99, 99, 99 }));
}

TEST(ConvertToRgb, GrayPreprocessesLikeReplicatedRgb)
{
  const RawImage gray = loadRaw("images/gray28_0.npy");
  ASSERT_EQ(gray.channels, 1);
  std::vector<uint8_t> rgb(gray.pixels.size() * 3);
  engine::convertToRgb(gray.pixels.data(), gray.height, gray.width, 1, rgb.data());
  for (int resample : { 0, 1, 2, 3, 4, 5 })
  {
    PreprocessorConfig config;
    config.height = 40;
    config.width = 19;
    config.resample = resample;
    const auto a = engine::preprocessImage(gray.pixels.data(), gray.height, gray.width, 1, config);
    const auto b = engine::preprocessImage(rgb.data(), gray.height, gray.width, 3, config);
    EXPECT_EQ(a, b) << "resample " << resample;
  }
}

TEST(ConvertToRgb, RejectsOtherChannelCounts)
{
  const uint8_t pixels[10] = {};
  uint8_t rgb[6];
  EXPECT_THROW(engine::convertToRgb(pixels, 1, 2, 5, rgb), ModelError);
  PreprocessorConfig config;
  EXPECT_THROW(engine::preprocessImage(pixels, 1, 2, 0, config), ModelError);
  EXPECT_THROW(engine::preprocessImage(pixels, 0, 2, 3, config), ModelError);
}

// ---------------------------------------------------------------------------
// Resizing corner cases.

TEST(Resize, SameSizeIsACopy)
{
  const RawImage image = loadRaw("images/rgb32_1.npy");
  for (int resample = 0; resample <= 5; ++resample)
  {
    std::vector<uint8_t> out(image.pixels.size());
    engine::resizeImage(image.pixels.data(), 32, 32, 3, out.data(), 32, 32, resample);
    EXPECT_EQ(out, image.pixels);
  }
}

TEST(Resize, NearestIntegerUpscaleRepeatsPixels)
{
  const uint8_t in[] = { 1, 2, 3, 4 };
  uint8_t out[16];
  engine::resizeImage(in, 2, 2, 1, out, 4, 4, 0);
  const uint8_t expected[] = { 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4 };
  EXPECT_TRUE(std::equal(out, out + 16, expected));
}

TEST(Resize, ConstantImageStaysConstant)
{
  std::vector<uint8_t> in(37 * 23, 201);
  for (int resample = 0; resample <= 5; ++resample)
  {
    std::vector<uint8_t> out(11 * 64);
    engine::resizeImage(in.data(), 37, 23, 1, out.data(), 11, 64, resample);
    EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](uint8_t v) { return v == 201; }))
      << "resample " << resample;
  }
}

TEST(Resize, RejectsUnknownFilter)
{
  const uint8_t in[4] = {};
  uint8_t out[9];
  EXPECT_THROW(engine::resizeImage(in, 2, 2, 1, out, 3, 3, 6), ModelError);
  PreprocessorConfig config;
  config.resample = -1;
  EXPECT_THROW(engine::preprocessImage(in, 2, 2, 1, config), ModelError);
}

// ---------------------------------------------------------------------------
// Rescale / normalize and center crop.

TEST(Normalize, FollowsTransformersFloatOrder)
{
  // One pixel, no resize: value = float32(float64(v) * factor), then
  // (x - mean) / std in float32.
  const uint8_t pixel[] = { 0, 128, 255 };
  PreprocessorConfig config;
  config.doResize = false;
  config.mean = { 0.485f, 0.456f, 0.406f };
  config.std = { 0.229f, 0.224f, 0.225f };
  const auto out = engine::preprocessImage(pixel, 1, 1, 3, config);
  for (int c = 0; c < 3; ++c)
  {
    const float x = static_cast<float>(static_cast<double>(pixel[c]) * (1.0 / 255.0));
    const float expected = (x - config.mean[c]) / config.std[c];
    EXPECT_EQ(out[c], expected);
  }
  config.doNormalize = false;
  config.doRescale = false;
  const auto raw = engine::preprocessImage(pixel, 1, 1, 3, config);
  EXPECT_EQ(raw, (std::vector<float>{ 0.f, 128.f, 255.f }));
}

TEST(CenterCrop, CropsAndPadsLikeTransformers)
{
  // 1 x 5 gray ramp, no resize, crop to 3 x 3: rows are padded (1 above,
  // 1 below: ceil(2/2)), columns are cropped from (5-3)//2 = 1.
  const uint8_t ramp[] = { 10, 20, 30, 40, 50 };
  PreprocessorConfig config;
  config.doResize = false;
  config.doRescale = false;
  config.doNormalize = false;
  config.doCenterCrop = true;
  config.cropHeight = 3;
  config.cropWidth = 3;
  const ImageSize size = engine::preprocessedSize(config, 1, 5);
  EXPECT_EQ(size.height, 3);
  EXPECT_EQ(size.width, 3);
  const auto out = engine::preprocessImage(ramp, 1, 5, 1, config);
  ASSERT_EQ(out.size(), 27u);
  const std::vector<float> plane = { 0, 0, 0, 20, 30, 40, 0, 0, 0 };
  for (int c = 0; c < 3; ++c)
  {
    EXPECT_EQ(std::vector<float>(out.begin() + 9 * c, out.begin() + 9 * (c + 1)), plane);
  }
}

// ---------------------------------------------------------------------------
// preprocessor_config.json parsing.

TEST(Config, ReadsFixtureConfig)
{
  const PreprocessorConfig c =
    engine::loadPreprocessorConfig(DataDir + "/swin-tiny/preprocessor_config.json");
  EXPECT_TRUE(c.doResize);
  EXPECT_EQ(c.height, 32);
  EXPECT_EQ(c.width, 32);
  EXPECT_EQ(c.shortestEdge, 0);
  EXPECT_EQ(c.resample, 3);
  EXPECT_TRUE(c.doRescale);
  EXPECT_DOUBLE_EQ(c.rescaleFactor, 1.0 / 255.0);
  EXPECT_TRUE(c.doNormalize);
  EXPECT_EQ(c.mean[0], 0.485f);
  EXPECT_EQ(c.mean[2], 0.406f);
  EXPECT_EQ(c.std[1], 0.224f);
  EXPECT_FALSE(c.doCenterCrop);
}

TEST(Config, DefaultsAreViTImageProcessors)
{
  const PreprocessorConfig c = engine::parsePreprocessorConfig("{}");
  EXPECT_TRUE(c.doResize);
  EXPECT_EQ(c.height, 224);
  EXPECT_EQ(c.width, 224);
  EXPECT_EQ(c.resample, 2);
  EXPECT_EQ(c.mean, (std::array<float, 3>{ 0.5f, 0.5f, 0.5f }));
  EXPECT_EQ(c.std, (std::array<float, 3>{ 0.5f, 0.5f, 0.5f }));
}

TEST(Config, ScalarMeanAndStd)
{
  const PreprocessorConfig c =
    engine::parsePreprocessorConfig(R"({"image_mean": 0.25, "image_std": 2, "size": 48})");
  EXPECT_EQ(c.mean, (std::array<float, 3>{ 0.25f, 0.25f, 0.25f }));
  EXPECT_EQ(c.std, (std::array<float, 3>{ 2.f, 2.f, 2.f }));
  EXPECT_EQ(c.height, 48); // a plain number is a square size (default_to_square)
  EXPECT_EQ(c.width, 48);
}

TEST(Config, ShortestEdgeKeepsAspectRatio)
{
  const PreprocessorConfig c =
    engine::parsePreprocessorConfig(R"({"size": {"shortest_edge": 40}, "resample": 3})");
  EXPECT_EQ(c.shortestEdge, 40);
  EXPECT_EQ(c.height, 40);
  EXPECT_EQ(c.width, 40);
  ImageSize s = engine::preprocessedSize(c, 50, 64); // landscape: int(40 * 64 / 50) = 51
  EXPECT_EQ(s.height, 40);
  EXPECT_EQ(s.width, 51);
  s = engine::preprocessedSize(c, 99, 30); // portrait: int(40 * 99 / 30) = 132
  EXPECT_EQ(s.height, 132);
  EXPECT_EQ(s.width, 40);
  s = engine::preprocessedSize(c, 70, 70); // square inputs give a square
  EXPECT_EQ(s.height, 40);
  EXPECT_EQ(s.width, 40);
}

TEST(Config, HeightWidthAndList)
{
  PreprocessorConfig c =
    engine::parsePreprocessorConfig(R"({"size": {"height": 30, "width": 20}, "do_resize": false})");
  EXPECT_EQ(c.height, 30);
  EXPECT_EQ(c.width, 20);
  EXPECT_FALSE(c.doResize);
  c = engine::parsePreprocessorConfig(
    R"({"size": [12, 34], "crop_size": 10, "do_center_crop": true})");
  EXPECT_EQ(c.height, 12);
  EXPECT_EQ(c.width, 34);
  EXPECT_TRUE(c.doCenterCrop);
  EXPECT_EQ(c.cropHeight, 10);
  EXPECT_EQ(c.cropWidth, 10);
}

TEST(Config, MissingFileIsAModelError)
{
  const std::string path = DataDir + "/no-such-model/preprocessor_config.json";
  const std::string message = modelErrorMessage([&] { engine::loadPreprocessorConfig(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

TEST(Config, MalformedJsonIsAModelError)
{
  const std::string path =
    writeTempFile("dualembed_bad_preprocessor.json", "{\"size\": {\"height\": 3");
  const std::string message = modelErrorMessage([&] { engine::loadPreprocessorConfig(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("JSON"), std::string::npos) << message;
  EXPECT_THROW(engine::parsePreprocessorConfig("[1, 2]"), ModelError);
}

TEST(Config, BadValuesNameTheFileAndKey)
{
  const std::string path =
    writeTempFile("dualembed_badkey_preprocessor.json", R"({"size": {"height": -3, "width": 4}})");
  std::string message = modelErrorMessage([&] { engine::loadPreprocessorConfig(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("size.height"), std::string::npos) << message;

  const std::vector<std::pair<std::string, std::string>> bad = {
    { R"({"size": "big"})", "'size'" },
    { R"({"size": {"longest_edge": 3}})", "'size'" },
    { R"({"resample": 9})", "'resample'" },
    { R"({"resample": "bicubic"})", "'resample'" },
    { R"({"image_mean": [0.5, 0.5]})", "'image_mean'" },
    { R"({"image_std": [1, "x", 1]})", "'image_std'" },
    { R"({"image_std": 0})", "'image_std'" },
    { R"({"do_resize": "yes"})", "'do_resize'" },
    { R"({"rescale_factor": "1/255"})", "'rescale_factor'" },
    { R"({"crop_size": {"shortest_edge": 3}})", "'crop_size'" },
  };
  for (const auto& entry : bad)
  {
    // Not a structured binding: C++17 lambdas cannot capture those (clang refuses).
    const auto& text = entry.first;
    const auto& key = entry.second;
    message = modelErrorMessage([&] { engine::parsePreprocessorConfig(text, "cfg.json"); });
    EXPECT_NE(message.find(key), std::string::npos) << text << " -> " << message;
    EXPECT_NE(message.find("cfg.json"), std::string::npos) << text << " -> " << message;
  }
}

// ---------------------------------------------------------------------------
// Batches and threads.

TEST(Batch, MatchesSingleImagesAndIsThreadSafe)
{
  const PreprocessorConfig config =
    engine::loadPreprocessorConfig(DataDir + "/swin-p4-w7-224/preprocessor_config.json");
  std::vector<RawImage> images;
  std::vector<ImageView> views;
  for (const auto& name : ImageNames)
  {
    images.push_back(loadRaw("images/" + name + ".npy"));
  }
  for (const auto& image : images)
  {
    views.push_back({ image.pixels.data(), image.height, image.width, image.channels });
  }
  const std::size_t stride = 3 * 224 * 224;
  std::vector<float> batch(stride * images.size());
  engine::preprocessBatch(views, config, batch.data());

  const NpyArray expected = readNpy(DataDir + "/swin-p4-w7-224/pixel_values.npy");
  EXPECT_EQ(batch, expected.values<float>("<f4"));

  // Same-shape batch overload.
  std::vector<uint8_t> pair(images[3].pixels);
  pair.insert(pair.end(), images[4].pixels.begin(), images[4].pixels.end());
  std::vector<float> two(2 * stride);
  engine::preprocessBatch(pair.data(), 2, 32, 32, 3, config, two.data());
  EXPECT_TRUE(std::equal(two.begin(), two.end(), batch.begin() + 3 * stride));

  // Several threads at once give the same result.
  std::vector<std::vector<float>> results(4, std::vector<float>(batch.size()));
  std::vector<std::thread> threads;
  for (auto& r : results)
  {
    threads.emplace_back([&] { engine::preprocessBatch(views, config, r.data()); });
  }
  for (auto& t : threads)
  {
    t.join();
  }
  for (const auto& r : results)
  {
    EXPECT_EQ(r, batch);
  }

  // Mixed output sizes cannot form one batch.
  PreprocessorConfig edge = config;
  edge.shortestEdge = 32;
  EXPECT_THROW(engine::preprocessBatch(views, edge, batch.data()), ModelError);
}
