// NumPy 1.24's orderings and sums, bit for bit: cleanlab's results depend on
// how NumPy breaks ties (argsort, argpartition) and rounds (pairwise sums).
#ifndef DualEmbed_Engine_NumpyOrder_h
#define DualEmbed_Engine_NumpyOrder_h

#include <cmath>
#include <cstdint>
#include <vector>

namespace dualembed
{
namespace engine
{
/// NumPy 1.24's np.argsort (default quicksort: introsort, insertion sort below
/// 17 elements, heapsort past the depth limit); ties come out as NumPy's.
std::vector<int64_t> numpyArgsort(const std::vector<double>& values);

/// NumPy's pairwise summation of a contiguous float64 array (np.sum).
double numpySum(const double* values, int64_t count);

/// NumPy 1.24's np.argpartition (introselect, arg version) on `t` (indices
/// into v), for one kth: median-of-3 pivots, median of medians of 5 past the
/// depth limit, a plain selection for kth < 3, the maximum for kth = num - 1.
void numpyIntroselect(const double* v, int64_t* t, int64_t num, int64_t kth);

/// Rounds half to even, as np.round / np.rint.
inline double npRound(double x)
{
  return std::nearbyint(x);
}
}
}
#endif
