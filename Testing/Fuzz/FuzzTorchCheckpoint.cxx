// pytorch_model.bin as a whole: the zip container (LibTorch's
// PyTorchStreamReader) and the pickle inside it.
#include "EngineError.h"
#include "FuzzSupport.h"
#include "TorchCheckpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const auto path = dualembed::fuzz::scratch() / "pytorch_model.bin";
  dualembed::fuzz::writeBytes(path, data, size);
  try
  {
    dualembed::engine::loadTorchCheckpoint(path.string());
  }
  catch (const dualembed::engine::ModelError&)
  {
  }
  return 0;
}
