/**
 * @class   vtkPredictionOutlierScore
 * @brief   cleanlab's outlier score and label quality from predicted probabilities.
 *
 * From a probability array `probs_<X>` (N×K) and the labels, adds
 * `ood_pred_score_<X>` (cleanlab's OutOfDistribution from pred_probs, method
 * entropy or least_confidence, with adjust_pred_probs) and
 * `label_quality_<X>` (self-confidence p[i, label_i]; low = likely label error).
 */
#ifndef vtkPredictionOutlierScore_h
#define vtkPredictionOutlierScore_h

#include "DualEmbedFiltersModule.h" // for export macro
#include "vtkSampleFilter.h"

class DUALEMBEDFILTERS_EXPORT vtkPredictionOutlierScore : public vtkSampleFilter
{
public:
  static vtkPredictionOutlierScore* New();
  vtkTypeMacro(vtkPredictionOutlierScore, vtkSampleFilter);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  enum Methods
  {
    METHOD_ENTROPY = 0,
    METHOD_LEAST_CONFIDENCE = 1
  };

  ///@{
  /// entropy (default) or least_confidence.
  vtkSetClampMacro(Method, int, METHOD_ENTROPY, METHOD_LEAST_CONFIDENCE);
  vtkGetMacro(Method, int);
  ///@}

protected:
  vtkPredictionOutlierScore();
  ~vtkPredictionOutlierScore() override = default;

  int Execute(vtkInformation* request, vtkPolyData* input, vtkPolyData* output,
    const dualembed::SampleExchange& exchange) override;

private:
  vtkPredictionOutlierScore(const vtkPredictionOutlierScore&) = delete;
  void operator=(const vtkPredictionOutlierScore&) = delete;

  int Method = METHOD_ENTROPY;
};

#endif
