/**
 * @class   vtkImageDatasetReader
 * @brief   Reads an image-classification dataset as samples: one point per image.
 *
 * Formats: MNIST / Fashion-MNIST IDX (raw or .gz), CIFAR-10 / CIFAR-100 binary,
 * image folders (root/<class>/<image>) and HDF5 image arrays. The output is a
 * vtkPolyData with one point and one vertex per sample, placed on a grid, and
 * point-data arrays `label`, `label_str`, `sample_id`, `image` (H·W·C uint8,
 * row-major HWC, with field data `image_shape` = [H, W, C]); CIFAR-100 adds
 * `coarse_label` / `coarse_label_str`, image folders add `file_name`.
 *
 * Image folders whose images differ in size store a ThumbnailSize² RGB
 * thumbnail in `image` and keep `file_name` so that later filters decode the
 * originals. Files that cannot be decoded are skipped with a warning naming
 * them (their `sample_id` is then missing from the output).
 *
 * The reader honours ParaView's piece request: piece p of n reads only its
 * contiguous share of the samples; `sample_id` stays the global index.
 */
#ifndef vtkImageDatasetReader_h
#define vtkImageDatasetReader_h

#include "DualEmbedReadersModule.h" // for export macro
#include "vtkPolyDataAlgorithm.h"

#include <memory> // for std::unique_ptr
#include <string> // for std::string
#include <vector> // for std::vector

class DUALEMBEDREADERS_EXPORT vtkImageDatasetReader : public vtkPolyDataAlgorithm
{
public:
  static vtkImageDatasetReader* New();
  vtkTypeMacro(vtkImageDatasetReader, vtkPolyDataAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  ///@{
  /// The dataset: a file (IDX images file, CIFAR batch, HDF5) or an image
  /// folder (its root, or any image inside it).
  vtkSetStdStringFromCharMacro(FileName);
  vtkGetCharFromStdStringMacro(FileName);
  ///@}

  ///@{
  /// Read only the first N samples in file order; 0 reads all.
  vtkSetClampMacro(MaxSamples, vtkIdType, 0, VTK_ID_MAX);
  vtkGetMacro(MaxSamples, vtkIdType);
  ///@}

  ///@{
  /// Hugging Face datasets (Parquet, Arrow): the split to read ("" reads "train",
  /// or the only split), the image column and the label column ("" finds them by
  /// the dataset's Image and ClassLabel features).
  vtkSetStdStringFromCharMacro(Split);
  vtkGetCharFromStdStringMacro(Split);
  vtkSetStdStringFromCharMacro(ImageColumn);
  vtkGetCharFromStdStringMacro(ImageColumn);
  vtkSetStdStringFromCharMacro(LabelColumn);
  vtkGetCharFromStdStringMacro(LabelColumn);
  ///@}

  ///@{
  /// Side of the square RGB thumbnails stored for image folders of mixed sizes.
  vtkSetClampMacro(ThumbnailSize, int, 8, 1024);
  vtkGetMacro(ThumbnailSize, int);
  ///@}

  ///@{
  /// Class names that override the ones found with the dataset.
  void AddClassName(const char* name);
  void ClearClassNames();
  int GetNumberOfClassNames() const;
  const char* GetClassNameEntry(int index) const;
  ///@}

  /// True when the reader recognises the file or folder (used by ReaderFactory).
  static int CanReadFile(const char* fileName);

protected:
  vtkImageDatasetReader();
  ~vtkImageDatasetReader() override;

  int RequestInformation(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  int RequestData(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  ///@{
  /// The work of RequestInformation and RequestData; 0 after reporting a
  /// failure (the Request* methods then empty the output, see EmptyOnFailure.h).
  int ReadInformation(vtkInformation*, vtkInformationVector**, vtkInformationVector*);
  int ReadSamples(vtkInformation*, vtkInformationVector**, vtkInformationVector*);
  ///@}

private:
  /// Reads every image header of a dataset of encoded images (image folders,
  /// tables): one size, or thumbnails. False after reporting that none decodes.
  bool ScanImageGeometry();

  vtkImageDatasetReader(const vtkImageDatasetReader&) = delete;
  void operator=(const vtkImageDatasetReader&) = delete;

  struct Internals;
  std::unique_ptr<Internals> Internal;

  std::string FileName;
  vtkIdType MaxSamples = 0;
  int ThumbnailSize = 64;
  std::string Split;
  std::string ImageColumn;
  std::string LabelColumn;
  std::vector<std::string> ClassNames;
};

#endif
