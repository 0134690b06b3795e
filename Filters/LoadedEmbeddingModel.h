// The model Image Embedding runs, kept loaded between executions, and what it
// needs around it: the engine's options from the filter's properties and the
// preprocessing of its images. Not wrapped.
#ifndef LoadedEmbeddingModel_h
#define LoadedEmbeddingModel_h

#ifndef __VTK_WRAP__
#include "ImageEmbedding.h" // engine::EmbeddingModel, engine::EmbeddingOptions

#include <memory>
#include <string>

class vtkAlgorithm;

namespace dualembed
{
/// The properties of Image Embedding that define its model (vtkImageEmbedding.h).
struct ModelSettings
{
  std::string path;
  std::string preprocessorFile; ///< empty: the one beside the model
  int pooling = 0;
  int device = 0;
  int precision = 0;
  int numberOfThreads = 0; ///< 0: the cores of this machine, shared by the MPI ranks on it
};

/// The engine's options for `settings`.
engine::EmbeddingOptions embeddingOptions(const ModelSettings& settings);

/// The model of Image Embedding, kept while ModelPath, its files and the
/// options stay the same: loading a ViT-B takes seconds, changing BatchSize
/// or Tag should not reload it.
class LoadedEmbeddingModel
{
public:
  /// The model of `settings`, loaded again only when what defines it
  /// changed; LibTorch then gets the threads of `settings`.
  engine::EmbeddingModel& prepare(const ModelSettings& settings);

private:
  std::unique_ptr<engine::EmbeddingModel> Model;
  std::string Key;
};

/// The preprocessing of `model`: the PreprocessorFile chosen, else the one
/// beside the model, else ViTImageProcessor's defaults at the model's input
/// size (with a warning of `filter`).
engine::PreprocessorConfig preprocessingFor(vtkAlgorithm* filter,
  const engine::EmbeddingModel& model, const std::string& modelPath, const std::string& chosenFile);
}
#endif
#endif
