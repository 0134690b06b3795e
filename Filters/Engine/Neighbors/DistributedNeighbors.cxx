#include "DistributedNeighbors.h"

#include "ApproximateNeighbors.h"
#include "EngineError.h"
#include "NeighborKernels.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <numeric>
#include <random>
#include <string>

namespace dualembed
{
namespace engine
{

int64_t PartExchange::totalRows() const
{
  int64_t total = 0;
  for (int p = 0; p < this->parts(); ++p)
  {
    total += this->rowCount(p);
  }
  return total;
}

double recallOverParts(
  const RecallSample& sample, const KnnResult& result, const PartExchange& exchange)
{
  const int64_t rows = static_cast<int64_t>(sample.rows.size());
  const int64_t found =
    rows == 0 ? 0 : std::llround(recallOn(sample, result) * static_cast<double>(rows) * result.k);
  const int64_t sampled = exchange.sum(rows);
  return sampled > 0 && result.k > 0
    ? static_cast<double>(exchange.sum(found)) / (static_cast<double>(sampled) * result.k)
    : -1.0;
}

void runAgreed(const PartExchange& exchange, const std::function<void()>& step)
{
  std::exception_ptr failure;
  int state = 2; // 2 done, 1 aborted, 0 failed
  try
  {
    step();
  }
  catch (const Aborted&)
  {
    failure = std::current_exception();
    state = 1;
  }
  catch (...)
  {
    failure = std::current_exception();
    state = 0;
  }
  const int everywhere = exchange.minimum(state);
  if (failure)
  {
    std::rethrow_exception(failure);
  }
  if (everywhere == 1)
  {
    throw Aborted("The computation was aborted on another MPI rank.");
  }
  if (everywhere == 0)
  {
    throw ModelError("The computation failed on another MPI rank (see its error).");
  }
}

namespace
{
/// gatherRows: each part's rows padded to the most any part has (the
/// exchange gathers equal lengths), the padding dropped on the root.
template <typename T>
std::vector<T> gatherPadded(
  const PartExchange& exchange, const std::vector<T>& local, int valuesPerRow, int root)
{
  int64_t most = 0;
  for (int p = 0; p < exchange.parts(); ++p)
  {
    most = std::max(most, exchange.rowCount(p));
  }
  const std::size_t width = static_cast<std::size_t>(most) * static_cast<std::size_t>(valuesPerRow);
  std::vector<T> padded(local);
  padded.resize(width);
  const std::vector<T> all = exchange.gather(padded, root);
  std::vector<T> rows;
  if (exchange.part() == root)
  {
    rows.reserve(
      static_cast<std::size_t>(exchange.totalRows()) * static_cast<std::size_t>(valuesPerRow));
    for (int p = 0; p < exchange.parts(); ++p)
    {
      const auto begin = all.begin() + static_cast<std::ptrdiff_t>(p * width);
      rows.insert(rows.end(), begin, begin + exchange.rowCount(p) * valuesPerRow);
    }
  }
  return rows;
}
} // namespace

std::vector<float> gatherRows(
  const PartExchange& exchange, const std::vector<float>& local, int valuesPerRow, int root)
{
  return gatherPadded(exchange, local, valuesPerRow, root);
}

std::vector<int64_t> gatherRows(
  const PartExchange& exchange, const std::vector<int64_t>& local, int valuesPerRow, int root)
{
  return gatherPadded(exchange, local, valuesPerRow, root);
}

namespace
{
using detail::Candidate;

/// Query rows sent to every part per round: 8192 x 768 float32 is 25 MB.
constexpr int64_t kChunkRows = 8192;

/// The k best of every part's answers to `count` queries (gathered part
/// after part, count x k each, -1 past the rows a part has), ties broken by
/// the smaller index, into row rowOf(i) of `result` for query i.
template <typename RowOf>
void mergeAnswers(const std::vector<int64_t>& indices, const std::vector<float>& distances,
  int parts, int64_t count, std::size_t k, const RowOf& rowOf, KnnResult& result)
{
  std::vector<Candidate> merged;
  for (int64_t i = 0; i < count; ++i)
  {
    merged.clear();
    for (int p = 0; p < parts; ++p)
    {
      const std::size_t at = static_cast<std::size_t>(p * count + i) * k;
      for (std::size_t j = 0; j < k && indices[at + j] >= 0; ++j)
      {
        merged.emplace_back(distances[at + j], indices[at + j]);
      }
    }
    std::sort(merged.begin(), merged.end(), detail::candidateLess);
    const std::size_t row = rowOf(i);
    for (std::size_t j = 0; j < k; ++j)
    {
      result.indices[row * k + j] = merged.at(j).second; // at: k <= the rows of all parts - 1
      result.distances[row * k + j] = static_cast<float>(merged[j].first);
    }
  }
}

/// The distributed search of one part: its shard and the rounds in which
/// every part answers the queries of each part in turn.
class DistributedSearch
{
public:
  DistributedSearch(
    const FeatureMatrix& local, const PartExchange& exchange, const KnnOptions& options, int k)
    : Local(local, options.center.empty() ? nullptr : options.center.data())
    , Exchange(exchange)
    , Options(options)
    , K(k)
    , Offset(exchange.firstRow(exchange.part()))
  {
  }

  void build(double to)
  {
    runAgreed(this->Exchange, [&] {
      this->Shard.reset(new detail::IvfShard(this->Local, this->Options.metric,
        this->Options.search.ivf, [&](double f) { return this->progress(f * to); }));
    });
  }

  /// The neighbours among all parts' rows of this part's rows `rows` (local
  /// indices), written to rows `rows` of `result` (`compact`: to rows 0, 1,
  /// ... in the order of `rows`). Collective.
  void answer(const std::vector<int64_t>& rows, bool exact, bool compact, KnnResult& result,
    double from, double to)
  {
    const int parts = this->Exchange.parts(), me = this->Exchange.part();
    const int64_t d = this->Local.cols;
    const std::size_t k = static_cast<std::size_t>(this->K);
    // How many queries each part sends (the same list on every part).
    int64_t totalQueries = 0, doneQueries = 0;
    std::vector<int64_t> perPart(static_cast<std::size_t>(parts));
    for (int p = 0; p < parts; ++p)
    {
      std::vector<int64_t> count{ static_cast<int64_t>(rows.size()) };
      this->Exchange.broadcast(count, p);
      perPart[static_cast<std::size_t>(p)] = count.at(0);
      totalQueries += count.at(0);
    }
    for (int source = 0; source < parts; ++source)
    {
      const int64_t queries = perPart[static_cast<std::size_t>(source)];
      for (int64_t begin = 0; begin < queries; begin += kChunkRows)
      {
        const int64_t count = std::min(kChunkRows, queries - begin);
        std::vector<float> vectors;
        std::vector<int64_t> self(static_cast<std::size_t>(count), -1);
        if (source == me)
        {
          vectors.resize(static_cast<std::size_t>(count * d));
          for (int64_t i = 0; i < count; ++i)
          {
            const int64_t row = rows[static_cast<std::size_t>(begin + i)];
            float* vector = vectors.data() + i * d; // centred as the shards index rows
            const float* x = this->Local.row(row, vector);
            if (x != vector)
            {
              std::copy_n(x, d, vector);
            }
            self[static_cast<std::size_t>(i)] = row;
          }
        }
        this->Exchange.broadcast(vectors, source);
        std::vector<int64_t> indices;
        std::vector<float> distances;
        runAgreed(this->Exchange, [&] {
          this->Shard->search(
            vectors.data(), count, self.data(), this->K, exact, indices, distances);
          for (int64_t& index : indices)
          {
            index = index < 0 ? -1 : index + this->Offset; // global indices
          }
          doneQueries += count;
          this->progress(from + (to - from) * static_cast<double>(doneQueries) / totalQueries);
        });
        const std::vector<int64_t> allIndices = this->Exchange.gather(indices, source);
        const std::vector<float> allDistances = this->Exchange.gather(distances, source);
        runAgreed(this->Exchange, [&] {
          if (source == me)
          {
            mergeAnswers(
              allIndices, allDistances, parts, count, k,
              [&](int64_t i) {
                const std::size_t at = static_cast<std::size_t>(begin + i);
                return compact ? at : static_cast<std::size_t>(rows[at]);
              },
              result);
          }
        });
      }
    }
  }

  /// The progress callback; throws Aborted when it returns false (on this part).
  bool progress(double fraction) const
  {
    detail::reportProgress(this->Options.progress, fraction);
    return true;
  }

  int64_t lists() const { return this->Shard ? this->Shard->lists() : 0; }

private:
  detail::SearchMatrix Local;
  const PartExchange& Exchange;
  const KnnOptions& Options;
  int K;
  int64_t Offset;
  std::unique_ptr<detail::IvfShard> Shard;
};

} // namespace

KnnResult computeDistributedKnn(const FeatureMatrix& localRows, const PartExchange& exchange,
  const KnnOptions& options, RecallSample* sample)
{
  const int64_t total = exchange.totalRows();
  runAgreed(exchange, [&] {
    if (localRows.rows != exchange.rowCount(exchange.part()))
    {
      throw ModelError("A part of the distributed neighbour search has " +
        std::to_string(localRows.rows) + " rows where " +
        std::to_string(exchange.rowCount(exchange.part())) + " were announced.");
    }
    if (options.k < 1)
    {
      throw ModelError(
        "The number of neighbours k must be at least 1 (it is " + std::to_string(options.k) + ").");
    }
    detail::requireCenter(localRows, options);
  });
  const int64_t bad = exchange.sum(countNonFiniteRows(localRows));
  if (bad > 0)
  {
    throw ModelError(std::to_string(bad) + " of " + std::to_string(total) +
      " rows of the embedding contain NaN or Inf values; remove or repair those samples first.");
  }
  KnnResult result;
  result.k = static_cast<int>(std::min<int64_t>(options.k, std::max<int64_t>(0, total - 1)));
  result.firstRow = exchange.firstRow(exchange.part());
  result.rows = localRows.rows;
  result.method = KnnMethod::Ivf;
  result.indices.assign(static_cast<std::size_t>(result.rows * result.k), -1);
  result.distances.assign(result.indices.size(), 0.0f);
  if (result.k == 0)
  {
    return result;
  }
  DistributedSearch search(localRows, exchange, options, result.k);
  search.build(0.2);
  result.lists = exchange.sum(search.lists());

  std::vector<int64_t> all(static_cast<std::size_t>(localRows.rows));
  std::iota(all.begin(), all.end(), 0);
  search.answer(all, false, false, result, 0.2, 0.85);
  // The far tail again, exactly (see searchFarRowsExactly in the serial search).
  search.answer(localRows.rows > 0 ? detail::farRows(result) : std::vector<int64_t>(), true, false,
    result, 0.85, 0.9);

  const int64_t samples = std::min<int64_t>(options.search.recallSamples, total);
  if (samples > 0)
  {
    // The same random global rows on every part (seeded); each part checks its own.
    std::mt19937_64 random(options.search.ivf.seed);
    std::vector<int64_t> mine;
    for (int64_t row : detail::randomRows(total, samples, random))
    {
      if (row >= result.firstRow && row < result.firstRow + result.rows)
      {
        mine.push_back(row - result.firstRow);
      }
    }
    std::sort(mine.begin(), mine.end());
    KnnResult exact;
    exact.indices.resize(mine.size() * static_cast<std::size_t>(result.k));
    exact.distances.resize(exact.indices.size());
    search.answer(mine, true, true, exact, 0.9, 1.0);
    RecallSample own;
    own.k = result.k;
    own.rows = std::move(mine);
    for (int64_t& row : own.rows)
    {
      row += result.firstRow;
    }
    own.neighbors = std::move(exact.indices);
    result.recall = recallOverParts(own, result, exchange);
    if (sample)
    {
      *sample = std::move(own);
    }
  }
  runAgreed(exchange, [&] { detail::reportProgress(options.progress, 1.0); });
  return result;
}

} // namespace engine
} // namespace dualembed
