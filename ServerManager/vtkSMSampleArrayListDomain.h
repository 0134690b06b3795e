/**
 * @class   vtkSMSampleArrayListDomain
 * @brief   An array list whose default is the array that plays a role: an embedding,
 *          class probabilities or labels.
 *
 * ParaView's vtkSMArrayListDomain defaults to the active scalars (for the
 * samples: `label`), which is never what the DualEmbed filters want. This
 * domain lists the same arrays but defaults to the array that
 * `dualembed::arraysForRole` (vtkSampleArrays.h) picks: the first embedding
 * by name (embeddings are recognised by their mark, not by their name),
 * `occurrence` 1 the second (Embedding Change's B), `preferred_name` first
 * when the input has it. The GUI and paraview.simple both take a new proxy's
 * defaults from its domains, so both get this default; the filters apply the
 * same rule on the server when the property is left unset (pvpython chains
 * built before any update, when no array is known here yet: the name stays
 * empty).
 *
 * Without a fitting array: a domain with a `none_string` defaults to it (an
 * optional input left out), one with a `preferred_name` to that name (arrays
 * that only some time steps carry: probs_ft at a headless step 0), any other
 * like vtkSMArrayListDomain.
 *
 * XML: `<SampleArrayListDomain name="array_list" attribute_type="Scalars"
 * input_domain_name="input_array" role="embedding" occurrence="0">`.
 */
#ifndef vtkSMSampleArrayListDomain_h
#define vtkSMSampleArrayListDomain_h

#include "DualEmbedServerManagerModule.h" // for export macro
#include "vtkSMArrayListDomain.h"

#include <string> // for std::string

class DUALEMBEDSERVERMANAGER_EXPORT vtkSMSampleArrayListDomain : public vtkSMArrayListDomain
{
public:
  static vtkSMSampleArrayListDomain* New();
  vtkTypeMacro(vtkSMSampleArrayListDomain, vtkSMArrayListDomain);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  int SetDefaultValues(vtkSMProperty* property, bool useUncheckedValues) override;

protected:
  vtkSMSampleArrayListDomain();
  ~vtkSMSampleArrayListDomain() override;

  int ReadXMLAttributes(vtkSMProperty* property, vtkPVXMLElement* element) override;

private:
  vtkSMSampleArrayListDomain(const vtkSMSampleArrayListDomain&) = delete;
  void operator=(const vtkSMSampleArrayListDomain&) = delete;

  int Role = 0; // a dualembed::ArrayRole, parsed from the XML attribute `role`
  int Occurrence = 0;
  std::string PreferredName;
  bool PreferredWhenAbsent = true; // XML preferred_when_absent="0": only when the input has it
};

#endif
