// Minimal reader (and float32 writer) of NumPy .npy files for the engine tests
// and benchmarks (header only).
//
// Supports format versions 1.0, 2.0 and 3.0, C order only; any dtype is
// read as raw bytes and reported by its descr string ('<f4', '|u1', '<i8',
// ...). Use NpyArray::values<T>(expectedDescr) for a typed copy.
#ifndef DualEmbed_Testing_NpyReader_h
#define DualEmbed_Testing_NpyReader_h

#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace dualembed
{
namespace testdata
{

struct NpyArray
{
  std::string descr;              // numpy dtype string, e.g. "<f4", "|u1"
  std::vector<std::size_t> shape; // empty for a scalar
  std::vector<char> data;         // raw bytes, C order

  std::size_t size() const
  {
    return std::accumulate(shape.begin(), shape.end(), std::size_t{ 1 }, std::multiplies<>());
  }

  /// Copies the data as T after checking the dtype string.
  template <typename T>
  std::vector<T> values(const std::string& expectedDescr) const
  {
    if (descr != expectedDescr)
    {
      throw std::runtime_error("npy dtype is '" + descr + "', expected '" + expectedDescr + "'");
    }
    if (data.size() != size() * sizeof(T))
    {
      throw std::runtime_error("npy data size does not match its shape and dtype");
    }
    std::vector<T> out(size());
    if (!out.empty())
    {
      std::memcpy(out.data(), data.data(), data.size());
    }
    return out;
  }

  /// uint8 ("|u1") or float32 ("<f4") data as float32 (pixels or embeddings).
  std::vector<float> floatValues() const
  {
    if (descr == "|u1")
    {
      const auto bytes = values<uint8_t>("|u1");
      return std::vector<float>(bytes.begin(), bytes.end());
    }
    return values<float>("<f4");
  }
};

namespace detail
{

inline std::string npyHeaderValue(const std::string& header, const std::string& key)
{
  const std::string quoted = "'" + key + "'";
  const std::size_t k = header.find(quoted);
  if (k == std::string::npos)
  {
    throw std::runtime_error("npy header lacks '" + key + "': " + header);
  }
  std::size_t p = header.find(':', k + quoted.size());
  if (p == std::string::npos)
  {
    throw std::runtime_error("malformed npy header: " + header);
  }
  ++p;
  while (p < header.size() && header[p] == ' ')
  {
    ++p;
  }
  std::size_t end = p;
  if (p < header.size() && (header[p] == '\'' || header[p] == '"'))
  {
    end = header.find(header[p], p + 1);
    return header.substr(p + 1, end - p - 1);
  }
  if (p < header.size() && header[p] == '(')
  {
    end = header.find(')', p);
    return header.substr(p, end - p + 1);
  }
  end = header.find_first_of(",}", p);
  return header.substr(p, end - p);
}

inline std::size_t npyItemSize(const std::string& descr)
{
  if (descr.size() < 3)
  {
    throw std::runtime_error("unsupported npy dtype '" + descr + "'");
  }
  return static_cast<std::size_t>(std::stoul(descr.substr(2)));
}

} // namespace detail

/// Reads a .npy file; throws std::runtime_error on malformed or Fortran-order
/// files and on big-endian data.
inline NpyArray readNpy(const std::string& path)
{
  std::ifstream file(path, std::ios::binary);
  if (!file)
  {
    throw std::runtime_error("cannot open npy file '" + path + "'");
  }
  char magic[8];
  file.read(magic, 8);
  if (!file || std::memcmp(magic, "\x93NUMPY", 6) != 0)
  {
    throw std::runtime_error("'" + path + "' is not a .npy file");
  }
  const int major = static_cast<unsigned char>(magic[6]);
  std::uint32_t headerLength = 0;
  if (major == 1)
  {
    unsigned char b[2];
    file.read(reinterpret_cast<char*>(b), 2);
    headerLength = b[0] | (b[1] << 8);
  }
  else if (major == 2 || major == 3)
  {
    unsigned char b[4];
    file.read(reinterpret_cast<char*>(b), 4);
    headerLength = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  }
  else
  {
    throw std::runtime_error("'" + path + "' has unsupported npy version " + std::to_string(major));
  }
  std::string header(headerLength, '\0');
  file.read(&header[0], headerLength);
  if (!file)
  {
    throw std::runtime_error("'" + path + "' has a truncated npy header");
  }

  NpyArray array;
  array.descr = detail::npyHeaderValue(header, "descr");
  if (detail::npyHeaderValue(header, "fortran_order").find("True") != std::string::npos)
  {
    throw std::runtime_error("'" + path + "' is in Fortran order; only C order is supported");
  }
  if (!array.descr.empty() && array.descr[0] == '>' && detail::npyItemSize(array.descr) > 1)
  {
    throw std::runtime_error("'" + path + "' holds big-endian data");
  }
  const std::string shape = detail::npyHeaderValue(header, "shape");
  std::size_t p = 0;
  while ((p = shape.find_first_of("0123456789", p)) != std::string::npos)
  {
    std::size_t end = shape.find_first_not_of("0123456789", p);
    array.shape.push_back(static_cast<std::size_t>(std::stoull(shape.substr(p, end - p))));
    p = end;
  }
  const std::size_t bytes = array.size() * detail::npyItemSize(array.descr);
  array.data.resize(bytes);
  file.read(array.data.data(), static_cast<std::streamsize>(bytes));
  if (static_cast<std::size_t>(file.gcount()) != bytes)
  {
    throw std::runtime_error("'" + path + "' is truncated");
  }
  return array;
}

/// Writes `data` as a .npy file (format 1.0, C order) of dtype `descr`
/// ('<f4', '<i4', ...; sizeof(T) bytes each) and shape `shape` (the inside of
/// the tuple: "3, 2" or "5,").
template <typename T>
void writeNpy(
  const std::string& path, const std::vector<T>& data, const char* descr, const std::string& shape)
{
  std::string header =
    std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + shape + "), }";
  while ((10 + header.size() + 1) % 64 != 0)
  {
    header += ' ';
  }
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.write(reinterpret_cast<const char*>(&len), 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(data.data()),
    static_cast<std::streamsize>(data.size() * sizeof(T)));
  if (!out)
  {
    throw std::runtime_error("cannot write " + path);
  }
}

/// Writes a rows x cols float32 matrix.
inline void writeNpy(
  const std::string& path, const std::vector<float>& data, int64_t rows, int64_t cols)
{
  writeNpy(path, data, "<f4", std::to_string(rows) + ", " + std::to_string(cols));
}

} // namespace testdata
} // namespace dualembed

#endif
