#include "SafeTensors.h"

#include "EngineError.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <utility>
#include <vector>

namespace dualembed
{
namespace engine
{
namespace
{

constexpr std::uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

struct DTypeInfo
{
  at::ScalarType type;
  std::size_t bytes;
};

bool lookupDType(const std::string& name, DTypeInfo& info)
{
  static const std::map<std::string, DTypeInfo> table = {
    { "F64", { at::kDouble, 8 } },
    { "F32", { at::kFloat, 4 } },
    { "F16", { at::kHalf, 2 } },
    { "BF16", { at::kBFloat16, 2 } },
    { "I64", { at::kLong, 8 } },
    { "I32", { at::kInt, 4 } },
    { "I16", { at::kShort, 2 } },
    { "I8", { at::kChar, 1 } },
    { "U8", { at::kByte, 1 } },
    { "BOOL", { at::kBool, 1 } },
  };
  auto it = table.find(name);
  if (it == table.end())
  {
    return false;
  }
  info = it->second;
  return true;
}

[[noreturn]] void fail(const std::string& source, const std::string& what)
{
  throw ModelError(source + ": " + what);
}

std::string shapeString(const std::vector<std::int64_t>& shape)
{
  std::ostringstream s;
  s << "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
  {
    s << (i ? ", " : "") << shape[i];
  }
  s << "]";
  return s.str();
}

} // namespace

TensorMap parseSafeTensors(const std::string& bytes, const std::string& source)
{
  if (bytes.size() < 8)
  {
    fail(source, "not a safetensors file (shorter than its 8-byte header length)");
  }
  std::uint64_t headerLength = 0;
  for (int i = 7; i >= 0; --i)
  {
    headerLength =
      (headerLength << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  }
  if (headerLength > kMaxHeaderBytes)
  {
    fail(source,
      "safetensors header length " + std::to_string(headerLength) +
        " is implausible (over 100 MB); the file is corrupt or not a safetensors file");
  }
  if (headerLength > bytes.size() - 8)
  {
    fail(source,
      "safetensors header length " + std::to_string(headerLength) + " exceeds the file size " +
        std::to_string(bytes.size()) + " (truncated or corrupt file)");
  }
  const std::size_t dataBegin = 8 + static_cast<std::size_t>(headerLength);
  const std::size_t dataSize = bytes.size() - dataBegin;

  nlohmann::json header;
  try
  {
    header = nlohmann::json::parse(
      bytes.begin() + 8, bytes.begin() + static_cast<std::ptrdiff_t>(dataBegin));
  }
  catch (const nlohmann::json::exception& e)
  {
    fail(source, std::string("safetensors header is not valid JSON: ") + e.what());
  }
  if (!header.is_object())
  {
    fail(source, "safetensors header is not a JSON object");
  }

  struct Entry
  {
    std::string name;
    DTypeInfo dtype;
    std::vector<std::int64_t> shape;
    std::uint64_t begin;
    std::uint64_t end;
  };
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it)
  {
    const std::string& name = it.key();
    if (name == "__metadata__")
    {
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    const nlohmann::json& desc = it.value();
    if (!desc.is_object() || !desc.contains("dtype") || !desc.contains("shape") ||
      !desc.contains("data_offsets"))
    {
      fail(source, where + " lacks dtype, shape or data_offsets in the safetensors header");
    }
    Entry e;
    e.name = name;
    const nlohmann::json& dt = desc["dtype"];
    if (!dt.is_string() || !lookupDType(dt.get<std::string>(), e.dtype))
    {
      fail(source,
        where + " has unsupported dtype " + dt.dump() +
          " (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
    }
    const nlohmann::json& shape = desc["shape"];
    if (!shape.is_array())
    {
      fail(source, where + " has a shape that is not a list");
    }
    std::uint64_t count = 1;
    for (const auto& d : shape)
    {
      if (!d.is_number_integer() || d.get<std::int64_t>() < 0)
      {
        fail(source, where + " has an invalid dimension " + d.dump() + " in its shape");
      }
      const auto v = d.get<std::uint64_t>();
      if (v != 0 && count > std::numeric_limits<std::uint64_t>::max() / 16 / v)
      {
        fail(source, where + " has an absurdly large shape");
      }
      count *= v;
      e.shape.push_back(static_cast<std::int64_t>(v));
    }
    const nlohmann::json& off = desc["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
      !off[1].is_number_unsigned())
    {
      fail(source, where + " has invalid data_offsets " + off.dump());
    }
    e.begin = off[0].get<std::uint64_t>();
    e.end = off[1].get<std::uint64_t>();
    if (e.begin > e.end || e.end > dataSize)
    {
      fail(source,
        where + " has data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
          "] outside the data section of " + std::to_string(dataSize) +
          " bytes (truncated or corrupt file)");
    }
    const std::uint64_t expected = count * e.dtype.bytes;
    if (e.end - e.begin != expected)
    {
      fail(source,
        where + " occupies " + std::to_string(e.end - e.begin) + " bytes but its shape " +
          shapeString(e.shape) + " and dtype " + dt.get<std::string>() + " need " +
          std::to_string(expected));
    }
    entries.push_back(std::move(e));
  }

  // Regions must not overlap (empty tensors occupy nothing).
  std::vector<const Entry*> sorted;
  for (const auto& e : entries)
  {
    if (e.end > e.begin)
    {
      sorted.push_back(&e);
    }
  }
  std::sort(sorted.begin(), sorted.end(),
    [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  for (std::size_t i = 1; i < sorted.size(); ++i)
  {
    if (sorted[i]->begin < sorted[i - 1]->end)
    {
      fail(source,
        "tensor '" + sorted[i]->name + "' overlaps tensor '" + sorted[i - 1]->name +
          "' in the data section (corrupt file)");
    }
  }

  TensorMap result;
  for (const auto& e : entries)
  {
    at::Tensor t = at::empty(e.shape, at::TensorOptions().dtype(e.dtype.type));
    if (e.end > e.begin)
    {
      std::memcpy(t.data_ptr(), bytes.data() + dataBegin + e.begin, e.end - e.begin);
    }
    result[e.name] = t.to(at::kFloat).contiguous();
  }
  return result;
}

TensorMap loadSafeTensors(const std::string& path)
{
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
  {
    throw ModelError(path + ": cannot open the safetensors file");
  }
  const std::streamoff size = in.tellg();
  if (size < 0)
  {
    throw ModelError(path + ": cannot determine the size of the safetensors file");
  }
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.seekg(0);
  if (size > 0 && !in.read(&bytes[0], size))
  {
    throw ModelError(path + ": error while reading the safetensors file");
  }
  return parseSafeTensors(bytes, path);
}

} // namespace engine
} // namespace dualembed
