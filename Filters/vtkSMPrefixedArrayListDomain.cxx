#include "vtkSMPrefixedArrayListDomain.h"

#include "vtkObjectFactory.h"
#include "vtkPVXMLElement.h"
#include "vtkSMPropertyHelper.h"
#include "vtkSMStringVectorProperty.h"

#include <string>

vtkStandardNewMacro(vtkSMPrefixedArrayListDomain);

vtkSMPrefixedArrayListDomain::vtkSMPrefixedArrayListDomain() = default;
vtkSMPrefixedArrayListDomain::~vtkSMPrefixedArrayListDomain() = default;

int vtkSMPrefixedArrayListDomain::ReadXMLAttributes(vtkSMProperty* property, vtkPVXMLElement* element)
{
  if (!this->Superclass::ReadXMLAttributes(property, element))
  {
    return 0;
  }
  const char* prefix = element->GetAttribute("prefix");
  this->Prefix = prefix ? prefix : "";
  const char* preferred = element->GetAttribute("preferred_name");
  this->PreferredName = preferred ? preferred : "";
  int occurrence = 0;
  if (element->GetScalarAttribute("occurrence", &occurrence))
  {
    this->Occurrence = occurrence < 0 ? 0 : occurrence;
  }
  return 1;
}

int vtkSMPrefixedArrayListDomain::SetDefaultValues(vtkSMProperty* property, bool useUncheckedValues)
{
  vtkSMStringVectorProperty* svp = vtkSMStringVectorProperty::SafeDownCast(property);
  if (!svp)
  {
    return this->Superclass::SetDefaultValues(property, useUncheckedValues);
  }
  if (this->GetNumberOfStrings() == 0)
  {
    // No input arrays known yet (paraview.simple asks as soon as Input is set).
    // Declining would make ParaView fall back to the XML default, the array
    // index "0", which paraview.simple then keeps as the array *name*; keep
    // the value unset instead, to be chosen once the arrays are known.
    return 1;
  }
  // The preferred array when the input has it (embedding_ft beside embedding_foundation).
  for (unsigned int i = 0; !this->PreferredName.empty() && i < this->GetNumberOfStrings(); ++i)
  {
    const char* name = this->GetString(i);
    vtkSMPropertyHelper helper(property);
    helper.SetUseUnchecked(useUncheckedValues);
    if (name && this->PreferredName == name && helper.GetNumberOfElements() == 5)
    {
      helper.Set(3, std::to_string(this->GetFieldAssociation(i)).c_str());
      helper.Set(4, name);
      return 1;
    }
  }
  int seen = 0;
  for (unsigned int i = 0; !this->Prefix.empty() && i < this->GetNumberOfStrings(); ++i)
  {
    const char* name = this->GetString(i);
    if (!name || std::string(name).compare(0, this->Prefix.size(), this->Prefix) != 0 ||
      seen++ != this->Occurrence)
    {
      continue;
    }
    vtkSMPropertyHelper helper(property);
    helper.SetUseUnchecked(useUncheckedValues);
    if (helper.GetNumberOfElements() == 5) // SetInputArrayToProcess(idx, port, connection, association, name)
    {
      helper.Set(3, std::to_string(this->GetFieldAssociation(i)).c_str());
      helper.Set(4, name);
      return 1;
    }
    if (helper.GetNumberOfElements() == 1)
    {
      helper.Set(0, name);
      return 1;
    }
    break;
  }
  // No array with the prefix. A preferred name: an array that only some time
  // steps carry (probabilities of classifier checkpoints, not of a headless
  // step 0), any other would be wrong. An optional input (the XML gives
  // none_string="None"): None, rather than the active scalars (the labels).
  const char* fallback = !this->PreferredName.empty() ? this->PreferredName.c_str()
    : (!this->Prefix.empty() && this->GetNoneString()) ? this->GetNoneString() : nullptr;
  if (fallback)
  {
    vtkSMPropertyHelper helper(property);
    helper.SetUseUnchecked(useUncheckedValues);
    if (helper.GetNumberOfElements() == 5)
    {
      if (fallback == this->PreferredName.c_str())
      {
        helper.Set(3, "0"); // points
      }
      helper.Set(4, fallback);
      return 1;
    }
  }
  return this->Superclass::SetDefaultValues(property, useUncheckedValues);
}

void vtkSMPrefixedArrayListDomain::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "Prefix: " << this->Prefix << "\n";
  os << indent << "Occurrence: " << this->Occurrence << "\n";
  os << indent << "PreferredName: " << this->PreferredName << "\n";
}
