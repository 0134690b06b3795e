#include "SampleImageSource.h"

#include "EngineError.h"

#include "vtkFieldData.h"
#include "vtkIntArray.h"
#include "vtkPointData.h"
#include "vtkPolyData.h"
#include "vtkStringArray.h"
#include "vtkUnsignedCharArray.h"

namespace dualembed
{
bool SampleImages::initialize(vtkPolyData* input, std::string& error)
{
  vtkPointData* pd = input->GetPointData();
  this->Files = vtkStringArray::SafeDownCast(pd->GetAbstractArray("file_name"));
  if (this->Files)
  {
    return true;
  }
  this->Image = vtkUnsignedCharArray::SafeDownCast(pd->GetAbstractArray("image"));
  vtkIntArray* shape =
    vtkIntArray::SafeDownCast(input->GetFieldData()->GetAbstractArray("image_shape"));
  if (!this->Image)
  {
    error = pd->GetAbstractArray("image")
      ? "The input's 'image' array must be unsigned char (uint8) pixels."
      : "The input has no 'image' (or 'file_name') point-data array: connect an Image Dataset "
        "Reader.";
    return false;
  }
  if (!shape || shape->GetNumberOfValues() != 3)
  {
    error = "The input has an 'image' array but no field data 'image_shape' = [H, W, C].";
    return false;
  }
  this->Height = shape->GetValue(0);
  this->Width = shape->GetValue(1);
  this->Channels = shape->GetValue(2);
  if (this->Height <= 0 || this->Width <= 0 || this->Channels < 1 || this->Channels > 4 ||
    static_cast<vtkIdType>(this->Height) * this->Width * this->Channels !=
      this->Image->GetNumberOfComponents())
  {
    error = "The 'image' array has " + std::to_string(this->Image->GetNumberOfComponents()) +
      " components per sample, which does not match image_shape [" + std::to_string(this->Height) +
      ", " + std::to_string(this->Width) + ", " + std::to_string(this->Channels) +
      "] (1 to 4 channels).";
    return false;
  }
  return true;
}

bool SampleImages::get(
  vtkIdType i, engine::ImageView& view, DecodedImage& storage, std::string& error) const
{
  if (this->Files)
  {
    if (!decodeImageFile(this->Files->GetValue(i), storage, error))
    {
      return false;
    }
    view = { storage.pixels.data(), storage.height, storage.width, storage.channels };
    return true;
  }
  view = { this->Image->GetPointer(i * this->Image->GetNumberOfComponents()), this->Height,
    this->Width, this->Channels };
  return true;
}

SampleImageSource::SampleImageSource(SampleImages& images, vtkIdType count)
  : Images(images)
  , Count(count)
{
}

std::int64_t SampleImageSource::count() const
{
  return this->Count;
}

engine::ImageView SampleImageSource::image(std::int64_t index, std::size_t slot)
{
  if (slot >= this->Decoded.size())
  {
    this->Decoded.resize(slot + 1);
  }
  engine::ImageView view;
  std::string error;
  if (!this->Images.get(static_cast<vtkIdType>(index), view, this->Decoded[slot], error))
  {
    throw engine::ModelError(
      "Cannot read the image of sample " + std::to_string(index) + ": " + error + ".");
  }
  return view;
}
}
