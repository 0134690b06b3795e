#include "Codecs.h"

#include "FormatUtil.h"

#include <brotli/decode.h>
#include <lz4.h>
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <climits>
#include <memory>

namespace dualembed
{
namespace formats
{
namespace columnar
{
namespace
{
using detail::fail;

[[noreturn]] void corrupt(const std::string& what, Codec codec, const std::string& reason)
{
  fail(what + " does not decompress (" + codecName(codec) + "): " + reason + ".");
}

void checkSize(const std::string& what, Codec codec, std::size_t produced, std::size_t declared)
{
  if (produced != declared)
  {
    corrupt(what, codec,
      "it holds " + detail::bytesText(static_cast<std::int64_t>(produced)) + " where " +
        detail::bytesText(static_cast<std::int64_t>(declared)) + " were declared");
  }
}

void snappyDecode(const std::uint8_t* in, std::size_t inSize, std::uint8_t* out, std::size_t size,
  const std::string& what)
{
  const char* input = reinterpret_cast<const char*>(in);
  std::size_t length = 0;
  if (!snappy::GetUncompressedLength(input, inSize, &length))
  {
    corrupt(what, Codec::Snappy, "its length header is damaged");
  }
  checkSize(what, Codec::Snappy, length, size); // before decoding: the bound is the declared size
  if (!snappy::RawUncompress(input, inSize, reinterpret_cast<char*>(out)))
  {
    corrupt(what, Codec::Snappy, "the data is damaged");
  }
}

// Gzip (RFC 1952) as Parquet specifies; zlib streams as some writers produce.
// Concatenated gzip members are read one after the other.
void gzipDecode(const std::uint8_t* in, std::size_t inSize, std::uint8_t* out, std::size_t size,
  const std::string& what)
{
  std::size_t produced = 0;
  std::size_t consumed = 0;
  while (consumed < inSize)
  {
    z_stream stream{};
    if (inflateInit2(&stream, 15 + 32) != Z_OK) // 32: detect gzip or zlib header
    {
      corrupt(what, Codec::Gzip, "zlib could not start");
    }
    std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&stream, inflateEnd);
    stream.next_in = const_cast<Bytef*>(in + consumed);
    stream.avail_in = static_cast<uInt>(std::min<std::size_t>(inSize - consumed, UINT_MAX));
    stream.next_out = out + produced;
    stream.avail_out = static_cast<uInt>(std::min<std::size_t>(size - produced, UINT_MAX));
    const int status = inflate(&stream, Z_FINISH);
    if (status != Z_STREAM_END)
    {
      corrupt(what, Codec::Gzip,
        status == Z_BUF_ERROR && stream.avail_out == 0 ? "it holds more than was declared"
                                                       : "the data is damaged or truncated");
    }
    produced += stream.total_out;
    consumed += stream.total_in;
    if (stream.total_in == 0)
    {
      break;
    }
  }
  checkSize(what, Codec::Gzip, produced, size);
}

void zstdDecode(const std::uint8_t* in, std::size_t inSize, std::uint8_t* out, std::size_t size,
  const std::string& what)
{
  // ZSTD_decompress writes at most `size` bytes whatever the frame header claims.
  const std::size_t produced = ZSTD_decompress(out, size, in, inSize);
  if (ZSTD_isError(produced))
  {
    corrupt(what, Codec::Zstd, ZSTD_getErrorName(produced));
  }
  checkSize(what, Codec::Zstd, produced, size);
}

void lz4RawDecode(const std::uint8_t* in, std::size_t inSize, std::uint8_t* out, std::size_t size,
  const std::string& what)
{
  if (inSize > static_cast<std::size_t>(INT_MAX) || size > static_cast<std::size_t>(INT_MAX))
  {
    corrupt(what, Codec::Lz4Raw, "a block is limited to 2 GiB");
  }
  const int produced = LZ4_decompress_safe(reinterpret_cast<const char*>(in),
    reinterpret_cast<char*>(out), static_cast<int>(inSize), static_cast<int>(size));
  if (produced < 0)
  {
    corrupt(what, Codec::Lz4Raw, "the data is damaged");
  }
  checkSize(what, Codec::Lz4Raw, static_cast<std::size_t>(produced), size);
}

void lz4FrameDecode(const std::uint8_t* in, std::size_t inSize, std::uint8_t* out, std::size_t size,
  const std::string& what)
{
  LZ4F_dctx* context = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&context, LZ4F_VERSION)))
  {
    corrupt(what, Codec::Lz4Frame, "lz4 could not start");
  }
  std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> guard(
    context, LZ4F_freeDecompressionContext);
  std::size_t produced = 0;
  std::size_t consumed = 0;
  std::size_t hint = 1;
  while (consumed < inSize && hint != 0)
  {
    std::size_t outAvailable = size - produced;
    std::size_t inAvailable = inSize - consumed;
    hint =
      LZ4F_decompress(context, out + produced, &outAvailable, in + consumed, &inAvailable, nullptr);
    if (LZ4F_isError(hint))
    {
      corrupt(what, Codec::Lz4Frame, LZ4F_getErrorName(hint));
    }
    produced += outAvailable;
    consumed += inAvailable;
    if (outAvailable == 0 && inAvailable == 0)
    {
      corrupt(what, Codec::Lz4Frame,
        produced == size ? "it holds more than was declared" : "the data is damaged");
    }
  }
  if (hint != 0)
  {
    corrupt(what, Codec::Lz4Frame, "the frame is truncated");
  }
  checkSize(what, Codec::Lz4Frame, produced, size);
}

void brotliDecode(const std::uint8_t* in, std::size_t inSize, std::uint8_t* out, std::size_t size,
  const std::string& what)
{
  std::size_t produced = size;
  if (BrotliDecoderDecompress(inSize, in, &produced, out) != BROTLI_DECODER_RESULT_SUCCESS)
  {
    corrupt(what, Codec::Brotli, "the data is damaged or holds more than was declared");
  }
  checkSize(what, Codec::Brotli, produced, size);
}
} // namespace

const char* codecName(Codec codec)
{
  switch (codec)
  {
    case Codec::Uncompressed:
      return "uncompressed";
    case Codec::Snappy:
      return "Snappy";
    case Codec::Gzip:
      return "gzip";
    case Codec::Zstd:
      return "Zstandard";
    case Codec::Lz4Raw:
      return "LZ4 raw";
    case Codec::Lz4Frame:
      return "LZ4 frame";
    case Codec::Brotli:
      return "Brotli";
  }
  return "unknown";
}

void decompress(Codec codec, const std::uint8_t* input, std::size_t inputSize, std::uint8_t* output,
  std::size_t decodedSize, const std::string& what)
{
  switch (codec)
  {
    case Codec::Uncompressed:
      checkSize(what, codec, inputSize, decodedSize);
      std::copy(input, input + inputSize, output);
      return;
    case Codec::Snappy:
      return snappyDecode(input, inputSize, output, decodedSize, what);
    case Codec::Gzip:
      return gzipDecode(input, inputSize, output, decodedSize, what);
    case Codec::Zstd:
      return zstdDecode(input, inputSize, output, decodedSize, what);
    case Codec::Lz4Raw:
      return lz4RawDecode(input, inputSize, output, decodedSize, what);
    case Codec::Lz4Frame:
      return lz4FrameDecode(input, inputSize, output, decodedSize, what);
    case Codec::Brotli:
      return brotliDecode(input, inputSize, output, decodedSize, what);
  }
  fail(what + " uses a compression codec DualEmbed does not read.");
}

} // namespace columnar
} // namespace formats
} // namespace dualembed
