/**
 * @class   vtkPerSampleArrays
 * @brief   The samples with their per-sample arrays only: labels, scores,
 *          neighbours, map coordinates; no pixels, embeddings or probabilities.
 *
 * What the views of the comparison layout show (dualembed.layout): a
 * spreadsheet splits every component into a column and re-extracts the
 * selection on every change (8 s per selection with 784 pixel columns), and
 * hover tooltips list every component. Keeps the point-data arrays of at most
 * `MaximumComponents` components, every other attribute, the points and the
 * field data; point ids are unchanged, so a selection of the output selects
 * the same samples of the input. A rule, not a list of names: arrays that
 * come back after a failed stage upstream (or new ones) are shown again.
 */
#ifndef vtkPerSampleArrays_h
#define vtkPerSampleArrays_h

#include "DualEmbedFiltersModule.h" // for export macro
#include "vtkPolyDataAlgorithm.h"

class DUALEMBEDFILTERS_EXPORT vtkPerSampleArrays : public vtkPolyDataAlgorithm
{
public:
  static vtkPerSampleArrays* New();
  vtkTypeMacro(vtkPerSampleArrays, vtkPolyDataAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  ///@{
  /// Arrays with more components are left out (3: map coordinates stay).
  vtkSetClampMacro(MaximumComponents, int, 1, 1000000);
  vtkGetMacro(MaximumComponents, int);
  ///@}

protected:
  vtkPerSampleArrays() = default;
  ~vtkPerSampleArrays() override = default;

  int RequestData(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;

private:
  vtkPerSampleArrays(const vtkPerSampleArrays&) = delete;
  void operator=(const vtkPerSampleArrays&) = delete;

  int MaximumComponents = 3;
};

#endif
