#include "FilterSupport.h"

#include "DistributedNeighbors.h" // engine::PartExchange
#include "EngineError.h"
#include "EngineThreads.h"  // engine::setEngineThreads
#include "NeighborGraphs.h" // engine::NeighborGraphs::session

#include "vtkAlgorithm.h"
#include "vtkDataArray.h"
#include "vtkDataArrayRange.h"
#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkInformation.h"
#include "vtkOutputWindow.h"
#include "vtkPolyData.h"
#include "vtkSMPTools.h"

#include <cmath>

namespace dualembed
{
namespace
{
void reportError(vtkAlgorithm* algorithm, const std::string& message)
{
  vtkErrorWithObjectMacro(algorithm, << message);
}

/// Whether the field data holds an embedding's provenance (model_<tag>, written by Image
/// Embedding).
bool recordsEmbeddings(vtkPolyData* input)
{
  vtkFieldData* fields = input->GetFieldData();
  for (int i = 0; fields && i < fields->GetNumberOfArrays(); ++i)
  {
    const char* name = fields->GetArrayName(i);
    if (name && std::string(name).rfind("model_", 0) == 0)
    {
      return true;
    }
  }
  return false;
}
}

bool chooseInputArray(vtkAlgorithm* algorithm, int index, vtkPolyData* input,
  const ArrayChoice& choice, const SampleExchange& exchange, vtkAbstractArray*& array)
{
  array = nullptr;
  vtkInformation* selection = algorithm->GetInputArrayInformation(index);
  std::string name = selection && selection->Has(vtkDataObject::FIELD_NAME())
    ? selection->Get(vtkDataObject::FIELD_NAME())
    : "";
  const std::vector<ArrayFacts> arrays = arrayFacts(input);
  bool ok = true;
  if (name.empty())
  {
    name = defaultArrayForRole(
      arrays, choice.role, choice.occurrence, choice.preferred, choice.preferredWhenAbsent);
    if (name.empty() && !choice.optional)
    {
      reportError(algorithm,
        std::string(choice.property) + " names no array, and the input has no " +
          describeArrayRole(choice.role) +
          ". The input's point-data arrays: " + listArrays(arrays) + ". " +
          (choice.role == ArrayRole::Embedding && recordsEmbeddings(input)
              ? "These samples record embeddings (model_<tag> in their field data) without "
                "carrying them: "
                "the DualEmbed layout's views show copies with the per-sample arrays only ('shown "
                "(...)' "
                "in the Pipeline Browser). Apply the filter to the samples with the embeddings, "
                "e.g. 'map (ft)'."
              : "Choose one in " + std::string(choice.property) +
                ", or add the missing step upstream."));
      ok = false;
    }
  }
  if (ok && !name.empty() && !(choice.optional && name == "None"))
  {
    array = input->GetPointData()->GetAbstractArray(name.c_str());
    if (!array && !choice.optional)
    {
      reportError(algorithm,
        std::string(choice.property) + " names the array '" + name +
          "', which the input does not have. The input's point-data arrays: " + listArrays(arrays) +
          ". Choose one of them in " + choice.property + ".");
      ok = false;
    }
  }
  if (exchange.minimum(ok ? 1 : 0) == 0)
  {
    array = nullptr;
    return false;
  }
  return true;
}

bool readSelectedArray(vtkAlgorithm* algorithm, vtkAbstractArray* abstract, SelectedArray& array)
{
  vtkDataArray* data = vtkDataArray::SafeDownCast(abstract);
  if (!data)
  {
    reportError(algorithm,
      abstract ? "The array '" + std::string(abstract->GetName() ? abstract->GetName() : "") +
          "' is not numeric: choose a numeric point-data array such as an embedding."
               : "The selected input array was not found in the input's point data: choose one "
                 "that exists.");
    return false;
  }
  array.name = data->GetName() ? data->GetName() : "";
  array.dimension = data->GetNumberOfComponents();
  array.values.clear();
  array.shared = nullptr;
  if (vtkFloatArray::SafeDownCast(data))
  {
    array.shared = data; // contiguous float32 rows already: read in place
    return true;
  }
  const vtkIdType n = data->GetNumberOfTuples();
  const int d = array.dimension;
  array.values.resize(static_cast<size_t>(n) * d);
  vtkSMPTools::For(0, n, [&](vtkIdType begin, vtkIdType end) {
    const auto values = vtk::DataArrayValueRange(data, begin * d, end * d);
    std::copy(values.begin(), values.end(), array.values.begin() + begin * d);
  });
  return true;
}

bool classIndices(
  vtkAlgorithm* algorithm, const SelectedArray& labels, std::vector<int32_t>& indices)
{
  if (labels.dimension != 1)
  {
    reportError(algorithm,
      "The labels array '" + labels.name + "' has " + std::to_string(labels.dimension) +
        " components; choose a one-component class-index array such as 'label'.");
    return false;
  }
  indices.resize(labels.size());
  const float* values = labels.data();
  for (size_t i = 0; i < indices.size(); ++i)
  {
    const float value = values[i];
    indices[i] =
      std::isfinite(value) && value == std::floor(value) ? static_cast<int32_t>(value) : -1;
  }
  return true;
}

bool gatherSelectedArray(vtkAlgorithm* algorithm, vtkAbstractArray* selected,
  const SampleExchange& exchange, GatherTo where, SelectedArray& array)
{
  bool ok = readSelectedArray(algorithm, selected, array);
  const vtkIdType rows =
    array.dimension > 0 ? static_cast<vtkIdType>(array.size()) / array.dimension : 0;
  if (ok && rows != exchange.localRows())
  {
    reportError(algorithm,
      "The array '" + array.name + "' has " + std::to_string(rows) + " values but the input has " +
        std::to_string(exchange.localRows()) +
        " points: point-data arrays need one value per sample.");
    ok = false;
  }
  if (!exchange.isParallel())
  {
    return ok;
  }
  if (exchange.minimum(ok ? 1 : 0) == 0)
  {
    if (ok)
    {
      reportError(
        algorithm, "The array '" + array.name + "' could not be read on another MPI rank.");
    }
    return false;
  }
  // Ranks without samples may not know the number of components: take the largest.
  const std::vector<long long> dimensions =
    exchange.allGatherLists(std::vector<long long>{ array.dimension });
  const int dimension = static_cast<int>(*std::max_element(dimensions.begin(), dimensions.end()));
  const bool consistent = array.size() == 0 || array.dimension == dimension;
  if (exchange.minimum(consistent ? 1 : 0) == 0)
  {
    reportError(algorithm,
      "The array '" + array.name + "' has different numbers of components on different MPI ranks.");
    return false;
  }
  array.dimension = dimension;
  if (where != GatherTo::None)
  {
    array.own(); // the rows to send
    array.values = where == GatherTo::AllRanks ? exchange.allGatherRows(array.values, dimension)
                                               : exchange.gatherRowsToRoot(array.values, dimension);
  }
  return true;
}

std::string resultSuffix(const std::string& name)
{
  for (const std::string prefix : { "embedding_", "probs_" })
  {
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0)
    {
      return name.substr(prefix.size());
    }
  }
  return name;
}

bool passEmptyInput(vtkPolyData* input, vtkPolyData* output, const SampleExchange& exchange)
{
  if (exchange.minimum(isEmptyInput(input) ? 1 : 0) == 0)
  {
    return false;
  }
  output->Initialize();
  return true;
}

engine::ProgressCallback progressReporter(vtkAlgorithm* algorithm)
{
  return [algorithm](double fraction) {
    algorithm->UpdateProgress(fraction);
    return !algorithm->GetAbortExecute();
  };
}

namespace
{
/// The ranks as the engine's distributed search sees them.
class RankParts : public engine::PartExchange
{
public:
  explicit RankParts(const SampleExchange& exchange)
    : Exchange(exchange)
  {
  }
  int parts() const override { return this->Exchange.ranks(); }
  int part() const override { return this->Exchange.rank(); }
  int64_t firstRow(int p) const override { return this->Exchange.offsetOf(p); }
  int64_t rowCount(int p) const override { return this->Exchange.rowsOf(p); }
  void broadcast(std::vector<float>& values, int root) const override
  {
    this->Exchange.broadcast(values, root);
  }
  void broadcast(std::vector<int64_t>& values, int root) const override
  {
    this->Exchange.broadcast(values, root);
  }
  void broadcast(std::vector<double>& values, int root) const override
  {
    this->Exchange.broadcast(values, root);
  }
  std::vector<float> gather(const std::vector<float>& values, int root) const override
  {
    return this->Exchange.gatherTo(values, root);
  }
  std::vector<double> gather(const std::vector<double>& values, int root) const override
  {
    return this->Exchange.gatherTo(values, root);
  }
  std::vector<int64_t> gather(const std::vector<int64_t>& values, int root) const override
  {
    return this->Exchange.gatherTo(values, root);
  }
  int minimum(int value) const override { return this->Exchange.minimum(value); }
  int64_t sum(int64_t value) const override { return this->Exchange.sum(value); }

private:
  const SampleExchange& Exchange;
};
} // namespace

engine::NeighborSearch neighborSearch(
  const std::string& label, engine::KnnMethod method, const SampleExchange* exchange)
{
  engine::NeighborSearch search;
  if (exchange && searchesDistributed(method, *exchange))
  {
    search.parts = std::make_shared<RankParts>(*exchange);
  }
  search.method = method;
  search.graphs = engine::NeighborGraphs::session();
  search.report = [label](const std::string& sentence) {
    vtkOutputWindowDisplayText((label + ": " + sentence + "\n").c_str());
  };
  return search;
}

bool searchesDistributed(engine::KnnMethod method, const SampleExchange& exchange)
{
  return exchange.isParallel() &&
    engine::resolveKnnMethod(method, exchange.totalRows()) == engine::KnnMethod::Ivf;
}

namespace
{
enum Outcome
{
  Failed,
  Aborted,
  Done
};

Outcome attempt(vtkAlgorithm* algorithm, const std::function<void()>& compute)
{
  try
  {
    engine::setEngineThreads(threadsPerRank());
    compute();
    return Done;
  }
  catch (const engine::Aborted&)
  {
    return Aborted;
  }
  catch (const std::exception& e)
  {
    reportError(algorithm, e.what());
    return Failed;
  }
}

int finish(vtkAlgorithm* algorithm, int outcome)
{
  if (outcome == Done)
  {
    algorithm->UpdateProgress(1.0);
    return 1;
  }
  if (outcome == Aborted)
  {
    vtkWarningWithObjectMacro(
      algorithm, "Aborted: the output is empty; apply again to compute it.");
  }
  return 0; // emptyOnFailure() empties the output
}
}

int runEngine(vtkAlgorithm* algorithm, const std::function<void()>& compute)
{
  return finish(algorithm, attempt(algorithm, compute));
}

int runEngine(vtkAlgorithm* algorithm, const SampleExchange& exchange,
  const std::function<void()>& compute, const std::function<void()>& publish)
{
  const Outcome outcome = attempt(algorithm, compute);
  const int everywhere = exchange.minimum(outcome);
  if (everywhere == Failed && outcome != Failed)
  {
    reportError(algorithm, "Failed on another MPI rank (see its error): no arrays were added.");
  }
  if (everywhere == Done && publish)
  {
    publish();
  }
  return finish(algorithm, everywhere);
}

bool ReusableResult::reuse(vtkAlgorithm* filter, vtkAbstractArray* input,
  const SampleExchange& exchange, vtkPolyData* output) const
{
  const bool same = input && !this->Arrays.empty() && input == this->Input &&
    input->GetMTime() == this->InputTime && filter->GetMTime() == this->FilterTime &&
    input->GetNumberOfTuples() == this->Rows;
  if (!exchange.minimum(same ? 1 : 0))
  {
    return false;
  }
  for (const auto& array : this->Arrays)
  {
    output->GetPointData()->AddArray(array);
  }
  return true;
}

void ReusableResult::keep(vtkAlgorithm* filter, vtkAbstractArray* input, vtkPolyData* output,
  const std::vector<std::string>& names)
{
  this->Arrays.clear();
  for (const std::string& name : names)
  {
    vtkAbstractArray* array = output->GetPointData()->GetAbstractArray(name.c_str());
    if (!array)
    {
      this->Arrays.clear();
      return;
    }
    this->Arrays.emplace_back(array);
  }
  this->Input = input;
  this->InputTime = input->GetMTime();
  this->FilterTime = filter->GetMTime();
  this->Rows = input->GetNumberOfTuples();
}

void runOnRootAlone(const SampleExchange& exchange, const std::function<void()>& work)
{
  if (exchange.rank() != 0)
  {
    exchange.waitForRoot();
    return;
  }
  // The other ranks wait for rootWorkDone(), also when `work` throws.
  struct WorkDone
  {
    const SampleExchange& Exchange;
    ~WorkDone() { this->Exchange.rootWorkDone(); }
  } const done{ exchange };
  work();
}
}
