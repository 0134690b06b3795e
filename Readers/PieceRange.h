// The contiguous share of N samples that ParaView's piece request gives this
// process: piece p of n reads samples [N·p/n, N·(p+1)/n). Shared by the readers.
#ifndef PieceRange_h
#define PieceRange_h

#ifndef __VTK_WRAP__
#include "vtkInformation.h"
#include "vtkStreamingDemandDrivenPipeline.h"

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
}
#endif
#endif
