// A reader of the Thrift compact protocol over a byte span, for the Parquet
// footer and page headers. Every length is checked against the bytes left, so
// a hostile input can neither read past its end nor make it allocate more than
// it holds; nesting is limited so that skipping cannot exhaust the stack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dualembed
{
namespace formats
{
namespace columnar
{
namespace thrift
{

/// The type codes of the compact protocol (field headers and containers).
enum class CompactType : std::uint8_t
{
  Stop = 0,
  BoolTrue = 1,
  BoolFalse = 2,
  Byte = 3,
  I16 = 4,
  I32 = 5,
  I64 = 6,
  Double = 7,
  Binary = 8,
  List = 9,
  Set = 10,
  Map = 11,
  Struct = 12
};

struct FieldHeader
{
  std::int16_t id = 0;
  CompactType type = CompactType::Stop;
};

/// A list or a set.
struct ListHeader
{
  CompactType elementType = CompactType::Stop;
  std::size_t size = 0;
};

struct MapHeader
{
  CompactType keyType = CompactType::Stop;
  CompactType valueType = CompactType::Stop;
  std::size_t size = 0;
};

class CompactReader
{
public:
  /// `context` starts every error message, e.g. "The Parquet file 'x' has a damaged footer".
  CompactReader(const std::uint8_t* data, std::size_t size, std::string context);

  /// Enters a struct (nesting is limited to kMaxDepth).
  void beginStruct();
  /// Reads the next field header of the current struct; false at its stop byte,
  /// which also leaves the struct.
  bool nextField(FieldHeader& header);

  /// A bool field: its value is in the field's type code.
  bool readBool(const FieldHeader& header);
  /// A bool element of a list or set: one byte.
  bool readBoolElement();
  /// Any integer field or element (byte, i16, i32, i64), checked against the range of T.
  std::int64_t readInteger(CompactType type);
  std::int32_t readI32(const FieldHeader& header);
  std::int64_t readI64(const FieldHeader& header);
  double readDouble();
  /// A binary or string; the bytes stay in the input.
  std::string readString();
  ListHeader readListHeader();
  MapHeader readMapHeader();

  /// Skips a value of any type, containers and structs included.
  void skip(CompactType type);

  /// Field `header` must hold `type` (or, for Bool, either bool code); throws otherwise.
  void expect(const FieldHeader& header, CompactType type);

  std::size_t position() const { return this->Position; }
  std::size_t remaining() const { return this->Size - this->Position; }

  [[noreturn]] void fail(const std::string& what) const;

  static constexpr int kMaxDepth = 64;

private:
  std::uint8_t readRawByte();
  std::uint64_t readVarint();
  std::int64_t readZigzag();
  void enter();
  void leave() { --this->Depth; }

  const std::uint8_t* Data;
  std::size_t Size;
  std::size_t Position = 0;
  std::string Context;
  int Depth = 0;
  /// The last field id of each open struct (compact field headers are deltas).
  std::vector<std::int16_t> LastFieldIds;
};

/// "i32", "struct", ... for messages.
const char* compactTypeName(CompactType type);

} // namespace thrift
} // namespace columnar
} // namespace formats
} // namespace dualembed
