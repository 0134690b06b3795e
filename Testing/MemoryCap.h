// Caps the address space of a test for the life of the object, so that a
// parser that allocates what a hostile file announces (gigabytes) fails with
// std::bad_alloc instead of passing or swapping. Sanitizer builds reserve
// terabytes of shadow memory, so there the cap is left to ASan
// (ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=..., set by
// Testing/Fuzz/run.sh), and this class does nothing.
#pragma once

#include <sys/resource.h>

#include <fstream>

#if defined(__SANITIZE_ADDRESS__)
#define DUALEMBED_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DUALEMBED_ASAN 1
#endif
#endif

namespace dualembed
{
namespace testing
{

class MemoryCap
{
public:
  /// Allows `extraBytes` more address space than the process uses now.
  explicit MemoryCap(unsigned long long extraBytes)
  {
#ifndef DUALEMBED_ASAN
    unsigned long long pages = 0;
    std::ifstream("/proc/self/statm") >> pages;
    if (pages > 0 && getrlimit(RLIMIT_AS, &this->Saved) == 0)
    {
      rlimit capped = this->Saved;
      capped.rlim_cur = pages * 4096ull + extraBytes;
      this->Active = setrlimit(RLIMIT_AS, &capped) == 0;
    }
#else
    (void)extraBytes;
#endif
  }
  ~MemoryCap()
  {
    if (this->Active)
    {
      setrlimit(RLIMIT_AS, &this->Saved);
    }
  }
  MemoryCap(const MemoryCap&) = delete;
  MemoryCap& operator=(const MemoryCap&) = delete;

private:
  rlimit Saved{};
  bool Active = false;
};

} // namespace testing
} // namespace dualembed
