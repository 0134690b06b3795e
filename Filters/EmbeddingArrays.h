// The arrays Image Embedding (and Checkpoint Embedding through it) adds to
// the samples: their tag, embedding_<tag> marked as an embedding, the
// classifier's logits_, probs_, pred_label_ and pred_label_str_, and the
// model's provenance model_<tag> in the field data
// (Documentation/ARCHITECTURE.md, "Array roles"). Not wrapped.
#ifndef EmbeddingArrays_h
#define EmbeddingArrays_h

#ifndef __VTK_WRAP__
#include "ImageEmbedding.h" // engine::EmbeddingModel, engine::EmbeddingTargets

#include "vtkFloatArray.h"   // for vtkSmartPointer<vtkFloatArray>
#include "vtkSmartPointer.h" // for vtkSmartPointer

#include <string>

class vtkAlgorithm;
class vtkPolyData;

namespace dualembed
{
/// The tag of the arrays, in `outputTag`: `tag`, or when it is empty the free
/// one (foundation, ft, then the model's name). False, after an error of
/// `filter`, when `tag` names an embedding the input has (a second embedding
/// never silently replaces the first) or no free tag can be found.
bool chooseOutputTag(vtkAlgorithm* filter, vtkPolyData* input, const std::string& tag,
  const std::string& modelPath, std::string& outputTag);

/// The arrays the model fills for `samples` samples: embedding_<tag> and,
/// for a model with a classifier head, logits_<tag> and probs_<tag>.
class EmbeddingArrays
{
public:
  EmbeddingArrays(const engine::EmbeddingModel& model, const std::string& tag, vtkIdType samples);

  /// Where engine::embedImages() writes its rows.
  engine::EmbeddingTargets targets() const;

  /// Adds the filled arrays to `output`, with the predicted labels and the
  /// provenance (so that saved results say which model made the embedding).
  void addTo(
    vtkPolyData* output, const engine::EmbeddingModel& model, const std::string& modelPath) const;

private:
  std::string Tag;
  vtkSmartPointer<vtkFloatArray> Embedding;
  vtkSmartPointer<vtkFloatArray> Logits; // null without a classifier head
  vtkSmartPointer<vtkFloatArray> Probs;  // null without a classifier head
};
}
#endif
#endif
