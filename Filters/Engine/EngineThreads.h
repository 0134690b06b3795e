// The engine's thread policy: how many cores this process may use, and the
// thread counts of ATen's loops and OpenBLAS's products. (SampleExchange.h
// divides a host's cores between the MPI ranks on it.)
#ifndef DualEmbed_Engine_EngineThreads_h
#define DualEmbed_Engine_EngineThreads_h

#include <string>

namespace dualembed
{
namespace engine
{
/// Cores this process may run on: its CPU affinity (mpiexec binds each rank
/// to its share of the cores), else the hardware concurrency; at least 1.
int usableCores();

/// Sets ATen's intra-op thread count (count <= 0: usableCores()) and
/// OpenBLAS's thread count when LibTorch runs on OpenBLAS; returns the count
/// set. ATen starts with 1 thread on Debian's LibTorch.
int setEngineThreads(int count = 0);

/// Threads that the engine's own parallel loops (at::parallel_for in the
/// kNN, UMAP and t-SNE code) really get: at::get_num_threads() when the
/// engine is compiled with OpenMP, 1 when it is not (ATen's parallel_for
/// then runs every loop on the calling thread).
int engineLoopThreads();

/// at::get_parallel_info(), the engine's loop threads and the BLAS library
/// in use, for logs.
std::string engineRuntimeInfo();

} // namespace engine
} // namespace dualembed

#endif
