#include "ApproximateNeighbors.h"

#include "EngineError.h"
#include "FloatGemm.h"
#include "NeighborKernels.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <string>

#ifdef DUALEMBED_WITH_FLANN
#include <flann/flann.hpp>
#endif

namespace dualembed
{
namespace engine
{
namespace detail
{
namespace
{

/// Rows with a zero norm (cosine: neighbours by zeroCosineRow).
std::vector<int64_t> zeroNormRows(const std::vector<double>& norms)
{
  std::vector<int64_t> rows;
  for (std::size_t i = 0; i < norms.size(); ++i)
  {
    if (norms[i] == 0.0)
    {
      rows.push_back(static_cast<int64_t>(i));
    }
  }
  return rows;
}

/// Row `i` of `points` as the index stores it: as searched (centred where
/// asked), then unit length for cosine (euclidean on unit vectors orders
/// neighbours like cosine).
void indexRow(const SearchMatrix& points, const std::vector<double>& norms, DistanceMetric metric,
  int64_t i, float* out)
{
  const float* x = points.row(i, out); // centred into `out`, or in the matrix
  if (metric != DistanceMetric::Cosine)
  {
    if (x != out)
    {
      std::copy_n(x, points.cols, out);
    }
    return;
  }
  const double norm = norms[static_cast<std::size_t>(i)];
  const float scale = norm > 0.0 ? static_cast<float>(1.0 / norm) : 0.0f;
  for (int64_t c = 0; c < points.cols; ++c)
  {
    out[c] = x[c] * scale;
  }
}

/// Re-ranks the candidate rows of query `q` (result row `r`) with the exact
/// distances; too few distinct candidates fall back to brute force.
void rerankRow(const SearchMatrix& points, const std::vector<double>& norms, DistanceMetric metric,
  int64_t q, const int64_t* candidates, std::size_t count, KnnResult& result, int64_t r,
  std::vector<Candidate>& scratch)
{
  scratch.clear();
  const double queryNorm = norms[static_cast<std::size_t>(q)];
  SearchMatrix::Scratch rows = points.scratch(2);
  const float* x = points.row(q, rows.at(0));
  float* other = rows.at(1);
  for (std::size_t c = 0; c < count; ++c)
  {
    const int64_t j = candidates[c];
    if (j < 0 || j >= points.rows || j == q)
    {
      continue;
    }
    scratch.emplace_back(exactDistance(x, points.row(j, other), points.cols, queryNorm,
                           norms[static_cast<std::size_t>(j)], metric),
      j);
  }
  std::sort(scratch.begin(), scratch.end(), candidateLess);
  scratch.erase(std::unique(scratch.begin(), scratch.end(),
                  [](const Candidate& a, const Candidate& b) { return a.second == b.second; }),
    scratch.end());
  if (scratch.size() < static_cast<std::size_t>(result.k))
  {
    bruteForceRow(points, norms, metric, q, result, r); // the index returned too few
  }
  else
  {
    storeRow(result, r, scratch);
  }
}

} // namespace

#ifdef DUALEMBED_WITH_FLANN
void flannKnn(const SearchMatrix& points, int64_t queryBegin, int64_t queryEnd,
  const KnnOptions& options, KnnResult& result)
{
  const int64_t n = points.rows;
  const int64_t d = points.cols;
  const DistanceMetric metric = options.metric;
  if (options.search.flann.trees < 1 || options.search.flann.checks < 1)
  {
    throw ModelError("The FLANN parameters must be positive (trees " +
      std::to_string(options.search.flann.trees) + ", checks " +
      std::to_string(options.search.flann.checks) + "); use e.g. 8 trees and 1024 checks.");
  }
  const std::vector<double> norms = rowNorms(points);
  const std::vector<int64_t> zeroRows = zeroNormRows(norms);
  std::vector<float> indexed; // the rows made unit (cosine) or centred, else the matrix's
  const float* base = points.data;
  if (metric == DistanceMetric::Cosine || points.center)
  {
    indexed.resize(static_cast<std::size_t>(n * d));
    at::parallel_for(0, n, 256, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
      {
        indexRow(points, norms, metric, i, indexed.data() + i * d);
      }
    });
    base = indexed.data();
  }

  reportProgress(options.progress, 0.0);
  flann::Matrix<float> dataset(
    const_cast<float*>(base), static_cast<std::size_t>(n), static_cast<std::size_t>(d));
  flann::seed_random(options.search.flann.seed);
  flann::Index<flann::L2<float>> index(
    dataset, flann::KDTreeIndexParams(options.search.flann.trees));
  index.buildIndex();
  reportProgress(options.progress, 0.1);

  // k + 1 neighbours so that the query itself can be dropped.
  const int64_t fetch = std::min<int64_t>(n, static_cast<int64_t>(result.k) + 1);
  const int64_t nq = queryEnd - queryBegin;
  const int64_t chunk = std::max<int64_t>(1, (nq + 49) / 50);
  flann::SearchParams searchParams(options.search.flann.checks);
  searchParams.cores = 1;
  for (int64_t cb = queryBegin; cb < queryEnd; cb += chunk)
  {
    const int64_t ce = std::min(queryEnd, cb + chunk);
    at::parallel_for(cb, ce, 8, [&](int64_t begin, int64_t end) {
      const std::size_t count = static_cast<std::size_t>(end - begin);
      std::vector<std::size_t> ids(count * static_cast<std::size_t>(fetch));
      std::vector<float> dists(count * static_cast<std::size_t>(fetch));
      flann::Matrix<float> queries(
        const_cast<float*>(base + begin * d), count, static_cast<std::size_t>(d));
      flann::Matrix<std::size_t> idMatrix(ids.data(), count, static_cast<std::size_t>(fetch));
      flann::Matrix<float> distMatrix(dists.data(), count, static_cast<std::size_t>(fetch));
      index.knnSearch(queries, idMatrix, distMatrix, static_cast<std::size_t>(fetch), searchParams);
      std::vector<int64_t> candidates(static_cast<std::size_t>(fetch));
      std::vector<Candidate> scratch;
      for (int64_t q = begin; q < end; ++q)
      {
        const int64_t r = q - queryBegin;
        if (metric == DistanceMetric::Cosine && norms[static_cast<std::size_t>(q)] == 0.0)
        {
          zeroCosineRow(points, zeroRows, q, result, r);
          continue;
        }
        const std::size_t* row =
          ids.data() + static_cast<std::size_t>(q - begin) * static_cast<std::size_t>(fetch);
        for (int64_t c = 0; c < fetch; ++c)
        {
          candidates[static_cast<std::size_t>(c)] =
            row[c] < static_cast<std::size_t>(n) ? static_cast<int64_t>(row[c]) : -1;
        }
        rerankRow(
          points, norms, metric, q, candidates.data(), candidates.size(), result, r, scratch);
      }
    });
    reportProgress(
      options.progress, 0.1 + 0.9 * static_cast<double>(ce - queryBegin) / static_cast<double>(nq));
  }
}
#endif

std::vector<int64_t> farRows(const KnnResult& result)
{
  const int64_t count = std::min(result.rows, std::max<int64_t>(1, result.rows / 500));
  const std::size_t k = static_cast<std::size_t>(result.k);
  std::vector<std::pair<double, int64_t>> spread(static_cast<std::size_t>(result.rows));
  for (int64_t r = 0; r < result.rows; ++r)
  {
    double sum = 0.0;
    for (std::size_t j = 0; j < k; ++j)
    {
      sum += result.distances[static_cast<std::size_t>(r) * k + j];
    }
    spread[static_cast<std::size_t>(r)] = { -sum, r }; // farthest first, ties by row
  }
  std::partial_sort(spread.begin(), spread.begin() + count, spread.end());
  std::vector<int64_t> rows(static_cast<std::size_t>(count));
  for (int64_t i = 0; i < count; ++i)
  {
    rows[static_cast<std::size_t>(i)] = spread[static_cast<std::size_t>(i)].second;
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<int64_t> randomRows(int64_t n, int64_t count, std::mt19937_64& random)
{
  std::vector<int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  for (int64_t i = 0; i < count; ++i)
  {
    std::uniform_int_distribution<int64_t> pick(i, n - 1);
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(pick(random))]);
  }
  order.resize(static_cast<std::size_t>(count));
  return order;
}

/// The inverted file: every row in the list of its nearest centroid, the
/// index vectors stored in list order (one copy of the rows), and for each
/// query row the lists it reads.
struct InvertedFile
{
  int64_t lists = 0;
  int probes = 0;
  std::vector<float> centroids;  // lists x D
  std::vector<int64_t> offsets;  // lists + 1: list l is rows [offsets[l], offsets[l + 1])
  std::vector<int64_t> original; // stored row -> row of the input
  std::vector<int64_t> stored;   // row of the input -> stored row
  std::unique_ptr<float[]>
    rows; // stored rows x D, in list order (not zeroed first: 3 GB at 10^6 x 768)
  std::vector<float> squaredNorms; // of the stored rows (euclidean keys)
  std::vector<int32_t> queryLists; // query row - queryBegin -> its `probes` lists, nearest first
  std::vector<float> queryListDistances; // |x - centroid|^2 of those lists, beside them
  std::vector<float> centroidDistances;  // stored row -> |y - its list's centroid|, each list
                                         // stored farthest first
};

namespace
{

/// visit(i, keys) for each query row i of `queries` (count x d) with the keys
/// of every target y (targetCount x d): |y|^2 - 2 x.y, which orders like
/// |x - y|^2 (|x|^2 is the same for all y); one matrix product per tile.
template <typename Visit>
void scoreTiles(const float* queries, int64_t count, const float* targets, int64_t targetCount,
  const std::vector<float>& targetSquaredNorms, int64_t d, const Visit& visit)
{
  constexpr int64_t tile = 2048;
  std::vector<float> scores(static_cast<std::size_t>(std::min(tile, count) * targetCount));
  for (int64_t begin = 0; begin < count; begin += tile)
  {
    const int64_t m = std::min(tile, count - begin);
    floatGemm(false, true, m, targetCount, d, queries + begin * d, d, targets, d, scores.data());
    for (int64_t i = 0; i < m; ++i)
    {
      float* s = scores.data() + i * targetCount;
      for (int64_t j = 0; j < targetCount; ++j)
      {
        s[j] = targetSquaredNorms[static_cast<std::size_t>(j)] - 2.0f * s[j];
      }
      visit(begin + i, s);
    }
  }
}

std::vector<float> squaredNormsOf(const float* rows, int64_t count, int64_t d)
{
  std::vector<float> out(static_cast<std::size_t>(count));
  for (int64_t i = 0; i < count; ++i)
  {
    out[static_cast<std::size_t>(i)] = static_cast<float>(squaredNorm(rows + i * d, d));
  }
  return out;
}

/// Keeps the `keep` smallest candidates offered to `heap` (a max-heap).
inline void keepSmallest(std::vector<Candidate>& heap, std::size_t keep, const Candidate& c)
{
  if (heap.size() < keep)
  {
    heap.push_back(c);
    std::push_heap(heap.begin(), heap.end(), CandidateLessFn());
  }
  else if (candidateLess(c, heap.front()))
  {
    replaceTop(heap.data(), heap.size(), c);
  }
}

/// The nearest of `lists` centroids to each of the `count` sample rows.
std::vector<int64_t> nearestCentroids(const std::vector<float>& sample, int64_t count, int64_t d,
  const std::vector<float>& centroids, int64_t lists)
{
  std::vector<int64_t> nearest(static_cast<std::size_t>(count));
  const std::vector<float> centroidNorms = squaredNormsOf(centroids.data(), lists, d);
  scoreTiles(sample.data(), count, centroids.data(), lists, centroidNorms, d,
    [&](int64_t i, const float* keys) {
      nearest[static_cast<std::size_t>(i)] = std::min_element(keys, keys + lists) - keys;
    });
  return nearest;
}

/// The centroids of `lists` after cutting the crowded ones. Lloyd's k-means
/// can gather a whole cluster into one list when its rows are nearly
/// equidistant (noise spread over many dimensions): the centroid averaging
/// the most rows has the smallest norm and wins them all. A list holding more
/// than twice its share of the sample is cut at the median of its principal
/// direction (power iteration), again until no part is crowded; each part's
/// mean is a centroid. (On 200 000 clustered 768-D rows, euclidean: the
/// largest list fell from 5904 rows to 548, the rows a search scores by half.)
std::vector<float> splitCrowdedLists(const std::vector<float>& sample, int64_t count, int64_t d,
  const std::vector<float>& centroids, int64_t lists, int64_t share, std::mt19937_64& random)
{
  std::vector<std::vector<int64_t>> members(static_cast<std::size_t>(lists));
  const std::vector<int64_t> assigned = nearestCentroids(sample, count, d, centroids, lists);
  for (int64_t i = 0; i < count; ++i)
  {
    members[static_cast<std::size_t>(assigned[static_cast<std::size_t>(i)])].push_back(i);
  }
  std::vector<float> out;
  std::normal_distribution<double> normal;
  std::vector<double> mean(static_cast<std::size_t>(d)), direction(static_cast<std::size_t>(d));
  const std::function<void(std::vector<int64_t>&)> split = [&](std::vector<int64_t>& rows) {
    std::fill(mean.begin(), mean.end(), 0.0);
    for (int64_t i : rows)
    {
      for (int64_t c = 0; c < d; ++c)
      {
        mean[static_cast<std::size_t>(c)] += sample[static_cast<std::size_t>(i * d + c)];
      }
    }
    for (double& m : mean)
    {
      m /= static_cast<double>(rows.size());
    }
    if (static_cast<int64_t>(rows.size()) <= 2 * share)
    {
      out.insert(out.end(), mean.begin(), mean.end());
      return;
    }
    const auto centred = [&](int64_t i, int64_t c) {
      return sample[static_cast<std::size_t>(i * d + c)] - mean[static_cast<std::size_t>(c)];
    };
    for (double& v : direction)
    {
      v = normal(random);
    }
    std::vector<double> projection(rows.size());
    for (int step = 0; step < 10; ++step) // direction <- X^T X direction, normalised
    {
      for (std::size_t r = 0; r < rows.size(); ++r)
      {
        double p = 0.0;
        for (int64_t c = 0; c < d; ++c)
        {
          p += centred(rows[r], c) * direction[static_cast<std::size_t>(c)];
        }
        projection[r] = p;
      }
      std::fill(direction.begin(), direction.end(), 0.0);
      for (std::size_t r = 0; r < rows.size(); ++r)
      {
        for (int64_t c = 0; c < d; ++c)
        {
          direction[static_cast<std::size_t>(c)] += centred(rows[r], c) * projection[r];
        }
      }
      double norm = 0.0;
      for (double v : direction)
      {
        norm += v * v;
      }
      if (!(norm > 0.0))
      {
        break; // all rows equal: nothing to cut along
      }
      for (double& v : direction)
      {
        v /= std::sqrt(norm);
      }
    }
    std::vector<std::pair<double, int64_t>> order;
    for (int64_t i : rows)
    {
      double p = 0.0;
      for (int64_t c = 0; c < d; ++c)
      {
        p += centred(i, c) * direction[static_cast<std::size_t>(c)];
      }
      order.emplace_back(p, i);
    }
    std::sort(order.begin(), order.end());
    if (order.front().first == order.back().first)
    {
      out.insert(out.end(), mean.begin(), mean.end()); // identical rows: one list
      return;
    }
    const std::size_t half = order.size() / 2;
    std::vector<int64_t> low, high;
    for (std::size_t r = 0; r < order.size(); ++r)
    {
      (r < half ? low : high).push_back(order[r].second);
    }
    split(low);
    split(high);
  };
  for (int64_t l = 0; l < lists; ++l)
  {
    std::vector<int64_t>& rows = members[static_cast<std::size_t>(l)];
    if (rows.empty()) // keep the centroid (no sample row chose it)
    {
      out.insert(out.end(), centroids.begin() + l * d, centroids.begin() + (l + 1) * d);
      continue;
    }
    split(rows);
  }
  return out;
}

/// k-means (Lloyd) on a random sample of the index rows; empty lists are
/// reseeded with a random sample row; then crowded lists are cut
/// (splitCrowdedLists: there may be more lists than asked). Progress 0 to 0.1.
std::vector<float> trainCentroids(const SearchMatrix& points, const std::vector<double>& norms,
  DistanceMetric metric, int64_t lists, const IvfParameters& parameters,
  const ProgressCallback& progress)
{
  const int64_t n = points.rows, d = points.cols;
  std::mt19937_64 random(parameters.seed);
  const int64_t count = std::min<int64_t>(n, lists * parameters.trainingRowsPerList);
  const std::vector<int64_t> order = randomRows(n, count, random);
  std::vector<float> sample(static_cast<std::size_t>(count * d));
  at::parallel_for(0, count, 256, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
    {
      indexRow(points, norms, metric, order[static_cast<std::size_t>(i)], sample.data() + i * d);
    }
  });
  std::vector<float> centroids(sample.begin(), sample.begin() + lists * d);
  for (int iteration = 0; iteration < parameters.trainingIterations; ++iteration)
  {
    const std::vector<int64_t> assigned = nearestCentroids(sample, count, d, centroids, lists);
    std::vector<double> sums(static_cast<std::size_t>(lists * d), 0.0);
    std::vector<int64_t> sizes(static_cast<std::size_t>(lists), 0);
    for (int64_t i = 0; i < count; ++i)
    {
      const int64_t l = assigned[static_cast<std::size_t>(i)];
      ++sizes[static_cast<std::size_t>(l)];
      for (int64_t c = 0; c < d; ++c)
      {
        sums[static_cast<std::size_t>(l * d + c)] += sample[static_cast<std::size_t>(i * d + c)];
      }
    }
    std::uniform_int_distribution<int64_t> anyRow(0, count - 1);
    for (int64_t l = 0; l < lists; ++l)
    {
      const int64_t size = sizes[static_cast<std::size_t>(l)];
      const float* reseed = sample.data() + anyRow(random) * d;
      for (int64_t c = 0; c < d; ++c)
      {
        centroids[static_cast<std::size_t>(l * d + c)] = size > 0
          ? static_cast<float>(sums[static_cast<std::size_t>(l * d + c)] / size)
          : reseed[c];
      }
    }
    reportProgress(progress, 0.1 * (iteration + 1) / parameters.trainingIterations);
  }
  return splitCrowdedLists(
    sample, count, d, centroids, lists, parameters.trainingRowsPerList, random);
}

InvertedFile buildInvertedFile(const SearchMatrix& points, const std::vector<double>& norms,
  int64_t queryBegin, int64_t queryEnd, const KnnOptions& options)
{
  const int64_t n = points.rows, d = points.cols;
  const IvfParameters& parameters = options.search.ivf;
  InvertedFile file;
  file.centroids = trainCentroids(
    points, norms, options.metric, ivfListCount(parameters, n), parameters, options.progress);
  file.lists = static_cast<int64_t>(file.centroids.size()) / d;
  file.probes = static_cast<int>(std::min<int64_t>(file.lists, parameters.probes));
  reportProgress(options.progress, 0.1);

  // Every row's nearest list, and the `probes` nearest of each query row.
  const std::vector<float> centroidNorms = squaredNormsOf(file.centroids.data(), file.lists, d);
  std::vector<int32_t> primary(static_cast<std::size_t>(n));
  file.queryLists.resize(static_cast<std::size_t>((queryEnd - queryBegin) * file.probes));
  file.queryListDistances.resize(file.queryLists.size());
  constexpr int64_t block = 8192;
  const int64_t blocks = (n + block - 1) / block;
  const auto assign = [&](int64_t first, int64_t last) {
    std::vector<float> rows(static_cast<std::size_t>(block * d));
    std::vector<int32_t> ranked(static_cast<std::size_t>(file.lists));
    for (int64_t b = first; b < last; ++b)
    {
      const int64_t begin = b * block, count = std::min(block, n - begin);
      for (int64_t i = 0; i < count; ++i)
      {
        indexRow(points, norms, options.metric, begin + i, rows.data() + i * d);
      }
      scoreTiles(rows.data(), count, file.centroids.data(), file.lists, centroidNorms, d,
        [&](int64_t i, const float* keys) {
          const int64_t row = begin + i;
          std::iota(ranked.begin(), ranked.end(), 0);
          const auto closer = [keys](int32_t a, int32_t b) {
            return keys[a] < keys[b] || (keys[a] == keys[b] && a < b);
          };
          const bool query = row >= queryBegin && row < queryEnd;
          const int64_t keep = query ? file.probes : 1;
          std::partial_sort(ranked.begin(), ranked.begin() + keep, ranked.end(), closer);
          primary[static_cast<std::size_t>(row)] = ranked[0];
          if (query)
          {
            const std::size_t at = static_cast<std::size_t>((row - queryBegin) * file.probes);
            const float squared = static_cast<float>(squaredNorm(rows.data() + i * d, d));
            for (int64_t p = 0; p < keep; ++p)
            {
              file.queryLists[at + p] = ranked[p];
              file.queryListDistances[at + p] = std::max(0.0f, keys[ranked[p]] + squared);
            }
          }
        });
    }
  };
  // In rounds of 2 blocks per thread, so that progress and abort are seen.
  const int64_t round = 2 * std::max(1, at::get_num_threads());
  for (int64_t b = 0; b < blocks; b += round)
  {
    const int64_t last = std::min(blocks, b + round);
    at::parallel_for(b, last, 1, assign);
    reportProgress(options.progress, 0.1 + 0.1 * static_cast<double>(last) / blocks);
  }

  // The rows in list order (a counting sort), stored as the index sees them.
  file.offsets.assign(static_cast<std::size_t>(file.lists + 1), 0);
  for (int32_t l : primary)
  {
    ++file.offsets[static_cast<std::size_t>(l) + 1];
  }
  std::partial_sum(file.offsets.begin(), file.offsets.end(), file.offsets.begin());
  std::vector<int64_t> next(file.offsets.begin(), file.offsets.end() - 1);
  file.original.resize(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i)
  {
    file.original[static_cast<std::size_t>(next[static_cast<std::size_t>(primary[i])]++)] = i;
  }
  // Within each list, the rows farthest from its centroid first: the rows
  // of a list that can be near a query outside it are then a prefix (ivfKnn).
  file.centroidDistances.resize(static_cast<std::size_t>(n));
  at::parallel_for(0, file.lists, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> row(static_cast<std::size_t>(d));
    std::vector<std::pair<float, int64_t>> order;
    for (int64_t l = begin; l < end; ++l)
    {
      const int64_t first = file.offsets[static_cast<std::size_t>(l)];
      const int64_t last = file.offsets[static_cast<std::size_t>(l) + 1];
      const float* centroid = file.centroids.data() + l * d;
      order.clear();
      for (int64_t s = first; s < last; ++s)
      {
        const int64_t original = file.original[static_cast<std::size_t>(s)];
        indexRow(points, norms, options.metric, original, row.data());
        order.emplace_back(
          static_cast<float>(std::sqrt(squaredEuclidean(row.data(), centroid, d))), original);
      }
      std::sort(order.begin(), order.end(), [](const auto& x, const auto& y) {
        return x.first > y.first || (x.first == y.first && x.second < y.second);
      });
      for (int64_t s = first; s < last; ++s)
      {
        file.centroidDistances[static_cast<std::size_t>(s)] = order[s - first].first;
        file.original[static_cast<std::size_t>(s)] = order[s - first].second;
      }
    }
  });
  file.stored.resize(static_cast<std::size_t>(n));
  for (int64_t s = 0; s < n; ++s)
  {
    file.stored[static_cast<std::size_t>(file.original[static_cast<std::size_t>(s)])] = s;
  }
  file.rows.reset(new float[static_cast<std::size_t>(n * d)]);
  file.squaredNorms.resize(static_cast<std::size_t>(n));
  at::parallel_for(0, n, 1024, [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s)
    {
      float* row = file.rows.get() + s * d;
      indexRow(points, norms, options.metric, file.original[static_cast<std::size_t>(s)], row);
      file.squaredNorms[static_cast<std::size_t>(s)] = static_cast<float>(squaredNorm(row, d));
    }
  });
  return file;
}

/// For each of the `count` query vectors (as the index stores rows: unit
/// length for cosine), the `keep` rows of `points` nearest by float32 keys,
/// row self(i) excluded: candidates of its exact neighbours, to be re-ranked
/// in double. One matrix product per tile of 8192 rows; `tick` (if any) gets
/// the fraction done after each tile.
std::vector<std::vector<Candidate>> exactCandidates(const SearchMatrix& points,
  const std::vector<double>& norms, DistanceMetric metric, const float* queries, int64_t count,
  const std::function<int64_t(int64_t)>& self, std::size_t keep,
  const std::function<void(double)>& tick = nullptr)
{
  const int64_t n = points.rows, d = points.cols;
  std::vector<std::vector<Candidate>> heaps(static_cast<std::size_t>(count));
  constexpr int64_t tile = 8192;
  std::vector<float> targets(static_cast<std::size_t>(std::min(tile, n) * d));
  for (int64_t begin = 0; begin < n; begin += tile)
  {
    const int64_t size = std::min(tile, n - begin);
    at::parallel_for(0, size, 256, [&](int64_t first, int64_t last) {
      for (int64_t j = first; j < last; ++j)
      {
        indexRow(points, norms, metric, begin + j, targets.data() + j * d);
      }
    });
    const std::vector<float> targetNorms = squaredNormsOf(targets.data(), size, d);
    scoreTiles(
      queries, count, targets.data(), size, targetNorms, d, [&](int64_t i, const float* keys) {
        std::vector<Candidate>& heap = heaps[static_cast<std::size_t>(i)];
        const int64_t skip = self(i);
        for (int64_t j = 0; j < size; ++j)
        {
          if (begin + j != skip)
          {
            keepSmallest(heap, keep, Candidate(keys[j], begin + j));
          }
        }
      });
    if (tick)
    {
      tick(static_cast<double>(begin + size) / n);
    }
  }
  return heaps;
}

/// The same for rows of `points` as queries (each excluding itself).
std::vector<std::vector<Candidate>> exactCandidates(const SearchMatrix& points,
  const std::vector<double>& norms, DistanceMetric metric, const std::vector<int64_t>& rows,
  std::size_t keep, const std::function<void(double)>& tick = nullptr)
{
  const int64_t d = points.cols, count = static_cast<int64_t>(rows.size());
  std::vector<float> queries(static_cast<std::size_t>(count * d));
  for (int64_t i = 0; i < count; ++i)
  {
    indexRow(points, norms, metric, rows[static_cast<std::size_t>(i)], queries.data() + i * d);
  }
  return exactCandidates(
    points, norms, metric, queries.data(), count,
    [&rows](int64_t i) { return rows[static_cast<std::size_t>(i)]; }, keep, tick);
}

/// The rows whose neighbours lie farthest (the largest mean distance to the
/// neighbours found; 0.2 % of the query rows) searched again against every
/// row. An isolated row's nearest rows are scattered over many lists, so the
/// lists serve it worst, and these are the rows an outlier score ranks
/// first: at 10^6 rows, 2000 rows against all, about a third of the search.
void searchFarRowsExactly(const SearchMatrix& points, const std::vector<double>& norms,
  DistanceMetric metric, KnnResult& result, const ProgressCallback& progress, double from)
{
  const std::size_t k = static_cast<std::size_t>(result.k);
  std::vector<int64_t> rows;
  for (int64_t r : farRows(result))
  {
    const int64_t q = result.firstRow + r;
    if (!(metric == DistanceMetric::Cosine && norms[static_cast<std::size_t>(q)] == 0.0))
    {
      rows.push_back(q); // (a zero row's cosine neighbours follow a rule, already applied)
    }
  }
  const std::vector<std::vector<Candidate>> heaps = exactCandidates(points, norms, metric, rows,
    k + 5, [&](double f) { reportProgress(progress, from + (1.0 - from) * f); });
  std::vector<int64_t> candidates;
  std::vector<Candidate> scratch;
  for (std::size_t i = 0; i < rows.size(); ++i)
  {
    candidates.clear();
    for (const Candidate& c : heaps[i])
    {
      candidates.push_back(c.second);
    }
    rerankRow(points, norms, metric, rows[i], candidates.data(), candidates.size(), result,
      rows[i] - result.firstRow, scratch);
  }
}

/// The queries an inverted file answers: for query i its vector as the index
/// stores rows, and its `probes` nearest lists with their squared distances.
struct IvfQueries
{
  int64_t count = 0;
  std::function<const float*(int64_t)> vector;
  const int32_t* lists = nullptr;       // count x probes, nearest first
  const float* listDistances = nullptr; // |x - centroid|^2, beside them
};

/// For each query, the `keep` indexed rows nearest by float32 keys that its
/// lists hold; finish(i, heap, scratch) then runs for query i on the thread
/// that searched it (results of different queries may be written in
/// parallel). Progress runs from `from` to `to`.
template <typename Finish>
void collectCandidates(const InvertedFile& file, int64_t d, const IvfQueries& queries,
  std::size_t keep, const ProgressCallback& progress, double from, double to, const Finish& finish)
{
  // The queries in the order of their nearest list, in chunks: a chunk's
  // queries read mostly the same lists, each list once per chunk.
  const int64_t nq = queries.count;
  const int probes = file.probes;
  std::vector<int64_t> order(static_cast<std::size_t>(nq));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
    [&](int64_t a, int64_t b) { return queries.lists[a * probes] < queries.lists[b * probes]; });
  constexpr int64_t chunkSize = 512;
  const int64_t chunks = (nq + chunkSize - 1) / chunkSize;
  // A query of the chunk reading the first `rows` rows of a list.
  struct Read
  {
    int32_t list, query;
    int64_t rows;
    bool operator<(const Read& other) const
    {
      return this->list < other.list || (this->list == other.list && this->query < other.query);
    }
  };
  // A chunk's buffers, reused from chunk to chunk by each thread.
  struct Scratch
  {
    std::vector<Read> reads;                   // the lists the chunk's queries read
    std::vector<std::vector<Candidate>> heaps; // per query: the best `keep` keys so far
    std::vector<float> worst;                  // per query: its heap's largest key, once full
    std::vector<float> queryRows, scores;
    std::vector<Candidate> rerank;
  };
  const auto searchChunk = [&](int64_t chunk, Scratch& t) {
    const int64_t first = chunk * chunkSize, count = std::min(chunkSize, nq - first);
    const auto queryOf = [&](int64_t i) { return order[static_cast<std::size_t>(first + i)]; };
    const auto probe = [&](int64_t i, int p) {
      return static_cast<std::size_t>(queryOf(i) * probes + p);
    };
    t.heaps.resize(static_cast<std::size_t>(count));
    for (auto& heap : t.heaps)
    {
      heap.clear();
    }
    t.worst.assign(static_cast<std::size_t>(count), std::numeric_limits<float>::infinity());
    // Scores the (list, query) pairs of t.reads: one product per list.
    const auto readLists = [&] {
      std::sort(t.reads.begin(), t.reads.end());
      for (std::size_t r = 0; r < t.reads.size();)
      {
        const int32_t list = t.reads[r].list;
        std::size_t end = r;
        int64_t size = 0; // the longest prefix its queries read
        while (end < t.reads.size() && t.reads[end].list == list)
        {
          size = std::max(size, t.reads[end].rows);
          ++end;
        }
        const int64_t m = static_cast<int64_t>(end - r);
        const int64_t begin = file.offsets[static_cast<std::size_t>(list)];
        if (size > 0)
        {
          t.queryRows.resize(static_cast<std::size_t>(m * d));
          for (int64_t i = 0; i < m; ++i)
          {
            std::copy_n(
              queries.vector(queryOf(t.reads[r + i].query)), d, t.queryRows.data() + i * d);
          }
          t.scores.resize(static_cast<std::size_t>(m * size));
          floatGemm(false, true, m, size, d, t.queryRows.data(), d, file.rows.get() + begin * d, d,
            t.scores.data());
          const float* listNorms = file.squaredNorms.data() + begin;
          const int64_t* listRows = file.original.data() + begin;
          for (int64_t i = 0; i < m; ++i)
          {
            const std::size_t query = static_cast<std::size_t>(t.reads[r + i].query);
            std::vector<Candidate>& heap = t.heaps[query];
            float& worst = t.worst[query];
            const float* s = t.scores.data() + i * size;
            for (int64_t j = 0; j < size; ++j)
            {
              const float key = listNorms[j] - 2.0f * s[j];
              if (key > worst) // most rows: farther than all kept ones
              {
                continue;
              }
              keepSmallest(heap, keep, Candidate(key, listRows[j]));
              if (heap.size() == keep)
              {
                worst = static_cast<float>(heap.front().first);
              }
            }
          }
        }
        r = end;
      }
    };
    // First each query's own list, then of the other probed lists the rows
    // that can still be nearer than the farthest row kept: none of list l's
    // rows y is nearer to x than |x - c_l| - |y - c_l| (triangle
    // inequality), and the rows are stored farthest from c_l first, so those
    // rows are a prefix of the list. On separated clusters most probes read
    // nothing or a few outlying rows; the result is the same as reading all.
    const auto listRows = [&](int32_t list) {
      return file.offsets[static_cast<std::size_t>(list) + 1] -
        file.offsets[static_cast<std::size_t>(list)];
    };
    t.reads.clear();
    for (int64_t i = 0; i < count; ++i)
    {
      const int32_t list = queries.lists[probe(i, 0)];
      t.reads.push_back({ list, static_cast<int32_t>(i), listRows(list) });
    }
    readLists();
    t.reads.clear();
    for (int64_t i = 0; i < count; ++i)
    {
      const float squared = static_cast<float>(squaredNorm(queries.vector(queryOf(i)), d));
      // The distance of the farthest row kept, widened for float rounding.
      const float reach = t.heaps[static_cast<std::size_t>(i)].size() == keep
        ? std::sqrt(std::max(0.0f, t.worst[static_cast<std::size_t>(i)] + squared) * 1.001f +
            1e-3f * squared)
        : std::numeric_limits<float>::infinity();
      for (int p = 1; p < probes; ++p)
      {
        const int32_t list = queries.lists[probe(i, p)];
        // Rows nearer than `reach` lie at least this far from the centroid.
        const float least = std::sqrt(queries.listDistances[probe(i, p)]) - reach;
        const float* distances =
          file.centroidDistances.data() + file.offsets[static_cast<std::size_t>(list)];
        const int64_t rows = least <= 0.0f
          ? listRows(list)
          : std::partition_point(distances, distances + listRows(list),
              [least](float distance) { return distance >= least; }) -
            distances;
        if (rows > 0)
        {
          t.reads.push_back({ list, static_cast<int32_t>(i), rows });
        }
      }
    }
    readLists();
    for (int64_t i = 0; i < count; ++i)
    {
      finish(queryOf(i), t.heaps[static_cast<std::size_t>(i)], t.rerank);
    }
  };
  const int64_t round = std::max<int64_t>(1, (chunks + 39) / 40);
  for (int64_t c = 0; c < chunks; c += round)
  {
    const int64_t last = std::min(chunks, c + round);
    at::parallel_for(c, last, 1, [&](int64_t begin, int64_t end) {
      Scratch scratch;
      for (int64_t chunk = begin; chunk < end; ++chunk)
      {
        searchChunk(chunk, scratch);
      }
    });
    reportProgress(progress, from + (to - from) * static_cast<double>(last) / chunks);
  }
}

void checkIvfParameters(const IvfParameters& parameters)
{
  if (parameters.probes < 1 || parameters.lists < 0 || parameters.trainingIterations < 0 ||
    parameters.trainingRowsPerList < 1)
  {
    throw ModelError("The IVF parameters must be positive (lists " +
      std::to_string(parameters.lists) + ", probes " + std::to_string(parameters.probes) +
      "); use e.g. 0 lists (automatic) and 16 probes.");
  }
}

} // namespace

void ivfKnn(const SearchMatrix& points, int64_t queryBegin, int64_t queryEnd,
  const KnnOptions& options, KnnResult& result)
{
  const int64_t d = points.cols;
  const DistanceMetric metric = options.metric;
  checkIvfParameters(options.search.ivf);
  reportProgress(options.progress, 0.0);
  const std::vector<double> norms = rowNorms(points);
  const std::vector<int64_t> zeroRows = zeroNormRows(norms);
  const InvertedFile file = buildInvertedFile(points, norms, queryBegin, queryEnd, options);
  result.lists = file.lists;
  IvfQueries queries;
  queries.count = queryEnd - queryBegin;
  // The queries are indexed rows: read from the index, not normalised again.
  queries.vector = [&](int64_t i) {
    return file.rows.get() + file.stored[static_cast<std::size_t>(queryBegin + i)] * d;
  };
  queries.lists = file.queryLists.data();
  queries.listDistances = file.queryListDistances.data();
  const std::size_t keep = static_cast<std::size_t>(result.k) + 5; // self, and float rounding
  collectCandidates(file, d, queries, keep, options.progress, 0.2, 0.9,
    [&](int64_t row, const std::vector<Candidate>& heap, std::vector<Candidate>& scratch) {
      const int64_t q = queryBegin + row;
      if (metric == DistanceMetric::Cosine && norms[static_cast<std::size_t>(q)] == 0.0)
      {
        zeroCosineRow(points, zeroRows, q, result, row);
        return;
      }
      std::vector<int64_t> candidates(heap.size());
      std::transform(
        heap.begin(), heap.end(), candidates.begin(), [](const Candidate& c) { return c.second; });
      rerankRow(
        points, norms, metric, q, candidates.data(), candidates.size(), result, row, scratch);
    });
  searchFarRowsExactly(points, norms, metric, result, options.progress, 0.9);
}

IvfShard::IvfShard(const SearchMatrix& points, DistanceMetric metric,
  const IvfParameters& parameters, const ProgressCallback& progress)
  : Points(points)
  , Metric(metric)
  , Norms(rowNorms(points))
  , ZeroRows(zeroNormRows(Norms))
{
  checkIvfParameters(parameters);
  if (points.rows > 0)
  {
    KnnOptions options;
    options.metric = metric;
    options.search.ivf = parameters;
    options.progress = progress;
    this->File.reset(new InvertedFile(buildInvertedFile(points, this->Norms, 0, 0, options)));
  }
  reportProgress(progress, 1.0);
}

IvfShard::~IvfShard() = default;

int64_t IvfShard::lists() const
{
  return this->File ? this->File->lists : 0;
}

void IvfShard::search(const float* queries, int64_t count, const int64_t* self, int k, bool exact,
  std::vector<int64_t>& indices, std::vector<float>& distances) const
{
  const SearchMatrix& points = this->Points;
  const int64_t d = points.cols;
  const std::size_t kk = static_cast<std::size_t>(k);
  indices.assign(static_cast<std::size_t>(count) * kk, -1);
  distances.assign(indices.size(), std::numeric_limits<float>::infinity());
  if (!this->File || count == 0 || k < 1)
  {
    return;
  }
  // The queries as the index stores rows (unit length for cosine).
  std::vector<double> queryNorms(static_cast<std::size_t>(count));
  std::vector<float> vectors(static_cast<std::size_t>(count * d));
  for (int64_t i = 0; i < count; ++i)
  {
    const float* x = queries + i * d;
    queryNorms[static_cast<std::size_t>(i)] = std::sqrt(squaredNorm(x, d));
    const double norm = queryNorms[static_cast<std::size_t>(i)];
    const float scale = this->Metric != DistanceMetric::Cosine ? 1.0f
      : norm > 0.0                                             ? static_cast<float>(1.0 / norm)
                                                               : 0.0f;
    std::transform(x, x + d, vectors.data() + i * d, [scale](float v) { return v * scale; });
  }
  // Query i's neighbours from its candidates: exact distances, self left out;
  // too few distinct candidates fall back to every row.
  const auto finish = [&](int64_t i, const std::vector<Candidate>& heap,
                        std::vector<Candidate>& scratch) {
    const float* x = queries + i * d;
    const int64_t skip = self[i];
    const double norm = queryNorms[static_cast<std::size_t>(i)];
    scratch.clear();
    if (this->Metric == DistanceMetric::Cosine && norm == 0.0)
    {
      // A zero vector: the zero rows at distance 0, then the others at 1, by index.
      for (int64_t z : this->ZeroRows)
      {
        if (z != skip && scratch.size() < kk)
        {
          scratch.emplace_back(0.0, z);
        }
      }
      for (int64_t j = 0; j < points.rows && scratch.size() < kk; ++j)
      {
        if (j != skip && this->Norms[static_cast<std::size_t>(j)] != 0.0)
        {
          scratch.emplace_back(1.0, j);
        }
      }
    }
    else
    {
      SearchMatrix::Scratch centred = points.scratch();
      const auto add = [&](int64_t j) {
        if (j != skip)
        {
          scratch.emplace_back(exactDistance(x, points.row(j, centred.at(0)), d, norm,
                                 this->Norms[static_cast<std::size_t>(j)], this->Metric),
            j);
        }
      };
      for (const Candidate& c : heap)
      {
        add(c.second);
      }
      std::sort(scratch.begin(), scratch.end(), candidateLess);
      scratch.erase(std::unique(scratch.begin(), scratch.end(),
                      [](const Candidate& a, const Candidate& b) { return a.second == b.second; }),
        scratch.end());
      const int64_t available = points.rows - (skip >= 0 && skip < points.rows ? 1 : 0);
      if (static_cast<int64_t>(scratch.size()) < std::min<int64_t>(k, available))
      {
        scratch.clear(); // the lists held too few rows: every row
        for (int64_t j = 0; j < points.rows; ++j)
        {
          add(j);
        }
        std::sort(scratch.begin(), scratch.end(), candidateLess);
      }
    }
    const std::size_t kept = std::min(kk, scratch.size());
    for (std::size_t j = 0; j < kept; ++j)
    {
      indices[static_cast<std::size_t>(i) * kk + j] = scratch[j].second;
      distances[static_cast<std::size_t>(i) * kk + j] = static_cast<float>(scratch[j].first);
    }
  };
  const std::size_t keep = kk + 5; // self, and float rounding
  if (exact)
  {
    const std::vector<std::vector<Candidate>> heaps = exactCandidates(
      points, this->Norms, this->Metric, vectors.data(), count,
      [self](int64_t i) { return self[i]; }, keep);
    std::vector<Candidate> scratch;
    for (int64_t i = 0; i < count; ++i)
    {
      finish(i, heaps[static_cast<std::size_t>(i)], scratch);
    }
    return;
  }
  // Each query's `probes` nearest lists, as buildInvertedFile finds them for its rows.
  const InvertedFile& file = *this->File;
  std::vector<int32_t> lists(static_cast<std::size_t>(count * file.probes));
  std::vector<float> listDistances(lists.size());
  const std::vector<float> centroidNorms = squaredNormsOf(file.centroids.data(), file.lists, d);
  std::vector<int32_t> ranked(static_cast<std::size_t>(file.lists));
  scoreTiles(vectors.data(), count, file.centroids.data(), file.lists, centroidNorms, d,
    [&](int64_t i, const float* keys) {
      std::iota(ranked.begin(), ranked.end(), 0);
      std::partial_sort(
        ranked.begin(), ranked.begin() + file.probes, ranked.end(), [keys](int32_t a, int32_t b) {
          return keys[a] < keys[b] || (keys[a] == keys[b] && a < b);
        });
      const float squared = static_cast<float>(squaredNorm(vectors.data() + i * d, d));
      for (int p = 0; p < file.probes; ++p)
      {
        lists[static_cast<std::size_t>(i * file.probes + p)] = ranked[p];
        listDistances[static_cast<std::size_t>(i * file.probes + p)] =
          std::max(0.0f, keys[ranked[p]] + squared);
      }
    });
  IvfQueries set;
  set.count = count;
  set.vector = [&](int64_t i) { return vectors.data() + i * d; };
  set.lists = lists.data();
  set.listDistances = listDistances.data();
  collectCandidates(file, d, set, keep, nullptr, 0.0, 1.0, finish);
}

} // namespace detail

int64_t ivfListCount(const IvfParameters& parameters, int64_t rows)
{
  if (parameters.lists > 0)
  {
    return std::max<int64_t>(1, std::min<int64_t>(parameters.lists, rows));
  }
  // 2 sqrt(rows) balances the two matrix products, rows x lists (assigning
  // the rows) and rows x probes x rows / lists (the search), for 16 probes
  // within a factor 2; lists of 64 rows at least.
  return std::max<int64_t>(
    1, std::min<int64_t>(rows / 64, std::llround(2.0 * std::sqrt(double(rows)))));
}

RecallSample exactRecallSample(const FeatureMatrix& points, int64_t queryBegin, int64_t queryEnd,
  int k, DistanceMetric metric, int64_t samples, unsigned int seed)
{
  return detail::recallSampleOf(points, queryBegin, queryEnd, k, metric, samples, seed);
}

namespace detail
{
RecallSample recallSampleOf(const SearchMatrix& points, int64_t queryBegin, int64_t queryEnd, int k,
  DistanceMetric metric, int64_t samples, unsigned int seed)
{
  RecallSample sample;
  const int64_t n = points.rows, d = points.cols;
  sample.k = static_cast<int>(std::min<int64_t>(k, std::max<int64_t>(0, n - 1)));
  const int64_t count = std::min(std::max<int64_t>(0, samples), queryEnd - queryBegin);
  if (count == 0 || sample.k == 0)
  {
    return sample;
  }
  std::mt19937_64 random(seed);
  sample.rows = randomRows(queryEnd - queryBegin, count, random);
  for (int64_t& row : sample.rows)
  {
    row += queryBegin;
  }
  const std::vector<double> norms = rowNorms(points);
  const std::vector<std::vector<Candidate>> heaps =
    exactCandidates(points, norms, metric, sample.rows, static_cast<std::size_t>(sample.k) + 5);
  const std::size_t kept = static_cast<std::size_t>(sample.k);
  sample.neighbors.resize(static_cast<std::size_t>(count) * kept);
  const std::vector<int64_t> zeroRows = zeroNormRows(norms);
  KnnResult zeroQuery; // a zero row's cosine neighbours: a rule, not a ranking
  zeroQuery.k = sample.k;
  zeroQuery.indices.resize(kept);
  zeroQuery.distances.resize(kept);
  SearchMatrix::Scratch rows = points.scratch(2);
  float* other = rows.at(1);
  for (int64_t i = 0; i < count; ++i)
  {
    const int64_t q = sample.rows[static_cast<std::size_t>(i)];
    auto* out = sample.neighbors.data() + static_cast<std::size_t>(i) * kept;
    if (metric == DistanceMetric::Cosine && norms[static_cast<std::size_t>(q)] == 0.0)
    {
      zeroCosineRow(points, zeroRows, q, zeroQuery, 0);
      std::copy(zeroQuery.indices.begin(), zeroQuery.indices.end(), out);
      continue;
    }
    std::vector<Candidate> exact;
    const float* x = points.row(q, rows.at(0));
    for (const Candidate& c : heaps[static_cast<std::size_t>(i)])
    {
      exact.emplace_back(
        exactDistance(x, points.row(c.second, other), d, norms[static_cast<std::size_t>(q)],
          norms[static_cast<std::size_t>(c.second)], metric),
        c.second);
    }
    std::sort(exact.begin(), exact.end(), candidateLess);
    for (std::size_t j = 0; j < kept; ++j)
    {
      out[j] = exact[j].second;
    }
  }
  return sample;
}
} // namespace detail

double recallOn(const RecallSample& sample, const KnnResult& result)
{
  if (sample.rows.empty() || result.k == 0)
  {
    return 1.0;
  }
  if (result.k > sample.k)
  {
    throw ModelError("The recall sample holds " + std::to_string(sample.k) +
      " exact neighbours per row; recall@" + std::to_string(result.k) + " needs more.");
  }
  const std::size_t k = static_cast<std::size_t>(result.k);
  int64_t found = 0;
  for (std::size_t i = 0; i < sample.rows.size(); ++i)
  {
    const int64_t row = sample.rows[i] - result.firstRow;
    if (row < 0 || row >= result.rows)
    {
      throw ModelError("The recall sample's rows lie outside the neighbour result's rows.");
    }
    const auto* approximate = result.indices.data() + static_cast<std::size_t>(row) * k;
    const auto* exact = sample.neighbors.data() + i * static_cast<std::size_t>(sample.k);
    for (std::size_t j = 0; j < k; ++j) // the exact k nearest: a prefix of the sample's list
    {
      found += std::find(approximate, approximate + k, exact[j]) != approximate + k;
    }
  }
  return static_cast<double>(found) /
    (static_cast<double>(sample.rows.size()) * static_cast<double>(k));
}

double estimateRecall(const FeatureMatrix& points, const KnnResult& result, DistanceMetric metric,
  int64_t samples, unsigned int seed)
{
  if (result.rows == 0 || result.k == 0 || samples < 1)
  {
    return 1.0;
  }
  return recallOn(exactRecallSample(points, result.firstRow, result.firstRow + result.rows,
                    result.k, metric, samples, seed),
    result);
}

} // namespace engine
} // namespace dualembed
