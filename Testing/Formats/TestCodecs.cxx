// The codecs of Parquet pages and Arrow bodies: each round-trips data its
// library compressed, and a wrong declared size or damaged data is an error.
#include "Columnar/Codecs.h"
#include "ImageDataset.h"

#include <brotli/encode.h>
#include <gtest/gtest.h>
#include <lz4.h>
#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <string>
#include <vector>

using namespace dualembed::formats;
using columnar::Codec;

namespace
{
std::string sampleText()
{
  std::string text;
  for (int i = 0; i < 20000; ++i)
  {
    text += std::to_string(i % 97) + ",";
  }
  return text;
}

std::string compress(Codec codec, const std::string& text)
{
  std::string out;
  switch (codec)
  {
    case Codec::Snappy:
      snappy::Compress(text.data(), text.size(), &out);
      return out;
    case Codec::Zstd:
      out.resize(ZSTD_compressBound(text.size()));
      out.resize(ZSTD_compress(&out[0], out.size(), text.data(), text.size(), 3));
      return out;
    case Codec::Lz4Raw:
      out.resize(LZ4_compressBound(static_cast<int>(text.size())));
      out.resize(LZ4_compress_default(
        text.data(), &out[0], static_cast<int>(text.size()), static_cast<int>(out.size())));
      return out;
    case Codec::Lz4Frame:
      out.resize(LZ4F_compressFrameBound(text.size(), nullptr));
      out.resize(LZ4F_compressFrame(&out[0], out.size(), text.data(), text.size(), nullptr));
      return out;
    case Codec::Brotli:
    {
      out.resize(text.size() + 1024);
      size_t size = out.size();
      BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, text.size(),
        reinterpret_cast<const uint8_t*>(text.data()), &size, reinterpret_cast<uint8_t*>(&out[0]));
      out.resize(size);
      return out;
    }
    case Codec::Gzip:
    {
      z_stream stream{};
      deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY); // gzip header
      out.resize(compressBound(text.size()) + 64);
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
      stream.avail_in = static_cast<uInt>(text.size());
      stream.next_out = reinterpret_cast<Bytef*>(&out[0]);
      stream.avail_out = static_cast<uInt>(out.size());
      deflate(&stream, Z_FINISH);
      out.resize(stream.total_out);
      deflateEnd(&stream);
      return out;
    }
    case Codec::Uncompressed:
      return text;
  }
  return out;
}

void decode(Codec codec, const std::string& data, std::vector<std::uint8_t>& out)
{
  columnar::decompress(codec, reinterpret_cast<const std::uint8_t*>(data.data()), data.size(),
    out.data(), out.size(), "page 1 of column 'x'");
}

class CodecTest : public ::testing::TestWithParam<Codec>
{
};
} // namespace

TEST_P(CodecTest, RoundTripsAndRefusesWrongSizesAndDamage)
{
  const std::string text = sampleText();
  const std::string packed = compress(GetParam(), text);
  std::vector<std::uint8_t> out(text.size());
  decode(GetParam(), packed, out);
  EXPECT_EQ(std::string(out.begin(), out.end()), text);

  // Declared one byte short: the output is never overrun, and it is an error.
  std::vector<std::uint8_t> shorter(text.size() - 1);
  EXPECT_THROW(decode(GetParam(), packed, shorter), FormatError);
  std::vector<std::uint8_t> longer(text.size() + 1);
  EXPECT_THROW(decode(GetParam(), packed, longer), FormatError);
  // Truncated data.
  EXPECT_THROW(decode(GetParam(), packed.substr(0, packed.size() / 2), out), FormatError);
}

TEST_P(CodecTest, MessageNamesThePageAndTheCodec)
{
  std::vector<std::uint8_t> out(100);
  try
  {
    decode(GetParam(), std::string(7, '\x5a'), out);
    FAIL() << "garbage decoded";
  }
  catch (const FormatError& error)
  {
    const std::string message = error.what();
    EXPECT_NE(message.find("page 1 of column 'x'"), std::string::npos) << message;
    EXPECT_NE(message.find(columnar::codecName(GetParam())), std::string::npos) << message;
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, CodecTest,
  ::testing::Values(Codec::Uncompressed, Codec::Snappy, Codec::Gzip, Codec::Zstd, Codec::Lz4Raw,
    Codec::Lz4Frame, Codec::Brotli),
  [](const ::testing::TestParamInfo<Codec>& info) {
    std::string name = columnar::codecName(info.param);
    name.erase(std::remove_if(name.begin(), name.end(), [](char c) { return !std::isalnum(c); }),
      name.end());
    return name;
  });
