/**
 * @class   vtkTemporalSampleFilter
 * @brief   base of the sample filters whose result depends on every time step of their input.
 *
 * Training Dynamics (over a run's checkpoints) and Embedding Projection with
 * Align Time Steps: the first update loops the input over its time steps and
 * the filter collects what it needs from each (TemporalSeries.h); later time
 * requests pass one step through with its part of the result. This class owns
 * the time-series requests; a subclass reads its state from Series().
 */
#ifndef vtkTemporalSampleFilter_h
#define vtkTemporalSampleFilter_h

#include "DualEmbedFiltersModule.h" // for export macro
#include "vtkSampleFilter.h"

#include <memory> // for std::unique_ptr

namespace dualembed
{
class TemporalSeries;
}

class DUALEMBEDFILTERS_EXPORT vtkTemporalSampleFilter : public vtkSampleFilter
{
public:
  vtkTypeMacro(vtkTemporalSampleFilter, vtkSampleFilter);
  void PrintSelf(ostream& os, vtkIndent indent) override;

protected:
  vtkTemporalSampleFilter();
  ~vtkTemporalSampleFilter() override;

  int RequestInformation(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  int RequestUpdateExtent(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  /// An empty input ends the loop over the time steps.
  void InputWasEmpty(vtkInformation* request) override;

  /// False: the filter works on one time step at a time, like any other
  /// (Embedding Projection without Align Time Steps).
  virtual bool CollectsTimeSteps() const { return true; }

  dualembed::TemporalSeries& Series() { return *this->SeriesState; }

private:
  vtkTemporalSampleFilter(const vtkTemporalSampleFilter&) = delete;
  void operator=(const vtkTemporalSampleFilter&) = delete;

  std::unique_ptr<dualembed::TemporalSeries> SeriesState;
};

#endif
