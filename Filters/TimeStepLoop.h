// The RequestData of a filter whose result depends on every time step of its
// input (vtkTemporalSampleFilter): collect each step, compute the result once,
// then give each requested step its part (TemporalSeries.h). Not wrapped.
#ifndef TimeStepLoop_h
#define TimeStepLoop_h

#ifndef __VTK_WRAP__
#include <functional>

class vtkAlgorithm;
class vtkInformation;

namespace dualembed
{
class TemporalSeries;

/// What a temporal filter does at each stage of the loop.
struct TimeStepWork
{
  /// Keeps what the filter needs of the input's step (TemporalSeries::step());
  /// false after reporting why.
  std::function<bool()> collect;
  /// Once every step is in: computes the result; false after reporting why.
  std::function<bool()> compute;
  /// Fills the output: the input's step with its part of the result.
  std::function<void()> publish;
};

/// Execute() of a temporal filter. A failure while collecting or computing
/// abandons the loop (the next update starts again) and returns 0; a pass
/// that only collects returns 1 at once.
int runTimeStepLoop(
  vtkAlgorithm* filter, TemporalSeries& series, vtkInformation* request, const TimeStepWork& work);
}
#endif
#endif
