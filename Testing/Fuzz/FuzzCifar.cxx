// CIFAR-10 / CIFAR-100 binary batches: parts [batch, class names]; the first
// byte picks the file name (and so the format).
#include "FuzzSupport.h"
#include "ImageDataset.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using namespace dualembed;
  if (size < 1)
  {
    return 0;
  }
  const bool hundred = data[0] & 1;
  const auto parts = fuzz::splitParts(data + 1, size - 1, 2);
  const auto dir = fuzz::scratch() / "cifar";
  std::filesystem::remove_all(dir);
  const auto batch = dir / (hundred ? "train.bin" : "data_batch_1.bin");
  fuzz::writeBytes(batch, parts[0]);
  if (!parts[1].empty())
  {
    fuzz::writeBytes(dir / (hundred ? "fine_label_names.txt" : "batches.meta.txt"), parts[1]);
  }
  try
  {
    const auto info = formats::probeDataset(batch.string());
    const auto n = info.numberOfSamples;
    formats::readSamples(info, 0, std::min<std::int64_t>(n, 16));
    formats::readSamples(info, n - 1, 1);
  }
  catch (const formats::FormatError&)
  {
  }
  return 0;
}
