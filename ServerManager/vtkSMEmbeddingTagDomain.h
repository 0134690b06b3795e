/**
 * @class   vtkSMEmbeddingTagDomain
 * @brief   Image Embedding's Tag default: the tag the new embedding will get.
 *
 * When the input's arrays are known (the GUI, or paraview.simple on an
 * updated input) the Properties panel shows `foundation` for the samples'
 * first embedding and `ft` for the second (dualembed::freeEmbeddingTag, the
 * rule the filter applies to an empty Tag). Otherwise, and for a third
 * embedding, whose tag comes from the model folder not chosen yet, the Tag
 * stays empty and the filter chooses when it runs.
 *
 * XML: `<EmbeddingTagDomain name="free_tag"><RequiredProperties><Property
 * name="Input" function="Input"/></RequiredProperties></EmbeddingTagDomain>`.
 */
#ifndef vtkSMEmbeddingTagDomain_h
#define vtkSMEmbeddingTagDomain_h

#include "DualEmbedServerManagerModule.h" // for export macro
#include "vtkSMDomain.h"

class DUALEMBEDSERVERMANAGER_EXPORT vtkSMEmbeddingTagDomain : public vtkSMDomain
{
public:
  static vtkSMEmbeddingTagDomain* New();
  vtkTypeMacro(vtkSMEmbeddingTagDomain, vtkSMDomain);

  /// Any tag is allowed (a taken one is the filter's error, with both models named).
  int IsInDomain(vtkSMProperty*) override { return IN_DOMAIN; }
  int SetDefaultValues(vtkSMProperty* property, bool useUncheckedValues) override;

protected:
  vtkSMEmbeddingTagDomain() = default;
  ~vtkSMEmbeddingTagDomain() override = default;

private:
  vtkSMEmbeddingTagDomain(const vtkSMEmbeddingTagDomain&) = delete;
  void operator=(const vtkSMEmbeddingTagDomain&) = delete;
};

#endif
