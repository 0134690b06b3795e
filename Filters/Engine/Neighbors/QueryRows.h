// The query rows of a kNN-based computation: [begin, end) of the feature
// matrix, whose every row remains a reference. An MPI rank passes its own
// share of the samples; the default is all rows.
#ifndef DualEmbed_Engine_QueryRows_h
#define DualEmbed_Engine_QueryRows_h

#include "EngineError.h"

#include <cstdint>
#include <string>

namespace dualembed
{
namespace engine
{
struct QueryRows
{
  int64_t begin = 0;
  int64_t end = -1; // < 0: up to the last row

  /// The end for a matrix of `rows` rows; throws ModelError for a range outside it.
  int64_t endFor(int64_t rows) const
  {
    const int64_t last = end < 0 ? rows : end;
    if (begin < 0 || begin > last || last > rows)
    {
      throw ModelError("Query rows [" + std::to_string(begin) + ", " + std::to_string(last) +
        ") lie outside the " + std::to_string(rows) + " samples.");
    }
    return last;
  }
};
} // namespace engine
} // namespace dualembed
#endif
