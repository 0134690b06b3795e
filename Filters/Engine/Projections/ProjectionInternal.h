// Internal helpers shared by EmbeddingProjection.cxx, Umap.cxx, Tsne.cxx and
// Pca.cxx (not part of the engine's public API).
#ifndef DualEmbed_Engine_ProjectionInternal_h
#define DualEmbed_Engine_ProjectionInternal_h

#include "EmbeddingProjection.h"
#include "EngineError.h"
#include "NearestNeighbors.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace dualembed
{
namespace engine
{
namespace projection
{

/// Maps the progress of one stage to [begin, end] of the whole computation and
/// throws Aborted when the callback returns false (calling thread only).
class ProgressRange
{
public:
  ProgressRange(const ProgressCallback& callback, double begin, double end)
    : Callback(callback)
    , Begin(begin)
    , End(end)
  {
  }
  void report(double fraction) const
  {
    if (Callback && !Callback(Begin + (End - Begin) * fraction))
    {
      throw Aborted();
    }
  }
  /// Callback for computeKnn (which throws Aborted itself on false).
  ProgressCallback sub() const
  {
    if (!Callback)
    {
      return {};
    }
    ProgressCallback cb = Callback;
    const double b = Begin, e = End;
    return [cb, b, e](double f) { return cb(b + (e - b) * f); };
  }

private:
  ProgressCallback Callback;
  double Begin, End;
};

struct PcaResult
{
  int64_t rows = 0;
  int components = 0;
  std::vector<float> coordinates;        // rows x components, row-major
  std::vector<double> explainedVariance; // per component (ddof = 1)
  double totalVariance = 0.0;            // sum of the variances of all columns
};

/// Centred PCA, top `components` (<= min(rows, cols)); signs as scikit-learn's
/// svd_flip (largest |coordinate| of each component positive).
PcaResult computePca(const FeatureMatrix& points, int components);

/// Small deterministic generator (splitmix64 seeding + xoshiro256**).
class Random
{
public:
  explicit Random(uint64_t seed)
  {
    for (auto& s : State)
    {
      seed += 0x9E3779B97F4A7C15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      s = z ^ (z >> 31);
    }
  }
  uint64_t next()
  {
    const uint64_t result = rotl(State[1] * 5, 7) * 9;
    const uint64_t t = State[1] << 17;
    State[2] ^= State[0];
    State[3] ^= State[1];
    State[1] ^= State[2];
    State[0] ^= State[3];
    State[2] ^= t;
    State[3] = rotl(State[3], 45);
    return result;
  }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Standard normal (Box-Muller, one value per call).
  double normal();

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t State[4];
};

/// UMAP layout from the kNN graph (self excluded, `knn.k` = n_neighbors - 1).
/// `pcaInit` gives rows x dims PCA coordinates when a fallback is needed.
using InitProvider = std::function<std::vector<float>()>;
std::vector<float> runUmap(const KnnResult& knn, const ProjectionOptions& options,
  const InitProvider& pcaInit, ProjectionResult& diagnostics, const ProgressRange& progress);

/// t-SNE layout from the kNN graph (distances as computed by computeKnn).
std::vector<float> runTsne(const KnnResult& knn, DistanceMetric metric,
  const ProjectionOptions& options, const InitProvider& pcaInit,
  ProjectionResult& diagnostics, const ProgressRange& progress);

} // namespace projection
} // namespace engine
} // namespace dualembed

#endif
