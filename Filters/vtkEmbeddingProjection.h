/**
 * @class   vtkEmbeddingProjection
 * @brief   Moves the samples to a 2-D or 3-D map of an embedding: UMAP, t-SNE or PCA.
 *
 * The map *is* the render view: the output points are the projection of the
 * selected point-data array X (z = 0 in 2-D), every input array is kept, and
 * the coordinates are also stored as `umap_<X>`, `tsne_<X>` or `pca_<X>`.
 * Defaults follow umap-learn and scikit-learn (SPEC.md §2.5); a fixed Seed
 * makes runs reproducible (bit-identical on one thread). Coordinates already
 * in the input (a results file read back) are reused instead of recomputed.
 */
#ifndef vtkEmbeddingProjection_h
#define vtkEmbeddingProjection_h

#include "DualEmbedFiltersModule.h" // for export macro
#include "vtkPolyDataAlgorithm.h"

class DUALEMBEDFILTERS_EXPORT vtkEmbeddingProjection : public vtkPolyDataAlgorithm
{
public:
  static vtkEmbeddingProjection* New();
  vtkTypeMacro(vtkEmbeddingProjection, vtkPolyDataAlgorithm);
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

protected:
  vtkEmbeddingProjection();
  ~vtkEmbeddingProjection() override = default;

  int RequestData(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  /// RequestData's work; 0 after reporting a failure (RequestData then empties the output).
  int Compute(vtkInformation*, vtkInformationVector**, vtkInformationVector*);

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
  bool ReuseStoredCoordinates = true;
};

#endif
