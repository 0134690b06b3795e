/**
 * @class   vtkEmbeddingNearestNeighbor
 * @brief   Each sample's nearest other sample, with Annoy's angular distance.
 *
 * For the selected point-data array X adds `nn_id_<X>` (int64, point id of the
 * nearest other sample by angle), `nn_distance_<X>` = sqrt(2 − 2·cos) in
 * [0, 2] (a zero vector is at sqrt(2)) and `nn_flag_<X>` = nn_distance <
 * Threshold. Exact by default; flann is an approximate option.
 */
#ifndef vtkEmbeddingNearestNeighbor_h
#define vtkEmbeddingNearestNeighbor_h

#include "DualEmbedFiltersModule.h" // for export macro
#include "vtkSampleFilter.h"

class DUALEMBEDFILTERS_EXPORT vtkEmbeddingNearestNeighbor : public vtkSampleFilter
{
public:
  static vtkEmbeddingNearestNeighbor* New();
  vtkTypeMacro(vtkEmbeddingNearestNeighbor, vtkSampleFilter);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  ///@{
  /// nn_flag is set when nn_distance is below this (0.3).
  vtkSetMacro(Threshold, double);
  vtkGetMacro(Threshold, double);
  ///@}

  ///@{
  /// engine::KnnMethod: 3 auto (default: exact up to 200 000 samples, else
  /// ivf), 0 exact, 2 ivf (approximate inverted file), 1 flann (kd-trees).
  vtkSetClampMacro(Method, int, 0, 3);
  vtkGetMacro(Method, int);
  ///@}

protected:
  vtkEmbeddingNearestNeighbor();
  ~vtkEmbeddingNearestNeighbor() override;

  int Execute(vtkInformation* request, vtkPolyData* input, vtkPolyData* output,
    const dualembed::SampleExchange& exchange) override;

private:
  vtkEmbeddingNearestNeighbor(const vtkEmbeddingNearestNeighbor&) = delete;
  void operator=(const vtkEmbeddingNearestNeighbor&) = delete;

  double Threshold = 0.3;
  int Method = 3;
};

#endif
