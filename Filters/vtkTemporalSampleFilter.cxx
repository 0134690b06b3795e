#include "vtkTemporalSampleFilter.h"

#include "TemporalSeries.h"

vtkTemporalSampleFilter::vtkTemporalSampleFilter()
  : SeriesState(new dualembed::TemporalSeries)
{
}

vtkTemporalSampleFilter::~vtkTemporalSampleFilter() = default;

int vtkTemporalSampleFilter::RequestInformation(
  vtkInformation*, vtkInformationVector** inputVector, vtkInformationVector*)
{
  this->SeriesState->readTimeSteps(inputVector);
  return 1;
}

int vtkTemporalSampleFilter::RequestUpdateExtent(
  vtkInformation*, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  if (this->CollectsTimeSteps())
  {
    this->SeriesState->requestUpdateExtent(this, inputVector, outputVector);
  }
  return 1;
}

void vtkTemporalSampleFilter::InputWasEmpty(vtkInformation* request)
{
  if (this->CollectsTimeSteps())
  {
    this->SeriesState->abandon(request);
  }
}

void vtkTemporalSampleFilter::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
}
