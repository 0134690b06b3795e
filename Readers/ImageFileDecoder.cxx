#include "ImageFileDecoder.h"

#include "vtkBMPReader.h"
#include "vtkDataArray.h"
#include "vtkImageData.h"
#include "vtkImageReader2.h"
#include "vtkOutputWindow.h"
#include "vtkPointData.h"
#include "vtkSmartPointer.h"
#include "vtk_jpeg.h"
#include "vtk_png.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>

namespace dualembed
{
namespace
{
// VTK's image readers report problems through the output window and leave an
// empty output; silence them while probing a file and report our own sentence.
class QuietOutputWindow
{
public:
  QuietOutputWindow()
    : Previous(vtkObject::GetGlobalWarningDisplay())
  {
    vtkObject::GlobalWarningDisplayOff();
  }
  ~QuietOutputWindow() { vtkObject::SetGlobalWarningDisplay(this->Previous); }

private:
  int Previous;
};

// PNG and JPEG are decoded with libpng / libjpeg directly, with their error
// handling in place: VTK's vtkPNGReader and vtkJPEGReader let libpng / libjpeg
// longjmp on a corrupt file without a landing point and crash the process.
// These are the same libraries VTK links (VTK::png, VTK::jpeg) and PIL uses.
std::string lowerExtension(const std::string& fileName)
{
  const auto dot = fileName.find_last_of('.');
  std::string ext = dot == std::string::npos ? "" : fileName.substr(dot + 1);
  std::transform(
    ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

bool hasSignature(const std::string& fileName, const unsigned char* signature, size_t length)
{
  std::ifstream in(fileName, std::ios::binary);
  std::string head(length, '\0');
  return in.read(&head[0], length) &&
    std::equal(signature, signature + length, head.begin(),
      [](unsigned char a, char b) { return a == static_cast<unsigned char>(b); });
}

bool isPng(const std::string& fileName)
{
  static const unsigned char signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  return hasSignature(fileName, signature, 8);
}

bool isJpeg(const std::string& fileName)
{
  static const unsigned char signature[3] = { 0xff, 0xd8, 0xff };
  return hasSignature(fileName, signature, 3);
}

// The pixels one file may decode to: its size times a ratio above what PNG's
// deflate (1032:1) and JPEG's entropy coding reach, plus 1 MiB for tiny files.
// Headers can declare any size (PNG up to 10^6 x 10^6); nothing is allocated
// for a size the file's bytes cannot hold.
constexpr std::uint64_t MaxDecodeRatio = 2048;

/// An encoded image: a file, or bytes in memory (data != nullptr; `name` says
/// where they come from, for messages).
struct EncodedInput
{
  std::string name;
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
};

/// "'<file>'", or the name given to bytes in memory.
std::string describe(const EncodedInput& input)
{
  return input.data ? input.name : "'" + input.name + "'";
}

bool fitsFileSize(const EncodedInput& input, std::uint64_t bytes, std::string& error)
{
  const std::string& fileName = input.name;
  std::uint64_t size = input.size;
  if (!input.data)
  {
    std::ifstream in(fileName, std::ios::binary | std::ios::ate);
    size = in ? static_cast<std::uint64_t>(in.tellg()) : 0;
  }
  if (bytes > size * MaxDecodeRatio + (1u << 20))
  {
    error = describe(input) + " declares an image of " + std::to_string(bytes) +
      " bytes, far more than a file of " + std::to_string(size) + " bytes can hold (damaged file)";
    return false;
  }
  return true;
}

bool decodePng(const EncodedInput& input, DecodedImage& image, bool headerOnly, std::string& error)
{
  const std::string& fileName = input.name;
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  const bool opened = input.data ? png_image_begin_read_from_memory(&png, input.data, input.size)
                                 : png_image_begin_read_from_file(&png, fileName.c_str());
  if (!opened)
  {
    error = describe(input) + " is not a readable PNG (" + png.message + ")";
    return false;
  }
  // Keep the file's own channels (palette expanded): gray, gray+alpha, RGB, RGBA.
  const bool color = (png.format & PNG_FORMAT_FLAG_COLOR) != 0;
  const bool alpha = (png.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  png.format =
    color ? (alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB) : (alpha ? PNG_FORMAT_GA : PNG_FORMAT_GRAY);
  image.width = static_cast<int>(png.width);
  image.height = static_cast<int>(png.height);
  image.channels = static_cast<int>(PNG_IMAGE_SAMPLE_CHANNELS(png.format));
  if (headerOnly)
  {
    png_image_free(&png);
    return true;
  }
  const std::uint64_t bytes = std::uint64_t(PNG_IMAGE_ROW_STRIDE(png)) * png.height *
    PNG_IMAGE_SAMPLE_COMPONENT_SIZE(png.format);
  if (!fitsFileSize(input, bytes, error))
  {
    png_image_free(&png);
    return false;
  }
  image.pixels.resize(bytes);
  if (!png_image_finish_read(&png, nullptr, image.pixels.data(), 0, nullptr))
  {
    error = describe(input) + " is corrupt or truncated (" + png.message + ")";
    png_image_free(&png);
    return false;
  }
  return true;
}

struct JpegErrorManager
{
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpegErrorExit(j_common_ptr info)
{
  auto* manager = reinterpret_cast<JpegErrorManager*>(info->err);
  info->err->format_message(info, manager->message);
  std::longjmp(manager->jump, 1);
}

void jpegSilence(j_common_ptr, int) {}

bool decodeJpeg(const EncodedInput& input, DecodedImage& image, bool headerOnly, std::string& error)
{
  const std::string& fileName = input.name;
  std::unique_ptr<FILE, int (*)(FILE*)> file(
    input.data ? nullptr : std::fopen(fileName.c_str(), "rb"), &std::fclose);
  if (!input.data && !file)
  {
    error = "cannot open " + describe(input);
    return false;
  }
  jpeg_decompress_struct info;
  JpegErrorManager errors;
  info.err = jpeg_std_error(&errors.base);
  errors.base.error_exit = jpegErrorExit;
  errors.base.emit_message = jpegSilence;
  // Nothing below owns resources that a longjmp would skip: the buffer is a
  // member of `image`, the FILE is closed by its unique_ptr after the return.
  if (setjmp(errors.jump))
  {
    jpeg_destroy_decompress(&info);
    error = describe(input) + " is corrupt or truncated (" + errors.message + ")";
    return false;
  }
  jpeg_create_decompress(&info);
  if (input.data)
  {
    jpeg_mem_src(&info, input.data, static_cast<unsigned long>(input.size));
  }
  else
  {
    jpeg_stdio_src(&info, file.get());
  }
  jpeg_read_header(&info, TRUE);
  // Gray stays gray, everything else becomes RGB (as PIL's "L" and "RGB" modes).
  info.out_color_space = info.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
  if (headerOnly)
  {
    jpeg_calc_output_dimensions(&info);
  }
  else
  {
    jpeg_start_decompress(&info);
  }
  image.width = static_cast<int>(info.output_width);
  image.height = static_cast<int>(info.output_height);
  image.channels = info.output_components;
  if (!headerOnly)
  {
    const size_t stride = static_cast<size_t>(image.width) * image.channels;
    if (!fitsFileSize(input, std::uint64_t(stride) * image.height, error))
    {
      jpeg_destroy_decompress(&info);
      return false;
    }
    image.pixels.resize(stride * image.height);
    while (info.output_scanline < info.output_height)
    {
      JSAMPROW row = image.pixels.data() + info.output_scanline * stride;
      jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
  }
  jpeg_destroy_decompress(&info);
  return true;
}

bool isBmp(const std::string& fileName)
{
  static const unsigned char signature[2] = { 'B', 'M' };
  return hasSignature(fileName, signature, 2);
}

std::uint32_t littleEndian(const std::string& bytes, std::size_t at, int size)
{
  std::uint32_t v = 0;
  for (int i = size - 1; i >= 0; --i)
  {
    v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  }
  return v;
}

// vtkBMPReader trusts the header (it crashed on a header size of 0, found by
// Testing/Fuzz): only what it decodes correctly gets to it, an uncompressed
// 8-bit (palette) or 24-bit BITMAPINFOHEADER image whose pixels are in the file.
bool isSaneBmp(const std::string& fileName)
{
  std::ifstream in(fileName, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 54)
  {
    return false;
  }
  const std::uint64_t offset = littleEndian(bytes, 10, 4);
  const auto width = static_cast<std::int32_t>(littleEndian(bytes, 18, 4));
  const auto height = static_cast<std::int32_t>(littleEndian(bytes, 22, 4));
  const std::uint32_t depth = littleEndian(bytes, 28, 2);
  const std::uint64_t colors = littleEndian(bytes, 46, 4);
  if (littleEndian(bytes, 14, 4) != 40 || width < 1 || width > 65536 || height < 1 ||
    height > 65536 || littleEndian(bytes, 26, 2) != 1 || (depth != 8 && depth != 24) ||
    littleEndian(bytes, 30, 4) != 0 || colors > 256)
  {
    return false;
  }
  const std::uint64_t palette = depth == 8 ? 4 * (colors ? colors : 256) : 0;
  const std::uint64_t stride = (std::uint64_t(width) * depth / 8 + 3) / 4 * 4;
  return offset >= 54 + palette && offset + stride * std::uint64_t(height) <= bytes.size();
}

// Only BMP goes through VTK (vtkBMPReader): image folders hold PNG, JPEG and
// BMP. VTK's reader factory would also hand a file with another extension to
// whichever reader claims its first bytes, and vtkPNMReader loops forever on
// a truncated header (found by Testing/Fuzz).
vtkSmartPointer<vtkImageReader2> openReader(const std::string& fileName, std::string& error)
{
  if (!std::ifstream(fileName, std::ios::binary).good())
  {
    error = "cannot open '" + fileName + "'";
    return nullptr;
  }
  if (!isBmp(fileName))
  {
    error = "'" + fileName + "' is not a PNG, JPEG or BMP image";
    return nullptr;
  }
  if (!isSaneBmp(fileName))
  {
    error = "'" + fileName + "' is not an uncompressed 8- or 24-bit BMP, or is truncated";
    return nullptr;
  }
  auto reader = vtkSmartPointer<vtkBMPReader>::New();
  reader->SetFileName(fileName.c_str());
  return reader;
}
}

bool readImageFileHeader(const std::string& fileName, DecodedImage& geometry, std::string& error)
{
  if (isPng(fileName))
  {
    return decodePng({ fileName }, geometry, true, error);
  }
  if (isJpeg(fileName))
  {
    return decodeJpeg({ fileName }, geometry, true, error);
  }
  QuietOutputWindow quiet;
  auto reader = openReader(fileName, error);
  if (!reader)
  {
    return false;
  }
  reader->UpdateInformation();
  const int* extent = reader->GetDataExtent();
  geometry.width = extent[1] - extent[0] + 1;
  geometry.height = extent[3] - extent[2] + 1;
  geometry.channels = reader->GetNumberOfScalarComponents();
  if (geometry.width <= 0 || geometry.height <= 0 || geometry.channels < 1 ||
    geometry.channels > 4 || extent[5] != extent[4])
  {
    error = "'" + fileName + "' has no readable 2-D image header";
    return false;
  }
  return true;
}

bool decodeImageFile(const std::string& fileName, DecodedImage& image, std::string& error)
{
  if (isPng(fileName))
  {
    return decodePng({ fileName }, image, false, error);
  }
  if (isJpeg(fileName))
  {
    return decodeJpeg({ fileName }, image, false, error);
  }
  const std::string extension = lowerExtension(fileName);
  if (extension == "png" || extension == "jpg" || extension == "jpeg")
  {
    error = "'" + fileName + "' is named ." + extension + " but does not start like one";
    return false;
  }
  QuietOutputWindow quiet;
  auto reader = openReader(fileName, error);
  if (!reader)
  {
    return false;
  }
  reader->UpdateInformation();
  const int* extent = reader->GetDataExtent();
  std::uint64_t bytes = std::uint64_t(std::max(1, reader->GetNumberOfScalarComponents())) *
    std::max(1, vtkAbstractArray::GetDataTypeSize(reader->GetDataScalarType()));
  for (int axis = 0; axis < 3; ++axis)
  {
    bytes *= std::uint64_t(std::max(0, extent[2 * axis + 1] - extent[2 * axis] + 1));
  }
  if (!fitsFileSize({ fileName }, bytes, error))
  {
    return false;
  }
  reader->Update();
  vtkImageData* data = reader->GetOutput();
  vtkDataArray* scalars = data ? data->GetPointData()->GetScalars() : nullptr;
  int dims[3] = { 0, 0, 0 };
  if (data)
  {
    data->GetDimensions(dims);
  }
  if (reader->GetErrorCode() != 0 || !scalars || dims[0] <= 0 || dims[1] <= 0 || dims[2] != 1 ||
    scalars->GetNumberOfTuples() != static_cast<vtkIdType>(dims[0]) * dims[1] ||
    scalars->GetNumberOfComponents() < 1 || scalars->GetNumberOfComponents() > 4)
  {
    error = "'" + fileName + "' is corrupt or truncated";
    return false;
  }
  image.width = dims[0];
  image.height = dims[1];
  image.channels = scalars->GetNumberOfComponents();
  image.pixels.resize(static_cast<size_t>(image.width) * image.height * image.channels);
  const bool sixteenBit = scalars->GetDataTypeSize() == 2;
  // VTK stores the bottom row first; DualEmbed arrays are top-row first.
  for (int y = 0; y < image.height; ++y)
  {
    const vtkIdType sourceRow = static_cast<vtkIdType>(image.height - 1 - y) * image.width;
    std::uint8_t* out = image.pixels.data() + static_cast<size_t>(y) * image.width * image.channels;
    for (int x = 0; x < image.width; ++x)
    {
      for (int c = 0; c < image.channels; ++c)
      {
        double v = scalars->GetComponent(sourceRow + x, c);
        if (sixteenBit)
        {
          v /= 257.0;
        }
        *out++ = static_cast<std::uint8_t>(std::min(255.0, std::max(0.0, std::round(v))));
      }
    }
  }
  return true;
}

bool decodeImageBytes(const std::uint8_t* data, std::size_t size, const std::string& name,
  DecodedImage& image, bool headerOnly, std::string& error)
{
  static const unsigned char png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  static const unsigned char jpeg[3] = { 0xff, 0xd8, 0xff };
  const EncodedInput input{ name, data, size };
  if (size >= 8 && std::equal(png, png + 8, data))
  {
    return decodePng(input, image, headerOnly, error);
  }
  if (size >= 3 && std::equal(jpeg, jpeg + 3, data))
  {
    return decodeJpeg(input, image, headerOnly, error);
  }
  error = name + " is neither a PNG nor a JPEG image (the encodings DualEmbed reads from bytes)";
  return false;
}

std::vector<std::uint8_t> makeThumbnail(const DecodedImage& image, int size)
{
  std::vector<std::uint8_t> out(static_cast<size_t>(size) * size * 3, 0);
  if (image.width <= 0 || image.height <= 0)
  {
    return out;
  }
  const double scale =
    std::min(static_cast<double>(size) / image.width, static_cast<double>(size) / image.height);
  const int w = std::max(1, static_cast<int>(std::lround(image.width * scale)));
  const int h = std::max(1, static_cast<int>(std::lround(image.height * scale)));
  const int x0 = (size - w) / 2;
  const int y0 = (size - h) / 2;
  const int rgb = image.channels >= 3 ? 3 : 1;
  // Box-average the source pixels that fall into each thumbnail pixel: a display
  // preview, so simple area averaging is enough (models decode the originals).
  for (int ty = 0; ty < h; ++ty)
  {
    const int sy0 = ty * image.height / h;
    const int sy1 = std::max(sy0 + 1, (ty + 1) * image.height / h);
    for (int tx = 0; tx < w; ++tx)
    {
      const int sx0 = tx * image.width / w;
      const int sx1 = std::max(sx0 + 1, (tx + 1) * image.width / w);
      double sum[3] = { 0, 0, 0 };
      for (int sy = sy0; sy < sy1; ++sy)
      {
        for (int sx = sx0; sx < sx1; ++sx)
        {
          const std::uint8_t* p =
            image.pixels.data() + (static_cast<size_t>(sy) * image.width + sx) * image.channels;
          for (int c = 0; c < 3; ++c)
          {
            sum[c] += p[rgb == 3 ? c : 0];
          }
        }
      }
      const double n = static_cast<double>(sy1 - sy0) * (sx1 - sx0);
      std::uint8_t* q = out.data() + (static_cast<size_t>(ty + y0) * size + tx + x0) * 3;
      for (int c = 0; c < 3; ++c)
      {
        q[c] = static_cast<std::uint8_t>(std::lround(sum[c] / n));
      }
    }
  }
  return out;
}
}
