// The compression codecs of Parquet pages and Arrow IPC bodies, on Debian's
// libraries (snappy, zlib, zstd, lz4, brotli).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dualembed
{
namespace formats
{
namespace columnar
{

enum class Codec
{
  Uncompressed,
  Snappy,
  Gzip, ///< Parquet GZIP: a gzip (RFC 1952) stream; zlib streams are accepted too
  Zstd,
  Lz4Raw,   ///< Parquet LZ4_RAW: one LZ4 block
  Lz4Frame, ///< Arrow IPC LZ4_FRAME
  Brotli
};

const char* codecName(Codec codec);

/// Decompresses `input` into exactly `decodedSize` bytes at `output`. The
/// declared size bounds all work and memory (a decompression bomb stops at it).
/// Throws FormatError("<what>: ...") when the data is corrupt, decodes to a
/// different size, or the codec's library refuses it.
void decompress(Codec codec, const std::uint8_t* input, std::size_t inputSize, std::uint8_t* output,
  std::size_t decodedSize, const std::string& what);

} // namespace columnar
} // namespace formats
} // namespace dualembed
