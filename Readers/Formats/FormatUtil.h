// Helpers shared by the format parsers (internal; not part of the public API).
#pragma once

#include "ImageDataset.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dualembed
{
namespace formats
{
namespace detail
{

/// Throws FormatError(message).
[[noreturn]] void fail(const std::string& message);

/// "'<path>'", for messages.
std::string quoted(const std::string& path);
std::string quoted(const std::filesystem::path& path);

/// ASCII lower case.
std::string toLower(std::string text);

bool endsWith(const std::string& text, const std::string& suffix);

/// "0", "1", ... "count-1".
std::vector<std::string> numberedNames(std::int64_t count);

/// True when `path` is an existing regular file (or a link to one); never throws.
bool isFile(const std::filesystem::path& path);

/// Size of a regular file in bytes; throws FormatError naming `what` if it cannot be read.
std::int64_t fileSize(const std::filesystem::path& path);

/// One name per line: '\r' and surrounding blanks stripped, blank lines skipped.
/// Throws FormatError if the file cannot be read or holds no name.
std::vector<std::string> readNameList(const std::filesystem::path& path);

/// Reads exactly `size` bytes at `offset` of a plain file into `buffer`.
/// Throws FormatError (naming the file) if it cannot be opened or is shorter.
void readFileBytes(
  const std::filesystem::path& path, std::int64_t offset, std::int64_t size, std::uint8_t* buffer);

/// "1 byte", "3073 bytes".
std::string bytesText(std::int64_t count);

} // namespace detail
} // namespace formats
} // namespace dualembed
