#include "vtkPerSampleArrays.h"

#include "vtkAbstractArray.h"
#include "vtkInformationVector.h"
#include "vtkObjectFactory.h"
#include "vtkPointData.h"
#include "vtkPolyData.h"

#include <string>
#include <vector>

vtkStandardNewMacro(vtkPerSampleArrays);

int vtkPerSampleArrays::RequestData(
  vtkInformation*, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  vtkPolyData* input = vtkPolyData::GetData(inputVector[0], 0);
  vtkPolyData* output = vtkPolyData::GetData(outputVector, 0);
  output->ShallowCopy(input);
  vtkPointData* pd = output->GetPointData();
  std::vector<std::string> wide;
  for (int i = 0; i < pd->GetNumberOfArrays(); ++i)
  {
    vtkAbstractArray* array = pd->GetAbstractArray(i);
    if (array && array->GetName() && array->GetNumberOfComponents() > this->MaximumComponents)
    {
      wide.emplace_back(array->GetName());
    }
  }
  for (const std::string& name : wide)
  {
    pd->RemoveArray(name.c_str());
  }
  return 1;
}

void vtkPerSampleArrays::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "MaximumComponents: " << this->MaximumComponents << "\n";
}
