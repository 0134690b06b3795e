// Columnar tables (Parquet files, Arrow IPC streams and files) read one leaf
// column of one chunk (a Parquet row group, an Arrow record batch) at a time:
// the model the Hugging Face layer reads through, whatever wrote the file.
// A 50 000-image table is therefore never in memory whole, and MPI pieces and
// MaxSamples read only the chunks that hold their rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace dualembed
{
namespace formats
{
namespace columnar
{

/// What a field holds, as far as DualEmbed reads it. Types the readers do not
/// read (timestamps, decimals, maps, ...) are Unsupported: they appear in the
/// schema, by name and typeName, but readLeaf() refuses them.
enum class ValueKind
{
  Boolean,
  Integer,
  Real,
  Binary,
  String,
  Struct,
  List, ///< list, large_list, fixed_size_list (Arrow); a 3-level LIST group (Parquet)
  Unsupported
};

struct Field
{
  std::string name;
  ValueKind kind = ValueKind::Unsupported;
  bool nullable = true;
  int bitWidth = 0;            ///< Integer: 8, 16, 32, 64; Real: 16, 32, 64
  bool isSigned = true;        ///< Integer only
  int fixedSize = 0;           ///< List: the size of an Arrow fixed_size_list, else 0
  std::string typeName;        ///< for messages: "int64", "binary", "list<float>", "timestamp[ms]"
  std::vector<Field> children; ///< Struct: its members; List: its one element field
};

struct Schema
{
  std::vector<Field> fields;
  /// The file's key-value metadata (Parquet footer, Arrow schema), e.g. "huggingface".
  std::vector<std::pair<std::string, std::string>> metadata;
};

/// One leaf column read for the rows of one chunk. A leaf is named by its path
/// of field names from a top-level field down through Struct members to a
/// field that is not a Struct; a List field is a leaf (its elements are read
/// with it, and must be Boolean, Integer or Real).
struct LeafChunk
{
  std::int64_t rows = 0;
  /// Per row: 1 where the value is present, 0 where it or a Struct above it is null.
  std::vector<std::uint8_t> present;
  /// Boolean and Integer leaves (and List elements of those kinds): one value per
  /// row (per element for lists); null rows hold 0.
  std::vector<std::int64_t> integers;
  /// Real leaves (and List elements of that kind); null rows and null elements hold NaN.
  std::vector<double> reals;
  /// Binary and String leaves: rows + 1 offsets into bytes; a null row is empty.
  std::vector<std::int64_t> offsets;
  std::vector<std::uint8_t> bytes;
  /// List leaves: rows + 1 offsets into the elements (integers or reals); a null
  /// list has no elements.
  std::vector<std::int64_t> listOffsets;
};

class TableReader
{
public:
  virtual ~TableReader() = default;
  virtual const Schema& schema() const = 0;
  virtual std::int64_t numberOfRows() const = 0;
  /// Rows of each chunk, in file order (their sum is numberOfRows()).
  virtual const std::vector<std::int64_t>& chunkRows() const = 0;
  /// Reads one leaf of one chunk. Throws FormatError (naming the file, the column
  /// and what is wrong or unsupported) for a bad path, an Unsupported leaf, or a
  /// damaged file.
  virtual LeafChunk readLeaf(std::size_t chunk, const std::vector<std::string>& leafPath) = 0;
  /// The same into `out`, reusing the memory its vectors hold (a reader kept open
  /// across chunks reads without fresh allocations).
  virtual void readLeafInto(
    std::size_t chunk, const std::vector<std::string>& leafPath, LeafChunk& out)
  {
    out = this->readLeaf(chunk, leafPath);
  }
  /// The file it reads, for messages.
  virtual const std::string& path() const = 0;
};

/// Every leaf path of a schema, depth first: what readLeaf() can be asked for.
inline std::vector<std::vector<std::string>> leafPaths(const Schema& schema)
{
  std::vector<std::vector<std::string>> leaves;
  std::vector<std::string> path;
  struct Walk
  {
    std::vector<std::vector<std::string>>& leaves;
    std::vector<std::string>& path;
    void operator()(const Field& field) const
    {
      path.push_back(field.name);
      if (field.kind == ValueKind::Struct)
      {
        for (const auto& child : field.children)
        {
          (*this)(child);
        }
      }
      else
      {
        leaves.push_back(path);
      }
      path.pop_back();
    }
  };
  const Walk walk{ leaves, path };
  for (const auto& field : schema.fields)
  {
    walk(field);
  }
  return leaves;
}

/// Parquet files ("PAR1" at both ends). Throws FormatError.
std::unique_ptr<TableReader> openParquet(const std::string& path);
/// Arrow IPC: the stream format (with or without the 0xFFFFFFFF continuation
/// marker, as the `datasets` cache and save_to_disk write it) and the file
/// format ("ARROW1"); memory-mapped. Throws FormatError.
std::unique_ptr<TableReader> openArrowIpc(const std::string& path);

/// By content (magic bytes), never throws: a Parquet file, an Arrow IPC file or stream.
bool looksLikeParquet(const std::string& path);
bool looksLikeArrowIpc(const std::string& path);

} // namespace columnar
} // namespace formats
} // namespace dualembed
