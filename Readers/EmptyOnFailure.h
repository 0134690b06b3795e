// How every DualEmbed reader and filter fails: the error is reported, the
// output is emptied, and the pipeline request still succeeds. VTK executes
// nothing downstream of an algorithm that returns 0, so the views, the
// Information panel and the filters after a failed one would keep showing
// their previous results (ParaView's vtkPVPostFilter behind every output port
// included); an empty output reaches all of them. Not wrapped.
#ifndef EmptyOnFailure_h
#define EmptyOnFailure_h

#ifndef __VTK_WRAP__
#include "vtkAlgorithm.h"
#include "vtkDataObject.h"
#include "vtkDataSet.h"
#include "vtkPointData.h"

#include <exception>

namespace dualembed
{
/// Runs `body` (the work of a RequestData or RequestInformation, which returns
/// 0 after reporting why with vtkErrorMacro, or aborts and returns 0 after a
/// warning). On 0, or on an exception (reported here), empties `output`.
/// Always returns 1, for the reason above.
template <typename Body>
int emptyOnFailure(vtkAlgorithm* algorithm, vtkDataObject* output, Body&& body)
{
  int ok = 0;
  try
  {
    ok = body();
  }
  catch (const std::exception& e) // e.g. std::bad_alloc: nothing may escape into VTK
  {
    vtkErrorWithObjectMacro(algorithm, << e.what());
  }
  if (!ok && output)
  {
    output->Initialize();
  }
  return 1;
}

/// The empty output of a failed reader or filter upstream: no points, no
/// point arrays (a rank's empty share of the samples still has its arrays).
inline bool isEmptyInput(vtkDataSet* input)
{
  return !input ||
    (input->GetNumberOfPoints() == 0 && input->GetPointData()->GetNumberOfArrays() == 0);
}
}
#endif
#endif
