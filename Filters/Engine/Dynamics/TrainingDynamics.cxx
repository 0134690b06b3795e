#include "TrainingDynamics.h"

#include "DistributedNeighbors.h" // PartExchange
#include "EmbeddingChange.h"      // neighborOverlap
#include "EngineError.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <string>

namespace dualembed
{
namespace engine
{

TrainingDynamicsResult computeTrainingDynamics(
  const std::vector<CheckpointPredictions>& checkpoints, int64_t rows, int classes,
  const int32_t* labels)
{
  const size_t T = checkpoints.size();
  if (T == 0)
  {
    throw ModelError("Training dynamics need the predictions of at least one checkpoint.");
  }
  if (classes < 2)
  {
    throw ModelError("Training dynamics need at least two classes (the probabilities have " +
      std::to_string(classes) + " columns).");
  }
  TrainingDynamicsResult result;
  result.checkpoints = static_cast<int>(T);
  if (rows <= 0)
  {
    return result;
  }
  int64_t badLabels = 0;
  for (int64_t i = 0; i < rows; ++i)
  {
    badLabels += labels[i] < 0 || labels[i] >= classes ? 1 : 0;
  }
  if (badLabels > 0)
  {
    throw ModelError(std::to_string(badLabels) + " of " + std::to_string(rows) +
      " labels lie outside 0.." + std::to_string(classes - 1) + " (the checkpoints predict " +
      std::to_string(classes) + " classes); training dynamics need every sample's label.");
  }
  const bool withLogits = std::all_of(checkpoints.begin(), checkpoints.end(),
    [](const CheckpointPredictions& c) { return c.logits != nullptr; });
  for (size_t t = 0; t < T; ++t)
  {
    const auto finite = [&](const float* values) {
      return std::all_of(values, values + rows * classes, [](float v) { return std::isfinite(v); });
    };
    if (!checkpoints[t].probs || !finite(checkpoints[t].probs) ||
      (withLogits && !finite(checkpoints[t].logits)))
    {
      throw ModelError("The predictions of checkpoint " + std::to_string(t + 1) + " of " +
        std::to_string(T) +
        (checkpoints[t].probs ? " hold NaN or infinite values." : " are missing."));
    }
  }

  const size_t n = static_cast<size_t>(rows);
  result.confidence.resize(n);
  result.variability.resize(n);
  result.correctness.resize(n);
  result.forgettingEvents.resize(n);
  result.labelProbability.resize(n * T);
  if (withLogits)
  {
    result.aum.resize(n);
  }
  std::vector<double> gold(T);
  for (size_t i = 0; i < n; ++i)
  {
    const int y = labels[i];
    double sum = 0.0, marginSum = 0.0;
    int correctCount = 0, forgotten = 0;
    bool previousCorrect = false;
    for (size_t t = 0; t < T; ++t)
    {
      const float* p = checkpoints[t].probs + i * classes;
      gold[t] = static_cast<double>(p[y]);
      sum += gold[t];
      result.labelProbability[i * T + t] = p[y];
      const bool correct =
        std::max_element(p, p + classes) - p == y; // the first maximum, as np.argmax
      correctCount += correct ? 1 : 0;
      forgotten += t > 0 && previousCorrect && !correct ? 1 : 0;
      previousCorrect = correct;
      if (withLogits)
      {
        const float* z = checkpoints[t].logits + i * classes;
        double other = -INFINITY;
        for (int j = 0; j < classes; ++j)
        {
          other = j == y ? other : std::max(other, static_cast<double>(z[j]));
        }
        marginSum += static_cast<double>(z[y]) - other;
      }
    }
    const double mean = sum / static_cast<double>(T);
    double squares = 0.0;
    for (size_t t = 0; t < T; ++t)
    {
      squares += (gold[t] - mean) * (gold[t] - mean);
    }
    result.confidence[i] = static_cast<float>(mean);
    result.variability[i] = static_cast<float>(std::sqrt(squares / static_cast<double>(T)));
    result.correctness[i] =
      static_cast<float>(static_cast<double>(correctCount) / static_cast<double>(T));
    result.forgettingEvents[i] = correctCount == 0 ? static_cast<int32_t>(T) : forgotten;
    if (withLogits)
    {
      result.aum[i] = static_cast<float>(marginSum / static_cast<double>(T));
    }
  }
  return result;
}

namespace
{
/// One sentence for the searches of a series: the first checkpoint's, then
/// the range of the others' measured recall.
std::string seriesReport(const std::vector<std::string>& reports, const std::vector<KnnResult>& knn)
{
  std::ostringstream text;
  text << reports.front();
  if (knn.size() > 1)
  {
    text << " That was the first of " << knn.size() << " checkpoints;";
    double low = 2.0, high = -1.0;
    for (std::size_t t = 1; t < knn.size(); ++t)
    {
      if (knn[t].recall >= 0.0)
      {
        low = std::min(low, knn[t].recall);
        high = std::max(high, knn[t].recall);
      }
    }
    text << " the other " << knn.size() - 1 << " were searched the same way";
    if (high >= 0.0)
    {
      text << std::fixed << std::setprecision(4) << ": recall@" << knn[0].k << " ";
      if (low == high)
      {
        text << low;
      }
      else
      {
        text << "from " << low << " to " << high;
      }
    }
    text << ".";
  }
  return text.str();
}
} // namespace

EmbeddingDriftResult computeEmbeddingDrift(
  const std::vector<FeatureMatrix>& embeddings, const EmbeddingDriftOptions& options)
{
  const size_t T = embeddings.size();
  if (T == 0)
  {
    throw ModelError("The embedding drift needs the embedding of at least one checkpoint.");
  }
  if (options.k < 1)
  {
    throw ModelError(
      "The number of neighbours K of the embedding drift must be at least 1 (it is " +
      std::to_string(options.k) + ").");
  }
  // In a distributed run (options.neighbors.parts) the matrices hold this
  // part's rows: every part must decide alike before the collective searches,
  // so the row counts are agreed on, and the values are checked by the search.
  const PartExchange* parts = options.neighbors.parts.get();
  const int64_t local = embeddings[0].rows;
  size_t differing = T;
  for (size_t t = 0; t < T && differing == T; ++t)
  {
    differing = embeddings[t].rows != local ? t : T;
  }
  if ((parts ? parts->minimum(differing == T ? 1 : 0) : (differing == T ? 1 : 0)) == 0)
  {
    throw ModelError("The checkpoints' embeddings have different numbers of samples" +
      (differing < T ? " (" + std::to_string(local) + " and " +
            std::to_string(embeddings[differing].rows) + ")."
                     : " on another MPI rank."));
  }
  if (!parts)
  {
    for (size_t t = 0; t < T; ++t)
    {
      requireFiniteRows(embeddings[t], "the embedding of checkpoint " + std::to_string(t + 1));
    }
  }
  const int64_t total = searchedRows(embeddings[0], options.neighbors);
  const int64_t first = options.queries.begin;
  const int64_t end = options.queries.endFor(local);
  const size_t n = static_cast<size_t>(end - first);
  EmbeddingDriftResult result;
  result.toPrevious.assign(T * n, 0.0f);
  result.toFinal.assign(T * n, 0.0f);
  result.mean.assign(n, 0.0f);
  if (total < 2 || (n == 0 && !parts)) // a part without rows still answers the others' queries
  {
    return result; // no neighbours to lose
  }

  // Each checkpoint's kNN once; then overlaps with the one before and the last.
  // An approximate search says what it did once for the whole series, not
  // once per checkpoint: the first checkpoint's sentence, then the others' recall.
  std::vector<KnnResult> knn(T);
  std::vector<std::string> reports;
  for (size_t t = 0; t < T; ++t)
  {
    KnnOptions knnOptions;
    knnOptions.k = options.k;
    knnOptions.metric = resolveMetric(options.metric, embeddings[t].cols);
    knnOptions.search = options.neighbors;
    if (options.neighbors.report)
    {
      knnOptions.search.report = [&reports](const std::string& s) { reports.push_back(s); };
    }
    if (options.progress)
    {
      const ProgressCallback& progress = options.progress;
      knnOptions.progress = [&progress, t, T](double f) { return progress((t + f) / T); };
    }
    knn[t] = computeKnn(embeddings[t], first, end, knnOptions);
  }
  if (!reports.empty())
  {
    options.neighbors.report(seriesReport(reports, knn));
  }
  result.k = knn[0].k;
  const double k = static_cast<double>(result.k);
  // 1 - common / k, from the exact count as the Embedding Change does.
  const auto change = [k](float overlap) {
    return static_cast<float>(1.0 - std::round(static_cast<double>(overlap) * k) / k);
  };
  std::vector<double> sum(n, 0.0);
  for (size_t t = 0; t < T; ++t)
  {
    if (t > 0)
    {
      const std::vector<float> overlap = neighborOverlap(knn[t - 1], knn[t]);
      for (size_t i = 0; i < n; ++i)
      {
        result.toPrevious[t * n + i] = change(overlap[i]);
        sum[i] += result.toPrevious[t * n + i];
      }
    }
    if (t + 1 < T)
    {
      const std::vector<float> overlap = neighborOverlap(knn[t], knn[T - 1]);
      for (size_t i = 0; i < n; ++i)
      {
        result.toFinal[t * n + i] = change(overlap[i]);
      }
    }
  }
  if (T > 1)
  {
    for (size_t i = 0; i < n; ++i)
    {
      result.mean[i] = static_cast<float>(sum[i] / static_cast<double>(T - 1));
    }
  }
  return result;
}

} // namespace engine
} // namespace dualembed
