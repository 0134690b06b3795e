// For filters whose result depends on every time step of their input (the
// training dynamics over a run's checkpoints, maps aligned across them). Not
// wrapped.
//
// The first update loops the input over all its time steps (the pipeline's
// CONTINUE_EXECUTING, as vtkTemporalStatistics does), the filter keeps what
// it needs from each step and computes its result once. The result stays
// valid until something upstream, or the filter itself, changes (the
// executive's pipeline modification time): a later time request, such as the
// animation playing, only passes that one step through with its part of the
// result. The output keeps the input's time steps.
#ifndef TemporalSeries_h
#define TemporalSeries_h

#ifndef __VTK_WRAP__
#include "vtkType.h"

#include <cstddef>
#include <vector>

class vtkAlgorithm;
class vtkDataObject;
class vtkInformation;
class vtkInformationVector;

namespace dualembed
{
class TemporalSeries
{
public:
  /// RequestInformation: the input's time steps (none: a series of one step).
  void readTimeSteps(vtkInformationVector** inputVector);

  /// RequestUpdateExtent: asks the input for the step to collect, or for the
  /// output's requested time once the result is up to date.
  void requestUpdateExtent(vtkAlgorithm* algorithm, vtkInformationVector** inputVector,
    vtkInformationVector* outputVector);

  /// RequestData: true while steps are being collected; `step()` is the
  /// input's step.
  bool collecting() const { return this->Collecting; }
  size_t step() const { return this->Next; }
  size_t size() const { return this->Times.empty() ? 1 : this->Times.size(); }
  /// The time values (empty without time steps).
  const std::vector<double>& times() const { return this->Times; }

  /// RequestData, after the step was kept: true when more steps follow (the
  /// filter returns 1 at once); false when all are in and the result must be
  /// computed now.
  bool advance(vtkInformation* request);

  /// RequestData, after computing the result: true when one more pass brings
  /// the requested step (the filter returns 1 at once), false when the input
  /// already is that step.
  bool finish(vtkAlgorithm* algorithm, vtkInformation* request);

  /// RequestData, when not collecting (the input is the requested step):
  /// ends the loop of the pass before, if any.
  void passStep(vtkInformation* request);

  /// RequestData on a failure while collecting or computing: stops the loop;
  /// the next update starts again.
  void abandon(vtkInformation* request);

  /// The index of the input's time step (by DATA_TIME_STEP; 0 without time).
  size_t indexOf(vtkDataObject* input) const;

private:
  size_t indexOfTime(double time) const;

  std::vector<double> Times;
  bool Collecting = false;
  size_t Next = 0;
  size_t Requested = 0;
  vtkMTimeType ResultTime = 0; // pipeline modification time the result was computed for
  bool HaveResult = false;
};
}
#endif
#endif
