// Parquet: the input is one file; every leaf of every row group is read.
#include "Columnar/Table.h"
#include "FuzzSupport.h"
#include "ImageDataset.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using namespace dualembed;
  using namespace dualembed::formats::columnar;
  const auto path = fuzz::scratch() / "input.parquet";
  fuzz::writeBytes(path, data, size);
  try
  {
    formats::columnar::looksLikeParquet(path.string());
    auto reader = openParquet(path.string());
    const auto leaves = leafPaths(reader->schema());
    for (std::size_t chunk = 0; chunk < reader->chunkRows().size() && chunk < 64; ++chunk)
    {
      for (const auto& leaf : leaves)
      {
        try
        {
          reader->readLeaf(chunk, leaf);
        }
        catch (const formats::FormatError&)
        {
        }
      }
    }
  }
  catch (const formats::FormatError&)
  {
  }
  return 0;
}
