/**
 * @class   vtkSampleFilter
 * @brief   base of the DualEmbed filters that add point-data arrays to samples.
 *
 * The filter contract (Documentation/ARCHITECTURE.md): one point per sample
 * in, the same points (ids and order kept) with more point-data arrays out;
 * on failure an error says why and the output is empty, and a filter below
 * an empty input passes it on without an error of its own, so that only the
 * cause is reported. This class owns that plumbing and the MPI sample
 * exchange; a subclass implements Execute(), usually one engine call.
 */
#ifndef vtkSampleFilter_h
#define vtkSampleFilter_h

#include "DualEmbedFiltersModule.h" // for export macro
#include "vtkPolyDataAlgorithm.h"

#include <memory> // for std::unique_ptr
#ifndef __VTK_WRAP__
#include <functional> // for std::function
#include <string>     // for std::string
#include <vector>     // for std::vector
#endif

class vtkAbstractArray;
namespace dualembed
{
class SampleExchange;
class ReusableResult;
struct ArrayChoice;
struct SelectedArray;
}

class DUALEMBEDFILTERS_EXPORT vtkSampleFilter : public vtkPolyDataAlgorithm
{
public:
  vtkTypeMacro(vtkSampleFilter, vtkPolyDataAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  /// The values of a NeighborMethod property (engine::KnnMethod): auto is
  /// exact up to 200 000 samples, ivf above.
  enum NeighborMethods
  {
    NEIGHBORS_EXACT = 0,
    NEIGHBORS_FLANN = 1,
    NEIGHBORS_IVF = 2,
    NEIGHBORS_AUTO = 3
  };

protected:
  vtkSampleFilter();
  ~vtkSampleFilter() override;

  /// The contract: catches what escapes, empties the output on failure, and
  /// passes an input that is empty on every rank on (after InputWasEmpty()).
  int RequestData(vtkInformation*, vtkInformationVector**, vtkInformationVector*) final;

  /// The filter's work on this rank's samples (`exchange`: this rank's share
  /// of all samples, and the collective calls). `output` is empty. Returns 0
  /// after reporting a failure (collectively: the same on every rank).
  virtual int Execute(vtkInformation* request, vtkPolyData* input, vtkPolyData* output,
    const dualembed::SampleExchange& exchange) = 0;

  /// Called instead of Execute() when the input is empty (a failure upstream):
  /// a temporal filter abandons its loop over the time steps here.
  virtual void InputWasEmpty(vtkInformation* request);

#ifndef __VTK_WRAP__
  /// Execute() of a filter that computes arrays from one input array whose
  /// rows every rank needs (gathered in global order): chooses the array of
  /// SetInputArrayToProcess(0) by `choice`, passes the input's arrays on, and
  /// adds the arrays of the last run again while that array and the filter
  /// are unchanged (a time step that did not change them). Otherwise runs
  /// `compute` on this rank (it may throw, and makes no collective calls),
  /// then, once every rank succeeded, `publish` on every rank (collective
  /// calls allowed): it adds the arrays and returns their names.
  /// `gather` false: each rank keeps its own rows, and `compute` is a
  /// distributed engine computation (DistributedNeighbors.h: collective,
  /// failing on every rank together).
  int ExecuteOnGatheredArray(vtkPolyData* input, vtkPolyData* output,
    const dualembed::SampleExchange& exchange, const dualembed::ArrayChoice& choice,
    const std::function<void(const dualembed::SelectedArray&)>& compute,
    const std::function<std::vector<std::string>(const dualembed::SelectedArray&)>& publish,
    bool gather = true);
#endif

private:
  vtkSampleFilter(const vtkSampleFilter&) = delete;
  void operator=(const vtkSampleFilter&) = delete;

  std::unique_ptr<dualembed::ReusableResult> Last; // ExecuteOnGatheredArray's arrays, for reuse
};

#endif
