// preprocessor_config.json, then the preprocessing it configures on a few
// small images (gray, RGBA, elongated), when the output stays small enough
// for a fuzzing loop.
#include "EngineError.h"
#include "ImagePreprocessor.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using namespace dualembed::engine;
  try
  {
    const auto config =
      parsePreprocessorConfig(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
    (void)modelInputSize(config);
    static const int shapes[][3] = { { 7, 5, 1 }, { 3, 11, 4 }, { 1, 64, 3 }, { 2, 2, 2 } };
    for (const auto& shape : shapes)
    {
      const ImageSize out = preprocessedSize(config, shape[0], shape[1]);
      if (static_cast<long long>(out.height) * out.width > (1 << 16))
      {
        continue;
      }
      std::vector<std::uint8_t> pixels(static_cast<std::size_t>(shape[0]) * shape[1] * shape[2]);
      for (std::size_t i = 0; i < pixels.size(); ++i)
      {
        pixels[i] = static_cast<std::uint8_t>(i * 29);
      }
      preprocessImage(pixels.data(), shape[0], shape[1], shape[2], config);
    }
  }
  catch (const ModelError&)
  {
  }
  return 0;
}
