// The pieces of the neighbour searches that the exact and the approximate
// methods share (NearestNeighbors.cxx, ApproximateNeighbors.cxx): candidates
// ordered (distance, index), the exact double-precision distance, writing a
// result row, the brute-force fallback row and progress. Internal to the engine.
#ifndef DualEmbed_Engine_NeighborKernels_h
#define DualEmbed_Engine_NeighborKernels_h

#include "NearestNeighbors.h"

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace dualembed
{
namespace engine
{
namespace detail
{

using Candidate = std::pair<double, int64_t>; // (key or distance, index)

/// The rows a search reads: a matrix's, or each minus a centre
/// (KnnOptions::center). A centred row is made when it is read, each value
/// as a centred copy would hold it (float(x - centre)), so that searching
/// centred rows needs no centred copy of the matrix. row(i, scratch) hides
/// FeatureMatrix::row(i): every read has to say where a centred row may go.
struct SearchMatrix : FeatureMatrix
{
  const double* center = nullptr; // cols values, or null: the rows as they are

  SearchMatrix(const FeatureMatrix& matrix, const double* centre = nullptr) // implicit on purpose
    : FeatureMatrix(matrix)
    , center(centre)
  {
  }

  /// Row i as searched: in the matrix, or centred into `scratch` (cols floats).
  const float* row(int64_t i, float* scratch) const
  {
    const float* x = FeatureMatrix::row(i);
    if (!this->center)
    {
      return x;
    }
    for (int64_t c = 0; c < this->cols; ++c)
    {
      scratch[c] = static_cast<float>(static_cast<double>(x[c]) - this->center[c]);
    }
    return scratch;
  }

  /// Room for `count` rows that row() may centre: row r at at(r) (no room
  /// when not centred, where row() writes nothing).
  struct Scratch
  {
    int64_t cols = 0;
    std::vector<float> values;
    float* at(int r) { return this->values.data() + r * this->cols; }
  };
  Scratch scratch(int count = 1) const
  {
    const int64_t width = this->center ? this->cols : 0;
    return { width, std::vector<float>(static_cast<std::size_t>(count * width)) };
  }
};

// Lexicographic order (value, index): ties broken by the smaller index.
inline bool candidateLess(const Candidate& a, const Candidate& b)
{
  return a.first < b.first || (a.first == b.first && a.second < b.second);
}

struct CandidateLessFn // inlined by the heap algorithms (a function pointer is not)
{
  bool operator()(const Candidate& a, const Candidate& b) const { return candidateLess(a, b); }
};

// Max-heap (CandidateLessFn) of n entries: replaces the top by c (which must
// be less than it) in one pass down.
inline void replaceTop(Candidate* heap, std::size_t n, const Candidate& c)
{
  std::size_t i = 0;
  for (;;)
  {
    const std::size_t left = 2 * i + 1;
    if (left >= n)
    {
      break;
    }
    std::size_t child = left;
    if (left + 1 < n && candidateLess(heap[left], heap[left + 1]))
    {
      child = left + 1;
    }
    if (!candidateLess(c, heap[child]))
    {
      break;
    }
    heap[i] = heap[child];
    i = child;
  }
  heap[i] = c;
}

inline bool identicalRows(const float* a, const float* b, int64_t cols)
{
  // Chunks of 16 without a branch inside (vectorised), early exit between them.
  int64_t c = 0;
  for (; c + 16 <= cols; c += 16)
  {
    int differ = 0;
    for (int t = 0; t < 16; ++t)
    {
      differ |= a[c + t] != b[c + t];
    }
    if (differ)
    {
      return false;
    }
  }
  for (; c < cols; ++c)
  {
    if (a[c] != b[c])
    {
      return false;
    }
  }
  return true;
}

// Sum over c of f(a[c], b[c]) in double, with four partial sums (the same
// order everywhere: computeKnn and vectorDistance agree to the last bit).
template <typename Term>
inline double sumTerms(const float* a, const float* b, int64_t cols, Term term)
{
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  int64_t c = 0;
  for (; c + 4 <= cols; c += 4)
  {
    s0 += term(a[c], b[c]);
    s1 += term(a[c + 1], b[c + 1]);
    s2 += term(a[c + 2], b[c + 2]);
    s3 += term(a[c + 3], b[c + 3]);
  }
  for (; c < cols; ++c)
  {
    s0 += term(a[c], b[c]);
  }
  return (s0 + s1) + (s2 + s3);
}

inline double squaredNorm(const float* a, int64_t cols)
{
  return sumTerms(a, a, cols, [](float x, float) {
    const double v = static_cast<double>(x);
    return v * v;
  });
}

inline double squaredEuclidean(const float* a, const float* b, int64_t cols)
{
  return sumTerms(a, b, cols, [](float x, float y) {
    const double v = static_cast<double>(x) - static_cast<double>(y);
    return v * v;
  });
}

// Exact distance given the precomputed norms (double) of both rows.
inline double exactDistance(
  const float* a, const float* b, int64_t cols, double normA, double normB, DistanceMetric metric)
{
  if (identicalRows(a, b, cols))
  {
    return 0.0;
  }
  if (metric == DistanceMetric::Euclidean)
  {
    return std::sqrt(squaredEuclidean(a, b, cols));
  }
  if (normA == 0.0 || normB == 0.0)
  {
    return 1.0;
  }
  const double dot = sumTerms(
    a, b, cols, [](float x, float y) { return static_cast<double>(x) * static_cast<double>(y); });
  const double distance = 1.0 - dot / (normA * normB);
  return std::min(2.0, std::max(0.0, distance));
}

/// The double-precision norm of every row (in parallel).
std::vector<double> rowNorms(const SearchMatrix& points);

/// Writes the k best of `candidates` (exact distances) into row `r` of the result.
void storeRow(KnnResult& result, int64_t r, std::vector<Candidate>& candidates);

/// Brute force in double for the query row `q` (result row `r`): exact by construction.
void bruteForceRow(const SearchMatrix& points, const std::vector<double>& norms,
  DistanceMetric metric, int64_t q, KnnResult& result, int64_t r);

/// Cosine neighbours of a zero vector: the other zero vectors (identical, at
/// distance 0) by index, then every other row at distance 1, by index.
void zeroCosineRow(const FeatureMatrix& points, const std::vector<int64_t>& zeroRows, int64_t q,
  KnnResult& result, int64_t r);

/// Throws a ModelError unless KnnOptions::center is empty or has one finite
/// value per column of `points`.
void requireCenter(const FeatureMatrix& points, const KnnOptions& options);

/// The progress callback with `fraction` clamped to [0, 1]; throws Aborted when it returns false.
void reportProgress(const ProgressCallback& progress, double fraction);

} // namespace detail
} // namespace engine
} // namespace dualembed

#endif
