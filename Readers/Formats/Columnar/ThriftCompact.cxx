// The Thrift compact protocol, read as its specification describes
// (thrift/doc/specs/thrift-compact-protocol.md): varints, zigzag integers,
// delta field ids, size-in-header lists and maps, bools in the type code.
#include "ThriftCompact.h"

#include "../FormatUtil.h"

#include <cstring>
#include <limits>

namespace dualembed
{
namespace formats
{
namespace columnar
{
namespace thrift
{

namespace
{

bool isValidType(std::uint8_t code)
{
  return code <= static_cast<std::uint8_t>(CompactType::Struct);
}

/// The fewest bytes one element of a container can take, to refuse sizes the
/// input cannot hold before anything is allocated.
std::size_t minimumBytes(CompactType type)
{
  switch (type)
  {
    case CompactType::Double:
      return 8;
    default:
      return 1;
  }
}

} // namespace

const char* compactTypeName(CompactType type)
{
  switch (type)
  {
    case CompactType::Stop:
      return "stop";
    case CompactType::BoolTrue:
    case CompactType::BoolFalse:
      return "bool";
    case CompactType::Byte:
      return "byte";
    case CompactType::I16:
      return "i16";
    case CompactType::I32:
      return "i32";
    case CompactType::I64:
      return "i64";
    case CompactType::Double:
      return "double";
    case CompactType::Binary:
      return "binary";
    case CompactType::List:
      return "list";
    case CompactType::Set:
      return "set";
    case CompactType::Map:
      return "map";
    case CompactType::Struct:
      return "struct";
  }
  return "unknown";
}

CompactReader::CompactReader(const std::uint8_t* data, std::size_t size, std::string context)
  : Data(data)
  , Size(size)
  , Context(std::move(context))
{
}

void CompactReader::fail(const std::string& what) const
{
  detail::fail(this->Context + ": " + what + " (at byte " + std::to_string(this->Position) + ").");
}

std::uint8_t CompactReader::readRawByte()
{
  if (this->Position >= this->Size)
  {
    this->fail("the Thrift data ends early");
  }
  return this->Data[this->Position++];
}

std::uint64_t CompactReader::readVarint()
{
  std::uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7)
  {
    const std::uint8_t byte = this->readRawByte();
    if (shift == 63 && (byte & 0x7E) != 0)
    {
      this->fail("a Thrift varint does not fit in 64 bits");
    }
    value |= std::uint64_t(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0)
    {
      return value;
    }
  }
  this->fail("a Thrift varint is longer than 10 bytes");
}

std::int64_t CompactReader::readZigzag()
{
  const std::uint64_t raw = this->readVarint();
  return static_cast<std::int64_t>(raw >> 1) ^ -static_cast<std::int64_t>(raw & 1);
}

void CompactReader::enter()
{
  if (++this->Depth > kMaxDepth)
  {
    this->fail("the Thrift data is nested deeper than " + std::to_string(kMaxDepth) + " levels");
  }
}

void CompactReader::beginStruct()
{
  this->enter();
  this->LastFieldIds.push_back(0);
}

bool CompactReader::nextField(FieldHeader& header)
{
  if (this->LastFieldIds.empty())
  {
    this->fail("a field is read outside a struct");
  }
  const std::uint8_t byte = this->readRawByte();
  if (byte == 0)
  {
    this->LastFieldIds.pop_back();
    this->leave();
    return false;
  }
  const std::uint8_t code = byte & 0x0F;
  if (code == 0 || !isValidType(code))
  {
    this->fail("a Thrift field has the unknown type code " + std::to_string(code));
  }
  header.type = static_cast<CompactType>(code);
  const int delta = byte >> 4;
  if (delta != 0)
  {
    header.id = static_cast<std::int16_t>(this->LastFieldIds.back() + delta);
  }
  else
  {
    const std::int64_t id = this->readZigzag();
    if (id < std::numeric_limits<std::int16_t>::min() ||
      id > std::numeric_limits<std::int16_t>::max())
    {
      this->fail("a Thrift field id does not fit in 16 bits");
    }
    header.id = static_cast<std::int16_t>(id);
  }
  this->LastFieldIds.back() = header.id;
  return true;
}

void CompactReader::expect(const FieldHeader& header, CompactType type)
{
  const bool isBool = header.type == CompactType::BoolTrue || header.type == CompactType::BoolFalse;
  const bool wantsBool = type == CompactType::BoolTrue || type == CompactType::BoolFalse;
  if (isBool && wantsBool)
  {
    return;
  }
  if (header.type != type)
  {
    this->fail("field " + std::to_string(header.id) + " is a " + compactTypeName(header.type) +
      " where a " + compactTypeName(type) + " belongs");
  }
}

bool CompactReader::readBool(const FieldHeader& header)
{
  this->expect(header, CompactType::BoolTrue);
  return header.type == CompactType::BoolTrue;
}

bool CompactReader::readBoolElement()
{
  return this->readRawByte() == 1;
}

std::int64_t CompactReader::readInteger(CompactType type)
{
  switch (type)
  {
    case CompactType::Byte:
      return static_cast<std::int8_t>(this->readRawByte());
    case CompactType::I16:
    case CompactType::I32:
    case CompactType::I64:
      return this->readZigzag();
    default:
      this->fail(std::string("an integer was expected, found a ") + compactTypeName(type));
  }
}

std::int32_t CompactReader::readI32(const FieldHeader& header)
{
  const std::int64_t value = this->readInteger(header.type);
  if (value < std::numeric_limits<std::int32_t>::min() ||
    value > std::numeric_limits<std::int32_t>::max())
  {
    this->fail("field " + std::to_string(header.id) + " does not fit in 32 bits");
  }
  return static_cast<std::int32_t>(value);
}

std::int64_t CompactReader::readI64(const FieldHeader& header)
{
  return this->readInteger(header.type);
}

double CompactReader::readDouble()
{
  if (this->remaining() < 8)
  {
    this->fail("the Thrift data ends early");
  }
  std::uint64_t bits = 0;
  for (int i = 0; i < 8; ++i)
  {
    bits |= std::uint64_t(this->Data[this->Position + i]) << (8 * i);
  }
  this->Position += 8;
  double value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

std::string CompactReader::readString()
{
  const std::uint64_t length = this->readVarint();
  if (length > this->remaining())
  {
    this->fail("a Thrift string of " + std::to_string(length) + " bytes is longer than the " +
      std::to_string(this->remaining()) + " bytes left");
  }
  std::string text(reinterpret_cast<const char*>(this->Data + this->Position), length);
  this->Position += length;
  return text;
}

ListHeader CompactReader::readListHeader()
{
  const std::uint8_t byte = this->readRawByte();
  ListHeader header;
  const std::uint8_t code = byte & 0x0F;
  // Bool elements are written with either bool code; stop is no element type.
  if (code == 0 || !isValidType(code))
  {
    this->fail("a Thrift list has the unknown element type " + std::to_string(code));
  }
  header.elementType = static_cast<CompactType>(code);
  std::uint64_t size = byte >> 4;
  if (size == 15)
  {
    size = this->readVarint();
  }
  if (size > this->remaining() / minimumBytes(header.elementType))
  {
    this->fail("a Thrift list of " + std::to_string(size) + " elements cannot fit in the " +
      std::to_string(this->remaining()) + " bytes left");
  }
  header.size = static_cast<std::size_t>(size);
  return header;
}

MapHeader CompactReader::readMapHeader()
{
  MapHeader header;
  const std::uint64_t size = this->readVarint();
  if (size == 0)
  {
    return header;
  }
  const std::uint8_t types = this->readRawByte();
  const std::uint8_t keyCode = types >> 4;
  const std::uint8_t valueCode = types & 0x0F;
  if (keyCode == 0 || valueCode == 0 || !isValidType(keyCode) || !isValidType(valueCode))
  {
    this->fail("a Thrift map has unknown key or value types");
  }
  header.keyType = static_cast<CompactType>(keyCode);
  header.valueType = static_cast<CompactType>(valueCode);
  if (size > this->remaining() / (minimumBytes(header.keyType) + minimumBytes(header.valueType)))
  {
    this->fail("a Thrift map of " + std::to_string(size) + " entries cannot fit in the " +
      std::to_string(this->remaining()) + " bytes left");
  }
  header.size = static_cast<std::size_t>(size);
  return header;
}

void CompactReader::skip(CompactType type)
{
  switch (type)
  {
    case CompactType::BoolTrue:
    case CompactType::BoolFalse:
      // A bool field holds its value in the type code; callers skipping a bool
      // element of a container read its byte there.
      return;
    case CompactType::Byte:
      this->readRawByte();
      return;
    case CompactType::I16:
    case CompactType::I32:
    case CompactType::I64:
      this->readVarint();
      return;
    case CompactType::Double:
      this->readDouble();
      return;
    case CompactType::Binary:
    {
      const std::uint64_t length = this->readVarint();
      if (length > this->remaining())
      {
        this->fail("a Thrift binary of " + std::to_string(length) + " bytes is longer than the " +
          std::to_string(this->remaining()) + " bytes left");
      }
      this->Position += length;
      return;
    }
    case CompactType::List:
    case CompactType::Set:
    {
      this->enter();
      const ListHeader list = this->readListHeader();
      for (std::size_t i = 0; i < list.size; ++i)
      {
        if (list.elementType == CompactType::BoolTrue || list.elementType == CompactType::BoolFalse)
        {
          this->readRawByte();
        }
        else
        {
          this->skip(list.elementType);
        }
      }
      this->leave();
      return;
    }
    case CompactType::Map:
    {
      this->enter();
      const MapHeader map = this->readMapHeader();
      for (std::size_t i = 0; i < map.size; ++i)
      {
        for (const CompactType part : { map.keyType, map.valueType })
        {
          if (part == CompactType::BoolTrue || part == CompactType::BoolFalse)
          {
            this->readRawByte();
          }
          else
          {
            this->skip(part);
          }
        }
      }
      this->leave();
      return;
    }
    case CompactType::Struct:
    {
      this->beginStruct();
      FieldHeader field;
      while (this->nextField(field))
      {
        this->skip(field.type);
      }
      return;
    }
    case CompactType::Stop:
      break;
  }
  this->fail("a Thrift value of unknown type cannot be skipped");
}

} // namespace thrift
} // namespace columnar
} // namespace formats
} // namespace dualembed
