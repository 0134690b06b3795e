#include "vtkDataIssues.h"

#include "DataIssues.h"
#include "DataIssuesArrays.h"
#include "DataIssuesInputs.h"
#include "FilterSupport.h"

#include "vtkDataObject.h"
#include "vtkObjectFactory.h"

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkDataIssues);

namespace
{
/// The engine's options from the filter's properties.
engine::DataIssuesOptions dataIssuesOptions(
  vtkDataIssues* filter, const dualembed::SampleExchange& exchange)
{
  engine::DataIssuesOptions options;
  options.labelIssues = filter->GetLabelIssues();
  options.nearDuplicates = filter->GetNearDuplicates();
  options.nonIid = filter->GetNonIid();
  options.classImbalance = filter->GetClassImbalance();
  options.uniqueness = filter->GetUniqueness();
  options.mistakenness = filter->GetMistakenness();
  options.k = filter->GetK();
  options.nearDuplicateThreshold = filter->GetNearDuplicateThreshold();
  // Above the exact limit the ranks search distributed: each indexes its own
  // rows (of the gathered ones) instead of all of them.
  options.neighbors = dualembed::neighborSearch("Data Issues", engine::KnnMethod::Auto, &exchange);
  options.progress = dualembed::progressReporter(filter);
  return options;
}
}

vtkDataIssues::vtkDataIssues()
{
  // No names: chosen when the filter runs (chooseInputArray), as the Properties panel would.
  for (int index : { dualembed::DATA_ISSUES_EMBEDDING_A, dualembed::DATA_ISSUES_EMBEDDING_B,
         dualembed::DATA_ISSUES_PROBABILITIES, dualembed::DATA_ISSUES_LABELS })
  {
    this->SetInputArrayToProcess(index, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "");
  }
}

int vtkDataIssues::Execute(vtkInformation*, vtkPolyData* input, vtkPolyData* output,
  const dualembed::SampleExchange& exchange)
{
  // Near-duplicate sets, the non-IID test and the per-class thresholds are
  // about the whole dataset: every rank gets all rows, computes the kNN
  // graphs of its own rows (above the exact limit through the distributed
  // search, indexing only its own rows), the graphs are gathered, and every
  // rank then derives the same results and keeps its own rows.
  dualembed::IssueArrays in;
  if (!dualembed::gatherIssueArrays(this, input, exchange, in))
  {
    return 0;
  }
  const engine::DataIssuesInput issuesInput = dualembed::dataIssuesInput(in, exchange.totalRows());
  const engine::DataIssuesOptions options = dataIssuesOptions(this, exchange);
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
      const engine::IssueNeighbors all = dualembed::gatherIssueNeighbors(
        localNeighbors, in.embeddings.size(), issuesInput.rows, options, exchange);
      // Validated in the first step; no progress here, so nothing can throw between collective
      // calls.
      engine::DataIssuesOptions quiet = options;
      quiet.progress = nullptr;
      const engine::DataIssuesResult result = engine::computeDataIssues(issuesInput, quiet, all);
      dualembed::addIssueArrays(this, output, options, exchange, in, result);
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
