// config.json of ViT and Swin models.
#include "EngineError.h"
#include "ModelConfig.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  try
  {
    const auto config = dualembed::engine::parseModelConfig(
      std::string(reinterpret_cast<const char*>(data), size), "config.json");
    (void)config.finalHiddenSize();
  }
  catch (const dualembed::engine::ModelError&)
  {
  }
  return 0;
}
