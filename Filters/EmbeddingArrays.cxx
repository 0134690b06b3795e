#include "EmbeddingArrays.h"

#include "EmbeddingCache.h" // askedPooling
#include "ValueRanges.h"
#include "vtkSampleArrays.h" // MarkEmbedding, freeEmbeddingTag

#include "vtkAlgorithm.h"
#include "vtkFieldData.h"
#include "vtkIntArray.h"
#include "vtkNew.h"
#include "vtkPointData.h"
#include "vtkPolyData.h"
#include "vtkStringArray.h"

#include <algorithm>
#include <vector>

namespace dualembed
{
namespace
{
vtkSmartPointer<vtkFloatArray> newFloatArray(const std::string& name, vtkIdType n, int components)
{
  auto array = vtkSmartPointer<vtkFloatArray>::New();
  array->SetName(name.c_str());
  array->SetNumberOfComponents(components);
  array->SetNumberOfTuples(n);
  return array;
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

/// model_<tag>: [ModelPath, model type, pooling, device precision, the
/// pooling asked for], which the cache checks (EmbeddingCache.h) and which
/// marks the embedding in copies that lose array keys
/// (Documentation/ARCHITECTURE.md, "Array roles").
void addProvenance(vtkPolyData* output, const std::string& tag, const std::string& modelPath,
  const engine::EmbeddingModel& model)
{
  vtkNew<vtkStringArray> provenance;
  provenance->SetName(("model_" + tag).c_str());
  for (const std::string& fact :
    { modelPath, model.modelType(), std::string(engine::poolingName(model.pooling())),
      model.deviceName() + " " + model.precisionName(),
      askedPooling(engine::poolingName(model.requestedPooling())) })
  {
    provenance->InsertNextValue(fact);
  }
  output->GetFieldData()->AddArray(provenance);
}
}

bool chooseOutputTag(vtkAlgorithm* filter, vtkPolyData* input, const std::string& tag,
  const std::string& modelPath, std::string& outputTag)
{
  const auto taken = [input](const std::string& candidate) {
    return input->GetPointData()->GetAbstractArray(("embedding_" + candidate).c_str()) != nullptr;
  };
  if (!tag.empty())
  {
    if (taken(tag))
    {
      // Overwriting would silently replace the other model's arrays: say which model made them.
      auto* other = vtkStringArray::SafeDownCast(
        input->GetFieldData()->GetAbstractArray(("model_" + tag).c_str()));
      vtkErrorWithObjectMacro(filter,
        "Tag '" << tag << "' is taken: the input already has embedding_" << tag
                << (other && other->GetNumberOfValues() > 0
                       ? " from the model '" + other->GetValue(0) + "'"
                       : std::string())
                << ", and this embedding of the model '" << modelPath
                << "' would overwrite it. Choose another Tag (e.g. ft for a fine-tuned model), or "
                   "leave Tag empty to get a free one.");
      return false;
    }
    outputTag = tag;
    return true;
  }
  // Empty: foundation for the samples' first embedding, ft for the second, then the model's name.
  vtkPointData* pd = input->GetPointData();
  std::vector<std::string> names;
  for (int i = 0; i < pd->GetNumberOfArrays(); ++i)
  {
    names.emplace_back(pd->GetArrayName(i) ? pd->GetArrayName(i) : "");
  }
  outputTag = freeEmbeddingTag(names, modelPath);
  if (outputTag.empty())
  {
    vtkErrorWithObjectMacro(filter,
      "Tag is empty and the model path '" << modelPath
                                          << "' gives no name for the arrays: set Tag.");
    return false;
  }
  return true;
}

EmbeddingArrays::EmbeddingArrays(
  const engine::EmbeddingModel& model, const std::string& tag, vtkIdType samples)
  : Tag(tag)
{
  const bool head = model.hasHead();
  const int dimension = static_cast<int>(model.embeddingDim());
  const int classes = static_cast<int>(model.numLabels());
  this->Embedding = newFloatArray("embedding_" + tag, samples, dimension);
  vtkSampleArrays::MarkEmbedding(this->Embedding);
  if (head)
  {
    this->Logits = newFloatArray("logits_" + tag, samples, classes);
    this->Probs = newFloatArray("probs_" + tag, samples, classes);
  }
}

engine::EmbeddingTargets EmbeddingArrays::targets() const
{
  engine::EmbeddingTargets targets;
  targets.embedding = this->Embedding->GetPointer(0);
  targets.logits = this->Logits ? this->Logits->GetPointer(0) : nullptr;
  targets.probs = this->Probs ? this->Probs->GetPointer(0) : nullptr;
  return targets;
}

void EmbeddingArrays::addTo(
  vtkPolyData* output, const engine::EmbeddingModel& model, const std::string& modelPath) const
{
  vtkPointData* pd = output->GetPointData();
  // Filled by the engine in place: their ranges are cached for ParaView's
  // data information once the values are all there (ValueRanges.h).
  for (vtkFloatArray* array : { this->Embedding.Get(), this->Logits.Get(), this->Probs.Get() })
  {
    cacheValueRanges(array);
  }
  pd->AddArray(this->Embedding);
  if (this->Probs)
  {
    pd->AddArray(this->Logits);
    pd->AddArray(this->Probs);
    addPredictions(pd, this->Probs, model.classNames(), this->Tag);
  }
  addProvenance(output, this->Tag, modelPath, model);
}
}
