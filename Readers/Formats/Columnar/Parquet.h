// Parquet internals shared by the reader (Parquet.cxx), its tests and its fuzz
// harness: the footer as DualEmbed reads it (the FileMetaData fields that
// matter for reading plain, dictionary and nested-struct/list columns) and the
// RLE/bit-packed hybrid decoder of levels and dictionary indices. The public
// entry points, openParquet() and looksLikeParquet(), are in Table.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dualembed
{
namespace formats
{
namespace columnar
{
namespace parquet
{

/// Thrift enum values of parquet.thrift.
enum PhysicalType : std::int32_t
{
  Boolean = 0,
  Int32 = 1,
  Int64 = 2,
  Int96 = 3,
  Float = 4,
  Double = 5,
  ByteArray = 6,
  FixedLenByteArray = 7
};

enum Repetition : std::int32_t
{
  Required = 0,
  Optional = 1,
  Repeated = 2
};

/// The LogicalType union member that is set, as its field id (0: none).
enum LogicalTypeId : std::int32_t
{
  NoLogicalType = 0,
  StringLogical = 1,
  MapLogical = 2,
  ListLogical = 3,
  EnumLogical = 4,
  DecimalLogical = 5,
  DateLogical = 6,
  TimeLogical = 7,
  TimestampLogical = 8,
  IntegerLogical = 10,
  UnknownLogical = 11,
  JsonLogical = 12,
  BsonLogical = 13,
  UuidLogical = 14,
  Float16Logical = 15
};

struct SchemaElement
{
  std::int32_t type = -1; ///< -1: a group
  std::int32_t typeLength = 0;
  std::int32_t repetition = Required;
  bool hasRepetition = false;
  std::string name;
  std::int32_t numChildren = 0;
  std::int32_t convertedType = -1;
  std::int32_t logicalType = NoLogicalType;
  int logicalIntegerBits = 0; ///< IntType.bitWidth
  bool logicalIntegerSigned = true;
};

struct ColumnChunkMeta
{
  bool hasMetaData = false;
  bool encrypted = false;
  std::string filePath; ///< a chunk in another file (not read)
  std::int32_t type = -1;
  std::vector<std::int32_t> encodings;
  std::vector<std::string> pathInSchema;
  std::int32_t codec = 0;
  std::int64_t numValues = 0;
  std::int64_t totalUncompressedSize = 0;
  std::int64_t totalCompressedSize = 0;
  std::int64_t dataPageOffset = -1;
  std::int64_t dictionaryPageOffset = -1;
};

struct RowGroupMeta
{
  std::vector<ColumnChunkMeta> columns;
  std::int64_t numRows = 0;
};

struct FileMetaData
{
  std::vector<SchemaElement> schema;
  std::int64_t numRows = 0;
  std::vector<RowGroupMeta> rowGroups;
  std::vector<std::pair<std::string, std::string>> keyValueMetadata;
  bool encrypted = false; ///< encryption_algorithm set (plaintext-footer encryption)
};

/// Parses the Thrift FileMetaData of a footer. `context` starts error messages.
FileMetaData parseFileMetaData(
  const std::uint8_t* data, std::size_t size, const std::string& context);

/// The RLE/bit-packed hybrid encoding (levels, dictionary indices, v2 booleans).
class HybridDecoder
{
public:
  /// `bitWidth` 0..32; `context` starts error messages.
  HybridDecoder(
    const std::uint8_t* data, std::size_t size, int bitWidth, const std::string* context);
  /// Decodes exactly `count` values into `out`; throws if the data ends first.
  void decode(std::uint32_t* out, std::size_t count);

private:
  bool nextRun();

  const std::uint8_t* Data;
  std::size_t Size;
  std::size_t Position = 0;
  int BitWidth;
  const std::string* Context;
  // The current run: an RLE run repeats Value; a bit-packed run reads from PackedStart.
  bool Packed = false;
  std::uint64_t Left = 0;
  std::uint32_t Value = 0;
  std::size_t PackedStart = 0;
  std::uint64_t PackedIndex = 0;
};

} // namespace parquet
} // namespace columnar
} // namespace formats
} // namespace dualembed
