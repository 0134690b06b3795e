#include "vtkImageEmbedding.h"

#include "BufferReuse.h"
#include "EmptyOnFailure.h"
#include "EngineError.h"
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
#include "vtkSMPTools.h"
#include "vtkSmartPointer.h"
#include "vtkStringArray.h"
#include "vtkUnsignedCharArray.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
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
    vtkIntArray* shape = vtkIntArray::SafeDownCast(input->GetFieldData()->GetAbstractArray("image_shape"));
    if (!this->Image)
    {
      error = pd->GetAbstractArray("image")
        ? "The input's 'image' array must be unsigned char (uint8) pixels."
        : "The input has no 'image' (or 'file_name') point-data array: connect an Image Dataset Reader.";
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
  bool Get(vtkIdType i, engine::ImageView& view, dualembed::DecodedImage& storage, std::string& error) const
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

void copyRows(const at::Tensor& rows, vtkFloatArray* array, vtkIdType firstRow)
{
  const at::Tensor contiguous = rows.contiguous();
  std::copy_n(contiguous.data_ptr<float>(), contiguous.numel(),
    array->GetPointer(firstRow * array->GetNumberOfComponents()));
}
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
      auto* other = vtkStringArray::SafeDownCast(input->GetFieldData()->GetAbstractArray(("model_" + this->Tag).c_str()));
      vtkErrorMacro("Tag '" << this->Tag << "' is taken: the input already has embedding_" << this->Tag
                            << (other && other->GetNumberOfValues() > 0 ? " from the model '" + other->GetValue(0) + "'" : std::string())
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
    vtkErrorMacro("Tag is empty and the model path '" << modelPath << "' gives no name for the arrays: set Tag.");
    return false;
  }
  return true;
}

int vtkImageEmbedding::Embed(
  vtkPolyData* input, vtkPolyData* output, const std::string& modelPath, const std::string& cacheFile)
{
  if (dualembed::isEmptyInput(input))
  {
    return 1; // a failed stage upstream reported why; pass its empty output on
  }
  output->ShallowCopy(input);
  this->LoadedFromCache = false;

  if (modelPath.empty())
  {
    vtkErrorMacro("No model chosen: set ModelPath to a Hugging Face model folder or a TorchScript file.");
    return 0;
  }
  if (!this->ChooseOutputTag(input, modelPath))
  {
    return 0;
  }
  if (!cacheFile.empty())
  {
    std::string reason;
    if (this->LoadFromCache(input, output, modelPath, cacheFile, reason))
    {
      this->LoadedFromCache = true;
      this->UpdateProgress(1.0);
      return 1;
    }
    std::ostringstream message;
    message << "Image Embedding: not using the cache file '" << cacheFile << "': " << reason
            << "; computing embedding_" << this->OutputTag << ".\n";
    vtkOutputWindowDisplayText(message.str().c_str());
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
    engine::EmbeddingOptions options;
    options.pooling = static_cast<engine::Pooling>(this->Pooling);
    options.device = static_cast<engine::ComputeDevice>(this->Device);
    options.precision = static_cast<engine::Precision>(this->Precision);
    // 0 = the cores of this machine, shared by the MPI ranks running on it.
    options.threads = this->NumberOfThreads > 0 ? this->NumberOfThreads : dualembed::threadsPerRank();
    // A PreprocessorFile set by the user fixes a TorchScript model's input size
    // as one beside the model would (the engine probes the script at that size).
    if (!this->PreprocessorFile.empty())
    {
      const engine::ImageSize size =
        engine::modelInputSize(engine::loadPreprocessorConfig(this->PreprocessorFile));
      options.inputHeight = size.height;
      options.inputWidth = size.width;
    }
    const std::string key = modelPath + "|" + std::to_string(modificationTime(modelPath)) +
      "|" + std::to_string(this->Pooling) + "|" + std::to_string(this->Device) + "|" +
      std::to_string(this->Precision) + "|" + this->PreprocessorFile + "|" +
      std::to_string(modificationTime(this->PreprocessorFile));
    if (!this->Internal->Model || this->Internal->ModelKey != key)
    {
      this->Internal->Model.reset();
      this->Internal->Model = std::make_unique<engine::EmbeddingModel>(modelPath, options);
      this->Internal->ModelKey = key;
    }
    engine::setEngineThreads(options.threads);
    engine::EmbeddingModel& model = *this->Internal->Model;

    std::string preprocessorPath = this->PreprocessorFile.empty()
      ? model.preprocessorConfigPath() : this->PreprocessorFile;
    engine::PreprocessorConfig preprocessing;
    if (preprocessorPath.empty())
    {
      preprocessing.height = model.inputHeight();
      preprocessing.width = model.inputWidth();
      vtkWarningMacro("No preprocessor_config.json beside '"
        << modelPath << "': resizing to " << preprocessing.height << "x" << preprocessing.width
        << " (bilinear) with mean 0.5 and std 0.5, ViTImageProcessor's defaults. Set PreprocessorFile "
           "to the model's own configuration.");
    }
    else
    {
      preprocessing = engine::loadPreprocessorConfig(preprocessorPath);
    }

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

    const vtkIdType batchSize = this->BatchSize;
    const vtkIdType batches = (n + batchSize - 1) / batchSize;
    std::vector<engine::ImageView> views;
    std::vector<dualembed::DecodedImage> decoded;
    std::vector<float> pixelValues;
    // The forward's large buffers go from batch to batch (freed after the loop).
    const engine::BufferReuseScope reuseBuffers;
    for (vtkIdType batch = 0; batch < batches; ++batch)
    {
      this->UpdateProgress(static_cast<double>(batch) / batches);
      if (this->GetAbortExecute())
      {
        vtkWarningMacro("Image Embedding aborted after " << batch * batchSize << " of " << n
                                                         << " samples: the output is empty.");
        return 0;
      }
      const vtkIdType first = batch * batchSize;
      const vtkIdType count = std::min(batchSize, n - first);
      views.resize(count);
      decoded.resize(count);
      for (vtkIdType i = 0; i < count; ++i)
      {
        if (!images.Get(first + i, views[i], decoded[i], error))
        {
          vtkErrorMacro("Cannot read the image of sample " << first + i << ": " << error << ".");
          return 0;
        }
      }
      // Every image of a batch must preprocess to one size (fixed-size configs always do).
      const engine::ImageSize size = engine::preprocessedSize(preprocessing, views[0].height, views[0].width);
      for (vtkIdType i = 1; i < count; ++i)
      {
        const engine::ImageSize own = engine::preprocessedSize(preprocessing, views[i].height, views[i].width);
        if (own.height != size.height || own.width != size.width)
        {
          vtkErrorMacro("Sample " << first + i << " preprocesses to " << own.height << "x" << own.width
                                  << " but sample " << first << " to " << size.height << "x" << size.width
                                  << ": the preprocessor configuration must resize to a fixed size.");
          return 0;
        }
      }
      const size_t floatsPerImage = size_t(3) * size.height * size.width;
      pixelValues.resize(floatsPerImage * count);
      std::atomic<bool> failed(false);
      std::string failure;
      vtkSMPTools::For(0, count, [&](vtkIdType begin, vtkIdType end) {
        try
        {
          for (vtkIdType i = begin; i < end; ++i)
          {
            engine::preprocessImage(views[i].pixels, views[i].height, views[i].width,
              views[i].channels, preprocessing, pixelValues.data() + floatsPerImage * i);
          }
        }
        catch (const std::exception& e)
        {
          // An exception must not leave an SMP worker thread: keep the first one.
          if (!failed.exchange(true))
          {
            failure = e.what();
          }
        }
      });
      if (failed)
      {
        throw engine::ModelError(failure);
      }

      const at::Tensor batchTensor = torch::from_blob(pixelValues.data(),
        { static_cast<long>(count), 3, size.height, size.width }, torch::kFloat32);
      const engine::EmbeddingOutput result = model.run(batchTensor);
      copyRows(result.embedding, embedding, first);
      if (head)
      {
        copyRows(result.logits, logits, first);
        copyRows(result.probs, probs, first);
      }
    }

    vtkPointData* pd = output->GetPointData();
    pd->AddArray(embedding);
    if (head)
    {
      pd->AddArray(logits);
      pd->AddArray(probs);
      vtkNew<vtkIntArray> predicted;
      predicted->SetName(("pred_label_" + this->OutputTag).c_str());
      predicted->SetNumberOfValues(n);
      vtkNew<vtkStringArray> predictedNames;
      predictedNames->SetName(("pred_label_str_" + this->OutputTag).c_str());
      predictedNames->SetNumberOfValues(n);
      const std::vector<std::string>& names = model.classNames();
      for (vtkIdType i = 0; i < n; ++i)
      {
        const float* p = probs->GetPointer(i * classes);
        const int label = static_cast<int>(std::max_element(p, p + classes) - p);
        predicted->SetValue(i, label);
        predictedNames->SetValue(i, label < static_cast<int>(names.size()) ? names[label] : std::to_string(label));
      }
      pd->AddArray(predicted);
      pd->AddArray(predictedNames);
    }

    // Provenance, so that saved results say which model made each embedding.
    vtkNew<vtkStringArray> provenance;
    provenance->SetName(("model_" + this->OutputTag).c_str());
    provenance->InsertNextValue(modelPath);
    provenance->InsertNextValue(model.modelType());
    provenance->InsertNextValue(engine::poolingName(model.pooling()));
    provenance->InsertNextValue(model.deviceName() + " " + model.precisionName());
    output->GetFieldData()->AddArray(provenance);
  }
  catch (const std::exception& e)
  {
    // ModelError carries a sentence for the user; LibTorch errors (c10::Error) are
    // std::exceptions too and must not escape into ParaView.
    vtkErrorMacro(<< e.what());
    return 0;
  }
  this->UpdateProgress(1.0);
  return 1;
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
  auto* provenance = vtkStringArray::SafeDownCast(storedFields->GetAbstractArray(("model_" + tag).c_str()));
  if (!provenance || provenance->GetNumberOfValues() < 3)
  {
    reason = "it does not record the model of " + names[1] + " (field data model_" + tag + ")";
    return false;
  }
  const auto samePath = [](const std::string& a, const std::string& b) {
    std::error_code ignored;
    return a == b || fs::weakly_canonical(a, ignored) == fs::weakly_canonical(b, ignored);
  };
  if (!samePath(provenance->GetValue(0), modelPath))
  {
    reason = names[1] + " was made by the model '" + provenance->GetValue(0) + "', not '" + modelPath + "'";
    return false;
  }
  const std::string modelType = provenance->GetValue(1);
  const std::string pooling = provenance->GetValue(2);
  if (modelType != "torchscript")
  {
    const std::string wanted = this->Pooling != POOLING_AUTO
      ? engine::poolingName(static_cast<engine::Pooling>(this->Pooling))
      : (modelType == "swin" ? "mean" : "first-token");
    if (pooling != wanted)
    {
      reason = names[1] + " was made with " + pooling + " pooling, not " + wanted;
      return false;
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
      reason = "the model file '" + file.string() + "' is newer than the cache file";
      return false;
    }
  }

  // Same samples: every input sample_id must be stored, once.
  vtkDataArray* storedIds = stored->GetArray("sample_id");
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
  const vtkIdType n = input->GetNumberOfPoints();
  std::vector<vtkIdType> source(n);
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

  vtkPointData* pd = output->GetPointData();
  for (size_t k = 1; k < names.size(); ++k)
  {
    vtkAbstractArray* array = stored->GetAbstractArray(names[k].c_str());
    if (!array)
    {
      pd->RemoveArray(names[k].c_str()); // no stale upstream array of the same name
      continue;
    }
    if (identity)
    {
      pd->AddArray(array);
      continue;
    }
    vtkSmartPointer<vtkAbstractArray> rowsOfInput = vtk::TakeSmartPointer(array->NewInstance());
    rowsOfInput->SetName(array->GetName());
    rowsOfInput->SetNumberOfComponents(array->GetNumberOfComponents());
    rowsOfInput->SetNumberOfTuples(n);
    for (vtkIdType i = 0; i < n; ++i)
    {
      rowsOfInput->SetTuple(i, source[i], array);
    }
    pd->AddArray(rowsOfInput);
  }
  output->GetFieldData()->AddArray(provenance);
  vtkSampleArrays::MarkEmbedding(pd->GetAbstractArray(names[1].c_str())); // caches written before the mark

  std::ostringstream message;
  message << "Image Embedding: loaded " << names[1] << " for " << n << " samples from "
          << cacheFile << " (model unchanged).\n";
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
