#include "FilterSupport.h"

#include "EngineError.h"

#include "vtkAlgorithm.h"
#include "vtkDataArray.h"
#include "vtkDataArrayRange.h"
#include "vtkPolyData.h"
#include "vtkSMPTools.h"

namespace dualembed
{
namespace
{
void reportError(vtkAlgorithm* algorithm, const std::string& message)
{
  vtkErrorWithObjectMacro(algorithm, << message);
}
}

bool readSelectedArray(vtkAlgorithm* algorithm, vtkAbstractArray* abstract, SelectedArray& array)
{
  vtkDataArray* data = vtkDataArray::SafeDownCast(abstract);
  if (!data)
  {
    reportError(algorithm, abstract
        ? "The array '" + std::string(abstract->GetName() ? abstract->GetName() : "") +
          "' is not numeric: choose a numeric point-data array such as an embedding."
        : "The selected input array was not found in the input's point data: choose one that exists.");
    return false;
  }
  array.name = data->GetName() ? data->GetName() : "";
  array.dimension = data->GetNumberOfComponents();
  const vtkIdType n = data->GetNumberOfTuples();
  const int d = array.dimension;
  array.values.resize(static_cast<size_t>(n) * d);
  vtkSMPTools::For(0, n, [&](vtkIdType begin, vtkIdType end) {
    const auto values = vtk::DataArrayValueRange(data, begin * d, end * d);
    std::copy(values.begin(), values.end(), array.values.begin() + begin * d);
  });
  return true;
}

std::string resultSuffix(const std::string& name)
{
  for (const std::string prefix : { "embedding_", "probs_" })
  {
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0)
    {
      return name.substr(prefix.size());
    }
  }
  return name;
}

engine::ProgressCallback progressReporter(vtkAlgorithm* algorithm)
{
  return [algorithm](double fraction) {
    algorithm->UpdateProgress(fraction);
    return !algorithm->GetAbortExecute();
  };
}

int runEngine(vtkAlgorithm* algorithm, vtkPolyData* input, vtkPolyData* output,
  const std::function<void()>& compute)
{
  try
  {
    compute();
    algorithm->UpdateProgress(1.0);
    return 1;
  }
  catch (const engine::Aborted&)
  {
    vtkWarningWithObjectMacro(algorithm, "Aborted: no arrays were added.");
    output->ShallowCopy(input);
    return 1;
  }
  catch (const std::exception& e)
  {
    reportError(algorithm, e.what());
    output->Initialize(); // a failed filter has an empty output, like a failed reader
    return 0;
  }
}
}
