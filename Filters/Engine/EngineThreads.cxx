#include "EngineThreads.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <dlfcn.h>
#include <fstream>
#include <sched.h>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace dualembed
{
namespace engine
{

int usableCores()
{
#ifdef __linux__
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0 && CPU_COUNT(&allowed) > 0)
  {
    return CPU_COUNT(&allowed);
  }
#endif
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int setEngineThreads(int count)
{
  const int n = count > 0 ? count : usableCores();
  at::set_num_threads(n);
  // LibTorch's matrix products run on OpenBLAS's own threads, which
  // at::set_num_threads does not size (it sizes OpenMP and MKL): unbound MPI
  // ranks each started one per core.
  using SetBlasThreads = void (*)(int);
  if (const auto setBlasThreads =
        reinterpret_cast<SetBlasThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
  {
    setBlasThreads(n);
  }
  return n;
}

int engineLoopThreads()
{
  const int64_t threads = std::max(1, at::get_num_threads());
  std::vector<std::atomic<int>> used(static_cast<size_t>(threads));
  at::parallel_for(0, threads, 1, [&](int64_t, int64_t) {
    const int id = at::get_thread_num();
    if (id >= 0 && id < threads)
    {
      used[static_cast<size_t>(id)] = 1;
    }
  });
  int count = 0;
  for (const auto& u : used)
  {
    count += u.load();
  }
  return count;
}

std::string engineRuntimeInfo()
{
  std::string info = at::get_parallel_info();
  info += "DualEmbed engine loops: " + std::to_string(engineLoopThreads()) + " threads\n";
#ifdef __linux__
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> libs;
  std::string line;
  while (std::getline(maps, line))
  {
    const auto slash = line.find('/');
    if (slash == std::string::npos)
    {
      continue;
    }
    const std::string file = line.substr(slash);
    const std::string base = file.substr(file.rfind('/') + 1);
    if (base.find("blas") != std::string::npos || base.find("lapack") != std::string::npos ||
      base.find("mkl") != std::string::npos)
    {
      libs.insert(file);
    }
  }
  info += "BLAS/LAPACK libraries mapped:\n";
  for (const auto& lib : libs)
  {
    info += "\t" + lib + "\n";
  }
#endif
  return info;
}

} // namespace engine
} // namespace dualembed
