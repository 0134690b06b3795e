#include "TimeStepLoop.h"

#include "TemporalSeries.h"

#include "vtkAlgorithm.h"

namespace dualembed
{
int runTimeStepLoop(
  vtkAlgorithm* filter, TemporalSeries& series, vtkInformation* request, const TimeStepWork& work)
{
  if (series.collecting())
  {
    if (!work.collect())
    {
      series.abandon(request);
      return 0;
    }
    if (series.advance(request))
    {
      return 1; // the next time step follows
    }
    if (!work.compute())
    {
      series.abandon(request);
      return 0;
    }
    if (series.finish(filter, request))
    {
      return 1; // one more pass for the time step asked for
    }
  }
  else
  {
    series.passStep(request);
  }
  work.publish();
  filter->UpdateProgress(1.0);
  return 1;
}
}
