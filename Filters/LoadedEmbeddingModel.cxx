#include "LoadedEmbeddingModel.h"

#include "SampleExchange.h" // threadsPerRank

#include "vtkAlgorithm.h"

#include <sys/stat.h>

namespace dualembed
{
namespace
{
long long modificationTime(const std::string& path)
{
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long long>(st.st_mtime) : -1;
}

/// What defines the loaded model: a change reloads it.
std::string modelKey(const ModelSettings& settings)
{
  return settings.path + "|" + std::to_string(modificationTime(settings.path)) + "|" +
    std::to_string(settings.pooling) + "|" + std::to_string(settings.device) + "|" +
    std::to_string(settings.precision) + "|" + settings.preprocessorFile + "|" +
    std::to_string(modificationTime(settings.preprocessorFile));
}
}

engine::EmbeddingOptions embeddingOptions(const ModelSettings& settings)
{
  engine::EmbeddingOptions options;
  options.pooling = static_cast<engine::Pooling>(settings.pooling);
  options.device = static_cast<engine::ComputeDevice>(settings.device);
  options.precision = static_cast<engine::Precision>(settings.precision);
  options.threads = settings.numberOfThreads > 0 ? settings.numberOfThreads : threadsPerRank();
  // A PreprocessorFile set by the user fixes a TorchScript model's input size
  // as one beside the model would (the engine probes the script at that size).
  if (!settings.preprocessorFile.empty())
  {
    const engine::ImageSize size =
      engine::modelInputSize(engine::loadPreprocessorConfig(settings.preprocessorFile));
    options.inputHeight = size.height;
    options.inputWidth = size.width;
  }
  return options;
}

engine::EmbeddingModel& LoadedEmbeddingModel::prepare(const ModelSettings& settings)
{
  const engine::EmbeddingOptions options = embeddingOptions(settings);
  const std::string key = modelKey(settings);
  if (!this->Model || this->Key != key)
  {
    this->Model.reset();
    this->Model = std::make_unique<engine::EmbeddingModel>(settings.path, options);
    this->Key = key;
  }
  engine::setEngineThreads(options.threads);
  return *this->Model;
}

engine::PreprocessorConfig preprocessingFor(vtkAlgorithm* filter,
  const engine::EmbeddingModel& model, const std::string& modelPath, const std::string& chosenFile)
{
  const std::string path = chosenFile.empty() ? model.preprocessorConfigPath() : chosenFile;
  if (!path.empty())
  {
    return engine::loadPreprocessorConfig(path);
  }
  engine::PreprocessorConfig defaults;
  defaults.height = model.inputHeight();
  defaults.width = model.inputWidth();
  vtkWarningWithObjectMacro(filter,
    "No preprocessor_config.json beside '" << modelPath << "': resizing to " << defaults.height
                                           << "x" << defaults.width
                                           << " (bilinear) with mean 0.5 and std 0.5, "
                                              "ViTImageProcessor's defaults. Set PreprocessorFile "
                                              "to the model's own configuration.");
  return defaults;
}
}
