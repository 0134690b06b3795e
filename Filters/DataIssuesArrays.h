// What Data Issues adds to its output (vtkDataIssues.h,
// Documentation/DATA-ISSUES.md): this rank's rows of the per-sample results,
// the dataset facts as field data, and warnings about dataset issues. Not
// wrapped.
#ifndef DataIssuesArrays_h
#define DataIssuesArrays_h

#ifndef __VTK_WRAP__
#include "DataIssues.h" // engine::DataIssuesResult, engine::DataIssuesOptions

class vtkAlgorithm;
class vtkPolyData;

namespace dualembed
{
class SampleExchange;
struct IssueArrays;

/// Adds the results of the issue types `options` asks for, named after the
/// arrays of `in` they were computed from; warns (once, on the root, on
/// `filter`) about non-IID samples and class imbalance.
void addIssueArrays(vtkAlgorithm* filter, vtkPolyData* output,
  const engine::DataIssuesOptions& options, const SampleExchange& exchange, const IssueArrays& in,
  const engine::DataIssuesResult& result);
}
#endif
#endif
