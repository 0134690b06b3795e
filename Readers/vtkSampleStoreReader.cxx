#include "vtkSampleStoreReader.h"

#include "EmptyOnFailure.h"
#include "PieceRange.h"
#include "ValueRanges.h"

#include "SampleStore.h"

#include "vtkCellArray.h"
#include "vtkCharArray.h"
#include "vtkDoubleArray.h"
#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkIdTypeArray.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkIntArray.h"
#include "vtkLongArray.h"
#include "vtkLongLongArray.h"
#include "vtkObjectFactory.h"
#include "vtkPointData.h"
#include "vtkPoints.h"
#include "vtkPolyData.h"
#include "vtkSampleArrays.h"
#include "vtkShortArray.h"
#include "vtkSignedCharArray.h"
#include "vtkSmartPointer.h"
#include "vtkStreamingDemandDrivenPipeline.h"
#include "vtkStringArray.h"
#include "vtkTypeFloat32Array.h"
#include "vtkTypeFloat64Array.h"
#include "vtkTypeInt16Array.h"
#include "vtkTypeInt32Array.h"
#include "vtkTypeInt64Array.h"
#include "vtkTypeInt8Array.h"
#include "vtkTypeUInt16Array.h"
#include "vtkTypeUInt32Array.h"
#include "vtkTypeUInt64Array.h"
#include "vtkTypeUInt8Array.h"
#include "vtkUnsignedCharArray.h"
#include "vtkUnsignedIntArray.h"
#include "vtkUnsignedLongArray.h"
#include "vtkUnsignedLongLongArray.h"
#include "vtkUnsignedShortArray.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <vector>

namespace formats = dualembed::formats;

vtkStandardNewMacro(vtkSampleStoreReader);

namespace
{
using Factory = std::function<vtkDataArray*()>;

/// The array classes a results file may name in vtk_class (no instantiation by name in VTK 9).
const std::map<std::string, Factory>& arrayFactories()
{
  static const std::map<std::string, Factory> factories = {
    { "vtkCharArray", [] { return vtkCharArray::New(); } },
    { "vtkSignedCharArray", [] { return vtkSignedCharArray::New(); } },
    { "vtkUnsignedCharArray", [] { return vtkUnsignedCharArray::New(); } },
    { "vtkShortArray", [] { return vtkShortArray::New(); } },
    { "vtkUnsignedShortArray", [] { return vtkUnsignedShortArray::New(); } },
    { "vtkIntArray", [] { return vtkIntArray::New(); } },
    { "vtkUnsignedIntArray", [] { return vtkUnsignedIntArray::New(); } },
    { "vtkLongArray", [] { return vtkLongArray::New(); } },
    { "vtkUnsignedLongArray", [] { return vtkUnsignedLongArray::New(); } },
    { "vtkLongLongArray", [] { return vtkLongLongArray::New(); } },
    { "vtkUnsignedLongLongArray", [] { return vtkUnsignedLongLongArray::New(); } },
    { "vtkIdTypeArray", [] { return vtkIdTypeArray::New(); } },
    { "vtkFloatArray", [] { return vtkFloatArray::New(); } },
    { "vtkDoubleArray", [] { return vtkDoubleArray::New(); } },
    { "vtkTypeInt8Array", [] { return vtkTypeInt8Array::New(); } },
    { "vtkTypeUInt8Array", [] { return vtkTypeUInt8Array::New(); } },
    { "vtkTypeInt16Array", [] { return vtkTypeInt16Array::New(); } },
    { "vtkTypeUInt16Array", [] { return vtkTypeUInt16Array::New(); } },
    { "vtkTypeInt32Array", [] { return vtkTypeInt32Array::New(); } },
    { "vtkTypeUInt32Array", [] { return vtkTypeUInt32Array::New(); } },
    { "vtkTypeInt64Array", [] { return vtkTypeInt64Array::New(); } },
    { "vtkTypeUInt64Array", [] { return vtkTypeUInt64Array::New(); } },
    { "vtkTypeFloat32Array", [] { return vtkTypeFloat32Array::New(); } },
    { "vtkTypeFloat64Array", [] { return vtkTypeFloat64Array::New(); } },
  };
  return factories;
}

/// Does a VTK array hold values of the column's type (size, integer/float, sign)?
bool holds(vtkDataArray* array, formats::ColumnType type)
{
  using CT = formats::ColumnType;
  const int vtkType = array->GetDataType();
  const bool isFloat = vtkType == VTK_FLOAT || vtkType == VTK_DOUBLE;
  const bool columnFloat = type == CT::Float32 || type == CT::Float64;
  const bool columnSigned =
    type == CT::Int8 || type == CT::Int16 || type == CT::Int32 || type == CT::Int64;
  return static_cast<std::size_t>(array->GetDataTypeSize()) == formats::columnTypeSize(type) &&
    isFloat == columnFloat && (isFloat || (array->GetDataTypeMin() < 0) == columnSigned);
}

/// A new array for a numeric column: the recorded class when it fits, else the usual one.
vtkSmartPointer<vtkDataArray> newArray(const formats::ColumnInfo& column)
{
  const auto& factories = arrayFactories();
  const auto recorded = factories.find(column.attributes.vtkClass);
  if (recorded != factories.end())
  {
    auto array = vtkSmartPointer<vtkDataArray>::Take(recorded->second());
    if (holds(array, column.type))
    {
      return array;
    }
  }
  using CT = formats::ColumnType;
  vtkDataArray* array = nullptr;
  switch (column.type)
  {
    case CT::Int8:
      array = vtkSignedCharArray::New();
      break;
    case CT::Int16:
      array = vtkShortArray::New();
      break;
    case CT::Int32:
      array = vtkIntArray::New();
      break;
    case CT::Int64:
      array = vtkTypeInt64Array::New();
      break;
    case CT::UInt8:
      array = vtkUnsignedCharArray::New();
      break;
    case CT::UInt16:
      array = vtkUnsignedShortArray::New();
      break;
    case CT::UInt32:
      array = vtkUnsignedIntArray::New();
      break;
    case CT::UInt64:
      array = vtkTypeUInt64Array::New();
      break;
    case CT::Float64:
      array = vtkDoubleArray::New();
      break;
    case CT::Float32:
    default:
      array = vtkFloatArray::New();
      break;
  }
  return vtkSmartPointer<vtkDataArray>::Take(array);
}

/// Rows [first, first + count) of a column as a VTK array.
vtkSmartPointer<vtkAbstractArray> readArray(const formats::SampleStoreFile& file,
  const formats::ColumnInfo& column, bool fieldData, vtkIdType first, vtkIdType count)
{
  vtkSmartPointer<vtkAbstractArray> result;
  if (column.type == formats::ColumnType::String)
  {
    auto strings = vtkSmartPointer<vtkStringArray>::New();
    strings->SetNumberOfComponents(column.components);
    strings->SetNumberOfTuples(count);
    auto values = file.readStrings(column, fieldData, first, count);
    for (vtkIdType i = 0; i < static_cast<vtkIdType>(values.size()); ++i)
    {
      strings->SetValue(i, std::move(values[i]));
    }
    result = strings;
  }
  else
  {
    auto array = newArray(column);
    array->SetNumberOfComponents(column.components);
    array->SetNumberOfTuples(count);
    if (count > 0)
    {
      file.readNumeric(column, fieldData, first, count, array->GetVoidPointer(0));
    }
    result = array;
  }
  result->SetName(column.name.c_str());
  if (column.attributes.embedding)
  {
    vtkSampleArrays::MarkEmbedding(result);
  }
  dualembed::cacheValueRanges(vtkDataArray::SafeDownCast(result));
  return result;
}

}

vtkSampleStoreReader::vtkSampleStoreReader()
{
  this->SetNumberOfInputPorts(0);
  this->SelectionObserver->SetCallback(&vtkSampleStoreReader::SelectionModified);
  this->SelectionObserver->SetClientData(this);
  this->PointDataArraySelection->AddObserver(vtkCommand::ModifiedEvent, this->SelectionObserver);
}

vtkSampleStoreReader::~vtkSampleStoreReader()
{
  this->PointDataArraySelection->RemoveObserver(this->SelectionObserver);
}

void vtkSampleStoreReader::SelectionModified(vtkObject*, unsigned long, void* clientData, void*)
{
  static_cast<vtkSampleStoreReader*>(clientData)->Modified();
}

vtkDataArraySelection* vtkSampleStoreReader::GetPointDataArraySelection()
{
  return this->PointDataArraySelection;
}

int vtkSampleStoreReader::GetNumberOfPointArrays()
{
  return this->PointDataArraySelection->GetNumberOfArrays();
}

const char* vtkSampleStoreReader::GetPointArrayName(int index)
{
  return this->PointDataArraySelection->GetArrayName(index);
}

int vtkSampleStoreReader::GetPointArrayStatus(const char* name)
{
  return this->PointDataArraySelection->ArrayIsEnabled(name);
}

void vtkSampleStoreReader::SetPointArrayStatus(const char* name, int status)
{
  if (status)
  {
    this->PointDataArraySelection->EnableArray(name);
  }
  else
  {
    this->PointDataArraySelection->DisableArray(name);
  }
}

int vtkSampleStoreReader::CanReadFile(const char* fileName)
{
  return fileName && formats::isSampleStoreFile(fileName) ? 1 : 0;
}

bool vtkSampleStoreReader::ReadStoredArrays(const std::string& fileName,
  const std::vector<std::string>& names, vtkPointData* pointData, vtkFieldData* fieldData,
  vtkIdType& numberOfSamples, std::string& error)
{
  try
  {
    const formats::SampleStoreFile file(fileName);
    numberOfSamples = file.numberOfSamples();
    for (const std::string& name : names)
    {
      if (const formats::ColumnInfo* column = file.findPointData(name))
      {
        pointData->AddArray(readArray(file, *column, false, 0, numberOfSamples));
      }
    }
    for (const auto& column : file.fieldData())
    {
      fieldData->AddArray(readArray(file, column, true, 0, column.rows));
    }
    return true;
  }
  catch (const std::exception& e)
  {
    error = e.what();
    return false;
  }
}

int vtkSampleStoreReader::RequestInformation(
  vtkInformation* request, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  return dualembed::emptyOnFailure(this, vtkPolyData::GetData(outputVector, 0),
    [&] { return this->ReadInformation(request, inputVector, outputVector); });
}

int vtkSampleStoreReader::ReadInformation(
  vtkInformation*, vtkInformationVector**, vtkInformationVector* outputVector)
{
  outputVector->GetInformationObject(0)->Set(CAN_HANDLE_PIECE_REQUEST(), 1);
  this->InformationValid = false;
  if (this->FileName.empty())
  {
    vtkErrorMacro("No file chosen: set FileName to a DualEmbed results file (.h5).");
    return 0;
  }
  try
  {
    const formats::SampleStoreFile file(this->FileName);
    std::vector<const char*> names;
    for (const auto& column : file.pointData())
    {
      names.push_back(column.name.c_str());
    }
    // Keeps the status of arrays already listed, enables new ones, drops the others.
    // The selection's Modified must not re-execute the reader for the same choice.
    this->PointDataArraySelection->RemoveObserver(this->SelectionObserver);
    this->PointDataArraySelection->SetArraysWithDefault(
      names.data(), static_cast<int>(names.size()), 1);
    this->PointDataArraySelection->AddObserver(vtkCommand::ModifiedEvent, this->SelectionObserver);
    for (const auto& skipped : file.skipped())
    {
      vtkWarningMacro(
        "The results file '" << this->FileName << "': " << skipped << "; it is not read.");
    }
  }
  catch (const std::exception& e)
  {
    vtkErrorMacro(<< e.what());
    return 0;
  }
  this->InformationValid = true;
  return 1;
}

int vtkSampleStoreReader::RequestData(
  vtkInformation* request, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  return dualembed::emptyOnFailure(this, vtkPolyData::GetData(outputVector, 0),
    [&] { return this->ReadSamples(request, inputVector, outputVector); });
}

int vtkSampleStoreReader::ReadSamples(
  vtkInformation*, vtkInformationVector**, vtkInformationVector* outputVector)
{
  vtkInformation* outInfo = outputVector->GetInformationObject(0);
  vtkPolyData* output = vtkPolyData::GetData(outInfo);
  if (!this->InformationValid)
  {
    return 0; // ReadInformation already reported why
  }
  try
  {
    const formats::SampleStoreFile file(this->FileName);
    const vtkIdType total = file.numberOfSamples();
    const dualembed::PieceRange range = dualembed::requestedPieceRange(outInfo, total);
    const vtkIdType first = range.first;
    const vtkIdType count = range.count;

    vtkNew<vtkPoints> points;
    if (file.hasPoints())
    {
      points->SetDataType(file.pointsAreDouble() ? VTK_DOUBLE : VTK_FLOAT);
      points->SetNumberOfPoints(count);
      if (count > 0)
      {
        file.readPoints(first, count, points->GetData()->GetVoidPointer(0));
      }
    }
    else
    {
      points->SetDataTypeToFloat();
      points->SetNumberOfPoints(count);
      for (vtkIdType i = 0; i < count; ++i)
      {
        double point[3];
        dualembed::gridPosition(first + i, total, point);
        points->SetPoint(i, point);
      }
    }
    vtkNew<vtkCellArray> vertices;
    vertices->AllocateExact(count, count);
    for (vtkIdType i = 0; i < count; ++i)
    {
      vertices->InsertNextCell(1, &i);
    }
    this->UpdateProgress(0.1);

    vtkNew<vtkPolyData> samples;
    samples->SetPoints(points);
    samples->SetVerts(vertices);
    vtkPointData* pd = samples->GetPointData();
    const auto& columns = file.pointData();
    for (std::size_t c = 0; c < columns.size(); ++c)
    {
      if (!this->PointDataArraySelection->ArrayIsEnabled(columns[c].name.c_str()))
      {
        continue;
      }
      pd->AddArray(readArray(file, columns[c], false, first, count));
      this->UpdateProgress(0.1 + 0.85 * static_cast<double>(c + 1) / columns.size());
      if (this->GetAbortExecute())
      {
        vtkWarningMacro("Reading aborted: the output is empty.");
        return 0;
      }
    }
    for (const auto& [attribute, name] : file.pointDataAttributes())
    {
      static const char* names[] = { "active_scalars", "active_vectors", "active_normals",
        "active_tcoords", "active_tensors", "active_global_ids", "active_pedigree_ids" };
      for (int type = 0; type <= vtkDataSetAttributes::PEDIGREEIDS; ++type)
      {
        if (attribute == names[type] && pd->GetAbstractArray(name.c_str()))
        {
          pd->SetActiveAttribute(name.c_str(), type);
        }
      }
    }
    vtkFieldData* fd = samples->GetFieldData();
    for (const auto& column : file.fieldData())
    {
      fd->AddArray(readArray(file, column, true, 0, column.rows));
    }
    output->ShallowCopy(samples);
  }
  catch (const std::exception& e)
  {
    vtkErrorMacro(<< e.what());
    return 0;
  }
  this->UpdateProgress(1.0);
  return 1;
}

void vtkSampleStoreReader::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "FileName: " << this->FileName << "\n";
  os << indent << "PointDataArraySelection: " << this->PointDataArraySelection->GetNumberOfArrays()
     << " arrays\n";
}
