#include "GalleryPicture.h"

#include "vtkFreeTypeTools.h"
#include "vtkImageData.h"
#include "vtkNew.h"
#include "vtkPointData.h"
#include "vtkTextProperty.h"
#include "vtkUnsignedCharArray.h"

#include <algorithm>

namespace dualembed
{
namespace
{
constexpr int Margin = 6; // black space between tiles and rows
constexpr int Frame = 2;  // coloured frame around each pair
const unsigned char FlaggedColour[3] = { 230, 40, 40 };
const unsigned char PlainColour[3] = { 110, 110, 110 };
constexpr int TextWidth = 230; // the column of labels beside each pair
constexpr int FontSize = 13;

struct GalleryGeometry
{
  int tile;
  int rows;
  int width() const { return 2 * tile + 4 * Margin + 2 * Frame + TextWidth; }
  int rowHeight() const { return std::max(tile, 4 * (FontSize + 5)) + Margin + 2 * Frame; }
  int height() const { return std::max(1, rows) * rowHeight() + Margin; }
};

/// An RGB picture whose row 0 is its bottom (VTK's image order).
struct Canvas
{
  unsigned char* pixels;
  int width;
  int height;

  unsigned char* at(int x, int y) const
  {
    return pixels + (static_cast<size_t>(y) * width + x) * 3;
  }

  /// Tuple `id` of `source` (HWC, `shape`), scaled by `scale`, centred in
  /// the `tile`-pixel square whose lower-left corner is (x0, y0).
  void image(vtkUnsignedCharArray* source, vtkIdType id, const int shape[3], int scale, int tile,
    int x0, int y0) const
  {
    const int h = shape[0], w = shape[1], c = shape[2];
    const unsigned char* image = source->GetPointer(id * source->GetNumberOfComponents());
    const int offsetX = (tile - w * scale) / 2, offsetY = (tile - h * scale) / 2;
    for (int ty = 0; ty < h * scale && ty < tile; ++ty)
    {
      const int sy = ty / scale; // image row from the top
      const int y = y0 + tile - 1 - (offsetY + ty);
      for (int tx = 0; tx < w * scale && tx < tile; ++tx)
      {
        const unsigned char* p = image + (static_cast<size_t>(sy) * w + tx / scale) * c;
        unsigned char* q = this->at(x0 + offsetX + tx, y);
        for (int k = 0; k < 3; ++k)
        {
          q[k] = p[c >= 3 ? k : 0];
        }
      }
    }
  }

  /// A `Frame`-pixel border of the rectangle [x0, x1] × [y0, y1].
  void frame(int x0, int y0, int x1, int y1, const unsigned char* colour) const
  {
    for (int y = y0; y <= y1; ++y)
    {
      for (int x = x0; x <= x1; ++x)
      {
        if (y - y0 < Frame || y1 - y < Frame || x - x0 < Frame || x1 - x < Frame)
        {
          std::copy_n(colour, 3, this->at(x, y));
        }
      }
    }
  }

  /// `text` (white) with its top-left corner at (x, yTop), clipped to maxWidth.
  void text(vtkFreeTypeTools* fonts, vtkTextProperty* property, const std::string& text, int x,
    int yTop, int maxWidth) const
  {
    vtkNew<vtkImageData> rendered;
    int size[2] = { 0, 0 };
    if (text.empty() || !fonts->RenderString(property, text, 72, rendered, size))
    {
      return;
    }
    int extent[6];
    rendered->GetExtent(extent);
    const int rw = extent[1] - extent[0] + 1;
    const unsigned char* rgba = static_cast<unsigned char*>(rendered->GetScalarPointer());
    const int components = rendered->GetNumberOfScalarComponents();
    for (int ty = 0; ty < size[1]; ++ty)
    {
      const int y = yTop - ty; // row ty of the text from its top
      if (y < 0 || y >= this->height)
      {
        continue;
      }
      const int sourceRow = size[1] - 1 - ty; // the rendered image's row 0 is its bottom
      for (int tx = 0; tx < std::min(size[0], maxWidth); ++tx)
      {
        const unsigned char* p = rgba + (static_cast<size_t>(sourceRow) * rw + tx) * components;
        const int alpha = components == 4 ? p[3] : 255;
        unsigned char* q = this->at(x + tx, y);
        for (int k = 0; k < 3; ++k)
        {
          q[k] = static_cast<unsigned char>(
            (p[std::min(k, components - 1)] * alpha + q[k] * (255 - alpha)) / 255);
        }
      }
    }
  }
};
}

void galleryExtent(int tile, int rows, int extent[6])
{
  const GalleryGeometry geometry{ tile, rows };
  const int e[6] = { 0, geometry.width() - 1, 0, geometry.height() - 1, 0, 0 };
  std::copy_n(e, 6, extent);
}

void drawGallery(vtkImageData* output, int tile, const int shape[3], vtkUnsignedCharArray* images,
  vtkUnsignedCharArray* neighborImages, const std::vector<GalleryRow>& rows)
{
  const GalleryGeometry geometry{ tile, static_cast<int>(rows.size()) };
  int extent[6];
  galleryExtent(tile, geometry.rows, extent);
  output->SetExtent(extent);
  output->AllocateScalars(VTK_UNSIGNED_CHAR, 3);
  vtkUnsignedCharArray* pixels =
    vtkUnsignedCharArray::SafeDownCast(output->GetPointData()->GetScalars());
  pixels->SetName("gallery");
  std::fill_n(pixels->GetPointer(0), pixels->GetNumberOfValues(), 0);
  const Canvas canvas{ pixels->GetPointer(0), geometry.width(), geometry.height() };

  vtkFreeTypeTools* fonts = vtkFreeTypeTools::GetInstance();
  vtkNew<vtkTextProperty> font;
  font->SetFontSize(FontSize);
  font->SetColor(1.0, 1.0, 1.0);
  font->SetFontFamilyToArial();
  const int scale =
    std::max(1, std::min(tile / std::max(1, shape[0]), tile / std::max(1, shape[1])));
  const int pairWidth = 2 * tile + Margin + 2 * Frame;
  for (size_t r = 0; r < rows.size(); ++r)
  {
    const GalleryRow& row = rows[r];
    const int yFrame =
      geometry.height() - static_cast<int>(r + 1) * geometry.rowHeight(); // row 0 at the top
    canvas.frame(Margin, yFrame, Margin + pairWidth - 1, yFrame + tile + 2 * Frame - 1,
      row.flagged ? FlaggedColour : PlainColour);
    canvas.image(
      images, static_cast<vtkIdType>(r), shape, scale, tile, Margin + Frame, yFrame + Frame);
    if (row.hasNeighbor)
    {
      canvas.image(neighborImages, static_cast<vtkIdType>(r), shape, scale, tile,
        2 * Margin + Frame + tile, yFrame + Frame);
    }
    int lineTop = yFrame + tile + 2 * Frame - 2;
    for (const std::string& line : row.lines)
    {
      canvas.text(fonts, font, line, 3 * Margin + pairWidth, lineTop, TextWidth - Margin);
      lineTop -= FontSize + 5;
    }
  }
}
}
