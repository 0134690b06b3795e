#include "NearestNeighbors.h"

#include "EngineError.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <utility>

#ifdef DUALEMBED_WITH_FLANN
#include <flann/flann.hpp>
#endif

namespace dualembed
{
namespace engine
{

namespace
{

using Candidate = std::pair<double, int64_t>; // (key or distance, index)

// Lexicographic order (value, index): ties broken by the smaller index.
inline bool candidateLess(const Candidate& a, const Candidate& b)
{
  return a.first < b.first || (a.first == b.first && a.second < b.second);
}

inline bool identicalRows(const float* a, const float* b, int64_t cols)
{
  for (int64_t c = 0; c < cols; ++c)
  {
    if (a[c] != b[c])
    {
      return false;
    }
  }
  return true;
}

// Exact distance given the precomputed norms (double) of both rows.
inline double exactDistance(const float* a, const float* b, int64_t cols, double normA,
  double normB, DistanceMetric metric)
{
  if (identicalRows(a, b, cols))
  {
    return 0.0;
  }
  if (metric == DistanceMetric::Euclidean)
  {
    double sum = 0.0;
    for (int64_t c = 0; c < cols; ++c)
    {
      const double d = static_cast<double>(a[c]) - static_cast<double>(b[c]);
      sum += d * d;
    }
    return std::sqrt(sum);
  }
  if (normA == 0.0 || normB == 0.0)
  {
    return 1.0;
  }
  double dot = 0.0;
  for (int64_t c = 0; c < cols; ++c)
  {
    dot += static_cast<double>(a[c]) * static_cast<double>(b[c]);
  }
  const double distance = 1.0 - dot / (normA * normB);
  return std::min(2.0, std::max(0.0, distance));
}

std::vector<double> rowNorms(const FeatureMatrix& points)
{
  std::vector<double> norms(static_cast<std::size_t>(points.rows));
  at::parallel_for(0, points.rows, 256, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
    {
      const float* x = points.row(i);
      double sum = 0.0;
      for (int64_t c = 0; c < points.cols; ++c)
      {
        sum += static_cast<double>(x[c]) * static_cast<double>(x[c]);
      }
      norms[static_cast<std::size_t>(i)] = std::sqrt(sum);
    }
  });
  return norms;
}

// Writes the k best of `candidates` (exact distances) into row `r` of the result.
void storeRow(KnnResult& result, int64_t r, std::vector<Candidate>& candidates)
{
  const std::size_t k = static_cast<std::size_t>(result.k);
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(k),
    candidates.end(), candidateLess);
  for (std::size_t j = 0; j < k; ++j)
  {
    result.indices[static_cast<std::size_t>(r) * k + j] = candidates[j].second;
    result.distances[static_cast<std::size_t>(r) * k + j] = static_cast<float>(candidates[j].first);
  }
}

// Brute force in double for one query: exact by construction.
void bruteForceRow(const FeatureMatrix& points, const std::vector<double>& norms,
  DistanceMetric metric, int64_t q, KnnResult& result, int64_t r)
{
  std::vector<Candidate> all;
  all.reserve(static_cast<std::size_t>(points.rows));
  const float* x = points.row(q);
  for (int64_t j = 0; j < points.rows; ++j)
  {
    if (j != q)
    {
      all.emplace_back(exactDistance(x, points.row(j), points.cols,
                         norms[static_cast<std::size_t>(q)], norms[static_cast<std::size_t>(j)], metric),
        j);
    }
  }
  storeRow(result, r, all);
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

void exactKnn(const FeatureMatrix& points, int64_t queryBegin, int64_t queryEnd,
  const KnnOptions& options, KnnResult& result)
{
  const int64_t n = points.rows;
  const int64_t d = points.cols;
  const int k = result.k;
  const DistanceMetric metric = options.metric;
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

  // Candidates kept per row: k plus a margin, and one more entry whose key
  // bounds every row left out (the cut-off).
  const int64_t others = n - 1;
  const int64_t candidates = std::min<int64_t>(others, 2 * static_cast<int64_t>(k) + 16);
  const bool haveCutoff = others > candidates;
  const std::size_t heapSize = static_cast<std::size_t>(candidates + (haveCutoff ? 1 : 0));

  // Rigorous bound of the float32 dot-product error, whatever the summation
  // order: |fl(a.b) - a.b| <= gamma_D * |a| |b| with gamma_D = D u / (1 - D u),
  // u = 2^-24; doubled for safety, plus the double-precision rounding of the key.
  const double u = std::ldexp(1.0, -24);
  const double du = static_cast<double>(d + 2) * u;
  const double gamma = 2.0 * du / std::max(1e-3, 1.0 - du);

  const int64_t nq = queryEnd - queryBegin;
  // Query blocks: at least 64 of them (progress every <= ~1.6 %), at most 2048 rows.
  const int64_t queryBlock = std::min<int64_t>(2048, std::max<int64_t>(1, (nq + 63) / 64));
  int64_t refBlock = options.blockRows > 0 ? options.blockRows
                                           : std::max<int64_t>(256, (8 << 20) / queryBlock);
  refBlock = std::min(refBlock, n);
  const int64_t queryBlocks = (nq + queryBlock - 1) / queryBlock;
  const int64_t refBlocks = (n + refBlock - 1) / refBlock;
  const double totalSteps = static_cast<double>(queryBlocks * refBlocks);

  at::Tensor all = at::from_blob(const_cast<float*>(points.data), { n, d }, at::kFloat);
  std::vector<Candidate> heaps;
  std::vector<std::size_t> heapFill;
  int64_t bruteForce = 0;
  int64_t step = 0;
  reportProgress(options.progress, 0.0);

  for (int64_t qb = queryBegin; qb < queryEnd; qb += queryBlock)
  {
    const int64_t qe = std::min(queryEnd, qb + queryBlock);
    const int64_t bq = qe - qb;
    heaps.assign(static_cast<std::size_t>(bq) * heapSize, Candidate(0.0, 0));
    heapFill.assign(static_cast<std::size_t>(bq), 0);
    at::Tensor queries = all.narrow(0, qb, bq);

    for (int64_t rb = 0; rb < n; rb += refBlock)
    {
      const int64_t re = std::min(n, rb + refBlock);
      at::Tensor scores = at::mm(queries, all.narrow(0, rb, re - rb).t()).contiguous();
      const float* s = scores.data_ptr<float>();
      const int64_t br = re - rb;
      at::parallel_for(0, bq, 16, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
        {
          const int64_t q = qb + i;
          const double nqv = norms[static_cast<std::size_t>(q)];
          if (metric == DistanceMetric::Cosine && nqv == 0.0)
          {
            continue; // handled by zeroCosineRow
          }
          Candidate* heap = heaps.data() + static_cast<std::size_t>(i) * heapSize;
          std::size_t& fill = heapFill[static_cast<std::size_t>(i)];
          const float* srow = s + i * br;
          for (int64_t jj = 0; jj < br; ++jj)
          {
            const int64_t j = rb + jj;
            if (j == q)
            {
              continue;
            }
            const double nr = norms[static_cast<std::size_t>(j)];
            const double dot = static_cast<double>(srow[jj]);
            double key;
            if (metric == DistanceMetric::Euclidean)
            {
              key = nqv * nqv + nr * nr - 2.0 * dot;
            }
            else
            {
              key = nr == 0.0 ? 1.0 : 1.0 - dot / (nqv * nr);
            }
            const Candidate c(key, j);
            if (fill < heapSize)
            {
              heap[fill++] = c;
              std::push_heap(heap, heap + fill, candidateLess);
            }
            else if (candidateLess(c, heap[0]))
            {
              std::pop_heap(heap, heap + fill, candidateLess);
              heap[fill - 1] = c;
              std::push_heap(heap, heap + fill, candidateLess);
            }
          }
        }
      });
      ++step;
      reportProgress(options.progress, static_cast<double>(step) / totalSteps);
    }

    // Re-rank the candidates exactly and prove completeness.
    std::vector<int64_t> failed;
    std::vector<uint8_t> failedFlag(static_cast<std::size_t>(bq), 0);
    at::parallel_for(0, bq, 16, [&](int64_t begin, int64_t end) {
      std::vector<Candidate> exact;
      for (int64_t i = begin; i < end; ++i)
      {
        const int64_t q = qb + i;
        const int64_t r = q - queryBegin;
        const double nqv = norms[static_cast<std::size_t>(q)];
        if (metric == DistanceMetric::Cosine && nqv == 0.0)
        {
          zeroCosineRow(points, zeroRows, q, result, r);
          continue;
        }
        Candidate* heap = heaps.data() + static_cast<std::size_t>(i) * heapSize;
        const std::size_t fill = heapFill[static_cast<std::size_t>(i)];
        std::sort_heap(heap, heap + fill, candidateLess);
        const std::size_t used = haveCutoff ? fill - 1 : fill;
        exact.clear();
        const float* x = points.row(q);
        for (std::size_t c = 0; c < used; ++c)
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
          double kthKey;
          double error;
          if (metric == DistanceMetric::Euclidean)
          {
            kthKey = kth * kth;
            error = 2.0 * gamma * nqv * maxNorm + 1e-12 * (nqv * nqv + maxNorm * maxNorm);
          }
          else
          {
            kthKey = kth;
            error = gamma + 1e-12;
          }
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

#ifdef DUALEMBED_WITH_FLANN
void flannKnn(const FeatureMatrix& points, int64_t queryBegin, int64_t queryEnd,
  const KnnOptions& options, KnnResult& result)
{
  const int64_t n = points.rows;
  const int64_t d = points.cols;
  const int k = result.k;
  const DistanceMetric metric = options.metric;
  const std::vector<double> norms = rowNorms(points);
  std::vector<int64_t> zeroRows;
  for (int64_t i = 0; i < n; ++i)
  {
    if (norms[static_cast<std::size_t>(i)] == 0.0)
    {
      zeroRows.push_back(i);
    }
  }
  if (options.flann.trees < 1 || options.flann.checks < 1)
  {
    throw ModelError("The FLANN parameters must be positive (trees " +
      std::to_string(options.flann.trees) + ", checks " + std::to_string(options.flann.checks) +
      "); use e.g. 8 trees and 1024 checks.");
  }

  // Cosine: euclidean on unit vectors orders neighbours like cosine.
  std::vector<float> unit;
  const float* base = points.data;
  if (metric == DistanceMetric::Cosine)
  {
    unit.resize(static_cast<std::size_t>(n * d));
    at::parallel_for(0, n, 256, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
      {
        const double norm = norms[static_cast<std::size_t>(i)];
        const float* x = points.row(i);
        float* y = unit.data() + i * d;
        for (int64_t c = 0; c < d; ++c)
        {
          y[c] = norm > 0.0 ? static_cast<float>(x[c] / norm) : 0.0f;
        }
      }
    });
    base = unit.data();
  }

  reportProgress(options.progress, 0.0);
  flann::Matrix<float> dataset(const_cast<float*>(base), static_cast<std::size_t>(n),
    static_cast<std::size_t>(d));
  flann::seed_random(options.flann.seed);
  flann::Index<flann::L2<float>> index(dataset, flann::KDTreeIndexParams(options.flann.trees));
  index.buildIndex();
  reportProgress(options.progress, 0.1);

  // k + 1 neighbours so that the query itself can be dropped.
  const int64_t fetch = std::min<int64_t>(n, static_cast<int64_t>(k) + 1);
  const int64_t nq = queryEnd - queryBegin;
  const int64_t chunk = std::max<int64_t>(1, (nq + 49) / 50);
  flann::SearchParams searchParams(options.flann.checks);
  searchParams.cores = 1;
  for (int64_t cb = queryBegin; cb < queryEnd; cb += chunk)
  {
    const int64_t ce = std::min(queryEnd, cb + chunk);
    at::parallel_for(cb, ce, 8, [&](int64_t begin, int64_t end) {
      const std::size_t count = static_cast<std::size_t>(end - begin);
      std::vector<std::size_t> ids(count * static_cast<std::size_t>(fetch));
      std::vector<float> dists(count * static_cast<std::size_t>(fetch));
      flann::Matrix<float> queries(const_cast<float*>(base + begin * d), count,
        static_cast<std::size_t>(d));
      flann::Matrix<std::size_t> idMatrix(ids.data(), count, static_cast<std::size_t>(fetch));
      flann::Matrix<float> distMatrix(dists.data(), count, static_cast<std::size_t>(fetch));
      index.knnSearch(queries, idMatrix, distMatrix, static_cast<std::size_t>(fetch), searchParams);
      std::vector<Candidate> exact;
      for (int64_t q = begin; q < end; ++q)
      {
        const int64_t r = q - queryBegin;
        const double nqv = norms[static_cast<std::size_t>(q)];
        if (metric == DistanceMetric::Cosine && nqv == 0.0)
        {
          zeroCosineRow(points, zeroRows, q, result, r);
          continue;
        }
        exact.clear();
        const std::size_t* row = ids.data() + static_cast<std::size_t>(q - begin) * static_cast<std::size_t>(fetch);
        for (int64_t c = 0; c < fetch; ++c)
        {
          const std::size_t j = row[c];
          if (j >= static_cast<std::size_t>(n) || static_cast<int64_t>(j) == q)
          {
            continue;
          }
          const int64_t jj = static_cast<int64_t>(j);
          exact.emplace_back(exactDistance(points.row(q), points.row(jj), d, nqv,
                               norms[static_cast<std::size_t>(jj)], metric),
            jj);
        }
        std::sort(exact.begin(), exact.end(), candidateLess);
        exact.erase(std::unique(exact.begin(), exact.end(),
                      [](const Candidate& a, const Candidate& b) { return a.second == b.second; }),
          exact.end());
        if (exact.size() < static_cast<std::size_t>(k))
        {
          bruteForceRow(points, norms, metric, q, result, r); // index returned too few
        }
        else
        {
          storeRow(result, r, exact);
        }
      }
    });
    reportProgress(options.progress, 0.1 + 0.9 * static_cast<double>(ce - queryBegin) / static_cast<double>(nq));
  }
}
#endif

} // namespace

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
  double na = 0.0;
  double nb = 0.0;
  for (int64_t c = 0; c < cols; ++c)
  {
    na += static_cast<double>(a[c]) * a[c];
    nb += static_cast<double>(b[c]) * b[c];
  }
  return exactDistance(a, b, cols, std::sqrt(na), std::sqrt(nb), metric);
}

KnnResult computeKnn(const FeatureMatrix& points, const KnnOptions& options)
{
  return computeKnn(points, 0, points.rows, options);
}

KnnResult computeKnn(const FeatureMatrix& points, int64_t queryBegin, int64_t queryEnd,
  const KnnOptions& options)
{
  if (options.k < 1)
  {
    throw ModelError("The number of neighbours K must be at least 1 (it is " +
      std::to_string(options.k) + ").");
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

  KnnResult result;
  result.firstRow = queryBegin;
  result.rows = queryEnd - queryBegin;
  result.k = static_cast<int>(std::min<int64_t>(options.k, std::max<int64_t>(0, points.rows - 1)));
  const std::size_t size = static_cast<std::size_t>(result.rows) * static_cast<std::size_t>(result.k);
  result.indices.assign(size, -1);
  result.distances.assign(size, std::numeric_limits<float>::quiet_NaN());
  if (result.rows == 0 || result.k == 0)
  {
    reportProgress(options.progress, 1.0);
    return result;
  }

  if (options.method == KnnMethod::Flann)
  {
#ifdef DUALEMBED_WITH_FLANN
    flannKnn(points, queryBegin, queryEnd, options, result);
#else
    throw ModelError("The approximate neighbour search (FLANN) is not available in this build "
                     "of DualEmbed; choose the exact method.");
#endif
  }
  else
  {
    exactKnn(points, queryBegin, queryEnd, options, result);
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
