#include "EmbeddingProjectionArrays.h"

#include "FilterSupport.h" // resultSuffix
#include "SampleExchange.h"

#include "vtkDoubleArray.h"
#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkNew.h"
#include "vtkOutputWindow.h"
#include "vtkPointData.h"
#include "vtkPoints.h"
#include "vtkPolyData.h"

#include <algorithm>

namespace dualembed
{
namespace
{
const char* const kPrefixes[] = { "umap_", "tsne_", "pca_" };

/// The map is the render view: points move to the projection (z = 0 in 2-D).
void moveTo(vtkPolyData* output, const float* coordinates, vtkIdType n, int dimensions)
{
  vtkNew<vtkPoints> points;
  points->SetDataTypeToFloat();
  points->SetNumberOfPoints(n);
  for (vtkIdType i = 0; i < n; ++i)
  {
    const float* c = coordinates + i * dimensions;
    points->SetPoint(i, c[0], c[1], dimensions == 3 ? c[2] : 0.0f);
  }
  output->SetPoints(points);
}

void addFieldValues(vtkPolyData* output, const char* name, const std::vector<double>& values)
{
  vtkNew<vtkDoubleArray> array;
  array->SetName(name);
  for (double value : values)
  {
    array->InsertNextValue(value);
  }
  output->GetFieldData()->AddArray(array);
}
}

std::string projectionArrayName(int method, const std::string& embeddingName)
{
  return kPrefixes[method] + resultSuffix(embeddingName);
}

void addProjectionCoordinates(vtkPolyData* output, const std::string& name,
  const std::vector<float>& mine, vtkIdType rows, int dimensions)
{
  vtkNew<vtkFloatArray> coordinates;
  coordinates->SetName(name.c_str());
  coordinates->SetNumberOfComponents(dimensions);
  coordinates->SetNumberOfTuples(rows);
  std::copy(mine.begin(), mine.end(), coordinates->GetPointer(0));
  output->GetPointData()->AddArray(coordinates);
  moveTo(output, mine.data(), rows, dimensions);
}

bool moveToStoredCoordinates(vtkPolyData* input, vtkPolyData* output, const std::string& name,
  int dimensions, bool allowed, const SampleExchange& exchange)
{
  vtkFloatArray* stored =
    vtkFloatArray::SafeDownCast(input->GetPointData()->GetArray(name.c_str()));
  const bool reuse = allowed && stored && stored->GetNumberOfComponents() == dimensions;
  if (exchange.minimum(reuse ? 1 : 0) != 1)
  {
    return false;
  }
  moveTo(output, stored->GetPointer(0), stored->GetNumberOfTuples(), dimensions);
  if (exchange.rank() == 0)
  {
    vtkOutputWindowDisplayText(("Embedding Projection: reusing the stored '" + name +
      "' coordinates (turn ReuseStoredCoordinates off to recompute).\n")
                                 .c_str());
  }
  return true;
}

void addAlignmentDisplacement(vtkPolyData* output, const std::vector<double>& displacement,
  const std::vector<double>& relativeDisplacement)
{
  addFieldValues(output, "alignment_displacement", displacement);
  addFieldValues(output, "alignment_relative_displacement", relativeDisplacement);
}
}
