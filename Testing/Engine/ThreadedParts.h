// The parts of a distributed run as threads of one process, for the engine
// tests of distributed computations (DistributedNeighbors.h). Header-only.
#ifndef DualEmbed_Testing_ThreadedParts_h
#define DualEmbed_Testing_ThreadedParts_h

#include "DistributedNeighbors.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

namespace dualembed
{
namespace testdata
{
using engine::PartExchange;

/// The parts of a distributed search as threads of this process: what MPI
/// ranks do, with a barrier between the steps of each collective call.
class ThreadedParts
{
public:
  explicit ThreadedParts(std::vector<int64_t> counts)
    : Counts(std::move(counts))
    , Floats(Counts.size())
    , Integers(Counts.size())
    , Doubles(Counts.size())
  {
  }
  int parts() const { return static_cast<int>(this->Counts.size()); }

  /// Runs body(part, exchange) on one thread per part (one ATen thread each).
  void run(const std::function<void(int, const PartExchange&)>& body)
  {
    std::vector<std::thread> threads;
    for (int p = 0; p < this->parts(); ++p)
    {
      threads.emplace_back([this, p, &body] {
        at::set_num_threads(1);
        body(p, Exchange(*this, p));
      });
    }
    for (auto& thread : threads)
    {
      thread.join();
    }
  }

private:
  void barrier()
  {
    std::unique_lock<std::mutex> lock(this->Mutex);
    const long generation = this->Generation;
    if (++this->Arrived == this->parts())
    {
      this->Arrived = 0;
      ++this->Generation;
      this->Turn.notify_all();
    }
    else
    {
      this->Turn.wait(lock, [&] { return this->Generation != generation; });
    }
  }

  class Exchange : public PartExchange
  {
  public:
    Exchange(ThreadedParts& all, int part)
      : All(all)
      , Part(part)
    {
    }
    int parts() const override { return this->All.parts(); }
    int part() const override { return this->Part; }
    int64_t firstRow(int p) const override
    {
      return std::accumulate(this->All.Counts.begin(), this->All.Counts.begin() + p, int64_t{ 0 });
    }
    int64_t rowCount(int p) const override { return this->All.Counts[p]; }
    void broadcast(std::vector<float>& values, int root) const override
    {
      this->share(values, root, this->All.Floats);
    }
    void broadcast(std::vector<int64_t>& values, int root) const override
    {
      this->share(values, root, this->All.Integers);
    }
    void broadcast(std::vector<double>& values, int root) const override
    {
      this->share(values, root, this->All.Doubles);
    }
    std::vector<float> gather(const std::vector<float>& values, int root) const override
    {
      return this->collect(values, root, this->All.Floats);
    }
    std::vector<int64_t> gather(const std::vector<int64_t>& values, int root) const override
    {
      return this->collect(values, root, this->All.Integers);
    }
    std::vector<double> gather(const std::vector<double>& values, int root) const override
    {
      return this->collect(values, root, this->All.Doubles);
    }
    int minimum(int value) const override
    {
      const std::vector<int64_t> all = this->everywhere(value);
      return static_cast<int>(*std::min_element(all.begin(), all.end()));
    }
    int64_t sum(int64_t value) const override
    {
      const std::vector<int64_t> all = this->everywhere(value);
      return std::accumulate(all.begin(), all.end(), int64_t{ 0 });
    }

  private:
    template <typename T>
    void share(std::vector<T>& values, int root, std::vector<std::vector<T>>& slots) const
    {
      if (this->Part == root)
      {
        slots[root] = values;
      }
      this->All.barrier();
      if (this->Part != root)
      {
        values = slots[root];
      }
      this->All.barrier();
    }
    template <typename T>
    std::vector<T> collect(
      const std::vector<T>& values, int root, std::vector<std::vector<T>>& slots) const
    {
      slots[this->Part] = values;
      this->All.barrier();
      std::vector<T> all;
      if (this->Part == root)
      {
        for (const auto& slot : slots)
        {
          all.insert(all.end(), slot.begin(), slot.end());
        }
      }
      this->All.barrier();
      return all;
    }
    std::vector<int64_t> everywhere(int64_t value) const
    {
      std::vector<int64_t> all =
        this->collect(std::vector<int64_t>{ value }, 0, this->All.Integers);
      this->broadcast(all, 0);
      return all;
    }

    ThreadedParts& All;
    int Part;
  };

  std::vector<int64_t> Counts;
  std::vector<std::vector<float>> Floats;
  std::vector<std::vector<int64_t>> Integers;
  std::vector<std::vector<double>> Doubles;
  std::mutex Mutex;
  std::condition_variable Turn;
  int Arrived = 0;
  long Generation = 0;
};

/// `exchange` as the shared pointer that NeighborSearch::parts holds (not owned).
inline std::shared_ptr<const PartExchange> partsOf(const PartExchange& exchange)
{
  return std::shared_ptr<const PartExchange>(&exchange, [](const PartExchange*) {});
}
} // namespace testdata
} // namespace dualembed

#endif
