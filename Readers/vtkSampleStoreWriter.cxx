#include "vtkSampleStoreWriter.h"

#include "SampleStore.h"

#include "vtkDataArray.h"
#include "vtkDataSetAttributes.h"
#include "vtkDoubleArray.h"
#include "vtkErrorCode.h"
#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkInformation.h"
#include "vtkInformationVector.h"
#include "vtkMultiProcessController.h"
#include "vtkMultiProcessStream.h"
#include "vtkObjectFactory.h"
#include "vtkPointData.h"
#include "vtkPoints.h"
#include "vtkPolyData.h"
#include "vtkSampleArrays.h"
#include "vtkSmartPointer.h"
#include "vtkStreamingDemandDrivenPipeline.h"
#include "vtkStringArray.h"

#include <numeric>
#include <unistd.h>
#include <vector>

namespace formats = dualembed::formats;

vtkStandardNewMacro(vtkSampleStoreWriter);

namespace
{
/// The column type of a VTK numeric type; false for VTK_BIT and unknown types.
bool columnType(int vtkType, formats::ColumnType& type)
{
  using CT = formats::ColumnType;
  switch (vtkType)
  {
    case VTK_FLOAT:
      type = CT::Float32;
      return true;
    case VTK_DOUBLE:
      type = CT::Float64;
      return true;
    case VTK_CHAR:
    case VTK_SIGNED_CHAR:
    case VTK_UNSIGNED_CHAR:
    case VTK_SHORT:
    case VTK_UNSIGNED_SHORT:
    case VTK_INT:
    case VTK_UNSIGNED_INT:
    case VTK_LONG:
    case VTK_UNSIGNED_LONG:
    case VTK_LONG_LONG:
    case VTK_UNSIGNED_LONG_LONG:
    case VTK_ID_TYPE:
    {
      const int size = vtkDataArray::GetDataTypeSize(vtkType);
      const bool isSigned = vtkType != VTK_UNSIGNED_CHAR && vtkType != VTK_UNSIGNED_SHORT &&
        vtkType != VTK_UNSIGNED_INT && vtkType != VTK_UNSIGNED_LONG &&
        vtkType != VTK_UNSIGNED_LONG_LONG && !(vtkType == VTK_CHAR && VTK_CHAR_MIN == 0);
      switch (size)
      {
        case 1:
          type = isSigned ? CT::Int8 : CT::UInt8;
          return true;
        case 2:
          type = isSigned ? CT::Int16 : CT::UInt16;
          return true;
        case 4:
          type = isSigned ? CT::Int32 : CT::UInt32;
          return true;
        case 8:
          type = isSigned ? CT::Int64 : CT::UInt64;
          return true;
        default:
          return false;
      }
    }
    default:
      return false;
  }
}

/// Views of a set of arrays as columns; keeps contiguous copies alive where needed.
class ColumnBuilder
{
public:
  /// False (with `why`) for arrays that cannot be stored.
  bool Add(vtkAbstractArray* array, std::vector<formats::ColumnView>& columns, std::string& why)
  {
    formats::ColumnView column;
    column.name = array->GetName() ? array->GetName() : "";
    if (column.name.empty())
    {
      why = "it has no name";
      return false;
    }
    column.components = array->GetNumberOfComponents();
    column.rows = array->GetNumberOfTuples();
    column.attributes.vtkClass = array->GetClassName();
    column.attributes.vtkDataType = array->GetDataType();
    column.attributes.embedding = vtkSampleArrays::IsMarkedEmbedding(array);
    if (auto* strings = vtkStringArray::SafeDownCast(array))
    {
      column.type = formats::ColumnType::String;
      const vtkIdType n = strings->GetNumberOfValues();
      column.strings.resize(n);
      for (vtkIdType i = 0; i < n; ++i)
      {
        column.strings[i] = strings->GetValue(i).c_str();
      }
      columns.push_back(std::move(column));
      return true;
    }
    vtkDataArray* data = vtkDataArray::SafeDownCast(array);
    if (!data || !columnType(data->GetDataType(), column.type))
    {
      why = std::string("its type (") + array->GetClassName() + ") has no HDF5 equivalent";
      return false;
    }
    if (!data->HasStandardMemoryLayout())
    {
      // SOA or implicit arrays: an array-of-structures copy of the same type.
      vtkSmartPointer<vtkDataArray> copy =
        vtkSmartPointer<vtkDataArray>::Take(vtkDataArray::CreateDataArray(data->GetDataType()));
      copy->DeepCopy(data);
      this->Copies.push_back(copy);
      data = copy;
    }
    column.values = data->GetVoidPointer(0);
    columns.push_back(std::move(column));
    return true;
  }

private:
  std::vector<vtkSmartPointer<vtkDataArray>> Copies;
};

/// The processes write one after the other, in rank order, each its own rows; a failure is
/// passed on (the later ones skip their turn) and comes back from the last to every process,
/// so that all of them report the same outcome. Returns the error message, empty on success.
std::string writeInTurn(vtkMultiProcessController* controller, const std::string& path,
  const formats::SampleStoreContents& contents)
{
  const int rank = controller->GetLocalProcessId();
  const int ranks = controller->GetNumberOfProcesses();
  constexpr int Turn = 72311;
  std::vector<vtkIdType> counts(ranks);
  const vtkIdType mine = contents.numberOfSamples;
  controller->AllGather(&mine, counts.data(), 1);
  const vtkIdType first = std::accumulate(counts.begin(), counts.begin() + rank, vtkIdType(0));
  const vtkIdType total = std::accumulate(counts.begin(), counts.end(), vtkIdType(0));
  // The first process with samples creates the file (its arrays decide what the file holds;
  // the last process when none has any).
  int creator = 0;
  while (creator + 1 < ranks && counts[creator] == 0)
  {
    ++creator;
  }
  vtkMultiProcessStream name;
  if (rank == 0)
  {
    name << formats::partialSampleStorePath(path, ::getpid());
  }
  controller->Broadcast(name, 0);
  std::string partial;
  name >> partial;

  std::string error;
  if (rank > 0)
  {
    vtkMultiProcessStream token;
    controller->Receive(token, rank - 1, Turn);
    token >> error;
  }
  if (error.empty() && (rank == creator || mine > 0))
  {
    try
    {
      formats::writeSampleStorePart(path, partial, contents, { first, total, rank == creator });
    }
    catch (const std::exception& e)
    {
      error = "process " + std::to_string(rank) + " of " + std::to_string(ranks) + ": " + e.what();
    }
  }
  if (rank + 1 < ranks)
  {
    vtkMultiProcessStream token;
    token << error;
    controller->Send(token, rank + 1, Turn);
  }
  else
  {
    try
    {
      formats::finishSampleStore(path, partial, error.empty());
    }
    catch (const std::exception& e)
    {
      error = e.what();
    }
  }
  vtkMultiProcessStream outcome;
  if (rank + 1 == ranks)
  {
    outcome << error;
  }
  controller->Broadcast(outcome, ranks - 1);
  outcome >> error;
  return error;
}
}

vtkSampleStoreWriter::vtkSampleStoreWriter() = default;

vtkSampleStoreWriter::~vtkSampleStoreWriter() = default;

vtkPolyData* vtkSampleStoreWriter::GetInput()
{
  return vtkPolyData::SafeDownCast(this->Superclass::GetInput());
}

vtkTypeBool vtkSampleStoreWriter::ProcessRequest(
  vtkInformation* request, vtkInformationVector** inputs, vtkInformationVector* outputs)
{
  if (request->Has(vtkStreamingDemandDrivenPipeline::REQUEST_UPDATE_EXTENT()))
  {
    // This process's piece only: in parallel the rows stay where they are.
    vtkInformation* input = inputs[0]->GetInformationObject(0);
    input->Set(vtkStreamingDemandDrivenPipeline::UPDATE_PIECE_NUMBER(), this->Piece);
    input->Set(vtkStreamingDemandDrivenPipeline::UPDATE_NUMBER_OF_PIECES(), this->NumberOfPieces);
    return 1;
  }
  return this->Superclass::ProcessRequest(request, inputs, outputs);
}

int vtkSampleStoreWriter::FillInputPortInformation(int, vtkInformation* info)
{
  info->Set(vtkAlgorithm::INPUT_REQUIRED_DATA_TYPE(), "vtkPolyData");
  return 1;
}

void vtkSampleStoreWriter::WriteData()
{
  vtkPolyData* input = this->GetInput();
  if (!input)
  {
    vtkErrorMacro("No input: connect a samples polydata.");
    return;
  }
  if (this->FileName.empty())
  {
    vtkErrorMacro("No file name: set FileName to the results file to write (.h5).");
    return;
  }

  formats::SampleStoreContents contents;
  const vtkIdType n = input->GetNumberOfPoints();
  contents.numberOfSamples = n;

  // Points: float or double as they are; any other type as double.
  vtkSmartPointer<vtkDataArray> pointValues;
  if (input->GetPoints() && n > 0)
  {
    pointValues = input->GetPoints()->GetData();
    const int type = pointValues->GetDataType();
    if ((type != VTK_FLOAT && type != VTK_DOUBLE) || !pointValues->HasStandardMemoryLayout())
    {
      auto copy = vtkSmartPointer<vtkDoubleArray>::New();
      copy->DeepCopy(pointValues);
      pointValues = copy;
    }
    contents.points = pointValues->GetVoidPointer(0);
    contents.pointsAreDouble = pointValues->GetDataType() == VTK_DOUBLE;
  }

  ColumnBuilder builder;
  std::string why;
  vtkPointData* pd = input->GetPointData();
  for (int i = 0; i < pd->GetNumberOfArrays(); ++i)
  {
    vtkAbstractArray* array = pd->GetAbstractArray(i);
    if (!this->WriteImages && array->GetName() && std::string(array->GetName()) == "image")
    {
      continue;
    }
    if (!builder.Add(array, contents.pointData, why))
    {
      vtkWarningMacro("Not writing the point-data array '"
        << (array->GetName() ? array->GetName() : "") << "': " << why << ".");
    }
  }
  // Active attributes, in the order of SampleStore.h's names.
  const char* attributeNames[] = { "active_scalars", "active_vectors", "active_normals",
    "active_tcoords", "active_tensors", "active_global_ids", "active_pedigree_ids" };
  for (int attribute = 0; attribute <= vtkDataSetAttributes::PEDIGREEIDS; ++attribute)
  {
    vtkAbstractArray* array = pd->GetAbstractAttribute(attribute);
    if (array && array->GetName() &&
      (this->WriteImages || std::string(array->GetName()) != "image"))
    {
      contents.pointDataAttributes.emplace_back(attributeNames[attribute], array->GetName());
    }
  }
  vtkFieldData* fd = input->GetFieldData();
  for (int i = 0; i < fd->GetNumberOfArrays(); ++i)
  {
    vtkAbstractArray* array = fd->GetAbstractArray(i);
    if (!builder.Add(array, contents.fieldData, why))
    {
      vtkWarningMacro("Not writing the field-data array '"
        << (array->GetName() ? array->GetName() : "") << "': " << why << ".");
    }
  }

  vtkMultiProcessController* controller = vtkMultiProcessController::GetGlobalController();
  if (this->NumberOfPieces > 1 && controller &&
    controller->GetNumberOfProcesses() == this->NumberOfPieces)
  {
    const std::string error = writeInTurn(controller, this->FileName, contents);
    if (!error.empty())
    {
      if (controller->GetLocalProcessId() == 0)
      {
        vtkErrorMacro(<< error);
      }
      this->SetErrorCode(vtkErrorCode::CannotOpenFileError);
    }
    return;
  }
  try
  {
    formats::writeSampleStore(this->FileName, contents);
  }
  catch (const std::exception& e)
  {
    vtkErrorMacro(<< e.what());
    this->SetErrorCode(vtkErrorCode::CannotOpenFileError);
  }
}

void vtkSampleStoreWriter::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "FileName: " << this->FileName << "\n";
  os << indent << "WriteImages: " << this->WriteImages << "\n";
  os << indent << "Piece: " << this->Piece << " of " << this->NumberOfPieces << "\n";
}
