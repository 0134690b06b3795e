// The Sample Gallery's picture (vtkSampleGallery's output 0): per shown
// sample, a framed pair (its image and its nearest neighbour's) and lines of
// text beside it, drawn with VTK's FreeType tools. Not wrapped.
#ifndef GalleryPicture_h
#define GalleryPicture_h

#ifndef __VTK_WRAP__
#include <string>
#include <vector>

class vtkImageData;
class vtkUnsignedCharArray;

namespace dualembed
{
/// What a row of the gallery says about its sample.
struct GalleryRow
{
  long long sampleId = -1;
  bool hasNeighbor = false; // the neighbour's image was gathered (else its tile stays black)
  long long neighborSampleId = -1;
  std::string label;
  std::string neighborLabel;
  float distance = 0.0f;          // to the nearest neighbour
  bool flagged = false;           // a likely near-duplicate: a red frame
  std::vector<std::string> lines; // the text beside the pair
};

/// The extent of a picture of `rows` rows of `tile`-pixel tiles.
void galleryExtent(int tile, int rows, int extent[6]);

/// Draws `rows` into `output` (RGB, the first row at the top): row r shows
/// tuple r of `images` and, when rows[r].hasNeighbor, tuple r of
/// `neighborImages` (HWC uint8 pictures of `shape` {h, w, c}), each scaled by
/// an integer to fit a `tile`-pixel square.
void drawGallery(vtkImageData* output, int tile, const int shape[3], vtkUnsignedCharArray* images,
  vtkUnsignedCharArray* neighborImages, const std::vector<GalleryRow>& rows);
}
#endif
#endif
