#include "vtkDataIssues.h"

#include "DataIssues.h"
#include "FilterSupport.h"

#include "vtkDataObject.h"
#include "vtkDoubleArray.h"
#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkObjectFactory.h"
#include "vtkTypeInt64Array.h"
#include "vtkUnsignedCharArray.h"

#include <algorithm>
#include <cmath>

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkDataIssues);

namespace
{
enum InputIndex
{
  EMBEDDING_A = 0,
  EMBEDDING_B = 1,
  PROBABILITIES = 2,
  LABELS = 3
};

// One tuple of named components in the field data: a dataset fact.
void addFact(vtkPolyData* output, const std::string& name,
  const std::vector<std::pair<const char*, double>>& values)
{
  vtkNew<vtkDoubleArray> array;
  array->SetName(name.c_str());
  array->SetNumberOfComponents(static_cast<int>(values.size()));
  for (size_t c = 0; c < values.size(); ++c)
  {
    array->SetComponentName(static_cast<vtkIdType>(c), values[c].first);
  }
  array->SetNumberOfTuples(1);
  for (size_t c = 0; c < values.size(); ++c)
  {
    array->SetComponent(0, static_cast<int>(c), values[c].second);
  }
  output->GetFieldData()->AddArray(array);
}

// All ranks' rows of a kNN result, in global order.
engine::KnnResult gatherKnn(
  const engine::KnnResult& local, const dualembed::SampleExchange& exchange)
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

/// The arrays Data Issues reads, every rank's rows in global order.
struct IssueArrays
{
  std::vector<dualembed::SelectedArray> embeddings; // Embedding A and B, those chosen
  bool hasProbabilities = false;
  dualembed::SelectedArray probabilities;
  dualembed::SelectedArray logits; // logits_<X> beside probs_<X>, when there
  std::string probabilitySuffix;   // <X>
  std::vector<int32_t> labels;
};

/// Collective. Chooses and gathers the inputs; false after reporting an error.
bool gatherIssueArrays(vtkAlgorithm* filter, vtkPolyData* input,
  const dualembed::SampleExchange& exchange, IssueArrays& in)
{
  const auto gather = [&](vtkAbstractArray* array, dualembed::SelectedArray& rows) {
    return dualembed::gatherSelectedArray(
      filter, array, exchange, dualembed::GatherTo::AllRanks, rows);
  };
  vtkAbstractArray* labelArray = nullptr;
  if (!dualembed::chooseInputArray(
        filter, LABELS, input, { "Labels", dualembed::ArrayRole::Labels }, exchange, labelArray))
  {
    return false;
  }
  const std::string labelName = labelArray->GetName() ? labelArray->GetName() : "";
  // An optional input is used when it exists on every rank, is not the
  // labels and is not a repeat of an earlier selection ("None" skips it).
  std::vector<std::string> used;
  const dualembed::ArrayChoice choices[] = { { "EmbeddingA", dualembed::ArrayRole::Embedding, 0, "",
                                               true },
    { "EmbeddingB", dualembed::ArrayRole::Embedding, 1, "", true },
    { "Probabilities", dualembed::ArrayRole::Probabilities, 0, "", true } };
  auto selected = [&](int index) -> vtkAbstractArray* {
    vtkAbstractArray* array = nullptr;
    dualembed::chooseInputArray(filter, index, input, choices[index], exchange, array);
    const std::string name = array && array->GetName() ? array->GetName() : "";
    const bool use =
      array && name != labelName && std::find(used.begin(), used.end(), name) == used.end();
    if (exchange.minimum(use ? 1 : 0) == 0)
    {
      return nullptr;
    }
    used.push_back(name);
    return array;
  };
  for (int index : { EMBEDDING_A, EMBEDDING_B })
  {
    if (vtkAbstractArray* array = selected(index))
    {
      in.embeddings.emplace_back();
      if (!gather(array, in.embeddings.back()))
      {
        return false;
      }
    }
  }
  vtkAbstractArray* probabilityArray = selected(PROBABILITIES);
  in.hasProbabilities = probabilityArray != nullptr;
  if (probabilityArray && !gather(probabilityArray, in.probabilities))
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
  // FiftyOne's mistakenness and hardness are defined on logits: logits_<X> beside probs_<X>.
  in.probabilitySuffix = probabilityArray ? dualembed::resultSuffix(in.probabilities.name) : "";
  vtkAbstractArray* logitArray = probabilityArray
    ? input->GetPointData()->GetAbstractArray(("logits_" + in.probabilitySuffix).c_str())
    : nullptr;
  if (exchange.minimum(logitArray ? 1 : 0) == 1 && !gather(logitArray, in.logits))
  {
    return false;
  }
  dualembed::SelectedArray labelValues;
  return gather(labelArray, labelValues) && dualembed::classIndices(filter, labelValues, in.labels);
}

/// Collective. Every rank's kNN graphs, in global order; which graphs exist
/// depends on the options and N only, the same on every rank.
engine::IssueNeighbors gatherIssueNeighbors(const engine::IssueNeighbors& local, size_t embeddings,
  int64_t rows, const engine::DataIssuesOptions& options, const dualembed::SampleExchange& exchange)
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

/// Adds this rank's rows of the results as point-data arrays, the dataset
/// facts as field data, and warns (once, on the root) about dataset issues.
struct IssuePublisher
{
  vtkAlgorithm* Filter;
  vtkPolyData* Output;
  const engine::DataIssuesOptions& Options;
  const dualembed::SampleExchange& Exchange;

  template <typename ArrayType, typename Value>
  void add(const std::string& name, const std::vector<Value>& all) const
  {
    dualembed::addPointArray<ArrayType>(this->Output, name, this->Exchange.localPart(all));
  }

  void predictionArrays(const engine::DataIssuesResult& result, const std::string& x) const
  {
    if (this->Options.labelIssues)
    {
      this->add<vtkUnsignedCharArray>("is_label_issue_" + x, result.predictionLabels.isIssue);
      this->add<vtkFloatArray>("label_score_" + x, result.predictionLabels.score);
    }
    if (this->Options.mistakenness)
    {
      this->add<vtkFloatArray>("mistakenness_" + x, result.mistakenness);
      this->add<vtkFloatArray>("hardness_" + x, result.hardness);
    }
  }

  void embeddingArrays(
    const engine::EmbeddingIssues& issues, const std::string& embeddingName) const
  {
    const std::string y = dualembed::resultSuffix(embeddingName);
    if (this->Options.labelIssues)
    {
      this->add<vtkUnsignedCharArray>("is_knn_label_issue_" + y, issues.labels.isIssue);
      this->add<vtkFloatArray>("knn_label_score_" + y, issues.labels.score);
    }
    if (this->Options.nearDuplicates)
    {
      const engine::NearDuplicateResult& nd = issues.nearDuplicates;
      this->add<vtkUnsignedCharArray>("is_near_duplicate_" + y, nd.isIssue);
      this->add<vtkFloatArray>("near_duplicate_score_" + y, nd.score);
      this->add<vtkTypeInt64Array>("near_duplicate_set_" + y, nd.setId);
      addFact(this->Output, "near_duplicate_" + y,
        { { "samples", static_cast<double>(nd.count) }, { "sets", static_cast<double>(nd.sets) },
          { "median_nn_distance", nd.medianNnDistance },
          { "radius", this->Options.nearDuplicateThreshold * nd.medianNnDistance } });
    }
    if (this->Options.uniqueness)
    {
      this->add<vtkFloatArray>("uniqueness_" + y, issues.uniqueness);
    }
    if (this->Options.nonIid)
    {
      const engine::NonIidResult& ni = issues.nonIid;
      const bool issue = ni.pValue < this->Options.nonIidSignificance;
      addFact(this->Output, "non_iid_" + y,
        { { "p_value", ni.pValue }, { "ks_statistic", ni.statistic },
          { "is_issue", issue ? 1.0 : 0.0 },
          { "flagged_sample", static_cast<double>(ni.flagged) } });
      if (issue && this->Exchange.rank() == 0)
      {
        vtkWarningWithObjectMacro(this->Filter,
          "Data Issues: the samples are not IID in '"
            << embeddingName << "' (p = " << ni.pValue << " < " << this->Options.nonIidSignificance
            << ", KS statistic " << ni.statistic
            << "): neighbours in the embedding lie close together in the "
            << "sample order; shuffle before splitting the data. Lowest non-IID score: sample "
            << ni.flagged << ".");
      }
    }
  }

  void classImbalance(const engine::ClassImbalanceResult& ci) const
  {
    addFact(this->Output, "class_imbalance",
      { { "rarest_class", static_cast<double>(ci.rarestClass) },
        { "rarest_fraction", ci.rarestFraction }, { "threshold_fraction", ci.thresholdFraction },
        { "is_issue", ci.isIssue ? 1.0 : 0.0 } });
    if (ci.isIssue && this->Exchange.rank() == 0)
    {
      vtkWarningWithObjectMacro(this->Filter,
        "Data Issues: class imbalance: class "
          << ci.rarestClass << " has " << 100 * ci.rarestFraction << " % of the samples, below "
          << 100 * ci.thresholdFraction << " % (0.1 of an even share).");
    }
  }
};
}

vtkDataIssues::vtkDataIssues()
{
  // No names: chosen when the filter runs (chooseInputArray), as the Properties panel would.
  for (int index : { EMBEDDING_A, EMBEDDING_B, PROBABILITIES, LABELS })
  {
    this->SetInputArrayToProcess(index, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "");
  }
}

int vtkDataIssues::Execute(vtkInformation*, vtkPolyData* input, vtkPolyData* output,
  const dualembed::SampleExchange& exchange)
{
  // Near-duplicate sets, the non-IID test and the per-class thresholds are
  // about the whole dataset: every rank gets all rows, computes the kNN
  // graphs of its own rows, the graphs are gathered, and every rank then
  // derives the same results and keeps its own rows.
  IssueArrays in;
  if (!gatherIssueArrays(this, input, exchange, in))
  {
    return 0;
  }
  engine::DataIssuesInput issuesInput;
  issuesInput.rows = exchange.totalRows();
  issuesInput.labels = in.labels.data();
  for (const auto& embedding : in.embeddings)
  {
    issuesInput.embeddings.push_back(embedding.matrix());
  }
  if (in.hasProbabilities)
  {
    issuesInput.probabilities = in.probabilities.matrix();
    if (!in.logits.values.empty())
    {
      issuesInput.logits = in.logits.matrix();
    }
  }
  engine::DataIssuesOptions options;
  options.labelIssues = this->LabelIssues;
  options.nearDuplicates = this->NearDuplicates;
  options.nonIid = this->NonIid;
  options.classImbalance = this->ClassImbalance;
  options.uniqueness = this->Uniqueness;
  options.mistakenness = this->Mistakenness;
  options.k = this->K;
  options.nearDuplicateThreshold = this->NearDuplicateThreshold;
  options.progress = dualembed::progressReporter(this);
  output->ShallowCopy(input);

  engine::IssueNeighbors localNeighbors;
  return dualembed::runEngine(
    this, exchange,
    [&] {
      engine::validateDataIssuesInput(issuesInput, options);
      localNeighbors = engine::computeIssueNeighbors(
        issuesInput, options, exchange.offset(), exchange.offset() + exchange.localRows());
    },
    [&] {
      const engine::IssueNeighbors all = gatherIssueNeighbors(
        localNeighbors, in.embeddings.size(), issuesInput.rows, options, exchange);
      // Validated in the first step; no progress here, so nothing can throw between collective
      // calls.
      engine::DataIssuesOptions quiet = options;
      quiet.progress = nullptr;
      const engine::DataIssuesResult result = engine::computeDataIssues(issuesInput, quiet, all);
      const IssuePublisher publish{ this, output, options, exchange };
      if (result.hasPredictions)
      {
        publish.predictionArrays(result, in.probabilitySuffix);
      }
      for (size_t e = 0; e < in.embeddings.size(); ++e)
      {
        publish.embeddingArrays(result.embeddings[e], in.embeddings[e].name);
      }
      if (options.classImbalance)
      {
        publish.classImbalance(result.classImbalance);
      }
    });
}

void vtkDataIssues::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "LabelIssues: " << this->LabelIssues << "\n";
  os << indent << "NearDuplicates: " << this->NearDuplicates << "\n";
  os << indent << "NonIid: " << this->NonIid << "\n";
  os << indent << "ClassImbalance: " << this->ClassImbalance << "\n";
  os << indent << "Uniqueness: " << this->Uniqueness << "\n";
  os << indent << "Mistakenness: " << this->Mistakenness << "\n";
  os << indent << "K: " << this->K << "\n";
  os << indent << "NearDuplicateThreshold: " << this->NearDuplicateThreshold << "\n";
}
