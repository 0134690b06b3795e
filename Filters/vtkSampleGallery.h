/**
 * @class   vtkSampleGallery
 * @brief   A picture of chosen samples beside their nearest neighbours.
 *
 * Input 0: the samples (an `image` array with field data `image_shape`, and a
 * nearest-neighbour array `nn_id_<X>`). Input 1 (optional): a selection. The
 * gallery shows the Count selected samples (without a selection: of all
 * samples) with the lowest values of RankArray, in that order (e.g.
 * `outlier_score_foundation`: the strongest outliers first). Each row: the sample's image, then its
 * nearest neighbour's; the frame around the pair is red when `nn_flag_<X>` marks a near-duplicate,
 * grey otherwise; beside the pair, its sample id, class, predicted class, score and the neighbour's
 * id, class and distance are written. Output 0 is that picture, an RGB vtkImageData with one row
 * per shown sample (row 0 at the top; its rows' ids, labels and distances are also field data).
 * Output 1 is the same rows as a vtkTable: every one-component point-data array of the sample
 * (scores, labels, predictions, neighbours), `point_id`, the `image` and the neighbour's
 * `neighbor_image` — what the GUI's Sample Inspector shows.
 *
 * Any selection ParaView makes (ids, frustum, thresholds, locations, Find
 * Data queries) is resolved with ParaView's own extractor; one that selects
 * no points shows nothing.
 */
#ifndef vtkSampleGallery_h
#define vtkSampleGallery_h

#include "DualEmbedFiltersModule.h" // for export macro
#include "vtkImageAlgorithm.h"

#include <string> // for std::string

class vtkImageData;
class vtkPolyData;
class vtkSelection;
class vtkTable;

class DUALEMBEDFILTERS_EXPORT vtkSampleGallery : public vtkImageAlgorithm
{
public:
  static vtkSampleGallery* New();
  vtkTypeMacro(vtkSampleGallery, vtkImageAlgorithm);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  /// The selection (optional second input).
  void SetSelectionConnection(vtkAlgorithmOutput* selection)
  {
    this->SetInputConnection(1, selection);
  }

  ///@{
  /// Rows shown when nothing is selected (8); at most this many selected samples are shown.
  vtkSetClampMacro(Count, int, 1, 1000);
  vtkGetMacro(Count, int);
  ///@}

  ///@{
  /// Without a selection, the samples with the lowest values of this array are shown.
  vtkSetStdStringFromCharMacro(RankArray);
  vtkGetCharFromStdStringMacro(RankArray);
  ///@}

  ///@{
  /// The X of nn_id_X / nn_flag_X / nn_distance_X ("foundation").
  vtkSetStdStringFromCharMacro(NeighborSuffix);
  vtkGetCharFromStdStringMacro(NeighborSuffix);
  ///@}

  ///@{
  /// Side in pixels of each image's tile (96): images are scaled to fit it
  /// (nearest neighbour, aspect kept), so that 28-pixel images are readable.
  vtkSetClampMacro(TileSize, int, 8, 1024);
  vtkGetMacro(TileSize, int);
  ///@}

protected:
  vtkSampleGallery();
  ~vtkSampleGallery() override = default;

  int FillInputPortInformation(int port, vtkInformation* info) override;
  int FillOutputPortInformation(int port, vtkInformation* info) override;
  int RequestInformation(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  int RequestData(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;

private:
  /// The work of RequestData; 0 after reporting an error.
  int Draw(vtkPolyData* samples, vtkSelection* selection, vtkImageData* output, vtkTable* table);

  vtkSampleGallery(const vtkSampleGallery&) = delete;
  void operator=(const vtkSampleGallery&) = delete;

  int Count = 8;
  std::string RankArray = "outlier_score_foundation";
  std::string NeighborSuffix = "foundation";
  int TileSize = 96;
};

#endif
