/**
 * @class   vtkEmbeddingOutlierScore
 * @brief   cleanlab's kNN outlier score of every sample from an embedding.
 *
 * For the selected point-data array X (N×D) adds `outlier_score_<X>` (in
 * (0, 1], lower = more unusual) and `knn_mean_distance_<X>`, exactly as
 * cleanlab's OutOfDistribution (≥ 2.6; Scaling none gives ≤ 2.5): the mean
 * distance to the K nearest other samples (cosine when D > 3, else
 * euclidean), scaled by its median, through exp(−T·d). `<X>` is the array name
 * without a leading `embedding_`.
 */
#ifndef vtkEmbeddingOutlierScore_h
#define vtkEmbeddingOutlierScore_h

#include "DualEmbedFiltersModule.h" // for export macro
#include "vtkSampleFilter.h"

class DUALEMBEDFILTERS_EXPORT vtkEmbeddingOutlierScore : public vtkSampleFilter
{
public:
  static vtkEmbeddingOutlierScore* New();
  vtkTypeMacro(vtkEmbeddingOutlierScore, vtkSampleFilter);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  enum Metrics
  {
    METRIC_AUTO = 0,
    METRIC_COSINE = 1,
    METRIC_EUCLIDEAN = 2
  };
  enum ScalingModes
  {
    SCALING_MEDIAN = 0,
    SCALING_NONE = 1
  };
  enum Methods // engine::KnnMethod
  {
    METHOD_EXACT = 0,
    METHOD_FLANN = 1,
    METHOD_IVF = 2,
    METHOD_AUTO = 3
  };

  ///@{
  /// Neighbours per sample (10); N − 1 when the dataset is smaller.
  vtkSetClampMacro(K, int, 1, 10000);
  vtkGetMacro(K, int);
  ///@}

  ///@{
  /// auto (cosine when D > 3, else euclidean), cosine, euclidean.
  vtkSetClampMacro(Metric, int, METRIC_AUTO, METRIC_EUCLIDEAN);
  vtkGetMacro(Metric, int);
  ///@}

  ///@{
  /// Temperature t of exp(−t·d/s) (1.0).
  vtkSetMacro(T, double);
  vtkGetMacro(T, double);
  ///@}

  ///@{
  /// median (cleanlab ≥ 2.6) or none (cleanlab ≤ 2.5).
  vtkSetClampMacro(Scaling, int, SCALING_MEDIAN, SCALING_NONE);
  vtkGetMacro(Scaling, int);
  ///@}

  ///@{
  /// auto (default: exact up to 200 000 samples, else ivf), exact, ivf
  /// (approximate inverted file) or flann (approximate kd-trees).
  vtkSetClampMacro(Method, int, METHOD_EXACT, METHOD_AUTO);
  vtkGetMacro(Method, int);
  ///@}

protected:
  vtkEmbeddingOutlierScore();
  ~vtkEmbeddingOutlierScore() override;

  int Execute(vtkInformation* request, vtkPolyData* input, vtkPolyData* output,
    const dualembed::SampleExchange& exchange) override;

private:
  vtkEmbeddingOutlierScore(const vtkEmbeddingOutlierScore&) = delete;
  void operator=(const vtkEmbeddingOutlierScore&) = delete;

  int K = 10;
  int Metric = METRIC_AUTO;
  double T = 1.0;
  int Scaling = SCALING_MEDIAN;
  int Method = METHOD_AUTO;
};

#endif
