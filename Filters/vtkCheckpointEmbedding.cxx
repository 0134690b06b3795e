#include "vtkCheckpointEmbedding.h"

#include "CheckpointSeries.h"
#include "EmptyOnFailure.h"
#include "EngineError.h"
#include "SampleExchange.h"
#include "vtkSampleStoreWriter.h"

#include "vtkDemandDrivenPipeline.h"
#include "vtkDoubleArray.h"
#include "vtkFieldData.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkNew.h"
#include "vtkObjectFactory.h"
#include "vtkOutputWindow.h"
#include "vtkPolyData.h"
#include "vtkSmartPointer.h"
#include "vtkStreamingDemandDrivenPipeline.h"
#include "vtkStringArray.h"

#include <algorithm>
#include <filesystem>
#include <map>

namespace engine = dualembed::engine;
namespace fs = std::filesystem;

vtkStandardNewMacro(vtkCheckpointEmbedding);

struct vtkCheckpointEmbedding::Series
{
  engine::CheckpointSeries Found;
  std::string Error;         // why RequestInformation found no series
  std::string ShownWarnings; // the warnings already in the output window
  // The output of each checkpoint computed so far, valid for one pipeline state.
  std::map<size_t, vtkSmartPointer<vtkPolyData>> Computed;
  vtkMTimeType ComputedFor = 0;
};

namespace
{
/// The checkpoint of the requested time: the last one at or before it.
size_t checkpointAt(vtkInformation* outInfo, const std::vector<engine::Checkpoint>& checkpoints)
{
  if (!outInfo->Has(vtkStreamingDemandDrivenPipeline::UPDATE_TIME_STEP()))
  {
    return 0;
  }
  const double time = outInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_TIME_STEP());
  const auto after = std::upper_bound(checkpoints.begin(), checkpoints.end(), time,
    [](double t, const engine::Checkpoint& c) { return t < c.step; });
  return after == checkpoints.begin() ? 0 : static_cast<size_t>(after - checkpoints.begin()) - 1;
}

/// Which checkpoint this time step shows, and the whole run's steps and epochs (field data).
void addCheckpointFields(vtkPolyData* output, const engine::Checkpoint& checkpoint,
  const std::vector<engine::Checkpoint>& checkpoints)
{
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
  for (const engine::Checkpoint& c : checkpoints)
  {
    steps.push_back(c.step);
    epochs.push_back(c.epoch);
  }
  addValues("checkpoint_steps", steps);
  addValues("checkpoint_epochs", epochs);
}
}

vtkCheckpointEmbedding::vtkCheckpointEmbedding()
  : Checkpoints_(new Series)
{
  this->SetTag("ft");
}

vtkCheckpointEmbedding::~vtkCheckpointEmbedding() = default;

void vtkCheckpointEmbedding::AddCheckpoint(const char* modelPath)
{
  if (modelPath && *modelPath)
  {
    this->CheckpointList.emplace_back(modelPath);
    this->Modified();
  }
}

void vtkCheckpointEmbedding::RemoveAllCheckpoints()
{
  if (!this->CheckpointList.empty())
  {
    this->CheckpointList.clear();
    this->Modified();
  }
}

int vtkCheckpointEmbedding::GetNumberOfCheckpoints() const
{
  return static_cast<int>(this->CheckpointList.size());
}

const char* vtkCheckpointEmbedding::GetCheckpoint(int index) const
{
  return index >= 0 && index < this->GetNumberOfCheckpoints() ? this->CheckpointList[index].c_str()
                                                              : nullptr;
}

int vtkCheckpointEmbedding::RequestInformation(
  vtkInformation*, vtkInformationVector**, vtkInformationVector* outputVector)
{
  vtkInformation* outInfo = outputVector->GetInformationObject(0);
  Series& series = *this->Checkpoints_;
  try
  {
    series.Found =
      engine::findCheckpoints(this->RunPath, this->CheckpointList, this->InitialModelPath);
    series.Error.clear();
  }
  catch (const std::exception& e)
  {
    // Reported by RequestData, which then empties the output (an error here
    // would leave the views showing the previous run).
    series.Found = engine::CheckpointSeries();
    series.Error = e.what();
  }
  std::string warnings;
  for (const std::string& warning : series.Found.warnings)
  {
    warnings += "Checkpoint Embedding: " + warning + ".\n";
  }
  if (warnings != series.ShownWarnings)
  {
    series.ShownWarnings = warnings;
    if (!warnings.empty())
    {
      vtkWarningMacro(<< warnings);
    }
  }
  std::vector<double> steps;
  for (const engine::Checkpoint& checkpoint : series.Found.checkpoints)
  {
    steps.push_back(checkpoint.step);
  }
  if (steps.empty())
  {
    outInfo->Remove(vtkStreamingDemandDrivenPipeline::TIME_STEPS());
    outInfo->Remove(vtkStreamingDemandDrivenPipeline::TIME_RANGE());
    return 1;
  }
  outInfo->Set(
    vtkStreamingDemandDrivenPipeline::TIME_STEPS(), steps.data(), static_cast<int>(steps.size()));
  const double range[2] = { steps.front(), steps.back() };
  outInfo->Set(vtkStreamingDemandDrivenPipeline::TIME_RANGE(), range, 2);
  return 1;
}

int vtkCheckpointEmbedding::RequestData(
  vtkInformation*, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  return dualembed::emptyOnFailure(this, vtkPolyData::GetData(outputVector, 0),
    [&] { return this->ComputeStep(inputVector, outputVector); });
}

int vtkCheckpointEmbedding::ComputeStep(
  vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  Series& series = *this->Checkpoints_;
  if (!series.Error.empty())
  {
    vtkErrorMacro(<< series.Error);
    return 0;
  }
  vtkPolyData* input = vtkPolyData::GetData(inputVector[0], 0);
  vtkPolyData* output = vtkPolyData::GetData(outputVector, 0);
  if (dualembed::isEmptyInput(input))
  {
    return 1; // a failed stage upstream reported why
  }
  const std::vector<engine::Checkpoint>& checkpoints = series.Found.checkpoints;
  const size_t index = checkpointAt(outputVector->GetInformationObject(0), checkpoints);
  const engine::Checkpoint& checkpoint = checkpoints[index];

  // Results kept in memory belong to one state of the pipeline (input, options, run).
  auto* executive = vtkDemandDrivenPipeline::SafeDownCast(this->GetExecutive());
  const vtkMTimeType state = executive ? executive->GetPipelineMTime() : this->GetMTime();
  if (state != series.ComputedFor)
  {
    series.Computed.clear();
    series.ComputedFor = state;
  }
  const auto kept = series.Computed.find(index);
  if (kept != series.Computed.end())
  {
    output->ShallowCopy(kept->second);
  }
  else
  {
    if (!this->EmbedCheckpoint(input, output, checkpoint.name, checkpoint.path))
    {
      return 0;
    }
    auto keep = vtkSmartPointer<vtkPolyData>::New();
    keep->ShallowCopy(output);
    series.Computed[index] = keep;
  }
  addCheckpointFields(output, checkpoint, checkpoints);
  output->GetInformation()->Set(vtkDataObject::DATA_TIME_STEP(), checkpoint.step);
  return 1;
}

int vtkCheckpointEmbedding::EmbedCheckpoint(
  vtkPolyData* input, vtkPolyData* output, const std::string& name, const std::string& path)
{
  const dualembed::SampleExchange exchange(input->GetNumberOfPoints());
  std::string cacheFile;
  if (!this->CacheDirectory.empty())
  {
    // One file per rank under MPI: each rank keeps its own samples.
    cacheFile = (fs::path(this->CacheDirectory) /
      (std::string(this->GetTag()) + "-" + name +
        (exchange.isParallel()
            ? ".rank" + std::to_string(exchange.rank()) + "of" + std::to_string(exchange.ranks())
            : std::string()) +
        ".h5"))
                  .string();
  }
  std::error_code ignored;
  const bool cached = !cacheFile.empty() && fs::is_regular_file(cacheFile, ignored);
  if (!this->Embed(input, output, path, cached ? cacheFile : std::string()))
  {
    return 0;
  }
  if (!cacheFile.empty() && !this->LoadedFromCache)
  {
    fs::create_directories(this->CacheDirectory, ignored);
    vtkNew<vtkSampleStoreWriter> writer;
    writer->SetFileName(cacheFile.c_str());
    writer->WriteImagesOff();
    writer->SetInputData(output);
    if (!writer->Write())
    {
      vtkWarningMacro("Could not write the cache file '"
        << cacheFile << "'; the checkpoint will be computed again.");
    }
  }
  return 1;
}

void vtkCheckpointEmbedding::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "RunPath: " << this->RunPath << "\n";
  os << indent << "Checkpoints: " << this->CheckpointList.size() << "\n";
  os << indent << "InitialModelPath: " << this->InitialModelPath << "\n";
  os << indent << "CacheDirectory: " << this->CacheDirectory << "\n";
}
