#include "FormatUtil.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <system_error>

namespace dualembed
{
namespace formats
{
namespace detail
{

void fail(const std::string& message)
{
  throw FormatError(message);
}

std::string quoted(const std::string& path)
{
  return "'" + path + "'";
}

std::string quoted(const std::filesystem::path& path)
{
  return quoted(path.string());
}

std::string toLower(std::string text)
{
  std::transform(text.begin(), text.end(), text.begin(),
    [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool endsWith(const std::string& text, const std::string& suffix)
{
  return text.size() >= suffix.size() &&
    text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> numberedNames(std::int64_t count)
{
  std::vector<std::string> names;
  names.reserve(static_cast<std::size_t>(std::max<std::int64_t>(count, 0)));
  for (std::int64_t i = 0; i < count; ++i)
  {
    names.push_back(std::to_string(i));
  }
  return names;
}

bool isFile(const std::filesystem::path& path)
{
  std::error_code error;
  return std::filesystem::is_regular_file(path, error);
}

std::int64_t fileSize(const std::filesystem::path& path)
{
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error)
  {
    fail("The file " + quoted(path) + " cannot be read: " + error.message() + ".");
  }
  return static_cast<std::int64_t>(size);
}

std::vector<std::string> readNameList(const std::filesystem::path& path)
{
  std::ifstream stream(path, std::ios::binary);
  if (!stream)
  {
    fail("The class-name file " + quoted(path) + " cannot be opened for reading.");
  }
  std::vector<std::string> names;
  std::string line;
  while (std::getline(stream, line))
  {
    const auto isBlank = [](unsigned char c) { return std::isspace(c) != 0; };
    const auto begin = std::find_if_not(line.begin(), line.end(), isBlank);
    const auto end = std::find_if_not(line.rbegin(), line.rend(), isBlank).base();
    if (begin < end)
    {
      names.emplace_back(begin, end);
    }
  }
  if (stream.bad())
  {
    fail("The class-name file " + quoted(path) + " could not be read to the end.");
  }
  if (names.empty())
  {
    fail("The class-name file " + quoted(path) +
      " holds no class name; write one name per line, or delete it to use numbered classes.");
  }
  return names;
}

void readFileBytes(
  const std::filesystem::path& path, std::int64_t offset, std::int64_t size, std::uint8_t* buffer)
{
  std::ifstream stream(path, std::ios::binary);
  if (!stream)
  {
    fail("The file " + quoted(path) + " cannot be opened for reading.");
  }
  stream.seekg(static_cast<std::streamoff>(offset));
  std::int64_t done = 0;
  if (stream)
  {
    stream.read(reinterpret_cast<char*>(buffer), static_cast<std::streamsize>(size));
    done = static_cast<std::int64_t>(stream.gcount());
  }
  if (done != size)
  {
    fail("The file " + quoted(path) + " is truncated: expected " + bytesText(size) + " at offset " +
      std::to_string(offset) + ", found " + std::to_string(done) +
      ". It may have changed since it was opened, or the copy is incomplete.");
  }
}

std::string bytesText(std::int64_t count)
{
  return std::to_string(count) + (count == 1 ? " byte" : " bytes");
}

} // namespace detail
} // namespace formats
} // namespace dualembed
