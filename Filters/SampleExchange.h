// The samples of a distributed run (pvbatch / pvserver under MPI): each rank
// holds a contiguous share of the samples, in rank order, as the readers
// deliver them. SampleExchange knows this rank's share and moves rows
// between ranks with ParaView's global vtkMultiProcessController. In a serial
// run (one process, or no controller) every call is a cheap local copy, so
// the filters have a single code path.
//
// Every method except the accessors is collective: all ranks must call it,
// in the same order. Not wrapped.
#ifndef SampleExchange_h
#define SampleExchange_h

#ifndef __VTK_WRAP__
#include "vtkSmartPointer.h"
#include "vtkType.h"

#include <string>
#include <vector>

class vtkMultiProcessController;
class vtkPolyData;

namespace dualembed
{
class SampleExchange
{
public:
  /// Collective: learns every rank's number of samples.
  explicit SampleExchange(vtkIdType localRows);

  bool isParallel() const { return this->Ranks > 1; }
  int rank() const { return this->Rank; }
  int ranks() const { return this->Ranks; }
  /// Global index of this rank's first sample, its count, and the total.
  vtkIdType offset() const { return this->Offsets[this->Rank]; }
  vtkIdType localRows() const { return this->Counts[this->Rank]; }
  vtkIdType totalRows() const { return this->Total; }
  /// The same for any rank.
  vtkIdType offsetOf(int rank) const { return this->Offsets[rank]; }
  vtkIdType rowsOf(int rank) const { return this->Counts[rank]; }
  /// This rank's rows out of rows of all samples.
  template <typename T>
  std::vector<T> localPart(const std::vector<T>& all, int valuesPerRow = 1) const
  {
    const auto begin = all.begin() + this->offset() * valuesPerRow;
    return std::vector<T>(begin, begin + this->localRows() * valuesPerRow);
  }

  /// Rows of `valuesPerRow` values from every rank, concatenated in rank
  /// order (= global order), on every rank.
  std::vector<float> allGatherRows(const std::vector<float>& local, int valuesPerRow) const;
  std::vector<double> allGatherRows(const std::vector<double>& local, int valuesPerRow) const;
  std::vector<int> allGatherRows(const std::vector<int>& local, int valuesPerRow) const;

  /// Variable-length lists (any length per rank), concatenated in rank order, on every rank.
  std::vector<long long> allGatherLists(const std::vector<long long>& local) const;
  std::vector<double> allGatherLists(const std::vector<double>& local) const;

  /// The same rows on root only (empty elsewhere).
  std::vector<float> gatherRowsToRoot(const std::vector<float>& local, int valuesPerRow) const;
  /// Root's rows of all samples → each rank its own share.
  std::vector<float> scatterRowsFromRoot(const std::vector<float>& all, int valuesPerRow) const;

  /// Polydata of every rank, appended in rank order (point data, points and
  /// the first non-empty piece's field data), on every rank.
  vtkSmartPointer<vtkPolyData> allGatherPolyData(vtkPolyData* local) const;

  /// Work that only the root does (a projection): the root calls
  /// rootWorkDone() when it ends, however it ends; the other ranks call
  /// waitForRoot(), which sleeps instead of spinning in MPI, so that the root
  /// can use every core of its machine (threadsOfHost()).
  void rootWorkDone() const;
  void waitForRoot() const;

  /// The smallest `value` of all ranks: the agreement point after work that
  /// may fail on one rank only (an abort), before the next collective call.
  int minimum(int value) const;
  /// The sum of `value` over all ranks, on every rank.
  long long sum(long long value) const;

  /// `values` of rank `root` on every rank (resized there).
  void broadcast(std::vector<float>& values, int root) const;
  void broadcast(std::vector<long>& values, int root) const;
  void broadcast(std::vector<double>& values, int root) const;
  /// Every rank's `values` (the same length on every rank), concatenated in
  /// rank order, on `root`; empty on the other ranks.
  std::vector<float> gatherTo(const std::vector<float>& values, int root) const;
  std::vector<long> gatherTo(const std::vector<long>& values, int root) const;
  std::vector<double> gatherTo(const std::vector<double>& values, int root) const;

private:
  vtkMultiProcessController* Controller = nullptr;
  int Rank = 0;
  int Ranks = 1;
  std::vector<vtkIdType> Counts;
  std::vector<vtkIdType> Offsets;
  vtkIdType Total = 0;
};

/// Threads for LibTorch on this rank: the cores mpiexec bound it to, or, when
/// unbound, the machine's cores shared by the MPI ranks on this host
/// (OpenMPI's OMPI_COMM_WORLD_LOCAL_SIZE, MPICH's MPI_LOCALNRANKS), at
/// least 1. DUALEMBED_NUM_THREADS overrides.
int threadsPerRank();

/// Threads for work that the other ranks of this host wait for: every core
/// this rank may run on (all the machine's with `mpiexec --bind-to none`,
/// one where Open MPI binds each rank to a core). DUALEMBED_NUM_THREADS
/// overrides.
int threadsOfHost();
}
#endif
#endif
