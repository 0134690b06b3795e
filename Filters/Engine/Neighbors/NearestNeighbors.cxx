#include "NearestNeighbors.h"

#include "ApproximateNeighbors.h"
#include "DistributedNeighbors.h"
#include "NeighborGraphs.h"
#include "NeighborKernels.h"

#include "EngineError.h"
#include "FloatGemm.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <limits>
#include <sstream>
#include <utility>

namespace dualembed
{
namespace engine
{

using namespace detail;

namespace
{
// Exact distances from row `query` to every row; normOf(j) is the norm of
// row j (read by the cosine metric only).
template <typename NormOf>
void fillDistancesFrom(const detail::SearchMatrix& points, int64_t query, DistanceMetric metric,
  NormOf normOf, std::vector<double>& out)
{
  out.resize(static_cast<std::size_t>(points.rows));
  detail::SearchMatrix::Scratch scratch = points.scratch(2);
  const float* x = points.row(query, scratch.at(0));
  const double queryNorm = normOf(query);
  for (int64_t j = 0; j < points.rows; ++j)
  {
    out[static_cast<std::size_t>(j)] =
      exactDistance(x, points.row(j, scratch.at(1)), points.cols, queryNorm, normOf(j), metric);
  }
}
} // namespace

namespace detail
{

std::vector<double> rowNorms(const SearchMatrix& points)
{
  std::vector<double> norms(static_cast<std::size_t>(points.rows));
  at::parallel_for(0, points.rows, 256, [&](int64_t begin, int64_t end) {
    SearchMatrix::Scratch scratch = points.scratch();
    for (int64_t i = begin; i < end; ++i)
    {
      norms[static_cast<std::size_t>(i)] =
        std::sqrt(squaredNorm(points.row(i, scratch.at(0)), points.cols));
    }
  });
  return norms;
}

// Writes the k best of `candidates` (exact distances) into row `r` of the result.
void storeRow(KnnResult& result, int64_t r, std::vector<Candidate>& candidates)
{
  const std::size_t k = static_cast<std::size_t>(result.k);
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(k),
    candidates.end(), CandidateLessFn());
  for (std::size_t j = 0; j < k; ++j)
  {
    result.indices[static_cast<std::size_t>(r) * k + j] = candidates[j].second;
    result.distances[static_cast<std::size_t>(r) * k + j] = static_cast<float>(candidates[j].first);
  }
}

// Brute force in double for one query: exact by construction.
void bruteForceRow(const SearchMatrix& points, const std::vector<double>& norms,
  DistanceMetric metric, int64_t q, KnnResult& result, int64_t r)
{
  std::vector<double> distances;
  fillDistancesFrom(
    points, q, metric, [&](int64_t j) { return norms[static_cast<std::size_t>(j)]; }, distances);
  const std::vector<int64_t> nearest = nearestRows(distances, q, result.k);
  const std::size_t k = static_cast<std::size_t>(result.k);
  for (std::size_t j = 0; j < k; ++j)
  {
    result.indices[static_cast<std::size_t>(r) * k + j] = nearest[j];
    result.distances[static_cast<std::size_t>(r) * k + j] =
      static_cast<float>(distances[static_cast<std::size_t>(nearest[j])]);
  }
}

void requireCenter(const FeatureMatrix& points, const KnnOptions& options)
{
  const std::vector<double>& center = options.center;
  if (!center.empty() && static_cast<int64_t>(center.size()) != points.cols)
  {
    throw ModelError("The centre of a centred neighbour search has " +
      std::to_string(center.size()) + " values for " + std::to_string(points.cols) + " columns.");
  }
  if (!std::all_of(center.begin(), center.end(), [](double v) { return std::isfinite(v); }))
  {
    throw ModelError("The centre of a centred neighbour search holds NaN or Inf values.");
  }
}

// Cosine neighbours of a zero vector: the other zero vectors (identical, at
// distance 0) by index, then every other row at distance 1, by index.
void zeroCosineRow(const FeatureMatrix& points, const std::vector<int64_t>& zeroRows, int64_t q,
  KnnResult& result, int64_t r)
{
  const std::size_t k = static_cast<std::size_t>(result.k);
  std::size_t filled = 0;
  const std::size_t base = static_cast<std::size_t>(r) * k;
  for (int64_t z : zeroRows)
  {
    if (filled == k)
    {
      break;
    }
    if (z != q)
    {
      result.indices[base + filled] = z;
      result.distances[base + filled] = 0.0f;
      ++filled;
    }
  }
  std::size_t nextZero = 0;
  for (int64_t j = 0; j < points.rows && filled < k; ++j)
  {
    while (nextZero < zeroRows.size() && zeroRows[nextZero] < j)
    {
      ++nextZero;
    }
    if (nextZero < zeroRows.size() && zeroRows[nextZero] == j)
    {
      continue;
    }
    result.indices[base + filled] = j;
    result.distances[base + filled] = 1.0f;
    ++filled;
  }
}

void reportProgress(const ProgressCallback& progress, double fraction)
{
  if (progress && !progress(std::min(1.0, std::max(0.0, fraction))))
  {
    throw Aborted("The neighbour search was aborted.");
  }
}

} // namespace detail

namespace
{

// Bounded top-k per owner row: a max-heap of (key, index) and a float32
// rejection bound. A candidate whose float32 filter value exceeds the bound
// is provably farther (in the double key) than the heap's current maximum,
// so it would be rejected by the heap anyway (see exactKnn).
struct HeapSet
{
  std::size_t size = 0;        // entries per heap
  std::vector<Candidate> data; // owners x size
  std::vector<uint32_t> fill;
  std::vector<float> bound;   // +inf until the heap is full; -inf = owner skipped
  std::vector<double> offset; // filter value = key - offset (approximately)
  std::vector<double> margin; // rounding margin of the filter value

  void insert(std::size_t owner, const Candidate& c)
  {
    Candidate* heap = data.data() + owner * size;
    uint32_t& n = fill[owner];
    if (n < size)
    {
      heap[n++] = c;
      std::push_heap(heap, heap + n, CandidateLessFn());
    }
    else if (candidateLess(c, heap[0]))
    {
      replaceTop(heap, n, c);
    }
    else
    {
      return;
    }
    if (n == size)
    {
      const float b = static_cast<float>(heap[0].first - offset[owner] + margin[owner]);
      bound[owner] = std::isfinite(b) ? b : std::numeric_limits<float>::infinity();
    }
  }
};

// Four float32 lanes (GCC / Clang vector extensions: SSE2 on any x86-64,
// NEON on ARM), for the filter scans.
typedef float Float4 __attribute__((vector_size(16)));
typedef int32_t Int4 __attribute__((vector_size(16)));

inline Float4 load4(const float* p)
{
  Float4 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline bool anyLane(Int4 m)
{
  return (m[0] | m[1] | m[2] | m[3]) != 0;
}

// Calls hit(j) for the j in [first, end) where pass(j) holds, in order.
// pass4(j) gives the lanes of pass(j .. j+3) (-1 where it holds), evaluated
// 16 at a time; pass is evaluated again one by one where any holds (hit may
// change what pass tests).
template <typename Pass4, typename Pass, typename Hit>
inline void scanFiltered(
  int64_t first, int64_t end, const Pass4& pass4, const Pass& pass, const Hit& hit)
{
  int64_t j = first;
  for (; j + 16 <= end; j += 16)
  {
    if (anyLane(pass4(j) | pass4(j + 4) | pass4(j + 8) | pass4(j + 12)))
    {
      for (int t = 0; t < 16; ++t)
      {
        if (pass(j + t))
        {
          hit(j + t);
        }
      }
    }
  }
  for (; j < end; ++j)
  {
    if (pass(j))
    {
      hit(j);
    }
  }
}

// Calls fn(i) for i in [0, count) on ATen's threads, handing out chunks of
// `chunk` indices on demand (at::parallel_for splits a range into one part
// per thread up front: unbalanced when the work per index varies along it,
// as in the triangle next to the diagonal, or when the machine is busy and
// one thread runs late).
template <typename Fn>
void forEachDynamic(int64_t count, int64_t chunk, const Fn& fn)
{
  const int64_t chunks = (count + chunk - 1) / chunk;
  const int64_t threads = std::min<int64_t>(chunks, std::max(1, at::get_num_threads()));
  std::atomic<int64_t> next(0);
  at::parallel_for(0, threads, 1, [&](int64_t, int64_t) {
    for (int64_t c = next++; c < chunks; c = next++)
    {
      const int64_t end = std::min(count, (c + 1) * chunk);
      for (int64_t i = c * chunk; i < end; ++i)
      {
        fn(i);
      }
    }
  });
}

void exactKnn(const FeatureMatrix& points, int64_t queryBegin, int64_t queryEnd,
  const KnnOptions& options, KnnResult& result)
{
  const int64_t n = points.rows;
  const int64_t d = points.cols;
  const int k = result.k;
  const DistanceMetric metric = options.metric;
  const bool cosine = metric == DistanceMetric::Cosine;
  const std::vector<double> norms = rowNorms(points);
  double maxNorm = 0.0;
  std::vector<int64_t> zeroRows;
  for (int64_t i = 0; i < n; ++i)
  {
    maxNorm = std::max(maxNorm, norms[static_cast<std::size_t>(i)]);
    if (norms[static_cast<std::size_t>(i)] == 0.0)
    {
      zeroRows.push_back(i);
    }
  }
  // Per-row float32 factors of the filter: 1 / |x| (cosine), |x|^2 (euclidean).
  std::vector<float> rowFactor(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i)
  {
    const double norm = norms[static_cast<std::size_t>(i)];
    rowFactor[static_cast<std::size_t>(i)] = cosine
      ? (norm > 0.0 ? static_cast<float>(1.0 / norm) : 0.0f)
      : static_cast<float>(norm * norm);
  }

  // Candidates kept per row: k plus a margin, and one more entry whose key
  // bounds every row left out (the cut-off).
  const int64_t others = n - 1;
  // (Each extra candidate costs heap work for every row; the proof rarely
  // needs more: no brute-force row on Fashion-MNIST, cosine K = 10 or
  // euclidean K = 28 on 50 PCA components.)
  const int64_t candidates = std::min<int64_t>(others, static_cast<int64_t>(k) + 8 + k / 4);
  const bool haveCutoff = others > candidates;
  const int64_t nq = queryEnd - queryBegin;

  // Rigorous bound of the float32 dot-product error, whatever the summation
  // order: |fl(a.b) - a.b| <= gamma_D * |a| |b| with gamma_D = D u / (1 - D u),
  // u = 2^-24; doubled for safety, plus the double-precision rounding of the key.
  const double u = std::ldexp(1.0, -24);
  const double du = static_cast<double>(d + 2) * u;
  const double gamma = 2.0 * du / std::max(1e-3, 1.0 - du);

  // Keys (double, from the float32 dot product s = fl(x_o . x_j) of owner o
  // and other row j): cosine 1 - s / (|x_o| |x_j|) (1 for a zero x_j),
  // euclidean |x_o|^2 + |x_j|^2 - 2 s. Filter values in float32:
  // cosine f = (s * -fl(1/|x_o|)) * fl(1/|x_j|) ~ key - 1, at most 4 roundings
  // of a value <= 1 + gamma: |f - (key - 1)| < 2.5e-7; euclidean
  // f = fl(|x_j|^2) - 2 s ~ key - |x_o|^2, |error| <= 2.01 u (|x_o| + max|x|)^2.
  // The bound (heap maximum - offset + margin, rounded to float) exceeds the
  // filter value of every key below the heap maximum: margins 1e-6 and
  // 8 u (|x_o| + max|x|)^2 cover both errors and the rounding of the bound.
  // So a candidate with f > bound has a key above the heap maximum, and the
  // cut-off argument below (every row left out has a key >= the cut-off)
  // holds as without the filter.
  HeapSet heaps;
  heaps.size = static_cast<std::size_t>(candidates + (haveCutoff ? 1 : 0));
  heaps.data.assign(static_cast<std::size_t>(nq) * heaps.size, Candidate(0.0, 0));
  heaps.fill.assign(static_cast<std::size_t>(nq), 0);
  heaps.bound.assign(static_cast<std::size_t>(nq), std::numeric_limits<float>::infinity());
  heaps.offset.assign(static_cast<std::size_t>(nq), 1.0);
  heaps.margin.assign(static_cast<std::size_t>(nq), 1e-6);
  for (int64_t r = 0; r < nq; ++r)
  {
    const double norm = norms[static_cast<std::size_t>(queryBegin + r)];
    if (cosine && norm == 0.0)
    {
      heaps.bound[static_cast<std::size_t>(r)] = -std::numeric_limits<float>::infinity();
    }
    else if (!cosine)
    {
      heaps.offset[static_cast<std::size_t>(r)] = norm * norm;
      heaps.margin[static_cast<std::size_t>(r)] = 8.0 * u * (norm + maxNorm) * (norm + maxNorm);
    }
  }

  // When the queries are all rows, the distance matrix is symmetric: only the
  // tiles right of the diagonal are computed, and each product feeds both the
  // row's heap (row pass) and the column's heap (column pass).
  const bool symmetric = queryBegin == 0 && queryEnd == n;
  // Tiles of rowTile x colTile float32 scores (64 MB for 4096 x 4096: large
  // products run the GEMM near its peak). Progress is reported twice per tile
  // (after its product and after its passes): at least 25 tiles, so that it
  // moves at least every 2 %.
  const int64_t colTile = std::min(n, options.blockRows > 0 ? options.blockRows : int64_t(4096));
  auto countTiles = [&](int64_t rowTile) {
    int64_t tiles = 0;
    for (int64_t rb = queryBegin; rb < queryEnd; rb += rowTile)
    {
      const int64_t first = symmetric ? rb : 0;
      tiles += (n - first + colTile - 1) / colTile;
    }
    return tiles;
  };
  int64_t rowTile = std::min(colTile, nq);
  if (countTiles(rowTile) < 25)
  {
    rowTile = std::max<int64_t>(1, (nq + 24) / 25);
  }
  const double totalSteps = static_cast<double>(countTiles(rowTile));
  std::vector<float> scores(static_cast<std::size_t>(std::min(rowTile, nq) * colTile));
  const float* factor = rowFactor.data();

  // Feeds candidate (other, s) of `owner` (a query row) to its heap.

  auto offer = [&](int64_t owner, int64_t other, float s) {
    if (other == owner)
    {
      return;
    }
    const double nqv = norms[static_cast<std::size_t>(owner)];
    const double nr = norms[static_cast<std::size_t>(other)];
    const double dot = static_cast<double>(s);
    const double key =
      cosine ? (nr == 0.0 ? 1.0 : 1.0 - dot / (nqv * nr)) : nqv * nqv + nr * nr - 2.0 * dot;
    heaps.insert(static_cast<std::size_t>(owner - queryBegin), Candidate(key, other));
  };

  int64_t bruteForce = 0;
  int64_t step = 0;
  reportProgress(options.progress, 0.0);

  for (int64_t qb = queryBegin; qb < queryEnd; qb += rowTile)
  {
    const int64_t qe = std::min(queryEnd, qb + rowTile);
    const int64_t bq = qe - qb;
    for (int64_t cb = symmetric ? qb : 0; cb < n; cb += colTile)
    {
      const int64_t ce = std::min(n, cb + colTile);
      const int64_t bc = ce - cb;
      // scores = rows [qb, qe) times rows [cb, ce) transposed.
      floatGemm(false, true, bq, bc, d, points.row(qb), d, points.row(cb), d, scores.data());
      reportProgress(options.progress, (static_cast<double>(step) + 0.5) / totalSteps);
      const float* s = scores.data();
      // Row pass: the tile's rows are the owners (symmetric: columns j > i
      // only, so the rows are dealt out in turn to balance the triangle).
      forEachDynamic(bq, 8, [&](int64_t i) {
        const int64_t q = qb + i;
        const float& bound = heaps.bound[static_cast<std::size_t>(q - queryBegin)];
        const float* srow = s + i * bc;
        const float* f = factor + cb;
        const int64_t first = symmetric ? std::max<int64_t>(0, q + 1 - cb) : 0;
        const auto hit = [&](int64_t jj) { offer(q, cb + jj, srow[jj]); };
        if (cosine)
        {
          const float c = -factor[q];
          scanFiltered(
            first, bc,
            [&](int64_t jj) { return Int4(load4(srow + jj) * c * load4(f + jj) <= bound); },
            [&](int64_t jj) { return srow[jj] * c * f[jj] <= bound; }, hit);
        }
        else
        {
          scanFiltered(
            first, bc,
            [&](int64_t jj) { return Int4(load4(f + jj) - 2.0f * load4(srow + jj) <= bound); },
            [&](int64_t jj) { return f[jj] - 2.0f * srow[jj] <= bound; }, hit);
        }
      });
      if (symmetric)
      {
        // Column pass: the tile's columns j are the owners, rows i < j the others.
        const int64_t chunk = 1024;
        const float* bounds = heaps.bound.data() + cb; // owners cb + jj (queryBegin = 0)
        forEachDynamic((bc + chunk - 1) / chunk, 1, [&](int64_t ch) {
          const int64_t c0 = ch * chunk, c1 = std::min(bc, c0 + chunk);
          for (int64_t i = 0; i < bq; ++i)
          {
            const int64_t q = qb + i;
            const float* srow = s + i * bc;
            const float* f = factor + cb;
            const int64_t first = std::max<int64_t>(c0, q + 1 - cb);
            const auto hit = [&](int64_t jj) { offer(cb + jj, q, srow[jj]); };
            if (cosine)
            {
              const float c = -factor[q];
              scanFiltered(
                first, c1,
                [&](int64_t jj) {
                  return Int4(load4(srow + jj) * c * load4(f + jj) <= load4(bounds + jj));
                },
                [&](int64_t jj) { return srow[jj] * c * f[jj] <= bounds[jj]; }, hit);
            }
            else
            {
              const float fq = factor[q];
              scanFiltered(
                first, c1,
                [&](
                  int64_t jj) { return Int4(fq - 2.0f * load4(srow + jj) <= load4(bounds + jj)); },
                [&](int64_t jj) { return fq - 2.0f * srow[jj] <= bounds[jj]; }, hit);
            }
          }
        });
      }
      ++step;
      reportProgress(options.progress, static_cast<double>(step) / totalSteps);
    }

    // Rows [qb, qe) have seen every other row (symmetric: the rows before qb
    // through earlier column passes). Re-rank the candidates exactly and
    // prove completeness.
    std::vector<int64_t> failed;
    std::vector<uint8_t> failedFlag(static_cast<std::size_t>(bq), 0);
    at::parallel_for(0, bq, 16, [&](int64_t begin, int64_t end) {
      std::vector<Candidate> exact;
      for (int64_t i = begin; i < end; ++i)
      {
        const int64_t q = qb + i;
        const int64_t r = q - queryBegin;
        const double nqv = norms[static_cast<std::size_t>(q)];
        if (cosine && nqv == 0.0)
        {
          zeroCosineRow(points, zeroRows, q, result, r);
          continue;
        }
        Candidate* heap = heaps.data.data() + static_cast<std::size_t>(r) * heaps.size;
        const std::size_t fill = heaps.fill[static_cast<std::size_t>(r)];
        std::sort_heap(heap, heap + fill, CandidateLessFn());
        const std::size_t used = haveCutoff ? fill - 1 : fill;
        // |approximate key - true key| <= error for every candidate.
        const double error = cosine
          ? gamma + 1e-12
          : 2.0 * gamma * nqv * maxNorm + 1e-12 * (nqv * nqv + maxNorm * maxNorm);
        // A candidate whose approximate key exceeds the k-th one by more than
        // 2 error is farther than k others: it needs no exact distance.
        const double keep = heap[static_cast<std::size_t>(k) - 1].first + 2.0 * error;
        exact.clear();
        const float* x = points.row(q);
        for (std::size_t c = 0;
             c < used && (c < static_cast<std::size_t>(k) || !(heap[c].first > keep)); ++c)
        {
          const int64_t j = heap[c].second;
          exact.emplace_back(
            exactDistance(x, points.row(j), d, nqv, norms[static_cast<std::size_t>(j)], metric), j);
        }
        storeRow(result, r, exact);
        if (haveCutoff)
        {
          // Every row left out has an approximate key >= cutoff, hence a true
          // key >= cutoff - error. The k-th exact key must be strictly below.
          const double kth = exact[static_cast<std::size_t>(k) - 1].first;
          const double cutoff = heap[fill - 1].first;
          const double kthKey = cosine ? kth : kth * kth;
          if (!(kthKey < cutoff - error))
          {
            failedFlag[static_cast<std::size_t>(i)] = 1;
          }
        }
      }
    });
    for (int64_t i = 0; i < bq; ++i)
    {
      if (failedFlag[static_cast<std::size_t>(i)])
      {
        failed.push_back(qb + i);
      }
    }
    bruteForce += static_cast<int64_t>(failed.size());
    at::parallel_for(0, static_cast<int64_t>(failed.size()), 1, [&](int64_t begin, int64_t end) {
      for (int64_t f = begin; f < end; ++f)
      {
        const int64_t q = failed[static_cast<std::size_t>(f)];
        bruteForceRow(points, norms, metric, q, result, q - queryBegin);
      }
    });
  }
  result.bruteForceRows = bruteForce;
}

} // namespace

KnnMethod resolveKnnMethod(KnnMethod method, int64_t rows)
{
  if (method != KnnMethod::Auto)
  {
    return method;
  }
  return rows <= kExactNeighborRows ? KnnMethod::Exact : KnnMethod::Ivf;
}

const char* knnMethodName(KnnMethod method)
{
  switch (method)
  {
    case KnnMethod::Flann:
      return "FLANN";
    case KnnMethod::Ivf:
      return "IVF";
    case KnnMethod::Auto:
      return "auto";
    case KnnMethod::Exact:
    default:
      return "exact";
  }
}

const char* metricName(DistanceMetric metric)
{
  return metric == DistanceMetric::Cosine ? "cosine" : "euclidean";
}

DistanceMetric resolveMetric(MetricChoice choice, int64_t cols)
{
  switch (choice)
  {
    case MetricChoice::Cosine:
      return DistanceMetric::Cosine;
    case MetricChoice::Euclidean:
      return DistanceMetric::Euclidean;
    case MetricChoice::Auto:
    default:
      return cols > 3 ? DistanceMetric::Cosine : DistanceMetric::Euclidean;
  }
}

bool isFlannAvailable()
{
#ifdef DUALEMBED_WITH_FLANN
  return true;
#else
  return false;
#endif
}

const char* exactKnnGemmName()
{
  return floatGemmName();
}

int64_t countNonFiniteRows(const FeatureMatrix& points)
{
  int64_t bad = 0;
  for (int64_t i = 0; i < points.rows; ++i)
  {
    const float* x = points.row(i);
    for (int64_t c = 0; c < points.cols; ++c)
    {
      if (!std::isfinite(x[c]))
      {
        ++bad;
        break;
      }
    }
  }
  return bad;
}

void requireFiniteRows(const FeatureMatrix& points, const std::string& what)
{
  const int64_t bad = countNonFiniteRows(points);
  if (bad > 0)
  {
    std::ostringstream message;
    message << bad << " of " << points.rows << " rows of " << what
            << (bad == 1 ? " contains" : " contain")
            << " NaN or Inf values; remove or repair these samples (for example with a "
               "Threshold filter on the array) and run the filter again.";
    throw ModelError(message.str());
  }
}

double vectorDistance(const float* a, const float* b, int64_t cols, DistanceMetric metric)
{
  return exactDistance(
    a, b, cols, std::sqrt(squaredNorm(a, cols)), std::sqrt(squaredNorm(b, cols)), metric);
}

void distancesFrom(
  const FeatureMatrix& points, int64_t query, DistanceMetric metric, std::vector<double>& out)
{
  // The norms vectorDistance would compute, skipped where the metric ignores them.
  const bool cosine = metric == DistanceMetric::Cosine;
  fillDistancesFrom(
    points, query, metric,
    [&](int64_t j) { return cosine ? std::sqrt(squaredNorm(points.row(j), points.cols)) : 0.0; },
    out);
}

void squaredEuclideanDistancesFrom(
  const FeatureMatrix& points, int64_t query, std::vector<double>& out)
{
  out.resize(static_cast<std::size_t>(points.rows));
  const float* x = points.row(query);
  for (int64_t j = 0; j < points.rows; ++j)
  {
    out[static_cast<std::size_t>(j)] = squaredEuclidean(x, points.row(j), points.cols);
  }
}

std::vector<int64_t> nearestRows(const std::vector<double>& distances, int64_t query, int k)
{
  std::vector<Candidate> candidates;
  candidates.reserve(distances.size());
  for (std::size_t j = 0; j < distances.size(); ++j)
  {
    if (static_cast<int64_t>(j) != query)
    {
      candidates.emplace_back(distances[j], static_cast<int64_t>(j));
    }
  }
  const std::size_t count = std::min(static_cast<std::size_t>(std::max(k, 0)), candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(count),
    candidates.end(), CandidateLessFn());
  std::vector<int64_t> nearest(count);
  for (std::size_t j = 0; j < count; ++j)
  {
    nearest[j] = candidates[j].second;
  }
  return nearest;
}

namespace
{
/// "IVF neighbours (k 10, cosine) of 1000000 rows in 132.0 s (2000 lists, 16
/// read per row): recall@10 0.995 measured on 256 random rows against the
/// exact neighbours." A graph found again says so instead of its time; a
/// distributed search (options.search.parts) says on how many ranks. `rows`:
/// all rows searched; `sampled`: the rows the recall was measured on.
std::string describeApproximateSearch(int64_t rows, const KnnOptions& options,
  const KnnResult& result, const NeighborGraphs::Graph& graph, bool reused, int64_t sampled)
{
  const PartExchange* parts = options.search.parts.get();
  std::ostringstream text;
  text.precision(3);
  text << knnMethodName(result.method) << " neighbours (k " << result.k << ", "
       << metricName(options.metric) << ") of " << rows << " rows";
  if (parts)
  {
    text << " on " << parts->parts() << " MPI ranks, each indexing its own rows";
  }
  else if (options.search.method == KnnMethod::Auto)
  {
    text << " (auto: more than " << kExactNeighborRows << " rows)";
  }
  text << std::fixed << std::setprecision(1);
  if (reused)
  {
    text << ": the graph built earlier in this session (k " << graph.knn.k << ", " << graph.seconds
         << " s) was used again";
  }
  else
  {
    text << (parts ? ", in " : " in ") << graph.seconds << " s";
  }
  if (parts)
  {
    text << " (" << result.lists << " lists in all, up to " << options.search.ivf.probes
         << " read per row on each rank)";
  }
  else if (result.method == KnnMethod::Ivf)
  {
    text << " (" << result.lists << " lists, "
         << std::min<int64_t>(options.search.ivf.probes, result.lists) << " read per row)";
  }
  if (result.recall >= 0.0)
  {
    text << ": recall@" << result.k << " " << std::setprecision(4) << result.recall
         << " measured on " << sampled << " random rows against the exact neighbours";
  }
  text << ".";
  return text.str();
}

/// computeKnn of a distributed run: this part's rows, all of them queries.
/// A graph is shared as in a serial run, keyed by the contents of every
/// part's rows; the parts agree on finding it, so that all search or none.
KnnResult distributedKnn(
  const FeatureMatrix& points, int64_t queryBegin, int64_t queryEnd, const KnnOptions& options)
{
  const PartExchange& parts = *options.search.parts;
  if (queryBegin != 0 || queryEnd != points.rows)
  {
    // The same on every part (the caller passes all its rows), so no part waits.
    throw ModelError("A distributed neighbour search answers all rows of each part.");
  }
  const int64_t total = parts.totalRows();
  const int k = static_cast<int>(std::min<int64_t>(options.k, std::max<int64_t>(0, total - 1)));
  NeighborGraphs::Key key;
  std::shared_ptr<const NeighborGraphs::Graph> graph;
  if (options.search.graphs && k > 0)
  {
    key = graphKey(points, 0, points.rows, KnnMethod::Ivf, options);
    const std::vector<int64_t> contents(key.contents.begin(), key.contents.end());
    std::vector<int64_t> hashes = parts.gather(contents, 0);
    parts.broadcast(hashes, 0); // every part's contents
    key.fields.insert(key.fields.end(), hashes.begin(), hashes.end());
    key.fields.insert(key.fields.end(), { parts.parts(), parts.part(), total });
    graph = options.search.graphs->find(key, k);
    if (parts.minimum(graph ? 1 : 0) == 0)
    {
      graph = nullptr;
    }
  }
  const bool reused = graph != nullptr;
  KnnResult result;
  if (reused)
  {
    result = firstNeighbors(graph->knn, k);
    result.recall = recallOverParts(graph->recall, result, parts);
  }
  else
  {
    auto own = std::make_shared<NeighborGraphs::Graph>();
    KnnOptions wider = options;
    if (options.search.graphs)
    {
      wider.k = std::max(k, static_cast<int>(std::min<int64_t>(total - 1, kSharedGraphNeighbors)));
    }
    const auto start = std::chrono::steady_clock::now();
    own->knn = computeDistributedKnn(points, parts, wider, &own->recall);
    own->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (options.search.graphs && k > 0)
    {
      options.search.graphs->keep(key, own);
    }
    result = firstNeighbors(own->knn, k);
    result.recall =
      result.k == own->knn.k ? own->knn.recall : recallOverParts(own->recall, result, parts);
    graph = std::move(own);
  }
  if (options.search.report && parts.part() == 0)
  {
    options.search.report(describeApproximateSearch(total, options, result, *graph, reused,
      std::min<int64_t>(options.search.recallSamples, total)));
  }
  return result;
}

/// One search of the rows [queryBegin, queryEnd) for k neighbours by
/// `method`, with the exact neighbours of its recall sample when approximate.
std::shared_ptr<NeighborGraphs::Graph> searchGraph(const FeatureMatrix& points, int64_t queryBegin,
  int64_t queryEnd, const KnnOptions& options, int k, KnnMethod method)
{
  auto graph = std::make_shared<NeighborGraphs::Graph>();
  KnnResult& result = graph->knn;
  result.firstRow = queryBegin;
  result.rows = queryEnd - queryBegin;
  result.k = k;
  result.method = method;
  const std::size_t size = static_cast<std::size_t>(result.rows) * static_cast<std::size_t>(k);
  result.indices.assign(size, -1);
  result.distances.assign(size, std::numeric_limits<float>::quiet_NaN());
  const auto start = std::chrono::steady_clock::now();
  const SearchMatrix searched(points, options.center.empty() ? nullptr : options.center.data());
  if (method == KnnMethod::Flann)
  {
#ifdef DUALEMBED_WITH_FLANN
    flannKnn(searched, queryBegin, queryEnd, options, result);
#else
    throw ModelError("The approximate neighbour search (FLANN) is not available in this build "
                     "of DualEmbed; choose the exact or the IVF method.");
#endif
  }
  else if (method == KnnMethod::Ivf)
  {
    ivfKnn(searched, queryBegin, queryEnd, options, result);
  }
  else if (searched.center)
  {
    // The exact method multiplies tiles of the matrix itself, so it centres a
    // copy (its searches are of up to kExactNeighborRows rows unless chosen).
    std::vector<float> centred(static_cast<std::size_t>(points.rows * points.cols));
    at::parallel_for(0, points.rows, 1024, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
      {
        searched.row(i, centred.data() + i * points.cols);
      }
    });
    exactKnn({ centred.data(), points.rows, points.cols }, queryBegin, queryEnd, options, result);
  }
  else
  {
    exactKnn(points, queryBegin, queryEnd, options, result);
  }
  graph->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (method != KnnMethod::Exact && options.search.recallSamples > 0)
  {
    graph->recall = recallSampleOf(
      searched, queryBegin, queryEnd, k, options.metric, options.search.recallSamples);
  }
  return graph;
}
} // namespace

int64_t searchedRows(const FeatureMatrix& points, const NeighborSearch& search)
{
  return search.parts ? search.parts->totalRows() : points.rows;
}

KnnResult computeKnn(const FeatureMatrix& points, const KnnOptions& options)
{
  return computeKnn(points, 0, points.rows, options);
}

KnnResult computeKnn(
  const FeatureMatrix& points, int64_t queryBegin, int64_t queryEnd, const KnnOptions& options)
{
  if (options.search.parts)
  {
    return distributedKnn(points, queryBegin, queryEnd, options);
  }
  if (options.k < 1)
  {
    throw ModelError(
      "The number of neighbours K must be at least 1 (it is " + std::to_string(options.k) + ").");
  }
  if (points.rows < 0 || points.cols < 0 || (points.rows > 0 && points.cols == 0) ||
    (points.rows > 0 && points.data == nullptr))
  {
    throw ModelError("The neighbour search needs a non-empty feature array with at least one "
                     "component per sample.");
  }
  if (queryBegin < 0 || queryEnd > points.rows || queryBegin > queryEnd)
  {
    throw ModelError("The query rows [" + std::to_string(queryBegin) + ", " +
      std::to_string(queryEnd) + ") lie outside the " + std::to_string(points.rows) +
      " samples of the input.");
  }
  requireFiniteRows(points, "the input");
  requireCenter(points, options);

  const int k =
    static_cast<int>(std::min<int64_t>(options.k, std::max<int64_t>(0, points.rows - 1)));
  if (queryEnd == queryBegin || k == 0)
  {
    KnnResult empty;
    empty.firstRow = queryBegin;
    empty.rows = queryEnd - queryBegin;
    empty.k = k;
    reportProgress(options.progress, 1.0);
    return empty;
  }

  const KnnMethod method = resolveKnnMethod(options.search.method, points.rows);
  std::shared_ptr<const NeighborGraphs::Graph> graph;
  bool reused = false;
  KnnResult result;
  if (options.search.graphs)
  {
    const NeighborGraphs::Key key = graphKey(points, queryBegin, queryEnd, method, options);
    graph = options.search.graphs->find(key, k);
    reused = graph != nullptr;
    if (!reused)
    {
      const int wider = static_cast<int>(std::min<int64_t>(points.rows - 1, kSharedGraphNeighbors));
      graph = searchGraph(points, queryBegin, queryEnd, options, std::max(k, wider), method);
      options.search.graphs->keep(key, graph);
    }
    result = firstNeighbors(graph->knn, k);
  }
  else
  {
    auto own = searchGraph(points, queryBegin, queryEnd, options, k, method);
    result = std::move(own->knn); // its k and counts stay for the report
    graph = std::move(own);
  }
  if (method != KnnMethod::Exact)
  {
    if (!graph->recall.rows.empty())
    {
      result.recall = recallOn(graph->recall, result);
    }
    if (options.search.report)
    {
      options.search.report(describeApproximateSearch(points.rows, options, result, *graph, reused,
        static_cast<int64_t>(graph->recall.rows.size())));
    }
  }
  reportProgress(options.progress, 1.0);
  return result;
}

double knnRecall(const KnnResult& approximate, const KnnResult& exact)
{
  if (approximate.rows != exact.rows || approximate.k != exact.k ||
    approximate.firstRow != exact.firstRow)
  {
    throw ModelError("The recall needs two neighbour results over the same rows and the same K.");
  }
  if (exact.rows == 0 || exact.k == 0)
  {
    return 1.0;
  }
  const std::size_t k = static_cast<std::size_t>(exact.k);
  int64_t found = 0;
  std::vector<int64_t> a(k);
  std::vector<int64_t> b(k);
  for (int64_t r = 0; r < exact.rows; ++r)
  {
    std::copy_n(approximate.indices.begin() + static_cast<std::ptrdiff_t>(r * k), k, a.begin());
    std::copy_n(exact.indices.begin() + static_cast<std::ptrdiff_t>(r * k), k, b.begin());
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    std::vector<int64_t> common;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(common));
    found += static_cast<int64_t>(common.size());
  }
  return static_cast<double>(found) / (static_cast<double>(exact.rows) * static_cast<double>(k));
}

} // namespace engine
} // namespace dualembed
