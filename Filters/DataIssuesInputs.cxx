#include "DataIssuesInputs.h"

#include "SampleExchange.h"

#include "vtkAlgorithm.h"
#include "vtkPointData.h"
#include "vtkPolyData.h"

#include <algorithm>

namespace dualembed
{
namespace
{
/// The optional inputs, by DataIssuesInputIndex.
const ArrayChoice OptionalChoices[] = { { "EmbeddingA", ArrayRole::Embedding, 0, "", true },
  { "EmbeddingB", ArrayRole::Embedding, 1, "", true },
  // The fine-tuned model's predictions: a foundation with a head of its own
  // (ImageNet's ResNet-50, ConvNeXt) also adds probs_foundation.
  { "Probabilities", ArrayRole::Probabilities, 0, "probs_ft", true, false } };

bool gatherRows(vtkAlgorithm* filter, vtkAbstractArray* array, const SampleExchange& exchange,
  SelectedArray& rows)
{
  return gatherSelectedArray(filter, array, exchange, GatherTo::AllRanks, rows);
}

/// Collective. An optional input is used when it exists on every rank, is not
/// the labels and is not a repeat of an earlier selection ("None" skips it).
vtkAbstractArray* chooseOptionalArray(vtkAlgorithm* filter, int index, vtkPolyData* input,
  const SampleExchange& exchange, const std::string& labelName, std::vector<std::string>& used)
{
  vtkAbstractArray* array = nullptr;
  chooseInputArray(filter, index, input, OptionalChoices[index], exchange, array);
  const std::string name = array && array->GetName() ? array->GetName() : "";
  const bool use =
    array && name != labelName && std::find(used.begin(), used.end(), name) == used.end();
  if (exchange.minimum(use ? 1 : 0) == 0)
  {
    return nullptr;
  }
  used.push_back(name);
  return array;
}

/// Collective. FiftyOne's mistakenness and hardness are defined on logits:
/// logits_<X> beside probs_<X>, when every rank has it.
bool gatherLogits(
  vtkAlgorithm* filter, vtkPolyData* input, const SampleExchange& exchange, IssueArrays& in)
{
  in.probabilitySuffix = in.hasProbabilities ? resultSuffix(in.probabilities.name) : "";
  vtkAbstractArray* logitArray = in.hasProbabilities
    ? input->GetPointData()->GetAbstractArray(("logits_" + in.probabilitySuffix).c_str())
    : nullptr;
  return exchange.minimum(logitArray ? 1 : 0) != 1 ||
    gatherRows(filter, logitArray, exchange, in.logits);
}

// All ranks' rows of a kNN result, in global order.
engine::KnnResult gatherKnn(const engine::KnnResult& local, const SampleExchange& exchange)
{
  engine::KnnResult all;
  const std::vector<long long> indices =
    exchange.allGatherLists(std::vector<long long>(local.indices.begin(), local.indices.end()));
  const std::vector<double> distances =
    exchange.allGatherLists(std::vector<double>(local.distances.begin(), local.distances.end()));
  all.rows = exchange.totalRows();
  all.k = all.rows > 0 ? static_cast<int>(indices.size() / all.rows) : 0;
  all.indices.assign(indices.begin(), indices.end());
  all.distances.assign(distances.begin(), distances.end());
  return all;
}
}

bool gatherIssueArrays(
  vtkAlgorithm* filter, vtkPolyData* input, const SampleExchange& exchange, IssueArrays& in)
{
  vtkAbstractArray* labelArray = nullptr;
  if (!chooseInputArray(
        filter, DATA_ISSUES_LABELS, input, { "Labels", ArrayRole::Labels }, exchange, labelArray))
  {
    return false;
  }
  const std::string labelName = labelArray->GetName() ? labelArray->GetName() : "";
  std::vector<std::string> used;
  for (int index : { DATA_ISSUES_EMBEDDING_A, DATA_ISSUES_EMBEDDING_B })
  {
    if (vtkAbstractArray* array =
          chooseOptionalArray(filter, index, input, exchange, labelName, used))
    {
      in.embeddings.emplace_back();
      if (!gatherRows(filter, array, exchange, in.embeddings.back()))
      {
        return false;
      }
    }
  }
  vtkAbstractArray* probabilityArray =
    chooseOptionalArray(filter, DATA_ISSUES_PROBABILITIES, input, exchange, labelName, used);
  in.hasProbabilities = probabilityArray != nullptr;
  if (probabilityArray && !gatherRows(filter, probabilityArray, exchange, in.probabilities))
  {
    return false;
  }
  if (in.embeddings.empty() && !probabilityArray)
  {
    vtkErrorWithObjectMacro(filter,
      "Data Issues needs an embedding (embedding_*) or class probabilities (probs_*): "
      "choose at least one in Embedding A, Embedding B or Probabilities.");
    return false;
  }
  SelectedArray labelValues;
  return gatherLogits(filter, input, exchange, in) &&
    gatherRows(filter, labelArray, exchange, labelValues) &&
    classIndices(filter, labelValues, in.labels);
}

engine::DataIssuesInput dataIssuesInput(const IssueArrays& in, int64_t rows)
{
  engine::DataIssuesInput issuesInput;
  issuesInput.rows = rows;
  issuesInput.labels = in.labels.data();
  for (const auto& embedding : in.embeddings)
  {
    issuesInput.embeddings.push_back(embedding.matrix());
  }
  if (in.hasProbabilities)
  {
    issuesInput.probabilities = in.probabilities.matrix();
    if (in.logits.size() > 0)
    {
      issuesInput.logits = in.logits.matrix();
    }
  }
  return issuesInput;
}

engine::IssueNeighbors gatherIssueNeighbors(const engine::IssueNeighbors& local, size_t embeddings,
  int64_t rows, const engine::DataIssuesOptions& options, const SampleExchange& exchange)
{
  engine::IssueNeighbors all;
  const bool graph = options.nearDuplicates || options.nonIid;
  const bool unique = options.uniqueness && rows > 3;
  for (size_t e = 0; e < embeddings; ++e)
  {
    all.graph.push_back(graph ? gatherKnn(local.graph[e], exchange) : engine::KnnResult());
    all.votes.push_back(
      options.labelIssues ? gatherKnn(local.votes[e], exchange) : engine::KnnResult());
    all.unique.push_back(unique ? gatherKnn(local.unique[e], exchange) : engine::KnnResult());
  }
  return all;
}
}
