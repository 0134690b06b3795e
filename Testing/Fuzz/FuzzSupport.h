// Shared by the libFuzzer harnesses and the seed generator: the parsers read
// files, so each input is written to a per-process scratch folder first; inputs
// that hold several files are length-prefixed parts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace dualembed
{
namespace fuzz
{

/// A scratch folder for this process (under $TMPDIR), removed at exit.
inline const std::filesystem::path& scratch()
{
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/dualembed-fuzz-XXXXXX";
    if (!mkdtemp(pattern.data()))
    {
      std::abort();
    }
    static const std::string keep = pattern;
    std::atexit([] {
      std::error_code error;
      std::filesystem::remove_all(keep, error);
    });
    return std::filesystem::path(pattern);
  }();
  return dir;
}

inline void writeBytes(
  const std::filesystem::path& path, const std::uint8_t* data, std::size_t size)
{
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

inline void writeBytes(const std::filesystem::path& path, const std::string& bytes)
{
  writeBytes(path, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

/// Splits an input into `count` parts: each but the last is preceded by its
/// length (4 bytes, little-endian, clamped to what is left); the last takes the rest.
inline std::vector<std::string> splitParts(
  const std::uint8_t* data, std::size_t size, std::size_t count)
{
  std::vector<std::string> parts;
  std::size_t pos = 0;
  for (std::size_t i = 0; i + 1 < count; ++i)
  {
    std::uint32_t length = 0;
    for (int b = 0; b < 4 && pos < size; ++b)
    {
      length |= std::uint32_t(data[pos++]) << (8 * b);
    }
    const std::size_t take = std::min<std::size_t>(length, size - pos);
    parts.emplace_back(reinterpret_cast<const char*>(data + pos), take);
    pos += take;
  }
  parts.emplace_back(reinterpret_cast<const char*>(data + pos), size - pos);
  return parts;
}

/// The inverse of splitParts (for the seed corpora).
inline std::string joinParts(const std::vector<std::string>& parts)
{
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i)
  {
    if (i + 1 < parts.size())
    {
      const auto length = static_cast<std::uint32_t>(parts[i].size());
      for (int b = 0; b < 4; ++b)
      {
        out.push_back(static_cast<char>((length >> (8 * b)) & 0xFF));
      }
    }
    out += parts[i];
  }
  return out;
}

} // namespace fuzz
} // namespace dualembed
