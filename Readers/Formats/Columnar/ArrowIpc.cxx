// Arrow IPC reader (stream and file formats) on a read-only memory map. The
// flatbuffer metadata is read with flatbuffers' generic Table API after the
// Verifier has checked every table, vector and string this file touches, so a
// hostile file fails with FormatError instead of reading out of bounds. Record
// batches are indexed at open from their metadata; bodies are read per leaf.
#include "Columnar/Codecs.h"
#include "Columnar/Table.h"
#include "FormatUtil.h"

#include <flatbuffers/flatbuffers.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

namespace dualembed
{
namespace formats
{
namespace columnar
{
namespace
{

using detail::fail;
using detail::quoted;
using FbTable = flatbuffers::Table;
using FbString = flatbuffers::String;
using TableVector = flatbuffers::Vector<flatbuffers::Offset<FbTable>>;
using flatbuffers::voffset_t;

// Field ids of format/Schema.fbs, Message.fbs and File.fbs as vtable offsets
// (4 + 2 * id; a union takes two ids: its type, then its table).
constexpr voffset_t vt(int id)
{
  return static_cast<voffset_t>(4 + 2 * id);
}
namespace message
{
constexpr voffset_t Version = vt(0), HeaderType = vt(1), Header = vt(2), BodyLength = vt(3);
}
namespace schema
{
constexpr voffset_t Endianness = vt(0), Fields = vt(1), CustomMetadata = vt(2);
}
namespace field
{
constexpr voffset_t Name = vt(0), Nullable = vt(1), TypeType = vt(2), Type = vt(3),
                    Dictionary = vt(4), Children = vt(5);
}
namespace keyvalue
{
constexpr voffset_t Key = vt(0), Value = vt(1);
}
namespace recordbatch
{
constexpr voffset_t Length = vt(0), Nodes = vt(1), Buffers = vt(2), Compression = vt(3),
                    VariadicCounts = vt(4);
}
namespace footer
{
constexpr voffset_t Schema = vt(1), RecordBatches = vt(3);
}
constexpr voffset_t IntBitWidth = vt(0), IntSigned = vt(1), FloatPrecision = vt(0),
                    FixedSizeListSize = vt(0), UnionMode = vt(0), TimestampUnit = vt(0),
                    CompressionCodec = vt(0);

/// MessageHeader union members.
enum : std::uint8_t
{
  HeaderSchema = 1,
  HeaderDictionaryBatch = 2,
  HeaderRecordBatch = 3
};

/// Type union members.
enum TypeId : std::uint8_t
{
  TNone = 0,
  TNull,
  TInt,
  TFloatingPoint,
  TBinary,
  TUtf8,
  TBool,
  TDecimal,
  TDate,
  TTime,
  TTimestamp,
  TInterval,
  TList,
  TStruct,
  TUnion,
  TFixedSizeBinary,
  TFixedSizeList,
  TMap,
  TDuration,
  TLargeBinary,
  TLargeUtf8,
  TLargeList,
  TRunEndEncoded,
  TBinaryView,
  TUtf8View,
  TListView,
  TLargeListView
};

constexpr int MetadataV5 = 4;
constexpr int MaxNesting = 32;
constexpr std::int64_t MaxMetadataLength = 64 << 20;
constexpr std::int64_t MaxDecodedBuffer = std::int64_t(1) << 30;

/// How a field's arrays lie in a record batch: one FieldNode, `buffers`
/// buffers (plus one variadicBufferCounts entry for view types), then its
/// children depth-first. `buffers` < 0: a type this reader cannot even skip.
struct Layout
{
  int type = TNone;
  int buffers = 0;
  bool variadic = false;
  bool denseUnion = false;
  int precision = 0; ///< FloatingPoint: 0 half, 1 single, 2 double
  std::vector<Layout> children;
};

struct FieldNode
{
  std::int64_t length = 0;
  std::int64_t nullCount = 0;
};

struct BufferRange
{
  std::int64_t offset = 0;
  std::int64_t length = 0;
};

struct Batch
{
  std::int64_t rows = 0;
  int version = MetadataV5;
  bool compressed = false;
  Codec codec = Codec::Uncompressed;
  std::uint64_t bodyOffset = 0;
  std::uint64_t bodyLength = 0;
  std::vector<FieldNode> nodes;
  std::vector<BufferRange> buffers;
  std::vector<std::int64_t> variadicCounts;
};

std::int64_t loadInt64(const std::uint8_t* p)
{
  std::int64_t value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

std::int32_t loadInt32(const std::uint8_t* p)
{
  std::int32_t value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

/// a * b, saturated at `cap` (sizes derived from hostile lengths).
std::int64_t mulCapped(std::int64_t a, std::int64_t b, std::int64_t cap)
{
  if (a <= 0 || b <= 0)
  {
    return 0;
  }
  return a > cap / b ? cap : std::min(a * b, cap);
}

std::int64_t bitmapBytes(std::int64_t bits)
{
  return bits / 8 + (bits % 8 ? 1 : 0);
}

// ---- flatbuffer verification ---------------------------------------------

bool verifyString(flatbuffers::Verifier& v, const FbTable* t, voffset_t f)
{
  return t->VerifyOffset(v, f) && v.VerifyString(t->GetPointer<const FbString*>(f));
}

bool verifyStructVector(flatbuffers::Verifier& v, const FbTable* t, voffset_t f, size_t size)
{
  if (!t->VerifyOffset(v, f))
  {
    return false;
  }
  const auto* vec = t->GetPointer<const std::uint8_t*>(f);
  return !vec || v.VerifyVectorOrString(vec, size);
}

template <typename Each>
bool verifyTables(flatbuffers::Verifier& v, const FbTable* t, voffset_t f, Each each)
{
  if (!t->VerifyOffset(v, f))
  {
    return false;
  }
  const auto* vec = t->GetPointer<const TableVector*>(f);
  if (!vec)
  {
    return true;
  }
  if (!v.VerifyVector(vec))
  {
    return false;
  }
  for (flatbuffers::uoffset_t i = 0; i < vec->size(); ++i)
  {
    if (!each(vec->Get(i)))
    {
      return false;
    }
  }
  return true;
}

bool verifyKeyValue(flatbuffers::Verifier& v, const FbTable* t)
{
  return t->VerifyTableStart(v) && verifyString(v, t, keyvalue::Key) &&
    verifyString(v, t, keyvalue::Value) && v.EndTable();
}

bool verifyTypeTable(flatbuffers::Verifier& v, const FbTable* t, int type)
{
  // The parameters this reader reads; other types are only named.
  if (!t->VerifyTableStart(v))
  {
    return false;
  }
  switch (type)
  {
    case TInt:
      if (!t->VerifyField<std::int32_t>(v, IntBitWidth, 4) ||
        !t->VerifyField<std::uint8_t>(v, IntSigned, 1))
      {
        return false;
      }
      break;
    case TFixedSizeList:
      if (!t->VerifyField<std::int32_t>(v, FixedSizeListSize, 4))
      {
        return false;
      }
      break;
    case TFloatingPoint: // precision, mode, unit: all shorts at the first id
    case TUnion:
    case TTimestamp:
      if (!t->VerifyField<std::int16_t>(v, FloatPrecision, 2))
      {
        return false;
      }
      break;
    default:
      break;
  }
  return v.EndTable();
}

bool verifyField(flatbuffers::Verifier& v, const FbTable* t, int depth)
{
  if (depth > MaxNesting || !t->VerifyTableStart(v) || !verifyString(v, t, field::Name) ||
    !t->VerifyField<std::uint8_t>(v, field::Nullable, 1) ||
    !t->VerifyField<std::uint8_t>(v, field::TypeType, 1) || !t->VerifyOffset(v, field::Type) ||
    !t->VerifyOffset(v, field::Dictionary))
  {
    return false;
  }
  const auto* type = t->GetPointer<const FbTable*>(field::Type);
  if (type && !verifyTypeTable(v, type, t->GetField<std::uint8_t>(field::TypeType, TNone)))
  {
    return false;
  }
  const auto* dictionary = t->GetPointer<const FbTable*>(field::Dictionary);
  if (dictionary && !(dictionary->VerifyTableStart(v) && v.EndTable()))
  {
    return false;
  }
  return verifyTables(v, t, field::Children,
           [&](const FbTable* child) { return verifyField(v, child, depth + 1); }) &&
    v.EndTable();
}

bool verifySchema(flatbuffers::Verifier& v, const FbTable* t)
{
  return t->VerifyTableStart(v) && t->VerifyField<std::int16_t>(v, schema::Endianness, 2) &&
    verifyTables(v, t, schema::Fields, [&](const FbTable* f) { return verifyField(v, f, 0); }) &&
    verifyTables(
      v, t, schema::CustomMetadata, [&](const FbTable* kv) { return verifyKeyValue(v, kv); }) &&
    v.EndTable();
}

bool verifyRecordBatch(flatbuffers::Verifier& v, const FbTable* t)
{
  if (!t->VerifyTableStart(v) || !t->VerifyField<std::int64_t>(v, recordbatch::Length, 8) ||
    !verifyStructVector(v, t, recordbatch::Nodes, 16) ||
    !verifyStructVector(v, t, recordbatch::Buffers, 16) ||
    !verifyStructVector(v, t, recordbatch::VariadicCounts, 8) ||
    !t->VerifyOffset(v, recordbatch::Compression))
  {
    return false;
  }
  const auto* compression = t->GetPointer<const FbTable*>(recordbatch::Compression);
  if (compression &&
    !(compression->VerifyTableStart(v) &&
      compression->VerifyField<std::int8_t>(v, CompressionCodec, 1) && v.EndTable()))
  {
    return false;
  }
  return v.EndTable();
}

bool verifyMessage(flatbuffers::Verifier& v, const FbTable* t)
{
  if (!t->VerifyTableStart(v) || !t->VerifyField<std::int16_t>(v, message::Version, 2) ||
    !t->VerifyField<std::uint8_t>(v, message::HeaderType, 1) ||
    !t->VerifyOffset(v, message::Header) ||
    !t->VerifyField<std::int64_t>(v, message::BodyLength, 8))
  {
    return false;
  }
  const auto* header = t->GetPointer<const FbTable*>(message::Header);
  if (header)
  {
    switch (t->GetField<std::uint8_t>(message::HeaderType, 0))
    {
      case HeaderSchema:
        if (!verifySchema(v, header))
        {
          return false;
        }
        break;
      case HeaderRecordBatch:
        if (!verifyRecordBatch(v, header))
        {
          return false;
        }
        break;
      default: // skipped unread (dictionary batches, tensors)
        break;
    }
  }
  return v.EndTable();
}

bool verifyFooter(flatbuffers::Verifier& v, const FbTable* t)
{
  if (!t->VerifyTableStart(v) || !t->VerifyOffset(v, footer::Schema) ||
    !verifyStructVector(v, t, footer::RecordBatches, 24))
  {
    return false;
  }
  const auto* s = t->GetPointer<const FbTable*>(footer::Schema);
  return (!s || verifySchema(v, s)) && v.EndTable();
}

/// A flatbuffer copied into aligned memory (the map may hold it at any
/// offset, e.g. after the legacy 4-byte prefix) and verified.
class Flatbuffer
{
public:
  Flatbuffer(const std::uint8_t* data, std::size_t size)
    : Words((size + 7) / 8)
  {
    if (size)
    {
      std::memcpy(this->Words.data(), data, size);
    }
    this->Size = size;
  }

  template <typename Verify>
  const FbTable* root(Verify verify) const
  {
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(this->Words.data());
    if (this->Size < 8)
    {
      return nullptr;
    }
    flatbuffers::Verifier verifier(bytes, this->Size);
    const auto offset = verifier.VerifyOffset(0);
    if (!offset)
    {
      return nullptr;
    }
    const auto* table = reinterpret_cast<const FbTable*>(bytes + offset);
    return verify(verifier, table) ? table : nullptr;
  }

private:
  std::vector<std::uint64_t> Words;
  std::size_t Size = 0;
};

std::string fbString(const FbTable* t, voffset_t f)
{
  const auto* s = t->GetPointer<const FbString*>(f);
  return s ? s->str() : std::string();
}

// ---- schema --------------------------------------------------------------

std::string intName(int bits, bool isSigned)
{
  return (isSigned ? "int" : "uint") + std::to_string(bits);
}

int unionBuffers(bool dense, int version)
{
  // Before V5 unions had a validity bitmap too.
  return (dense ? 2 : 1) + (version < MetadataV5 ? 1 : 0);
}

void convertField(const FbTable* t, int depth, Field& out, Layout& layout)
{
  out.name = fbString(t, field::Name);
  out.nullable = t->GetField<std::uint8_t>(field::Nullable, 0) != 0;
  const int type = t->GetField<std::uint8_t>(field::TypeType, TNone);
  const auto* params = t->GetPointer<const FbTable*>(field::Type);
  layout.type = type;
  const auto* children = t->GetPointer<const TableVector*>(field::Children);
  const bool dictionary = t->GetPointer<const FbTable*>(field::Dictionary) != nullptr;
  if (dictionary)
  {
    // The batch holds the indices (an Int array); the values come in
    // dictionary batches, which this reader does not read.
    out.kind = ValueKind::Unsupported;
    out.typeName = "dictionary-encoded";
    layout.type = TInt;
    layout.buffers = 2;
    return;
  }
  if (children && depth < MaxNesting)
  {
    out.children.resize(children->size());
    layout.children.resize(children->size());
    for (flatbuffers::uoffset_t i = 0; i < children->size(); ++i)
    {
      convertField(children->Get(i), depth + 1, out.children[i], layout.children[i]);
    }
  }
  else if (children && children->size())
  {
    fail("nested deeper than " + std::to_string(MaxNesting) + " levels");
  }
  auto paramInt = [&](voffset_t f, int fallback) {
    return params ? params->GetField<std::int32_t>(f, fallback) : fallback;
  };
  auto paramShort = [&](voffset_t f, int fallback) {
    return params ? params->GetField<std::int16_t>(f, static_cast<std::int16_t>(fallback))
                  : fallback;
  };
  const std::string elementName =
    out.children.size() == 1 ? out.children[0].typeName : std::string("?");
  out.kind = ValueKind::Unsupported;
  layout.buffers = 2;
  switch (type)
  {
    case TInt:
    {
      out.bitWidth = paramInt(IntBitWidth, 0);
      out.isSigned = params && params->GetField<std::uint8_t>(IntSigned, 0) != 0;
      const int w = out.bitWidth;
      out.typeName = intName(w, out.isSigned);
      if (w == 8 || w == 16 || w == 32 || w == 64)
      {
        out.kind = ValueKind::Integer;
      }
      break;
    }
    case TFloatingPoint:
    {
      layout.precision = paramShort(FloatPrecision, 0);
      static const char* const names[] = { "halffloat", "float", "double" };
      if (layout.precision >= 0 && layout.precision <= 2)
      {
        out.kind = ValueKind::Real;
        out.bitWidth = 16 << layout.precision;
        out.typeName = names[layout.precision];
      }
      else
      {
        out.typeName = "floating point of unknown precision";
      }
      break;
    }
    case TBool:
      out.kind = ValueKind::Boolean;
      out.typeName = "bool";
      break;
    case TBinary:
    case TLargeBinary:
      out.kind = ValueKind::Binary;
      out.typeName = type == TBinary ? "binary" : "large_binary";
      layout.buffers = 3;
      break;
    case TUtf8:
    case TLargeUtf8:
      out.kind = ValueKind::String;
      out.typeName = type == TUtf8 ? "string" : "large_string";
      layout.buffers = 3;
      break;
    case TStruct:
      out.kind = ValueKind::Struct;
      out.typeName = "struct";
      layout.buffers = 1;
      break;
    case TList:
    case TLargeList:
      out.kind = out.children.size() == 1 ? ValueKind::List : ValueKind::Unsupported;
      out.typeName = (type == TList ? "list<" : "large_list<") + elementName + ">";
      break;
    case TFixedSizeList:
      out.fixedSize = paramInt(FixedSizeListSize, 0);
      out.kind =
        out.children.size() == 1 && out.fixedSize > 0 ? ValueKind::List : ValueKind::Unsupported;
      out.typeName = "fixed_size_list<" + elementName + ">[" + std::to_string(out.fixedSize) + "]";
      layout.buffers = 1;
      break;
    case TNull:
      out.typeName = "null";
      layout.buffers = 0;
      break;
    case TDecimal:
      out.typeName = "decimal";
      break;
    case TDate:
      out.typeName = "date";
      break;
    case TTime:
      out.typeName = "time";
      break;
    case TTimestamp:
    {
      static const char* const units[] = { "s", "ms", "us", "ns" };
      const int unit = paramShort(TimestampUnit, 0);
      out.typeName = std::string("timestamp[") + (unit >= 0 && unit < 4 ? units[unit] : "?") + "]";
      break;
    }
    case TInterval:
      out.typeName = "interval";
      break;
    case TDuration:
      out.typeName = "duration";
      break;
    case TFixedSizeBinary:
      out.typeName = "fixed_size_binary";
      break;
    case TMap:
      out.typeName = "map";
      break;
    case TUnion:
      out.typeName = "union";
      layout.denseUnion = paramShort(UnionMode, 0) == 1;
      layout.buffers = -2; // per batch: depends on the metadata version
      break;
    case TRunEndEncoded:
      out.typeName = "run_end_encoded";
      layout.buffers = 0;
      break;
    case TBinaryView:
    case TUtf8View:
      out.typeName = type == TBinaryView ? "binary_view" : "string_view";
      layout.variadic = true;
      break;
    case TListView:
    case TLargeListView:
      out.typeName = type == TListView ? "list_view" : "large_list_view";
      layout.buffers = 3;
      break;
    default:
      out.typeName = "unknown type " + std::to_string(type);
      layout.buffers = -1;
      break;
  }
}

void convertSchema(const FbTable* t, Schema& out, std::vector<Layout>& layouts)
{
  if (t->GetField<std::int16_t>(schema::Endianness, 0) != 0)
  {
    fail("is big-endian, which is not supported");
  }
  if (const auto* fields = t->GetPointer<const TableVector*>(schema::Fields))
  {
    out.fields.resize(fields->size());
    layouts.resize(fields->size());
    for (flatbuffers::uoffset_t i = 0; i < fields->size(); ++i)
    {
      convertField(fields->Get(i), 0, out.fields[i], layouts[i]);
    }
  }
  if (const auto* kvs = t->GetPointer<const TableVector*>(schema::CustomMetadata))
  {
    for (flatbuffers::uoffset_t i = 0; i < kvs->size(); ++i)
    {
      out.metadata.emplace_back(
        fbString(kvs->Get(i), keyvalue::Key), fbString(kvs->Get(i), keyvalue::Value));
    }
  }
}

// ---- the reader ----------------------------------------------------------

/// A buffer of a batch body: a view of the map, or decompressed bytes.
struct Bytes
{
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::unique_ptr<std::uint8_t[]> owned; // uninitialised: pages a codec fails on stay untouched
};

class ArrowIpcReader final : public TableReader
{
public:
  explicit ArrowIpcReader(const std::string& path);
  ~ArrowIpcReader() override
  {
    if (this->Map)
    {
      munmap(const_cast<std::uint8_t*>(this->Map), this->MapSize);
    }
  }
  ArrowIpcReader(const ArrowIpcReader&) = delete;
  ArrowIpcReader& operator=(const ArrowIpcReader&) = delete;

  const Schema& schema() const override { return this->TheSchema; }
  std::int64_t numberOfRows() const override { return this->Rows; }
  const std::vector<std::int64_t>& chunkRows() const override { return this->ChunkRows; }
  LeafChunk readLeaf(std::size_t chunk, const std::vector<std::string>& leafPath) override;
  const std::string& path() const override { return this->Path; }

private:
  [[noreturn]] void failFile(const std::string& what) const
  {
    fail("The Arrow IPC file " + quoted(this->Path) + " " + what + ".");
  }
  void indexStream(std::size_t start);
  void indexFile();
  /// Parses the encapsulated message at `pos` (`limit`: where its metadata
  /// must end). Returns false at the end-of-stream marker or a truncated prefix.
  bool readMessage(std::size_t pos, std::size_t limit, std::size_t& bodyStart,
    std::int64_t& bodyLength, std::unique_ptr<Flatbuffer>& metadata, const FbTable*& message);
  void addBatch(const FbTable* message, std::size_t bodyStart, std::int64_t bodyLength);
  void setSchema(const FbTable* schemaTable);

  std::string Path;
  const std::uint8_t* Map = nullptr;
  std::size_t MapSize = 0;
  Schema TheSchema;
  std::vector<Layout> Layouts;
  bool HaveSchema = false;
  std::vector<Batch> Batches;
  std::vector<std::int64_t> ChunkRows;
  std::int64_t Rows = 0;
};

ArrowIpcReader::ArrowIpcReader(const std::string& path)
  : Path(path)
{
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
  {
    fail("Cannot open the Arrow IPC file " + quoted(path) + ": " + std::strerror(errno) + ".");
  }
  struct stat st = {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
  {
    ::close(fd);
    fail("The Arrow IPC file " + quoted(path) + " is not a regular file.");
  }
  if (st.st_size < 8)
  {
    ::close(fd);
    fail("The Arrow IPC file " + quoted(path) + " is too short (" + detail::bytesText(st.st_size) +
      ") to hold a schema.");
  }
  void* map = mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED)
  {
    fail(
      "Cannot memory-map the Arrow IPC file " + quoted(path) + ": " + std::strerror(errno) + ".");
  }
  this->Map = static_cast<const std::uint8_t*>(map);
  this->MapSize = static_cast<std::size_t>(st.st_size);
  // On failure the destructor does not run: unmap here.
  try
  {
    if (std::memcmp(this->Map, "ARROW1", 6) == 0)
    {
      this->indexFile();
    }
    else
    {
      this->indexStream(0);
    }
  }
  catch (...)
  {
    munmap(map, this->MapSize);
    this->Map = nullptr;
    throw;
  }
}

bool ArrowIpcReader::readMessage(std::size_t pos, std::size_t limit, std::size_t& bodyStart,
  std::int64_t& bodyLength, std::unique_ptr<Flatbuffer>& metadata, const FbTable*& message)
{
  if (limit < pos || limit - pos < 4)
  {
    return false;
  }
  std::size_t prefix = 4;
  std::int32_t length = loadInt32(this->Map + pos);
  if (length == -1)
  {
    if (limit - pos < 8)
    {
      return false;
    }
    length = loadInt32(this->Map + pos + 4);
    prefix = 8;
  }
  if (length == 0)
  {
    return false;
  }
  const std::string where = "at byte " + std::to_string(pos);
  if (length < 0 || length > MaxMetadataLength)
  {
    this->failFile("has a message " + where + " with an impossible metadata length of " +
      std::to_string(length));
  }
  if (static_cast<std::size_t>(length) > limit - pos - prefix)
  {
    this->failFile("is truncated: the message " + where + " ends after the end of the " +
      (limit == this->MapSize ? "file" : "block that holds it"));
  }
  metadata = std::make_unique<Flatbuffer>(this->Map + pos + prefix, length);
  message =
    metadata->root([](flatbuffers::Verifier& v, const FbTable* t) { return verifyMessage(v, t); });
  if (!message)
  {
    this->failFile("has a damaged message " + where + " (its flatbuffer metadata is invalid)");
  }
  bodyStart = pos + prefix + static_cast<std::size_t>(length);
  bodyLength = message->GetField<std::int64_t>(message::BodyLength, 0);
  if (bodyLength < 0 || static_cast<std::uint64_t>(bodyLength) > this->MapSize - bodyStart)
  {
    this->failFile("is truncated: the body of the message " + where + " (" +
      detail::bytesText(bodyLength) + ") runs past the end of the file");
  }
  return true;
}

void ArrowIpcReader::setSchema(const FbTable* schemaTable)
{
  if (this->HaveSchema)
  {
    this->failFile("holds a second schema message");
  }
  try
  {
    convertSchema(schemaTable, this->TheSchema, this->Layouts);
  }
  catch (const FormatError& error)
  {
    this->failFile(std::string("has a schema that ") + error.what());
  }
  this->HaveSchema = true;
}

void ArrowIpcReader::addBatch(
  const FbTable* message, std::size_t bodyStart, std::int64_t bodyLength)
{
  const auto* rb = message->GetPointer<const FbTable*>(message::Header);
  const std::string which = "record batch " + std::to_string(this->Batches.size());
  if (!rb)
  {
    this->failFile("has a " + which + " message without its header");
  }
  Batch batch;
  batch.rows = rb->GetField<std::int64_t>(recordbatch::Length, 0);
  batch.version = message->GetField<std::int16_t>(message::Version, MetadataV5);
  batch.bodyOffset = bodyStart;
  batch.bodyLength = static_cast<std::uint64_t>(bodyLength);
  if (batch.rows < 0 || batch.rows > std::numeric_limits<std::int64_t>::max() - this->Rows)
  {
    this->failFile(
      "has a " + which + " with an impossible length of " + std::to_string(batch.rows) + " rows");
  }
  if (const auto* c = rb->GetPointer<const FbTable*>(recordbatch::Compression))
  {
    const int codec = c->GetField<std::int8_t>(CompressionCodec, 0);
    if (codec != 0 && codec != 1)
    {
      this->failFile(
        "has a " + which + " compressed with an unknown codec (" + std::to_string(codec) + ")");
    }
    batch.compressed = true;
    batch.codec = codec == 0 ? Codec::Lz4Frame : Codec::Zstd;
  }
  // Vectors of 16-byte structs (FieldNode, Buffer) and of longs, verified.
  auto structs = [&](voffset_t f, std::size_t size, auto& out) {
    const auto* vec = rb->GetPointer<const std::uint8_t*>(f);
    if (!vec)
    {
      return;
    }
    const std::uint32_t n = flatbuffers::ReadScalar<std::uint32_t>(vec);
    const std::uint8_t* p = vec + sizeof(std::uint32_t);
    out.resize(n);
    for (std::uint32_t i = 0; i < n; ++i, p += size)
    {
      std::memcpy(&out[i], p, size);
    }
  };
  static_assert(sizeof(FieldNode) == 16 && sizeof(BufferRange) == 16, "struct layout");
  structs(recordbatch::Nodes, 16, batch.nodes);
  structs(recordbatch::Buffers, 16, batch.buffers);
  structs(recordbatch::VariadicCounts, 8, batch.variadicCounts);
  this->Rows += batch.rows;
  this->ChunkRows.push_back(batch.rows);
  this->Batches.push_back(std::move(batch));
}

void ArrowIpcReader::indexStream(std::size_t pos)
{
  for (;;)
  {
    std::size_t bodyStart = 0;
    std::int64_t bodyLength = 0;
    std::unique_ptr<Flatbuffer> metadata;
    const FbTable* message = nullptr;
    if (!this->readMessage(pos, this->MapSize, bodyStart, bodyLength, metadata, message))
    {
      break;
    }
    const auto* header = message->GetPointer<const FbTable*>(message::Header);
    switch (message->GetField<std::uint8_t>(message::HeaderType, 0))
    {
      case HeaderSchema:
        if (!header)
        {
          this->failFile("has a schema message without its schema");
        }
        this->setSchema(header);
        break;
      case HeaderRecordBatch:
        if (!this->HaveSchema)
        {
          this->failFile("has a record batch before its schema");
        }
        this->addBatch(message, bodyStart, bodyLength);
        break;
      case HeaderDictionaryBatch: // only dictionary-encoded fields need them
        break;
      default:
        this->failFile("holds a message of an unsupported kind (" +
          std::to_string(message->GetField<std::uint8_t>(message::HeaderType, 0)) +
          "), not a schema or record batch");
    }
    pos = bodyStart + static_cast<std::size_t>(bodyLength);
  }
  if (!this->HaveSchema)
  {
    this->failFile("holds no schema: it is empty, damaged, or not an Arrow IPC stream");
  }
}

void ArrowIpcReader::indexFile()
{
  // "ARROW1" <pad to 8> <stream> <footer> <int32 footer length> "ARROW1"
  const std::size_t size = this->MapSize;
  if (size < 8 + 10 || std::memcmp(this->Map + size - 6, "ARROW1", 6) != 0)
  {
    this->failFile("starts like the Arrow file format but does not end with its footer "
                   "(\"ARROW1\"): it is truncated");
  }
  const std::int32_t footerLength = loadInt32(this->Map + size - 10);
  if (footerLength <= 0 || footerLength > MaxDecodedBuffer ||
    static_cast<std::size_t>(footerLength) > size - 18)
  {
    this->failFile("has an impossible footer length of " + std::to_string(footerLength));
  }
  const std::size_t footerStart = size - 10 - static_cast<std::size_t>(footerLength);
  Flatbuffer fb(this->Map + footerStart, static_cast<std::size_t>(footerLength));
  const auto* footerTable =
    fb.root([](flatbuffers::Verifier& v, const FbTable* t) { return verifyFooter(v, t); });
  if (!footerTable)
  {
    this->failFile("has a damaged footer (its flatbuffer is invalid)");
  }
  const auto* schemaTable = footerTable->GetPointer<const FbTable*>(footer::Schema);
  if (!schemaTable)
  {
    this->failFile("has a footer without a schema");
  }
  this->setSchema(schemaTable);
  const auto* blocks = footerTable->GetPointer<const std::uint8_t*>(footer::RecordBatches);
  const std::uint32_t count = blocks ? flatbuffers::ReadScalar<std::uint32_t>(blocks) : 0;
  for (std::uint32_t i = 0; i < count; ++i)
  {
    // struct Block { offset: long; metaDataLength: int; (pad) bodyLength: long; }
    const std::uint8_t* block = blocks + 4 + 24 * std::size_t(i);
    const std::int64_t offset = loadInt64(block);
    const std::int32_t metaLength = loadInt32(block + 8);
    const std::string which = "record batch " + std::to_string(i);
    if (offset < 8 || static_cast<std::uint64_t>(offset) >= footerStart || metaLength <= 0 ||
      static_cast<std::uint64_t>(metaLength) > footerStart - static_cast<std::uint64_t>(offset))
    {
      this->failFile("has a footer that places " + which + " outside the file");
    }
    std::size_t bodyStart = 0;
    std::int64_t bodyLength = 0;
    std::unique_ptr<Flatbuffer> metadata;
    const FbTable* message = nullptr;
    const auto pos = static_cast<std::size_t>(offset);
    if (!this->readMessage(pos, pos + static_cast<std::size_t>(metaLength), bodyStart, bodyLength,
          metadata, message) ||
      message->GetField<std::uint8_t>(message::HeaderType, 0) != HeaderRecordBatch)
    {
      this->failFile("has a footer whose block for " + which + " holds no record batch");
    }
    // The body follows the block's metadata (which includes any padding).
    bodyStart = pos + static_cast<std::size_t>(metaLength);
    if (static_cast<std::uint64_t>(bodyLength) > footerStart - bodyStart)
    {
      this->failFile("is truncated or damaged: the body of " + which + " runs into the footer");
    }
    this->addBatch(message, bodyStart, bodyLength);
  }
}

// ---- reading a leaf ------------------------------------------------------

/// Walks one batch's FieldNodes and buffers in schema order.
class BatchCursor
{
public:
  BatchCursor(
    const ArrowIpcReader& reader, const Batch& batch, const std::uint8_t* map, std::string context)
    : Reader(reader)
    , TheBatch(batch)
    , Map(map)
    , Context(std::move(context))
  {
  }

  [[noreturn]] void error(const std::string& what) const
  {
    fail("The Arrow IPC file " + quoted(this->Reader.path()) + ", " + this->Context + ": " + what +
      ".");
  }

  FieldNode node(std::int64_t atLeast)
  {
    if (this->NextNode >= this->TheBatch.nodes.size())
    {
      this->error("the record batch has fewer field nodes than its schema needs");
    }
    const FieldNode n = this->TheBatch.nodes[this->NextNode++];
    if (n.length < atLeast || n.nullCount < 0 || n.nullCount > n.length)
    {
      this->error("a field node has length " + std::to_string(n.length) + " and " +
        std::to_string(n.nullCount) + " nulls where " + std::to_string(atLeast) +
        " values are needed");
    }
    return n;
  }

  /// The next buffer; `need` is what the node lengths need (bytes, capped),
  /// which bounds a compressed buffer's declared size. A buffer shorter than
  /// `need` fails; one not `used` is only range-checked (and comes back empty).
  Bytes buffer(std::int64_t need, const char* what, bool used = true)
  {
    if (this->NextBuffer >= this->TheBatch.buffers.size())
    {
      this->error("the record batch has fewer buffers than its schema needs");
    }
    const BufferRange range = this->TheBatch.buffers[this->NextBuffer++];
    const std::uint64_t body = this->TheBatch.bodyLength;
    if (range.offset < 0 || range.length < 0 || static_cast<std::uint64_t>(range.offset) > body ||
      static_cast<std::uint64_t>(range.length) > body - static_cast<std::uint64_t>(range.offset))
    {
      this->error(std::string("its ") + what + " buffer (" + std::to_string(range.length) +
        " bytes at " + std::to_string(range.offset) + ") lies outside the body of " +
        detail::bytesText(static_cast<std::int64_t>(body)));
    }
    Bytes out;
    if (!used) // e.g. the bitmap of a node without nulls: left undecoded
    {
      return out;
    }
    out.data = this->Map + this->TheBatch.bodyOffset + range.offset;
    out.size = static_cast<std::size_t>(range.length);
    if (this->TheBatch.compressed && out.size > 0)
    {
      if (out.size < 8)
      {
        this->error(std::string("its compressed ") + what + " buffer is " +
          detail::bytesText(range.length) + ", too short for its length prefix");
      }
      const std::int64_t declared = loadInt64(out.data);
      out.data += 8;
      out.size -= 8;
      if (declared == 0)
      {
        out.size = 0;
      }
      else if (declared != -1) // -1: stored uncompressed
      {
        // Writers store buffers padded to 64 bytes at most; and no codec
        // expands beyond its best ratio (LZ4: 255; zstd: a 4-byte RLE block
        // per 128 KiB), so a hostile size costs no more than the file allows.
        const std::int64_t byNeed =
          std::min(MaxDecodedBuffer, (std::min(need, MaxDecodedBuffer) + 63) / 64 * 64 + 64);
        const std::int64_t byRatio =
          mulCapped(static_cast<std::int64_t>(out.size),
            this->TheBatch.codec == Codec::Zstd ? 32768 : 256, MaxDecodedBuffer) +
          65536;
        if (declared < 0 || declared > std::min(byNeed, byRatio))
        {
          this->error(std::string("its compressed ") + what + " buffer declares " +
            std::to_string(declared) + " uncompressed bytes, more than its values need (" +
            std::to_string(need) + ") or its " + std::to_string(out.size) +
            " compressed bytes can hold: the file is damaged");
        }
        out.owned.reset(new std::uint8_t[static_cast<std::size_t>(declared)]);
        decompress(this->TheBatch.codec, out.data, out.size, out.owned.get(),
          static_cast<std::size_t>(declared),
          "The Arrow IPC file " + quoted(this->Reader.path()) + ", " + this->Context + ", " + what +
            " buffer");
        out.data = out.owned.get();
        out.size = static_cast<std::size_t>(declared);
      }
    }
    if (out.size < static_cast<std::uint64_t>(need) && need > 0)
    {
      this->error(std::string("its ") + what + " buffer holds " +
        detail::bytesText(static_cast<std::int64_t>(out.size)) + " where its values need " +
        detail::bytesText(need));
    }
    return out;
  }

  /// Skips a field and its children.
  void skip(const Layout& layout, int depth = 0)
  {
    if (depth > MaxNesting)
    {
      this->error("the schema is nested too deeply");
    }
    int buffers = layout.buffers;
    if (layout.type == TUnion)
    {
      buffers = unionBuffers(layout.denseUnion, this->TheBatch.version);
    }
    if (buffers < 0)
    {
      this->error("an earlier field has a type whose layout is unknown, so its data cannot be "
                  "located");
    }
    std::uint64_t count = static_cast<std::uint64_t>(buffers);
    if (layout.variadic)
    {
      if (this->NextVariadic >= this->TheBatch.variadicCounts.size())
      {
        this->error("the record batch lacks the variadic buffer count of a view field");
      }
      const std::int64_t extra = this->TheBatch.variadicCounts[this->NextVariadic++];
      if (extra < 0 || static_cast<std::uint64_t>(extra) > this->TheBatch.buffers.size())
      {
        this->error("a view field has an impossible variadic buffer count");
      }
      count += static_cast<std::uint64_t>(extra);
    }
    this->NextNode += 1;
    if (count >
      this->TheBatch.buffers.size() - std::min(this->NextBuffer, this->TheBatch.buffers.size()))
    {
      this->error("the record batch has fewer buffers than its schema needs");
    }
    this->NextBuffer += static_cast<std::size_t>(count);
    for (const auto& child : layout.children)
    {
      this->skip(child, depth + 1);
    }
  }

private:
  const ArrowIpcReader& Reader;
  const Batch& TheBatch;
  const std::uint8_t* Map;
  std::string Context;
  std::size_t NextNode = 0;
  std::size_t NextBuffer = 0;
  std::size_t NextVariadic = 0;
};

bool bit(const std::uint8_t* bits, std::int64_t i)
{
  return (bits[i >> 3] >> (i & 7)) & 1;
}

/// Validity bitmaps that apply to the values being read (of the structs above
/// and of the leaf). They are combined only once the leaf's buffers are known
/// to hold `count` values, so a lying row count allocates nothing.
using Masks = std::vector<Bytes>;

/// Fetches the validity bitmap of `node`; a node without nulls may omit it.
void addValidity(BatchCursor& cursor, const FieldNode& node, Masks& masks)
{
  const bool hasNulls = node.nullCount > 0;
  Bytes bits = cursor.buffer(bitmapBytes(node.length), "validity", hasNulls);
  if (hasNulls)
  {
    masks.push_back(std::move(bits));
  }
}

std::vector<std::uint8_t> combine(const Masks& masks, std::int64_t count)
{
  std::vector<std::uint8_t> valid(static_cast<std::size_t>(count), 1);
  for (const auto& mask : masks)
  {
    for (std::int64_t i = 0; i < count; ++i)
    {
      valid[i] &= bit(mask.data, i) ? 1 : 0;
    }
  }
  return valid;
}

double halfToDouble(std::uint16_t h)
{
  const int exponent = (h >> 10) & 0x1F;
  const int mantissa = h & 0x3FF;
  double value;
  if (exponent == 0)
  {
    value = std::ldexp(mantissa, -24);
  }
  else if (exponent == 31)
  {
    value =
      mantissa ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  }
  else
  {
    value = std::ldexp(mantissa + 1024, exponent - 25);
  }
  return (h & 0x8000) ? -value : value;
}

/// Reads `count` Boolean, Integer or Real values of one node (a leaf or the
/// elements of a list) into out.integers or out.reals, and their validity
/// (with `masks`) into out.present; null values hold 0 or NaN.
void readPrimitive(
  BatchCursor& cursor, const Field& field, std::int64_t count, Masks masks, LeafChunk& out)
{
  const FieldNode node = cursor.node(count);
  addValidity(cursor, node, masks);
  const auto n = static_cast<std::size_t>(count);
  const std::int64_t cap = MaxDecodedBuffer + 1;
  const bool boolean = field.kind == ValueKind::Boolean;
  const int width = boolean ? 0 : field.bitWidth / 8;
  const Bytes data =
    cursor.buffer(boolean ? bitmapBytes(node.length) : mulCapped(node.length, width, cap), "data");
  if (boolean ? data.size < static_cast<std::uint64_t>(bitmapBytes(count))
              : data.size / static_cast<std::size_t>(width) < n)
  {
    cursor.error("its data buffer is too short");
  }
  out.present = combine(masks, count);
  const auto& valid = out.present;
  if (boolean)
  {
    out.integers.resize(n);
    for (std::size_t i = 0; i < n; ++i)
    {
      out.integers[i] = valid[i] && bit(data.data, static_cast<std::int64_t>(i));
    }
    return;
  }
  const std::uint8_t* p = data.data;
  if (field.kind == ValueKind::Integer)
  {
    out.integers.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i, p += width)
    {
      if (!valid[i])
      {
        continue;
      }
      std::int64_t v = 0;
      switch (width)
      {
        case 1:
          v = field.isSigned ? std::int64_t(std::int8_t(*p)) : std::int64_t(*p);
          break;
        case 2:
        {
          std::uint16_t u;
          std::memcpy(&u, p, 2);
          v = field.isSigned ? std::int64_t(std::int16_t(u)) : std::int64_t(u);
          break;
        }
        case 4:
        {
          std::uint32_t u;
          std::memcpy(&u, p, 4);
          v = field.isSigned ? std::int64_t(std::int32_t(u)) : std::int64_t(u);
          break;
        }
        default:
          std::memcpy(&v, p, 8); // uint64 above 2^63 wraps
          break;
      }
      out.integers[i] = v;
    }
    return;
  }
  out.reals.assign(n, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t i = 0; i < n; ++i, p += width)
  {
    if (!valid[i])
    {
      continue;
    }
    if (width == 2)
    {
      std::uint16_t h;
      std::memcpy(&h, p, 2);
      out.reals[i] = halfToDouble(h);
    }
    else if (width == 4)
    {
      float f;
      std::memcpy(&f, p, 4);
      out.reals[i] = f;
    }
    else
    {
      std::memcpy(&out.reals[i], p, 8);
    }
  }
}

/// Reads rows + 1 offsets (32 or 64 bits), checked non-negative and monotonic.
std::vector<std::int64_t> readOffsets(
  BatchCursor& cursor, const FieldNode& node, std::int64_t rows, int width)
{
  const Bytes raw = cursor.buffer(
    mulCapped(std::min(node.length, MaxDecodedBuffer) + 1, width, MaxDecodedBuffer + 1), "offsets");
  if (raw.size / static_cast<std::size_t>(width) <= static_cast<std::uint64_t>(rows))
  {
    cursor.error("its offsets buffer is too short");
  }
  const auto n = static_cast<std::size_t>(rows) + 1;
  std::vector<std::int64_t> offsets(n);
  for (std::size_t i = 0; i < n; ++i)
  {
    offsets[i] = width == 4 ? loadInt32(raw.data + 4 * i) : loadInt64(raw.data + 8 * i);
    if (offsets[i] < 0 || (i > 0 && offsets[i] < offsets[i - 1]))
    {
      cursor.error("its offsets are negative or decrease (at row " + std::to_string(i) + ")");
    }
  }
  return offsets;
}

void readBinary(
  BatchCursor& cursor, const Layout& layout, std::int64_t rows, Masks masks, LeafChunk& out)
{
  const FieldNode node = cursor.node(rows);
  addValidity(cursor, node, masks);
  const int width = layout.type == TBinary || layout.type == TUtf8 ? 4 : 8;
  const auto offsets = readOffsets(cursor, node, rows, width);
  // Data from offset 0: a first offset above 0 skips bytes nobody points at.
  const Bytes data = cursor.buffer(offsets.back(), "data");
  out.present = combine(masks, rows);
  const auto& valid = out.present;
  const auto n = static_cast<std::size_t>(rows);
  out.offsets.assign(n + 1, 0);
  std::size_t total = 0;
  for (std::size_t i = 0; i < n; ++i)
  {
    total += valid[i] ? static_cast<std::size_t>(offsets[i + 1] - offsets[i]) : 0;
  }
  out.bytes.resize(total);
  std::size_t at = 0;
  for (std::size_t i = 0; i < n; ++i)
  {
    if (valid[i])
    {
      const auto length = static_cast<std::size_t>(offsets[i + 1] - offsets[i]);
      if (length)
      {
        std::memcpy(out.bytes.data() + at, data.data + offsets[i], length);
      }
      at += length;
    }
    out.offsets[i + 1] = static_cast<std::int64_t>(at);
  }
}

void readList(BatchCursor& cursor, const Field& field, const Layout& layout, std::int64_t rows,
  Masks masks, LeafChunk& out)
{
  const Field& element = field.children[0];
  if (element.kind != ValueKind::Boolean && element.kind != ValueKind::Integer &&
    element.kind != ValueKind::Real)
  {
    cursor.error("it is a list of " + element.typeName +
      ", but only lists of booleans, integers and reals are read");
  }
  const FieldNode node = cursor.node(rows);
  addValidity(cursor, node, masks);
  std::vector<std::int64_t> offsets;
  std::int64_t count = 0;
  const bool fixed = layout.type == TFixedSizeList;
  if (fixed)
  {
    if (rows > std::numeric_limits<std::int64_t>::max() / field.fixedSize)
    {
      cursor.error("its element count overflows");
    }
    count = rows * field.fixedSize;
  }
  else
  {
    offsets = readOffsets(cursor, node, rows, layout.type == TList ? 4 : 8);
    count = offsets.back();
  }
  // The elements' buffers bound `count` before anything is allocated for it.
  LeafChunk elements;
  readPrimitive(cursor, element, count, {}, elements);
  if (fixed)
  {
    offsets.resize(static_cast<std::size_t>(rows) + 1);
    for (std::size_t i = 0; i < offsets.size(); ++i)
    {
      offsets[i] = static_cast<std::int64_t>(i) * field.fixedSize;
    }
  }
  out.present = combine(masks, rows);
  const auto& valid = out.present;
  const bool real = element.kind == ValueKind::Real;
  const auto n = static_cast<std::size_t>(rows);
  out.listOffsets.assign(n + 1, 0);
  std::int64_t at = 0;
  for (std::size_t i = 0; i < n; ++i)
  {
    if (valid[i])
    {
      if (real)
      {
        out.reals.insert(out.reals.end(), elements.reals.begin() + offsets[i],
          elements.reals.begin() + offsets[i + 1]);
      }
      else
      {
        out.integers.insert(out.integers.end(), elements.integers.begin() + offsets[i],
          elements.integers.begin() + offsets[i + 1]);
      }
      at += offsets[i + 1] - offsets[i];
    }
    out.listOffsets[i + 1] = at;
  }
}

std::string joinPath(const std::vector<std::string>& path)
{
  std::string text;
  for (const auto& name : path)
  {
    text += (text.empty() ? "" : ".") + name;
  }
  return text;
}

LeafChunk ArrowIpcReader::readLeaf(std::size_t chunk, const std::vector<std::string>& leafPath)
{
  const std::string column = "column " + quoted(joinPath(leafPath));
  if (chunk >= this->Batches.size())
  {
    this->failFile("has no record batch " + std::to_string(chunk) + " (it has " +
      std::to_string(this->Batches.size()) + ") to read " + column + " from");
  }
  if (leafPath.empty())
  {
    this->failFile("cannot read a column without a name");
  }

  // Resolve the path first (its errors do not depend on the batch).
  const std::vector<Field>* fields = &this->TheSchema.fields;
  std::vector<std::size_t> indices;
  const Field* leaf = nullptr;
  for (std::size_t d = 0; d < leafPath.size(); ++d)
  {
    if (d > 0 && leaf->kind != ValueKind::Struct)
    {
      this->failFile("has no " + column + ": " + quoted(leafPath[d - 1]) + " is a " +
        leaf->typeName + ", not a struct");
    }
    const auto found = std::find_if(
      fields->begin(), fields->end(), [&](const Field& f) { return f.name == leafPath[d]; });
    if (found == fields->end())
    {
      this->failFile("has no " + column);
    }
    indices.push_back(static_cast<std::size_t>(found - fields->begin()));
    leaf = &*found;
    fields = &leaf->children;
  }
  if (leaf->kind == ValueKind::Struct)
  {
    this->failFile("cannot read " + column + " as a leaf: it is a struct; name one of its members");
  }
  if (leaf->kind == ValueKind::Unsupported)
  {
    this->failFile("has " + column + " of type " + leaf->typeName + ", which is not supported");
  }

  const Batch& batch = this->Batches[chunk];
  BatchCursor cursor(*this, batch, this->Map,
    column + " of record batch " + std::to_string(chunk) + " (" + std::to_string(batch.rows) +
      " rows)");
  const std::int64_t rows = batch.rows;
  LeafChunk out;
  Masks masks;
  fields = &this->TheSchema.fields;
  const std::vector<Layout>* layouts = &this->Layouts;
  for (std::size_t d = 0; d < indices.size(); ++d)
  {
    for (std::size_t i = 0; i < indices[d]; ++i)
    {
      cursor.skip((*layouts)[i]);
    }
    const Field& f = (*fields)[indices[d]];
    const Layout& layout = (*layouts)[indices[d]];
    if (d + 1 < indices.size()) // a struct on the way: its nulls hide its members
    {
      addValidity(cursor, cursor.node(rows), masks);
      fields = &f.children;
      layouts = &layout.children;
      continue;
    }
    switch (f.kind)
    {
      case ValueKind::Binary:
      case ValueKind::String:
        readBinary(cursor, layout, rows, std::move(masks), out);
        break;
      case ValueKind::List:
        readList(cursor, f, layout, rows, std::move(masks), out);
        break;
      default:
        readPrimitive(cursor, f, rows, std::move(masks), out);
        break;
    }
  }
  out.rows = rows;
  return out;
}

} // namespace

std::unique_ptr<TableReader> openArrowIpc(const std::string& path)
{
  return std::make_unique<ArrowIpcReader>(path);
}

bool looksLikeArrowIpc(const std::string& path)
{
  try
  {
    std::ifstream in(path, std::ios::binary);
    std::uint8_t head[8] = {};
    if (!in.read(reinterpret_cast<char*>(head), sizeof head))
    {
      return false;
    }
    if (std::memcmp(head, "ARROW1", 6) == 0)
    {
      return true;
    }
    // A stream: (continuation marker) metadata length, then a Message whose
    // header is a Schema. The legacy form has no magic, so verify it.
    std::int32_t length = loadInt32(head);
    std::size_t prefix = 4;
    if (length == -1)
    {
      length = loadInt32(head + 4);
      prefix = 8;
    }
    if (length < 8 || length > (1 << 20))
    {
      return false;
    }
    std::vector<std::uint8_t> metadata(static_cast<std::size_t>(length));
    in.seekg(static_cast<std::streamoff>(prefix));
    if (!in.read(reinterpret_cast<char*>(metadata.data()), length))
    {
      return false;
    }
    Flatbuffer fb(metadata.data(), metadata.size());
    const auto* message =
      fb.root([](flatbuffers::Verifier& v, const FbTable* t) { return verifyMessage(v, t); });
    return message && message->GetField<std::uint8_t>(message::HeaderType, 0) == HeaderSchema;
  }
  catch (...)
  {
    return false;
  }
}

} // namespace columnar
} // namespace formats
} // namespace dualembed
