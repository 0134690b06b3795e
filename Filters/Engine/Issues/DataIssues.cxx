#include "DataIssues.h"

#include "EngineError.h"
#include "NumpyOrder.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>

namespace dualembed
{
namespace engine
{
namespace
{
// cleanlab.internal.constants
constexpr double kFloatingPointComparison = 1e-6;
constexpr double kConfidentThresholdsLowerBound = 2 * kFloatingPointComparison;
constexpr double kTinyValue = 1e-100;
constexpr double kEpsilon = 1e-6; // duplicate.py: median floor
// FiftyOne brain sklearn backend: above this many samples the neighbours come
// from NearestNeighbors on unit-normalised vectors instead of a full matrix.
constexpr int64_t kFiftyOneMaxPrecomputeDists = 15000;
constexpr int kUniquenessNeighbors = 3;

std::string countOf(int64_t bad, int64_t total)
{
  std::ostringstream text;
  text << bad << " of " << total;
  return text.str();
}

// Distances of row i to its graph neighbours, in double from the vectors.
std::vector<double> neighbourDistances(
  const FeatureMatrix& points, const KnnResult& knn, DistanceMetric metric)
{
  std::vector<double> out(knn.indices.size());
  for (int64_t i = 0; i < knn.rows; ++i)
  {
    for (int j = 0; j < knn.k; ++j)
    {
      const int64_t idx = i * knn.k + j;
      out[idx] = vectorDistance(
        points.row(knn.firstRow + i), points.row(knn.indices[idx]), points.cols, metric);
    }
  }
  return out;
}

// Standard normal CDF.
inline double normalCdf(double z)
{
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

// scipy.special.softmax then scipy.stats.entropy (pk normalised again,
// natural log) of one row; also returns the row's argmax (first maximum).
double rowEntropy(const double* x, int classes, bool isLogits, int& argmax)
{
  std::vector<double> p(x, x + classes);
  argmax = static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
  if (isLogits)
  {
    const double top = p[argmax];
    for (double& v : p)
    {
      v = std::exp(v - top);
    }
    const double sum = numpySum(p.data(), classes);
    for (double& v : p)
    {
      v /= sum;
    }
  }
  const double sum = numpySum(p.data(), classes);
  std::vector<double> entr(classes);
  for (int j = 0; j < classes; ++j)
  {
    const double pk = p[j] / sum;
    entr[j] = pk > 0 ? -pk * std::log(pk) : 0.0;
  }
  return numpySum(entr.data(), classes);
}

KnnResult emptyKnn()
{
  return KnnResult();
}
} // namespace

namespace
{
bool sameRow(const FeatureMatrix& points, int64_t a, int64_t b)
{
  return std::equal(points.row(a), points.row(a) + points.cols, points.row(b));
}

// The k neighbours of row i as Datalab's graph has them when distances tie
// exactly at the k-th place (exact duplicates of a neighbour): scikit-learn's
// brute-force kneighbors (cosine: np.argpartition of the row, then np.argsort
// of the k + 1, the sample itself removed), then cleanlab's exact-duplicate
// correction (the sample's own copies first, by index).
std::vector<int64_t> sklearnTiedNeighbours(
  const FeatureMatrix& points, int64_t i, int k, DistanceMetric metric)
{
  const int64_t n = points.rows;
  std::vector<double> row;
  distancesFrom(points, i, metric, row);
  std::vector<int64_t> t(n);
  std::iota(t.begin(), t.end(), int64_t{ 0 });
  numpyIntroselect(row.data(), t.data(), n, k);
  std::vector<double> chosen(k + 1);
  for (int j = 0; j <= k; ++j)
  {
    chosen[j] = row[t[j]];
  }
  const std::vector<int64_t> order = numpyArgsort(chosen);
  std::vector<int64_t> listed;
  for (int64_t o : order)
  {
    listed.push_back(t[o]);
  }
  auto self = std::find(listed.begin(), listed.end(), i);
  listed.erase(self != listed.end() ? self : listed.begin());
  // cleanlab's correction, for a sample with exact copies (at most k).
  std::vector<int64_t> copies;
  for (int64_t j = 0; j < n; ++j)
  {
    if (j != i && row[j] == 0 && sameRow(points, i, j))
    {
      copies.push_back(j);
    }
  }
  if (copies.empty() || static_cast<int>(copies.size()) > k)
  {
    return listed;
  }
  std::vector<int64_t> out = copies;
  for (int64_t j : listed)
  {
    if (static_cast<int>(out.size()) < k && !sameRow(points, i, j))
    {
      out.push_back(j);
    }
  }
  return out;
}
} // namespace

namespace
{
// cleanlab.internal.util.round_preserving_sum on one row.
std::vector<int64_t> roundPreservingSum(const std::vector<double>& floats)
{
  const int64_t n = static_cast<int64_t>(floats.size());
  std::vector<double> ints(floats.size());
  for (int64_t i = 0; i < n; ++i)
  {
    ints[i] = npRound(floats[i]);
  }
  const double origSum = npRound(numpySum(floats.data(), n));
  double intSum = npRound(numpySum(ints.data(), n));
  while (std::abs(intSum - origSum) > kFloatingPointComparison)
  {
    const double diff = npRound(origSum - intSum);
    const int increment = diff < 0.0 ? -1 : 1;
    const int64_t changes = std::min<int64_t>(static_cast<int64_t>(std::abs(diff)), n);
    std::vector<double> remainder(floats.size());
    for (int64_t i = 0; i < n; ++i)
    {
      remainder[i] = floats[i] - ints[i];
    }
    std::vector<int64_t> order = numpyArgsort(remainder);
    if (increment > 0)
    {
      std::reverse(order.begin(), order.end()); // [::-1]: the largest remainders first
    }
    for (int64_t c = 0; c < changes; ++c)
    {
      ints[order[c]] += increment;
    }
    intSum = npRound(numpySum(ints.data(), n));
  }
  std::vector<int64_t> out(floats.size());
  for (int64_t i = 0; i < n; ++i)
  {
    out[i] = static_cast<int64_t>(ints[i]);
  }
  return out;
}

// The samples of each class, in row order: members[offsets[k], offsets[k + 1]).
struct ClassMembers
{
  std::vector<int64_t> offsets;
  std::vector<int64_t> members;

  ClassMembers(const int32_t* labels, int64_t rows, int classes)
    : offsets(classes + 1, 0)
    , members(rows)
  {
    for (int64_t i = 0; i < rows; ++i)
    {
      ++offsets[labels[i] + 1];
    }
    std::partial_sum(offsets.begin(), offsets.end(), offsets.begin());
    std::vector<int64_t> next(offsets.begin(), offsets.end() - 1);
    for (int64_t i = 0; i < rows; ++i)
    {
      members[next[labels[i]]++] = i;
    }
  }
  int64_t count(int k) const { return offsets[k + 1] - offsets[k]; }
  const int64_t* of(int k) const { return members.data() + offsets[k]; }
};

// cleanlab.count.compute_confident_joint(calibrate=True), [given][true].
std::vector<int64_t> calibratedConfidentJoint(
  const ClassProbabilities& p, int64_t rows, const int32_t* labels, const ClassMembers& byClass)
{
  const int K = p.classes();
  // get_confident_thresholds: per-class mean of p[:, k] over samples labelled k
  // (np.mean of a 1-D copy: pairwise sum), 2 for an absent class, floored.
  std::vector<double> thresholds(K);
  std::vector<double> column;
  for (int k = 0; k < K; ++k)
  {
    column.resize(byClass.count(k));
    for (std::size_t m = 0; m < column.size(); ++m)
    {
      column[m] = p.value(byClass.of(k)[m], k);
    }
    const double value = column.empty()
      ? 2.0
      : numpySum(column.data(), static_cast<int64_t>(column.size())) / column.size();
    thresholds[k] = std::max(value, kConfidentThresholdsLowerBound);
  }
  std::vector<int64_t> joint(K * K, 0);
  std::vector<double> row(K);
  for (int64_t i = 0; i < rows; ++i)
  {
    p.row(i, row.data());
    int confident = 0;
    int firstConfident = 0;
    for (int j = 0; j < K; ++j)
    {
      if (row[j] >= thresholds[j] - 1e-6)
      {
        if (confident == 0)
        {
          firstConfident = j;
        }
        ++confident;
      }
    }
    if (confident == 0)
    {
      continue;
    }
    const int guess = confident > 1
      ? static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin())
      : firstConfident;
    ++joint[labels[i] * K + guess];
  }
  for (int k = 0; k < K; ++k)
  {
    joint[k * K + k] = std::max<int64_t>(joint[k * K + k], 1);
  }
  // calibrate_confident_joint: rows scaled to the label counts, the whole to N.
  std::vector<double> calibrated(K * K);
  for (int i = 0; i < K; ++i)
  {
    int64_t rowSum = 0;
    for (int j = 0; j < K; ++j)
    {
      rowSum += joint[i * K + j];
    }
    const double denominator = std::max(static_cast<double>(rowSum), kTinyValue);
    for (int j = 0; j < K; ++j)
    {
      calibrated[i * K + j] =
        static_cast<double>(joint[i * K + j]) / denominator * byClass.count(i);
    }
  }
  const double total = std::max(numpySum(calibrated.data(), K * K), kTinyValue);
  const double labelTotal = static_cast<double>(rows);
  std::vector<int64_t> out(K * K);
  for (int i = 0; i < K; ++i)
  {
    for (int j = 0; j < K; ++j)
    {
      row[j] = calibrated[i * K + j] / total * labelTotal;
    }
    const std::vector<int64_t> rounded = roundPreservingSum(row);
    std::copy(rounded.begin(), rounded.end(), out.begin() + i * K);
  }
  return out;
}

// A probability matrix given by the user (float32, N x K).
class MatrixProbabilities : public ClassProbabilities
{
public:
  explicit MatrixProbabilities(const FeatureMatrix& matrix)
    : Matrix(matrix)
  {
  }
  int classes() const override { return static_cast<int>(this->Matrix.cols); }
  void row(int64_t i, double* out) const override
  {
    std::copy_n(this->Matrix.row(i), this->Matrix.cols, out);
  }
  double value(int64_t i, int c) const override { return this->Matrix.row(i)[c]; }

private:
  const FeatureMatrix& Matrix;
};

// Datalab's out-of-sample kNN probabilities, made from the votes when read:
// KNeighborsClassifier(n_neighbors=k + 1).predict_proba on the training
// features (the sample is its own nearest neighbour), then Datalab removes
// its own vote: (p - onehot / (k + 1)) * (k + 1) / k.
class KnnVoteProbabilities : public ClassProbabilities
{
public:
  KnnVoteProbabilities(const KnnResult& votes, const int32_t* labels, int classes)
    : Votes(votes)
    , Labels(labels)
    , Classes(classes)
  {
  }
  int classes() const override { return this->Classes; }
  void row(int64_t i, double* out) const override
  {
    std::fill_n(out, this->Classes, 0.0);
    out[this->ownLabel(i)] += 1; // counts first, as predict_proba
    for (int j = 0; j < this->Votes.k; ++j)
    {
      out[this->Labels[this->Votes.indices[i * this->Votes.k + j]]] += 1;
    }
    for (int c = 0; c < this->Classes; ++c)
    {
      out[c] = this->probability(i, c, out[c]);
    }
  }
  double value(int64_t i, int c) const override
  {
    double count = this->ownLabel(i) == c ? 1.0 : 0.0;
    for (int j = 0; j < this->Votes.k; ++j)
    {
      count += this->Labels[this->Votes.indices[i * this->Votes.k + j]] == c ? 1.0 : 0.0;
    }
    return this->probability(i, c, count);
  }

private:
  int ownLabel(int64_t i) const { return this->Labels[this->Votes.firstRow + i]; }
  double probability(int64_t i, int c, double count) const
  {
    const double neighbours = this->Votes.k + 1.0;
    const double oneHot = c == this->ownLabel(i) ? 1.0 / neighbours : 0.0;
    return (count / neighbours - oneHot) * neighbours / this->Votes.k;
  }

  const KnnResult& Votes;
  const int32_t* Labels;
  int Classes;
};
} // namespace

LabelIssueResult findLabelIssues(
  const ClassProbabilities& p, int64_t rows, const int32_t* labels, int minExamplesPerClass)
{
  const int K = p.classes();
  const ClassMembers byClass(labels, rows, K);
  LabelIssueResult result;
  result.confidentJoint = calibratedConfidentJoint(p, rows, labels, byClass);
  result.isIssue.assign(rows, 0);
  result.score.resize(rows);
  for (int64_t i = 0; i < rows; ++i)
  {
    result.score[i] = static_cast<float>(p.value(i, labels[i]));
  }
  // filter._keep_at_least_n_per_class on the transposed joint (M[true][given]),
  // then _reduce_prune_counts' astype(int) (truncation).
  std::vector<double> M(K * K);
  for (int i = 0; i < K; ++i)
  {
    for (int j = 0; j < K; ++j)
    {
      M[i * K + j] = static_cast<double>(result.confidentJoint[j * K + i]);
    }
  }
  std::vector<int64_t> prune(K * K);
  for (int j = 0; j < K; ++j)
  {
    const double diagonal = M[j * K + j];
    const double newDiagonal = std::max(diagonal, static_cast<double>(minExamplesPerClass));
    const double diff = newDiagonal - diagonal;
    int nonZero = 0;
    for (int i = 0; i < K; ++i)
    {
      nonZero += M[i * K + j] != 0 ? 1 : 0;
    }
    const double noiseRates = std::max(nonZero - 1.0, 1.0);
    for (int i = 0; i < K; ++i)
    {
      double value = i == j ? newDiagonal : M[i * K + j] - diff / noiseRates;
      if (value < 0)
      {
        value = 0;
      }
      prune[i * K + j] = static_cast<int64_t>(value);
    }
  }
  // _prune_by_count per given class k: for every other class j, the
  // prune[j][k] samples labelled k with the largest p[:, j] - p[:, k]
  // (np.argsort(-margin), ties in NumPy's order).
  std::vector<double> own, negativeMargin;
  for (int k = 0; k < K; ++k)
  {
    const int64_t count = byClass.count(k);
    const int64_t* members = byClass.of(k);
    if (count <= minExamplesPerClass || count <= 1)
    {
      continue;
    }
    own.clear();
    for (int j = 0; j < K; ++j)
    {
      const int64_t toPrune = prune[j * K + k];
      if (j == k || toPrune <= 0)
      {
        continue;
      }
      if (own.empty())
      {
        own.resize(count);
        for (int64_t m = 0; m < count; ++m)
        {
          own[m] = p.value(members[m], k);
        }
      }
      negativeMargin.resize(count);
      for (int64_t m = 0; m < count; ++m)
      {
        negativeMargin[m] = -(p.value(members[m], j) - own[m]);
      }
      const std::vector<int64_t> order = numpyArgsort(negativeMargin);
      for (int64_t m = 0; m < std::min(toPrune, count); ++m)
      {
        result.isIssue[members[order[m]]] = 1;
      }
    }
  }
  // count._reduce_issues: no issue where the given label is (within 1e-6) the prediction.
  std::vector<double> row(K);
  for (int64_t i = 0; i < rows; ++i)
  {
    if (!result.isIssue[i])
    {
      continue;
    }
    p.row(i, row.data());
    int best = 0;
    double bestValue = row[0] + (labels[i] == 0 ? kFloatingPointComparison : 0.0);
    for (int j = 1; j < K; ++j)
    {
      const double value = row[j] + (labels[i] == j ? kFloatingPointComparison : 0.0);
      if (value > bestValue)
      {
        best = j;
        bestValue = value;
      }
    }
    if (best == labels[i])
    {
      result.isIssue[i] = 0;
    }
  }
  result.count = std::count(result.isIssue.begin(), result.isIssue.end(), uint8_t{ 1 });
  return result;
}

namespace
{
NearDuplicateResult nearDuplicatesFrom(
  const KnnResult& graph, const std::vector<double>& d, double threshold)
{
  const int64_t n = graph.rows;
  const int k = graph.k;
  NearDuplicateResult result;
  std::vector<double> nearest(n);
  for (int64_t i = 0; i < n; ++i)
  {
    nearest[i] = d[i * k];
  }
  // np.median: the middle value, or the mean of the two middle values.
  std::vector<double> sorted = nearest;
  std::sort(sorted.begin(), sorted.end());
  const double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
  result.medianNnDistance = std::max(median, kEpsilon);
  const double radius = threshold * result.medianNnDistance;
  // Sets are the neighbours within the radius, made reciprocal; a sample is
  // an issue when its set is not empty. Groups: connected components.
  std::vector<int64_t> parent(n);
  std::iota(parent.begin(), parent.end(), int64_t{ 0 });
  auto find = [&parent](int64_t i) {
    while (parent[i] != i)
    {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  result.isIssue.assign(n, 0);
  for (int64_t i = 0; i < n; ++i)
  {
    for (int j = 0; j < k; ++j)
    {
      if (d[i * k + j] < radius)
      {
        const int64_t other = graph.indices[i * k + j];
        result.isIssue[i] = 1;
        result.isIssue[other] = 1;
        const int64_t a = find(i), b = find(other);
        if (a != b)
        {
          parent[std::max(a, b)] = std::min(a, b);
        }
      }
    }
  }
  const double temperature = 1.0 / result.medianNnDistance;
  result.score.resize(n);
  result.setId.assign(n, -1);
  for (int64_t i = 0; i < n; ++i)
  {
    // np.isclose(d, 0): |d| <= 1e-8
    result.score[i] = std::abs(nearest[i]) <= 1e-8
      ? 0.0f
      : static_cast<float>(1.0 - std::exp(-temperature * nearest[i]));
    if (result.isIssue[i])
    {
      result.setId[i] = find(i); // the smallest index: roots are always the minimum
      result.sets += result.setId[i] == i ? 1 : 0;
      ++result.count;
    }
  }
  return result;
}

// noniid.py _get_statistics: max |foreground CDF - background CDF| of the
// sorted index distances (with N - 1 appended). Counting instead of sorting:
// within a run of equal values the difference is linear in the position, so
// its maximum is at an end of the run.
double nonIidStatistic(
  const std::vector<int64_t>& histogram, int64_t n, const std::vector<double>& backgroundCdf)
{
  int64_t total = 0;
  for (int64_t c : histogram)
  {
    total += c;
  }
  const double last = static_cast<double>(total - 1); // L - 1
  double statistic = 0;
  int64_t position = 0;
  for (int64_t value = 0; value < n; ++value)
  {
    const int64_t count = histogram[value];
    if (count == 0)
    {
      continue;
    }
    // background_cdf[value - 1], NumPy wrapping -1 to the last element.
    const double background = backgroundCdf[value >= 1 ? value - 1 : backgroundCdf.size() - 1];
    for (const int64_t t : { position, position + count - 1 })
    {
      statistic = std::max(statistic, std::abs(static_cast<double>(t) / last - background));
    }
    position += count;
  }
  return statistic;
}

// noniid.py _score_dataset for one sample.
double nonIidSampleScore(int64_t i, int64_t n, std::vector<int64_t>& sortedNeighbours)
{
  const int64_t k1 = static_cast<int64_t>(sortedNeighbours.size()); // k + 1, N - 1 last
  const int64_t middle = (n - 1) / 2;
  const int64_t dd = i > middle ? std::abs(i - (n - 1)) : i;
  const double nm1 = static_cast<double>(n - 1);
  const double areaBeginning = static_cast<double>(dd * dd) / nm1;
  const double length = static_cast<double>(n - 2 * dd - 1);
  const double a = 2.0 * static_cast<double>(dd) / nm1;
  const double areaMiddle = 0.5 * (a + 1) * length;
  std::vector<double> areaDiffs(k1);
  double previous = 0, previousBackground = 0;
  for (int64_t t = 0; t < k1; ++t)
  {
    const int64_t s = sortedNeighbours[t];
    double background;
    if (s <= dd)
    {
      background = static_cast<double>(s * s) / nm1;
    }
    else if (s <= n - dd - 1)
    {
      background = areaBeginning + 0.5 * (static_cast<double>((s + 3 * dd) * (s - dd)) / nm1);
    }
    else
    {
      background = areaBeginning + areaMiddle +
        (static_cast<double>(s) - static_cast<double>(n - dd - 1) * 1.0);
    }
    const double diff = static_cast<double>(s) - previous;
    const double foreground = (static_cast<double>(t) / static_cast<double>(k1 - 1)) * diff;
    areaDiffs[t] = std::abs(foreground - (background - previousBackground));
    previous = static_cast<double>(s);
    previousBackground = background;
  }
  const double stats = numpySum(areaDiffs.data(), k1);
  const double normalizer = static_cast<double>(i > n - i ? i : n - i);
  return std::tanh(-1 * (stats / normalizer)) + 1;
}
} // namespace

NearDuplicateResult findNearDuplicates(const KnnResult& graph, double threshold)
{
  std::vector<double> d(graph.distances.begin(), graph.distances.end());
  return nearDuplicatesFrom(graph, d, threshold);
}

NonIidResult testNonIid(
  const KnnResult& graph, int permutations, unsigned int seed, double significance)
{
  const int64_t n = graph.rows;
  const int k = graph.k;
  NonIidResult result;
  // background_distribution = (N - arange(1, N)) / (N (N - 1) / 2), cumsum.
  std::vector<double> backgroundCdf(n - 1);
  const double pairs = static_cast<double>(n * (n - 1)) / 2;
  double running = 0;
  for (int64_t j = 0; j < n - 1; ++j)
  {
    running += static_cast<double>(n - (j + 1)) / pairs;
    backgroundCdf[j] = running;
  }
  std::vector<int64_t> histogram(n, 0);
  for (int64_t i = 0; i < n; ++i)
  {
    for (int j = 0; j < k; ++j)
    {
      ++histogram[std::abs(i - graph.indices[i * k + j])];
    }
  }
  ++histogram[n - 1];
  result.statistic = nonIidStatistic(histogram, n, backgroundCdf);

  // _permutation_test: np.random.seed(seed), then np.random.permutation(N)
  // per round: MT19937 (std::mt19937 has the same seeding and output) and
  // NumPy's legacy shuffle (Fisher-Yates from the end, masked rejection).
  std::mt19937 generator(seed);
  auto interval = [&generator](uint64_t max) -> uint64_t {
    if (max == 0)
    {
      return 0;
    }
    uint64_t mask = max;
    for (int shift : { 1, 2, 4, 8, 16, 32 })
    {
      mask |= mask >> shift;
    }
    uint64_t value;
    if (max <= 0xffffffffULL)
    {
      while ((value = (static_cast<uint64_t>(generator()) & mask)) > max)
      {
      }
    }
    else
    {
      while ((value = (((static_cast<uint64_t>(generator()) << 32) | generator()) & mask)) > max)
      {
      }
    }
    return value;
  };
  std::vector<double> permutationStatistics(permutations);
  std::vector<int64_t> perm(n);
  for (int r = 0; r < permutations; ++r)
  {
    std::iota(perm.begin(), perm.end(), int64_t{ 0 });
    for (int64_t i = n - 1; i >= 1; --i)
    {
      std::swap(perm[i], perm[interval(static_cast<uint64_t>(i))]);
    }
    std::fill(histogram.begin(), histogram.end(), 0);
    for (int64_t i = 0; i < n; ++i)
    {
      for (int j = 0; j < k; ++j)
      {
        ++histogram[std::abs(perm[i] - perm[graph.indices[i * k + j]])];
      }
    }
    ++histogram[n - 1];
    permutationStatistics[r] = nonIidStatistic(histogram, n, backgroundCdf);
  }
  // gaussian_kde(statistics).integrate_box(statistic, 100): Scott's factor
  // n^(-1/5), unbiased variance; the 1-D box integral of the Gaussian mixture.
  const double count = static_cast<double>(permutations);
  const double mean =
    std::accumulate(permutationStatistics.begin(), permutationStatistics.end(), 0.0) / count;
  double squares = 0;
  for (double s : permutationStatistics)
  {
    squares += (s - mean) * (s - mean);
  }
  const double factor = std::pow(count, -1.0 / 5.0);
  const double variance = squares / (count - 1) * factor * factor;
  double p = 0;
  if (variance > 0 && std::isfinite(variance))
  {
    const double sigma = std::sqrt(variance);
    for (double s : permutationStatistics)
    {
      p += (normalCdf((100 - s) / sigma) - normalCdf((result.statistic - s) / sigma)) / count;
    }
  }
  else
  {
    // All permutations gave one value (scipy's KDE cannot be built): the
    // limit of a vanishing bandwidth.
    for (double s : permutationStatistics)
    {
      p += (s >= result.statistic ? 1.0 : 0.0) / count;
    }
  }
  result.pValue = p;

  result.scores.resize(n);
  std::vector<int64_t> sortedNeighbours(k + 1);
  for (int64_t i = 0; i < n; ++i)
  {
    for (int j = 0; j < k; ++j)
    {
      sortedNeighbours[j] = std::abs(i - graph.indices[i * k + j]);
    }
    std::sort(sortedNeighbours.begin(), sortedNeighbours.begin() + k);
    sortedNeighbours[k] = n - 1;
    result.scores[i] = nonIidSampleScore(i, n, sortedNeighbours);
  }
  if (result.pValue < significance)
  {
    result.flagged =
      std::min_element(result.scores.begin(), result.scores.end()) - result.scores.begin();
  }
  return result;
}

ClassImbalanceResult findClassImbalance(const int32_t* labels, int64_t rows, double threshold)
{
  ClassImbalanceResult result;
  if (rows == 0)
  {
    return result;
  }
  const int32_t top = *std::max_element(labels, labels + rows);
  std::vector<int64_t> counts(top + 1, 0);
  for (int64_t i = 0; i < rows; ++i)
  {
    ++counts[labels[i]];
  }
  // K = the number of classes Datalab knows: the distinct labels present.
  const int64_t distinct =
    std::count_if(counts.begin(), counts.end(), [](int64_t c) { return c > 0; });
  std::vector<double> fractions(counts.size());
  for (size_t c = 0; c < counts.size(); ++c)
  {
    fractions[c] = static_cast<double>(counts[c]) / static_cast<double>(rows);
  }
  result.rarestClass =
    static_cast<int>(std::min_element(fractions.begin(), fractions.end()) - fractions.begin());
  result.rarestFraction = fractions[result.rarestClass];
  result.thresholdFraction = threshold * (1.0 / static_cast<double>(distinct));
  result.isIssue = result.rarestFraction < result.thresholdFraction;
  return result;
}

int validateDataIssuesInput(const DataIssuesInput& input, const DataIssuesOptions& options)
{
  const int64_t n = input.rows;
  if (n <= 0 || input.labels == nullptr)
  {
    throw ModelError("Data Issues needs labels (e.g. the 'label' array) for every sample.");
  }
  const bool hasProbabilities = input.probabilities.rows > 0;
  if (hasProbabilities && input.probabilities.rows != n)
  {
    throw ModelError("The probability array has a different number of rows than the labels.");
  }
  int64_t negative = 0;
  int32_t top = 0;
  for (int64_t i = 0; i < n; ++i)
  {
    negative += input.labels[i] < 0 ? 1 : 0;
    top = std::max(top, input.labels[i]);
  }
  if (negative > 0)
  {
    throw ModelError(countOf(negative, n) +
      " labels are not class indices (negative, fractional or NaN); choose an integer class-index "
      "array such as 'label'.");
  }
  int classes = top + 1;
  if (hasProbabilities)
  {
    const FeatureMatrix& p = input.probabilities;
    classes = static_cast<int>(p.cols);
    if (classes < 2)
    {
      throw ModelError("The probability array needs one column per class (at least 2).");
    }
    int64_t outside = 0;
    for (int64_t i = 0; i < n; ++i)
    {
      outside += input.labels[i] >= classes ? 1 : 0;
    }
    if (outside > 0)
    {
      std::ostringstream text;
      text << countOf(outside, n) << " labels are outside 0.." << classes - 1
           << ", the columns of the probability array; the labels and the probabilities must come "
              "from the same classes.";
      throw ModelError(text.str());
    }
    requireFiniteRows(p, "the probability array");
    int64_t badRows = 0;
    for (int64_t i = 0; i < n; ++i)
    {
      double sum = 0;
      bool inRange = true;
      for (int64_t j = 0; j < p.cols; ++j)
      {
        const double v = p.row(i)[j];
        sum += v;
        inRange = inRange && v >= -1e-6 && v <= 1 + 1e-6;
      }
      badRows += (!inRange || std::abs(sum - 1.0) > 1e-3) ? 1 : 0;
    }
    if (badRows > 0)
    {
      throw ModelError(countOf(badRows, n) +
        " rows of the probability array are not probabilities (values outside [0, 1] or rows not "
        "summing to 1); choose a probs_* array (softmax outputs), not logits.");
    }
    if (input.logits.rows > 0)
    {
      if (input.logits.rows != n || input.logits.cols != p.cols)
      {
        throw ModelError("The logits array does not have the shape of the probability array.");
      }
      requireFiniteRows(input.logits, "the logits array");
    }
  }
  if (classes < 2 && options.labelIssues && !input.embeddings.empty())
  {
    throw ModelError("Label issues need at least 2 classes in the labels.");
  }
  const bool needsGraph = !input.embeddings.empty() &&
    (options.labelIssues || options.nearDuplicates || options.nonIid || options.uniqueness);
  if (needsGraph && n <= options.k)
  {
    std::ostringstream text;
    text << "Data Issues needs more samples than K = " << options.k << " neighbours (got " << n
         << "); use more samples or a smaller K.";
    throw ModelError(text.str());
  }
  for (const FeatureMatrix& embedding : input.embeddings)
  {
    if (embedding.rows != n)
    {
      throw ModelError("An embedding has a different number of rows than the labels.");
    }
    requireFiniteRows(embedding, "the embedding");
  }
  if (options.k < 1)
  {
    throw ModelError("K must be at least 1.");
  }
  return classes;
}

IssueNeighbors computeIssueNeighbors(
  const DataIssuesInput& input, const DataIssuesOptions& options, int64_t begin, int64_t end)
{
  IssueNeighbors out;
  const size_t count = input.embeddings.size();
  out.graph.resize(count);
  out.votes.resize(count);
  out.unique.resize(count);
  const bool graph = options.nearDuplicates || options.nonIid;
  const int jobsPerEmbedding =
    (graph ? 1 : 0) + (options.labelIssues ? 1 : 0) + (options.uniqueness ? 1 : 0);
  const int jobs = std::max<int>(1, jobsPerEmbedding * static_cast<int>(count));
  int job = 0;
  // `points` holds all rows. In a distributed run (options.neighbors.parts)
  // each rank searches with its own rows [begin, end) among every rank's
  // (DistributedNeighbors.h), indexing only those.
  const bool distributed = options.neighbors.parts != nullptr;
  auto search = [&](const FeatureMatrix& points, int k, DistanceMetric metric,
                  std::vector<double> center = {}) {
    KnnOptions knn;
    knn.k = k;
    knn.metric = metric;
    knn.search = options.neighbors;
    knn.center = std::move(center);
    const int current = job++;
    if (options.progress)
    {
      knn.progress = [&options, current, jobs](
                       double f) { return options.progress(0.9 * (current + f) / jobs); };
    }
    if (!distributed)
    {
      return computeKnn(points, begin, end, knn);
    }
    return computeKnn(FeatureMatrix{ points.row(begin), end - begin, points.cols }, knn);
  };
  for (size_t e = 0; e < count; ++e)
  {
    const FeatureMatrix& points = input.embeddings[e];
    if (graph)
    {
      // Datalab's graph: cosine above 3 dimensions, else euclidean. One more
      // neighbour shows where the k-th place is tied; such rows take the
      // neighbours scikit-learn would pick.
      const DistanceMetric metric = resolveMetric(MetricChoice::Auto, points.cols);
      const int k = options.k;
      const bool probe = input.rows > k + 1;
      KnnResult wide = search(points, probe ? k + 1 : k, metric);
      if (probe)
      {
        KnnResult graphK = wide;
        graphK.k = k;
        graphK.indices.resize(wide.rows * k);
        graphK.distances.resize(wide.rows * k);
        for (int64_t r = 0; r < wide.rows; ++r)
        {
          const int64_t i = wide.firstRow + r;
          const int64_t* nb = &wide.indices[r * (k + 1)];
          const float* nd = &wide.distances[r * (k + 1)];
          std::copy(nb, nb + k, &graphK.indices[r * k]);
          std::copy(nd, nd + k, &graphK.distances[r * k]);
          const double last =
            vectorDistance(points.row(i), points.row(nb[k - 1]), points.cols, metric);
          const double next = vectorDistance(points.row(i), points.row(nb[k]), points.cols, metric);
          if (last == next)
          {
            const std::vector<int64_t> tied = sklearnTiedNeighbours(points, i, k, metric);
            for (int j = 0; j < k; ++j)
            {
              graphK.indices[r * k + j] = tied[j];
              graphK.distances[r * k + j] = static_cast<float>(
                vectorDistance(points.row(i), points.row(tied[j]), points.cols, metric));
            }
            ++graphK.bruteForceRows;
          }
        }
        wide = std::move(graphK);
      }
      out.graph[e] = std::move(wide);
    }
    if (options.labelIssues)
    {
      // KNeighborsClassifier's default metric (minkowski, p = 2).
      out.votes[e] = search(points, options.k, DistanceMetric::Euclidean);
    }
    if (options.uniqueness && input.rows > kUniquenessNeighbors)
    {
      // FiftyOne centres the embeddings; the 4 nearest others are found in
      // float32 and their distances recomputed in double (computeDataIssues).
      // The search centres the rows as it reads them (no centred copy).
      std::vector<double> mean(points.cols, 0.0);
      for (int64_t i = 0; i < points.rows; ++i)
      {
        for (int64_t c = 0; c < points.cols; ++c)
        {
          mean[c] += points.row(i)[c];
        }
      }
      for (double& m : mean)
      {
        m /= static_cast<double>(points.rows);
      }
      out.unique[e] = search(points, kUniquenessNeighbors + 1, DistanceMetric::Cosine, mean);
    }
  }
  if (options.progress && !options.progress(0.9))
  {
    throw Aborted();
  }
  return out;
}

namespace
{
std::vector<float> uniquenessFrom(const FeatureMatrix& points, const KnnResult& knn)
{
  const int64_t n = points.rows;
  if (n <= kUniquenessNeighbors)
  {
    return std::vector<float>(n, 1.0f);
  }
  const int64_t d = points.cols;
  // embeddings -= embeddings.mean(axis=0): the row-by-row sum, then / N.
  std::vector<double> mean(d, 0.0);
  for (int64_t i = 0; i < n; ++i)
  {
    for (int64_t c = 0; c < d; ++c)
    {
      mean[c] += points.row(i)[c];
    }
  }
  for (double& m : mean)
  {
    m /= static_cast<double>(n);
  }
  // The centred rows are not stored (N x D doubles, 6 GB at 10^6 x 768):
  // each value is made again where needed, by the same subtraction.
  const auto centred = [&](int64_t i, int64_t c) {
    return static_cast<double>(points.row(i)[c]) - mean[c];
  };
  std::vector<double> norms(n);
  for (int64_t i = 0; i < n; ++i)
  {
    double squares = 0;
    for (int64_t c = 0; c < d; ++c)
    {
      const double v = centred(i, c);
      squares += v * v;
    }
    norms[i] = std::sqrt(squares);
  }
  // sklearn's cosine distance (a zero vector: similarity 0, distance 1); above
  // 15 000 samples FiftyOne takes the euclidean distance of the unit vectors.
  const bool euclideanOfUnitVectors = n > kFiftyOneMaxPrecomputeDists;
  auto distance = [&](int64_t a, int64_t b) {
    double dot = 0;
    for (int64_t c = 0; c < d; ++c)
    {
      dot += centred(a, c) * centred(b, c);
    }
    const double similarity = (norms[a] > 0 && norms[b] > 0) ? dot / (norms[a] * norms[b]) : 0.0;
    const double cosine = std::min(2.0, std::max(0.0, 1.0 - similarity));
    return euclideanOfUnitVectors ? std::sqrt(2.0 * cosine) : cosine;
  };
  std::vector<double> weighted(n);
  double largest = 0;
  const double weights[3] = { 0.6, 0.3, 0.1 };
  for (int64_t i = 0; i < n; ++i)
  {
    double dist[kUniquenessNeighbors + 1];
    for (int j = 0; j <= kUniquenessNeighbors; ++j)
    {
      dist[j] = distance(i, knn.indices[i * knn.k + j]);
    }
    std::sort(dist, dist + kUniquenessNeighbors + 1);
    // dists[:, 1:]: the nearest other sample is left out (see DATA-ISSUES.md).
    double sum = 0;
    for (int j = 0; j < kUniquenessNeighbors; ++j)
    {
      sum += dist[j + 1] * weights[j];
    }
    weighted[i] = sum / kUniquenessNeighbors;
    largest = std::max(largest, weighted[i]);
  }
  std::vector<float> out(n);
  for (int64_t i = 0; i < n; ++i)
  {
    out[i] = static_cast<float>(weighted[i] / largest);
  }
  return out;
}
} // namespace

DataIssuesResult computeDataIssues(
  const DataIssuesInput& input, const DataIssuesOptions& options, const IssueNeighbors& all)
{
  const int classes = validateDataIssuesInput(input, options);
  const int64_t n = input.rows;
  DataIssuesResult result;
  result.classes = classes;
  result.hasPredictions = input.probabilities.rows > 0;
  auto report = [&options](double fraction) {
    if (options.progress && !options.progress(fraction))
    {
      throw Aborted();
    }
  };
  if (result.hasPredictions && (options.labelIssues || options.mistakenness))
  {
    const MatrixProbabilities p(input.probabilities);
    if (options.labelIssues)
    {
      result.predictionLabels = findLabelIssues(p, n, input.labels, options.minExamplesPerClass);
    }
    if (options.mistakenness)
    {
      const bool logits = input.logits.rows > 0;
      const FeatureMatrix& scores = logits ? input.logits : input.probabilities;
      std::vector<double> x(classes);
      result.mistakenness.resize(n);
      result.hardness.resize(n);
      for (int64_t i = 0; i < n; ++i)
      {
        std::copy_n(scores.row(i), classes, x.data());
        int predicted = 0;
        const double entropy = rowEntropy(x.data(), classes, logits, predicted);
        const double m = (predicted == input.labels[i] ? 1.0 : 0.0) * -2.0 + 1.0;
        result.mistakenness[i] = static_cast<float>((m * std::exp(-1.0 * entropy) + 1.0) / 2.0);
        result.hardness[i] = static_cast<float>(entropy);
      }
    }
  }
  if (options.classImbalance)
  {
    result.classImbalance = findClassImbalance(input.labels, n, options.classImbalanceThreshold);
  }
  report(0.92);
  result.embeddings.resize(input.embeddings.size());
  for (size_t e = 0; e < input.embeddings.size(); ++e)
  {
    const FeatureMatrix& points = input.embeddings[e];
    EmbeddingIssues& out = result.embeddings[e];
    if (options.labelIssues)
    {
      out.labels = findLabelIssues(KnnVoteProbabilities(all.votes[e], input.labels, classes), n,
        input.labels, options.minExamplesPerClass);
    }
    if (options.nearDuplicates)
    {
      const KnnResult& graph = all.graph[e];
      const DistanceMetric metric = resolveMetric(MetricChoice::Auto, points.cols);
      out.nearDuplicates = nearDuplicatesFrom(
        graph, neighbourDistances(points, graph, metric), options.nearDuplicateThreshold);
    }
    if (options.nonIid)
    {
      out.nonIid = testNonIid(
        all.graph[e], options.nonIidPermutations, options.nonIidSeed, options.nonIidSignificance);
    }
    if (options.uniqueness)
    {
      out.uniqueness =
        uniquenessFrom(points, n > kUniquenessNeighbors ? all.unique[e] : emptyKnn());
    }
    report(0.92 + 0.08 * (e + 1) / input.embeddings.size());
  }
  return result;
}

DataIssuesResult computeDataIssues(const DataIssuesInput& input, const DataIssuesOptions& options)
{
  validateDataIssuesInput(input, options);
  return computeDataIssues(input, options, computeIssueNeighbors(input, options, 0, input.rows));
}

} // namespace engine
} // namespace dualembed
