#include "ValueRanges.h"

#include "vtkDataArray.h"
#include "vtkInformation.h"
#include "vtkInformationDoubleVectorKey.h"
#include "vtkInformationInformationVectorKey.h"
#include "vtkInformationVector.h"
#include "vtkNew.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

namespace dualembed
{
namespace
{
/// Per-component minimum and maximum (2 per component) and the range of the
/// tuples' L2 norms, in one pass; false for a non-finite value.
template <typename T>
bool computeRanges(
  const T* values, vtkIdType tuples, int components, std::vector<double>& ranges, double norms[2])
{
  // Squares of small integers add up exactly in 64 bits, as in VTK's double.
  using Squares =
    std::conditional_t<std::is_integral<T>::value && sizeof(T) <= 2, std::int64_t, double>;
  std::vector<T> low(values, values + components), high(low);
  Squares fewest = std::numeric_limits<Squares>::max(), most = 0;
  for (vtkIdType t = 0; t < tuples; ++t)
  {
    const T* row = values + t * components;
    Squares squares = 0;
    for (int c = 0; c < components; ++c)
    {
      low[c] = std::min(low[c], row[c]);
      high[c] = std::max(high[c], row[c]);
      squares += static_cast<Squares>(row[c]) * static_cast<Squares>(row[c]);
    }
    if (!std::is_integral<T>::value && !std::isfinite(static_cast<double>(squares)))
    {
      return false; // NaN or an infinity somewhere in this tuple
    }
    fewest = std::min(fewest, squares);
    most = std::max(most, squares);
  }
  ranges.resize(2 * static_cast<std::size_t>(components));
  for (int c = 0; c < components; ++c)
  {
    ranges[2 * c] = static_cast<double>(low[c]);
    ranges[2 * c + 1] = static_cast<double>(high[c]);
  }
  norms[0] = std::sqrt(static_cast<double>(fewest));
  norms[1] = std::sqrt(static_cast<double>(most));
  return true;
}
}

void cacheValueRanges(vtkDataArray* array)
{
  const vtkIdType tuples = array ? array->GetNumberOfTuples() : 0;
  const int components = array ? array->GetNumberOfComponents() : 0;
  if (tuples == 0 || components < 1 || !array->HasStandardMemoryLayout())
  {
    return;
  }
  std::vector<double> ranges;
  double norms[2];
  bool computed = false;
  switch (array->GetDataType())
  {
    vtkTemplateMacro(computed = computeRanges(static_cast<const VTK_TT*>(array->GetVoidPointer(0)),
                       tuples, components, ranges, norms));
    default:
      break;
  }
  if (!computed)
  {
    return;
  }
  // Finite values only: the all-values and the finite ranges are the same.
  vtkInformation* info = array->GetInformation();
  for (vtkInformationInformationVectorKey* key :
    { vtkDataArray::PER_COMPONENT(), vtkDataArray::PER_FINITE_COMPONENT() })
  {
    vtkNew<vtkInformationVector> perComponent;
    perComponent->SetNumberOfInformationObjects(components);
    for (int c = 0; c < components; ++c)
    {
      perComponent->GetInformationObject(c)->Set(
        vtkDataArray::COMPONENT_RANGE(), ranges.data() + 2 * c, 2);
    }
    info->Set(key, perComponent);
  }
  info->Set(vtkDataArray::L2_NORM_RANGE(), norms, 2);
  info->Set(vtkDataArray::L2_NORM_FINITE_RANGE(), norms, 2);
}
}
