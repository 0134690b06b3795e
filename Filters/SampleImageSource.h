// The pixels of Image Embedding's samples: the `image` array (uint8, field
// data `image_shape`), or, for image folders of mixed sizes, the original
// files of `file_name`, decoded as the engine's batches ask for them.
// Not wrapped.
#ifndef SampleImageSource_h
#define SampleImageSource_h

#ifndef __VTK_WRAP__
#include "ImageEmbedding.h"   // engine::ImageSource, engine::ImageView
#include "ImageFileDecoder.h" // DecodedImage

#include "vtkType.h" // vtkIdType

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

class vtkPolyData;
class vtkStringArray;
class vtkUnsignedCharArray;

namespace dualembed
{
/// The pixels of each sample: the `image` array, or the original files of `file_name`.
class SampleImages
{
public:
  /// Finds the pixels of `input`'s samples; false, with a sentence for the
  /// user in `error`, when it has none that can be used.
  bool initialize(vtkPolyData* input, std::string& error);

  /// Pixels of sample `i`; decoded files are kept in `storage`.
  bool get(vtkIdType i, engine::ImageView& view, DecodedImage& storage, std::string& error) const;

private:
  vtkStringArray* Files = nullptr;
  vtkUnsignedCharArray* Image = nullptr;
  int Height = 0;
  int Width = 0;
  int Channels = 0;
};

/// The samples' images for the engine's batch loop (engine::embedImages).
class SampleImageSource : public engine::ImageSource
{
public:
  SampleImageSource(SampleImages& images, vtkIdType count);
  std::int64_t count() const override;
  /// Throws engine::ModelError when the image of sample `index` cannot be read.
  engine::ImageView image(std::int64_t index, std::size_t slot) override;

private:
  SampleImages& Images;
  vtkIdType Count;
  std::vector<DecodedImage> Decoded; // one per slot of a batch
};
}
#endif
#endif
