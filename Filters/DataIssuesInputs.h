// What Data Issues (vtkDataIssues.h) reads and gathers: the chosen arrays,
// every rank's rows in global order, as the engine's input, and the kNN
// graphs of all ranks. Not wrapped.
#ifndef DataIssuesInputs_h
#define DataIssuesInputs_h

#ifndef __VTK_WRAP__
#include "DataIssues.h"    // engine::DataIssuesInput, engine::IssueNeighbors
#include "FilterSupport.h" // SelectedArray

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

class vtkAlgorithm;
class vtkPolyData;

namespace dualembed
{
class SampleExchange;

/// The SetInputArrayToProcess indices of vtkDataIssues.
enum DataIssuesInputIndex
{
  DATA_ISSUES_EMBEDDING_A = 0,
  DATA_ISSUES_EMBEDDING_B = 1,
  DATA_ISSUES_PROBABILITIES = 2,
  DATA_ISSUES_LABELS = 3
};

/// The arrays Data Issues reads, every rank's rows in global order.
struct IssueArrays
{
  std::vector<SelectedArray> embeddings; // Embedding A and B, those chosen
  bool hasProbabilities = false;
  SelectedArray probabilities;
  SelectedArray logits;          // logits_<X> beside probs_<X>, when there
  std::string probabilitySuffix; // <X>
  std::vector<int32_t> labels;
};

/// Collective. Chooses and gathers the inputs; false after reporting an error
/// on `filter`.
bool gatherIssueArrays(
  vtkAlgorithm* filter, vtkPolyData* input, const SampleExchange& exchange, IssueArrays& in);

/// The engine's view of `in` (which must outlive it) for `rows` samples.
engine::DataIssuesInput dataIssuesInput(const IssueArrays& in, int64_t rows);

/// Collective. Every rank's kNN graphs, in global order; which graphs exist
/// depends on the options and N only, the same on every rank.
engine::IssueNeighbors gatherIssueNeighbors(const engine::IssueNeighbors& local, size_t embeddings,
  int64_t rows, const engine::DataIssuesOptions& options, const SampleExchange& exchange);
}
#endif
#endif
