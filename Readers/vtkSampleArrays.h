/**
 * @class   vtkSampleArrays
 * @brief   What the point-data arrays of DualEmbed samples are: their roles.
 *
 * A name alone does not say what an array holds: Training Dynamics'
 * `embedding_drift_ft` is a scalar, and an embedding may come under any name.
 * The filter that makes an embedding (Image Embedding, Checkpoint Embedding,
 * the results-file reader for arrays recorded as embeddings) marks the array
 * with the information key EMBEDDING(). VTK copies array information keys
 * with the arrays, and ParaView copies their names into its data information.
 * Copies that travel between processes (ParaView's writers, Fetch) lose array
 * keys but keep the field data, where Image Embedding records each
 * embedding's model (`model_<tag>` for `embedding_<tag>`): that counts as the
 * mark too. The Properties panel's defaults (vtkSMSampleArrayListDomain),
 * the filters' own defaults (FilterSupport's chooseInputArray) and the comparison
 * layout (dualembed.layout) all read the same mark and apply the same rule,
 * `dualembed::arraysForRole` (README, "Which arrays a filter takes").
 */
#ifndef vtkSampleArrays_h
#define vtkSampleArrays_h

#include "DualEmbedReadersModule.h" // for export macro
#include "vtkObject.h"

class vtkAbstractArray;
class vtkInformationIntegerKey;

class DUALEMBEDREADERS_EXPORT vtkSampleArrays : public vtkObject
{
public:
  static vtkSampleArrays* New();
  vtkTypeMacro(vtkSampleArrays, vtkObject);

  /// Set (to 1) on arrays that hold one embedding vector per sample.
  static vtkInformationIntegerKey* EMBEDDING();
  static void MarkEmbedding(vtkAbstractArray* array);
  static bool IsMarkedEmbedding(vtkAbstractArray* array);

protected:
  vtkSampleArrays() = default;
  ~vtkSampleArrays() override = default;

private:
  vtkSampleArrays(const vtkSampleArrays&) = delete;
  void operator=(const vtkSampleArrays&) = delete;
};

#ifndef __VTK_WRAP__
#include <string> // for std::string
#include <vector> // for std::vector

class vtkDataSet;

namespace dualembed
{
/// What a filter's input-array property asks for.
enum class ArrayRole
{
  Embedding,     ///< marked embeddings (else, when none is marked: embedding_* of 2+ components)
  Probabilities, ///< probs_* of 2+ components
  Labels         ///< label* of one component
};

/// What the rule needs to know of an array (from the data or from ParaView's data information).
struct ArrayFacts
{
  std::string name;
  int components = 1;
  bool numeric = true;
  bool markedEmbedding = false;
};

/// The arrays that can play `role`, sorted by name (the order of ParaView's array lists).
/// Embeddings: the marked ones; only when the input has none marked (arrays made by other
/// tools), numeric embedding_* arrays of two or more components.
std::vector<std::string> arraysForRole(const std::vector<ArrayFacts>& arrays, ArrayRole role);

/// The default array of a property: `preferred` when the input has it, else the
/// `occurrence`-th (0-based) array for `role`, else `preferred` when
/// `preferredWhenAbsent` (an array that only some time steps carry: Training
/// Dynamics' probs_ft), else "" (none).
std::string defaultArrayForRole(const std::vector<ArrayFacts>& arrays, ArrayRole role,
  int occurrence, const std::string& preferred, bool preferredWhenAbsent = true);

/// "embedding", "probabilities", "labels" (the XML attribute `role`); false for anything else.
bool parseArrayRole(const std::string& text, ArrayRole& role);

/// A phrase for messages after "has no", e.g. "class labels (a one-component label array)".
std::string describeArrayRole(ArrayRole role);

/// The facts of every point-data array of `samples`, in their order.
std::vector<ArrayFacts> arrayFacts(vtkDataSet* samples);

/// True for embedding_<tag> when `fieldArrayNames` hold its provenance model_<tag>.
bool hasEmbeddingProvenance(
  const std::string& name, const std::vector<std::string>& fieldArrayNames);

/// The tag a new embedding gets when Image Embedding's Tag is left empty: foundation
/// for the samples' first embedding, ft for the second, then the model's folder or
/// file name (letters, digits and '_'), numbered when taken. `arrayNames`: the
/// samples' point arrays (a tag is taken when embedding_<tag> exists). "" when the
/// model's name is needed and `modelPath` is empty (not chosen yet).
std::string freeEmbeddingTag(
  const std::vector<std::string>& arrayNames, const std::string& modelPath);

/// "a (768 components, embedding), b, c (string)": the arrays, for error messages.
std::string listArrays(const std::vector<ArrayFacts>& arrays);
}
#endif
#endif
