// Image folders root/<class>/<file>: the input describes up to 8 entries, each
// a class byte, a name byte and its content (parts); names come from small
// alphabets so that classes, duplicates, odd extensions and stray files occur.
#include "FuzzSupport.h"
#include "ImageDataset.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using namespace dualembed;
  static const char* classes[] = { "cat", "dog", ".hidden", "Ant", "", "b i r d" };
  static const char* names[] = { "a.png", "b.JPG", "c.jpeg", "d.bmp", "e.txt", "f", ".g.png",
    "h.PNG" };
  const auto dir = fuzz::scratch() / "folder";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto parts = fuzz::splitParts(data, size, 9);
  for (std::size_t i = 0; i + 1 < parts.size(); ++i)
  {
    if (parts[i].size() < 2)
    {
      continue;
    }
    const auto c = static_cast<unsigned char>(parts[i][0]) % 6;
    const auto f = static_cast<unsigned char>(parts[i][1]) % 8;
    fuzz::writeBytes(dir / classes[c] / names[f], parts[i].substr(2));
  }
  // The last part, when not empty, is a file at the root itself.
  if (!parts.back().empty())
  {
    fuzz::writeBytes(dir / "stray.png", parts.back());
  }
  const std::string target =
    size > 0 && (data[size - 1] & 1) ? (dir / "cat" / "a.png").string() : dir.string();
  try
  {
    const auto info = formats::probeDataset(target);
    formats::readSamples(info, 0, info.numberOfSamples);
  }
  catch (const formats::FormatError&)
  {
  }
  return 0;
}
