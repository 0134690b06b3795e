#include "SampleExchange.h"

#include "EngineThreads.h" // engine::usableCores

#include "vtkAppendPolyData.h"
#include "vtkCommunicator.h"
#include "vtkMultiProcessController.h"
#include "vtkNew.h"
#include "vtkPolyData.h"
#if VTK_MODULE_ENABLE_VTK_ParallelMPI
#include "vtkMPICommunicator.h"
#endif

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace dualembed
{
namespace
{
/// Lengths and offsets (in values) of each rank's part for AllGatherV / ScatterV.
struct Layout
{
  std::vector<vtkIdType> lengths, offsets;
  vtkIdType total = 0;
};

Layout layoutOf(const std::vector<vtkIdType>& counts, vtkIdType valuesPerRow)
{
  Layout layout;
  for (vtkIdType count : counts)
  {
    layout.offsets.push_back(layout.total);
    layout.lengths.push_back(count * valuesPerRow);
    layout.total += count * valuesPerRow;
  }
  return layout;
}

template <typename T>
std::vector<T> allGatherV(vtkMultiProcessController* controller, const std::vector<T>& local,
  const std::vector<vtkIdType>& counts, vtkIdType valuesPerRow)
{
  if (!controller || counts.size() < 2)
  {
    return local;
  }
  Layout layout = layoutOf(counts, valuesPerRow);
  std::vector<T> all(static_cast<size_t>(layout.total));
  controller->AllGatherV(local.data(), all.data(), static_cast<vtkIdType>(local.size()),
    layout.lengths.data(), layout.offsets.data());
  return all;
}

template <typename T>
std::vector<T> allGatherLists(
  vtkMultiProcessController* controller, const std::vector<T>& local, int ranks)
{
  if (!controller || ranks < 2)
  {
    return local;
  }
  std::vector<vtkIdType> counts(ranks);
  const vtkIdType mine = static_cast<vtkIdType>(local.size());
  controller->AllGather(&mine, counts.data(), 1);
  return allGatherV(controller, local, counts, 1);
}

int positiveEnvironment(const char* name)
{
  const char* value = std::getenv(name);
  const int n = value ? std::atoi(value) : 0;
  return n > 0 ? n : 0;
}
}

SampleExchange::SampleExchange(vtkIdType localRows)
{
  vtkMultiProcessController* controller = vtkMultiProcessController::GetGlobalController();
  if (controller && controller->GetNumberOfProcesses() > 1)
  {
    this->Controller = controller;
    this->Rank = controller->GetLocalProcessId();
    this->Ranks = controller->GetNumberOfProcesses();
  }
  this->Counts.assign(this->Ranks, 0);
  if (this->Controller)
  {
    this->Controller->AllGather(&localRows, this->Counts.data(), 1);
  }
  else
  {
    this->Counts[0] = localRows;
  }
  for (vtkIdType count : this->Counts)
  {
    this->Offsets.push_back(this->Total);
    this->Total += count;
  }
}

std::vector<float> SampleExchange::allGatherRows(
  const std::vector<float>& local, int valuesPerRow) const
{
  return allGatherV(this->Controller, local, this->Counts, valuesPerRow);
}

std::vector<double> SampleExchange::allGatherRows(
  const std::vector<double>& local, int valuesPerRow) const
{
  return allGatherV(this->Controller, local, this->Counts, valuesPerRow);
}

std::vector<int> SampleExchange::allGatherRows(
  const std::vector<int>& local, int valuesPerRow) const
{
  return allGatherV(this->Controller, local, this->Counts, valuesPerRow);
}

std::vector<long long> SampleExchange::allGatherLists(const std::vector<long long>& local) const
{
  return dualembed::allGatherLists(this->Controller, local, this->Ranks);
}

std::vector<double> SampleExchange::allGatherLists(const std::vector<double>& local) const
{
  return dualembed::allGatherLists(this->Controller, local, this->Ranks);
}

std::vector<float> SampleExchange::gatherRowsToRoot(
  const std::vector<float>& local, int valuesPerRow) const
{
  if (!this->Controller)
  {
    return local;
  }
  Layout layout = layoutOf(this->Counts, valuesPerRow);
  std::vector<float> all(this->Rank == 0 ? static_cast<size_t>(layout.total) : 0);
  this->Controller->GatherV(local.data(), all.data(), static_cast<vtkIdType>(local.size()),
    layout.lengths.data(), layout.offsets.data(), 0);
  return all;
}

std::vector<float> SampleExchange::scatterRowsFromRoot(
  const std::vector<float>& all, int valuesPerRow) const
{
  if (!this->Controller)
  {
    return all;
  }
  Layout layout = layoutOf(this->Counts, valuesPerRow);
  std::vector<float> mine(static_cast<size_t>(this->localRows() * valuesPerRow));
  this->Controller->ScatterV(all.data(), mine.data(), layout.lengths.data(), layout.offsets.data(),
    static_cast<vtkIdType>(mine.size()), 0);
  return mine;
}

vtkSmartPointer<vtkPolyData> SampleExchange::allGatherPolyData(vtkPolyData* local) const
{
  vtkNew<vtkAppendPolyData> append;
  if (!this->Controller)
  {
    append->AddInputData(local);
  }
  else
  {
    std::vector<vtkSmartPointer<vtkDataObject>> pieces;
    this->Controller->AllGather(local, pieces);
    for (const auto& piece : pieces)
    {
      vtkPolyData* polyData = vtkPolyData::SafeDownCast(piece);
      if (polyData && polyData->GetNumberOfPoints() > 0)
      {
        append->AddInputData(polyData);
      }
    }
  }
  vtkSmartPointer<vtkPolyData> all = vtkSmartPointer<vtkPolyData>::New();
  if (append->GetNumberOfInputConnections(0) > 0)
  {
    append->Update();
    all->ShallowCopy(append->GetOutput());
  }
  return all;
}

namespace
{
constexpr int RootDoneTag =
  0x4445; // "DE": DualEmbed's only point-to-point message (< 32768, any MPI)
}

void SampleExchange::rootWorkDone() const
{
  if (!this->Controller || this->Rank != 0)
  {
    return;
  }
  int done = 1;
  for (int rank = 1; rank < this->Ranks; ++rank)
  {
    this->Controller->Send(&done, 1, rank, RootDoneTag);
  }
}

void SampleExchange::waitForRoot() const
{
  if (!this->Controller || this->Rank == 0)
  {
    return;
  }
#if VTK_MODULE_ENABLE_VTK_ParallelMPI
  // MPI's blocking receive polls at full speed; a 2 ms nap between probes
  // leaves the core to the root's threads.
  if (auto* mpi = vtkMPICommunicator::SafeDownCast(this->Controller->GetCommunicator()))
  {
    int arrived = 0;
    int source = 0;
    while (mpi->Iprobe(0, RootDoneTag, &arrived, &source) && !arrived)
    {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
#endif
  int done = 0;
  this->Controller->Receive(&done, 1, 0, RootDoneTag);
}

int SampleExchange::minimum(int value) const
{
  if (!this->Controller)
  {
    return value;
  }
  int all = value;
  this->Controller->AllReduce(&value, &all, 1, vtkCommunicator::MIN_OP);
  return all;
}

long long SampleExchange::sum(long long value) const
{
  if (!this->Controller)
  {
    return value;
  }
  long long all = value;
  this->Controller->AllReduce(&value, &all, 1, vtkCommunicator::SUM_OP);
  return all;
}

namespace
{
template <typename T>
void broadcastFrom(vtkMultiProcessController* controller, std::vector<T>& values, int root)
{
  if (!controller)
  {
    return;
  }
  vtkIdType size = static_cast<vtkIdType>(values.size());
  controller->Broadcast(&size, 1, root);
  values.resize(static_cast<size_t>(size));
  if (size > 0)
  {
    controller->Broadcast(values.data(), size, root);
  }
}

template <typename T>
std::vector<T> gatherOn(vtkMultiProcessController* controller, const std::vector<T>& values,
  int root, int rank, int ranks)
{
  if (!controller)
  {
    return values;
  }
  std::vector<T> all(rank == root ? values.size() * static_cast<size_t>(ranks) : 0);
  if (!values.empty())
  {
    controller->Gather(values.data(), all.data(), static_cast<vtkIdType>(values.size()), root);
  }
  return all;
}
} // namespace

void SampleExchange::broadcast(std::vector<float>& values, int root) const
{
  broadcastFrom(this->Controller, values, root);
}

void SampleExchange::broadcast(std::vector<long>& values, int root) const
{
  broadcastFrom(this->Controller, values, root);
}

void SampleExchange::broadcast(std::vector<double>& values, int root) const
{
  broadcastFrom(this->Controller, values, root);
}

std::vector<float> SampleExchange::gatherTo(const std::vector<float>& values, int root) const
{
  return gatherOn(this->Controller, values, root, this->Rank, this->Ranks);
}

std::vector<long> SampleExchange::gatherTo(const std::vector<long>& values, int root) const
{
  return gatherOn(this->Controller, values, root, this->Rank, this->Ranks);
}

std::vector<double> SampleExchange::gatherTo(const std::vector<double>& values, int root) const
{
  return gatherOn(this->Controller, values, root, this->Rank, this->Ranks);
}

int threadsOfHost()
{
  if (const int requested = positiveEnvironment("DUALEMBED_NUM_THREADS"))
  {
    return requested;
  }
  return engine::usableCores();
}

int threadsPerRank()
{
  if (const int requested = positiveEnvironment("DUALEMBED_NUM_THREADS"))
  {
    return requested;
  }
  const int usable = engine::usableCores();
  if (usable < static_cast<int>(std::thread::hardware_concurrency()))
  {
    return usable; // bound by mpiexec (or taskset) to this rank's share
  }
  int ranksOnHost = positiveEnvironment("OMPI_COMM_WORLD_LOCAL_SIZE");
  if (!ranksOnHost)
  {
    ranksOnHost = positiveEnvironment("MPI_LOCALNRANKS");
  }
  return std::max(1, usable / std::max(1, ranksOnHost));
}
}
