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

namespace dualembed
{
namespace engine
{
namespace detail
{

/// Fills `result` (rows, k and its buffers set by computeKnn) for the
/// queries [queryBegin, queryEnd).
void flannKnn(const FeatureMatrix& points, int64_t queryBegin, int64_t queryEnd,
  const KnnOptions& options, KnnResult& result);
void ivfKnn(const FeatureMatrix& points, int64_t queryBegin, int64_t queryEnd,
  const KnnOptions& options, KnnResult& result);

} // namespace detail
} // namespace engine
} // namespace dualembed

#endif
