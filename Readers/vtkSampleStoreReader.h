/**
 * @class   vtkSampleStoreReader
 * @brief   Reads a DualEmbed results file (HDF5) back into samples.
 *
 * Restores what vtkSampleStoreWriter wrote: one point and one vertex per
 * sample, every point-data array with its name, VTK class, type and component
 * count, the field data (class_names, image_shape, model_<tag>, ...) and the
 * active attributes. Points come from `/points` (projections as coordinates
 * included); without `/points` the samples are placed on a grid.
 *
 * Files are told apart from HDF5 image datasets by the root attribute
 * `dualembed_format = "dualembed-samples"` (CanReadFile). Foreign, damaged or
 * truncated files stop the reader with an error naming the file.
 *
 * Point-data arrays can be left out (PointDataArraySelection, e.g. the
 * `image` array). The reader honours piece requests: piece p of n reads only
 * its contiguous share of the samples.
 */
#ifndef vtkSampleStoreReader_h
#define vtkSampleStoreReader_h

#include "DualEmbedReadersModule.h" // for export macro
#include "vtkCallbackCommand.h"     // for vtkNew member
#include "vtkDataArraySelection.h"  // for vtkNew member
#include "vtkNew.h"                 // for vtkNew
#include "vtkPolyDataAlgorithm.h"

#include <string> // for std::string
#include <vector> // for std::vector

class vtkFieldData;
class vtkPointData;

class DUALEMBEDREADERS_EXPORT vtkSampleStoreReader : public vtkPolyDataAlgorithm
{
public:
  static vtkSampleStoreReader* New();
  vtkTypeMacro(vtkSampleStoreReader, vtkPolyDataAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  ///@{
  /// The results file (.h5).
  vtkSetStdStringFromCharMacro(FileName);
  vtkGetCharFromStdStringMacro(FileName);
  ///@}

  ///@{
  /// Which point-data arrays to read (all by default). Filled by
  /// UpdateInformation(); arrays new to the list are enabled.
  vtkDataArraySelection* GetPointDataArraySelection();
  int GetNumberOfPointArrays();
  const char* GetPointArrayName(int index);
  int GetPointArrayStatus(const char* name);
  void SetPointArrayStatus(const char* name, int status);
  ///@}

  /// True when the file is HDF5 with the root attribute
  /// dualembed_format = "dualembed-samples" (used by ReaderFactory).
  static int CanReadFile(const char* fileName);

#ifndef __VTK_WRAP__
  /// For filters that reuse stored results, without a pipeline: reads the
  /// point-data arrays `names` (all samples; names the file lacks are left
  /// out) into `pointData`, and all field data into `fieldData`. Returns false
  /// with a sentence in `error` when the file cannot be read.
  static bool ReadStoredArrays(const std::string& fileName, const std::vector<std::string>& names,
    vtkPointData* pointData, vtkFieldData* fieldData, vtkIdType& numberOfSamples,
    std::string& error);
#endif

protected:
  vtkSampleStoreReader();
  ~vtkSampleStoreReader() override;

  int RequestInformation(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  int RequestData(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  ///@{
  /// The work of RequestInformation and RequestData; 0 after reporting a
  /// failure (the Request* methods then empty the output, see EmptyOnFailure.h).
  int ReadInformation(vtkInformation*, vtkInformationVector**, vtkInformationVector*);
  int ReadSamples(vtkInformation*, vtkInformationVector**, vtkInformationVector*);
  ///@}

private:
  vtkSampleStoreReader(const vtkSampleStoreReader&) = delete;
  void operator=(const vtkSampleStoreReader&) = delete;

  static void SelectionModified(vtkObject*, unsigned long, void* clientData, void*);

  std::string FileName;
  vtkNew<vtkDataArraySelection> PointDataArraySelection;
  vtkNew<vtkCallbackCommand> SelectionObserver;
  bool InformationValid = false; ///< the last ReadInformation succeeded
};

#endif
