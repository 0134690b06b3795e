#include "vtkSMEmbeddingTagDomain.h"

#include "vtkSampleArrays.h"

#include "vtkObjectFactory.h"
#include "vtkPVArrayInformation.h"
#include "vtkPVDataInformation.h"
#include "vtkPVDataSetAttributesInformation.h"
#include "vtkSMPropertyHelper.h"

#include <string>
#include <vector>

vtkStandardNewMacro(vtkSMEmbeddingTagDomain);

int vtkSMEmbeddingTagDomain::SetDefaultValues(vtkSMProperty* property, bool useUncheckedValues)
{
  vtkPVDataInformation* info = this->GetInputDataInformation("Input");
  vtkPVDataSetAttributesInformation* pd = info ? info->GetPointDataInformation() : nullptr;
  if (!pd || pd->GetNumberOfArrays() == 0)
  {
    return 0; // nothing known yet: the XML default (empty), chosen when the filter runs
  }
  std::vector<std::string> names;
  for (int i = 0; i < pd->GetNumberOfArrays(); ++i)
  {
    const char* name = pd->GetArrayInformation(i)->GetName();
    names.emplace_back(name ? name : "");
  }
  const std::string tag = dualembed::freeEmbeddingTag(names, "");
  if (tag.empty())
  {
    return 0; // a third embedding: named after its model, chosen when the filter runs
  }
  vtkSMPropertyHelper helper(property);
  helper.SetUseUnchecked(useUncheckedValues);
  helper.Set(tag.c_str());
  return 1;
}
