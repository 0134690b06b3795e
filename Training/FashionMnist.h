// Minimal reader of the Fashion-MNIST IDX files (gzip-compressed, as Debian's
// dataset-fashion-mnist installs them in /usr/share/datasets/fashion-mnist),
// header-only, with zlib. Used by the demo-model training program when it is
// built without DualEmbed::Formats (standalone engine build) and by the test
// of the bundled models (Testing/Engine/TestDemoModels.cxx).
#ifndef DualEmbed_Training_FashionMnist_h
#define DualEmbed_Training_FashionMnist_h

#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace dualembed
{
namespace training
{

/// The ten Fashion-MNIST classes, by label id.
inline const std::vector<std::string>& fashionMnistClassNames()
{
  static const std::vector<std::string> names = { "T-shirt/top", "Trouser", "Pullover", "Dress",
    "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot" };
  return names;
}

struct IdxImages
{
  std::int64_t count = 0;
  int height = 0;
  int width = 0;
  std::vector<std::uint8_t> pixels; // count * height * width, row-major
  std::vector<std::int32_t> labels; // count
};

namespace detail
{

/// Whole (decompressed) content of a .gz file (zlib reads plain files too).
inline std::string readGzFile(const std::string& path)
{
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f)
  {
    throw std::runtime_error("Cannot open " + path);
  }
  std::string data;
  char buffer[1 << 16];
  int n = 0;
  while ((n = gzread(f, buffer, sizeof(buffer))) > 0)
  {
    data.append(buffer, static_cast<std::size_t>(n));
  }
  const bool failed = n < 0;
  gzclose(f);
  if (failed)
  {
    throw std::runtime_error("Cannot decompress " + path);
  }
  return data;
}

inline std::uint32_t bigEndian32(const std::string& data, std::size_t offset)
{
  const auto* p = reinterpret_cast<const unsigned char*>(data.data()) + offset;
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
    p[3];
}

} // namespace detail

/// Reads `<dir>/<split>-images-idx3-ubyte.gz` and `<dir>/<split>-labels-idx1-ubyte.gz`
/// (split "train" or "t10k"); at most `limit` samples when limit >= 0.
inline IdxImages readFashionMnist(
  const std::string& dir, const std::string& split, std::int64_t limit = -1)
{
  const std::string imagesPath = dir + "/" + split + "-images-idx3-ubyte.gz";
  const std::string labelsPath = dir + "/" + split + "-labels-idx1-ubyte.gz";
  const std::string images = detail::readGzFile(imagesPath);
  const std::string labels = detail::readGzFile(labelsPath);
  if (images.size() < 16 || detail::bigEndian32(images, 0) != 0x00000803)
  {
    throw std::runtime_error(imagesPath + " is not an IDX file of 8-bit images");
  }
  if (labels.size() < 8 || detail::bigEndian32(labels, 0) != 0x00000801)
  {
    throw std::runtime_error(labelsPath + " is not an IDX file of 8-bit labels");
  }
  IdxImages out;
  const std::int64_t n = detail::bigEndian32(images, 4);
  out.height = static_cast<int>(detail::bigEndian32(images, 8));
  out.width = static_cast<int>(detail::bigEndian32(images, 12));
  const std::size_t imageBytes = static_cast<std::size_t>(out.height) * out.width;
  if (detail::bigEndian32(labels, 4) != n || images.size() < 16 + n * imageBytes ||
    labels.size() < 8 + static_cast<std::size_t>(n))
  {
    throw std::runtime_error(
      imagesPath + " and " + labelsPath + " are truncated or disagree in size");
  }
  out.count = limit >= 0 && limit < n ? limit : n;
  out.pixels.assign(images.begin() + 16, images.begin() + 16 + out.count * imageBytes);
  out.labels.resize(static_cast<std::size_t>(out.count));
  for (std::int64_t i = 0; i < out.count; ++i)
  {
    out.labels[i] = static_cast<unsigned char>(labels[8 + i]);
  }
  return out;
}

} // namespace training
} // namespace dualembed

#endif
