// The Parquet reader, on files each test writes byte by byte: a small Thrift
// compact writer builds footers and page headers, so every layout (v1 and v2
// pages, dictionaries, nested optional structs, lists, codecs) and every kind
// of damage is exact and known.
#include "Columnar/Parquet.h"
#include "Columnar/Table.h"
#include "Columnar/ThriftCompact.h"
#include "ImageDataset.h"

#include <gtest/gtest.h>

#include <lz4.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace dualembed
{
namespace formats
{
namespace testing
{
namespace
{

namespace fs = std::filesystem;
using namespace columnar;
using Bytes = std::vector<std::uint8_t>;

// Thrift compact type codes and Parquet enum values used below.
constexpr std::uint8_t TBinary = 8, TList = 9, TMap = 11, TStruct = 12, TI32 = 5, TDouble = 7;
constexpr int BOOLEAN = 0, INT32 = 1, INT64 = 2, INT96 = 3, FLOAT = 4, DOUBLE = 5, BYTE_ARRAY = 6;
constexpr int REQUIRED = 0, OPTIONAL = 1, REPEATED = 2;
constexpr int UTF8 = 0, MAP = 1, LIST = 3, INT_16 = 16;
constexpr int UNCOMPRESSED = 0, SNAPPY = 1, GZIP = 2, ZSTD = 6, LZ4_RAW = 7;
constexpr int PLAIN = 0, RLE = 3, DELTA_BINARY_PACKED = 5, RLE_DICTIONARY = 8;

class ThriftWriter
{
public:
  Bytes out;

  void beginStruct() { this->last.push_back(0); }
  void endStruct()
  {
    this->out.push_back(0);
    this->last.pop_back();
  }
  void varint(std::uint64_t value)
  {
    while (value >= 0x80)
    {
      this->out.push_back(static_cast<std::uint8_t>(value | 0x80));
      value >>= 7;
    }
    this->out.push_back(static_cast<std::uint8_t>(value));
  }
  void zigzag(std::int64_t value)
  {
    this->varint(
      (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63));
  }
  void field(std::int16_t id, std::uint8_t type)
  {
    const int delta = id - this->last.back();
    if (delta > 0 && delta <= 15)
    {
      this->out.push_back(static_cast<std::uint8_t>(delta << 4 | type));
    }
    else
    {
      this->out.push_back(type);
      this->zigzag(id);
    }
    this->last.back() = id;
  }
  void i32(std::int16_t id, std::int64_t value)
  {
    this->field(id, TI32);
    this->zigzag(value);
  }
  void i64(std::int16_t id, std::int64_t value)
  {
    this->field(id, 6);
    this->zigzag(value);
  }
  void boolean(std::int16_t id, bool value) { this->field(id, value ? 1 : 2); }
  void string(const std::string& text)
  {
    this->varint(text.size());
    this->out.insert(this->out.end(), text.begin(), text.end());
  }
  void binary(std::int16_t id, const std::string& text)
  {
    this->field(id, TBinary);
    this->string(text);
  }
  void listHeader(std::uint8_t elementType, std::size_t size)
  {
    if (size < 15)
    {
      this->out.push_back(static_cast<std::uint8_t>(size << 4 | elementType));
    }
    else
    {
      this->out.push_back(static_cast<std::uint8_t>(0xF0 | elementType));
      this->varint(size);
    }
  }
  void structField(std::int16_t id)
  {
    this->field(id, TStruct);
    this->beginStruct();
  }
  /// A field of every kind a reader must skip: id 100, a struct of binary,
  /// double, bools, a list of structs, a map and a set, with a long field id.
  void unknownField(std::int16_t id = 100)
  {
    this->structField(id);
    this->binary(1, "ignored");
    this->field(2, TDouble);
    for (int i = 0; i < 8; ++i)
    {
      this->out.push_back(0x11);
    }
    this->boolean(3, true);
    this->boolean(4, false);
    this->field(5, TList);
    this->listHeader(TStruct, 2);
    for (int i = 0; i < 2; ++i)
    {
      this->beginStruct();
      this->i64(1, -5);
      this->endStruct();
    }
    this->field(6, TMap);
    this->varint(2);
    this->out.push_back(TBinary << 4 | TI32);
    this->string("a");
    this->zigzag(1);
    this->string("b");
    this->zigzag(2);
    this->field(7, 10); // set of bools
    this->listHeader(1, 3);
    this->out.insert(this->out.end(), { 1, 2, 1 });
    this->i32(3000, 7);   // a long (non-delta) field id
    this->field(8, TMap); // empty map
    this->varint(0);
    this->endStruct();
  }

private:
  std::vector<std::int16_t> last;
};

// ---------------------------------------------------------------------------
// Values, levels and pages.

template <typename T>
void appendLe(Bytes& out, T value)
{
  std::uint8_t raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  out.insert(out.end(), raw, raw + sizeof(T));
}

template <typename T>
Bytes plain(const std::vector<T>& values)
{
  Bytes out;
  for (const T value : values)
  {
    appendLe(out, value);
  }
  return out;
}

Bytes plainStrings(const std::vector<std::string>& values)
{
  Bytes out;
  for (const auto& value : values)
  {
    appendLe(out, static_cast<std::uint32_t>(value.size()));
    out.insert(out.end(), value.begin(), value.end());
  }
  return out;
}

Bytes plainBools(const std::vector<int>& values)
{
  Bytes out((values.size() + 7) / 8, 0);
  for (std::size_t i = 0; i < values.size(); ++i)
  {
    out[i / 8] |= static_cast<std::uint8_t>((values[i] & 1) << (i % 8));
  }
  return out;
}

void varint(Bytes& out, std::uint64_t value)
{
  while (value >= 0x80)
  {
    out.push_back(static_cast<std::uint8_t>(value | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

/// RLE/bit-packed hybrid with RLE runs only.
Bytes rleRuns(const std::vector<std::uint32_t>& values, int bitWidth)
{
  Bytes out;
  for (std::size_t i = 0; i < values.size();)
  {
    std::size_t j = i;
    while (j < values.size() && values[j] == values[i])
    {
      ++j;
    }
    varint(out, (j - i) << 1);
    for (int b = 0; b < (bitWidth + 7) / 8; ++b)
    {
      out.push_back(static_cast<std::uint8_t>(values[i] >> (8 * b)));
    }
    i = j;
  }
  return out;
}

/// RLE/bit-packed hybrid as one bit-packed run (padded to groups of 8).
Bytes bitPacked(const std::vector<std::uint32_t>& values, int bitWidth)
{
  Bytes out;
  const std::size_t groups = (values.size() + 7) / 8;
  varint(out, groups << 1 | 1);
  Bytes bits(groups * bitWidth, 0);
  for (std::size_t i = 0; i < values.size(); ++i)
  {
    for (int b = 0; b < bitWidth; ++b)
    {
      const std::size_t bit = i * bitWidth + b;
      bits[bit / 8] |= static_cast<std::uint8_t>(((values[i] >> b) & 1) << (bit % 8));
    }
  }
  out.insert(out.end(), bits.begin(), bits.end());
  return out;
}

/// v1 levels: a 4-byte length, then RLE runs.
Bytes v1Levels(const std::vector<std::uint32_t>& levels, int bitWidth)
{
  const Bytes runs = rleRuns(levels, bitWidth);
  Bytes out;
  appendLe(out, static_cast<std::uint32_t>(runs.size()));
  out.insert(out.end(), runs.begin(), runs.end());
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts)
{
  Bytes out;
  for (const auto& part : parts)
  {
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

Bytes compress(int codec, const Bytes& data)
{
  Bytes out;
  switch (codec)
  {
    case UNCOMPRESSED:
      return data;
    case SNAPPY:
    {
      std::string packed;
      snappy::Compress(reinterpret_cast<const char*>(data.data()), data.size(), &packed);
      return Bytes(packed.begin(), packed.end());
    }
    case GZIP:
    {
      // A gzip (RFC 1952) stream, as parquet-mr and Arrow write it.
      z_stream stream{};
      deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
      out.resize(deflateBound(&stream, data.size()) + 32);
      stream.next_in = const_cast<Bytes::value_type*>(data.data());
      stream.avail_in = static_cast<uInt>(data.size());
      stream.next_out = out.data();
      stream.avail_out = static_cast<uInt>(out.size());
      deflate(&stream, Z_FINISH);
      out.resize(stream.total_out);
      deflateEnd(&stream);
      return out;
    }
    case ZSTD:
      out.resize(ZSTD_compressBound(data.size()));
      out.resize(ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3));
      return out;
    case LZ4_RAW:
      out.resize(static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(data.size()))));
      out.resize(static_cast<std::size_t>(LZ4_compress_default(
        reinterpret_cast<const char*>(data.data()), reinterpret_cast<char*>(out.data()),
        static_cast<int>(data.size()), static_cast<int>(out.size()))));
      return out;
    default:
      ADD_FAILURE() << "codec " << codec;
      return data;
  }
}

struct PageOptions
{
  int codec = UNCOMPRESSED;
  int encoding = PLAIN;
  bool unknownFields = false;
  std::int64_t declaredUncompressed = -1; ///< overrides the true size (bombs)
};

/// A v1 data page: `body` is levels + values, compressed whole.
Bytes dataPageV1(int numValues, const Bytes& body, const PageOptions& options = {})
{
  const Bytes packed = compress(options.codec, body);
  ThriftWriter header;
  header.beginStruct();
  header.i32(1, 0);
  header.i32(2, options.declaredUncompressed >= 0 ? options.declaredUncompressed : body.size());
  header.i32(3, packed.size());
  if (options.unknownFields)
  {
    header.i32(4, 12345); // crc
  }
  header.structField(5);
  header.i32(1, numValues);
  header.i32(2, options.encoding);
  header.i32(3, RLE);
  header.i32(4, RLE);
  if (options.unknownFields)
  {
    header.unknownField(5); // statistics
  }
  header.endStruct();
  if (options.unknownFields)
  {
    header.unknownField(60);
  }
  header.endStruct();
  return concat({ header.out, packed });
}

/// A v2 data page: levels stay uncompressed, the values are compressed when `compressed`.
Bytes dataPageV2(int numValues, int numNulls, int numRows, const Bytes& repetition,
  const Bytes& definition, const Bytes& values, const PageOptions& options = {},
  bool compressed = true)
{
  const Bytes packed = compressed ? compress(options.codec, values) : values;
  ThriftWriter header;
  header.beginStruct();
  header.i32(1, 3);
  header.i32(2, repetition.size() + definition.size() + values.size());
  header.i32(3, repetition.size() + definition.size() + packed.size());
  header.structField(8);
  header.i32(1, numValues);
  header.i32(2, numNulls);
  header.i32(3, numRows);
  header.i32(4, options.encoding);
  header.i32(5, definition.size());
  header.i32(6, repetition.size());
  if (!compressed)
  {
    header.boolean(7, false);
  }
  header.endStruct();
  header.endStruct();
  return concat({ header.out, repetition, definition, packed });
}

Bytes dictionaryPage(int numValues, const Bytes& values, int codec = UNCOMPRESSED)
{
  const Bytes packed = compress(codec, values);
  ThriftWriter header;
  header.beginStruct();
  header.i32(1, 2);
  header.i32(2, values.size());
  header.i32(3, packed.size());
  header.structField(7);
  header.i32(1, numValues);
  header.i32(2, PLAIN);
  header.endStruct();
  header.endStruct();
  return concat({ header.out, packed });
}

/// An index page (skipped by readers).
Bytes indexPage()
{
  ThriftWriter header;
  header.beginStruct();
  header.i32(1, 1);
  header.i32(2, 3);
  header.i32(3, 3);
  header.structField(6);
  header.endStruct();
  header.endStruct();
  return concat({ header.out, Bytes{ 1, 2, 3 } });
}

// ---------------------------------------------------------------------------
// Files.

struct Node
{
  std::string name;
  int type = -1; ///< -1: group
  int repetition = REQUIRED;
  int children = 0;
  int converted = -1;
  int logical = 0; ///< LogicalType union id (10: INTEGER)
  int intBits = 0;
  bool intSigned = true;
};

Node group(const std::string& name, int repetition, int children, int converted = -1)
{
  Node node;
  node.name = name;
  node.repetition = repetition;
  node.children = children;
  node.converted = converted;
  return node;
}

Node leaf(const std::string& name, int type, int repetition, int converted = -1)
{
  Node node;
  node.name = name;
  node.type = type;
  node.repetition = repetition;
  node.converted = converted;
  return node;
}

struct Chunk
{
  int type = 0;
  std::vector<std::string> path;
  int codec = UNCOMPRESSED;
  std::int64_t numValues = 0;
  std::int64_t offset = 0;
  std::int64_t dictionaryOffset = -1;
  std::int64_t size = 0;
  int encoding = PLAIN;
};

class ParquetBuilder
{
public:
  std::vector<Node> schema;
  std::vector<std::pair<std::int64_t, std::vector<Chunk>>> groups;
  bool unknownFields = false;
  bool encryptionAlgorithm = false;
  std::int64_t numRowsOverride = -1;

  /// `fields` in depth-first order; topLevel() gives the root's count.
  explicit ParquetBuilder(std::vector<Node> fields)
  {
    this->schema.push_back(group("schema", REQUIRED, 0));
    this->schema.insert(this->schema.end(), fields.begin(), fields.end());
  }
  void topLevel(int count) { this->schema[0].children = count; }

  void beginRowGroup(std::int64_t rows) { this->groups.push_back({ rows, {} }); }

  /// Appends a column chunk made of `pages`; `dictionaryPages` leading pages are dictionaries.
  Chunk& column(int type, std::vector<std::string> path, std::int64_t numValues,
    const std::vector<Bytes>& pages, int codec = UNCOMPRESSED, bool hasDictionary = false)
  {
    Chunk chunk;
    chunk.type = type;
    chunk.path = std::move(path);
    chunk.codec = codec;
    chunk.numValues = numValues;
    const auto start = static_cast<std::int64_t>(this->body.size());
    if (hasDictionary)
    {
      chunk.dictionaryOffset = start;
      chunk.offset = start + static_cast<std::int64_t>(pages[0].size());
      chunk.encoding = RLE_DICTIONARY;
    }
    else
    {
      chunk.offset = start;
    }
    for (const auto& page : pages)
    {
      this->body.insert(this->body.end(), page.begin(), page.end());
    }
    chunk.size = static_cast<std::int64_t>(this->body.size()) - start;
    this->groups.back().second.push_back(chunk);
    return this->groups.back().second.back();
  }

  Bytes footer() const
  {
    ThriftWriter w;
    w.beginStruct();
    w.i32(1, 2);
    w.field(2, TList);
    w.listHeader(TStruct, this->schema.size());
    for (const auto& node : this->schema)
    {
      w.beginStruct();
      if (node.type >= 0)
      {
        w.i32(1, node.type);
      }
      if (&node != &this->schema[0])
      {
        w.i32(3, node.repetition);
      }
      w.binary(4, node.name);
      if (node.type < 0)
      {
        w.i32(5, node.children);
      }
      if (node.converted >= 0)
      {
        w.i32(6, node.converted);
      }
      if (node.logical)
      {
        w.structField(10);
        w.structField(static_cast<std::int16_t>(node.logical));
        if (node.logical == 10)
        {
          w.field(1, 3);
          w.out.push_back(static_cast<std::uint8_t>(node.intBits));
          w.boolean(2, node.intSigned);
        }
        w.endStruct();
        w.endStruct();
      }
      w.endStruct();
    }
    std::int64_t rows = 0;
    for (const auto& group : this->groups)
    {
      rows += group.first;
    }
    w.i64(3, this->numRowsOverride >= 0 ? this->numRowsOverride : rows);
    w.field(4, TList);
    w.listHeader(TStruct, this->groups.size());
    for (const auto& group : this->groups)
    {
      w.beginStruct();
      w.field(1, TList);
      w.listHeader(TStruct, group.second.size());
      for (const auto& chunk : group.second)
      {
        w.beginStruct();
        w.i64(2, chunk.offset + 4);
        w.structField(3);
        w.i32(1, chunk.type);
        w.field(2, TList);
        w.listHeader(TI32, 2);
        w.zigzag(chunk.encoding);
        w.zigzag(RLE);
        w.field(3, TList);
        w.listHeader(TBinary, chunk.path.size());
        for (const auto& name : chunk.path)
        {
          w.string(name);
        }
        w.i32(4, chunk.codec);
        w.i64(5, chunk.numValues);
        w.i64(6, chunk.size);
        w.i64(7, chunk.size);
        if (this->unknownFields)
        {
          w.unknownField(8);
        }
        w.i64(9, chunk.offset + 4);
        if (chunk.dictionaryOffset >= 0)
        {
          w.i64(11, chunk.dictionaryOffset + 4);
        }
        w.endStruct();
        w.endStruct();
      }
      w.i64(2, 100);
      w.i64(3, group.first);
      w.endStruct();
    }
    w.field(5, TList);
    w.listHeader(TStruct, 1);
    w.beginStruct();
    w.binary(1, "huggingface");
    w.binary(2, "{\"info\": 1}");
    w.endStruct();
    w.binary(6, "DualEmbed test writer");
    if (this->encryptionAlgorithm)
    {
      w.structField(8);
      w.endStruct();
    }
    if (this->unknownFields)
    {
      w.unknownField(100);
    }
    w.endStruct();
    return w.out;
  }

  Bytes build() const
  {
    Bytes file = { 'P', 'A', 'R', '1' };
    file.insert(file.end(), this->body.begin(), this->body.end());
    const Bytes meta = this->footer();
    file.insert(file.end(), meta.begin(), meta.end());
    appendLe(file, static_cast<std::uint32_t>(meta.size()));
    file.insert(file.end(), { 'P', 'A', 'R', '1' });
    return file;
  }

  Bytes body;
};

class ParquetTest : public ::testing::Test
{
protected:
  void SetUp() override
  {
    std::string pattern = (fs::temp_directory_path() / "dualembed-parquet-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    this->dir = pattern;
  }
  void TearDown() override
  {
    std::error_code error;
    fs::remove_all(this->dir, error);
  }
  std::string write(const Bytes& bytes, const std::string& name = "t.parquet")
  {
    const auto path = this->dir / name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(
      reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path.string();
  }
  /// The message of the FormatError that `action` throws ("" if none).
  template <typename Action>
  static std::string errorOf(Action action)
  {
    try
    {
      action();
    }
    catch (const FormatError& error)
    {
      return error.what();
    }
    return "";
  }
  /// Opens and reads every leaf of every chunk (as the fuzz harness does).
  static void readAll(const std::string& path)
  {
    auto reader = openParquet(path);
    const auto leaves = leafPaths(reader->schema());
    for (std::size_t chunk = 0; chunk < reader->chunkRows().size(); ++chunk)
    {
      for (const auto& leafPath : leaves)
      {
        try
        {
          reader->readLeaf(chunk, leafPath);
        }
        catch (const FormatError&)
        {
        }
      }
    }
  }

  fs::path dir;
};

std::string text(const LeafChunk& leaf, std::size_t row)
{
  return std::string(
    leaf.bytes.begin() + leaf.offsets[row], leaf.bytes.begin() + leaf.offsets[row + 1]);
}

// ---------------------------------------------------------------------------
// A file used by several tests: optional struct img<bytes, path>, int64 label,
// two row groups (3 + 2 rows), nulls at both struct levels.

ParquetBuilder structFile(int codec = UNCOMPRESSED)
{
  ParquetBuilder builder({ group("img", OPTIONAL, 2), leaf("bytes", BYTE_ARRAY, OPTIONAL),
    leaf("path", BYTE_ARRAY, OPTIONAL, UTF8), leaf("label", INT64, REQUIRED) });
  builder.topLevel(2);
  // Row group 0: img = {b"\x01\x02", "a.png"}, null, {null, "c.png"}.
  builder.beginRowGroup(3);
  builder.column(BYTE_ARRAY, { "img", "bytes" }, 3,
    { dataPageV1(3,
      concat({ v1Levels({ 2, 0, 1 }, 2), plainStrings({ std::string("\x01\x02", 2) }) }),
      { codec }) },
    codec);
  builder.column(BYTE_ARRAY, { "img", "path" }, 3,
    { dataPageV1(
      3, concat({ v1Levels({ 2, 0, 2 }, 2), plainStrings({ "a.png", "c.png" }) }), { codec }) },
    codec);
  builder.column(INT64, { "label" }, 3,
    { dataPageV1(3, plain<std::int64_t>({ 7, -1, 1LL << 40 }), { codec }) }, codec);
  // Row group 1 in v2 pages: img = {b"xyz", null}, {b"", "e.png"}.
  builder.beginRowGroup(2);
  builder.column(BYTE_ARRAY, { "img", "bytes" }, 2,
    { dataPageV2(2, 0, 2, {}, rleRuns({ 2, 2 }, 2), plainStrings({ "xyz", "" }), { codec }) },
    codec);
  builder.column(BYTE_ARRAY, { "img", "path" }, 2,
    { dataPageV2(2, 1, 2, {}, rleRuns({ 1, 2 }, 2), plainStrings({ "e.png" }), { codec }) }, codec);
  builder.column(INT64, { "label" }, 2,
    { dataPageV2(2, 0, 2, {}, {}, plain<std::int64_t>({ 3, 4 }), { codec }) }, codec);
  return builder;
}

void checkStructFile(TableReader& reader)
{
  const auto& schema = reader.schema();
  ASSERT_EQ(schema.fields.size(), 2u);
  EXPECT_EQ(schema.fields[0].name, "img");
  EXPECT_EQ(schema.fields[0].kind, ValueKind::Struct);
  ASSERT_EQ(schema.fields[0].children.size(), 2u);
  EXPECT_EQ(schema.fields[0].children[0].kind, ValueKind::Binary);
  EXPECT_EQ(schema.fields[0].children[1].kind, ValueKind::String);
  EXPECT_EQ(schema.fields[1].kind, ValueKind::Integer);
  EXPECT_EQ(schema.fields[1].bitWidth, 64);
  EXPECT_FALSE(schema.fields[1].nullable);
  ASSERT_EQ(schema.metadata.size(), 1u);
  EXPECT_EQ(schema.metadata[0].first, "huggingface");
  EXPECT_EQ(reader.numberOfRows(), 5);
  EXPECT_EQ(reader.chunkRows(), (std::vector<std::int64_t>{ 3, 2 }));

  const auto bytes0 = reader.readLeaf(0, { "img", "bytes" });
  EXPECT_EQ(bytes0.rows, 3);
  EXPECT_EQ(bytes0.present, (std::vector<std::uint8_t>{ 1, 0, 0 }));
  EXPECT_EQ(bytes0.offsets, (std::vector<std::int64_t>{ 0, 2, 2, 2 }));
  EXPECT_EQ(text(bytes0, 0), std::string("\x01\x02", 2));
  const auto path0 = reader.readLeaf(0, { "img", "path" });
  EXPECT_EQ(path0.present, (std::vector<std::uint8_t>{ 1, 0, 1 }));
  EXPECT_EQ(text(path0, 0), "a.png");
  EXPECT_EQ(text(path0, 1), "");
  EXPECT_EQ(text(path0, 2), "c.png");
  const auto label0 = reader.readLeaf(0, { "label" });
  EXPECT_EQ(label0.integers, (std::vector<std::int64_t>{ 7, -1, 1LL << 40 }));
  EXPECT_EQ(label0.present, (std::vector<std::uint8_t>{ 1, 1, 1 }));

  const auto bytes1 = reader.readLeaf(1, { "img", "bytes" });
  EXPECT_EQ(bytes1.present, (std::vector<std::uint8_t>{ 1, 1 }));
  EXPECT_EQ(text(bytes1, 0), "xyz");
  EXPECT_EQ(text(bytes1, 1), "");
  const auto path1 = reader.readLeaf(1, { "img", "path" });
  EXPECT_EQ(path1.present, (std::vector<std::uint8_t>{ 0, 1 }));
  EXPECT_EQ(text(path1, 1), "e.png");
  EXPECT_EQ(reader.readLeaf(1, { "label" }).integers, (std::vector<std::int64_t>{ 3, 4 }));
}

TEST_F(ParquetTest, OptionalStructWithNullsAtBothLevelsOverRowGroups)
{
  const auto path = this->write(structFile().build());
  EXPECT_TRUE(looksLikeParquet(path));
  auto reader = openParquet(path);
  checkStructFile(*reader);
}

TEST_F(ParquetTest, CompressedPages)
{
  for (const int codec : { SNAPPY, GZIP, ZSTD, LZ4_RAW })
  {
    SCOPED_TRACE(codec);
    const auto path = this->write(structFile(codec).build());
    auto reader = openParquet(path);
    checkStructFile(*reader);
  }
}

TEST_F(ParquetTest, PlainColumnsOfEveryKind)
{
  ParquetBuilder builder({ leaf("flag", BOOLEAN, REQUIRED), leaf("small", INT32, OPTIONAL, INT_16),
    leaf("score", DOUBLE, OPTIONAL), leaf("ratio", FLOAT, REQUIRED),
    leaf("name", BYTE_ARRAY, OPTIONAL, UTF8), leaf("u8", INT32, REQUIRED) });
  builder.schema.back().logical = 10;
  builder.schema.back().intBits = 8;
  builder.schema.back().intSigned = false;
  builder.topLevel(6);
  builder.beginRowGroup(4);
  builder.column(BOOLEAN, { "flag" }, 4, { dataPageV1(4, plainBools({ 1, 0, 1, 1 })) });
  builder.column(INT32, { "small" }, 4,
    { dataPageV1(
      4, concat({ v1Levels({ 1, 1, 0, 1 }, 1), plain<std::int32_t>({ -3, 300, 5 }) })) });
  builder.column(DOUBLE, { "score" }, 4,
    { dataPageV1(4, concat({ v1Levels({ 0, 1, 1, 0 }, 1), plain<double>({ 0.5, -2.25 }) })) });
  builder.column(FLOAT, { "ratio" }, 4, { dataPageV1(4, plain<float>({ 1.5f, 2, 3, 4 })) });
  builder.column(BYTE_ARRAY, { "name" }, 4,
    { dataPageV1(4, concat({ v1Levels({ 1, 0, 1, 1 }, 1), plainStrings({ "cat", "dog", "" }) })) });
  builder.column(INT32, { "u8" }, 4, { dataPageV1(4, plain<std::int32_t>({ 0, 255, 1, 2 })) });
  auto reader = openParquet(this->write(builder.build()));
  const auto& fields = reader->schema().fields;
  ASSERT_EQ(fields.size(), 6u);
  EXPECT_EQ(fields[0].kind, ValueKind::Boolean);
  EXPECT_EQ(fields[1].kind, ValueKind::Integer);
  EXPECT_EQ(fields[1].bitWidth, 16);
  EXPECT_EQ(fields[2].kind, ValueKind::Real);
  EXPECT_EQ(fields[2].bitWidth, 64);
  EXPECT_EQ(fields[3].bitWidth, 32);
  EXPECT_EQ(fields[4].kind, ValueKind::String);
  EXPECT_EQ(fields[5].typeName, "uint8");
  EXPECT_FALSE(fields[5].isSigned);

  EXPECT_EQ(reader->readLeaf(0, { "flag" }).integers, (std::vector<std::int64_t>{ 1, 0, 1, 1 }));
  const auto small = reader->readLeaf(0, { "small" });
  EXPECT_EQ(small.integers, (std::vector<std::int64_t>{ -3, 300, 0, 5 }));
  EXPECT_EQ(small.present, (std::vector<std::uint8_t>{ 1, 1, 0, 1 }));
  const auto score = reader->readLeaf(0, { "score" });
  ASSERT_EQ(score.reals.size(), 4u);
  EXPECT_TRUE(std::isnan(score.reals[0]));
  EXPECT_EQ(score.reals[1], 0.5);
  EXPECT_EQ(score.reals[2], -2.25);
  EXPECT_TRUE(std::isnan(score.reals[3]));
  EXPECT_EQ(reader->readLeaf(0, { "ratio" }).reals, (std::vector<double>{ 1.5, 2, 3, 4 }));
  const auto name = reader->readLeaf(0, { "name" });
  EXPECT_EQ(name.offsets, (std::vector<std::int64_t>{ 0, 3, 3, 6, 6 }));
  EXPECT_EQ(reader->readLeaf(0, { "u8" }).integers, (std::vector<std::int64_t>{ 0, 255, 1, 2 }));
}

TEST_F(ParquetTest, DictionaryPagesV1AndV2)
{
  ParquetBuilder builder(
    { leaf("name", BYTE_ARRAY, OPTIONAL, UTF8), leaf("label", INT64, REQUIRED) });
  builder.topLevel(2);
  builder.beginRowGroup(6);
  // Strings: a dictionary, a v1 page of bit-packed indices, an index page, a v2 page of RLE runs.
  Bytes indicesV1 = { 2 };
  const Bytes packed = bitPacked({ 2, 0, 1 }, 2);
  indicesV1.insert(indicesV1.end(), packed.begin(), packed.end());
  Bytes indicesV2 = { 2 };
  const Bytes runs = rleRuns({ 1, 1 }, 2);
  indicesV2.insert(indicesV2.end(), runs.begin(), runs.end());
  PageOptions dictionaryEncoded;
  dictionaryEncoded.encoding = RLE_DICTIONARY;
  builder.column(BYTE_ARRAY, { "name" }, 6,
    { dictionaryPage(3, plainStrings({ "zero", "one", "two" })),
      dataPageV1(4, concat({ v1Levels({ 1, 1, 0, 1 }, 1), indicesV1 }), dictionaryEncoded),
      indexPage(), dataPageV2(2, 0, 2, {}, rleRuns({ 1, 1 }, 1), indicesV2, dictionaryEncoded) },
    UNCOMPRESSED, true);
  // Labels: a zstd-compressed dictionary and PLAIN_DICTIONARY (2) pages.
  PageOptions plainDictionary;
  plainDictionary.encoding = 2;
  plainDictionary.codec = ZSTD;
  Bytes labelIndices = { 1 };
  const Bytes labelRuns = rleRuns({ 1, 0, 0, 1, 1, 0 }, 1);
  labelIndices.insert(labelIndices.end(), labelRuns.begin(), labelRuns.end());
  builder.column(INT64, { "label" }, 6,
    { dictionaryPage(2, plain<std::int64_t>({ 10, 20 }), ZSTD),
      dataPageV1(6, labelIndices, plainDictionary) },
    ZSTD, true);
  auto reader = openParquet(this->write(builder.build()));
  const auto name = reader->readLeaf(0, { "name" });
  EXPECT_EQ(name.present, (std::vector<std::uint8_t>{ 1, 1, 0, 1, 1, 1 }));
  const std::vector<std::string> expected = { "two", "zero", "", "one", "one", "one" };
  for (std::size_t row = 0; row < expected.size(); ++row)
  {
    EXPECT_EQ(text(name, row), expected[row]) << row;
  }
  EXPECT_EQ(reader->readLeaf(0, { "label" }).integers,
    (std::vector<std::int64_t>{ 20, 10, 10, 20, 20, 10 }));
}

/// optional group emb (LIST) { repeated group list { <elementRepetition> float element; } }
ParquetBuilder listFile(int elementRepetition)
{
  ParquetBuilder builder({ group("emb", OPTIONAL, 1, LIST), group("list", REPEATED, 1),
    leaf("element", FLOAT, elementRepetition), leaf("label", INT64, REQUIRED) });
  builder.topLevel(2);
  return builder;
}

TEST_F(ParquetTest, ListOfFloatsOfFixedLength)
{
  ParquetBuilder builder = listFile(OPTIONAL);
  builder.beginRowGroup(3);
  std::vector<std::uint32_t> repetition, definition;
  std::vector<float> values;
  for (int row = 0; row < 3; ++row)
  {
    for (int k = 0; k < 3; ++k)
    {
      repetition.push_back(k == 0 ? 0 : 1);
      definition.push_back(3);
      values.push_back(static_cast<float>(row * 10 + k));
    }
  }
  builder.column(FLOAT, { "emb", "list", "element" }, 9,
    { dataPageV1(9, concat({ v1Levels(repetition, 1), v1Levels(definition, 2), plain(values) })) });
  builder.column(INT64, { "label" }, 3, { dataPageV1(3, plain<std::int64_t>({ 0, 1, 2 })) });
  auto reader = openParquet(this->write(builder.build()));
  const auto& field = reader->schema().fields[0];
  EXPECT_EQ(field.kind, ValueKind::List);
  EXPECT_EQ(field.typeName, "list<float>");
  ASSERT_EQ(field.children.size(), 1u);
  EXPECT_EQ(field.children[0].kind, ValueKind::Real);
  const auto emb = reader->readLeaf(0, { "emb" });
  EXPECT_EQ(emb.rows, 3);
  EXPECT_EQ(emb.listOffsets, (std::vector<std::int64_t>{ 0, 3, 6, 9 }));
  EXPECT_EQ(emb.reals, (std::vector<double>{ 0, 1, 2, 10, 11, 12, 20, 21, 22 }));
  EXPECT_EQ(emb.present, (std::vector<std::uint8_t>{ 1, 1, 1 }));
}

TEST_F(ParquetTest, ListsWithNullAndEmptyRowsAndNullElementsInV2Pages)
{
  ParquetBuilder builder = listFile(OPTIONAL);
  builder.beginRowGroup(4);
  // Rows: [1, null], null, [], [4].
  builder.column(FLOAT, { "emb", "list", "element" }, 5,
    { dataPageV2(5, 3, 4, rleRuns({ 0, 1, 0, 0, 0 }, 1), rleRuns({ 3, 2, 0, 1, 3 }, 2),
      plain<float>({ 1, 4 }), { SNAPPY }) },
    SNAPPY);
  builder.column(INT64, { "label" }, 4, { dataPageV1(4, plain<std::int64_t>({ 0, 1, 2, 3 })) });
  auto reader = openParquet(this->write(builder.build()));
  const auto emb = reader->readLeaf(0, { "emb" });
  EXPECT_EQ(emb.rows, 4);
  EXPECT_EQ(emb.present, (std::vector<std::uint8_t>{ 1, 0, 1, 1 }));
  EXPECT_EQ(emb.listOffsets, (std::vector<std::int64_t>{ 0, 2, 2, 2, 3 }));
  ASSERT_EQ(emb.reals.size(), 3u);
  EXPECT_EQ(emb.reals[0], 1);
  EXPECT_TRUE(std::isnan(emb.reals[1]));
  EXPECT_EQ(emb.reals[2], 4);
}

TEST_F(ParquetTest, LegacyTwoLevelListsAndRequiredElements)
{
  // optional group a (LIST) { repeated int32 array; }, required group b (LIST) {
  // repeated group bag { required int64 element; } }
  ParquetBuilder builder({ group("a", OPTIONAL, 1, LIST), leaf("array", INT32, REPEATED),
    group("b", REQUIRED, 1, LIST), group("bag", REPEATED, 1), leaf("element", INT64, REQUIRED) });
  builder.topLevel(2);
  builder.beginRowGroup(2);
  // a: [5, 6], null; b: [], [7].
  builder.column(INT32, { "a", "array" }, 3,
    { dataPageV1(3,
      concat(
        { v1Levels({ 0, 1, 0 }, 1), v1Levels({ 2, 2, 0 }, 2), plain<std::int32_t>({ 5, 6 }) })) });
  builder.column(INT64, { "b", "bag", "element" }, 2,
    { dataPageV1(
      2, concat({ v1Levels({ 0, 0 }, 1), v1Levels({ 0, 1 }, 1), plain<std::int64_t>({ 7 }) })) });
  auto reader = openParquet(this->write(builder.build()));
  EXPECT_EQ(reader->schema().fields[0].typeName, "list<int32>");
  const auto a = reader->readLeaf(0, { "a" });
  EXPECT_EQ(a.listOffsets, (std::vector<std::int64_t>{ 0, 2, 2 }));
  EXPECT_EQ(a.integers, (std::vector<std::int64_t>{ 5, 6 }));
  EXPECT_EQ(a.present, (std::vector<std::uint8_t>{ 1, 0 }));
  const auto b = reader->readLeaf(0, { "b" });
  EXPECT_EQ(b.listOffsets, (std::vector<std::int64_t>{ 0, 0, 1 }));
  EXPECT_EQ(b.integers, (std::vector<std::int64_t>{ 7 }));
  EXPECT_EQ(b.present, (std::vector<std::uint8_t>{ 1, 1 }));
}

TEST_F(ParquetTest, UnknownThriftFieldsAreSkipped)
{
  ParquetBuilder builder({ leaf("label", INT64, REQUIRED) });
  builder.topLevel(1);
  builder.unknownFields = true;
  builder.beginRowGroup(2);
  PageOptions options;
  options.unknownFields = true;
  builder.column(INT64, { "label" }, 2, { dataPageV1(2, plain<std::int64_t>({ 8, 9 }), options) });
  auto reader = openParquet(this->write(builder.build()));
  EXPECT_EQ(reader->readLeaf(0, { "label" }).integers, (std::vector<std::int64_t>{ 8, 9 }));
}

TEST_F(ParquetTest, UnsupportedTypesAreNamed)
{
  ParquetBuilder builder({ leaf("when", INT96, OPTIONAL), group("tags", OPTIONAL, 1, MAP),
    group("key_value", REPEATED, 2), leaf("key", BYTE_ARRAY, REQUIRED, UTF8),
    leaf("value", INT32, OPTIONAL), leaf("ids", INT32, REPEATED), group("words", OPTIONAL, 1, LIST),
    group("list", REPEATED, 1), leaf("element", BYTE_ARRAY, OPTIONAL, UTF8) });
  builder.topLevel(4);
  builder.beginRowGroup(0);
  for (const auto& chunk :
    std::vector<std::pair<int, std::vector<std::string>>>{ { INT96, { "when" } },
      { BYTE_ARRAY, { "tags", "key_value", "key" } }, { INT32, { "tags", "key_value", "value" } },
      { INT32, { "ids" } }, { BYTE_ARRAY, { "words", "list", "element" } } })
  {
    builder.column(chunk.first, chunk.second, 0, { dataPageV1(0, {}) });
  }
  const auto path = this->write(builder.build(), "types.parquet");
  auto reader = openParquet(path);
  const auto& fields = reader->schema().fields;
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields[0].kind, ValueKind::Unsupported);
  EXPECT_EQ(fields[0].typeName, "timestamp (INT96)");
  EXPECT_EQ(fields[1].kind, ValueKind::Unsupported);
  EXPECT_EQ(fields[2].kind, ValueKind::Unsupported);
  EXPECT_EQ(fields[3].kind, ValueKind::List);
  EXPECT_EQ(fields[3].typeName, "list<string>");
  EXPECT_EQ(errorOf([&] { reader->readLeaf(0, { "when" }); }),
    "The Parquet file '" + path +
      "' stores column 'when' as timestamp (INT96), which DualEmbed does not read.");
  EXPECT_NE(errorOf([&] { reader->readLeaf(0, { "tags" }); }).find("as map"), std::string::npos);
  EXPECT_NE(
    errorOf([&] { reader->readLeaf(0, { "words" }); }).find("list<string>"), std::string::npos);
  EXPECT_NE(errorOf([&] { reader->readLeaf(0, { "nothing" }); }).find("no leaf column 'nothing'"),
    std::string::npos);
  EXPECT_NE(errorOf([&] { reader->readLeaf(3, { "ids" }); }).find("repeated"), std::string::npos);
}

TEST_F(ParquetTest, UnsupportedEncodingAndCodecMessages)
{
  ParquetBuilder builder({ group("img", OPTIONAL, 1), leaf("bytes", BYTE_ARRAY, OPTIONAL),
    leaf("label", INT64, REQUIRED) });
  builder.topLevel(2);
  builder.beginRowGroup(1);
  PageOptions delta;
  delta.encoding = DELTA_BINARY_PACKED;
  builder.column(BYTE_ARRAY, { "img", "bytes" }, 1,
    { dataPageV1(1, concat({ v1Levels({ 2 }, 2), Bytes(8, 0) }), delta) });
  builder.column(INT64, { "label" }, 1, { dataPageV1(1, plain<std::int64_t>({ 1 })) }, 5);
  const auto path = this->write(builder.build(), "x.parquet");
  auto reader = openParquet(path);
  EXPECT_EQ(errorOf([&] {
    reader->readLeaf(0, { "img", "bytes" });
  }),
    "The Parquet file '" + path +
      "' uses the DELTA_BINARY_PACKED encoding in column 'img.bytes', which DualEmbed does not "
      "read.");
  EXPECT_EQ(errorOf([&] { reader->readLeaf(0, { "label" }); }),
    "The Parquet file '" + path +
      "' compresses column 'label' with the LZ4 (Hadoop framing) codec, which DualEmbed does not "
      "read.");
}

#ifdef DUALEMBED_HF_DATA_DIR
// Files of third-party writers (arrow-rs, DuckDB), from Testing/Data/huggingface.
TEST_F(ParquetTest, HuggingFaceFilesOfOtherWriters)
{
  const fs::path data = DUALEMBED_HF_DATA_DIR;
  auto embeddings = openParquet((data / "parquet/embeddings/embeddings.parquet").string());
  ASSERT_EQ(embeddings->numberOfRows(), 40);
  const auto foundation = embeddings->readLeaf(0, { "embedding_foundation" });
  ASSERT_EQ(foundation.listOffsets.size(), 41u);
  EXPECT_EQ(foundation.listOffsets[40], 40 * 64);
  EXPECT_NEAR(foundation.reals[0], 0.50463337, 1e-7);
  EXPECT_NEAR(foundation.reals[1], -0.4694886, 1e-7);
  EXPECT_EQ(text(embeddings->readLeaf(0, { "id" }), 2), "emb-002");

  auto nullImage =
    openParquet((data / "parquet/cifar10-null-image/train-00000-of-00001.parquet").string());
  const auto bytes = nullImage->readLeaf(0, { "img", "bytes" });
  EXPECT_EQ(bytes.present, (std::vector<std::uint8_t>{ 1, 1, 0, 1, 1 }));
  EXPECT_EQ(text(bytes, 0).substr(1, 3), "PNG");
  EXPECT_EQ(
    nullImage->readLeaf(0, { "label" }).integers, (std::vector<std::int64_t>{ 0, 7, 4, 1, 8 }));

  auto duckdb =
    openParquet((data / "parquet/cifar100-duckdb-zstd/train-00000-of-00001.parquet").string());
  EXPECT_EQ(duckdb->chunkRows(), (std::vector<std::int64_t>{ 8, 8 }));
  EXPECT_EQ(duckdb->readLeaf(1, { "coarse_label" }).integers,
    (std::vector<std::int64_t>{ 9, 2, 15, 8, 1, 14, 7, 0 }));
}
#endif

// ---------------------------------------------------------------------------
// Hostile files.

TEST_F(ParquetTest, EveryTruncationFailsCleanly)
{
  const Bytes file = structFile(SNAPPY).build();
  for (std::size_t size = 0; size < file.size(); ++size)
  {
    const auto path = this->write(Bytes(file.begin(), file.begin() + size));
    EXPECT_FALSE(errorOf([&] { readAll(path); }).empty()) << size;
  }
}

TEST_F(ParquetTest, EveryDamagedByteFailsCleanlyOrReads)
{
  for (const int codec : { UNCOMPRESSED, ZSTD })
  {
    const Bytes file = structFile(codec).build();
    for (std::size_t at = 0; at < file.size(); ++at)
    {
      for (const std::uint8_t mask : { 0xFF, 0x01, 0x80 })
      {
        Bytes damaged = file;
        damaged[at] ^= mask;
        const auto path = this->write(damaged);
        errorOf([&] { readAll(path); }); // only FormatError may escape, and none does here
      }
    }
  }
}

TEST_F(ParquetTest, DamagedFootersAreRefused)
{
  Bytes file = structFile().build();
  // A footer length longer than the file.
  Bytes lying = file;
  lying[lying.size() - 8] = 0xFF;
  lying[lying.size() - 7] = 0xFF;
  EXPECT_NE(
    errorOf([&] { openParquet(this->write(lying)); }).find("its footer claims"), std::string::npos);
  // Not Parquet, encrypted, too short.
  Bytes other = file;
  other[0] = 'X';
  EXPECT_FALSE(looksLikeParquet(this->write(other)));
  EXPECT_NE(errorOf([&] { openParquet(this->write(other)); }).find("not a Parquet file"),
    std::string::npos);
  Bytes encrypted = file;
  std::memcpy(encrypted.data(), "PARE", 4);
  std::memcpy(encrypted.data() + encrypted.size() - 4, "PARE", 4);
  EXPECT_TRUE(looksLikeParquet(this->write(encrypted)));
  EXPECT_NE(
    errorOf([&] { openParquet(this->write(encrypted)); }).find("is encrypted"), std::string::npos);
  EXPECT_NE(errorOf([&] {
    openParquet(this->write(Bytes{ 'P', 'A', 'R', '1' }));
  }).find("too short"),
    std::string::npos);
  ParquetBuilder plaintextFooter = structFile();
  plaintextFooter.encryptionAlgorithm = true;
  EXPECT_NE(
    errorOf([&] { openParquet(this->write(plaintextFooter.build())); }).find("is encrypted"),
    std::string::npos);
}

TEST_F(ParquetTest, LyingOffsetsAndSizesAreRefused)
{
  ParquetBuilder builder = structFile();
  builder.groups[0].second[2].offset = 1 << 20;
  const auto path = this->write(builder.build());
  auto reader = openParquet(path);
  EXPECT_NE(
    errorOf([&] { reader->readLeaf(0, { "label" }); }).find("lies outside"), std::string::npos);
  // More values than the chunk's bytes could hold.
  ParquetBuilder many = structFile();
  many.groups[0].second[2].numValues = 1LL << 40;
  auto manyReader = openParquet(this->write(many.build()));
  EXPECT_NE(
    errorOf([&] { manyReader->readLeaf(0, { "label" }); }).find("cannot hold"), std::string::npos);
  // Fewer rows than the row group claims.
  ParquetBuilder rows = structFile();
  rows.groups[0].first = 4;
  auto rowsReader = openParquet(this->write(rows.build()));
  EXPECT_NE(
    errorOf([&] { rowsReader->readLeaf(0, { "label" }); }).find("3 rows where"), std::string::npos);
  // A page larger than its chunk.
  ParquetBuilder cut = structFile();
  cut.groups[0].second[2].size -= 4;
  auto cutReader = openParquet(this->write(cut.build()));
  EXPECT_NE(
    errorOf([&] { cutReader->readLeaf(0, { "label" }); }).find("does not fit"), std::string::npos);
  // A schema group claiming more children than exist.
  ParquetBuilder schema = structFile();
  schema.schema[1].children = 9;
  EXPECT_NE(errorOf([&] { openParquet(this->write(schema.build())); }).find("claims 9 children"),
    std::string::npos);
  // Counts that fit alone but not together (a fuzzer's find).
  ParquetBuilder siblings = structFile();
  siblings.schema[1].children = 3;
  siblings.schema[0].children = 2;
  EXPECT_NE(
    errorOf([&] { openParquet(this->write(siblings.build())); }).find("ends inside a group"),
    std::string::npos);
}

TEST_F(ParquetTest, DictionaryIndexOutOfRange)
{
  ParquetBuilder builder({ leaf("label", INT64, REQUIRED) });
  builder.topLevel(1);
  builder.beginRowGroup(2);
  PageOptions options;
  options.encoding = RLE_DICTIONARY;
  Bytes indices = { 2 };
  const Bytes runs = rleRuns({ 0, 3 }, 2);
  indices.insert(indices.end(), runs.begin(), runs.end());
  builder.column(INT64, { "label" }, 2,
    { dictionaryPage(2, plain<std::int64_t>({ 1, 2 })), dataPageV1(2, indices, options) },
    UNCOMPRESSED, true);
  auto reader = openParquet(this->write(builder.build()));
  EXPECT_NE(errorOf([&] {
    reader->readLeaf(0, { "label" });
  }).find("a dictionary index of 3 is beyond its dictionary of 2 values"),
    std::string::npos);
}

TEST_F(ParquetTest, LevelAboveItsMaximum)
{
  ParquetBuilder builder({ leaf("score", DOUBLE, OPTIONAL) });
  builder.topLevel(1);
  builder.beginRowGroup(2);
  builder.column(DOUBLE, { "score" }, 2,
    { dataPageV1(2, concat({ v1Levels({ 1, 3 }, 1), plain<double>({ 1, 2 }) })) });
  auto reader = openParquet(this->write(builder.build()));
  EXPECT_NE(
    errorOf([&] { reader->readLeaf(0, { "score" }); }).find("a level of 3 is above its maximum, 1"),
    std::string::npos);
}

TEST_F(ParquetTest, DecompressionBombsAreRefused)
{
  for (const std::int64_t declared :
    { std::int64_t(0x7FFFFFFF), std::int64_t(100000), std::int64_t(20) })
  {
    SCOPED_TRACE(declared);
    ParquetBuilder builder({ leaf("label", INT64, REQUIRED) });
    builder.topLevel(1);
    builder.beginRowGroup(4);
    PageOptions options;
    options.codec = SNAPPY;
    options.declaredUncompressed = declared;
    builder.column(INT64, { "label" }, 4,
      { dataPageV1(4, plain<std::int64_t>({ 1, 2, 3, 4 }), options) }, SNAPPY);
    auto reader = openParquet(this->write(builder.build()));
    EXPECT_FALSE(errorOf([&] { reader->readLeaf(0, { "label" }); }).empty());
  }
}

TEST_F(ParquetTest, ThriftNestingAndLengthsAreBounded)
{
  const std::string context = "test";
  // 200 nested structs.
  ThriftWriter deep;
  deep.beginStruct();
  for (int i = 0; i < 200; ++i)
  {
    deep.structField(1);
  }
  EXPECT_NE(errorOf([&] {
    parquet::parseFileMetaData(deep.out.data(), deep.out.size(), context);
  }).find("nested deeper"),
    std::string::npos);
  // A list claiming a billion elements.
  ThriftWriter list;
  list.beginStruct();
  list.field(2, TList);
  list.listHeader(TStruct, 1000000000);
  EXPECT_NE(errorOf([&] {
    parquet::parseFileMetaData(list.out.data(), list.out.size(), context);
  }).find("cannot fit"),
    std::string::npos);
  // A string longer than the data.
  ThriftWriter text;
  text.beginStruct();
  text.field(6, TBinary);
  text.varint(1000);
  EXPECT_NE(errorOf([&] {
    parquet::parseFileMetaData(text.out.data(), text.out.size(), context);
  }).find("longer than"),
    std::string::npos);
  // A varint that never ends.
  Bytes endless(20, 0xFF);
  endless.insert(endless.begin(), 0x16);
  EXPECT_FALSE(
    errorOf([&] { parquet::parseFileMetaData(endless.data(), endless.size(), context); }).empty());
}

TEST_F(ParquetTest, HybridDecoderBitWidths)
{
  const std::string context = "test";
  const std::vector<std::uint32_t> values = { 0xFFFFFFFF, 1, 0x80000000, 7, 9, 0, 12345678, 42, 3 };
  const Bytes packed = bitPacked(values, 32);
  std::vector<std::uint32_t> out(values.size());
  parquet::HybridDecoder(packed.data(), packed.size(), 32, &context).decode(out.data(), out.size());
  EXPECT_EQ(out, values);
  EXPECT_FALSE(
    errorOf([&] { parquet::HybridDecoder(packed.data(), packed.size(), 33, &context); }).empty());
  // Runs ending early.
  EXPECT_FALSE(errorOf([&] {
    parquet::HybridDecoder(packed.data(), 3, 32, &context).decode(out.data(), out.size());
  }).empty());
}

} // namespace
} // namespace testing
} // namespace formats
} // namespace dualembed
