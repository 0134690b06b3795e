// A save_to_disk DatasetDict built from the input: parts [dataset_dict.json,
// state.json, dataset_info.json, data-00000-of-00001.arrow]; the first byte
// chooses which of the folder, the split folder or the .arrow file is opened.
// Fuzzes the layout and features logic of the Hugging Face layer over the
// Arrow reader.
#include "FuzzSupport.h"
#include "ImageDataset.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using namespace dualembed;
  if (size < 1)
  {
    return 0;
  }
  const int entry = data[0] % 3;
  const auto parts = fuzz::splitParts(data + 1, size - 1, 4);
  const auto dir = fuzz::scratch() / "hf";
  std::filesystem::remove_all(dir);
  fuzz::writeBytes(dir / "dataset_dict.json", parts[0]);
  fuzz::writeBytes(dir / "train" / "state.json", parts[1]);
  fuzz::writeBytes(dir / "train" / "dataset_info.json", parts[2]);
  fuzz::writeBytes(dir / "train" / "data-00000-of-00001.arrow", parts[3]);
  const std::filesystem::path opened = entry == 0 ? dir
    : entry == 1                                  ? dir / "train"
                                                  : dir / "train" / "data-00000-of-00001.arrow";
  try
  {
    const auto info = formats::probeDataset(opened.string());
    const auto boundaries = formats::readBoundaries(info);
    const auto n = info.numberOfSamples;
    formats::readSamples(info, 0, std::min<std::int64_t>(n, 64));
    formats::readSamples(info, n - 1, 1);
    (void)boundaries;
  }
  catch (const formats::FormatError&)
  {
  }
  return 0;
}
