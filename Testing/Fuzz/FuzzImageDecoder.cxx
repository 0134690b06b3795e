// The image decoder of image folders (Readers/ImageFileDecoder.cxx): libpng and
// libjpeg directly, VTK's image readers (BMP, TIFF, PNM) for the rest. The
// first byte picks the file extension, the rest is the file. The same bytes
// are decoded from memory too, as images in Parquet and Arrow tables are.
#include "FuzzSupport.h"
#include "ImageFileDecoder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  static const char* extensions[] = { ".png", ".jpg", ".bmp", ".tif", ".pnm", ".jpeg" };
  if (size < 1)
  {
    return 0;
  }
  const auto path = dualembed::fuzz::scratch() / (std::string("image") + extensions[data[0] % 6]);
  dualembed::fuzz::writeBytes(path, data + 1, size - 1);
  dualembed::DecodedImage header;
  dualembed::DecodedImage image;
  std::string error;
  dualembed::readImageFileHeader(path.string(), header, error);
  if (dualembed::decodeImageFile(path.string(), image, error))
  {
    dualembed::makeThumbnail(image, 16);
  }
  std::filesystem::remove(path);
  dualembed::DecodedImage fromBytes;
  dualembed::decodeImageBytes(data + 1, size - 1, "the image", fromBytes, true, error);
  if (dualembed::decodeImageBytes(data + 1, size - 1, "the image", fromBytes, false, error))
  {
    dualembed::makeThumbnail(fromBytes, 16);
  }
  return 0;
}
