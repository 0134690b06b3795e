#include "CheckpointSteps.h"

#include "vtkDoubleArray.h"
#include "vtkFieldData.h"
#include "vtkInformation.h"
#include "vtkNew.h"
#include "vtkStreamingDemandDrivenPipeline.h"
#include "vtkStringArray.h"

#include <algorithm>
#include <exception>

namespace dualembed
{
std::size_t checkpointAt(double time, const std::vector<engine::Checkpoint>& checkpoints)
{
  const auto after = std::upper_bound(checkpoints.begin(), checkpoints.end(), time,
    [](double t, const engine::Checkpoint& c) { return t < c.step; });
  return after == checkpoints.begin() ? 0
                                      : static_cast<std::size_t>(after - checkpoints.begin()) - 1;
}

std::string CheckpointSteps::find(const std::string& runPath,
  const std::vector<std::string>& checkpointList, const std::string& initialModelPath)
{
  try
  {
    this->Found = engine::findCheckpoints(runPath, checkpointList, initialModelPath);
    this->Error.clear();
  }
  catch (const std::exception& e)
  {
    // Kept for RequestData to report (see the header).
    this->Found = engine::CheckpointSeries();
    this->Error = e.what();
  }
  std::string warnings;
  for (const std::string& warning : this->Found.warnings)
  {
    warnings += "Checkpoint Embedding: " + warning + ".\n";
  }
  if (warnings == this->ShownWarnings)
  {
    return std::string();
  }
  this->ShownWarnings = warnings;
  return warnings;
}

void CheckpointSteps::announceTimeSteps(vtkInformation* outInfo) const
{
  std::vector<double> steps;
  for (const engine::Checkpoint& checkpoint : this->Found.checkpoints)
  {
    steps.push_back(checkpoint.step);
  }
  if (steps.empty())
  {
    outInfo->Remove(vtkStreamingDemandDrivenPipeline::TIME_STEPS());
    outInfo->Remove(vtkStreamingDemandDrivenPipeline::TIME_RANGE());
    return;
  }
  outInfo->Set(
    vtkStreamingDemandDrivenPipeline::TIME_STEPS(), steps.data(), static_cast<int>(steps.size()));
  const double range[2] = { steps.front(), steps.back() };
  outInfo->Set(vtkStreamingDemandDrivenPipeline::TIME_RANGE(), range, 2);
}

std::size_t CheckpointSteps::requested(vtkInformation* outInfo) const
{
  if (!outInfo->Has(vtkStreamingDemandDrivenPipeline::UPDATE_TIME_STEP()))
  {
    return 0;
  }
  return checkpointAt(
    outInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_TIME_STEP()), this->Found.checkpoints);
}

void CheckpointSteps::forgetAllBut(vtkMTimeType state)
{
  if (state != this->ComputedFor)
  {
    this->Computed.clear();
    this->ComputedFor = state;
  }
}

vtkPolyData* CheckpointSteps::computed(std::size_t index) const
{
  const auto kept = this->Computed.find(index);
  return kept != this->Computed.end() ? kept->second.Get() : nullptr;
}

void CheckpointSteps::keep(std::size_t index, vtkPolyData* output)
{
  auto copy = vtkSmartPointer<vtkPolyData>::New();
  copy->ShallowCopy(output);
  this->Computed[index] = copy;
}

void CheckpointSteps::describe(vtkPolyData* output, std::size_t index) const
{
  const engine::Checkpoint& checkpoint = this->Found.checkpoints[index];
  vtkFieldData* fields = output->GetFieldData();
  vtkNew<vtkStringArray> which;
  which->SetName("checkpoint");
  which->InsertNextValue(checkpoint.name);
  which->InsertNextValue(checkpoint.path);
  fields->AddArray(which);
  const auto addValues = [fields](const char* name, const std::vector<double>& values) {
    vtkNew<vtkDoubleArray> array;
    array->SetName(name);
    for (double value : values)
    {
      array->InsertNextValue(value);
    }
    fields->AddArray(array);
  };
  addValues("checkpoint_step", { checkpoint.step });
  addValues("checkpoint_epoch", { checkpoint.epoch });
  std::vector<double> steps, epochs;
  for (const engine::Checkpoint& c : this->Found.checkpoints)
  {
    steps.push_back(c.step);
    epochs.push_back(c.epoch);
  }
  addValues("checkpoint_steps", steps);
  addValues("checkpoint_epochs", epochs);
  output->GetInformation()->Set(vtkDataObject::DATA_TIME_STEP(), checkpoint.step);
}
}
