#include "DataIssuesArrays.h"

#include "DataIssuesInputs.h" // IssueArrays
#include "FilterSupport.h"    // addPointArray, resultSuffix
#include "SampleExchange.h"

#include "vtkAlgorithm.h"
#include "vtkDoubleArray.h"
#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkNew.h"
#include "vtkPolyData.h"
#include "vtkTypeInt64Array.h"
#include "vtkUnsignedCharArray.h"

#include <string>
#include <utility>
#include <vector>

namespace dualembed
{
namespace
{
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

/// Adds this rank's rows of the results as point-data arrays, the dataset
/// facts as field data, and warns (once, on the root) about dataset issues.
struct IssuePublisher
{
  vtkAlgorithm* Filter;
  vtkPolyData* Output;
  const engine::DataIssuesOptions& Options;
  const SampleExchange& Exchange;

  template <typename ArrayType, typename Value>
  void add(const std::string& name, const std::vector<Value>& all) const
  {
    addPointArray<ArrayType>(this->Output, name, this->Exchange.localPart(all));
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
    const std::string y = resultSuffix(embeddingName);
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

void addIssueArrays(vtkAlgorithm* filter, vtkPolyData* output,
  const engine::DataIssuesOptions& options, const SampleExchange& exchange, const IssueArrays& in,
  const engine::DataIssuesResult& result)
{
  const IssuePublisher publish{ filter, output, options, exchange };
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
}
}
