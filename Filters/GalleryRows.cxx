#include "GalleryRows.h"

#include "SampleExchange.h"

#include "vtkDataArray.h"
#include "vtkExecutive.h"
#include "vtkFieldData.h"
#include "vtkIdTypeArray.h"
#include "vtkIntArray.h"
#include "vtkNew.h"
#include "vtkPVExtractSelection.h"
#include "vtkPointData.h"
#include "vtkPolyData.h"
#include "vtkSelection.h"
#include "vtkUnsignedCharArray.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace dualembed
{
namespace
{
/// Point ids of the selected samples, in id order. ParaView's extractor
/// handles every selection the GUI makes (a Find Data query is a QUERY node,
/// which VTK's own vtkExtractSelection refuses); false when it failed.
bool selectedIds(vtkPolyData* samples, vtkSelection* selection, std::vector<vtkIdType>& ids)
{
  vtkNew<vtkPVExtractSelection> extract;
  extract->SetInputData(0, samples);
  extract->SetInputData(1, selection);
  extract->PreserveTopologyOff();
  if (!extract->GetExecutive()->Update())
  {
    return false;
  }
  vtkDataSet* extracted = vtkDataSet::SafeDownCast(extract->GetOutputDataObject(0));
  if (!extracted || extracted->GetNumberOfPoints() == 0)
  {
    return true; // nothing selected (or only cells without points)
  }
  vtkIdTypeArray* original =
    vtkIdTypeArray::SafeDownCast(extracted->GetPointData()->GetArray("vtkOriginalPointIds"));
  if (!original)
  {
    return false;
  }
  for (vtkIdType i = 0; i < original->GetNumberOfTuples(); ++i)
  {
    ids.push_back(original->GetValue(i));
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return true;
}

/// A sample proposed for the gallery: its rank value, then its global row
/// (the order in which the lowest win).
using Candidate = std::pair<double, long long>;

/// Keeps the `count` lowest candidates, lowest first.
void keepLowest(std::vector<Candidate>& candidates, size_t count)
{
  const size_t kept = std::min(candidates.size(), count);
  std::partial_sort(candidates.begin(), candidates.begin() + kept, candidates.end());
  candidates.resize(kept);
}

/// This rank's candidates: the selected samples (`selection`), else all.
std::vector<Candidate> localCandidates(vtkPolyData* samples, vtkSelection* selection,
  const std::vector<vtkIdType>& selected, vtkDataArray* rank, vtkIdType offset)
{
  std::vector<Candidate> candidates;
  const auto propose = [&](vtkIdType local) {
    candidates.emplace_back(rank ? rank->GetComponent(local, 0) : 0.0, offset + local);
  };
  if (selection)
  {
    std::for_each(selected.begin(), selected.end(), propose);
  }
  else
  {
    for (vtkIdType i = 0; i < samples->GetNumberOfPoints(); ++i)
    {
      propose(i);
    }
  }
  return candidates;
}

/// Every rank's `candidates`, concatenated in rank order, on every rank. Collective.
std::vector<Candidate> allGatherCandidates(
  const std::vector<Candidate>& candidates, const SampleExchange& exchange)
{
  std::vector<double> values;
  std::vector<long long> ids;
  for (const Candidate& c : candidates)
  {
    values.push_back(c.first);
    ids.push_back(c.second);
  }
  values = exchange.allGatherLists(values);
  ids = exchange.allGatherLists(ids);
  std::vector<Candidate> all;
  for (size_t i = 0; i < ids.size(); ++i)
  {
    all.emplace_back(values[i], ids[i]);
  }
  return all;
}
}

std::string galleryInputProblem(vtkPolyData* samples, vtkSelection* selection,
  const std::string& neighborSuffix, const std::string& rankArray, std::vector<vtkIdType>& selected)
{
  vtkPointData* pd = samples->GetPointData();
  vtkUnsignedCharArray* images = vtkUnsignedCharArray::SafeDownCast(pd->GetAbstractArray("image"));
  vtkIntArray* shape =
    vtkIntArray::SafeDownCast(samples->GetFieldData()->GetAbstractArray("image_shape"));
  const std::string neighborName = "nn_id_" + neighborSuffix;
  if (!images || !shape || shape->GetNumberOfValues() != 3 ||
    shape->GetValue(0) * shape->GetValue(1) * shape->GetValue(2) != images->GetNumberOfComponents())
  {
    return "The samples need an 'image' array (uint8) and field data 'image_shape': connect the "
           "output of an Image Dataset Reader (and the filters after it).";
  }
  if (!pd->GetArray(neighborName.c_str()))
  {
    return "The samples have no '" + neighborName +
      "' array: apply Embedding Nearest Neighbor "
      "first, or set NeighborSuffix to the X of an existing nn_id_X array.";
  }
  if (!selection && !pd->GetArray(rankArray.c_str()))
  {
    return "Nothing is selected and the samples have no '" + rankArray +
      "' array to rank them: select samples or set RankArray.";
  }
  if (selection && !selectedIds(samples, selection, selected))
  {
    return "This selection could not be resolved to samples (see the message above); select "
           "points (ids, a rectangle, a query or thresholds of point-data arrays).";
  }
  return std::string();
}

std::vector<vtkIdType> chooseGalleryRows(vtkPolyData* samples, vtkSelection* selection,
  const std::vector<vtkIdType>& selected, vtkDataArray* rank, size_t count,
  const SampleExchange& exchange, vtkIdType& selectedCount)
{
  std::vector<Candidate> candidates =
    localCandidates(samples, selection, selected, rank, exchange.offset());
  // Each rank proposes its own lowest `count`; the lowest of the proposals win.
  const size_t proposed = candidates.size();
  keepLowest(candidates, count);
  candidates = allGatherCandidates(candidates, exchange);
  if (selection)
  {
    const std::vector<long long> counts =
      exchange.allGatherLists(std::vector<long long>{ static_cast<long long>(proposed) });
    selectedCount = static_cast<vtkIdType>(std::accumulate(counts.begin(), counts.end(), 0LL));
  }
  keepLowest(candidates, count);
  std::vector<vtkIdType> rows;
  for (const Candidate& c : candidates)
  {
    rows.push_back(c.second);
  }
  return rows;
}
}
