// HDF5 C-API helpers shared by the HDF5 formats (image datasets, sample stores).
// Internal to Readers/Formats; the openmpi HDF5 is the one linked (as ParaView).
#ifndef DualEmbed_Formats_Hdf5Util_h
#define DualEmbed_Formats_Hdf5Util_h

#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dualembed
{
namespace formats
{
namespace detail
{

/// Owns an HDF5 identifier and closes it with the matching H5?close.
class Handle
{
public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer)
    : Id(id)
    , Close(closer)
  {
  }
  ~Handle() { this->reset(); }
  Handle(Handle&& other) noexcept
    : Id(std::exchange(other.Id, H5I_INVALID_HID))
    , Close(other.Close)
  {
  }
  Handle& operator=(Handle&& other) noexcept
  {
    if (this != &other)
    {
      this->reset();
      this->Id = std::exchange(other.Id, H5I_INVALID_HID);
      this->Close = other.Close;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return this->Id; }
  bool valid() const { return this->Id >= 0; }
  void reset()
  {
    if (this->Id >= 0 && this->Close)
    {
      this->Close(this->Id);
    }
    this->Id = H5I_INVALID_HID;
  }

private:
  hid_t Id = H5I_INVALID_HID;
  Closer Close = nullptr;
};

/// Deflate's largest expansion (1032:1); HDF5's other filters (shuffle,
/// Fletcher-32) do not expand.
constexpr std::uint64_t MaxFilterRatio = 1032;
/// Attribute strings (format marks, model paths) are short; longer ones are damage.
constexpr std::size_t MaxAttributeStringBytes = 1 << 20;

/// values · bytes per value, or UINT64_MAX when it overflows.
inline std::uint64_t checkedBytes(const std::vector<hsize_t>& dims, std::uint64_t valueBytes)
{
  std::uint64_t total = valueBytes;
  for (const hsize_t d : dims)
  {
    if (__builtin_mul_overflow(total, static_cast<std::uint64_t>(d), &total))
    {
      return UINT64_MAX;
    }
  }
  return total;
}

/// The most bytes a read of `dataset` can legitimately produce: its stored
/// bytes (at most the file's size), expanded by the largest filter ratio, plus
/// a little for small compact datasets. The extent is only a header field: a
/// 2 KiB file can declare 2^31 never-written elements, which HDF5 would return
/// as fill values after the caller allocated them all.
inline std::uint64_t readLimit(hid_t dataset, std::uint64_t fileSize)
{
  const std::uint64_t stored = std::min<std::uint64_t>(H5Dget_storage_size(dataset), fileSize);
  return (stored + 4096) * MaxFilterRatio;
}

/// Silences HDF5's automatic error stack printing while alive, then restores it.
class QuietErrors
{
public:
  QuietErrors()
  {
    this->Saved = H5Eget_auto2(H5E_DEFAULT, &this->Function, &this->Data) >= 0;
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors()
  {
    if (this->Saved)
    {
      H5Eset_auto2(H5E_DEFAULT, this->Function, this->Data);
    }
  }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

private:
  H5E_auto2_t Function = nullptr;
  void* Data = nullptr;
  bool Saved = false;
};

/// The innermost message of HDF5's current error stack, or "".
inline std::string hdf5Message()
{
  std::string message;
  H5Ewalk2(
    H5E_DEFAULT, H5E_WALK_DOWNWARD,
    [](unsigned, const H5E_error2_t* error, void* data) -> herr_t {
      auto* text = static_cast<std::string*>(data);
      if (error && error->desc && text->empty())
      {
        *text = error->desc;
      }
      return 0;
    },
    &message);
  H5Eclear2(H5E_DEFAULT);
  return message;
}

/// " (HDF5: <innermost message>)" for the current error stack, or ""; clears the stack.
inline std::string detailText()
{
  const std::string message = hdf5Message();
  return message.empty() ? "" : " (HDF5: " + message + ")";
}

} // namespace detail
} // namespace formats
} // namespace dualembed

#endif
