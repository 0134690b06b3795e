#include "vtkCheckpointEmbedding.h"

#include "CheckpointSteps.h"
#include "EmbeddingCache.h"
#include "EmptyOnFailure.h"
#include "SampleExchange.h"

#include "vtkDemandDrivenPipeline.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkObjectFactory.h"
#include "vtkPolyData.h"

#include <filesystem>

vtkStandardNewMacro(vtkCheckpointEmbedding);

vtkCheckpointEmbedding::vtkCheckpointEmbedding()
  : Steps(new dualembed::CheckpointSteps)
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
  const std::string newWarnings =
    this->Steps->find(this->RunPath, this->CheckpointList, this->InitialModelPath);
  if (!newWarnings.empty())
  {
    vtkWarningMacro(<< newWarnings);
  }
  this->Steps->announceTimeSteps(outputVector->GetInformationObject(0));
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
  dualembed::CheckpointSteps& steps = *this->Steps;
  if (!steps.error().empty())
  {
    vtkErrorMacro(<< steps.error());
    return 0;
  }
  vtkPolyData* input = vtkPolyData::GetData(inputVector[0], 0);
  vtkPolyData* output = vtkPolyData::GetData(outputVector, 0);
  if (dualembed::isEmptyInput(input))
  {
    return 1; // a failed stage upstream reported why
  }
  const size_t index = steps.requested(outputVector->GetInformationObject(0));
  const dualembed::engine::Checkpoint& checkpoint = steps.checkpoints()[index];

  // Results kept in memory belong to one state of the pipeline (input, options, run).
  auto* executive = vtkDemandDrivenPipeline::SafeDownCast(this->GetExecutive());
  steps.forgetAllBut(executive ? executive->GetPipelineMTime() : this->GetMTime());
  if (vtkPolyData* kept = steps.computed(index))
  {
    output->ShallowCopy(kept);
  }
  else
  {
    if (!this->EmbedCheckpoint(input, output, checkpoint.name, checkpoint.path))
    {
      return 0;
    }
    steps.keep(index, output);
  }
  steps.describe(output, index);
  return 1;
}

int vtkCheckpointEmbedding::EmbedCheckpoint(
  vtkPolyData* input, vtkPolyData* output, const std::string& name, const std::string& path)
{
  const dualembed::SampleExchange exchange(input->GetNumberOfPoints());
  const std::string cacheFile = this->CacheDirectory.empty()
    ? std::string()
    : dualembed::checkpointCacheFile(this->CacheDirectory, this->GetTag(), name, exchange);
  std::error_code ignored;
  const bool cached = !cacheFile.empty() && std::filesystem::is_regular_file(cacheFile, ignored);
  if (!this->Embed(input, output, path, cached ? cacheFile : std::string()))
  {
    return 0;
  }
  if (!cacheFile.empty() && !this->LoadedFromCache)
  {
    dualembed::writeCheckpointCache(this, output, this->CacheDirectory, cacheFile);
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
