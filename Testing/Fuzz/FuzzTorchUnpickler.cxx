// The unpickler of pytorch_model.bin alone: the input is data.pkl, packed into
// a valid zip archive with four storage records (data/0 .. data/3, 64 bytes
// each) so that every input reaches the pickle machine.
#include "EngineError.h"
#include "FuzzSupport.h"
#include "TorchCheckpoint.h"

#include <caffe2/serialize/inline_container.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  const auto path = dualembed::fuzz::scratch() / "archive.bin";
  {
    caffe2::serialize::PyTorchStreamWriter writer(path.string());
    writer.writeRecord("data.pkl", data, size);
    static const std::vector<std::uint8_t> storage = [] {
      std::vector<std::uint8_t> bytes(64);
      for (std::size_t i = 0; i < bytes.size(); ++i)
      {
        bytes[i] = static_cast<std::uint8_t>(i * 37);
      }
      return bytes;
    }();
    for (int i = 0; i < 4; ++i)
    {
      writer.writeRecord("data/" + std::to_string(i), storage.data(), storage.size());
    }
    writer.writeEndOfFile();
  }
  try
  {
    dualembed::engine::loadTorchCheckpoint(path.string());
  }
  catch (const dualembed::engine::ModelError&)
  {
  }
  return 0;
}
