// Internal helpers shared by EmbeddingProjection.cxx, Umap.cxx, Tsne.cxx and
// Pca.cxx (not part of the engine's public API).
#ifndef DualEmbed_Engine_ProjectionInternal_h
#define DualEmbed_Engine_ProjectionInternal_h

#include "DistributedNeighbors.h"
#include "EmbeddingProjection.h"
#include "EngineError.h"
#include "NearestNeighbors.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

namespace dualembed
{
namespace engine
{
namespace projection
{

using Clock = std::chrono::steady_clock;

/// Seconds since `start` (stage timings).
inline double secondsSince(Clock::time_point start)
{
  return std::chrono::duration<double>(Clock::now() - start).count();
}

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

/// PCA coordinates for an initialisation: `dims` columns; columns beyond
/// min(rows, cols) (1-column input) are N(0, 1) noise scaled to the std of
/// the first column.
std::vector<float> pcaInitFrom(const FeatureMatrix& points, int dims, uint64_t seed);

/// pcaInitFrom's layout of `available` PCA coordinates per row (rows x
/// available): `dims` columns, those beyond `available` noise.
std::vector<float> initFromPca(
  const std::vector<float>& coordinates, int available, int dims, uint64_t seed);

/// pcaInitFrom of rows spread over the parts of a distributed run
/// (collective): each part passes its own rows; part 0 gets the coordinates
/// of all rows, the other parts none. The covariance is the sum of the parts'
/// centred float32 products (in double), so the coordinates agree with
/// pcaInitFrom's to float32 rounding.
std::vector<float> pcaInitFromParts(
  const FeatureMatrix& localRows, int dims, uint64_t seed, const PartExchange& parts);

/// The neighbour graph of UMAP / t-SNE.
struct NeighborStep
{
  KnnResult knn;
  std::vector<float> reduced; // rows x components when PCA was used (else empty)
  int components = 0;
};

/// kNN of every row, self excluded, possibly searched on the top principal
/// components and re-ranked by the exact distances in the input space
/// (see EmbeddingProjection.h). Sets diagnostics.neighborsUsed and
/// neighborPcaComponents.
NeighborStep computeNeighbors(const FeatureMatrix& features, int k, DistanceMetric metric,
  const ProjectionOptions& options, ProjectionResult& diagnostics, const ProgressRange& progress);

using InitProvider = std::function<std::vector<float>()>;
/// PCA coordinates for initialisations: the first components of the
/// neighbour search's PCA when there was one, else a PCA of the input.
/// Keeps references to `features` and `step`.
InitProvider makePcaInit(
  const FeatureMatrix& features, const NeighborStep& step, int dims, uint64_t seed);

/// ModelError for input computeEmbeddingProjection refuses (dimensions,
/// empty or non-finite input, too few rows for the method's parameters).
void validateProjectionInput(const FeatureMatrix& features, const ProjectionOptions& options);
/// The same checks on the shape only (rows x cols of all parts of a
/// distributed run: every part decides alike); the values are not read.
void validateProjectionShape(int64_t rows, int64_t cols, const ProjectionOptions& options);

/// UMAP layout from the kNN graph (self excluded, `knn.k` = n_neighbors - 1).
/// `pcaInit` gives rows x dims PCA coordinates when a fallback is needed.
/// Composed of the pieces below (umapFuzzyGraph, pruneUmapGraph,
/// umapInitialLayout, optimizeUmapLayout), which aligned UMAP reuses.
std::vector<float> runUmap(const KnnResult& knn, const ProjectionOptions& options,
  const InitProvider& pcaInit, ProjectionResult& diagnostics, const ProgressRange& progress);

/// UMAP's fuzzy simplicial set: symmetric, CSR, both directions stored,
/// columns of a row in increasing order.
struct UmapGraph
{
  int64_t n = 0;
  std::vector<int64_t> rowPtr;
  std::vector<int32_t> cols;
  std::vector<float> weights;
};

/// smooth_knn_dist + compute_membership_strengths + fuzzy union (not pruned).
UmapGraph umapFuzzyGraph(const KnnResult& knn, const ProjectionOptions& options);
/// Removes the edges below max weight / epochs (the edges the SGD would never
/// sample; umap-learn prunes before its spectral initialisation too).
void pruneUmapGraph(UmapGraph& graph, int epochs);
int umapGraphComponents(const UmapGraph& graph);
/// The epochs of plain UMAP: options.epochs, or 500 when n <= 10 000 else 200.
int umapDefaultEpochs(int64_t n);

/// Plain UMAP's initial layout on the (pruned) graph: spectral (PCA fallback
/// for a disconnected graph), PCA or random as options.init says, expanded to
/// 10 plus N(0, 1e-4) noise, then each column rescaled to [0, 10]. Sets
/// diagnostics.initUsed; `progress` covers this stage only.
std::vector<float> umapInitialLayout(const UmapGraph& graph, const ProjectionOptions& options,
  const InitProvider& pcaInit, ProjectionResult& diagnostics, const ProgressRange& progress);

/// optimize_layout_euclidean on one graph (rows x dims, dims 2 or 3).
void optimizeUmapLayout(float* embedding, int dims, const UmapGraph& graph, int epochs, float a,
  float b, float gamma, float initialAlpha, int negativeRate, uint64_t seed,
  const ProgressRange& progress);

/// One time step of aligned UMAP's joint SGD: its graph, its layout (moved in
/// place) and the pulls toward the same samples in the other steps of the
/// window: pull p moves sample i by clip(coefficients[p][i] * (x_i - y_i))
/// with y_i = positions[p][i] (coefficients[p] = lambda e^-(|offset|-1) times
/// the neighbourhood overlap of sample i in the two steps).
struct AlignedLayoutStep
{
  const UmapGraph* graph = nullptr;
  float* embedding = nullptr;
  std::vector<const float*> positions;
  std::vector<const float*> coefficients;
};

/// optimize_layout_aligned_euclidean: all steps' SGD epochs together (each
/// epoch visits the steps' edge blocks interleaved, the steps in a shuffled
/// order), the tails moved too (move_other) and pulled like the heads.
void optimizeAlignedUmapLayouts(std::vector<AlignedLayoutStep>& steps, int dims, int epochs,
  float a, float b, float gamma, float initialAlpha, int negativeRate, uint64_t seed,
  const ProgressRange& progress);

/// t-SNE layout from the kNN graph (distances as computed by computeKnn).
std::vector<float> runTsne(const KnnResult& knn, DistanceMetric metric,
  const ProjectionOptions& options, const InitProvider& pcaInit, ProjectionResult& diagnostics,
  const ProgressRange& progress);

} // namespace projection
} // namespace engine
} // namespace dualembed

#endif
