// Per-sample change of the neighbourhood between two embeddings of the same
// samples (SPEC §2.6), no VTK.
//
//   neighbor_overlap_i = |kNN_A(i) ∩ kNN_B(i)| / k,  embedding_change_i = 1 - overlap,
//
// with k = min(K, N - 1), exact neighbours (self excluded, ties broken by
// the smaller index) and, for each embedding separately, the metric of the
// outlier score: Auto = cosine when its dimension is > 3, else euclidean.
// A and B must have the same number of samples; their dimensions may
// differ. N = 0: empty; N = 1: overlap 1, change 0 (no neighbours to lose).
#ifndef DualEmbed_Engine_EmbeddingChange_h
#define DualEmbed_Engine_EmbeddingChange_h

#include "NearestNeighbors.h"
#include "QueryRows.h"

#include <cstdint>
#include <vector>

namespace dualembed
{
namespace engine
{

struct EmbeddingChangeOptions
{
  int k = 10;
  MetricChoice metric = MetricChoice::Auto; // applied to each embedding
  NeighborSearch neighbors; // the method (auto: exact up to 200 000 rows) and its report
  ProgressCallback progress;
  QueryRows queries; // rows to answer (all by default)
};

struct EmbeddingChangeResult
{
  std::vector<float> overlap; // neighbor_overlap, one per query row
  std::vector<float> change;  // embedding_change, one per query row
  int k = 0;
  DistanceMetric metricA = DistanceMetric::Cosine;
  DistanceMetric metricB = DistanceMetric::Cosine;
};

/// |kNN_A(i) ∩ kNN_B(i)| / k for each query row of two kNN results of the
/// same rows and k (the neighbour sets compared as sets).
std::vector<float> neighborOverlap(const KnnResult& a, const KnnResult& b);

/// Throws ModelError when A and B differ in N, for K < 1 and for NaN/Inf
/// rows (naming their count and the embedding); Aborted on cancel.
EmbeddingChangeResult computeEmbeddingChange(const FeatureMatrix& a, const FeatureMatrix& b,
  const EmbeddingChangeOptions& options = EmbeddingChangeOptions());

} // namespace engine
} // namespace dualembed

#endif
