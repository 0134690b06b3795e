// IDX images + labels (raw or .gz): parts [images, labels]; a first byte that
// is odd names the files *.gz (zlib reads plain files under either name).
#include "FuzzSupport.h"
#include "ImageDataset.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using namespace dualembed;
  if (size < 1)
  {
    return 0;
  }
  const bool gz = data[0] & 1;
  const auto parts = fuzz::splitParts(data + 1, size - 1, 2);
  const auto dir = fuzz::scratch() / "idx";
  const std::string suffix = gz ? ".gz" : "";
  std::filesystem::remove_all(dir);
  fuzz::writeBytes(dir / ("t10k-images-idx3-ubyte" + suffix), parts[0]);
  fuzz::writeBytes(dir / ("t10k-labels-idx1-ubyte" + suffix), parts[1]);
  try
  {
    const auto info = formats::probeDataset((dir / ("t10k-images-idx3-ubyte" + suffix)).string());
    const auto n = info.numberOfSamples;
    formats::readSamples(info, 0, std::min<std::int64_t>(n, 16));
    formats::readSamples(info, n - 1, 1);
  }
  catch (const formats::FormatError&)
  {
  }
  return 0;
}
