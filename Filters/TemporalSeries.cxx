#include "TemporalSeries.h"

#include "vtkAlgorithm.h"
#include "vtkDataObject.h"
#include "vtkDemandDrivenPipeline.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkStreamingDemandDrivenPipeline.h"

#include <algorithm>
#include <cmath>

namespace dualembed
{
namespace
{
vtkMTimeType pipelineTime(vtkAlgorithm* algorithm)
{
  auto* executive = vtkDemandDrivenPipeline::SafeDownCast(algorithm->GetExecutive());
  return executive ? executive->GetPipelineMTime() : algorithm->GetMTime();
}
}

void TemporalSeries::readTimeSteps(vtkInformationVector** inputVector)
{
  vtkInformation* inInfo = inputVector[0]->GetInformationObject(0);
  std::vector<double> times;
  if (inInfo->Has(vtkStreamingDemandDrivenPipeline::TIME_STEPS()))
  {
    const double* values = inInfo->Get(vtkStreamingDemandDrivenPipeline::TIME_STEPS());
    times.assign(values, values + inInfo->Length(vtkStreamingDemandDrivenPipeline::TIME_STEPS()));
  }
  if (times != this->Times)
  {
    this->Times = times;
    this->HaveResult = false;
  }
}

size_t TemporalSeries::indexOfTime(double time) const
{
  // The last step at or before `time` (as readers snap), the first before it.
  const auto after = std::upper_bound(this->Times.begin(), this->Times.end(), time);
  return after == this->Times.begin() ? 0 : static_cast<size_t>(after - this->Times.begin()) - 1;
}

void TemporalSeries::requestUpdateExtent(
  vtkAlgorithm* algorithm, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  vtkInformation* inInfo = inputVector[0]->GetInformationObject(0);
  vtkInformation* outInfo = outputVector->GetInformationObject(0);
  this->Requested = outInfo->Has(vtkStreamingDemandDrivenPipeline::UPDATE_TIME_STEP())
    ? this->indexOfTime(outInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_TIME_STEP()))
    : 0;
  if (!this->Collecting && (!this->HaveResult || this->ResultTime != pipelineTime(algorithm)))
  {
    this->Collecting = true;
    this->Next = 0;
  }
  if (this->Times.empty())
  {
    return;
  }
  const size_t step = this->Collecting ? this->Next : this->Requested;
  inInfo->Set(vtkStreamingDemandDrivenPipeline::UPDATE_TIME_STEP(), this->Times[step]);
}

bool TemporalSeries::advance(vtkInformation* request)
{
  if (this->Next + 1 < this->size())
  {
    ++this->Next;
    request->Set(vtkStreamingDemandDrivenPipeline::CONTINUE_EXECUTING(), 1);
    return true;
  }
  return false;
}

bool TemporalSeries::finish(vtkAlgorithm* algorithm, vtkInformation* request)
{
  this->Collecting = false;
  this->HaveResult = true;
  this->ResultTime = pipelineTime(algorithm);
  if (this->Requested != this->Next)
  {
    request->Set(vtkStreamingDemandDrivenPipeline::CONTINUE_EXECUTING(), 1);
    return true;
  }
  request->Remove(vtkStreamingDemandDrivenPipeline::CONTINUE_EXECUTING());
  return false;
}

void TemporalSeries::passStep(vtkInformation* request)
{
  request->Remove(vtkStreamingDemandDrivenPipeline::CONTINUE_EXECUTING());
}

void TemporalSeries::abandon(vtkInformation* request)
{
  this->Collecting = false;
  this->HaveResult = false;
  this->Next = 0;
  request->Remove(vtkStreamingDemandDrivenPipeline::CONTINUE_EXECUTING());
}

size_t TemporalSeries::indexOf(vtkDataObject* input) const
{
  vtkInformation* info = input ? input->GetInformation() : nullptr;
  if (this->Times.empty() || !info || !info->Has(vtkDataObject::DATA_TIME_STEP()))
  {
    return this->Times.empty() ? 0 : this->Requested;
  }
  return this->indexOfTime(info->Get(vtkDataObject::DATA_TIME_STEP()));
}
}
