// Parquet reader (format spec: apache/parquet-format, parquet.thrift and
// Encodings.md), written for what DualEmbed reads: plain and dictionary pages
// (v1 and v2) of boolean, integer, real, string and binary columns, inside
// optional structs and 3-level (or legacy 2-level) lists of numbers, in any
// codec of Codecs.h. Everything else is refused with a sentence naming the file,
// the column and the feature. Only the footer stays in memory; a leaf of a row
// group is read from its column chunk's byte range with pread.
#include "Parquet.h"

#include "../FormatUtil.h"
#include "Codecs.h"
#include "Table.h"
#include "ThriftCompact.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <map>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace dualembed
{
namespace formats
{
namespace columnar
{
namespace parquet
{

using thrift::CompactReader;
using thrift::CompactType;
using thrift::FieldHeader;

namespace
{

// ---------------------------------------------------------------------------
// Footer (FileMetaData) parsing. Known fields of an unexpected type are errors;
// unknown fields are skipped, as Thrift readers do for newer writers.

void parseLogicalType(CompactReader& reader, SchemaElement& element)
{
  reader.beginStruct();
  FieldHeader field;
  while (reader.nextField(field))
  {
    if (field.type != CompactType::Struct)
    {
      reader.skip(field.type);
      continue;
    }
    element.logicalType = field.id <= Float16Logical ? field.id : std::int32_t(NoLogicalType);
    if (field.id == IntegerLogical)
    {
      reader.beginStruct();
      FieldHeader member;
      while (reader.nextField(member))
      {
        if (member.id == 1)
        {
          element.logicalIntegerBits = static_cast<int>(reader.readInteger(member.type));
        }
        else if (member.id == 2)
        {
          element.logicalIntegerSigned = reader.readBool(member);
        }
        else
        {
          reader.skip(member.type);
        }
      }
    }
    else
    {
      reader.skip(field.type);
    }
  }
}

SchemaElement parseSchemaElement(CompactReader& reader)
{
  SchemaElement element;
  reader.beginStruct();
  FieldHeader field;
  while (reader.nextField(field))
  {
    switch (field.id)
    {
      case 1:
        element.type = reader.readI32(field);
        break;
      case 2:
        element.typeLength = reader.readI32(field);
        break;
      case 3:
        element.repetition = reader.readI32(field);
        element.hasRepetition = true;
        break;
      case 4:
        reader.expect(field, CompactType::Binary);
        element.name = reader.readString();
        break;
      case 5:
        element.numChildren = reader.readI32(field);
        break;
      case 6:
        element.convertedType = reader.readI32(field);
        break;
      case 10:
        reader.expect(field, CompactType::Struct);
        parseLogicalType(reader, element);
        break;
      default:
        reader.skip(field.type);
    }
  }
  return element;
}

std::vector<std::string> parseStringList(CompactReader& reader, const FieldHeader& field)
{
  reader.expect(field, CompactType::List);
  const auto list = reader.readListHeader();
  if (list.elementType != CompactType::Binary)
  {
    reader.fail("a list of strings holds other values");
  }
  std::vector<std::string> strings;
  for (std::size_t i = 0; i < list.size; ++i)
  {
    strings.push_back(reader.readString());
  }
  return strings;
}

void parseColumnMetaData(CompactReader& reader, ColumnChunkMeta& chunk)
{
  chunk.hasMetaData = true;
  reader.beginStruct();
  FieldHeader field;
  while (reader.nextField(field))
  {
    switch (field.id)
    {
      case 1:
        chunk.type = reader.readI32(field);
        break;
      case 2:
      {
        reader.expect(field, CompactType::List);
        const auto list = reader.readListHeader();
        for (std::size_t i = 0; i < list.size; ++i)
        {
          const auto value = reader.readInteger(list.elementType);
          chunk.encodings.push_back(
            static_cast<std::int32_t>(std::clamp<std::int64_t>(value, -1, 1000)));
        }
        break;
      }
      case 3:
        chunk.pathInSchema = parseStringList(reader, field);
        break;
      case 4:
        chunk.codec = reader.readI32(field);
        break;
      case 5:
        chunk.numValues = reader.readI64(field);
        break;
      case 6:
        chunk.totalUncompressedSize = reader.readI64(field);
        break;
      case 7:
        chunk.totalCompressedSize = reader.readI64(field);
        break;
      case 9:
        chunk.dataPageOffset = reader.readI64(field);
        break;
      case 11:
        chunk.dictionaryPageOffset = reader.readI64(field);
        break;
      default:
        reader.skip(field.type);
    }
  }
}

ColumnChunkMeta parseColumnChunk(CompactReader& reader)
{
  ColumnChunkMeta chunk;
  reader.beginStruct();
  FieldHeader field;
  while (reader.nextField(field))
  {
    switch (field.id)
    {
      case 1:
        reader.expect(field, CompactType::Binary);
        chunk.filePath = reader.readString();
        break;
      case 3:
        reader.expect(field, CompactType::Struct);
        parseColumnMetaData(reader, chunk);
        break;
      case 8: // crypto_metadata
      case 9: // encrypted_column_metadata
        chunk.encrypted = true;
        reader.skip(field.type);
        break;
      default:
        reader.skip(field.type);
    }
  }
  return chunk;
}

RowGroupMeta parseRowGroup(CompactReader& reader)
{
  RowGroupMeta group;
  reader.beginStruct();
  FieldHeader field;
  while (reader.nextField(field))
  {
    if (field.id == 1)
    {
      reader.expect(field, CompactType::List);
      const auto list = reader.readListHeader();
      if (list.elementType != CompactType::Struct)
      {
        reader.fail("the column chunks of a row group are not structs");
      }
      for (std::size_t i = 0; i < list.size; ++i)
      {
        group.columns.push_back(parseColumnChunk(reader));
      }
    }
    else if (field.id == 3)
    {
      group.numRows = reader.readI64(field);
    }
    else
    {
      reader.skip(field.type);
    }
  }
  return group;
}

} // namespace

FileMetaData parseFileMetaData(
  const std::uint8_t* data, std::size_t size, const std::string& context)
{
  CompactReader reader(data, size, context);
  FileMetaData meta;
  reader.beginStruct();
  FieldHeader field;
  while (reader.nextField(field))
  {
    switch (field.id)
    {
      case 2:
      {
        reader.expect(field, CompactType::List);
        const auto list = reader.readListHeader();
        if (list.elementType != CompactType::Struct)
        {
          reader.fail("the schema is not a list of structs");
        }
        for (std::size_t i = 0; i < list.size; ++i)
        {
          meta.schema.push_back(parseSchemaElement(reader));
        }
        break;
      }
      case 3:
        meta.numRows = reader.readI64(field);
        break;
      case 4:
      {
        reader.expect(field, CompactType::List);
        const auto list = reader.readListHeader();
        if (list.elementType != CompactType::Struct)
        {
          reader.fail("the row groups are not a list of structs");
        }
        for (std::size_t i = 0; i < list.size; ++i)
        {
          meta.rowGroups.push_back(parseRowGroup(reader));
        }
        break;
      }
      case 5:
      {
        reader.expect(field, CompactType::List);
        const auto list = reader.readListHeader();
        if (list.elementType != CompactType::Struct)
        {
          reader.fail("the key-value metadata is not a list of structs");
        }
        for (std::size_t i = 0; i < list.size; ++i)
        {
          std::pair<std::string, std::string> entry;
          reader.beginStruct();
          FieldHeader member;
          while (reader.nextField(member))
          {
            if ((member.id == 1 || member.id == 2) && member.type == CompactType::Binary)
            {
              (member.id == 1 ? entry.first : entry.second) = reader.readString();
            }
            else
            {
              reader.skip(member.type);
            }
          }
          meta.keyValueMetadata.push_back(std::move(entry));
        }
        break;
      }
      case 8: // encryption_algorithm: a plaintext footer of an encrypted file
        meta.encrypted = true;
        reader.skip(field.type);
        break;
      default:
        reader.skip(field.type);
    }
  }
  return meta;
}

// ---------------------------------------------------------------------------
// RLE/bit-packed hybrid: runs whose header varint's low bit says bit-packed
// (groups of 8 values, LSB first) or RLE (a count and one value in
// ceil(bitWidth/8) little-endian bytes).

HybridDecoder::HybridDecoder(
  const std::uint8_t* data, std::size_t size, int bitWidth, const std::string* context)
  : Data(data)
  , Size(size)
  , BitWidth(bitWidth)
  , Context(context)
{
  if (bitWidth < 0 || bitWidth > 32)
  {
    detail::fail(*context + ": the bit width " + std::to_string(bitWidth) + " is above 32.");
  }
}

bool HybridDecoder::nextRun()
{
  std::uint64_t header = 0;
  int shift = 0;
  while (true)
  {
    if (this->Position >= this->Size)
    {
      return false;
    }
    const std::uint8_t byte = this->Data[this->Position++];
    if (shift > 35)
    {
      detail::fail(*this->Context + ": a run header is longer than 5 bytes.");
    }
    header |= std::uint64_t(byte & 0x7F) << shift;
    shift += 7;
    if ((byte & 0x80) == 0)
    {
      break;
    }
  }
  if (header & 1)
  {
    // Bit-packed groups; a last group cut short by the page end still yields
    // the values whose bits are present.
    const std::uint64_t groups = header >> 1;
    const std::uint64_t wanted = groups * 8;
    const std::uint64_t available =
      this->BitWidth == 0 ? wanted : (this->Size - this->Position) * 8 / this->BitWidth;
    this->Packed = true;
    this->Left = std::min(wanted, available);
    this->PackedStart = this->Position;
    this->PackedIndex = 0;
    const std::uint64_t bytes = std::min<std::uint64_t>(
      groups * static_cast<std::uint64_t>(this->BitWidth), this->Size - this->Position);
    this->Position += static_cast<std::size_t>(bytes);
  }
  else
  {
    const std::size_t valueBytes = static_cast<std::size_t>((this->BitWidth + 7) / 8);
    if (this->Size - this->Position < valueBytes)
    {
      return false;
    }
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < valueBytes; ++i)
    {
      value |= std::uint32_t(this->Data[this->Position + i]) << (8 * i);
    }
    this->Position += valueBytes;
    this->Packed = false;
    this->Left = header >> 1;
    this->Value = value;
  }
  return true;
}

void HybridDecoder::decode(std::uint32_t* out, std::size_t count)
{
  std::size_t done = 0;
  while (done < count)
  {
    if (this->Left == 0)
    {
      if (!this->nextRun())
      {
        detail::fail(*this->Context + ": the RLE/bit-packed data ends after " +
          std::to_string(done) + " of " + std::to_string(count) + " values.");
      }
      continue;
    }
    const std::size_t take =
      static_cast<std::size_t>(std::min<std::uint64_t>(this->Left, count - done));
    if (!this->Packed)
    {
      std::fill(out + done, out + done + take, this->Value);
    }
    else
    {
      const std::uint64_t mask =
        this->BitWidth == 32 ? 0xFFFFFFFFull : ((std::uint64_t(1) << this->BitWidth) - 1);
      for (std::size_t i = 0; i < take; ++i)
      {
        const std::uint64_t bit = (this->PackedIndex + i) * this->BitWidth;
        std::uint64_t word = 0;
        const std::size_t first = this->PackedStart + static_cast<std::size_t>(bit / 8);
        for (std::size_t b = 0; b < 5 && first + b < this->Size; ++b)
        {
          word |= std::uint64_t(this->Data[first + b]) << (8 * b);
        }
        out[done + i] = static_cast<std::uint32_t>((word >> (bit % 8)) & mask);
      }
      this->PackedIndex += take;
    }
    this->Left -= take;
    done += take;
  }
}

namespace
{

// ---------------------------------------------------------------------------
// Schema: the flat, depth-first SchemaElement list as a tree, then as Fields,
// with what reading each leaf takes (its column, levels and value type).

struct SchemaNode
{
  const SchemaElement* element = nullptr;
  std::vector<SchemaNode> children;
  int column = -1; ///< primitive nodes: their column chunk index
};

/// What readLeaf needs to know of one leaf Field.
struct LeafInfo
{
  std::string columnName;  ///< the Parquet path, dotted, for messages
  std::string unsupported; ///< non-empty: the type that is not read
  int column = -1;
  const SchemaElement* element = nullptr;  ///< the primitive holding the values
  ValueKind kind = ValueKind::Unsupported; ///< of the values (list elements for lists)
  bool isList = false;
  bool isUnsigned = false;
  int maxDefinition = 0;
  int maxRepetition = 0;
  int listDefinition = 0;    ///< lists: the level at which the list is not null
  int elementDefinition = 0; ///< lists: the level at which an element exists
};

bool isLogical(const SchemaElement& e, LogicalTypeId logical, int converted)
{
  return e.logicalType == logical || (converted >= 0 && e.convertedType == converted);
}

/// A primitive's Field (name, kind, width), without nullability.
Field primitiveField(const SchemaElement& e, bool& isUnsigned)
{
  Field field;
  field.name = e.name;
  isUnsigned = false;
  const bool decimal = isLogical(e, DecimalLogical, 5);
  auto unsupported = [&](const std::string& name) {
    field.kind = ValueKind::Unsupported;
    field.typeName = name;
    return field;
  };
  switch (e.type)
  {
    case Boolean:
      field.kind = ValueKind::Boolean;
      field.typeName = "bool";
      return field;
    case Int32:
    case Int64:
    {
      if (decimal)
      {
        return unsupported("decimal");
      }
      if (isLogical(e, DateLogical, 6))
      {
        return unsupported("date");
      }
      if (e.logicalType == TimeLogical || e.convertedType == 7 || e.convertedType == 8)
      {
        return unsupported("time");
      }
      if (e.logicalType == TimestampLogical || e.convertedType == 9 || e.convertedType == 10)
      {
        return unsupported("timestamp");
      }
      if (e.convertedType == 21)
      {
        return unsupported("interval");
      }
      int bits = e.type == Int32 ? 32 : 64;
      bool isSigned = true;
      if (e.logicalType == IntegerLogical)
      {
        bits = e.logicalIntegerBits;
        isSigned = e.logicalIntegerSigned;
      }
      else if (e.convertedType >= 11 && e.convertedType <= 18)
      {
        static const int convertedBits[] = { 8, 16, 32, 64, 8, 16, 32, 64 };
        bits = convertedBits[e.convertedType - 11];
        isSigned = e.convertedType >= 15;
      }
      if ((bits != 8 && bits != 16 && bits != 32 && bits != 64) ||
        bits > (e.type == Int32 ? 32 : 64))
      {
        return unsupported("int" + std::to_string(bits));
      }
      field.kind = ValueKind::Integer;
      field.bitWidth = bits;
      field.isSigned = isSigned;
      field.typeName = (isSigned ? "int" : "uint") + std::to_string(bits);
      isUnsigned = !isSigned;
      return field;
    }
    case Int96:
      return unsupported("timestamp (INT96)");
    case Float:
    case Double:
      field.kind = ValueKind::Real;
      field.bitWidth = e.type == Float ? 32 : 64;
      field.typeName = e.type == Float ? "float" : "double";
      return field;
    case ByteArray:
      if (decimal)
      {
        return unsupported("decimal");
      }
      if (isLogical(e, StringLogical, 0) || isLogical(e, EnumLogical, 4) ||
        isLogical(e, JsonLogical, 19))
      {
        field.kind = ValueKind::String;
        field.typeName = "string";
        return field;
      }
      field.kind = ValueKind::Binary;
      field.typeName = "binary";
      return field;
    case FixedLenByteArray:
      if (e.logicalType == Float16Logical && e.typeLength == 2)
      {
        field.kind = ValueKind::Real;
        field.bitWidth = 16;
        field.typeName = "float16";
        return field;
      }
      if (decimal)
      {
        return unsupported("decimal");
      }
      return unsupported("fixed_len_byte_array[" + std::to_string(e.typeLength) + "]");
    default:
      return unsupported("physical type " + std::to_string(e.type));
  }
}

class SchemaBuilder
{
public:
  SchemaBuilder(const std::vector<SchemaElement>& elements, const std::string& context)
    : Elements(elements)
    , Context(context)
  {
  }

  SchemaNode buildTree()
  {
    if (this->Elements.empty())
    {
      detail::fail(this->Context + ": the schema is empty.");
    }
    std::size_t next = 0;
    SchemaNode root = this->buildNode(next, 0);
    if (next != this->Elements.size())
    {
      detail::fail(this->Context + ": the schema holds " +
        std::to_string(this->Elements.size() - next) + " elements outside its tree.");
    }
    if (root.element->type >= 0)
    {
      detail::fail(this->Context + ": the schema root is not a group.");
    }
    return root;
  }

  int columns() const { return this->Columns; }

  /// The Field of `node` (a member of a struct or the root); registers its leaves.
  Field convert(const SchemaNode& node, int definition, int repetition,
    std::vector<std::string>& names, const std::string& dotted, bool registerLeaves)
  {
    const SchemaElement& e = *node.element;
    Field field;
    field.name = e.name;
    field.nullable = e.repetition != Required;
    names.push_back(e.name);
    const std::string columnName = dotted.empty() ? e.name : dotted + "." + e.name;
    if (e.repetition == Optional)
    {
      ++definition;
    }
    auto leaf = [&](LeafInfo info) {
      info.columnName = columnName;
      if (registerLeaves)
      {
        this->Leaves[names] = std::move(info);
      }
    };
    auto unsupported = [&](const std::string& typeName) {
      field.kind = ValueKind::Unsupported;
      field.typeName = typeName;
      field.children.clear();
      LeafInfo info;
      info.unsupported = typeName;
      leaf(info);
    };

    if (e.repetition == Repeated)
    {
      unsupported("repeated field outside a list");
    }
    else if (e.type >= 0)
    {
      LeafInfo info;
      field = [&] {
        Field f = primitiveField(e, info.isUnsigned);
        f.nullable = field.nullable;
        return f;
      }();
      if (field.kind == ValueKind::Unsupported)
      {
        info.unsupported = field.typeName;
      }
      info.column = node.column;
      info.element = &e;
      info.kind = field.kind;
      info.maxDefinition = definition;
      info.maxRepetition = repetition;
      leaf(info);
    }
    else if (isLogical(e, MapLogical, 1) || e.convertedType == 2)
    {
      unsupported("map");
    }
    else if (isLogical(e, ListLogical, 3))
    {
      this->convertList(node, field, definition, repetition, leaf, unsupported);
    }
    else
    {
      field.kind = ValueKind::Struct;
      field.typeName = "struct";
      for (const auto& child : node.children)
      {
        field.children.push_back(
          this->convert(child, definition, repetition, names, columnName, registerLeaves));
      }
    }
    names.pop_back();
    return field;
  }

  std::map<std::vector<std::string>, LeafInfo> Leaves;

private:
  SchemaNode buildNode(std::size_t& next, int depth)
  {
    if (depth > 64)
    {
      detail::fail(this->Context + ": the schema is nested deeper than 64 levels.");
    }
    // Earlier siblings' descendants may have used the elements a count promised.
    if (next >= this->Elements.size())
    {
      detail::fail(this->Context + ": the schema ends inside a group.");
    }
    SchemaNode node;
    node.element = &this->Elements[next++];
    if (node.element->type >= 0)
    {
      node.column = this->Columns++;
      return node;
    }
    const std::int32_t count = node.element->numChildren;
    if (count < 0 || static_cast<std::size_t>(count) > this->Elements.size() - next)
    {
      detail::fail(this->Context + ": the schema group " + detail::quoted(node.element->name) +
        " claims " + std::to_string(count) + " children, more than the schema holds.");
    }
    for (std::int32_t i = 0; i < count; ++i)
    {
      node.children.push_back(this->buildNode(next, depth + 1));
    }
    return node;
  }

  template <typename LeafFn, typename UnsupportedFn>
  void convertList(const SchemaNode& node, Field& field, int definition, int repetition,
    LeafFn& leaf, UnsupportedFn& unsupported)
  {
    if (node.children.size() != 1 || node.children[0].element->repetition != Repeated)
    {
      unsupported("list of an unknown layout");
      return;
    }
    // The repeated level: a primitive (legacy 2-level list of required elements),
    // a group of one member (3-level: its member is the element), or a group
    // that is itself the element (legacy "array" / "<name>_tuple" groups).
    const SchemaNode& repeated = node.children[0];
    const SchemaNode* elementNode = &repeated;
    int elementDefinition = definition + 1;
    int maxDefinition = elementDefinition;
    bool elementIsRepeatedNode = true;
    const std::string& repeatedName = repeated.element->name;
    if (repeated.element->type < 0 && repeated.children.size() == 1 && repeatedName != "array" &&
      repeatedName != node.element->name + "_tuple")
    {
      elementNode = &repeated.children[0];
      elementIsRepeatedNode = false;
    }
    // The element's Field, for the schema (its leaves are never read alone).
    SchemaElement asRequired = *elementNode->element;
    if (elementIsRepeatedNode)
    {
      asRequired.repetition = Required;
    }
    SchemaNode shown = *elementNode;
    shown.element = &asRequired;
    std::vector<std::string> scratchNames;
    Field element = this->convert(shown, 0, 0, scratchNames, "", false);
    if (!elementIsRepeatedNode && elementNode->element->repetition == Optional)
    {
      ++maxDefinition;
    }
    field.kind = ValueKind::List;
    field.typeName = "list<" + element.typeName + ">";
    field.children = { element };
    const bool numeric = element.kind == ValueKind::Boolean || element.kind == ValueKind::Integer ||
      element.kind == ValueKind::Real;
    if (!numeric || elementNode->element->type < 0 ||
      (!elementIsRepeatedNode && elementNode->element->repetition == Repeated))
    {
      LeafInfo info;
      info.unsupported = field.typeName;
      leaf(info);
      return;
    }
    LeafInfo info;
    primitiveField(*elementNode->element, info.isUnsigned);
    info.column = elementNode->column;
    info.element = elementNode->element;
    info.kind = element.kind;
    info.isList = true;
    info.maxDefinition = maxDefinition;
    info.maxRepetition = repetition + 1;
    info.listDefinition = definition;
    info.elementDefinition = elementDefinition;
    leaf(info);
  }

  const std::vector<SchemaElement>& Elements;
  const std::string& Context;
  int Columns = 0;
};

// ---------------------------------------------------------------------------
// Pages.

enum PageType
{
  DataPage = 0,
  IndexPage = 1,
  DictionaryPage = 2,
  DataPageV2 = 3
};

enum Encoding
{
  Plain = 0,
  PlainDictionary = 2,
  Rle = 3,
  BitPacked = 4,
  RleDictionary = 8
};

const char* encodingName(std::int32_t encoding)
{
  switch (encoding)
  {
    case 0:
      return "PLAIN";
    case 2:
      return "PLAIN_DICTIONARY";
    case 3:
      return "RLE";
    case 4:
      return "BIT_PACKED";
    case 5:
      return "DELTA_BINARY_PACKED";
    case 6:
      return "DELTA_LENGTH_BYTE_ARRAY";
    case 7:
      return "DELTA_BYTE_ARRAY";
    case 8:
      return "RLE_DICTIONARY";
    case 9:
      return "BYTE_STREAM_SPLIT";
    default:
      return nullptr;
  }
}

std::string encodingText(std::int32_t encoding)
{
  const char* name = encodingName(encoding);
  return name ? std::string(name) : "unknown (" + std::to_string(encoding) + ")";
}

struct PageHeader
{
  std::int32_t type = -1;
  std::int32_t uncompressedSize = -1;
  std::int32_t compressedSize = -1;
  std::int32_t numValues = -1;
  std::int32_t encoding = Plain;
  std::int32_t definitionEncoding = Rle;
  std::int32_t repetitionEncoding = Rle;
  std::int32_t definitionBytes = 0; // v2
  std::int32_t repetitionBytes = 0; // v2
  bool isCompressed = true;         // v2
};

PageHeader parsePageHeader(CompactReader& reader)
{
  PageHeader page;
  reader.beginStruct();
  FieldHeader field;
  while (reader.nextField(field))
  {
    switch (field.id)
    {
      case 1:
        page.type = reader.readI32(field);
        break;
      case 2:
        page.uncompressedSize = reader.readI32(field);
        break;
      case 3:
        page.compressedSize = reader.readI32(field);
        break;
      case 5:
      case 7:
      case 8:
      {
        // DataPageHeader, DictionaryPageHeader and DataPageHeaderV2 share num_values (1)
        // and encoding (v1 and dictionary: 2, v2: 4).
        const int kind = field.id;
        reader.expect(field, CompactType::Struct);
        reader.beginStruct();
        FieldHeader member;
        while (reader.nextField(member))
        {
          if (member.id == 1)
          {
            page.numValues = reader.readI32(member);
          }
          else if (member.id == 2 && kind != 8)
          {
            page.encoding = reader.readI32(member);
          }
          else if (member.id == 3 && kind == 5)
          {
            page.definitionEncoding = reader.readI32(member);
          }
          else if (member.id == 4 && kind == 5)
          {
            page.repetitionEncoding = reader.readI32(member);
          }
          else if (member.id == 4 && kind == 8)
          {
            page.encoding = reader.readI32(member);
          }
          else if (member.id == 5 && kind == 8)
          {
            page.definitionBytes = reader.readI32(member);
          }
          else if (member.id == 6 && kind == 8)
          {
            page.repetitionBytes = reader.readI32(member);
          }
          else if (member.id == 7 && kind == 8)
          {
            page.isCompressed = reader.readBool(member);
          }
          else
          {
            reader.skip(member.type);
          }
        }
        break;
      }
      default:
        reader.skip(field.type);
    }
  }
  return page;
}

int bitWidthOf(int maxLevel)
{
  int width = 0;
  while (maxLevel >> width)
  {
    ++width;
  }
  return width;
}

std::uint32_t readLe32(const std::uint8_t* p)
{
  return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) |
    (std::uint32_t(p[3]) << 24);
}

std::uint64_t readLe64(const std::uint8_t* p)
{
  return std::uint64_t(readLe32(p)) | (std::uint64_t(readLe32(p + 4)) << 32);
}

double halfToDouble(std::uint16_t half)
{
  const int exponent = (half >> 10) & 0x1F;
  const int mantissa = half & 0x3FF;
  const double sign = (half & 0x8000) ? -1.0 : 1.0;
  if (exponent == 0)
  {
    return sign * std::ldexp(mantissa, -24);
  }
  if (exponent == 31)
  {
    return mantissa ? std::numeric_limits<double>::quiet_NaN()
                    : sign * std::numeric_limits<double>::infinity();
  }
  return sign * std::ldexp(mantissa + 1024, exponent - 25);
}

/// Decoded values of one page or of the dictionary, in the form LeafChunk keeps.
struct Values
{
  std::vector<std::int64_t> integers;
  std::vector<double> reals;
  std::vector<std::int64_t> offsets{ 0 };
  std::vector<std::uint8_t> bytes;
  std::size_t size = 0;
};

/// A chunk holds at most this many values per byte of its byte range, plus a
/// floor: all-null pages compress levels by RLE, but a footer claiming billions
/// of rows over a few bytes must not make the reader allocate for them.
constexpr std::int64_t kValuesPerChunkByte = 1024;
constexpr std::int64_t kValuesFloor = std::int64_t(1) << 20;
constexpr std::int64_t kMaxPageBytes = std::int64_t(1) << 30;

/// Memory a reader keeps from one chunk to the next: fresh pages of memory for
/// every chunk (page faults) cost more than decompressing and decoding it.
struct Buffers
{
  std::vector<std::uint8_t> chunkBytes;
  std::vector<std::uint8_t> pageScratch;
  Values pageValues;
  Values dictionary;
};

/// Reads one leaf of one row group: the column chunk's pages, in order.
class ChunkDecoder
{
public:
  ChunkDecoder(const LeafInfo& leaf, const ColumnChunkMeta& meta, Codec codec,
    const std::string& file, std::size_t rowGroup, Buffers& buffers, LeafChunk& out)
    : Leaf(leaf)
    , Meta(meta)
    , TheCodec(codec)
    , File(file)
    , Out(out)
    , Dictionary(buffers.dictionary)
    , Scratch(buffers.pageScratch)
    , PageValues(buffers.pageValues)
  {
    this->Where = "The Parquet file " + detail::quoted(file) + " is damaged in column " +
      detail::quoted(leaf.columnName) + " (row group " + std::to_string(rowGroup) + ")";
    // `out` keeps the memory of what it held before: clear, not reallocate.
    out.rows = 0;
    out.present.clear();
    out.integers.clear();
    out.reals.clear();
    out.offsets.assign(1, 0);
    out.bytes.clear();
    out.listOffsets.assign(1, 0);
  }

  void decode(const std::uint8_t* data, std::size_t size, std::int64_t expectedRows)
  {
    const std::int64_t cap = kValuesFloor + kValuesPerChunkByte * static_cast<std::int64_t>(size);
    if (this->Meta.numValues < 0 || this->Meta.numValues > cap)
    {
      this->damaged("its chunk claims " + std::to_string(this->Meta.numValues) +
        " values, which its " + detail::bytesText(static_cast<std::int64_t>(size)) +
        " cannot hold");
    }
    if (this->Leaf.kind == ValueKind::Binary || this->Leaf.kind == ValueKind::String)
    {
      // One allocation for the chunk's values, bounded by what its bytes can
      // expand to: a footer's sizes are not trusted.
      const std::int64_t bound = std::min<std::int64_t>(
        kMaxPageBytes, 64 * static_cast<std::int64_t>(size) + (std::int64_t(1) << 20));
      this->Out.bytes.reserve(static_cast<std::size_t>(
        std::clamp<std::int64_t>(this->Meta.totalUncompressedSize, 0, bound)));
    }
    std::size_t position = 0;
    while (this->ValuesDone < this->Meta.numValues)
    {
      if (position >= size)
      {
        this->damaged("its pages end after " + std::to_string(this->ValuesDone) + " of " +
          std::to_string(this->Meta.numValues) + " values");
      }
      CompactReader reader(data + position, size - position, this->Where + ": a page header");
      const PageHeader page = parsePageHeader(reader);
      position += reader.position();
      if (page.compressedSize < 0 ||
        static_cast<std::size_t>(page.compressedSize) > size - position)
      {
        this->damaged("a page of " + std::to_string(page.compressedSize) +
          " bytes does not fit in the " + std::to_string(size - position) + " bytes left");
      }
      const std::uint8_t* body = data + position;
      position += static_cast<std::size_t>(page.compressedSize);
      switch (page.type)
      {
        case DictionaryPage:
          this->readDictionary(page, body);
          break;
        case DataPage:
        case DataPageV2:
          this->readDataPage(page, body);
          break;
        default:
          break; // index pages and page types of newer writers
      }
    }
    this->Out.rows = this->Rows;
    if (this->Rows != expectedRows)
    {
      this->damaged("it holds " + std::to_string(this->Rows) + " rows where the row group has " +
        std::to_string(expectedRows));
    }
    if (this->Leaf.isList)
    {
      this->Out.listOffsets.push_back(this->Elements);
    }
    else
    {
      this->Out.listOffsets.clear();
    }
    if (this->Leaf.kind != ValueKind::Binary && this->Leaf.kind != ValueKind::String)
    {
      this->Out.offsets.clear();
    }
  }

private:
  [[noreturn]] void damaged(const std::string& reason) const
  {
    detail::fail(this->Where + ": " + reason + ".");
  }

  [[noreturn]] void unsupportedEncoding(std::int32_t encoding) const
  {
    detail::fail("The Parquet file " + detail::quoted(this->File) + " uses the " +
      encodingText(encoding) + " encoding in column " + detail::quoted(this->Leaf.columnName) +
      ", which DualEmbed does not read.");
  }

  /// The fixed size of one plain value (0: variable, BYTE_ARRAY).
  std::size_t valueWidth() const
  {
    switch (this->Leaf.element->type)
    {
      case Boolean:
        return 1; // bits, but bounds below count bytes generously
      case Int32:
      case Float:
        return 4;
      case Int64:
      case Double:
        return 8;
      case FixedLenByteArray:
        return static_cast<std::size_t>(std::max(this->Leaf.element->typeLength, 0));
      default:
        return 0;
    }
  }

  /// The page's decompressed bytes: `body` itself or `Scratch`.
  const std::uint8_t* inflate(const std::uint8_t* body, std::size_t compressedSize,
    std::size_t uncompressedSize, bool compressed)
  {
    if (uncompressedSize == 0)
    {
      return body; // an empty page (of no values, or all nulls in v2)
    }
    if (!compressed || this->TheCodec == Codec::Uncompressed)
    {
      if (uncompressedSize != compressedSize)
      {
        this->damaged("an uncompressed page of " + detail::bytesText(compressedSize) +
          " declares " + detail::bytesText(uncompressedSize));
      }
      return body;
    }
    // One buffer for every page the reader decompresses: fresh pages of memory
    // for each (page faults) cost more than the decompression itself.
    if (this->Scratch.size() < uncompressedSize)
    {
      this->Scratch.resize(uncompressedSize);
    }
    decompress(this->TheCodec, body, compressedSize, this->Scratch.data(), uncompressedSize,
      "A page of column " + detail::quoted(this->Leaf.columnName) + " in the Parquet file " +
        detail::quoted(this->File));
    return this->Scratch.data();
  }

  void checkPageSizes(const PageHeader& page, bool dictionary)
  {
    if (page.numValues < 0)
    {
      this->damaged("a page holds " + std::to_string(page.numValues) + " values");
    }
    if (page.uncompressedSize < 0 || page.uncompressedSize > kMaxPageBytes)
    {
      this->damaged("a page declares " + std::to_string(page.uncompressedSize) +
        " uncompressed bytes (at most 1 GiB is read)");
    }
    // Fixed-width values bound a page: the values and, per value, at most a few
    // bytes of levels (dictionary pages: the values alone).
    const std::size_t width = this->valueWidth();
    if (width > 0 && this->Leaf.element->type != ByteArray)
    {
      const std::int64_t bound = 1024 +
        static_cast<std::int64_t>(page.numValues) *
          (static_cast<std::int64_t>(width) + (dictionary ? 0 : 8));
      if (page.uncompressedSize > bound)
      {
        this->damaged("a page of " + std::to_string(page.numValues) + " values declares " +
          std::to_string(page.uncompressedSize) + " uncompressed bytes");
      }
    }
  }

  void readDictionary(const PageHeader& page, const std::uint8_t* body)
  {
    if (this->HasDictionary)
    {
      this->damaged("it holds a second dictionary page");
    }
    this->checkPageSizes(page, true);
    if (page.encoding != Plain && page.encoding != PlainDictionary)
    {
      this->unsupportedEncoding(page.encoding);
    }
    const std::uint8_t* data = this->inflate(body, static_cast<std::size_t>(page.compressedSize),
      static_cast<std::size_t>(page.uncompressedSize), true);
    std::size_t position = 0;
    this->Dictionary.integers.clear(); // the reader's, reused from chunk to chunk
    this->Dictionary.reals.clear();
    this->Dictionary.offsets.assign(1, 0);
    this->Dictionary.bytes.clear();
    this->Dictionary.size = 0;
    this->decodePlain(data, static_cast<std::size_t>(page.uncompressedSize), position,
      static_cast<std::size_t>(page.numValues), this->Dictionary);
    this->HasDictionary = true;
  }

  /// Levels of a v1 page (length-prefixed RLE, or the legacy BIT_PACKED) or of a
  /// v2 page (`length` given, RLE); checked against `maxLevel`.
  void readLevels(const std::uint8_t* data, std::size_t size, std::size_t& position, int maxLevel,
    std::int32_t encoding, std::int64_t v2Length, std::size_t count,
    std::vector<std::uint32_t>& levels)
  {
    levels.assign(count, 0);
    if (maxLevel == 0)
    {
      // Some v2 writers store levels (all 0) even for a column that has none.
      if (v2Length > 0)
      {
        if (static_cast<std::size_t>(v2Length) > size - position)
        {
          this->damaged("a page ends inside its levels");
        }
        position += static_cast<std::size_t>(v2Length);
      }
      return;
    }
    const int width = bitWidthOf(maxLevel);
    const std::string what = this->Where + ": the levels of a page";
    std::size_t length = 0;
    if (v2Length >= 0)
    {
      length = static_cast<std::size_t>(v2Length);
    }
    else if (encoding == Rle)
    {
      if (size - position < 4)
      {
        this->damaged("a page ends inside its levels");
      }
      length = readLe32(data + position);
      position += 4;
    }
    else if (encoding == BitPacked)
    {
      // The deprecated encoding: MSB-first bits, no length prefix.
      const std::uint64_t bits = static_cast<std::uint64_t>(count) * width;
      length = static_cast<std::size_t>((bits + 7) / 8);
      if (length > size - position)
      {
        this->damaged("a page ends inside its levels");
      }
      for (std::size_t i = 0; i < count; ++i)
      {
        std::uint32_t value = 0;
        for (int b = 0; b < width; ++b)
        {
          const std::uint64_t bit = static_cast<std::uint64_t>(i) * width + b;
          const std::uint8_t byte = data[position + bit / 8];
          value = (value << 1) | ((byte >> (7 - bit % 8)) & 1);
        }
        levels[i] = value;
      }
      position += length;
      this->checkLevels(levels, maxLevel);
      return;
    }
    else
    {
      this->unsupportedEncoding(encoding);
    }
    if (length > size - position)
    {
      this->damaged("levels of " + detail::bytesText(static_cast<std::int64_t>(length)) +
        " do not fit in their page");
    }
    HybridDecoder decoder(data + position, length, width, &what);
    decoder.decode(levels.data(), count);
    position += length;
    this->checkLevels(levels, maxLevel);
  }

  void checkLevels(const std::vector<std::uint32_t>& levels, int maxLevel)
  {
    for (const std::uint32_t level : levels)
    {
      if (level > static_cast<std::uint32_t>(maxLevel))
      {
        this->damaged("a level of " + std::to_string(level) + " is above its maximum, " +
          std::to_string(maxLevel));
      }
    }
  }

  void readDataPage(const PageHeader& page, const std::uint8_t* body)
  {
    this->checkPageSizes(page, false);
    if (page.numValues > this->Meta.numValues - this->ValuesDone)
    {
      this->damaged(
        "its pages hold more values than its chunk's " + std::to_string(this->Meta.numValues));
    }
    const auto count = static_cast<std::size_t>(page.numValues);
    const std::uint8_t* data = nullptr;
    std::size_t size = 0;
    std::size_t position = 0;
    if (page.type == DataPage)
    {
      size = static_cast<std::size_t>(page.uncompressedSize);
      data = this->inflate(body, static_cast<std::size_t>(page.compressedSize), size, true);
      this->readLevels(data, size, position, this->Leaf.maxRepetition, page.repetitionEncoding, -1,
        count, this->Repetition);
      this->readLevels(data, size, position, this->Leaf.maxDefinition, page.definitionEncoding, -1,
        count, this->Definition);
    }
    else
    {
      const std::int64_t levelBytes =
        static_cast<std::int64_t>(page.repetitionBytes) + page.definitionBytes;
      if (page.repetitionBytes < 0 || page.definitionBytes < 0 ||
        levelBytes > page.compressedSize || levelBytes > page.uncompressedSize)
      {
        this->damaged("a v2 page's levels are larger than the page");
      }
      std::size_t levelPosition = 0;
      const std::size_t levelSize = static_cast<std::size_t>(levelBytes);
      this->readLevels(body, levelSize, levelPosition, this->Leaf.maxRepetition, Rle,
        page.repetitionBytes, count, this->Repetition);
      this->readLevels(body, levelSize, levelPosition, this->Leaf.maxDefinition, Rle,
        page.definitionBytes, count, this->Definition);
      size = static_cast<std::size_t>(page.uncompressedSize - levelBytes);
      data = this->inflate(body + levelSize,
        static_cast<std::size_t>(page.compressedSize - levelBytes), size, page.isCompressed);
    }

    std::size_t present = 0;
    for (const std::uint32_t level : this->Definition)
    {
      present += level == static_cast<std::uint32_t>(this->Leaf.maxDefinition);
    }
    Values& values = this->PageValues; // reused from page to page
    values.integers.clear();
    values.reals.clear();
    values.offsets.assign(1, 0);
    values.bytes.clear();
    values.size = 0;
    if (page.encoding == Plain)
    {
      this->decodePlain(data, size, position, present, values);
    }
    else if (page.encoding == PlainDictionary || page.encoding == RleDictionary)
    {
      this->decodeDictionary(data, size, position, present, values);
    }
    else if (page.encoding == Rle && this->Leaf.element->type == Boolean)
    {
      this->decodeRleBooleans(data, size, position, present, values);
    }
    else
    {
      this->unsupportedEncoding(page.encoding);
    }
    this->assemble(values);
    this->ValuesDone += page.numValues;
  }

  void decodePlain(const std::uint8_t* data, std::size_t size, std::size_t& position,
    std::size_t count, Values& out)
  {
    const std::size_t left = size - position;
    const std::uint8_t* p = data + position;
    const int type = this->Leaf.element->type;
    auto need = [&](std::uint64_t bytes) {
      if (bytes > left)
      {
        this->damaged(std::to_string(count) + " plain values need " + std::to_string(bytes) +
          " bytes, the page holds " + std::to_string(left));
      }
    };
    out.size = count;
    switch (type)
    {
      case Boolean:
        need((static_cast<std::uint64_t>(count) + 7) / 8);
        out.integers.resize(count);
        for (std::size_t i = 0; i < count; ++i)
        {
          out.integers[i] = (p[i / 8] >> (i % 8)) & 1;
        }
        position += (count + 7) / 8;
        return;
      case Int32:
        need(static_cast<std::uint64_t>(count) * 4);
        out.integers.resize(count);
        for (std::size_t i = 0; i < count; ++i)
        {
          const std::uint32_t raw = readLe32(p + 4 * i);
          out.integers[i] = this->Leaf.isUnsigned ? std::int64_t(raw)
                                                  : std::int64_t(static_cast<std::int32_t>(raw));
        }
        position += count * 4;
        return;
      case Int64:
        need(static_cast<std::uint64_t>(count) * 8);
        out.integers.resize(count);
        for (std::size_t i = 0; i < count; ++i)
        {
          out.integers[i] = static_cast<std::int64_t>(readLe64(p + 8 * i));
        }
        position += count * 8;
        return;
      case Float:
        need(static_cast<std::uint64_t>(count) * 4);
        out.reals.resize(count);
        for (std::size_t i = 0; i < count; ++i)
        {
          const std::uint32_t raw = readLe32(p + 4 * i);
          float value;
          std::memcpy(&value, &raw, 4);
          out.reals[i] = value;
        }
        position += count * 4;
        return;
      case Double:
        need(static_cast<std::uint64_t>(count) * 8);
        out.reals.resize(count);
        for (std::size_t i = 0; i < count; ++i)
        {
          const std::uint64_t raw = readLe64(p + 8 * i);
          std::memcpy(&out.reals[i], &raw, 8);
        }
        position += count * 8;
        return;
      case FixedLenByteArray: // FLOAT16 only (others are refused before)
        need(static_cast<std::uint64_t>(count) * 2);
        out.reals.resize(count);
        for (std::size_t i = 0; i < count; ++i)
        {
          out.reals[i] = halfToDouble(static_cast<std::uint16_t>(p[2 * i] | (p[2 * i + 1] << 8)));
        }
        position += count * 2;
        return;
      case ByteArray:
      {
        need(static_cast<std::uint64_t>(count) * 4);
        out.offsets.reserve(count + 1);
        std::size_t at = 0;
        for (std::size_t i = 0; i < count; ++i)
        {
          need(at + 4);
          const std::uint32_t length = readLe32(p + at);
          at += 4;
          need(static_cast<std::uint64_t>(at) + length);
          out.bytes.insert(out.bytes.end(), p + at, p + at + length);
          at += length;
          out.offsets.push_back(static_cast<std::int64_t>(out.bytes.size()));
        }
        position += at;
        return;
      }
      default:
        this->damaged("its values have an unreadable physical type");
    }
  }

  void decodeDictionary(const std::uint8_t* data, std::size_t size, std::size_t& position,
    std::size_t count, Values& out)
  {
    if (!this->HasDictionary)
    {
      this->damaged("a dictionary-encoded page comes without a dictionary page");
    }
    out.size = count;
    if (count == 0)
    {
      return;
    }
    if (position >= size)
    {
      this->damaged("a dictionary-encoded page has no bit width");
    }
    const int width = data[position++];
    const std::string what = this->Where + ": the dictionary indices of a page";
    if (width > 32)
    {
      this->damaged("its dictionary indices are " + std::to_string(width) + " bits wide");
    }
    std::vector<std::uint32_t> indices(count);
    HybridDecoder decoder(data + position, size - position, width, &what);
    decoder.decode(indices.data(), count);
    position = size;
    const Values& dictionary = this->Dictionary;
    for (const std::uint32_t index : indices)
    {
      if (index >= dictionary.size)
      {
        this->damaged("a dictionary index of " + std::to_string(index) +
          " is beyond its dictionary of " + std::to_string(dictionary.size) + " values");
      }
    }
    if (!dictionary.integers.empty() || this->usesIntegers())
    {
      out.integers.reserve(count);
      for (const std::uint32_t index : indices)
      {
        out.integers.push_back(dictionary.integers[index]);
      }
    }
    else if (this->Leaf.kind == ValueKind::Real)
    {
      out.reals.reserve(count);
      for (const std::uint32_t index : indices)
      {
        out.reals.push_back(dictionary.reals[index]);
      }
    }
    else
    {
      for (const std::uint32_t index : indices)
      {
        const auto begin = dictionary.offsets[index];
        const auto end = dictionary.offsets[index + 1];
        out.bytes.insert(
          out.bytes.end(), dictionary.bytes.begin() + begin, dictionary.bytes.begin() + end);
        out.offsets.push_back(static_cast<std::int64_t>(out.bytes.size()));
      }
    }
  }

  /// RLE booleans (v2 writers): a 4-byte length, then the hybrid at bit width 1.
  void decodeRleBooleans(const std::uint8_t* data, std::size_t size, std::size_t& position,
    std::size_t count, Values& out)
  {
    if (size - position < 4)
    {
      this->damaged("RLE booleans have no length");
    }
    const std::size_t length = readLe32(data + position);
    position += 4;
    if (length > size - position)
    {
      this->damaged("RLE booleans are longer than their page");
    }
    const std::string what = this->Where + ": the RLE booleans of a page";
    std::vector<std::uint32_t> bits(count);
    HybridDecoder decoder(data + position, length, 1, &what);
    decoder.decode(bits.data(), count);
    position += length;
    out.size = count;
    out.integers.assign(bits.begin(), bits.end());
  }

  bool usesIntegers() const
  {
    return this->Leaf.kind == ValueKind::Integer || this->Leaf.kind == ValueKind::Boolean;
  }

  /// Levels and values of one page into rows (and list elements) of Out.
  void assemble(const Values& values)
  {
    const auto maxDefinition = static_cast<std::uint32_t>(this->Leaf.maxDefinition);
    std::size_t next = 0;
    const bool integers = this->usesIntegers();
    const bool reals = this->Leaf.kind == ValueKind::Real;
    auto appendValue = [&](bool isPresent) {
      if (integers)
      {
        this->Out.integers.push_back(isPresent ? values.integers[next] : 0);
      }
      else if (reals)
      {
        this->Out.reals.push_back(
          isPresent ? values.reals[next] : std::numeric_limits<double>::quiet_NaN());
      }
      else
      {
        if (isPresent)
        {
          this->Out.bytes.insert(this->Out.bytes.end(), values.bytes.begin() + values.offsets[next],
            values.bytes.begin() + values.offsets[next + 1]);
        }
        this->Out.offsets.push_back(static_cast<std::int64_t>(this->Out.bytes.size()));
      }
      next += isPresent;
    };
    for (std::size_t i = 0; i < this->Definition.size(); ++i)
    {
      const std::uint32_t definition = this->Definition[i];
      if (!this->Leaf.isList)
      {
        this->Out.present.push_back(definition == maxDefinition);
        appendValue(definition == maxDefinition);
        ++this->Rows;
        continue;
      }
      if (this->Repetition[i] == 0)
      {
        if (this->Rows > 0)
        {
          this->Out.listOffsets.push_back(this->Elements);
        }
        ++this->Rows;
        this->Out.present.push_back(
          definition >= static_cast<std::uint32_t>(this->Leaf.listDefinition));
      }
      else if (this->Rows == 0)
      {
        this->damaged("its first value continues a list");
      }
      if (definition >= static_cast<std::uint32_t>(this->Leaf.elementDefinition))
      {
        appendValue(definition == maxDefinition);
        ++this->Elements;
      }
    }
  }

  const LeafInfo& Leaf;
  const ColumnChunkMeta& Meta;
  Codec TheCodec;
  const std::string& File;
  std::string Where;
  LeafChunk& Out;
  Values& Dictionary;
  bool HasDictionary = false;
  std::int64_t ValuesDone = 0;
  std::int64_t Rows = 0;
  std::int64_t Elements = 0;
  std::vector<std::uint32_t> Repetition;
  std::vector<std::uint32_t> Definition;
  std::vector<std::uint8_t>& Scratch;
  Values& PageValues;
};

// ---------------------------------------------------------------------------
// The reader.

class File
{
public:
  explicit File(const std::string& path)
  {
    this->Descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat info;
    if (this->Descriptor < 0 || ::fstat(this->Descriptor, &info) != 0 || !S_ISREG(info.st_mode))
    {
      const std::string reason = std::strerror(errno);
      detail::fail(
        "The Parquet file " + detail::quoted(path) + " cannot be opened: " + reason + ".");
    }
    this->Size = static_cast<std::int64_t>(info.st_size);
  }
  ~File()
  {
    if (this->Descriptor >= 0)
    {
      ::close(this->Descriptor);
    }
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  std::int64_t size() const { return this->Size; }

  /// Exactly `size` bytes at `offset`, or false.
  bool read(std::int64_t offset, std::size_t size, std::uint8_t* out) const
  {
    std::size_t done = 0;
    while (done < size)
    {
      const ssize_t got =
        ::pread(this->Descriptor, out + done, size - done, static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR)
      {
        continue;
      }
      if (got <= 0)
      {
        return false;
      }
      done += static_cast<std::size_t>(got);
    }
    return true;
  }

private:
  int Descriptor = -1;
  std::int64_t Size = 0;
};

class ParquetReader : public TableReader
{
public:
  explicit ParquetReader(const std::string& path)
    : Path(path)
    , TheFile(path)
  {
    const std::string q = detail::quoted(path);
    const std::int64_t size = this->TheFile.size();
    std::uint8_t head[4] = {};
    std::uint8_t tail[8] = {};
    if (size < 12 || !this->TheFile.read(0, 4, head) || !this->TheFile.read(size - 8, 8, tail))
    {
      detail::fail(
        "The file " + q + " is too short to be a Parquet file (" + detail::bytesText(size) + ").");
    }
    if (std::memcmp(tail + 4, "PARE", 4) == 0 || std::memcmp(head, "PARE", 4) == 0)
    {
      detail::fail("The Parquet file " + q + " is encrypted, which DualEmbed does not read.");
    }
    if (std::memcmp(head, "PAR1", 4) != 0 || std::memcmp(tail + 4, "PAR1", 4) != 0)
    {
      detail::fail("The file " + q +
        " is not a Parquet file: it does not begin and end with \"PAR1\" (it may be truncated).");
    }
    const std::uint32_t footerSize = readLe32(tail);
    if (footerSize == 0 || footerSize > size - 12)
    {
      detail::fail("The Parquet file " + q + " is damaged: its footer claims " +
        detail::bytesText(footerSize) + " of a " + detail::bytesText(size) + " file.");
    }
    std::vector<std::uint8_t> footer(footerSize);
    if (!this->TheFile.read(size - 8 - footerSize, footerSize, footer.data()))
    {
      detail::fail("The Parquet file " + q + " cannot be read.");
    }
    const std::string context = "The Parquet file " + q + " has a damaged footer";
    this->Meta = parseFileMetaData(footer.data(), footer.size(), context);
    if (this->Meta.encrypted)
    {
      detail::fail("The Parquet file " + q + " is encrypted, which DualEmbed does not read.");
    }
    SchemaBuilder builder(this->Meta.schema, context);
    const SchemaNode root = builder.buildTree();
    std::vector<std::string> names;
    for (const auto& child : root.children)
    {
      this->TheSchema.fields.push_back(builder.convert(child, 0, 0, names, "", true));
    }
    this->Leaves = std::move(builder.Leaves);
    this->TheSchema.metadata = this->Meta.keyValueMetadata;
    std::int64_t total = 0;
    for (std::size_t g = 0; g < this->Meta.rowGroups.size(); ++g)
    {
      const auto& group = this->Meta.rowGroups[g];
      if (group.numRows < 0 || group.numRows > std::numeric_limits<std::int64_t>::max() - total)
      {
        detail::fail(context + ": row group " + std::to_string(g) + " claims " +
          std::to_string(group.numRows) + " rows.");
      }
      if (group.columns.size() != static_cast<std::size_t>(builder.columns()))
      {
        detail::fail(context + ": row group " + std::to_string(g) + " has " +
          std::to_string(group.columns.size()) + " column chunks for " +
          std::to_string(builder.columns()) + " columns.");
      }
      total += group.numRows;
      this->ChunkRows.push_back(group.numRows);
    }
    this->Rows = total;
  }

  const Schema& schema() const override { return this->TheSchema; }
  std::int64_t numberOfRows() const override { return this->Rows; }
  const std::vector<std::int64_t>& chunkRows() const override { return this->ChunkRows; }
  const std::string& path() const override { return this->Path; }

  LeafChunk readLeaf(std::size_t chunk, const std::vector<std::string>& leafPath) override
  {
    LeafChunk out;
    this->readLeafInto(chunk, leafPath, out);
    return out;
  }

  void readLeafInto(
    std::size_t chunk, const std::vector<std::string>& leafPath, LeafChunk& out) override
  {
    const std::string q = detail::quoted(this->Path);
    std::string joined;
    for (const auto& name : leafPath)
    {
      joined += (joined.empty() ? "" : ".") + name;
    }
    const auto found = this->Leaves.find(leafPath);
    if (found == this->Leaves.end())
    {
      detail::fail("The Parquet file " + q + " has no leaf column " + detail::quoted(joined) + ".");
    }
    const LeafInfo& leaf = found->second;
    if (!leaf.unsupported.empty())
    {
      detail::fail("The Parquet file " + q + " stores column " + detail::quoted(leaf.columnName) +
        " as " + leaf.unsupported + ", which DualEmbed does not read.");
    }
    if (chunk >= this->Meta.rowGroups.size())
    {
      detail::fail("The Parquet file " + q + " has " + std::to_string(this->Meta.rowGroups.size()) +
        " row groups; row group " + std::to_string(chunk) + " does not exist.");
    }
    const auto& group = this->Meta.rowGroups[chunk];
    const auto& meta = group.columns[static_cast<std::size_t>(leaf.column)];
    const std::string where = "The Parquet file " + q + " is damaged in column " +
      detail::quoted(leaf.columnName) + " (row group " + std::to_string(chunk) + "): ";
    if (meta.encrypted)
    {
      detail::fail("The Parquet file " + q + " encrypts column " + detail::quoted(leaf.columnName) +
        ", which DualEmbed does not read.");
    }
    if (!meta.filePath.empty())
    {
      detail::fail("The Parquet file " + q + " keeps column " + detail::quoted(leaf.columnName) +
        " in another file (" + detail::quoted(meta.filePath) + "), which DualEmbed does not read.");
    }
    if (!meta.hasMetaData || meta.type != leaf.element->type)
    {
      detail::fail(where + "its chunk's metadata is missing or does not match the schema.");
    }
    const Codec codec = this->codecOf(meta.codec, leaf);
    if (meta.numValues == 0 && group.numRows == 0)
    {
      // An empty row group: some writers leave its chunks' offsets unset.
      ChunkDecoder decoder(leaf, meta, codec, this->Path, chunk, this->Reused, out);
      return decoder.decode(nullptr, 0, 0);
    }
    std::int64_t start = meta.dataPageOffset;
    if (meta.dictionaryPageOffset > 0 && meta.dictionaryPageOffset < start)
    {
      start = meta.dictionaryPageOffset;
    }
    const std::int64_t fileSize = this->TheFile.size();
    if (start < 4 || meta.totalCompressedSize <= 0 || start >= fileSize ||
      meta.totalCompressedSize > fileSize - start)
    {
      detail::fail(where + "its chunk of " + std::to_string(meta.totalCompressedSize) +
        " bytes at offset " + std::to_string(start) + " lies outside the " +
        detail::bytesText(fileSize) + " file.");
    }
    // The chunk's bytes and the pages' scratch are kept from one read to the next.
    std::vector<std::uint8_t>& bytes = this->Reused.chunkBytes;
    bytes.resize(static_cast<std::size_t>(meta.totalCompressedSize));
    if (!this->TheFile.read(start, bytes.size(), bytes.data()))
    {
      detail::fail("The Parquet file " + q + " cannot be read (it may have changed).");
    }
    ChunkDecoder decoder(leaf, meta, codec, this->Path, chunk, this->Reused, out);
    decoder.decode(bytes.data(), bytes.size(), group.numRows);
  }

private:
  Codec codecOf(std::int32_t codec, const LeafInfo& leaf) const
  {
    switch (codec)
    {
      case 0:
        return Codec::Uncompressed;
      case 1:
        return Codec::Snappy;
      case 2:
        return Codec::Gzip;
      case 4:
        return Codec::Brotli;
      case 6:
        return Codec::Zstd;
      case 7:
        return Codec::Lz4Raw;
      default:
        break;
    }
    const std::string name = codec == 3 ? "LZO"
      : codec == 5                      ? "LZ4 (Hadoop framing)"
                                        : "unknown (" + std::to_string(codec) + ")";
    detail::fail("The Parquet file " + detail::quoted(this->Path) + " compresses column " +
      detail::quoted(leaf.columnName) + " with the " + name +
      " codec, which DualEmbed does not read.");
  }

  std::string Path;
  File TheFile;
  Buffers Reused;
  FileMetaData Meta;
  Schema TheSchema;
  std::map<std::vector<std::string>, LeafInfo> Leaves;
  std::vector<std::int64_t> ChunkRows;
  std::int64_t Rows = 0;
};

} // namespace
} // namespace parquet

std::unique_ptr<TableReader> openParquet(const std::string& path)
{
  return std::make_unique<parquet::ParquetReader>(path);
}

bool looksLikeParquet(const std::string& path)
{
  try
  {
    parquet::File file(path);
    std::uint8_t head[4] = {};
    std::uint8_t tail[4] = {};
    if (file.size() < 12 || !file.read(0, 4, head) || !file.read(file.size() - 4, 4, tail))
    {
      return false;
    }
    // Encrypted files ("PARE") are claimed too, so that opening one says why it is not read.
    return (std::memcmp(head, "PAR1", 4) == 0 && std::memcmp(tail, "PAR1", 4) == 0) ||
      (std::memcmp(head, "PARE", 4) == 0 && std::memcmp(tail, "PARE", 4) == 0);
  }
  catch (...)
  {
    return false;
  }
}

} // namespace columnar
} // namespace formats
} // namespace dualembed
