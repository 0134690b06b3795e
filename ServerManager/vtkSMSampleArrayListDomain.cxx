#include "vtkSMSampleArrayListDomain.h"

#include "vtkSampleArrays.h"

#include "vtkInformationIntegerKey.h"
#include "vtkObjectFactory.h"
#include "vtkPVArrayInformation.h"
#include "vtkPVDataInformation.h"
#include "vtkPVDataSetAttributesInformation.h"
#include "vtkPVXMLElement.h"
#include "vtkSMPropertyHelper.h"
#include "vtkSMStringVectorProperty.h"

#include <string>

vtkStandardNewMacro(vtkSMSampleArrayListDomain);

vtkSMSampleArrayListDomain::vtkSMSampleArrayListDomain() = default;
vtkSMSampleArrayListDomain::~vtkSMSampleArrayListDomain() = default;

namespace
{
/// The rule's facts about the input's point arrays, from ParaView's data information.
std::vector<dualembed::ArrayFacts> pointArrayFacts(vtkPVDataInformation* info)
{
  std::vector<dualembed::ArrayFacts> facts;
  vtkPVDataSetAttributesInformation* pd = info ? info->GetPointDataInformation() : nullptr;
  vtkPVDataSetAttributesInformation* fd = info ? info->GetFieldDataInformation() : nullptr;
  std::vector<std::string> fieldNames;
  for (int i = 0; fd && i < fd->GetNumberOfArrays(); ++i)
  {
    fieldNames.emplace_back(
      fd->GetArrayInformation(i)->GetName() ? fd->GetArrayInformation(i)->GetName() : "");
  }
  for (int i = 0; pd && i < pd->GetNumberOfArrays(); ++i)
  {
    vtkPVArrayInformation* array = pd->GetArrayInformation(i);
    if (array && array->GetName())
    {
      facts.push_back({ array->GetName(), array->GetNumberOfComponents(),
        array->GetDataType() != VTK_STRING && array->GetDataType() != VTK_VARIANT,
        array->HasInformationKey(
          vtkSampleArrays::EMBEDDING()->GetLocation(), vtkSampleArrays::EMBEDDING()->GetName()) ||
          dualembed::hasEmbeddingProvenance(array->GetName(), fieldNames) });
    }
  }
  return facts;
}

/// Sets the array name (and for SetInputArrayToProcess's five elements the association).
bool setArray(vtkSMProperty* property, bool useUncheckedValues, const char* name, int association)
{
  vtkSMPropertyHelper helper(property);
  helper.SetUseUnchecked(useUncheckedValues);
  if (helper.GetNumberOfElements() ==
    5) // SetInputArrayToProcess(idx, port, connection, association, name)
  {
    helper.Set(3, std::to_string(association).c_str());
    helper.Set(4, name);
    return true;
  }
  if (helper.GetNumberOfElements() == 1)
  {
    helper.Set(0, name);
    return true;
  }
  return false;
}
}

int vtkSMSampleArrayListDomain::ReadXMLAttributes(vtkSMProperty* property, vtkPVXMLElement* element)
{
  if (!this->Superclass::ReadXMLAttributes(property, element))
  {
    return 0;
  }
  const char* role = element->GetAttribute("role");
  dualembed::ArrayRole parsed;
  if (!role || !dualembed::parseArrayRole(role, parsed))
  {
    vtkErrorMacro(
      "SampleArrayListDomain needs role=\"embedding\", \"probabilities\" or \"labels\".");
    return 0;
  }
  this->Role = static_cast<int>(parsed);
  const char* preferred = element->GetAttribute("preferred_name");
  this->PreferredName = preferred ? preferred : "";
  int whenAbsent = 1;
  if (element->GetScalarAttribute("preferred_when_absent", &whenAbsent))
  {
    this->PreferredWhenAbsent = whenAbsent != 0;
  }
  int occurrence = 0;
  if (element->GetScalarAttribute("occurrence", &occurrence))
  {
    this->Occurrence = occurrence < 0 ? 0 : occurrence;
  }
  return 1;
}

int vtkSMSampleArrayListDomain::SetDefaultValues(vtkSMProperty* property, bool useUncheckedValues)
{
  if (!vtkSMStringVectorProperty::SafeDownCast(property))
  {
    return this->Superclass::SetDefaultValues(property, useUncheckedValues);
  }
  const unsigned int noneStrings = this->GetNoneString() ? 1 : 0; // the domain lists None first
  if (this->GetNumberOfStrings() <= noneStrings)
  {
    // No input arrays known yet (paraview.simple asks as soon as Input is set,
    // before anything ran; an optional array's domain then lists only None:
    // choosing it skipped the array for good). Leave the name as it is, empty: the filter applies
    // the same rule on the server when it executes (FilterSupport's
    // chooseInputArray). Setting it would count as the user's choice, which a
    // later reset to the defaults keeps; declining would make ParaView fall
    // back to the XML default, the array index "0", as the array *name*.
    return 1;
  }
  const std::vector<dualembed::ArrayFacts> facts =
    pointArrayFacts(this->GetInputDataInformation("Input"));
  if (facts.empty())
  {
    return 1; // the input's arrays are not known here yet: as above, the server chooses
  }
  const std::string chosen =
    dualembed::defaultArrayForRole(facts, static_cast<dualembed::ArrayRole>(this->Role),
      this->Occurrence, this->PreferredName, this->PreferredWhenAbsent);
  if (!chosen.empty())
  {
    for (unsigned int i = 0; i < this->GetNumberOfStrings(); ++i)
    {
      if (chosen == this->GetString(i) &&
        setArray(property, useUncheckedValues, chosen.c_str(), this->GetFieldAssociation(i)))
      {
        return 1;
      }
    }
    if (chosen == this->PreferredName &&
      setArray(
        property, useUncheckedValues, chosen.c_str(), vtkDataObject::FIELD_ASSOCIATION_POINTS))
    {
      return 1; // an array that only some time steps carry
    }
  }
  // Nothing fits. An optional input (the XML gives none_string="None"): an
  // empty name, rather than the active scalars (the labels), and rather than
  // None: the filter applies the same rule when it runs and takes no array
  // when nothing fits. None would be final, and paraview.simple can ask this
  // domain about the active source's arrays before it sets Input= (after
  // Compare Embeddings, the layout's per-sample copy, which has no
  // embeddings: Data Issues then ran on nothing; ARCHITECTURE.md).
  if (this->GetNoneString() &&
    setArray(property, useUncheckedValues, "", vtkDataObject::FIELD_ASSOCIATION_POINTS))
  {
    return 1;
  }
  return this->Superclass::SetDefaultValues(property, useUncheckedValues);
}

void vtkSMSampleArrayListDomain::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "Role: " << this->Role << "\n";
  os << indent << "Occurrence: " << this->Occurrence << "\n";
  os << indent << "PreferredName: " << this->PreferredName << "\n";
  os << indent << "PreferredWhenAbsent: " << this->PreferredWhenAbsent << "\n";
}
