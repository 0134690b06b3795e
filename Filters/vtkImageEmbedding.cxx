#include "vtkImageEmbedding.h"

#include "EmbeddingArrays.h"
#include "EmbeddingCache.h"
#include "EngineError.h"
#include "FilterSupport.h" // progressReporter, emptyOnFailure
#include "LoadedEmbeddingModel.h"
#include "SampleImageSource.h"

#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkObjectFactory.h"
#include "vtkPolyData.h"

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkImageEmbedding);

struct vtkImageEmbedding::Internals
{
  dualembed::LoadedEmbeddingModel Model;
};

vtkImageEmbedding::vtkImageEmbedding()
  : Internal(new Internals)
{
}

vtkImageEmbedding::~vtkImageEmbedding() = default;

int vtkImageEmbedding::RequestData(
  vtkInformation* request, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  return dualembed::emptyOnFailure(this, vtkPolyData::GetData(outputVector, 0),
    [&] { return this->Compute(request, inputVector, outputVector); });
}

int vtkImageEmbedding::Compute(
  vtkInformation*, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  return this->Embed(vtkPolyData::GetData(inputVector[0], 0), vtkPolyData::GetData(outputVector, 0),
    this->ModelPath, this->CacheFile);
}

int vtkImageEmbedding::Embed(vtkPolyData* input, vtkPolyData* output, const std::string& modelPath,
  const std::string& cacheFile)
{
  if (dualembed::isEmptyInput(input))
  {
    return 1; // a failed stage upstream reported why; pass its empty output on
  }
  output->ShallowCopy(input);
  this->LoadedFromCache = false;

  if (modelPath.empty())
  {
    vtkErrorMacro(
      "No model chosen: set ModelPath to a Hugging Face model folder or a TorchScript file.");
    return 0;
  }
  if (!dualembed::chooseOutputTag(this, input, this->Tag, modelPath, this->OutputTag))
  {
    return 0;
  }
  if (this->UseCache(input, output, modelPath, cacheFile))
  {
    return 1;
  }
  dualembed::SampleImages images;
  std::string error;
  if (!images.initialize(input, error))
  {
    vtkErrorMacro(<< error);
    return 0;
  }
  const vtkIdType n = input->GetNumberOfPoints();

  try
  {
    // (Re)loads the model only when what defines it changed.
    const dualembed::ModelSettings settings = { modelPath, this->PreprocessorFile, this->Pooling,
      this->Device, this->Precision, this->NumberOfThreads };
    engine::EmbeddingModel& model = this->Internal->Model.prepare(settings);
    const engine::PreprocessorConfig preprocessing =
      dualembed::preprocessingFor(this, model, modelPath, this->PreprocessorFile);

    const dualembed::EmbeddingArrays arrays(model, this->OutputTag, n);
    dualembed::SampleImageSource source(images, n);
    engine::embedImages(model, source, preprocessing, this->BatchSize, arrays.targets(),
      dualembed::progressReporter(this));
    arrays.addTo(output, model, modelPath);
  }
  catch (const engine::Aborted& e)
  {
    vtkWarningMacro(<< e.what());
    return 0;
  }
  catch (const std::exception& e)
  {
    // ModelError carries a sentence for the user; LibTorch errors (c10::Error) are
    // std::exceptions too and must not escape into ParaView.
    vtkErrorMacro(<< e.what());
    return 0;
  }
  return 1;
}

bool vtkImageEmbedding::UseCache(vtkPolyData* input, vtkPolyData* output,
  const std::string& modelPath, const std::string& cacheFile)
{
  if (cacheFile.empty() ||
    !dualembed::loadCachedEmbedding(
      input, output, this->OutputTag, modelPath, this->Pooling, cacheFile))
  {
    return false;
  }
  this->LoadedFromCache = true;
  this->UpdateProgress(1.0);
  return true;
}

void vtkImageEmbedding::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "ModelPath: " << this->ModelPath << "\n";
  os << indent << "Tag: " << this->Tag << "\n";
  os << indent << "PreprocessorFile: " << this->PreprocessorFile << "\n";
  os << indent << "Pooling: " << this->Pooling << "\n";
  os << indent << "BatchSize: " << this->BatchSize << "\n";
  os << indent << "Device: " << this->Device << "\n";
  os << indent << "Precision: " << this->Precision << "\n";
  os << indent << "NumberOfThreads: " << this->NumberOfThreads << "\n";
  os << indent << "CacheFile: " << this->CacheFile << "\n";
}
