// Aligned projections of a time series of feature matrices (no VTK): one 2-D
// / 3-D layout per time step of the same samples, laid out so that a sample
// moves smoothly from step to step instead of the whole map jumping
// (SPEC §2.7, issue 16).
//
// - Aligned UMAP follows umap-learn 0.5.3's AlignedUMAP.fit
//   (umap/aligned_umap.py, umap/layouts.py optimize_layout_aligned_euclidean)
//   with the identity as the relation between consecutive steps (row i is
//   sample i in every step):
//   1. per step, the plain UMAP graph (EmbeddingProjection.h: kNN, possibly
//      on 50 principal components, smooth_knn_dist, fuzzy union);
//   2. regularisation weights (build_neighborhood_similarities): for sample
//      i and two steps s, t with 0 < |s - t| <= alignmentWindowSize, the
//      Jaccard index |N_s(i) ∩ N_t(i)| / |N_s(i) ∪ N_t(i)| of i's neighbours
//      in the two (unpruned) fuzzy graphs (1 when both are empty);
//   3. initialisation: step 0 as plain UMAP's initial layout (spectral,
//      expanded to 10, noise, columns rescaled to [0, 10]); each next step
//      its own plain initial layout, Procrustes-aligned (procrustesAlign
//      below) onto the previous step's aligned initial layout
//      (AlignedInit::Procrustes, umap-learn's fit), or a copy of the previous
//      step's initial layout (AlignedInit::Previous, umap-learn's update /
//      init_from_existing through the identity relation);
//   4. one joint SGD over all steps (epochs default 200, umap-learn's
//      AlignedUMAP default, whatever N): plain UMAP's attractive and
//      repulsive moves, each move of sample i in step s reduced by the
//      alignment term  sum_t clip(lambda e^-(|t - s| - 1) w_st(i) (x_s(i) -
//      x_t(i)))  over the steps t of the window (lambda =
//      alignmentRegularisation, the current positions of the other steps),
//      clipped at 4 like the gradient.
//   Deviations from umap-learn (besides plain UMAP's, EmbeddingProjection.h):
//   the window is symmetric, offsets -w..w (umap-learn loops over
//   range(-w, w), which leaves out offset +w: an off-by-one); the tail of an
//   edge (move_other) is pulled toward its positions in the other steps like
//   the head (umap-learn computes that term into the head's already applied
//   gradient, so it has no effect); the alignment term of an edge's head is
//   evaluated once per edge at the head's position, for its negative samples
//   together (as plain UMAP's negatives); the steps are interleaved by blocks
//   of edges (an epoch runs block c of every step, in an order shuffled each
//   epoch, before block c + 1; umap-learn interleaves single edges); the
//   initial layouts are plain UMAP's (noise and [0, 10] rescaling; umap-learn
//   takes its raw spectral layouts expanded to 10) and the Procrustes step
//   centres both layouts (umap-learn rotates about the origin); samples whose
//   graph row is empty are not set to NaN. Hogwild on ATen's threads:
//   deterministic for a fixed seed on one thread (at::set_num_threads(1)).
// - Aligned PCA: each step's PCA (EmbeddingProjection.h), then each step
//   Procrustes-aligned onto the previous aligned step. Rotation and
//   reflection (the full orthogonal group) plus translation, no scaling:
//   PCA's component signs are arbitrary (svd_flip), so consecutive steps
//   often differ by a reflection that a rotation alone cannot undo; scaling
//   would change the map's units (the explained variance), which the
//   displacement is measured in. The explained variance ratios are those of
//   the step's own components, before the rotation.
// - t-SNE is refused (ModelError): it has no aligned variant here.
//
// Quality: meanDisplacement / relativeDisplacement measure how far the
// samples move between consecutive steps; trustworthiness (EmbeddingProjection.h)
// per step is left to the caller (it is O(N^2)).
//
// Errors: ModelError for no steps, steps of different row counts, any
// step's input plain UMAP / PCA refuses (NaN / Inf, too few rows, ...; the
// message names the step), t-SNE, a negative or non-finite
// alignmentRegularisation or a negative window; Aborted when
// options.projection.progress returns false (progress covers all steps).
// One step: the plain computeEmbeddingProjection result (plain UMAP's epochs).
#ifndef DualEmbed_Engine_AlignedProjection_h
#define DualEmbed_Engine_AlignedProjection_h

#include "EmbeddingProjection.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dualembed
{
namespace engine
{

enum class AlignedInit
{
  Procrustes, // each step's own initial layout, Procrustes-aligned onto its predecessor's
              // (umap-learn's fit)
  Previous    // each step starts from its predecessor's initial layout (umap-learn's update)
};

struct AlignedProjectionOptions
{
  /// method Umap or Pca (Tsne: ModelError). epochs 0 = 200 for aligned UMAP.
  ProjectionOptions projection;
  double alignmentRegularisation = 1e-2; // lambda
  int alignmentWindowSize = 3;           // steps on each side; 0 = no alignment term
  AlignedInit init = AlignedInit::Procrustes;
};

struct AlignedProjectionResult
{
  /// One per time step, rows in the same order as the input; each step's own
  /// diagnostics (neighbours, graph, initUsed, stage timings of its graph).
  std::vector<ProjectionResult> steps;
  /// meanDisplacement[t]: mean over samples of |y_t(i) - y_{t-1}(i)| (map
  /// units), t >= 1; meanDisplacement[0] = 0.
  std::vector<double> meanDisplacement;
  /// mapScale[t]: root mean square distance of step t's points to their centroid.
  std::vector<double> mapScale;
  /// relativeDisplacement[t] = meanDisplacement[t] / ((mapScale[t-1] + mapScale[t]) / 2);
  /// [0] = 0. Comparable between maps of different scales.
  std::vector<double> relativeDisplacement;
  /// Whole computation: "neighbors_and_graphs", "init", "alignment_weights",
  /// "umap_sgd" (UMAP) or "pca", "procrustes" (PCA), and "total".
  std::vector<std::pair<std::string, double>> stageSeconds;
};

/// steps[t]: features of the same N samples at time t (row i is sample i in
/// every step; the number of columns may differ between steps).
AlignedProjectionResult computeAlignedProjection(
  const std::vector<FeatureMatrix>& steps, const AlignedProjectionOptions& options);

/// Orthogonal Procrustes: `moving` (rows x dims) centred, rotated / reflected
/// by the orthogonal R minimising |(M - mean M) R - (A - mean A)|_F (R = U V^T
/// from the SVD of (M - mean M)^T (A - mean A)), then moved to the centroid
/// of `reference` (A). No scaling. Returns rows x dims.
std::vector<float> procrustesAlign(
  const float* reference, const float* moving, int64_t rows, int dims);

/// Mean over the rows of the euclidean distance between a[i] and b[i].
double meanDisplacement(const float* a, const float* b, int64_t rows, int dims);

/// Root mean square distance of the rows of y to their centroid.
double mapScale(const float* y, int64_t rows, int dims);

} // namespace engine
} // namespace dualembed

#endif
