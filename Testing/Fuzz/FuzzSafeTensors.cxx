// safetensors: the header JSON, dtypes, shapes and data offsets.
#include "EngineError.h"
#include "SafeTensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  try
  {
    dualembed::engine::parseSafeTensors(
      std::string(reinterpret_cast<const char*>(data), size), "fuzz.safetensors");
  }
  catch (const dualembed::engine::ModelError&)
  {
  }
  return 0;
}
