/**
 * @class   vtkEmbeddingProjection
 * @brief   Moves the samples to a 2-D or 3-D map of an embedding: UMAP, t-SNE or PCA.
 *
 * The map *is* the render view: the output points are the projection of the
 * selected point-data array X (z = 0 in 2-D), every input array is kept, and
 * the coordinates are also stored as `umap_<X>`, `tsne_<X>` or `pca_<X>`.
 * Defaults follow umap-learn and scikit-learn (Documentation/SPEC.md §2.5); a fixed Seed
 * makes runs reproducible (bit-identical on one thread). Coordinates already
 * in the input (a results file read back) are reused instead of recomputed,
 * and so is the last map when the embedding comes again unchanged (another
 * time step of a series whose embedding does not change).
 *
 * With AlignTimeSteps, a temporal input (the checkpoints of Checkpoint
 * Embedding) gets maps aligned across its time steps: on the first update
 * the filter reads every time step, computes all maps together (aligned
 * UMAP after umap-learn's AlignedUMAP, or PCA with each step rotated onto
 * the one before) and then gives each time step its map, so that a sample
 * moves smoothly when the animation plays. Field data
 * `alignment_displacement` and `alignment_relative_displacement` give the
 * mean movement between consecutive steps.
 */
#ifndef vtkEmbeddingProjection_h
#define vtkEmbeddingProjection_h

#include "DualEmbedFiltersModule.h" // for export macro
#include "vtkTemporalSampleFilter.h"

#include <memory> // for std::unique_ptr

class DUALEMBEDFILTERS_EXPORT vtkEmbeddingProjection : public vtkTemporalSampleFilter
{
public:
  static vtkEmbeddingProjection* New();
  vtkTypeMacro(vtkEmbeddingProjection, vtkTemporalSampleFilter);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  enum Methods
  {
    METHOD_UMAP = 0,
    METHOD_TSNE = 1,
    METHOD_PCA = 2
  };
  enum Metrics
  {
    METRIC_EUCLIDEAN = 0,
    METRIC_COSINE = 1
  };
  ///@{
  /// UMAP (default), t-SNE or PCA.
  vtkSetClampMacro(Method, int, METHOD_UMAP, METHOD_PCA);
  vtkGetMacro(Method, int);
  ///@}

  ///@{
  /// 2 (default) or 3 output coordinates.
  vtkSetClampMacro(Dimensions, int, 2, 3);
  vtkGetMacro(Dimensions, int);
  ///@}

  ///@{
  /// UMAP's n_neighbors (15), the sample itself included as in umap-learn.
  vtkSetClampMacro(NumberOfNeighbors, int, 2, 1000);
  vtkGetMacro(NumberOfNeighbors, int);
  ///@}

  ///@{
  /// UMAP's min_dist (0.1).
  vtkSetClampMacro(MinDist, double, 0.0, 10.0);
  vtkGetMacro(MinDist, double);
  ///@}

  ///@{
  /// Distance in the input space for UMAP and t-SNE: euclidean (default) or cosine.
  vtkSetClampMacro(Metric, int, METRIC_EUCLIDEAN, METRIC_COSINE);
  vtkGetMacro(Metric, int);
  ///@}

  ///@{
  /// The neighbour graph's search (UMAP, t-SNE): auto (default: exact up to
  /// 200 000 samples, else ivf), exact, ivf or flann. Under MPI, UMAP with
  /// ivf searches distributed: each rank keeps only its own samples'
  /// embedding and the root lays the map out from the graph alone.
  vtkSetClampMacro(NeighborMethod, int, NEIGHBORS_EXACT, NEIGHBORS_AUTO);
  vtkGetMacro(NeighborMethod, int);
  ///@}

  ///@{
  /// t-SNE's perplexity (30).
  vtkSetClampMacro(Perplexity, double, 1.0, 1000.0);
  vtkGetMacro(Perplexity, double);
  ///@}

  ///@{
  /// When the input already has the output array (umap_X, ...; e.g. read back
  /// from a results file), move the points there instead of recomputing (on).
  vtkSetMacro(ReuseStoredCoordinates, bool);
  vtkGetMacro(ReuseStoredCoordinates, bool);
  vtkBooleanMacro(ReuseStoredCoordinates, bool);
  ///@}

  ///@{
  /// Random seed (42).
  vtkSetMacro(Seed, int);
  vtkGetMacro(Seed, int);
  ///@}

  ///@{
  /// Compute the maps of all time steps of the input together, aligned (off).
  /// UMAP and PCA only.
  vtkSetMacro(AlignTimeSteps, bool);
  vtkGetMacro(AlignTimeSteps, bool);
  vtkBooleanMacro(AlignTimeSteps, bool);
  ///@}

  ///@{
  /// Aligned UMAP: strength of the pull toward the same sample's position in
  /// neighbouring time steps (umap-learn's alignment_regularisation, 1e-2).
  vtkSetClampMacro(AlignmentRegularisation, double, 0.0, 10.0);
  vtkGetMacro(AlignmentRegularisation, double);
  ///@}

  ///@{
  /// Aligned UMAP: time steps on each side that pull (alignment_window_size, 3).
  vtkSetClampMacro(AlignmentWindowSize, int, 0, 100);
  vtkGetMacro(AlignmentWindowSize, int);
  ///@}

protected:
  vtkEmbeddingProjection();
  ~vtkEmbeddingProjection() override;

  int Execute(vtkInformation* request, vtkPolyData* input, vtkPolyData* output,
    const dualembed::SampleExchange& exchange) override;
  bool CollectsTimeSteps() const override; // with AlignTimeSteps
  /// Execute() with AlignTimeSteps: collects each step's embedding, makes the
  /// aligned maps once, then gives each step its map.
  int ExecuteAligned(vtkInformation*, vtkPolyData* input, vtkPolyData* output,
    const dualembed::SampleExchange& exchange);
  bool CollectAlignedStep(vtkPolyData* input, const dualembed::SampleExchange& exchange);
  bool MakeAlignedMaps(const dualembed::SampleExchange& exchange);

private:
  vtkEmbeddingProjection(const vtkEmbeddingProjection&) = delete;
  void operator=(const vtkEmbeddingProjection&) = delete;

  int Method = METHOD_UMAP;
  int Dimensions = 2;
  int NumberOfNeighbors = 15;
  double MinDist = 0.1;
  int Metric = METRIC_EUCLIDEAN;
  double Perplexity = 30.0;
  int Seed = 42;
  int NeighborMethod = NEIGHBORS_AUTO;
  bool ReuseStoredCoordinates = true;
  bool AlignTimeSteps = false;
  double AlignmentRegularisation = 1e-2;
  int AlignmentWindowSize = 3;

  struct Internals;
  std::unique_ptr<Internals> Internal;
};

#endif
