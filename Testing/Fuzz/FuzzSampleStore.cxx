// DualEmbed results files (SampleStore): open, then read every column and the
// points the way vtkSampleStoreReader does (buffers sized from the file's info).
#include "FuzzSupport.h"
#include "SampleStore.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  using namespace dualembed;
  const auto path = fuzz::scratch() / "samples.h5";
  fuzz::writeBytes(path, data, size);
  try
  {
    formats::SampleStoreFile file(path.string());
    const auto read = [&](const formats::ColumnInfo& column, bool fieldData) {
      const auto rows = std::min<std::int64_t>(column.rows, 64);
      if (column.type == formats::ColumnType::String)
      {
        file.readStrings(column, fieldData, 0, rows);
      }
      else
      {
        std::vector<std::uint8_t> values(static_cast<std::size_t>(rows) * column.components *
          formats::columnTypeSize(column.type));
        file.readNumeric(column, fieldData, 0, rows, values.data());
      }
    };
    for (const auto& column : file.pointData())
    {
      read(column, false);
    }
    for (const auto& column : file.fieldData())
    {
      read(column, true);
    }
    if (file.hasPoints())
    {
      const auto rows = std::min<std::int64_t>(file.numberOfSamples(), 64);
      std::vector<double> points(static_cast<std::size_t>(rows) * 3);
      file.readPoints(0, rows, points.data());
    }
  }
  catch (const formats::FormatError&)
  {
  }
  return 0;
}
