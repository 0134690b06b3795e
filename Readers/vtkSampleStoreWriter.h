/**
 * @class   vtkSampleStoreWriter
 * @brief   Writes samples and every point-data array to a DualEmbed results file (HDF5).
 *
 * The input is a samples polydata (one point per sample). The file holds
 * `/point_data/<name>` (one dataset per array, N rows, native type, strings as
 * variable-length UTF-8), `/field_data/<name>` (class_names, image_shape,
 * model_<tag> provenance, ...), `/points` (N×3) and root attributes that mark
 * the file (`dualembed_format = "dualembed-samples"`) and record the format
 * and DualEmbed versions. Numeric arrays above 64 KiB are compressed (shuffle
 * + deflate). See README.md, "Results files (HDF5)", and SampleStore.h.
 *
 * The file is written under a temporary name and renamed when complete. In
 * parallel (NumberOfPieces = the number of MPI processes, Piece = this one's
 * rank, as ParaView's writer proxies set them) every process asks for its own
 * piece and the processes write their rows into the one file in turn, in rank
 * order: nothing is gathered, so no process holds more than its own samples.
 *
 * Arrays that have no HDF5 equivalent (vtkBitArray, vtkVariantArray) or no
 * name are skipped with a warning.
 */
#ifndef vtkSampleStoreWriter_h
#define vtkSampleStoreWriter_h

#include "DualEmbedReadersModule.h" // for export macro
#include "vtkWriter.h"

#include <string> // for std::string

class vtkPolyData;

class DUALEMBEDREADERS_EXPORT vtkSampleStoreWriter : public vtkWriter
{
public:
  static vtkSampleStoreWriter* New();
  vtkTypeMacro(vtkSampleStoreWriter, vtkWriter);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  ///@{
  /// The results file to write (.h5).
  vtkSetStdStringFromCharMacro(FileName);
  vtkGetCharFromStdStringMacro(FileName);
  ///@}

  ///@{
  /// Store the `image` array (the pixels). Default on; off makes the file
  /// much smaller when the images can be read again from the dataset.
  vtkSetMacro(WriteImages, bool);
  vtkGetMacro(WriteImages, bool);
  vtkBooleanMacro(WriteImages, bool);
  ///@}

  ///@{
  /// The piece this process writes and the number of pieces (the MPI processes that write
  /// together). Default 0 of 1: the whole input, alone.
  vtkSetClampMacro(Piece, int, 0, VTK_INT_MAX);
  vtkGetMacro(Piece, int);
  vtkSetClampMacro(NumberOfPieces, int, 1, VTK_INT_MAX);
  vtkGetMacro(NumberOfPieces, int);
  ///@}

  vtkPolyData* GetInput();

  vtkTypeBool ProcessRequest(
    vtkInformation* request, vtkInformationVector** inputs, vtkInformationVector* outputs) override;

protected:
  vtkSampleStoreWriter();
  ~vtkSampleStoreWriter() override;

  void WriteData() override;
  int FillInputPortInformation(int port, vtkInformation* info) override;

private:
  vtkSampleStoreWriter(const vtkSampleStoreWriter&) = delete;
  void operator=(const vtkSampleStoreWriter&) = delete;

  std::string FileName;
  bool WriteImages = true;
  int Piece = 0;
  int NumberOfPieces = 1;
};

#endif
