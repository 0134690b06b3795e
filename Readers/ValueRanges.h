// The value ranges ParaView's data information asks every point-data array
// for, computed by the readers (and Image / Checkpoint Embedding) as they
// deliver the arrays. Not wrapped.
//
// Why: vtkPVArrayInformation asks each array for the range of every
// component, their finite ranges and the range of the tuples' L2 norms. VTK
// computes each in a generic pass over the array, on one thread where
// ParaView's SMP backend is sequential (Debian's): 22 s for the
// 784-component `image` array of 10^6 Fashion-MNIST samples, every time a
// reader's output is shown. One pass here fills VTK's own range cache
// (vtkDataArray's PER_COMPONENT, PER_FINITE_COMPONENT, L2_NORM_RANGE and
// L2_NORM_FINITE_RANGE keys), which VTK trusts until the array is modified
// (Modified() removes the keys) and which copies of the array leave behind.
#ifndef DualEmbed_ValueRanges_h
#define DualEmbed_ValueRanges_h

class vtkDataArray;

namespace dualembed
{
/// Fills `array`'s range cache with the ranges VTK would compute. Call it
/// last, once the values, the name and the components are set. Arrays with
/// no tuples, and floating-point arrays holding NaN or infinities, are left
/// to VTK (its all-values and finite ranges then differ).
void cacheValueRanges(vtkDataArray* array);
}

#endif
