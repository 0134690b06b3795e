#include "EmbeddingCache.h"

#include "ImageEmbedding.h" // engine::Pooling, engine::poolingName, engine::autoPoolingName
#include "SampleExchange.h"
#include "vtkSampleArrays.h"
#include "vtkSampleStoreReader.h"
#include "vtkSampleStoreWriter.h"

#include "vtkAlgorithm.h"
#include "vtkDataArray.h"
#include "vtkFieldData.h"
#include "vtkNew.h"
#include "vtkOutputWindow.h"
#include "vtkPointData.h"
#include "vtkPolyData.h"
#include "vtkSmartPointer.h"
#include "vtkStringArray.h"

#include <filesystem>
#include <sstream>
#include <unordered_map>

namespace dualembed
{
namespace fs = std::filesystem;

namespace
{
/// The first component of each of the first `rows` tuples of `ids`, as sample ids.
std::vector<long long> sampleIds(vtkDataArray* ids, vtkIdType rows)
{
  std::vector<long long> values(static_cast<std::size_t>(rows));
  for (vtkIdType row = 0; row < rows; ++row)
  {
    values[row] = static_cast<long long>(ids->GetComponent(row, 0));
  }
  return values;
}

/// `array`'s rows `source` (all of it, as it is, when `source` is empty).
vtkSmartPointer<vtkAbstractArray> inInputOrder(
  vtkAbstractArray* array, const std::vector<std::int64_t>& source)
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

/// Adds the arrays of `tag` stored in `cacheFile` to `output`; false, with
/// the reason, when they cannot be used.
bool readCachedEmbedding(vtkPolyData* input, vtkPolyData* output, const std::string& tag,
  const std::string& modelPath, int pooling, const std::string& cacheFile, std::string& reason)
{
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
  std::vector<std::string> facts;
  for (vtkIdType i = 0; i < provenance->GetNumberOfValues(); ++i)
  {
    facts.push_back(provenance->GetValue(i));
  }
  reason = staleReason(names[1], facts, modelPath, pooling, cacheFile);
  if (!reason.empty())
  {
    return false;
  }
  // Same samples: every input sample_id must be stored, once.
  vtkDataArray* storedIds = stored->GetArray("sample_id");
  if (!storedIds)
  {
    reason = "it has no sample_id array";
    return false;
  }
  std::vector<std::int64_t> source;
  if (!storedRowsOf(sampleIds(inputIds, inputIds->GetNumberOfTuples()), sampleIds(storedIds, rows),
        source, reason))
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
  return true;
}
}

std::string askedPooling(const std::string& poolingName)
{
  return "pooling asked: " + poolingName;
}

std::string staleReason(const std::string& embeddingName,
  const std::vector<std::string>& provenance, const std::string& modelPath, int poolingChoice,
  const std::string& cacheFile)
{
  std::error_code error;
  const auto samePath = [](const std::string& a, const std::string& b) {
    std::error_code ignored;
    return a == b || fs::weakly_canonical(a, ignored) == fs::weakly_canonical(b, ignored);
  };
  if (!samePath(provenance[0], modelPath))
  {
    return embeddingName + " was made by the model '" + provenance[0] + "', not '" + modelPath +
      "'";
  }
  const std::string& modelType = provenance[1];
  const std::string& pooling = provenance[2];
  const bool askingAuto = poolingChoice == static_cast<int>(engine::Pooling::Auto);
  // auto resolves per checkpoint (a CLIP model without its projection takes
  // pooler): a file made with auto from the same, unchanged model files
  // (checked below) holds what auto gives now.
  const bool madeWithAuto = provenance.size() > 4 && provenance[4] == askedPooling("auto");
  if (modelType != "torchscript" && !(askingAuto && madeWithAuto))
  {
    const std::string wanted = poolingChoice != static_cast<int>(engine::Pooling::Auto)
      ? engine::poolingName(static_cast<engine::Pooling>(poolingChoice))
      : engine::autoPoolingName(modelType);
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

bool storedRowsOf(const std::vector<long long>& inputIds, const std::vector<long long>& storedIds,
  std::vector<std::int64_t>& source, std::string& reason)
{
  const std::int64_t rows = static_cast<std::int64_t>(storedIds.size());
  std::unordered_map<long long, std::int64_t> rowOf;
  rowOf.reserve(storedIds.size());
  for (std::int64_t row = 0; row < rows; ++row)
  {
    if (!rowOf.emplace(storedIds[row], row).second)
    {
      reason = "its sample_id holds duplicates";
      return false;
    }
  }
  const std::int64_t n = static_cast<std::int64_t>(inputIds.size());
  source.resize(inputIds.size());
  bool identity = n == rows;
  std::int64_t missing = 0;
  for (std::int64_t i = 0; i < n; ++i)
  {
    const auto found = rowOf.find(inputIds[i]);
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

bool loadCachedEmbedding(vtkPolyData* input, vtkPolyData* output, const std::string& tag,
  const std::string& modelPath, int pooling, const std::string& cacheFile)
{
  std::string reason;
  std::ostringstream message;
  if (readCachedEmbedding(input, output, tag, modelPath, pooling, cacheFile, reason))
  {
    message << "Image Embedding: loaded embedding_" << tag << " for " << input->GetNumberOfPoints()
            << " samples from " << cacheFile << " (model unchanged).\n";
    vtkOutputWindowDisplayText(message.str().c_str());
    return true;
  }
  message << "Image Embedding: not using the cache file '" << cacheFile << "': " << reason
          << "; computing embedding_" << tag << ".\n";
  vtkOutputWindowDisplayText(message.str().c_str());
  return false;
}

std::string checkpointCacheFile(const std::string& directory, const std::string& tag,
  const std::string& checkpointName, const SampleExchange& exchange)
{
  const std::string rankSuffix = exchange.isParallel()
    ? ".rank" + std::to_string(exchange.rank()) + "of" + std::to_string(exchange.ranks())
    : std::string();
  return (fs::path(directory) / (tag + "-" + checkpointName + rankSuffix + ".h5")).string();
}

void writeCheckpointCache(vtkAlgorithm* filter, vtkPolyData* output, const std::string& directory,
  const std::string& cacheFile)
{
  std::error_code ignored;
  fs::create_directories(directory, ignored);
  vtkNew<vtkSampleStoreWriter> writer;
  writer->SetFileName(cacheFile.c_str());
  writer->WriteImagesOff();
  writer->SetInputData(output);
  if (!writer->Write())
  {
    vtkWarningWithObjectMacro(filter,
      "Could not write the cache file '" << cacheFile
                                         << "'; the checkpoint will be computed again.");
  }
}
}
