#include "vtkDataIssues.h"

#include "DataIssues.h"
#include "FilterSupport.h"

#include "vtkDataObject.h"
#include "vtkDoubleArray.h"
#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkInformationVector.h"
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
void addFact(vtkPolyData* output, const std::string& name, const std::vector<std::pair<const char*, double>>& values)
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
engine::KnnResult gatherKnn(const engine::KnnResult& local, const dualembed::SampleExchange& exchange)
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

vtkDataIssues::vtkDataIssues()
{
  // No names: chosen when the filter runs (chooseInputArray), as the Properties panel would.
  for (int index : { EMBEDDING_A, EMBEDDING_B, PROBABILITIES, LABELS })
  {
    this->SetInputArrayToProcess(index, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "");
  }
}

int vtkDataIssues::RequestData(
  vtkInformation* request, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  return dualembed::emptyOnFailure(this, vtkPolyData::GetData(outputVector, 0),
    [&] { return this->Compute(request, inputVector, outputVector); });
}

int vtkDataIssues::Compute(vtkInformation*, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  vtkPolyData* input = vtkPolyData::GetData(inputVector[0], 0);
  vtkPolyData* output = vtkPolyData::GetData(outputVector, 0);
  // Near-duplicate sets, the non-IID test and the per-class thresholds are
  // about the whole dataset: every rank gets all rows, computes the kNN
  // graphs of its own rows, the graphs are gathered, and every rank then
  // derives the same results and keeps its own rows.
  const dualembed::SampleExchange exchange(input->GetNumberOfPoints());
  if (dualembed::passEmptyInput(input, output, exchange))
  {
    return 1;
  }
  vtkAbstractArray* labelArray = nullptr;
  if (!dualembed::chooseInputArray(this, LABELS, input, { "Labels", dualembed::ArrayRole::Labels }, exchange, labelArray))
  {
    return 0;
  }
  const std::string labelName = labelArray->GetName() ? labelArray->GetName() : "";
  // An optional input is used when it exists on every rank, is not the
  // labels and is not a repeat of an earlier selection ("None" skips it).
  std::vector<std::string> used;
  const dualembed::ArrayChoice choices[] = { { "EmbeddingA", dualembed::ArrayRole::Embedding, 0, "", true },
    { "EmbeddingB", dualembed::ArrayRole::Embedding, 1, "", true },
    { "Probabilities", dualembed::ArrayRole::Probabilities, 0, "", true } };
  auto selected = [&](int index) -> vtkAbstractArray* {
    vtkAbstractArray* array = nullptr;
    dualembed::chooseInputArray(this, index, input, choices[index], exchange, array);
    const std::string name = array && array->GetName() ? array->GetName() : "";
    const bool use = array && name != labelName && std::find(used.begin(), used.end(), name) == used.end();
    if (exchange.minimum(use ? 1 : 0) == 0)
    {
      return nullptr;
    }
    used.push_back(name);
    return array;
  };
  std::vector<dualembed::SelectedArray> embeddings;
  for (int index : { EMBEDDING_A, EMBEDDING_B })
  {
    if (vtkAbstractArray* array = selected(index))
    {
      embeddings.emplace_back();
      if (!dualembed::gatherSelectedArray(this, array, exchange, dualembed::GatherTo::AllRanks, embeddings.back()))
      {
        return 0;
      }
    }
  }
  dualembed::SelectedArray probabilities, logits, labelValues;
  vtkAbstractArray* probabilityArray = selected(PROBABILITIES);
  if (probabilityArray &&
    !dualembed::gatherSelectedArray(this, probabilityArray, exchange, dualembed::GatherTo::AllRanks, probabilities))
  {
    return 0;
  }
  if (embeddings.empty() && !probabilityArray)
  {
    vtkErrorMacro("Data Issues needs an embedding (embedding_*) or class probabilities (probs_*): "
                  "choose at least one in Embedding A, Embedding B or Probabilities.");
    return 0;
  }
  // FiftyOne's mistakenness and hardness are defined on logits: logits_<X> beside probs_<X>.
  const std::string x = probabilityArray ? dualembed::resultSuffix(probabilities.name) : "";
  vtkAbstractArray* logitArray = probabilityArray ? input->GetPointData()->GetAbstractArray(("logits_" + x).c_str()) : nullptr;
  if (exchange.minimum(logitArray ? 1 : 0) == 1 &&
    !dualembed::gatherSelectedArray(this, logitArray, exchange, dualembed::GatherTo::AllRanks, logits))
  {
    return 0;
  }
  if (!dualembed::gatherSelectedArray(this, labelArray, exchange, dualembed::GatherTo::AllRanks, labelValues))
  {
    return 0;
  }
  std::vector<int32_t> labels;
  if (!dualembed::classIndices(this, labelValues, labels))
  {
    return 0;
  }

  engine::DataIssuesInput issuesInput;
  issuesInput.rows = exchange.totalRows();
  issuesInput.labels = labels.data();
  for (const auto& embedding : embeddings)
  {
    issuesInput.embeddings.push_back(embedding.matrix());
  }
  if (probabilityArray)
  {
    issuesInput.probabilities = probabilities.matrix();
    if (!logits.values.empty())
    {
      issuesInput.logits = logits.matrix();
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
  return dualembed::runEngine(this, exchange,
    [&] {
      engine::validateDataIssuesInput(issuesInput, options);
      localNeighbors = engine::computeIssueNeighbors(
        issuesInput, options, exchange.offset(), exchange.offset() + exchange.localRows());
    },
    [&] {
      engine::IssueNeighbors all;
      // Which graphs exist depends on the options and N only, the same on every rank.
      const bool graph = options.nearDuplicates || options.nonIid;
      const bool unique = options.uniqueness && issuesInput.rows > 3;
      for (size_t e = 0; e < embeddings.size(); ++e)
      {
        all.graph.push_back(graph ? gatherKnn(localNeighbors.graph[e], exchange) : engine::KnnResult());
        all.votes.push_back(options.labelIssues ? gatherKnn(localNeighbors.votes[e], exchange) : engine::KnnResult());
        all.unique.push_back(unique ? gatherKnn(localNeighbors.unique[e], exchange) : engine::KnnResult());
      }
      // Validated in the first step; no progress here, so nothing can throw between collective calls.
      engine::DataIssuesOptions quiet = options;
      quiet.progress = nullptr;
      const engine::DataIssuesResult result = engine::computeDataIssues(issuesInput, quiet, all);
      const bool report = exchange.rank() == 0;
      if (result.hasPredictions)
      {
        if (options.labelIssues)
        {
          dualembed::addPointArray<vtkUnsignedCharArray>(
            output, "is_label_issue_" + x, exchange.localPart(result.predictionLabels.isIssue));
          dualembed::addPointArray<vtkFloatArray>(output, "label_score_" + x, exchange.localPart(result.predictionLabels.score));
        }
        if (options.mistakenness)
        {
          dualembed::addPointArray<vtkFloatArray>(output, "mistakenness_" + x, exchange.localPart(result.mistakenness));
          dualembed::addPointArray<vtkFloatArray>(output, "hardness_" + x, exchange.localPart(result.hardness));
        }
      }
      for (size_t e = 0; e < embeddings.size(); ++e)
      {
        const std::string y = dualembed::resultSuffix(embeddings[e].name);
        const engine::EmbeddingIssues& issues = result.embeddings[e];
        if (options.labelIssues)
        {
          dualembed::addPointArray<vtkUnsignedCharArray>(
            output, "is_knn_label_issue_" + y, exchange.localPart(issues.labels.isIssue));
          dualembed::addPointArray<vtkFloatArray>(output, "knn_label_score_" + y, exchange.localPart(issues.labels.score));
        }
        if (options.nearDuplicates)
        {
          const engine::NearDuplicateResult& nd = issues.nearDuplicates;
          dualembed::addPointArray<vtkUnsignedCharArray>(output, "is_near_duplicate_" + y, exchange.localPart(nd.isIssue));
          dualembed::addPointArray<vtkFloatArray>(output, "near_duplicate_score_" + y, exchange.localPart(nd.score));
          dualembed::addPointArray<vtkTypeInt64Array>(output, "near_duplicate_set_" + y, exchange.localPart(nd.setId));
          addFact(output, "near_duplicate_" + y,
            { { "samples", static_cast<double>(nd.count) }, { "sets", static_cast<double>(nd.sets) },
              { "median_nn_distance", nd.medianNnDistance },
              { "radius", options.nearDuplicateThreshold * nd.medianNnDistance } });
        }
        if (options.uniqueness)
        {
          dualembed::addPointArray<vtkFloatArray>(output, "uniqueness_" + y, exchange.localPart(issues.uniqueness));
        }
        if (options.nonIid)
        {
          const engine::NonIidResult& ni = issues.nonIid;
          const bool issue = ni.pValue < options.nonIidSignificance;
          addFact(output, "non_iid_" + y,
            { { "p_value", ni.pValue }, { "ks_statistic", ni.statistic }, { "is_issue", issue ? 1.0 : 0.0 },
              { "flagged_sample", static_cast<double>(ni.flagged) } });
          if (issue && report)
          {
            vtkWarningMacro("Data Issues: the samples are not IID in '"
              << embeddings[e].name << "' (p = " << ni.pValue << " < " << options.nonIidSignificance
              << ", KS statistic " << ni.statistic << "): neighbours in the embedding lie close together in the "
              << "sample order; shuffle before splitting the data. Lowest non-IID score: sample " << ni.flagged << ".");
          }
        }
      }
      if (options.classImbalance)
      {
        const engine::ClassImbalanceResult& ci = result.classImbalance;
        addFact(output, "class_imbalance",
          { { "rarest_class", static_cast<double>(ci.rarestClass) }, { "rarest_fraction", ci.rarestFraction },
            { "threshold_fraction", ci.thresholdFraction }, { "is_issue", ci.isIssue ? 1.0 : 0.0 } });
        if (ci.isIssue && report)
        {
          vtkWarningMacro("Data Issues: class imbalance: class " << ci.rarestClass << " has "
                                                                 << 100 * ci.rarestFraction << " % of the samples, below "
                                                                 << 100 * ci.thresholdFraction
                                                                 << " % (0.1 of an even share).");
        }
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
