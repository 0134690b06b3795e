// HDF5 image datasets (images, labels, label_names). libhdf5 1.10 itself is not
// safe on hostile files (README, "Trusted inputs"): findings inside libhdf5
// are not the project's to fix; what the project reads must stay bounded.
#include "FuzzSupport.h"
#include "ImageDataset.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using namespace dualembed;
  const auto path = fuzz::scratch() / "images.h5";
  fuzz::writeBytes(path, data, size);
  try
  {
    const auto info = formats::probeDataset(path.string());
    const auto n = info.numberOfSamples;
    formats::readSamples(info, 0, std::min<std::int64_t>(n, 16));
    formats::readSamples(info, n - 1, 1);
  }
  catch (const formats::FormatError&)
  {
  }
  return 0;
}
