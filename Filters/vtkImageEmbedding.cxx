#include "vtkImageEmbedding.h"

#include "EngineError.h"
#include "FilterSupport.h" // progressReporter, emptyOnFailure
#include "ImageEmbedding.h"
#include "ImageFileDecoder.h"
#include "ImagePreprocessor.h"
#include "SampleExchange.h" // threadsPerRank
#include "vtkSampleArrays.h"
#include "vtkSampleStoreReader.h"

#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkIntArray.h"
#include "vtkNew.h"
#include "vtkObjectFactory.h"
#include "vtkPointData.h"
#include "vtkPolyData.h"
#include "vtkSmartPointer.h"
#include "vtkStringArray.h"
#include "vtkUnsignedCharArray.h"

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <sys/stat.h>
#include <unordered_map>

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkImageEmbedding);

struct vtkImageEmbedding::Internals
{
  // The loaded model is kept while ModelPath, the file and the options stay the same:
  // loading a ViT-B takes seconds, changing BatchSize or Tag should not reload it.
  std::unique_ptr<engine::EmbeddingModel> Model;
  std::string ModelKey;

  /// The model of `path` with `options`, loaded again only when `key` changed.
  engine::EmbeddingModel& modelFor(
    const std::string& path, const engine::EmbeddingOptions& options, const std::string& key)
  {
    if (!this->Model || this->ModelKey != key)
    {
      this->Model.reset();
      this->Model = std::make_unique<engine::EmbeddingModel>(path, options);
      this->ModelKey = key;
    }
    return *this->Model;
  }
};

namespace
{
long long modificationTime(const std::string& path)
{
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<long long>(st.st_mtime) : -1;
}

/// The pixels of each sample: the `image` array, or the original files of `file_name`.
class SampleImages
{
public:
  bool Initialize(vtkPolyData* input, std::string& error)
  {
    vtkPointData* pd = input->GetPointData();
    this->Files = vtkStringArray::SafeDownCast(pd->GetAbstractArray("file_name"));
    if (this->Files)
    {
      return true;
    }
    this->Image = vtkUnsignedCharArray::SafeDownCast(pd->GetAbstractArray("image"));
    vtkIntArray* shape =
      vtkIntArray::SafeDownCast(input->GetFieldData()->GetAbstractArray("image_shape"));
    if (!this->Image)
    {
      error = pd->GetAbstractArray("image")
        ? "The input's 'image' array must be unsigned char (uint8) pixels."
        : "The input has no 'image' (or 'file_name') point-data array: connect an Image Dataset "
          "Reader.";
      return false;
    }
    if (!shape || shape->GetNumberOfValues() != 3)
    {
      error = "The input has an 'image' array but no field data 'image_shape' = [H, W, C].";
      return false;
    }
    this->Height = shape->GetValue(0);
    this->Width = shape->GetValue(1);
    this->Channels = shape->GetValue(2);
    if (this->Height <= 0 || this->Width <= 0 || this->Channels < 1 || this->Channels > 4 ||
      static_cast<vtkIdType>(this->Height) * this->Width * this->Channels !=
        this->Image->GetNumberOfComponents())
    {
      error = "The 'image' array has " + std::to_string(this->Image->GetNumberOfComponents()) +
        " components per sample, which does not match image_shape [" +
        std::to_string(this->Height) + ", " + std::to_string(this->Width) + ", " +
        std::to_string(this->Channels) + "] (1 to 4 channels).";
      return false;
    }
    return true;
  }

  /// Pixels of sample `i`; decoded files are kept in `storage`.
  bool Get(vtkIdType i, engine::ImageView& view, dualembed::DecodedImage& storage,
    std::string& error) const
  {
    if (this->Files)
    {
      if (!dualembed::decodeImageFile(this->Files->GetValue(i), storage, error))
      {
        return false;
      }
      view = { storage.pixels.data(), storage.height, storage.width, storage.channels };
      return true;
    }
    view = { this->Image->GetPointer(i * this->Image->GetNumberOfComponents()), this->Height,
      this->Width, this->Channels };
    return true;
  }

private:
  vtkStringArray* Files = nullptr;
  vtkUnsignedCharArray* Image = nullptr;
  int Height = 0;
  int Width = 0;
  int Channels = 0;
};

vtkSmartPointer<vtkFloatArray> newFloatArray(const std::string& name, vtkIdType n, int components)
{
  auto array = vtkSmartPointer<vtkFloatArray>::New();
  array->SetName(name.c_str());
  array->SetNumberOfComponents(components);
  array->SetNumberOfTuples(n);
  return array;
}

/// Why the arrays of `embeddingName` stored with `provenance` [model path,
/// type, pooling, ...] in `cacheFile` are not what the model at `modelPath`
/// with `poolingChoice` gives now; empty when they are.
std::string staleReason(const std::string& embeddingName, vtkStringArray* provenance,
  const std::string& modelPath, int poolingChoice, const std::string& cacheFile)
{
  namespace fs = std::filesystem;
  std::error_code error;
  const auto samePath = [](const std::string& a, const std::string& b) {
    std::error_code ignored;
    return a == b || fs::weakly_canonical(a, ignored) == fs::weakly_canonical(b, ignored);
  };
  if (!samePath(provenance->GetValue(0), modelPath))
  {
    return embeddingName + " was made by the model '" + provenance->GetValue(0) + "', not '" +
      modelPath + "'";
  }
  const std::string modelType = provenance->GetValue(1);
  const std::string pooling = provenance->GetValue(2);
  if (modelType != "torchscript")
  {
    const std::string wanted = poolingChoice != static_cast<int>(engine::Pooling::Auto)
      ? engine::poolingName(static_cast<engine::Pooling>(poolingChoice))
      : (modelType == "swin" ? "mean" : "first-token");
    if (pooling != wanted)
    {
      return embeddingName + " was made with " + pooling + " pooling, not " + wanted;
    }
  }
  // The model's files must not have changed since the results were written.
  const auto cacheTime = fs::last_write_time(cacheFile, error);
  std::vector<fs::path> modelFiles = { modelPath };
  if (fs::is_directory(modelPath, error))
  {
    for (const auto& entry : fs::directory_iterator(modelPath, error))
    {
      modelFiles.push_back(entry.path());
    }
  }
  for (const auto& file : modelFiles)
  {
    std::error_code timeError;
    const auto modelTime = fs::last_write_time(file, timeError);
    if (!timeError && modelTime > cacheTime)
    {
      return "the model file '" + file.string() + "' is newer than the cache file";
    }
  }
  return std::string();
}

/// For each input sample (`inputIds`), the row of the stored samples with the
/// same sample_id, in `source`: empty when the rows are the input's already
/// (the same ids in the same order). False, with the reason, when a sample is
/// missing or the stored ids repeat.
bool storedRowsOf(vtkDataArray* inputIds, vtkDataArray* storedIds, vtkIdType rows,
  std::vector<vtkIdType>& source, std::string& reason)
{
  if (!storedIds)
  {
    reason = "it has no sample_id array";
    return false;
  }
  std::unordered_map<long long, vtkIdType> rowOf;
  rowOf.reserve(rows);
  for (vtkIdType row = 0; row < rows; ++row)
  {
    if (!rowOf.emplace(static_cast<long long>(storedIds->GetComponent(row, 0)), row).second)
    {
      reason = "its sample_id holds duplicates";
      return false;
    }
  }
  const vtkIdType n = inputIds->GetNumberOfTuples();
  source.resize(n);
  bool identity = n == rows;
  vtkIdType missing = 0;
  for (vtkIdType i = 0; i < n; ++i)
  {
    const auto found = rowOf.find(static_cast<long long>(inputIds->GetComponent(i, 0)));
    source[i] = found == rowOf.end() ? -1 : found->second;
    missing += found == rowOf.end() ? 1 : 0;
    identity = identity && source[i] == i;
  }
  if (missing > 0)
  {
    reason = std::to_string(missing) + " of the input's " + std::to_string(n) +
      " samples (by sample_id) are not in it";
    return false;
  }
  if (identity)
  {
    source.clear();
  }
  return true;
}

/// `array`'s rows `source` (all of it, as it is, when `source` is empty).
vtkSmartPointer<vtkAbstractArray> inInputOrder(
  vtkAbstractArray* array, const std::vector<vtkIdType>& source)
{
  if (source.empty())
  {
    return array;
  }
  const vtkIdType n = static_cast<vtkIdType>(source.size());
  vtkSmartPointer<vtkAbstractArray> rows = vtk::TakeSmartPointer(array->NewInstance());
  rows->SetName(array->GetName());
  rows->SetNumberOfComponents(array->GetNumberOfComponents());
  rows->SetNumberOfTuples(n);
  for (vtkIdType i = 0; i < n; ++i)
  {
    rows->SetTuple(i, source[i], array);
  }
  return rows;
}

/// The preprocessing of `model`: the PreprocessorFile chosen, else the one
/// beside the model, else ViTImageProcessor's defaults at the model's input
/// size (with a warning).
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

/// pred_label_<tag> (the most probable class) and pred_label_str_<tag> (its name).
void addPredictions(vtkPointData* pd, vtkFloatArray* probs, const std::vector<std::string>& names,
  const std::string& tag)
{
  const vtkIdType n = probs->GetNumberOfTuples();
  const int classes = probs->GetNumberOfComponents();
  vtkNew<vtkIntArray> predicted;
  predicted->SetName(("pred_label_" + tag).c_str());
  predicted->SetNumberOfValues(n);
  vtkNew<vtkStringArray> predictedNames;
  predictedNames->SetName(("pred_label_str_" + tag).c_str());
  predictedNames->SetNumberOfValues(n);
  for (vtkIdType i = 0; i < n; ++i)
  {
    const float* p = probs->GetPointer(i * classes);
    const int label = static_cast<int>(std::max_element(p, p + classes) - p);
    predicted->SetValue(i, label);
    predictedNames->SetValue(
      i, label < static_cast<int>(names.size()) ? names[label] : std::to_string(label));
  }
  pd->AddArray(predicted);
  pd->AddArray(predictedNames);
}

/// The samples' images for the engine's batch loop (engine::embedImages).
class SampleImageSource : public engine::ImageSource
{
public:
  SampleImageSource(SampleImages& images, vtkIdType count)
    : Images(images)
    , Count(count)
  {
  }
  std::int64_t count() const override { return this->Count; }
  engine::ImageView image(std::int64_t index, std::size_t slot) override
  {
    if (slot >= this->Decoded.size())
    {
      this->Decoded.resize(slot + 1);
    }
    engine::ImageView view;
    std::string error;
    if (!this->Images.Get(static_cast<vtkIdType>(index), view, this->Decoded[slot], error))
    {
      throw engine::ModelError(
        "Cannot read the image of sample " + std::to_string(index) + ": " + error + ".");
    }
    return view;
  }

private:
  SampleImages& Images;
  vtkIdType Count;
  std::vector<dualembed::DecodedImage> Decoded; // one per slot of a batch
};
}

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

bool vtkImageEmbedding::ChooseOutputTag(vtkPolyData* input, const std::string& modelPath)
{
  const auto taken = [input](const std::string& tag) {
    return input->GetPointData()->GetAbstractArray(("embedding_" + tag).c_str()) != nullptr;
  };
  if (!this->Tag.empty())
  {
    if (taken(this->Tag))
    {
      // Overwriting would silently replace the other model's arrays: say which model made them.
      auto* other = vtkStringArray::SafeDownCast(
        input->GetFieldData()->GetAbstractArray(("model_" + this->Tag).c_str()));
      vtkErrorMacro(
        "Tag '" << this->Tag << "' is taken: the input already has embedding_" << this->Tag
                << (other && other->GetNumberOfValues() > 0
                       ? " from the model '" + other->GetValue(0) + "'"
                       : std::string())
                << ", and this embedding of the model '" << modelPath
                << "' would overwrite it. Choose another Tag (e.g. ft for a fine-tuned model), or "
                   "leave Tag empty to get a free one.");
      return false;
    }
    this->OutputTag = this->Tag;
    return true;
  }
  // Empty: foundation for the samples' first embedding, ft for the second, then the model's name.
  vtkPointData* pd = input->GetPointData();
  std::vector<std::string> names;
  for (int i = 0; i < pd->GetNumberOfArrays(); ++i)
  {
    names.emplace_back(pd->GetArrayName(i) ? pd->GetArrayName(i) : "");
  }
  this->OutputTag = dualembed::freeEmbeddingTag(names, modelPath);
  if (this->OutputTag.empty())
  {
    vtkErrorMacro("Tag is empty and the model path '"
      << modelPath << "' gives no name for the arrays: set Tag.");
    return false;
  }
  return true;
}

namespace
{
/// The engine's options from the filter's properties.
engine::EmbeddingOptions embeddingOptions(vtkImageEmbedding* filter)
{
  engine::EmbeddingOptions options;
  options.pooling = static_cast<engine::Pooling>(filter->GetPooling());
  options.device = static_cast<engine::ComputeDevice>(filter->GetDevice());
  options.precision = static_cast<engine::Precision>(filter->GetPrecision());
  // 0 = the cores of this machine, shared by the MPI ranks running on it.
  options.threads =
    filter->GetNumberOfThreads() > 0 ? filter->GetNumberOfThreads() : dualembed::threadsPerRank();
  // A PreprocessorFile set by the user fixes a TorchScript model's input size
  // as one beside the model would (the engine probes the script at that size).
  const std::string preprocessorFile = filter->GetPreprocessorFile();
  if (!preprocessorFile.empty())
  {
    const engine::ImageSize size =
      engine::modelInputSize(engine::loadPreprocessorConfig(preprocessorFile));
    options.inputHeight = size.height;
    options.inputWidth = size.width;
  }
  return options;
}

/// What defines the loaded model: a change reloads it.
std::string modelKey(vtkImageEmbedding* filter, const std::string& modelPath)
{
  const std::string preprocessorFile = filter->GetPreprocessorFile();
  return modelPath + "|" + std::to_string(modificationTime(modelPath)) + "|" +
    std::to_string(filter->GetPooling()) + "|" + std::to_string(filter->GetDevice()) + "|" +
    std::to_string(filter->GetPrecision()) + "|" + preprocessorFile + "|" +
    std::to_string(modificationTime(preprocessorFile));
}

/// Provenance, so that saved results say which model made each embedding.
void addProvenance(vtkPolyData* output, const std::string& tag, const std::string& modelPath,
  const engine::EmbeddingModel& model)
{
  vtkNew<vtkStringArray> provenance;
  provenance->SetName(("model_" + tag).c_str());
  for (const std::string& fact :
    { modelPath, model.modelType(), std::string(engine::poolingName(model.pooling())),
      model.deviceName() + " " + model.precisionName() })
  {
    provenance->InsertNextValue(fact);
  }
  output->GetFieldData()->AddArray(provenance);
}

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
  if (!this->ChooseOutputTag(input, modelPath))
  {
    return 0;
  }
  if (this->UseCache(input, output, modelPath, cacheFile))
  {
    return 1;
  }
  SampleImages images;
  std::string error;
  if (!images.Initialize(input, error))
  {
    vtkErrorMacro(<< error);
    return 0;
  }
  const vtkIdType n = input->GetNumberOfPoints();

  try
  {
    // (Re)load the model only when what defines it changed.
    const engine::EmbeddingOptions options = embeddingOptions(this);
    const std::string key = modelKey(this, modelPath);
    engine::EmbeddingModel& model = this->Internal->modelFor(modelPath, options, key);
    engine::setEngineThreads(options.threads);
    const engine::PreprocessorConfig preprocessing =
      preprocessingFor(this, model, modelPath, this->PreprocessorFile);

    const bool head = model.hasHead();
    const int dimension = static_cast<int>(model.embeddingDim());
    const int classes = static_cast<int>(model.numLabels());
    auto embedding = newFloatArray("embedding_" + this->OutputTag, n, dimension);
    vtkSampleArrays::MarkEmbedding(embedding);
    vtkSmartPointer<vtkFloatArray> logits, probs;
    if (head)
    {
      logits = newFloatArray("logits_" + this->OutputTag, n, classes);
      probs = newFloatArray("probs_" + this->OutputTag, n, classes);
    }

    SampleImageSource source(images, n);
    engine::EmbeddingTargets targets;
    targets.embedding = embedding->GetPointer(0);
    targets.logits = head ? logits->GetPointer(0) : nullptr;
    targets.probs = head ? probs->GetPointer(0) : nullptr;
    engine::embedImages(
      model, source, preprocessing, this->BatchSize, targets, dualembed::progressReporter(this));

    vtkPointData* pd = output->GetPointData();
    pd->AddArray(embedding);
    if (head)
    {
      pd->AddArray(logits);
      pd->AddArray(probs);
      addPredictions(pd, probs, model.classNames(), this->OutputTag);
    }
    addProvenance(output, this->OutputTag, modelPath, model);
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
  if (cacheFile.empty())
  {
    return false;
  }
  std::string reason;
  if (this->LoadFromCache(input, output, modelPath, cacheFile, reason))
  {
    this->LoadedFromCache = true;
    this->UpdateProgress(1.0);
    return true;
  }
  std::ostringstream message;
  message << "Image Embedding: not using the cache file '" << cacheFile << "': " << reason
          << "; computing embedding_" << this->OutputTag << ".\n";
  vtkOutputWindowDisplayText(message.str().c_str());
  return false;
}

bool vtkImageEmbedding::LoadFromCache(vtkPolyData* input, vtkPolyData* output,
  const std::string& modelPath, const std::string& cacheFile, std::string& reason)
{
  namespace fs = std::filesystem;
  const std::string tag = this->OutputTag;
  std::error_code error;
  if (!fs::is_regular_file(cacheFile, error))
  {
    reason = "there is no such file";
    return false;
  }
  vtkDataArray* inputIds = input->GetPointData()->GetArray("sample_id");
  if (!inputIds)
  {
    reason = "the input has no sample_id array to match stored samples with";
    return false;
  }
  const std::vector<std::string> names = { "sample_id", "embedding_" + tag, "logits_" + tag,
    "probs_" + tag, "pred_label_" + tag, "pred_label_str_" + tag };
  vtkNew<vtkPointData> stored;
  vtkNew<vtkFieldData> storedFields;
  vtkIdType rows = 0;
  if (!vtkSampleStoreReader::ReadStoredArrays(cacheFile, names, stored, storedFields, rows, reason))
  {
    return false;
  }
  if (!stored->GetAbstractArray(names[1].c_str()))
  {
    reason = "it has no array " + names[1];
    return false;
  }

  // Same model: provenance [ModelPath, model type, pooling, device precision] of the filter.
  auto* provenance =
    vtkStringArray::SafeDownCast(storedFields->GetAbstractArray(("model_" + tag).c_str()));
  if (!provenance || provenance->GetNumberOfValues() < 3)
  {
    reason = "it does not record the model of " + names[1] + " (field data model_" + tag + ")";
    return false;
  }
  reason = staleReason(names[1], provenance, modelPath, this->Pooling, cacheFile);
  if (!reason.empty())
  {
    return false;
  }
  // Same samples: every input sample_id must be stored, once.
  std::vector<vtkIdType> source;
  if (!storedRowsOf(inputIds, stored->GetArray("sample_id"), rows, source, reason))
  {
    return false;
  }
  vtkPointData* pd = output->GetPointData();
  for (size_t k = 1; k < names.size(); ++k)
  {
    vtkAbstractArray* array = stored->GetAbstractArray(names[k].c_str());
    if (array)
    {
      pd->AddArray(inInputOrder(array, source));
    }
    else
    {
      pd->RemoveArray(names[k].c_str()); // no stale upstream array of the same name
    }
  }
  output->GetFieldData()->AddArray(provenance);
  vtkSampleArrays::MarkEmbedding(
    pd->GetAbstractArray(names[1].c_str())); // caches written before the mark

  std::ostringstream message;
  message << "Image Embedding: loaded " << names[1] << " for " << input->GetNumberOfPoints()
          << " samples from " << cacheFile << " (model unchanged).\n";
  vtkOutputWindowDisplayText(message.str().c_str());
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
