// Reuse of the forward pass's large CPU buffers from batch to batch.
//
// Why: a ViT/Swin forward allocates the same large activations (tens of MB)
// in every layer and every batch. glibc serves them with fresh mmap'ed pages,
// and the kernel's page faults and zeroing then took 20 % of the CPU time of
// a Swin-B batch (0.9 s of 4.4 s, measured with `time`; 174 000 faults per
// ViT-B batch). PyTorch leaves this to the process's malloc (its CPU docs
// suggest preloading jemalloc), which a plugin cannot choose.
//
// While a BufferReuseScope is alive, LibTorch's CPU allocator is wrapped:
// freed blocks of at least 1 MiB are kept by exact size and handed out again
// (a forward repeats its sizes exactly), up to 4 GiB in all. When the
// outermost scope ends the cache is freed and the default allocator is back,
// so nothing is held once the work is done. Tensors that outlive the scope
// are freed normally.
#ifndef DualEmbed_Engine_BufferReuse_h
#define DualEmbed_Engine_BufferReuse_h

#include <cstddef>

namespace dualembed
{
namespace engine
{

class BufferReuseScope
{
public:
  BufferReuseScope();
  ~BufferReuseScope();
  BufferReuseScope(const BufferReuseScope&) = delete;
  BufferReuseScope& operator=(const BufferReuseScope&) = delete;

  /// Bytes held for reuse now, and the blocks handed out again so far
  /// (statistics of the current outermost scope; for tests and benchmarks).
  static std::size_t cachedBytes();
  static std::size_t reusedBlocks();
};

} // namespace engine
} // namespace dualembed

#endif
