// What every DualEmbed filter does around its engine call: read the arrays the
// user selected as float rows, name the results (Documentation/SPEC.md §1), report progress,
// and turn engine exceptions into ParaView errors. Not wrapped.
#ifndef FilterSupport_h
#define FilterSupport_h

#ifndef __VTK_WRAP__
#include "EmptyOnFailure.h"   // emptyOnFailure, isEmptyInput (shared with the readers)
#include "EngineTypes.h"      // engine::FeatureMatrix, engine::ProgressCallback
#include "NearestNeighbors.h" // engine::NeighborSearch
#include "SampleExchange.h"
#include "vtkSampleArrays.h" // ArrayRole

#include "vtkDataArray.h"
#include "vtkNew.h"
#include "vtkPointData.h"
#include "vtkPolyData.h"
#include "vtkSmartPointer.h"

#include <algorithm>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

class vtkAbstractArray;
class vtkAlgorithm;

namespace dualembed
{
/// A selected numeric point-data array as N×D float32 rows: the input's own
/// float32 array read in place (`shared`: no copy of a 3 GB embedding), else
/// a float32 copy (`values`: other types, rows gathered from MPI ranks).
struct SelectedArray
{
  std::string name;
  int dimension = 0;
  std::vector<float> values;
  vtkSmartPointer<vtkDataArray> shared;

  const float* data() const
  {
    return this->shared ? static_cast<const float*>(this->shared->GetVoidPointer(0))
                        : this->values.data();
  }
  size_t size() const
  {
    return this->shared ? static_cast<size_t>(this->shared->GetNumberOfValues())
                        : this->values.size();
  }
  engine::FeatureMatrix matrix() const
  {
    return { this->data(),
      this->dimension > 0 ? static_cast<int64_t>(this->size()) / this->dimension : 0,
      this->dimension };
  }
  /// Copies the rows when read in place: for rows kept across time steps,
  /// whose input arrays the pipeline may refill.
  void own()
  {
    if (this->shared)
    {
      this->values.assign(this->data(), this->data() + this->size());
      this->shared = nullptr;
    }
  }
  /// The values as a vector of its own.
  std::vector<float> takeValues()
  {
    this->own();
    return std::move(this->values);
  }
};

/// How an input-array property (SetInputArrayToProcess) picks its array when
/// it names none: the rule of the Properties panel's default
/// (vtkSMSampleArrayListDomain, the same attributes as in the XML).
struct ArrayChoice
{
  const char* property; ///< the property, for messages ("Embedding")
  ArrayRole role;
  int occurrence = 0;         ///< 1: the second array for `role` (Embedding Change's B)
  const char* preferred = ""; ///< taken first when the input has it
  bool optional = false;      ///< "None", or nothing to pick: no array, no error
  /// `preferred` also when the input has no array for `role` (one that only
  /// some time steps carry); false: only when the input has it.
  bool preferredWhenAbsent = true;
};

/// Collective. The point-data array of SetInputArrayToProcess(`index`): the one
/// named, or, when the name is empty (a pvpython chain built before any update,
/// when the panel's rule had no arrays to look at), the one `choice` picks now.
/// A required array that is named but missing, or that nothing fits, is
/// reported with the property's name and the input's arrays; then false on
/// every rank. `array` is null for an optional input left out.
bool chooseInputArray(vtkAlgorithm* algorithm, int index, vtkPolyData* input,
  const ArrayChoice& choice, const SampleExchange& exchange, vtkAbstractArray*& array);

/// Reads the array the user selected (GetInputAbstractArrayToProcess) as float
/// rows. On failure reports an error on `algorithm` and returns false.
bool readSelectedArray(vtkAlgorithm* algorithm, vtkAbstractArray* selected, SelectedArray& array);

enum class GatherTo
{
  AllRanks,
  Root,
  None // each rank keeps its own rows (a distributed computation)
};

/// Same, then gathers the rows of all ranks (in global order) onto every rank
/// or onto the root only (the other ranks keep the name and dimension, no
/// rows), or only agrees on the dimension (None). Collective; false on every
/// rank when some rank failed.
bool gatherSelectedArray(vtkAlgorithm* algorithm, vtkAbstractArray* selected,
  const SampleExchange& exchange, GatherTo where, SelectedArray& array);

/// The labels (a one-component array) as class indices; values that are not
/// integers (NaN, fractions) become -1, which the engine refuses. False, after
/// reporting an error on `algorithm`, when the array has other than one component.
bool classIndices(
  vtkAlgorithm* algorithm, const SelectedArray& labels, std::vector<int32_t>& indices);

/// The <X> of output names: `embedding_ft` → `ft`, `probs_ft` → `ft`, `image` → `image`.
std::string resultSuffix(const std::string& inputArrayName);

/// Collective. True when the input is empty on every rank (a failed stage
/// upstream, see isEmptyInput): the output is then emptied, and the filter
/// returns 1 without an error of its own, so that only the cause is reported.
bool passEmptyInput(vtkPolyData* input, vtkPolyData* output, const SampleExchange& exchange);

/// Progress for the engine: forwards to UpdateProgress, returns false once the
/// user aborted.
engine::ProgressCallback progressReporter(vtkAlgorithm* algorithm);

/// The neighbour searches of the filter `label` ("Embedding Outlier Score"):
/// `method` (a Method property's value; auto by default), the graphs shared
/// by every filter of this process (NeighborGraphs.h: a pipeline searches
/// each embedding once) and the report of each approximate search (method,
/// time, measured recall) in the output window.
/// Under MPI (`exchange` parallel), where `method` resolves to IVF for all
/// samples, the search is distributed (DistributedNeighbors.h: `parts` set):
/// the filter then passes this rank's rows, not the gathered ones.
engine::NeighborSearch neighborSearch(const std::string& label,
  engine::KnnMethod method = engine::KnnMethod::Auto, const SampleExchange* exchange = nullptr);

/// Whether neighborSearch(…, method, &exchange) searches distributed: the
/// filter then reads this rank's rows only (GatherTo::None). Not collective.
bool searchesDistributed(engine::KnnMethod method, const SampleExchange& exchange);

/// Adds `values` (one per point) as a point-data array of type ArrayType.
template <typename ArrayType, typename Value>
void addPointArray(vtkPolyData* output, const std::string& name, const std::vector<Value>& values)
{
  vtkNew<ArrayType> array;
  array->SetName(name.c_str());
  array->SetNumberOfValues(static_cast<vtkIdType>(values.size()));
  std::copy(values.begin(), values.end(), array->GetPointer(0));
  output->GetPointData()->AddArray(array);
}

/// The arrays a filter last added, with what they were computed from: the
/// input array object and its modification time (a fresh global counter
/// value: no other array state shares it) and the filter's own modification
/// time. A time step of a fine-tuning run re-executes every filter below
/// Checkpoint Embedding; those that read the unchanged foundation embedding
/// get their arrays again instead of recomputing them.
class ReusableResult
{
public:
  /// Collective. True when every rank's arrays were computed from `input` as
  /// it is now; they are then added to `output` (as the same objects).
  bool reuse(vtkAlgorithm* filter, vtkAbstractArray* input, const SampleExchange& exchange,
    vtkPolyData* output) const;
  /// Keeps the arrays `names` of `output`, just computed from `input`.
  void keep(vtkAlgorithm* filter, vtkAbstractArray* input, vtkPolyData* output,
    const std::vector<std::string>& names);

private:
  const vtkAbstractArray* Input = nullptr;
  vtkMTimeType InputTime = 0;
  vtkMTimeType FilterTime = 0;
  vtkIdType Rows = -1;
  std::vector<vtkSmartPointer<vtkAbstractArray>> Arrays;
};

/// Runs `compute` (which adds arrays to `output`), catching engine errors:
/// a ModelError or other exception is reported as an error, an abort as a
/// warning; both return 0 (emptyOnFailure() then empties the output).
/// LibTorch gets threadsPerRank() threads.
int runEngine(vtkAlgorithm* algorithm, const std::function<void()>& compute);

/// The same for a distributed run: `compute` works on this rank alone (no
/// collective calls: it may fail or abort here only); then the ranks agree,
/// and only when every rank succeeded does `publish` run (collective calls
/// allowed, no exceptions). A failure or an abort anywhere ends every rank
/// the same way.
int runEngine(vtkAlgorithm* algorithm, const SampleExchange& exchange,
  const std::function<void()>& compute, const std::function<void()>& publish);

/// Collective; inside runEngine's `compute`. Work that only the root does (a
/// projection optimises all samples together): the other ranks sleep until the
/// root's `work` ends, however it ends, so that the root may use every core
/// of its machine (threadsOfHost()).
void runOnRootAlone(const SampleExchange& exchange, const std::function<void()>& work);
}
#endif
#endif
