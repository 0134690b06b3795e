/**
 * @class   vtkEmbeddingChange
 * @brief   Per sample, how much a second embedding rearranged its neighbourhood.
 *
 * For two embeddings A and B of the same samples (e.g. embedding_foundation
 * and embedding_ft) adds `neighbor_overlap` = |kNN_A ∩ kNN_B| / K (exact
 * neighbours, self excluded; cosine when D > 3, else euclidean, per
 * embedding) and `embedding_change` = 1 − overlap: what fine-tuning changed.
 */
#ifndef vtkEmbeddingChange_h
#define vtkEmbeddingChange_h

#include "DualEmbedFiltersModule.h" // for export macro
#include "vtkSampleFilter.h"

class DUALEMBEDFILTERS_EXPORT vtkEmbeddingChange : public vtkSampleFilter
{
public:
  static vtkEmbeddingChange* New();
  vtkTypeMacro(vtkEmbeddingChange, vtkSampleFilter);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  ///@{
  /// Neighbours compared per sample (10); N − 1 when the dataset is smaller.
  vtkSetClampMacro(K, int, 1, 10000);
  vtkGetMacro(K, int);
  ///@}

protected:
  vtkEmbeddingChange();
  ~vtkEmbeddingChange() override = default;

  int Execute(vtkInformation* request, vtkPolyData* input, vtkPolyData* output,
    const dualembed::SampleExchange& exchange) override;

private:
  vtkEmbeddingChange(const vtkEmbeddingChange&) = delete;
  void operator=(const vtkEmbeddingChange&) = delete;

  int K = 10;
};

#endif
