#include "BufferReuse.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dualembed
{
namespace engine
{
namespace
{

constexpr std::size_t kMinBlockBytes = std::size_t(1) << 20;
constexpr std::size_t kMaxCachedBytes = std::size_t(4) << 30;

/// A block from the wrapped allocator; its DataPtr frees it for good.
struct Block
{
  at::DataPtr data;
  std::size_t size;
};

/// DataPtrs have context == data, as the default allocator's, so that
/// ATen's raw_allocate / raw_deallocate (oneDNN convolutions) work too.
class ReusingAllocator final : public at::Allocator
{
public:
  at::DataPtr allocate(std::size_t n) const override
  {
    if (n < kMinBlockBytes)
    {
      return Wrapped->allocate(n);
    }
    std::lock_guard<std::mutex> lock(Mutex);
    void* p = nullptr;
    auto it = Free.find(n);
    if (it != Free.end() && !it->second.empty())
    {
      p = it->second.back();
      it->second.pop_back();
      Cached -= n;
      ++Reused;
    }
    else
    {
      at::DataPtr fresh = Wrapped->allocate(n);
      p = fresh.get();
      Blocks.emplace(p, Block{ std::move(fresh), n });
    }
    return at::DataPtr(p, p, &ReusingAllocator::release, at::Device(at::kCPU));
  }

  at::DeleterFnPtr raw_deleter() const override { return &ReusingAllocator::release; }

  static ReusingAllocator& instance()
  {
    // Never destroyed: tensors freed during static destruction still find it.
    static auto* allocator = new ReusingAllocator;
    return *allocator;
  }

  void enter()
  {
    std::lock_guard<std::mutex> lock(Mutex);
    if (Depth++ == 0)
    {
      Wrapped = c10::GetCPUAllocator();
      c10::SetCPUAllocator(this);
    }
  }

  void leave()
  {
    std::vector<Block> dropped;
    {
      std::lock_guard<std::mutex> lock(Mutex);
      if (--Depth > 0)
      {
        return;
      }
      if (c10::GetCPUAllocator() == this)
      {
        c10::SetCPUAllocator(Wrapped);
      }
      for (auto& sized : Free)
      {
        for (void* p : sized.second)
        {
          auto it = Blocks.find(p);
          dropped.push_back(std::move(it->second));
          Blocks.erase(it);
        }
      }
      Free.clear();
      Cached = 0;
      Reused = 0;
    }
    // `dropped` frees the blocks here, outside the lock.
  }

  std::size_t cachedBytes() const
  {
    std::lock_guard<std::mutex> lock(Mutex);
    return Cached;
  }

  std::size_t reusedBlocks() const
  {
    std::lock_guard<std::mutex> lock(Mutex);
    return Reused;
  }

private:
  static void release(void* p)
  {
    ReusingAllocator& self = instance();
    Block dropped;
    {
      std::lock_guard<std::mutex> lock(self.Mutex);
      auto it = self.Blocks.find(p);
      if (it == self.Blocks.end())
      {
        // a small block of the wrapped allocator, through raw_deallocate
        self.Wrapped->raw_deleter()(p);
        return;
      }
      if (self.Depth > 0 && self.Cached + it->second.size <= kMaxCachedBytes)
      {
        self.Free[it->second.size].push_back(p);
        self.Cached += it->second.size;
        return;
      }
      dropped = std::move(it->second);
      self.Blocks.erase(it);
    }
  }

  mutable std::mutex Mutex;
  at::Allocator* Wrapped = nullptr;
  int Depth = 0;
  mutable std::unordered_map<void*, Block> Blocks; // every block handed out or kept
  mutable std::unordered_map<std::size_t, std::vector<void*>> Free;
  mutable std::size_t Cached = 0;
  mutable std::size_t Reused = 0;
};

} // namespace

BufferReuseScope::BufferReuseScope()
{
  ReusingAllocator::instance().enter();
}

BufferReuseScope::~BufferReuseScope()
{
  ReusingAllocator::instance().leave();
}

std::size_t BufferReuseScope::cachedBytes()
{
  return ReusingAllocator::instance().cachedBytes();
}

std::size_t BufferReuseScope::reusedBlocks()
{
  return ReusingAllocator::instance().reusedBlocks();
}

} // namespace engine
} // namespace dualembed
