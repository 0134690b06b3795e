// Arrow IPC stream or file (one part): open it, then read every leaf of every
// record batch. Batches of more than 2^20 rows are skipped: the reader bounds
// them by the file's buffers (or 1 GiB per decompressed buffer), which is
// legitimate but more memory than a fuzzing run allows.
#include "Columnar/Table.h"
#include "FuzzSupport.h"
#include "ImageDataset.h"

namespace
{

using namespace dualembed::formats::columnar;

void leaves(
  const Field& field, std::vector<std::string>& path, std::vector<std::vector<std::string>>& out)
{
  path.push_back(field.name);
  if (field.kind == ValueKind::Struct && path.size() < 40)
  {
    for (const auto& child : field.children)
    {
      leaves(child, path, out);
    }
  }
  out.push_back(path); // structs too: refused with FormatError
  path.pop_back();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using namespace dualembed;
  const auto file = fuzz::scratch() / "data-00000-of-00001.arrow";
  fuzz::writeBytes(file, data, size);
  formats::columnar::looksLikeArrowIpc(file.string());
  try
  {
    auto reader = formats::columnar::openArrowIpc(file.string());
    std::vector<std::vector<std::string>> paths;
    std::vector<std::string> path;
    for (const auto& field : reader->schema().fields)
    {
      leaves(field, path, paths);
    }
    const auto& rows = reader->chunkRows();
    for (std::size_t chunk = 0; chunk < rows.size() && chunk < 64; ++chunk)
    {
      if (rows[chunk] > (1 << 20))
      {
        continue;
      }
      for (const auto& leaf : paths)
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
