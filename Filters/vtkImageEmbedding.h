/**
 * @class   vtkImageEmbedding
 * @brief   Adds a model's embedding of every sample image as a point-data array.
 *
 * Runs a vision model — a Hugging Face ViT or Swin folder (safetensors or
 * pytorch_model.bin), with or without classifier head, or a TorchScript file —
 * on the samples' images and adds `embedding_<Tag>` (float32, D components).
 * Models with a classifier head also give `logits_<Tag>`, `probs_<Tag>`,
 * `pred_label_<Tag>` and `pred_label_str_<Tag>`. Preprocessing reproduces
 * Hugging Face's ViTImageProcessor (PIL backend) from the model's
 * preprocessor_config.json.
 *
 * Pixels come from the `image` array (uint8, field data `image_shape`), or,
 * when the input has a `file_name` array (image folders of mixed sizes), from
 * the original files. Inference runs in batches on all cores (or CUDA), with
 * progress per batch; aborting stops after the current batch.
 */
#ifndef vtkImageEmbedding_h
#define vtkImageEmbedding_h

#include "DualEmbedFiltersModule.h" // for export macro
#include "vtkPolyDataAlgorithm.h"

#include <memory> // for std::unique_ptr
#include <string> // for std::string

class DUALEMBEDFILTERS_EXPORT vtkImageEmbedding : public vtkPolyDataAlgorithm
{
public:
  static vtkImageEmbedding* New();
  vtkTypeMacro(vtkImageEmbedding, vtkPolyDataAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  enum PoolingModes
  {
    POOLING_AUTO = 0,
    POOLING_FIRST_TOKEN = 1,
    POOLING_MEAN = 2,
    POOLING_POOLER = 3,
    POOLING_PROJECTION = 4
  };
  enum Devices
  {
    DEVICE_AUTO = 0,
    DEVICE_CPU = 1,
    DEVICE_CUDA = 2
  };
  enum Precisions
  {
    PRECISION_FLOAT32 = 0,
    PRECISION_BFLOAT16 = 1
  };

  ///@{
  /// A Hugging Face model folder (config.json, model.safetensors or
  /// pytorch_model.bin, preprocessor_config.json) or a TorchScript file.
  vtkSetStdStringFromCharMacro(ModelPath);
  vtkGetCharFromStdStringMacro(ModelPath);
  ///@}

  ///@{
  /// Names the output arrays: embedding_<Tag>, logits_<Tag>, ... Empty (the default):
  /// foundation for the samples' first embedding, ft for the second, then the
  /// model's folder name. A Tag the input already has is an error (no overwrite).
  vtkSetStdStringFromCharMacro(Tag);
  vtkGetCharFromStdStringMacro(Tag);
  ///@}

  ///@{
  /// A preprocessor_config.json that overrides the one beside the model
  /// (needed for TorchScript files that have none). Empty: beside the model.
  vtkSetStdStringFromCharMacro(PreprocessorFile);
  vtkGetCharFromStdStringMacro(PreprocessorFile);
  ///@}

  ///@{
  /// Which tokens make the embedding: auto (ViT first token, Swin mean),
  /// first-token, mean, pooler. Ignored for TorchScript files.
  vtkSetClampMacro(Pooling, int, POOLING_AUTO, POOLING_PROJECTION);
  vtkGetMacro(Pooling, int);
  ///@}

  ///@{
  /// Images per forward pass. Default 24.
  vtkSetClampMacro(BatchSize, int, 1, 65536);
  vtkGetMacro(BatchSize, int);
  ///@}

  ///@{
  /// auto (CUDA when the LibTorch in use has it), cpu, cuda.
  vtkSetClampMacro(Device, int, DEVICE_AUTO, DEVICE_CUDA);
  vtkGetMacro(Device, int);
  ///@}

  ///@{
  /// float32 (default) or bfloat16 (CUDA, or a CPU with AVX512-BF16 / AMX).
  vtkSetClampMacro(Precision, int, PRECISION_FLOAT32, PRECISION_BFLOAT16);
  vtkGetMacro(Precision, int);
  ///@}

  ///@{
  /// CPU threads for inference; 0 uses every core.
  vtkSetClampMacro(NumberOfThreads, int, 0, 1024);
  vtkGetMacro(NumberOfThreads, int);
  ///@}

  ///@{
  /// A DualEmbed results file (.h5, vtkSampleStoreWriter) to reuse: when it
  /// holds embedding_<Tag> made by the same model (ModelPath and pooling, model
  /// files not newer than the file) for every input `sample_id`, the arrays are
  /// loaded from it instead of running the model. Otherwise the model runs and
  /// the output window says why. Empty (default): always compute.
  vtkSetStdStringFromCharMacro(CacheFile);
  vtkGetCharFromStdStringMacro(CacheFile);
  ///@}

protected:
  vtkImageEmbedding();
  ~vtkImageEmbedding() override;

  int RequestData(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  /// RequestData's work; 0 after reporting a failure (RequestData then empties the output).
  int Compute(vtkInformation*, vtkInformationVector**, vtkInformationVector*);

  /// Embeds the input's samples with the model at `modelPath` into `output`
  /// (a shallow copy of `input`), or loads them from `cacheFile` when it holds
  /// them; 0 after reporting a failure. Shared with vtkCheckpointEmbedding.
  int Embed(vtkPolyData* input, vtkPolyData* output, const std::string& modelPath,
    const std::string& cacheFile);

  /// The tag of the arrays Embed() makes: Tag, or the free one chosen when Tag is empty.
  std::string OutputTag;

  /// Whether the last Embed() loaded its arrays from the cache file.
  bool LoadedFromCache = false;

  /// True when `cacheFile` (if any) gave `output` its arrays; else says in the
  /// output window why it was not used.
  bool UseCache(vtkPolyData* input, vtkPolyData* output, const std::string& modelPath,
    const std::string& cacheFile);

private:
  vtkImageEmbedding(const vtkImageEmbedding&) = delete;
  void operator=(const vtkImageEmbedding&) = delete;

  struct Internals;
  std::unique_ptr<Internals> Internal;

  std::string ModelPath;
  std::string Tag;
  std::string PreprocessorFile;
  int Pooling = POOLING_AUTO;
  int BatchSize = 24;
  int Device = DEVICE_AUTO;
  int Precision = PRECISION_FLOAT32;
  int NumberOfThreads = 0;
  std::string CacheFile;
};

#endif
