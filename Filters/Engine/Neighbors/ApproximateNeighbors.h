// The approximate methods behind computeKnn (NearestNeighbors.h). Both find
// candidates with an index over the vectors (unit vectors for cosine, where
// euclidean order is cosine order) and re-rank them with the exact distances,
// so only the recall is approximate:
// - FLANN: randomized kd-trees (weak in high dimension, kept for low ones);
// - IVF: an inverted file. k-means (on a sample) splits the rows into lists,
//   crowded lists cut along their principal direction; each query reads the
//   lists of its `probes` nearest centroids: its own first, then of the
//   others only the rows that can still beat its farthest kept row (each
//   list stored farthest from its centroid first, so those rows are a
//   prefix); at the end the 0.2 % of rows whose neighbours lie farthest
//   (isolated rows, what outlier scores rank first) are searched again
//   against all rows. The queries are the indexed rows themselves, so the queries
//   that read the same list are scored together by one matrix product
//   against its rows (stored contiguously, in list order): the all-points
//   neighbour graph runs at GEMM speed instead of one distance at a time
//   (faiss's IVFFlat scans per query). See ARCHITECTURE.md, "Neighbours at
//   scale", for the figures.
// Internal to the engine.
#ifndef DualEmbed_Engine_ApproximateNeighbors_h
#define DualEmbed_Engine_ApproximateNeighbors_h

#include "NearestNeighbors.h"
#include "NeighborKernels.h" // SearchMatrix

#include <memory>
#include <random>
#include <vector>

namespace dualembed
{
namespace engine
{
namespace detail
{

/// Fills `result` (rows, k and its buffers set by computeKnn) for the
/// queries [queryBegin, queryEnd).
void flannKnn(const SearchMatrix& points, int64_t queryBegin, int64_t queryEnd,
  const KnnOptions& options, KnnResult& result);
void ivfKnn(const SearchMatrix& points, int64_t queryBegin, int64_t queryEnd,
  const KnnOptions& options, KnnResult& result);

/// exactRecallSample of the rows as searched (centred or not).
RecallSample recallSampleOf(const SearchMatrix& points, int64_t queryBegin, int64_t queryEnd, int k,
  DistanceMetric metric, int64_t samples, unsigned int seed = 0);

/// The rows of `result` (indices into its rows, ascending) whose neighbours
/// lie farthest: the largest sum of neighbour distances, 0.2 % of the rows
/// (at least one). IVF searches them again against every row.
std::vector<int64_t> farRows(const KnnResult& result);

/// `count` distinct rows of [0, n) drawn at random: the first `count` of a
/// random permutation (a partial Fisher-Yates shuffle).
std::vector<int64_t> randomRows(int64_t n, int64_t count, std::mt19937_64& random);

struct InvertedFile;

/// An inverted file over all rows of `points` (a part's share of a
/// distributed search, DistributedNeighbors.h) that answers query vectors
/// coming from anywhere, with the lists and the exact re-ranking of ivfKnn.
class IvfShard
{
public:
  /// Builds the index (progress 0 to 1 of `progress`). `points` (its matrix
  /// and centre) must outlive it; the query vectors come centred like it.
  IvfShard(const SearchMatrix& points, DistanceMetric metric, const IvfParameters& parameters,
    const ProgressCallback& progress);
  ~IvfShard();
  int64_t lists() const;

  /// For each of the `count` query vectors (count x cols), the k nearest rows
  /// of `points` except row self[i] (< 0: none), nearest first: indices and
  /// exact distances (count x k; -1 and +inf past the rows there are).
  /// `exact`: against every row (matrix products), else through the lists.
  void search(const float* queries, int64_t count, const int64_t* self, int k, bool exact,
    std::vector<int64_t>& indices, std::vector<float>& distances) const;

private:
  SearchMatrix Points;
  DistanceMetric Metric;
  std::vector<double> Norms;
  std::vector<int64_t> ZeroRows;
  std::unique_ptr<InvertedFile> File;
};

} // namespace detail
} // namespace engine
} // namespace dualembed

#endif
