// Shared by the readers: the contiguous share of N samples that ParaView's
// piece request gives this process (piece p of n reads samples
// [N·p/n, N·(p+1)/n)), and where a sample sits before any projection exists.
#ifndef PieceRange_h
#define PieceRange_h

#ifndef __VTK_WRAP__
#include "vtkInformation.h"
#include "vtkStreamingDemandDrivenPipeline.h"

#include <algorithm>
#include <cmath>

namespace dualembed
{
struct PieceRange
{
  vtkIdType first = 0;
  vtkIdType count = 0;
};

inline PieceRange requestedPieceRange(vtkInformation* outInfo, vtkIdType total)
{
  int piece = outInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_PIECE_NUMBER());
  int pieces = outInfo->Get(vtkStreamingDemandDrivenPipeline::UPDATE_NUMBER_OF_PIECES());
  if (pieces < 1)
  {
    piece = 0;
    pieces = 1;
  }
  const vtkIdType first = total * piece / pieces;
  return { first, total * (piece + 1) / pieces - first };
}

/// Grid placement: samples appear in reading order, row by row.
inline void gridPosition(vtkIdType sampleId, vtkIdType total, double point[3])
{
  const vtkIdType columns = std::max<vtkIdType>(
    1, static_cast<vtkIdType>(std::ceil(std::sqrt(static_cast<double>(total)))));
  point[0] = static_cast<double>(sampleId % columns);
  point[1] = -static_cast<double>(sampleId / columns);
  point[2] = 0.0;
}
}
#endif
#endif
