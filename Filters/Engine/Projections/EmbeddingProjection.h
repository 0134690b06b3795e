// 2-D / 3-D projections of feature vectors (no VTK): UMAP, t-SNE and PCA
// (SPEC §2.5), plus scikit-learn's trustworthiness to measure them.
//
// - UMAP follows umap-learn 0.5.3 (umap_.py, layouts.py, spectral.py):
//   kNN graph (self counted as the first of n_neighbors), smooth_knn_dist
//   (64-step binary search, local_connectivity 1, bandwidth 1),
//   membership strengths, fuzzy union (set_op_mix_ratio 1), pruning of
//   edges below max / n_epochs, spectral initialisation (smallest
//   eigenvectors of the normalised Laplacian, by Lanczos on the sparse
//   graph), expansion to 10 plus N(0, 1e-4) noise and rescaling to
//   [0, 10], then optimize_layout_euclidean (epochs_per_sample, negative
//   sampling, gradient clipping at 4, alpha = 1 - epoch / n_epochs) with a
//   and b fitted from min_dist / spread (find_ab_params).
//   Deviations: the random generator differs (results are not bit-equal to
//   umap-learn); a disconnected graph (umap-learn: multi_component_layout)
//   or a Lanczos that does not converge falls back to a PCA initialisation
//   (ProjectionResult::initUsed says which). In the SGD, the negative
//   samples of an edge are all evaluated at the same position of the head
//   point and applied together (umap-learn moves it after each one; the
//   serial dependency made that loop latency-bound), x^b uses a polynomial
//   log2 / exp2 (relative error < 1e-5). The SGD runs Hogwild-style on ATen's
//   threads like umap-learn's parallel mode: it is deterministic for a fixed
//   seed only with one thread (at::set_num_threads(1)).
// - t-SNE follows scikit-learn 1.2 (_t_sne.py, _utils.pyx
//   _binary_search_perplexity, _barnes_hut_tsne.pyx, _quad_tree.pyx):
//   min(N - 1, 3 * perplexity + 1) neighbours, squared euclidean distances,
//   binary-search perplexity calibration, P = (P + P^T) / sum, PCA
//   initialisation scaled to std 1e-4 of the first column, Barnes-Hut
//   gradient (angle 0.5, quadtree / octree with one point per leaf, self
//   interactions skipped), degrees of freedom max(dims - 1, 1), gradient
//   descent with gains (min_gain 0.01), momentum 0.5 during the 250 early
//   exaggeration iterations and 0.8 after, learning rate "auto"
//   max(N / early_exaggeration / 4, 50). The tree is walked once per group
//   of <= 32 neighbouring points, with scikit-learn's criterion
//   (max cell width^2 < angle^2 d^2) tested at the distance from the cell's
//   centre of mass to the group's bounding box, so every point gets a
//   summary at least as accurate as scikit-learn's; the repulsion sums are
//   evaluated in float32 (vectorised). Deviation: no early stop on
//   "no progress in 300 iterations" (the KL divergence is not computed);
//   the gradient-norm stop (1e-7) is kept. Deterministic for any thread count.
// - PCA: centred, top components from the covariance eigendecomposition;
//   signs as scikit-learn's svd_flip (the largest |coordinate| of each
//   component is positive).
//
// Neighbour graph of UMAP / t-SNE: the exact kNN of NearestNeighbors.h.
// For wide inputs (more than 100 columns) it is computed by default on the
// top 50 principal components (after normalising rows for cosine), asking
// for k + min(k, 15) candidates, which are then re-ranked by their distance
// in the original space (float32 lanes summed in double; identical rows at
// distance 0) (pcaComponentsForNeighbors). This is what
// most UMAP / t-SNE users do by hand (scikit-learn's TSNE documentation
// recommends PCA to 50) and it is what makes 70 000 x 784 affordable.
// Where the search is approximate (auto above kExactNeighborRows), the
// default graph is the approximate one in the input space instead: the graph
// that the other filters search for the same embedding (NeighborGraphs.h),
// so that a pipeline builds it once (at 200 000 x 768 it also takes less
// time than the exact search on 50 components).
//
// Errors: ModelError for invalid input (NaN/Inf rows, too few rows for the
// number of neighbours or the perplexity, PCA with fewer input columns than
// output dimensions, dimensions other than 2 or 3); Aborted when the progress
// callback returns false. One-column input is accepted by UMAP and t-SNE.
#ifndef DualEmbed_Engine_EmbeddingProjection_h
#define DualEmbed_Engine_EmbeddingProjection_h

#include "NearestNeighbors.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dualembed
{
namespace engine
{

enum class ProjectionMethod
{
  Umap,
  Tsne,
  Pca
};

enum class ProjectionInit
{
  Auto,     // UMAP: spectral; t-SNE: PCA
  Spectral, // UMAP only
  Pca,
  Random
};

/// t-SNE's limit: above it the layout takes tens of minutes (N log N; 50 000
/// x 768 took 44 s on 2 cores, 10^6 extrapolates to about 20 min) and UMAP is
/// the tool; computeEmbeddingProjection refuses with that advice.
constexpr int64_t kTsneMaxRows = 200000;

struct ProjectionOptions
{
  ProjectionMethod method = ProjectionMethod::Umap;
  int dimensions = 2; // 2 or 3
  /// Distance of the input space (UMAP / t-SNE). SPEC §2.5: euclidean.
  MetricChoice metric = MetricChoice::Euclidean;
  ProjectionInit init = ProjectionInit::Auto;
  uint64_t seed = 42;
  /// UMAP epochs / t-SNE iterations; 0 = default (UMAP: 500 when N <= 10 000
  /// else 200; t-SNE: 1000).
  int epochs = 0;
  /// 0 = default (UMAP: 1; t-SNE: max(N / earlyExaggeration / 4, 50)).
  double learningRate = 0.0;

  // UMAP
  int neighbors = 15; // n_neighbors, the sample itself included (as umap-learn)
  double minDist = 0.1;
  double spread = 1.0;
  int negativeSampleRate = 5;
  double repulsionStrength = 1.0; // gamma
  double localConnectivity = 1.0;
  double setOpMixRatio = 1.0; // 1 = fuzzy union

  // t-SNE
  double perplexity = 30.0;
  double earlyExaggeration = 12.0;
  int exaggerationIterations = 250;
  double angle = 0.5; // Barnes-Hut theta

  // Neighbour graph (UMAP / t-SNE)
  /// -1 = automatic (50 when the input has more than 100 columns and the
  /// search is exact, else off),
  /// 0 = off (kNN in the input space), > 0 = that many principal components
  /// (off when not smaller than the number of columns).
  int pcaComponentsForNeighbors = -1;
  NeighborSearch neighborSearch; // of the kNN graph (auto: exact up to 200 000 rows)

  ProgressCallback progress;
};

struct ProjectionResult
{
  /// rows x dimensions, row-major.
  std::vector<float> coordinates;
  int64_t rows = 0;
  int dimensions = 0;

  // Diagnostics.
  std::string initUsed; // "spectral", "pca", "random", "pca (graph has 3 components)", ...
  std::string
    neighborsUsed; // e.g. "exact kNN (k=14) on 50 PCA components, re-ranked in 784-D euclidean"
  int neighborPcaComponents = 0;
  int epochs = 0; // UMAP epochs / t-SNE iterations run
  double learningRate = 0.0;
  double a = 0.0, b = 0.0; // UMAP curve parameters
  int64_t graphEdges = 0;  // UMAP: directed edges after pruning; t-SNE: nonzeros of P
  int graphComponents = 0; // UMAP: connected components of the graph
  std::vector<double> explainedVarianceRatio; // PCA: per output component
  std::vector<std::pair<std::string, double>> stageSeconds;
};

/// Projects the rows of `features` to options.dimensions coordinates.
ProjectionResult computeEmbeddingProjection(
  const FeatureMatrix& features, const ProjectionOptions& options);

/// What UMAP's layout needs of samples spread over the parts of a
/// distributed run, gathered on part 0: the neighbour graph of all rows and
/// the PCA coordinates that its initialisation falls back to, a few values
/// per sample instead of the embedding.
struct UmapGraphInput
{
  KnnResult knn;              ///< all rows, k = neighbors - 1, self excluded (part 0)
  std::vector<float> pcaInit; ///< rows x dimensions (part 0; none for a random init)
  std::string neighborsUsed;
  double seconds = 0.0; ///< of this stage
};

/// Collective: options.neighborSearch.parts set (DistributedNeighbors.h),
/// options.method UMAP. Each part passes its own rows: the graph is searched
/// distributed (IVF on each part's rows, in the input space) and, unless the
/// initialisation is random, the PCA coordinates are computed from each
/// part's rows; both are gathered on part 0. Throws alike on every part:
/// ModelError for what computeEmbeddingProjection refuses, Aborted on cancel.
UmapGraphInput gatherUmapGraph(const FeatureMatrix& localRows, const ProjectionOptions& options);

/// On part 0 alone: UMAP of all rows from `input`, laid out as
/// computeEmbeddingProjection lays out its graph (the same result for the
/// same graph); options.progress runs from 0.3 (the graph) to 1.
ProjectionResult computeUmapFromGraph(
  const UmapGraphInput& input, const ProjectionOptions& options);

/// scikit-learn's trustworthiness (sklearn.manifold.trustworthiness,
/// euclidean in both spaces): 1 - 2 / (n k (2n - 3k - 1)) * sum over i and
/// over the k nearest embedded neighbours j of i of max(0, r(i, j) - k), with
/// r(i, j) the rank of j among i's neighbours in the original space (exact,
/// ties broken by the smaller index). O(n^2) time, O(n) memory per thread:
/// meant for a few thousand samples. Requires k < n / 2.
double trustworthiness(const FeatureMatrix& original, const float* embedded, int dims, int k = 15);

/// umap-learn's find_ab_params: least-squares fit of 1 / (1 + a x^(2b)) to
/// 1 for x < minDist, exp(-(x - minDist) / spread) beyond, on 300 points of
/// [0, 3 spread]. minDist 0.1, spread 1 give a ~ 1.577, b ~ 0.895.
std::pair<double, double> findAbParams(double spread, double minDist);

const char* projectionMethodName(ProjectionMethod method);

} // namespace engine
} // namespace dualembed

#endif
