// Arrow IPC reader: streams and files built here with flatbuffers' generic
// builder API (no fixtures on disk), read back leaf by leaf; compressed bodies
// (ZSTD, LZ4_FRAME) and hostile inputs that must fail with FormatError.
#include "Columnar/Table.h"
#include "ImageDataset.h"

#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>
#include <lz4frame.h>
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
namespace columnar
{
namespace
{

namespace fs = std::filesystem;
using Off = flatbuffers::Offset<void>;

// ---- a small Arrow IPC writer ---------------------------------------------

enum : std::uint8_t
{
  TInt = 2,
  TFloatingPoint = 3,
  TBinary = 4,
  TUtf8 = 5,
  TBool = 6,
  TTimestamp = 10,
  TList = 12,
  TStruct = 13,
  TFixedSizeList = 16,
  TLargeBinary = 19,
  TLargeUtf8 = 20,
  TLargeList = 21
};

struct TField
{
  std::string name;
  std::uint8_t type = 0;
  int bitWidth = 0; // Int
  bool isSigned = true;
  int precision = 0; // FloatingPoint
  int listSize = 0;  // FixedSizeList
  std::vector<TField> children;
};

TField field(std::string name, std::uint8_t type, std::vector<TField> children = {})
{
  TField f;
  f.name = std::move(name);
  f.type = type;
  f.children = std::move(children);
  return f;
}

TField intField(std::string name, int bits, bool isSigned)
{
  TField f = field(std::move(name), TInt);
  f.bitWidth = bits;
  f.isSigned = isSigned;
  return f;
}

TField floatField(std::string name, int precision)
{
  TField f = field(std::move(name), TFloatingPoint);
  f.precision = precision;
  return f;
}

constexpr flatbuffers::voffset_t vt(int id)
{
  return static_cast<flatbuffers::voffset_t>(4 + 2 * id);
}

Off buildField(flatbuffers::FlatBufferBuilder& b, const TField& f)
{
  std::vector<Off> children;
  for (const auto& child : f.children)
  {
    children.push_back(buildField(b, child));
  }
  const auto childVector = b.CreateVector(children);
  const auto name = b.CreateString(f.name);
  auto start = b.StartTable();
  if (f.type == TInt)
  {
    b.AddElement<std::int32_t>(vt(0), f.bitWidth, 0);
    b.AddElement<std::uint8_t>(vt(1), f.isSigned, 0);
  }
  else if (f.type == TFloatingPoint)
  {
    b.AddElement<std::int16_t>(vt(0), static_cast<std::int16_t>(f.precision), -1);
  }
  else if (f.type == TFixedSizeList)
  {
    b.AddElement<std::int32_t>(vt(0), f.listSize, 0);
  }
  else if (f.type == TTimestamp)
  {
    b.AddElement<std::int16_t>(vt(0), 1, 0); // ms
  }
  const Off type(b.EndTable(start));
  start = b.StartTable();
  b.AddOffset(vt(0), name);
  b.AddElement<std::uint8_t>(vt(1), 1, 0);
  b.AddElement<std::uint8_t>(vt(2), f.type, 0);
  b.AddOffset(vt(3), type);
  b.AddOffset(vt(5), childVector);
  return Off(b.EndTable(start));
}

Off buildSchema(flatbuffers::FlatBufferBuilder& b, const std::vector<TField>& fields,
  const std::vector<std::pair<std::string, std::string>>& metadata)
{
  std::vector<Off> fieldOffsets;
  for (const auto& f : fields)
  {
    fieldOffsets.push_back(buildField(b, f));
  }
  std::vector<Off> kvs;
  for (const auto& kv : metadata)
  {
    const auto key = b.CreateString(kv.first);
    const auto value = b.CreateString(kv.second);
    const auto start = b.StartTable();
    b.AddOffset(vt(0), key);
    b.AddOffset(vt(1), value);
    kvs.push_back(Off(b.EndTable(start)));
  }
  const auto fieldVector = b.CreateVector(fieldOffsets);
  const auto kvVector = b.CreateVector(kvs);
  const auto start = b.StartTable();
  b.AddOffset(vt(1), fieldVector);
  b.AddOffset(vt(2), kvVector);
  return Off(b.EndTable(start));
}

std::string finish(flatbuffers::FlatBufferBuilder& b, Off root)
{
  b.Finish(root);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

std::string message(
  flatbuffers::FlatBufferBuilder& b, std::uint8_t headerType, Off header, std::int64_t bodyLength)
{
  const auto start = b.StartTable();
  b.AddElement<std::int16_t>(vt(0), 4, 0); // V5
  b.AddElement<std::uint8_t>(vt(1), headerType, 0);
  b.AddOffset(vt(2), header);
  b.AddElement<std::int64_t>(vt(3), bodyLength, -1);
  return finish(b, Off(b.EndTable(start)));
}

struct alignas(8) FbNode
{
  std::int64_t length;
  std::int64_t nullCount;
};
struct alignas(8) FbBuffer
{
  std::int64_t offset;
  std::int64_t length;
};
struct alignas(8) FbBlock
{
  std::int64_t offset;
  std::int32_t metaDataLength;
  std::int32_t pad;
  std::int64_t bodyLength;
};

enum class Compress
{
  None,
  Lz4,
  Zstd
};

/// The nodes, buffers and body of one record batch.
struct Batch
{
  std::int64_t rows = 0;
  Compress compress = Compress::None;
  std::vector<FbNode> nodes;
  std::vector<FbBuffer> buffers;
  std::string body;

  void node(std::int64_t length, std::int64_t nulls) { this->nodes.push_back({ length, nulls }); }
  void buffer(const std::string& bytes, bool keepRaw = false)
  {
    std::string stored = bytes;
    if (this->compress != Compress::None && !bytes.empty())
    {
      std::int64_t prefix = static_cast<std::int64_t>(bytes.size());
      std::string packed;
      if (keepRaw)
      {
        prefix = -1;
        packed = bytes;
      }
      else if (this->compress == Compress::Zstd)
      {
        packed.resize(ZSTD_compressBound(bytes.size()));
        packed.resize(ZSTD_compress(packed.data(), packed.size(), bytes.data(), bytes.size(), 3));
      }
      else
      {
        packed.resize(LZ4F_compressFrameBound(bytes.size(), nullptr));
        packed.resize(
          LZ4F_compressFrame(packed.data(), packed.size(), bytes.data(), bytes.size(), nullptr));
      }
      stored.assign(reinterpret_cast<const char*>(&prefix), 8);
      stored += packed;
    }
    this->buffers.push_back(
      { static_cast<std::int64_t>(this->body.size()), static_cast<std::int64_t>(stored.size()) });
    this->body += stored;
    this->body.resize((this->body.size() + 7) / 8 * 8, '\0');
  }
  /// Metadata of the RecordBatch message.
  std::string metadata() const
  {
    flatbuffers::FlatBufferBuilder b;
    const auto nodeVector = b.CreateVectorOfStructs(this->nodes.data(), this->nodes.size());
    const auto bufferVector = b.CreateVectorOfStructs(this->buffers.data(), this->buffers.size());
    Off compression;
    if (this->compress != Compress::None)
    {
      const auto start = b.StartTable();
      b.AddElement<std::int8_t>(vt(0), this->compress == Compress::Zstd ? 1 : 0, -1);
      compression = Off(b.EndTable(start));
    }
    const auto start = b.StartTable();
    b.AddElement<std::int64_t>(vt(0), this->rows, -1);
    b.AddOffset(vt(1), nodeVector);
    b.AddOffset(vt(2), bufferVector);
    if (this->compress != Compress::None)
    {
      b.AddOffset(vt(3), compression);
    }
    const Off rb(b.EndTable(start));
    return message(b, 3, rb, static_cast<std::int64_t>(this->body.size()));
  }
};

template <typename T>
std::string raw(const std::vector<T>& values)
{
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

std::string bits(const std::vector<int>& values)
{
  std::string out((values.size() + 7) / 8, '\0');
  for (std::size_t i = 0; i < values.size(); ++i)
  {
    out[i / 8] = static_cast<char>(out[i / 8] | ((values[i] ? 1 : 0) << (i % 8)));
  }
  return out;
}

std::string schemaMetadata(const std::vector<TField>& fields,
  const std::vector<std::pair<std::string, std::string>>& metadata = {})
{
  flatbuffers::FlatBufferBuilder b;
  const auto schema = buildSchema(b, fields, metadata);
  return message(b, 1, schema, 0);
}

/// One encapsulated message: (marker) length, metadata padded to 8, body.
std::string encapsulate(std::string metadata, const std::string& body, bool continuation)
{
  const std::size_t prefix = continuation ? 8 : 4;
  metadata.resize((metadata.size() + prefix + 7) / 8 * 8 - prefix, '\0');
  std::string out;
  if (continuation)
  {
    out.append(4, '\xFF');
  }
  const auto length = static_cast<std::int32_t>(metadata.size());
  out.append(reinterpret_cast<const char*>(&length), 4);
  return out + metadata + body;
}

std::string endOfStream(bool continuation)
{
  return continuation ? std::string("\xFF\xFF\xFF\xFF\0\0\0\0", 8) : std::string(4, '\0');
}

std::string stream(const std::vector<TField>& fields, const std::vector<Batch>& batches,
  bool continuation = true, const std::vector<std::pair<std::string, std::string>>& kv = {})
{
  std::string out = encapsulate(schemaMetadata(fields, kv), "", continuation);
  for (const auto& batch : batches)
  {
    out += encapsulate(batch.metadata(), batch.body, true);
  }
  return out + endOfStream(continuation);
}

std::string fileFormat(const std::vector<TField>& fields, const std::vector<Batch>& batches,
  const std::vector<std::pair<std::string, std::string>>& kv = {})
{
  std::string out =
    std::string("ARROW1\0\0", 8) + encapsulate(schemaMetadata(fields, kv), "", true);
  std::vector<FbBlock> blocks;
  for (const auto& batch : batches)
  {
    const std::string message = encapsulate(batch.metadata(), "", true);
    blocks.push_back({ static_cast<std::int64_t>(out.size()),
      static_cast<std::int32_t>(message.size()), 0, static_cast<std::int64_t>(batch.body.size()) });
    out += message + batch.body;
  }
  out += endOfStream(true);
  flatbuffers::FlatBufferBuilder b;
  const auto schema = buildSchema(b, fields, kv);
  const auto blockVector = b.CreateVectorOfStructs(blocks.data(), blocks.size());
  const auto start = b.StartTable();
  b.AddElement<std::int16_t>(vt(0), 4, 0);
  b.AddOffset(vt(1), schema);
  b.AddOffset(vt(3), blockVector);
  const std::string footer = finish(b, Off(b.EndTable(start)));
  const auto length = static_cast<std::int32_t>(footer.size());
  return out + footer + std::string(reinterpret_cast<const char*>(&length), 4) + "ARROW1";
}

// ---- the table the tests read ---------------------------------------------

std::vector<TField> mainFields()
{
  TField emb = field("emb", TFixedSizeList, { floatField("item", 1) });
  emb.listSize = 4;
  return {
    field("image", TStruct, { field("bytes", TBinary), field("path", TUtf8) }),
    intField("label", 64, true),
    field("when", TTimestamp),
    emb,
    field("scores", TList, { floatField("item", 2) }),
    field("text", TUtf8),
    field("blob", TLargeBinary),
    field("flag", TBool),
    floatField("half", 0),
    intField("small", 8, false),
  };
}

/// Three rows, as documented in the tests; `labelBase` varies the labels.
Batch mainBatch(Compress compress = Compress::None, std::int64_t labelBase = 0)
{
  Batch b;
  b.rows = 3;
  b.compress = compress;
  // image: {ab, p0}, null, {null, p2}
  b.node(3, 1);
  b.buffer(bits({ 1, 0, 1 }));
  b.node(3, 1); // image.bytes: row 1 holds "zz" under the null struct
  b.buffer(bits({ 1, 1, 0 }));
  b.buffer(raw(std::vector<std::int32_t>{ 0, 2, 4, 4 }));
  b.buffer("abzz", true);
  b.node(3, 0); // image.path: no bitmap; offsets start at 5
  b.buffer("");
  b.buffer(raw(std::vector<std::int32_t>{ 5, 7, 7, 9 }));
  b.buffer("xxxxxp0p2");
  b.node(3, 0); // label
  b.buffer("");
  b.buffer(raw(std::vector<std::int64_t>{ 7 + labelBase, -1, std::int64_t(1) << 40 }));
  b.node(3, 0); // when (timestamp, not read)
  b.buffer("");
  b.buffer(raw(std::vector<std::int64_t>{ 1, 2, 3 }));
  b.node(3, 1); // emb: row 1 null; element 1 null
  b.buffer(bits({ 1, 0, 1 }));
  b.node(12, 1);
  b.buffer(bits({ 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }));
  b.buffer(raw(std::vector<float>{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 }));
  b.node(3, 0); // scores: [1.5, 2.5], [], [3.5]
  b.buffer("");
  b.buffer(raw(std::vector<std::int32_t>{ 0, 2, 2, 3 }));
  b.node(3, 0);
  b.buffer("");
  b.buffer(raw(std::vector<double>{ 1.5, 2.5, 3.5 }));
  b.node(3, 1); // text: null, "hello", "!"
  b.buffer(bits({ 0, 1, 1 }));
  b.buffer(raw(std::vector<std::int32_t>{ 0, 0, 5, 6 }));
  b.buffer("hello!");
  b.node(3, 0); // blob
  b.buffer("");
  b.buffer(raw(std::vector<std::int64_t>{ 0, 1, 2, 3 }));
  b.buffer("xyz");
  b.node(3, 0); // flag: 1 0 1
  b.buffer("");
  b.buffer(bits({ 1, 0, 1 }));
  b.node(3, 0); // half: 1, -2, 0.5
  b.buffer("");
  b.buffer(raw(std::vector<std::uint16_t>{ 0x3C00, 0xC000, 0x3800 }));
  b.node(3, 0); // small: 200, 0, 255
  b.buffer("");
  b.buffer(std::string("\xC8\x00\xFF", 3));
  return b;
}

class ArrowIpcTest : public ::testing::Test
{
protected:
  void SetUp() override
  {
    std::string pattern = (fs::temp_directory_path() / "dualembed-arrow-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    this->Dir = pattern;
  }
  void TearDown() override
  {
    std::error_code error;
    fs::remove_all(this->Dir, error);
  }
  std::string write(const std::string& name, const std::string& bytes)
  {
    const auto path = (this->Dir / name).string();
    std::ofstream(path, std::ios::binary).write(bytes.data(), bytes.size());
    if (const char* keep = std::getenv("DUALEMBED_ARROW_SEEDS")) // fuzz seed corpus
    {
      std::ofstream(fs::path(keep) /
          (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
            name),
        std::ios::binary)
        .write(bytes.data(), bytes.size());
    }
    return path;
  }
  fs::path Dir;
};

std::string text(const LeafChunk& c, std::size_t row)
{
  return std::string(c.bytes.begin() + c.offsets[row], c.bytes.begin() + c.offsets[row + 1]);
}

void expectMainBatch(TableReader& reader, std::size_t chunk, std::int64_t labelBase = 0)
{
  const auto bytes = reader.readLeaf(chunk, { "image", "bytes" });
  EXPECT_EQ(bytes.rows, 3);
  EXPECT_EQ(bytes.present, (std::vector<std::uint8_t>{ 1, 0, 0 }));
  EXPECT_EQ(bytes.offsets, (std::vector<std::int64_t>{ 0, 2, 2, 2 }));
  EXPECT_EQ(text(bytes, 0), "ab");

  const auto path = reader.readLeaf(chunk, { "image", "path" });
  EXPECT_EQ(path.present, (std::vector<std::uint8_t>{ 1, 0, 1 }));
  EXPECT_EQ(text(path, 0), "p0");
  EXPECT_EQ(text(path, 1), "");
  EXPECT_EQ(text(path, 2), "p2");

  const auto label = reader.readLeaf(chunk, { "label" });
  EXPECT_EQ(label.present, (std::vector<std::uint8_t>{ 1, 1, 1 }));
  EXPECT_EQ(
    label.integers, (std::vector<std::int64_t>{ 7 + labelBase, -1, std::int64_t(1) << 40 }));

  const auto emb = reader.readLeaf(chunk, { "emb" });
  EXPECT_EQ(emb.present, (std::vector<std::uint8_t>{ 1, 0, 1 }));
  EXPECT_EQ(emb.listOffsets, (std::vector<std::int64_t>{ 0, 4, 4, 8 }));
  ASSERT_EQ(emb.reals.size(), 8u);
  EXPECT_EQ(emb.reals[0], 0.0);
  EXPECT_TRUE(std::isnan(emb.reals[1]));
  EXPECT_EQ(emb.reals[3], 3.0);
  EXPECT_EQ(emb.reals[4], 8.0);
  EXPECT_EQ(emb.reals[7], 11.0);

  const auto scores = reader.readLeaf(chunk, { "scores" });
  EXPECT_EQ(scores.listOffsets, (std::vector<std::int64_t>{ 0, 2, 2, 3 }));
  EXPECT_EQ(scores.reals, (std::vector<double>{ 1.5, 2.5, 3.5 }));

  const auto txt = reader.readLeaf(chunk, { "text" });
  EXPECT_EQ(txt.present, (std::vector<std::uint8_t>{ 0, 1, 1 }));
  EXPECT_EQ(text(txt, 0), "");
  EXPECT_EQ(text(txt, 1), "hello");
  EXPECT_EQ(text(txt, 2), "!");

  const auto blob = reader.readLeaf(chunk, { "blob" });
  EXPECT_EQ(std::string(blob.bytes.begin(), blob.bytes.end()), "xyz");
  EXPECT_EQ(blob.offsets, (std::vector<std::int64_t>{ 0, 1, 2, 3 }));

  EXPECT_EQ(reader.readLeaf(chunk, { "flag" }).integers, (std::vector<std::int64_t>{ 1, 0, 1 }));
  EXPECT_EQ(reader.readLeaf(chunk, { "half" }).reals, (std::vector<double>{ 1.0, -2.0, 0.5 }));
  EXPECT_EQ(
    reader.readLeaf(chunk, { "small" }).integers, (std::vector<std::int64_t>{ 200, 0, 255 }));
}

std::string errorOf(TableReader& reader, std::size_t chunk, const std::vector<std::string>& leaf)
{
  try
  {
    reader.readLeaf(chunk, leaf);
  }
  catch (const FormatError& error)
  {
    return error.what();
  }
  return "";
}

std::string openError(const std::string& path)
{
  try
  {
    openArrowIpc(path);
  }
  catch (const FormatError& error)
  {
    return error.what();
  }
  return "";
}

TEST_F(ArrowIpcTest, StreamWithContinuationMarker)
{
  const auto path = this->write("data-00000-of-00001.arrow",
    stream(mainFields(), { mainBatch() }, true, { { "huggingface", "{\"info\": 1}" } }));
  EXPECT_TRUE(looksLikeArrowIpc(path));
  auto reader = openArrowIpc(path);
  EXPECT_EQ(reader->numberOfRows(), 3);
  EXPECT_EQ(reader->chunkRows(), (std::vector<std::int64_t>{ 3 }));
  const auto& schema = reader->schema();
  ASSERT_EQ(schema.fields.size(), 10u);
  EXPECT_EQ(schema.fields[0].kind, ValueKind::Struct);
  EXPECT_EQ(schema.fields[0].children[0].kind, ValueKind::Binary);
  EXPECT_EQ(schema.fields[0].children[1].kind, ValueKind::String);
  EXPECT_EQ(schema.fields[1].kind, ValueKind::Integer);
  EXPECT_EQ(schema.fields[1].bitWidth, 64);
  EXPECT_EQ(schema.fields[2].kind, ValueKind::Unsupported);
  EXPECT_EQ(schema.fields[2].typeName, "timestamp[ms]");
  EXPECT_EQ(schema.fields[3].kind, ValueKind::List);
  EXPECT_EQ(schema.fields[3].fixedSize, 4);
  EXPECT_EQ(schema.fields[3].typeName, "fixed_size_list<float>[4]");
  EXPECT_EQ(schema.fields[4].typeName, "list<double>");
  EXPECT_EQ(schema.fields[9].isSigned, false);
  ASSERT_EQ(schema.metadata.size(), 1u);
  EXPECT_EQ(schema.metadata[0].first, "huggingface");
  EXPECT_EQ(schema.metadata[0].second, "{\"info\": 1}");
  expectMainBatch(*reader, 0);
}

TEST_F(ArrowIpcTest, LegacyStreamWithoutMarker)
{
  const auto path = this->write("legacy.arrow", stream(mainFields(), { mainBatch() }, false));
  EXPECT_TRUE(looksLikeArrowIpc(path));
  auto reader = openArrowIpc(path);
  expectMainBatch(*reader, 0);
}

TEST_F(ArrowIpcTest, StreamWithoutEndMarker)
{
  std::string bytes = stream(mainFields(), { mainBatch(), mainBatch() });
  bytes.resize(bytes.size() - 8);
  auto reader = openArrowIpc(this->write("noend.arrow", bytes));
  EXPECT_EQ(reader->numberOfRows(), 6);
}

TEST_F(ArrowIpcTest, FileFormat)
{
  const auto path = this->write("table.arrow",
    fileFormat(mainFields(), { mainBatch(), mainBatch(Compress::None, 100) }, { { "k", "v" } }));
  EXPECT_TRUE(looksLikeArrowIpc(path));
  auto reader = openArrowIpc(path);
  EXPECT_EQ(reader->chunkRows(), (std::vector<std::int64_t>{ 3, 3 }));
  EXPECT_EQ(reader->schema().metadata.at(0).second, "v");
  expectMainBatch(*reader, 0);
  expectMainBatch(*reader, 1, 100);
}

TEST_F(ArrowIpcTest, TwoRecordBatches)
{
  auto reader = openArrowIpc(this->write(
    "two.arrow", stream(mainFields(), { mainBatch(), mainBatch(Compress::None, 1000) })));
  EXPECT_EQ(reader->numberOfRows(), 6);
  EXPECT_EQ(reader->chunkRows(), (std::vector<std::int64_t>{ 3, 3 }));
  expectMainBatch(*reader, 1, 1000);
  expectMainBatch(*reader, 0);
  EXPECT_NE(errorOf(*reader, 2, { "label" }).find("no record batch 2"), std::string::npos);
}

TEST_F(ArrowIpcTest, ZstdBody)
{
  auto reader =
    openArrowIpc(this->write("zstd.arrow", stream(mainFields(), { mainBatch(Compress::Zstd, 5) })));
  expectMainBatch(*reader, 0, 5);
}

TEST_F(ArrowIpcTest, Lz4FrameBody)
{
  auto reader =
    openArrowIpc(this->write("lz4.arrow", fileFormat(mainFields(), { mainBatch(Compress::Lz4) })));
  expectMainBatch(*reader, 0);
}

TEST_F(ArrowIpcTest, LargeUtf8AndLargeList)
{
  std::vector<TField> fields = { field("s", TLargeUtf8),
    field("l", TLargeList, { intField("item", 32, true) }) };
  Batch b;
  b.rows = 2;
  b.node(2, 0);
  b.buffer("");
  b.buffer(raw(std::vector<std::int64_t>{ 3, 4, 6 }));
  b.buffer("---abc");
  b.node(2, 0);
  b.buffer("");
  b.buffer(raw(std::vector<std::int64_t>{ 1, 2, 4 }));
  b.node(4, 0);
  b.buffer("");
  b.buffer(raw(std::vector<std::int32_t>{ 9, -5, 6, 7 }));
  auto reader = openArrowIpc(this->write("large.arrow", stream(fields, { b })));
  const auto s = reader->readLeaf(0, { "s" });
  EXPECT_EQ(text(s, 0), "a");
  EXPECT_EQ(text(s, 1), "bc");
  const auto l = reader->readLeaf(0, { "l" });
  EXPECT_EQ(l.listOffsets, (std::vector<std::int64_t>{ 0, 1, 3 }));
  EXPECT_EQ(l.integers, (std::vector<std::int64_t>{ -5, 6, 7 }));
}

TEST_F(ArrowIpcTest, RefusesBadPathsAndUnsupportedTypes)
{
  auto reader = openArrowIpc(this->write("s.arrow", stream(mainFields(), { mainBatch() })));
  EXPECT_NE(errorOf(*reader, 0, { "when" }).find("timestamp[ms], which is not supported"),
    std::string::npos);
  EXPECT_NE(errorOf(*reader, 0, { "image" }).find("it is a struct"), std::string::npos);
  EXPECT_NE(errorOf(*reader, 0, { "nope" }).find("has no column 'nope'"), std::string::npos);
  EXPECT_NE(errorOf(*reader, 0, { "label", "x" }).find("not a struct"), std::string::npos);
}

TEST_F(ArrowIpcTest, TruncatedBody)
{
  const std::string bytes = stream(mainFields(), { mainBatch() });
  const auto error = openError(this->write("cut.arrow", bytes.substr(0, bytes.size() - 40)));
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
  EXPECT_NE(error.find("cut.arrow"), std::string::npos) << error;
}

TEST_F(ArrowIpcTest, LyingBufferOffsets)
{
  Batch b = mainBatch();
  b.buffers[8].offset = 1 << 20; // label's data
  auto reader = openArrowIpc(this->write("lie.arrow", stream(mainFields(), { b })));
  const auto error = errorOf(*reader, 0, { "label" });
  EXPECT_NE(error.find("outside the body"), std::string::npos) << error;
  EXPECT_NE(error.find("'label'"), std::string::npos) << error;
  // The other columns still read.
  EXPECT_EQ(text(reader->readLeaf(0, { "text" }), 1), "hello");
  EXPECT_EQ(reader->readLeaf(0, { "scores" }).reals, (std::vector<double>{ 1.5, 2.5, 3.5 }));
}

TEST_F(ArrowIpcTest, OffsetsNotMonotonic)
{
  std::vector<TField> fields = { field("text", TUtf8) };
  Batch b;
  b.rows = 3;
  b.node(3, 0);
  b.buffer("");
  b.buffer(raw(std::vector<std::int32_t>{ 0, 5, 2, 6 }));
  b.buffer("hello!");
  auto reader = openArrowIpc(this->write("mono.arrow", stream(fields, { b })));
  EXPECT_NE(errorOf(*reader, 0, { "text" }).find("decrease"), std::string::npos);
  Batch c = b;
  c.body.replace(0, 16, raw(std::vector<std::int32_t>{ 0, 5, 6, 60 }));
  auto beyond = openArrowIpc(this->write("beyond.arrow", stream(fields, { c })));
  EXPECT_NE(errorOf(*beyond, 0, { "text" }).find("data buffer holds"), std::string::npos);
}

TEST_F(ArrowIpcTest, DecompressionBomb)
{
  Batch b = mainBatch(Compress::Zstd);
  const std::int64_t bomb = std::int64_t(1) << 40;
  std::memcpy(&b.body[b.buffers[8].offset], &bomb, 8); // label's data
  auto reader = openArrowIpc(this->write("bomb.arrow", stream(mainFields(), { b })));
  const auto error = errorOf(*reader, 0, { "label" });
  EXPECT_NE(error.find("declares 1099511627776 uncompressed bytes"), std::string::npos) << error;
}

TEST_F(ArrowIpcTest, BitmapOfNodeWithoutNullsIsIgnored)
{
  std::vector<TField> fields = { intField("v", 16, true) };
  Batch b;
  b.rows = 600;
  b.compress = Compress::Zstd;
  b.node(600, 0);
  b.buffer(std::string(75, '\0')); // all "null", but null_count says none are
  b.buffer(raw(std::vector<std::int16_t>(600, -3)));
  auto reader = openArrowIpc(this->write("bits.arrow", stream(fields, { b })));
  const auto v = reader->readLeaf(0, { "v" });
  EXPECT_EQ(v.integers, std::vector<std::int64_t>(600, -3));
  EXPECT_EQ(v.present, std::vector<std::uint8_t>(600, 1));
}

TEST_F(ArrowIpcTest, HugeRowCountAllocatesNothing)
{
  Batch b = mainBatch();
  b.rows = std::int64_t(1) << 40;
  for (auto& node : b.nodes)
  {
    node.length = b.rows;
  }
  auto reader = openArrowIpc(this->write("huge.arrow", stream(mainFields(), { b })));
  EXPECT_EQ(reader->numberOfRows(), b.rows);
  for (const auto& leaf : std::vector<std::vector<std::string>>{
         { "image", "path" }, { "label" }, { "emb" }, { "scores" }, { "text" }, { "flag" } })
  {
    EXPECT_NE(errorOf(*reader, 0, leaf).find("need"), std::string::npos)
      << errorOf(*reader, 0, leaf);
  }
}

TEST_F(ArrowIpcTest, BadFlatbuffer)
{
  std::string bytes = stream(mainFields(), { mainBatch() });
  for (std::size_t i = 8; i < 40; ++i)
  {
    bytes[i] = static_cast<char>(0xA5);
  }
  const auto path = this->write("bad.arrow", bytes);
  EXPECT_FALSE(looksLikeArrowIpc(path));
  EXPECT_NE(openError(path).find("damaged message"), std::string::npos) << openError(path);
  EXPECT_FALSE(looksLikeArrowIpc(this->write("zero.arrow", std::string(64, '\0'))));
  EXPECT_NE(
    openError((this->Dir / "zero.arrow").string()).find("holds no schema"), std::string::npos);
  EXPECT_NE(
    openError((this->Dir / "missing.arrow").string()).find("Cannot open"), std::string::npos);
}

TEST_F(ArrowIpcTest, DamagedFileFooter)
{
  std::string bytes = fileFormat(mainFields(), { mainBatch() });
  EXPECT_NE(
    openError(this->write("nofooter.arrow", bytes.substr(0, bytes.size() - 3))).find("truncated"),
    std::string::npos);
  bytes[bytes.size() - 10] = 0x7F; // footer length
  EXPECT_NE(openError(this->write("badlen.arrow", bytes)).find("footer"), std::string::npos);
}

/// Every truncation and many single-byte changes either open and read or
/// fail with FormatError (the sanitizers catch the rest).
TEST_F(ArrowIpcTest, DamageNeverCrashes)
{
  const std::string good[] = { stream(mainFields(), { mainBatch(Compress::Zstd) }),
    fileFormat(mainFields(), { mainBatch(Compress::Lz4) }) };
  const auto fields = mainFields();
  auto readAll = [&](const std::string& bytes) {
    const auto path = this->write("damaged.arrow", bytes);
    try
    {
      auto reader = openArrowIpc(path);
      for (std::size_t c = 0; c < reader->chunkRows().size(); ++c)
      {
        for (const auto& leaf : std::vector<std::vector<std::string>>{ { "image", "bytes" },
               { "image", "path" }, { "label" }, { "emb" }, { "scores" }, { "text" }, { "blob" },
               { "flag" }, { "half" }, { "small" } })
        {
          try
          {
            reader->readLeaf(c, leaf);
          }
          catch (const FormatError&)
          {
          }
        }
      }
    }
    catch (const FormatError&)
    {
    }
  };
  for (const auto& bytes : good)
  {
    for (std::size_t size = 0; size < bytes.size(); size += 3)
    {
      readAll(bytes.substr(0, size));
    }
    for (std::size_t i = 0; i < bytes.size(); ++i)
    {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ (i % 2 ? 0x80 : 0x13));
      readAll(damaged);
    }
  }
}

} // namespace
} // namespace columnar
} // namespace formats
} // namespace dualembed
