/**
 * @class   vtkSMPrefixedArrayListDomain
 * @brief   An array list whose default is the first array named with a prefix.
 *
 * ParaView's vtkSMArrayListDomain defaults to the active scalars (for the
 * samples: `label`), which is never what the DualEmbed filters want. This
 * domain lists the same arrays but defaults to the first array (in the
 * panel's order, i.e. by name) whose name starts with `prefix`, e.g.
 * `embedding_`; `occurrence` 1 picks the second such array (Embedding
 * Change's B). With fewer matching arrays it behaves like vtkSMArrayListDomain,
 * except that it never falls back to the property's XML default (an array
 * index, not a name) while the input's arrays are not known yet, and that a
 * domain with a `none_string` defaults to it (an optional input left out).
 * The GUI and paraview.simple both take a new proxy's defaults from its
 * domains, so both get this default.
 *
 * `preferred_name` (optional) is the default when the input has it, and also
 * when no array has the prefix: for arrays that only some time steps carry
 * (probs_ft at a headless step 0).
 *
 * XML: `<PrefixedArrayListDomain name="array_list" attribute_type="Scalars"
 * input_domain_name="input_array" prefix="embedding_" occurrence="0">`.
 */
#ifndef vtkSMPrefixedArrayListDomain_h
#define vtkSMPrefixedArrayListDomain_h

#include "DualEmbedFiltersModule.h" // for export macro
#include "vtkSMArrayListDomain.h"

#include <string> // for std::string

class DUALEMBEDFILTERS_EXPORT vtkSMPrefixedArrayListDomain : public vtkSMArrayListDomain
{
public:
  static vtkSMPrefixedArrayListDomain* New();
  vtkTypeMacro(vtkSMPrefixedArrayListDomain, vtkSMArrayListDomain);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  int SetDefaultValues(vtkSMProperty* property, bool useUncheckedValues) override;

protected:
  vtkSMPrefixedArrayListDomain();
  ~vtkSMPrefixedArrayListDomain() override;

  int ReadXMLAttributes(vtkSMProperty* property, vtkPVXMLElement* element) override;

private:
  vtkSMPrefixedArrayListDomain(const vtkSMPrefixedArrayListDomain&) = delete;
  void operator=(const vtkSMPrefixedArrayListDomain&) = delete;

  std::string Prefix;
  int Occurrence = 0;
  std::string PreferredName;
};

#endif
