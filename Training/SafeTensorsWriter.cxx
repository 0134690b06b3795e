#include "SafeTensorsWriter.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace dualembed
{
namespace training
{

void writeSafeTensors(const std::string& path, const std::map<std::string, at::Tensor>& tensors)
{
  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = { { "format", "pt" } };
  std::vector<at::Tensor> data;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) // std::map: sorted by name
  {
    at::Tensor t = tensor.detach().to(at::kCPU, at::kFloat).contiguous();
    const std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * sizeof(float);
    header[name] = { { "dtype", "F32" }, { "shape", t.sizes().vec() },
      { "data_offsets", { offset, offset + bytes } } };
    offset += bytes;
    data.push_back(t);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
  {
    throw std::runtime_error("Cannot write " + path);
  }
  const std::uint64_t n = text.size();
  unsigned char length[8];
  for (int i = 0; i < 8; ++i)
  {
    length[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff); // little endian
  }
  out.write(reinterpret_cast<const char*>(length), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const at::Tensor& t : data)
  {
    out.write(reinterpret_cast<const char*>(t.data_ptr<float>()),
      static_cast<std::streamsize>(t.numel() * sizeof(float)));
  }
  if (!out.flush())
  {
    throw std::runtime_error("Cannot write " + path);
  }
}

} // namespace training
} // namespace dualembed
