#include "vtkSampleArrays.h"

#include "vtkAbstractArray.h"
#include "vtkDataArray.h"
#include "vtkDataSet.h"
#include "vtkFieldData.h"
#include "vtkInformation.h"
#include "vtkInformationIntegerKey.h"
#include "vtkObjectFactory.h"
#include "vtkPointData.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

vtkStandardNewMacro(vtkSampleArrays);
vtkInformationKeyMacro(vtkSampleArrays, EMBEDDING, Integer);

void vtkSampleArrays::MarkEmbedding(vtkAbstractArray* array)
{
  if (array)
  {
    array->GetInformation()->Set(EMBEDDING(), 1);
  }
}

bool vtkSampleArrays::IsMarkedEmbedding(vtkAbstractArray* array)
{
  return array && array->HasInformation() && array->GetInformation()->Has(EMBEDDING());
}

namespace dualembed
{
namespace
{
bool startsWith(const std::string& text, const char* prefix)
{
  return text.rfind(prefix, 0) == 0;
}
}

std::vector<std::string> arraysForRole(const std::vector<ArrayFacts>& arrays, ArrayRole role)
{
  const bool anyMarked = std::any_of(arrays.begin(), arrays.end(),
    [](const ArrayFacts& a) { return a.markedEmbedding && a.numeric && a.components >= 2; });
  std::vector<std::string> names;
  for (const ArrayFacts& a : arrays)
  {
    bool fits = false;
    switch (role)
    {
      case ArrayRole::Embedding:
        fits = a.numeric && a.components >= 2 &&
          (anyMarked ? a.markedEmbedding : startsWith(a.name, "embedding_"));
        break;
      case ArrayRole::Probabilities:
        fits = a.numeric && a.components >= 2 && startsWith(a.name, "probs_");
        break;
      case ArrayRole::Labels:
        fits = a.numeric && a.components == 1 && startsWith(a.name, "label");
        break;
    }
    if (fits)
    {
      names.push_back(a.name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string defaultArrayForRole(const std::vector<ArrayFacts>& arrays, ArrayRole role,
  int occurrence, const std::string& preferred, bool preferredWhenAbsent)
{
  const std::vector<std::string> names = arraysForRole(arrays, role);
  if (!preferred.empty() && std::find(names.begin(), names.end(), preferred) != names.end())
  {
    return preferred;
  }
  if (occurrence >= 0 && occurrence < static_cast<int>(names.size()))
  {
    return names[occurrence];
  }
  return names.empty() && preferredWhenAbsent ? preferred : std::string();
}

bool parseArrayRole(const std::string& text, ArrayRole& role)
{
  if (text == "embedding")
  {
    role = ArrayRole::Embedding;
  }
  else if (text == "probabilities")
  {
    role = ArrayRole::Probabilities;
  }
  else if (text == "labels")
  {
    role = ArrayRole::Labels;
  }
  else
  {
    return false;
  }
  return true;
}

std::string describeArrayRole(ArrayRole role)
{
  switch (role)
  {
    case ArrayRole::Embedding:
      return "embedding (an array Image Embedding made, embedding_<Tag>; or, when no array is "
             "marked as "
             "one, a numeric embedding_* array of two or more components)";
    case ArrayRole::Probabilities:
      return "class probabilities (probs_<Tag> of a model with a classifier head)";
    case ArrayRole::Labels:
      return "class labels (a one-component label array)";
  }
  return "array";
}

bool hasEmbeddingProvenance(
  const std::string& name, const std::vector<std::string>& fieldArrayNames)
{
  return startsWith(name, "embedding_") &&
    std::find(fieldArrayNames.begin(), fieldArrayNames.end(), "model_" + name.substr(10)) !=
    fieldArrayNames.end();
}

std::vector<ArrayFacts> arrayFacts(vtkDataSet* samples)
{
  std::vector<ArrayFacts> facts;
  vtkDataSetAttributes* attributes = samples ? samples->GetPointData() : nullptr;
  vtkFieldData* fields = samples ? samples->GetFieldData() : nullptr;
  std::vector<std::string> fieldNames;
  for (int i = 0; fields && i < fields->GetNumberOfArrays(); ++i)
  {
    fieldNames.emplace_back(fields->GetArrayName(i) ? fields->GetArrayName(i) : "");
  }
  for (int i = 0; attributes && i < attributes->GetNumberOfArrays(); ++i)
  {
    vtkAbstractArray* array = attributes->GetAbstractArray(i);
    if (array && array->GetName())
    {
      facts.push_back({ array->GetName(), array->GetNumberOfComponents(),
        vtkDataArray::SafeDownCast(array) != nullptr,
        vtkSampleArrays::IsMarkedEmbedding(array) ||
          hasEmbeddingProvenance(array->GetName(), fieldNames) });
    }
  }
  return facts;
}

std::string freeEmbeddingTag(
  const std::vector<std::string>& arrayNames, const std::string& modelPath)
{
  const auto taken = [&arrayNames](const std::string& tag) {
    return std::find(arrayNames.begin(), arrayNames.end(), "embedding_" + tag) != arrayNames.end();
  };
  for (const char* tag : { "foundation", "ft" })
  {
    if (!taken(tag))
    {
      return tag;
    }
  }
  const std::filesystem::path path(modelPath);
  std::string model = (path.has_filename() ? path : path.parent_path()).stem().string();
  for (char& c : model)
  {
    c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  }
  if (model.empty())
  {
    return std::string();
  }
  std::string tag = model;
  for (int i = 2; taken(tag); ++i)
  {
    tag = model + "_" + std::to_string(i);
  }
  return tag;
}

std::string listArrays(const std::vector<ArrayFacts>& arrays)
{
  if (arrays.empty())
  {
    return "none";
  }
  std::string text;
  for (const ArrayFacts& a : arrays)
  {
    text += (text.empty() ? "" : ", ") + a.name;
    std::string notes;
    if (a.components > 1)
    {
      notes = std::to_string(a.components) + " components";
    }
    if (!a.numeric)
    {
      notes += std::string(notes.empty() ? "" : ", ") + "text";
    }
    if (a.markedEmbedding)
    {
      notes += std::string(notes.empty() ? "" : ", ") + "embedding";
    }
    if (!notes.empty())
    {
      text += " (" + notes + ")";
    }
  }
  return text;
}
}
