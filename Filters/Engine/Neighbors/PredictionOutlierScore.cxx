#include "PredictionOutlierScore.h"

#include "EngineError.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

namespace dualembed
{
namespace engine
{

PredictionScoreResult computePredictionOutlierScore(
  const FeatureMatrix& probabilities, const int32_t* labels, const PredictionScoreOptions& options)
{
  PredictionScoreResult result;
  const int64_t n = probabilities.rows;
  const int64_t numClasses = probabilities.cols;
  if (n == 0)
  {
    return result;
  }
  if (probabilities.data == nullptr || numClasses < 2)
  {
    throw ModelError("The prediction outlier score needs probabilities of at least 2 classes per "
                     "sample; the input array has " +
      std::to_string(numClasses) + " component(s).");
  }
  requireFiniteRows(probabilities, "the probabilities");
  int64_t outOfRange = 0;
  for (int64_t i = 0; i < n; ++i)
  {
    const float* p = probabilities.row(i);
    if (std::any_of(p, p + numClasses, [](float v) { return v < 0.0f || v > 1.0f; }))
    {
      ++outOfRange;
    }
  }
  if (outOfRange > 0)
  {
    std::ostringstream message;
    message
      << outOfRange << " of " << n << " rows of the probabilities have values outside "
      << "[0, 1]; select an array of class probabilities (e.g. probs_<tag>, not logits_<tag>).";
    throw ModelError(message.str());
  }
  if (labels)
  {
    int64_t badLabels = 0;
    for (int64_t i = 0; i < n; ++i)
    {
      if (labels[i] < 0 || labels[i] >= numClasses)
      {
        ++badLabels;
      }
    }
    if (badLabels > 0)
    {
      std::ostringstream message;
      message << badLabels << " of " << n << " labels lie outside 0.." << numClasses - 1
              << " (the probabilities have " << numClasses
              << " classes); select the label array that matches the probabilities.";
      throw ModelError(message.str());
    }
  }
  else if (options.adjustPredProbs)
  {
    throw ModelError("The prediction outlier score with adjusted probabilities needs the labels; "
                     "select a label array.");
  }

  const std::size_t k = static_cast<std::size_t>(numClasses);
  std::vector<double> thresholds;
  if (options.adjustPredProbs)
  {
    // cleanlab.count.get_confident_thresholds
    std::vector<double> sum(k, 0.0);
    std::vector<int64_t> count(k, 0);
    double maxProbability = 0.0;
    for (int64_t i = 0; i < n; ++i)
    {
      const float* p = probabilities.row(i);
      const std::size_t label = static_cast<std::size_t>(labels[i]);
      sum[label] += static_cast<double>(p[label]);
      ++count[label];
      for (std::size_t j = 0; j < k; ++j)
      {
        maxProbability = std::max(maxProbability, static_cast<double>(p[j]));
      }
    }
    thresholds.resize(k);
    for (std::size_t j = 0; j < k; ++j)
    {
      const double threshold =
        count[j] > 0 ? sum[j] / static_cast<double>(count[j]) : 2.0 * maxProbability;
      thresholds[j] = std::max(threshold, 2e-6); // CONFIDENT_THRESHOLDS_LOWER_BOUND
    }
  }
  const double maxThreshold =
    thresholds.empty() ? 0.0 : *std::max_element(thresholds.begin(), thresholds.end());
  const double logK = std::log(static_cast<double>(numClasses));

  result.oodScore.resize(static_cast<std::size_t>(n));
  std::vector<double> adjusted(k);
  for (int64_t i = 0; i < n; ++i)
  {
    const float* p = probabilities.row(i);
    double rowSum = 0.0;
    for (std::size_t j = 0; j < k; ++j)
    {
      adjusted[j] = static_cast<double>(p[j]);
      if (options.adjustPredProbs)
      {
        adjusted[j] = adjusted[j] - thresholds[j] + maxThreshold;
      }
      rowSum += adjusted[j];
    }
    if (options.adjustPredProbs)
    {
      for (std::size_t j = 0; j < k; ++j)
      {
        // A row that adjusts to all zeros (cleanlab: 0/0 = NaN) counts as uniform.
        adjusted[j] = rowSum > 0.0 ? adjusted[j] / rowSum : 1.0 / static_cast<double>(k);
      }
    }
    double score;
    if (options.method == PredictionScoreMethod::Entropy)
    {
      double entropy = 0.0;
      for (std::size_t j = 0; j < k; ++j)
      {
        if (adjusted[j] > 0.0)
        {
          entropy -= adjusted[j] * std::log(adjusted[j]);
        }
      }
      score = 1.0 - entropy / logK;
    }
    else
    {
      score = *std::max_element(adjusted.begin(), adjusted.end());
    }
    result.oodScore[static_cast<std::size_t>(i)] = static_cast<float>(score);
  }

  if (labels)
  {
    result.labelQuality.resize(static_cast<std::size_t>(n));
    for (int64_t i = 0; i < n; ++i)
    {
      result.labelQuality[static_cast<std::size_t>(i)] = probabilities.row(i)[labels[i]];
    }
  }
  result.confidentThresholds = std::move(thresholds);
  return result;
}

} // namespace engine
} // namespace dualembed
