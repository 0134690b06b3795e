#include "GalleryGather.h"

#include "SampleExchange.h"

#include "vtkDataArray.h"
#include "vtkIdList.h"
#include "vtkNew.h"
#include "vtkPointData.h"
#include "vtkPoints.h"
#include "vtkPolyData.h"
#include "vtkTypeInt64Array.h"

namespace dualembed
{
namespace
{
/// The global rows `wanted` with the arrays `names`, gathered from the ranks
/// that own them onto every rank, plus the map global row -> row of the result.
vtkSmartPointer<vtkPolyData> gatherRows(vtkPolyData* samples, const std::vector<vtkIdType>& wanted,
  const std::vector<std::string>& names, const SampleExchange& exchange,
  std::map<vtkIdType, vtkIdType>& rowOf)
{
  vtkNew<vtkIdList> mine;
  for (vtkIdType row : wanted)
  {
    if (row >= exchange.offset() && row < exchange.offset() + exchange.localRows())
    {
      mine->InsertNextId(row - exchange.offset());
    }
  }
  vtkNew<vtkPolyData> piece;
  vtkNew<vtkPoints> points;
  points->SetNumberOfPoints(mine->GetNumberOfIds());
  for (vtkIdType i = 0; i < mine->GetNumberOfIds(); ++i)
  {
    points->SetPoint(i, 0.0, 0.0, 0.0);
  }
  piece->SetPoints(points);
  vtkPointData* from = samples->GetPointData();
  for (const std::string& name : names)
  {
    vtkAbstractArray* array = from->GetAbstractArray(name.c_str());
    if (array)
    {
      vtkSmartPointer<vtkAbstractArray> rows = vtk::TakeSmartPointer(array->NewInstance());
      rows->SetName(array->GetName());
      rows->SetNumberOfComponents(array->GetNumberOfComponents());
      rows->SetNumberOfTuples(mine->GetNumberOfIds());
      array->GetTuples(mine, rows);
      piece->GetPointData()->AddArray(rows);
    }
  }
  vtkNew<vtkTypeInt64Array> global;
  global->SetName(GalleryGlobalRowArray);
  for (vtkIdType i = 0; i < mine->GetNumberOfIds(); ++i)
  {
    global->InsertNextValue(exchange.offset() + mine->GetId(i));
  }
  piece->GetPointData()->AddArray(global);
  vtkSmartPointer<vtkPolyData> all = exchange.allGatherPolyData(piece);
  vtkDataArray* rows = all->GetPointData()->GetArray(GalleryGlobalRowArray);
  for (vtkIdType i = 0; rows && i < rows->GetNumberOfTuples(); ++i)
  {
    rowOf[static_cast<vtkIdType>(rows->GetComponent(i, 0))] = i;
  }
  return all;
}
}

vtkSmartPointer<vtkPolyData> gatherShownSamples(vtkPolyData* samples,
  const std::vector<vtkIdType>& rows, const std::string& neighborName,
  const std::vector<std::string>& names, const SampleExchange& exchange,
  std::map<vtkIdType, vtkIdType>& rowOf)
{
  std::vector<long long> neighborOfRow; // pairs (row, its nearest neighbour), from their owners
  vtkDataArray* localNeighbors = samples->GetPointData()->GetArray(neighborName.c_str());
  for (vtkIdType row : rows)
  {
    const vtkIdType local = row - exchange.offset();
    if (local >= 0 && local < exchange.localRows())
    {
      neighborOfRow.push_back(row);
      neighborOfRow.push_back(static_cast<long long>(localNeighbors->GetComponent(local, 0)));
    }
  }
  neighborOfRow = exchange.allGatherLists(neighborOfRow);
  std::vector<vtkIdType> wanted(rows);
  for (size_t i = 1; i < neighborOfRow.size(); i += 2)
  {
    wanted.push_back(neighborOfRow[i]);
  }
  return gatherRows(samples, wanted, names, exchange, rowOf);
}
}
