// Decodes one image file (PNG, JPEG, BMP, ...) with VTK's own image readers into
// top-row-first HWC uint8 pixels, the layout every DualEmbed array uses.
#ifndef ImageFileDecoder_h
#define ImageFileDecoder_h

#include "DualEmbedReadersModule.h" // for export macro

#ifndef __VTK_WRAP__
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dualembed
{
struct DecodedImage
{
  int height = 0;
  int width = 0;
  int channels = 0;                 ///< 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
  std::vector<std::uint8_t> pixels; ///< row-major HWC, first row = top of the image
};

/// Reads only the header: size and channels. Returns false with a reason on failure.
DUALEMBEDREADERS_EXPORT bool readImageFileHeader(
  const std::string& fileName, DecodedImage& geometry, std::string& error);

/// Decodes the whole image. 16-bit images are reduced to 8 bits. Returns false
/// with a reason (unknown format, corrupt or truncated file) on failure.
DUALEMBEDREADERS_EXPORT bool decodeImageFile(
  const std::string& fileName, DecodedImage& image, std::string& error);

/// Decodes a PNG or JPEG held in memory (an image column of a Parquet or Arrow
/// table); `name` says where the bytes come from, for the error. `headerOnly`:
/// size and channels only.
DUALEMBEDREADERS_EXPORT bool decodeImageBytes(const std::uint8_t* data, std::size_t size,
  const std::string& name, DecodedImage& image, bool headerOnly, std::string& error);

/// Fits an image inside a size×size RGB square (aspect kept, black borders).
DUALEMBEDREADERS_EXPORT std::vector<std::uint8_t> makeThumbnail(
  const DecodedImage& image, int size);
}
#endif
#endif
