// Tests of the kNN engine (NearestNeighbors, EmbeddingOutlierScore,
// PredictionOutlierScore, EmbeddingNearestNeighbor, EmbeddingChange)
// against scikit-learn / cleanlab-formula references computed by
// Testing/Data/knn-reference/make_knn_reference.py on the first 3000
// Fashion-MNIST test images (committed as .npy files).
#include "DataIssues.h"
#include "DistributedNeighbors.h"
#include "EmbeddingChange.h"
#include "EmbeddingNearestNeighbor.h"
#include "EmbeddingOutlierScore.h"
#include "EngineError.h"
#include "NearestNeighbors.h"
#include "NeighborGraphs.h"
#include "NpyReader.h"
#include "PredictionOutlierScore.h"
#include "ThreadedParts.h"
#include "TrainingDynamics.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace dualembed::engine;
using dualembed::testdata::partsOf;
using dualembed::testdata::readNpy;
using dualembed::testdata::ThreadedParts;

namespace
{

const std::string kDataDir = std::string(DUALEMBED_TESTING_DATA_DIR) + "/knn-reference/";

template <typename T>
std::vector<T> load(const std::string& name, const std::string& descr)
{
  return readNpy(kDataDir + name).values<T>(descr);
}

struct Matrix
{
  std::vector<float> values;
  int64_t rows = 0;
  int64_t cols = 0;
  FeatureMatrix view() const
  {
    return FeatureMatrix{ values.empty() ? nullptr : values.data(), rows, cols };
  }
};

void setThreads()
{
  static bool done = false;
  if (!done)
  {
    at::set_num_threads(2);
    done = true;
  }
}

const Matrix& pixels()
{
  static Matrix m;
  if (m.rows == 0)
  {
    setThreads();
    const auto array = readNpy(kDataDir + "fmnist_pixels_u8.npy");
    const auto bytes = array.values<uint8_t>("|u1");
    m.rows = static_cast<int64_t>(array.shape.at(0));
    m.cols = static_cast<int64_t>(array.shape.at(1));
    m.values.assign(bytes.begin(), bytes.end());
  }
  return m;
}

Matrix lowDim()
{
  setThreads();
  const auto array = readNpy(kDataDir + "lowdim_points_f4.npy");
  Matrix m;
  m.values = array.values<float>("<f4");
  m.rows = static_cast<int64_t>(array.shape.at(0));
  m.cols = static_cast<int64_t>(array.shape.at(1));
  return m;
}

// Exact reference by brute force in double with the engine's distance
// definition and tie rule.
KnnResult bruteForce(const FeatureMatrix& x, int k, DistanceMetric metric)
{
  KnnResult r;
  r.rows = x.rows;
  r.k = static_cast<int>(std::min<int64_t>(k, std::max<int64_t>(0, x.rows - 1)));
  for (int64_t i = 0; i < x.rows; ++i)
  {
    std::vector<std::pair<double, int64_t>> all;
    for (int64_t j = 0; j < x.rows; ++j)
    {
      if (j != i)
      {
        all.emplace_back(vectorDistance(x.row(i), x.row(j), x.cols, metric), j);
      }
    }
    std::sort(all.begin(), all.end());
    for (int j = 0; j < r.k; ++j)
    {
      r.indices.push_back(all[static_cast<std::size_t>(j)].second);
      r.distances.push_back(static_cast<float>(all[static_cast<std::size_t>(j)].first));
    }
  }
  return r;
}

struct KnnComparison
{
  int64_t differentIds = 0;
  int64_t nonTieDifferences = 0;
  double maxDistanceDiff = 0.0;
};

// Compares our result with sklearn's ids and the directly recomputed
// distances of those ids. Where the ids differ, the two distances must be
// equal (an exact tie) within tieTolerance (relative for large distances).
KnnComparison compareWithReference(const KnnResult& ours, const std::vector<int32_t>& refIds,
  const std::vector<float>& refDistances, double tieTolerance)
{
  KnnComparison c;
  const std::size_t k = static_cast<std::size_t>(ours.k);
  EXPECT_EQ(refIds.size(), static_cast<std::size_t>(ours.rows) * k);
  for (std::size_t e = 0; e < refIds.size(); ++e)
  {
    const double ref = refDistances[e];
    const double diff = std::abs(static_cast<double>(ours.distances[e]) - ref);
    const double scale = std::max(1.0, std::abs(ref));
    c.maxDistanceDiff = std::max(c.maxDistanceDiff, diff / scale);
    if (ours.indices[e] != refIds[e])
    {
      ++c.differentIds;
      if (diff > tieTolerance * scale)
      {
        ++c.nonTieDifferences;
      }
    }
  }
  return c;
}

template <typename Value> // float or double
double maxAbsDiff(const std::vector<Value>& a, const std::vector<double>& b)
{
  EXPECT_EQ(a.size(), b.size());
  double m = 0.0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
  {
    m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  }
  return m;
}

template <typename F>
std::string errorMessage(F&& f)
{
  try
  {
    f();
  }
  catch (const ModelError& e)
  {
    return e.what();
  }
  return "";
}

} // namespace

// ---------------------------------------------------------------- exact kNN

class ExactKnn : public ::testing::TestWithParam<DistanceMetric>
{
};

TEST_P(ExactKnn, MatchesScikitLearnOnFashionMnist)
{
  const DistanceMetric metric = GetParam();
  const std::string name = metricName(metric);
  const Matrix& x = pixels();
  KnnOptions options;
  options.k = 10;
  options.metric = metric;
  int progressCalls = 0;
  double lastFraction = -1.0;
  options.progress = [&](double f) {
    EXPECT_GE(f, lastFraction);
    lastFraction = f;
    ++progressCalls;
    return true;
  };
  const auto start = std::chrono::steady_clock::now();
  const KnnResult ours = computeKnn(x.view(), options);
  const double seconds =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ timing ] exact %s kNN, %lld x %lld, k = 10, %d threads: %.3f s (%lld rows "
              "recomputed by brute force)\n",
    name.c_str(), static_cast<long long>(x.rows), static_cast<long long>(x.cols),
    at::get_num_threads(), seconds, static_cast<long long>(ours.bruteForceRows));
  EXPECT_GE(progressCalls, 50);
  EXPECT_EQ(lastFraction, 1.0);
  ASSERT_EQ(ours.k, 10);
  ASSERT_EQ(ours.rows, x.rows);

  const auto refIds = load<int32_t>("fmnist_knn_" + name + "_indices.npy", "<i4");
  const auto refDist = load<float>("fmnist_knn_" + name + "_distances.npy", "<f4");
  const KnnComparison c = compareWithReference(ours, refIds, refDist, 1e-6);
  std::printf(
    "[ result ] %s: %lld of %zu neighbour ids differ from sklearn, all at exact ties: %s; "
    "max relative distance difference %.3g\n",
    name.c_str(), static_cast<long long>(c.differentIds), refIds.size(),
    c.nonTieDifferences == 0 ? "yes" : "NO", c.maxDistanceDiff);
  EXPECT_EQ(c.nonTieDifferences, 0);
  EXPECT_LT(c.maxDistanceDiff, 1e-5);
  for (int64_t i = 0; i < ours.rows; ++i)
  {
    for (int j = 0; j < ours.k; ++j)
    {
      EXPECT_NE(ours.indices[static_cast<std::size_t>(i * ours.k + j)], i) << "self in row " << i;
      if (j > 0)
      {
        EXPECT_LE(ours.distances[static_cast<std::size_t>(i * ours.k + j - 1)],
          ours.distances[static_cast<std::size_t>(i * ours.k + j)]);
      }
    }
  }
}

TEST_P(ExactKnn, RowRangeAndSmallBlocksGiveTheSameResult)
{
  const Matrix& x = pixels();
  KnnOptions options;
  options.k = 10;
  options.metric = GetParam();
  const KnnResult full = computeKnn(x.view(), options);
  const KnnResult part = computeKnn(x.view(), 1000, 1500, options);
  ASSERT_EQ(part.rows, 500);
  EXPECT_EQ(part.firstRow, 1000);
  EXPECT_TRUE(
    std::equal(part.indices.begin(), part.indices.end(), full.indices.begin() + 1000 * 10));
  EXPECT_TRUE(
    std::equal(part.distances.begin(), part.distances.end(), full.distances.begin() + 1000 * 10));
  options.blockRows = 97; // many reference blocks, merged top-k across blocks
  const KnnResult blocked = computeKnn(x.view(), 0, 700, options);
  EXPECT_TRUE(std::equal(blocked.indices.begin(), blocked.indices.end(), full.indices.begin()));
}

INSTANTIATE_TEST_SUITE_P(Metrics, ExactKnn,
  ::testing::Values(DistanceMetric::Cosine, DistanceMetric::Euclidean),
  [](const ::testing::TestParamInfo<DistanceMetric>& info) {
    return std::string(metricName(info.param));
  });

TEST(ExactKnnBruteForce, RandomDataWithDuplicatesAndZeros)
{
  setThreads();
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  for (int64_t d : { 1, 2, 3, 5, 40 })
  {
    Matrix m;
    m.rows = 600;
    m.cols = d;
    for (int64_t i = 0; i < m.rows * d; ++i)
    {
      // Few distinct values in 1-D to create many exact ties.
      m.values.push_back(
        d == 1 ? static_cast<float>(static_cast<int>(normal(rng) * 20)) : normal(rng));
    }
    for (int64_t i = 590; i < 600; ++i) // duplicates of row 5, and zero rows
    {
      for (int64_t c = 0; c < d; ++c)
      {
        m.values[static_cast<std::size_t>(i * d + c)] =
          i < 595 ? m.values[static_cast<std::size_t>(5 * d + c)] : 0.0f;
      }
    }
    for (DistanceMetric metric : { DistanceMetric::Cosine, DistanceMetric::Euclidean })
    {
      KnnOptions options;
      options.k = 7;
      options.metric = metric;
      options.blockRows = 128;
      const KnnResult ours = computeKnn(m.view(), options);
      const KnnResult ref = bruteForce(m.view(), 7, metric);
      EXPECT_EQ(ours.indices, ref.indices) << "D = " << d << ", " << metricName(metric);
      EXPECT_EQ(ours.distances, ref.distances) << "D = " << d << ", " << metricName(metric);
    }
  }
}

TEST(ExactKnnEdgeCases, SizesDuplicatesZerosAndBadValues)
{
  setThreads();
  KnnOptions options;
  options.k = 10;
  options.metric = DistanceMetric::Cosine;
  // N = 0 and N = 1.
  Matrix empty;
  empty.cols = 4;
  KnnResult r = computeKnn(empty.view(), options);
  EXPECT_EQ(r.rows, 0);
  EXPECT_TRUE(r.indices.empty());
  Matrix one{ { 1, 2, 3, 4 }, 1, 4 };
  r = computeKnn(one.view(), options);
  EXPECT_EQ(r.rows, 1);
  EXPECT_EQ(r.k, 0);
  // N <= k: k becomes N - 1.
  Matrix four{ { 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0 }, 4, 4 };
  r = computeKnn(four.view(), options);
  ASSERT_EQ(r.k, 3);
  EXPECT_EQ(r.indices[0], 3); // cos(e1, e1+e2) = 0.707: nearest
  // All rows identical: every neighbour at distance 0, by index.
  Matrix same;
  same.rows = 20;
  same.cols = 8;
  same.values.assign(20 * 8, 0.25f);
  for (DistanceMetric metric : { DistanceMetric::Cosine, DistanceMetric::Euclidean })
  {
    options.metric = metric;
    r = computeKnn(same.view(), options);
    ASSERT_EQ(r.k, 10);
    EXPECT_EQ(r.indices[0], 1);
    EXPECT_EQ(r.indices[10], 0); // row 1: 0, 2, 3, ...
    EXPECT_EQ(r.indices[11], 2);
    EXPECT_EQ(*std::max_element(r.distances.begin(), r.distances.end()), 0.0f);
  }
  // Zero vectors under cosine: distance 1 to non-zero rows, 0 to each other.
  Matrix zeros{ { 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 2, 4, 6, 8 }, 4, 4 };
  options.metric = DistanceMetric::Cosine;
  r = computeKnn(zeros.view(), options);
  EXPECT_EQ(r.indices[0], 2);
  EXPECT_EQ(r.distances[0], 0.0f);
  EXPECT_EQ(r.indices[1], 1);
  EXPECT_EQ(r.distances[1], 1.0f);
  EXPECT_EQ(r.indices[3], 3); // row 1 -> row 3 (parallel), distance 0
  EXPECT_NEAR(r.distances[3], 0.0f, 1e-7);
  EXPECT_EQ(r.distances[4], 1.0f);
  // NaN / Inf rows: refused with their count.
  Matrix bad{ { 1, 2, std::numeric_limits<float>::quiet_NaN(), 4, 5, 6,
                std::numeric_limits<float>::infinity(), 1, 1 },
    3, 3 };
  const std::string message = errorMessage([&] { computeKnn(bad.view(), options); });
  EXPECT_NE(message.find("2 of 3 rows"), std::string::npos) << message;
  EXPECT_NE(message.find("NaN or Inf"), std::string::npos) << message;
  // Bad k and range.
  options.k = 0;
  EXPECT_THROW(computeKnn(four.view(), options), ModelError);
  options.k = 2;
  EXPECT_THROW(computeKnn(four.view(), 2, 5, options), ModelError);
}

// The one-query brute force (distancesFrom, nearestRows) that the exact
// method's fallback rows, Datalab's tie check and the trustworthiness share.
TEST(BruteForceNeighbours, AgreeWithVectorDistanceAndComputeKnn)
{
  setThreads();
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  Matrix m;
  m.rows = 200;
  m.cols = 5;
  for (int64_t i = 0; i < m.rows * m.cols; ++i)
  {
    m.values.push_back(normal(rng));
  }
  for (int64_t c = 0; c < m.cols; ++c) // row 7 duplicates row 3, row 9 is zero
  {
    m.values[static_cast<std::size_t>(7 * m.cols + c)] =
      m.values[static_cast<std::size_t>(3 * m.cols + c)];
    m.values[static_cast<std::size_t>(9 * m.cols + c)] = 0.0f;
  }
  const FeatureMatrix x = m.view();
  const int k = 6;
  std::vector<double> distances;
  for (DistanceMetric metric : { DistanceMetric::Cosine, DistanceMetric::Euclidean })
  {
    KnnOptions options;
    options.k = k;
    options.metric = metric;
    const KnnResult knn = computeKnn(x, options);
    for (int64_t q : { 0, 3, 7, 9, 199 })
    {
      distancesFrom(x, q, metric, distances);
      ASSERT_EQ(distances.size(), static_cast<std::size_t>(x.rows));
      EXPECT_EQ(distances[static_cast<std::size_t>(q)], 0.0);
      for (int64_t j = 0; j < x.rows; ++j)
      {
        EXPECT_EQ(distances[static_cast<std::size_t>(j)],
          vectorDistance(x.row(q), x.row(j), x.cols, metric))
          << metricName(metric) << " " << q << " -> " << j;
      }
      const std::vector<int64_t> expected(
        knn.indices.begin() + q * k, knn.indices.begin() + (q + 1) * k);
      EXPECT_EQ(nearestRows(distances, q, k), expected) << metricName(metric) << " " << q;
    }
  }
  // The squared distances are the squares the euclidean distances are roots of.
  std::vector<double> squared;
  squaredEuclideanDistancesFrom(x, 3, squared);
  distancesFrom(x, 3, DistanceMetric::Euclidean, distances);
  ASSERT_EQ(squared.size(), distances.size());
  for (std::size_t j = 0; j < squared.size(); ++j)
  {
    EXPECT_EQ(std::sqrt(squared[j]), distances[j]) << j;
  }
  // Ties broken by the smaller index, the query skipped, k capped at rows - 1.
  const std::vector<double> tied{ 1.0, 0.0, 1.0, 0.5, 0.5 };
  const std::vector<int64_t> tiedNearest{ 3, 4, 0 };
  EXPECT_EQ(nearestRows(tied, 1, 3), tiedNearest);
  const std::vector<double> three{ 2.0, 1.0, 0.0 };
  const std::vector<int64_t> allOthers{ 1, 0 };
  EXPECT_EQ(nearestRows(three, 2, 10), allOthers);
}

TEST(ExactKnnProgress, AbortThrowsAborted)
{
  const Matrix& x = pixels();
  KnnOptions options;
  options.metric = DistanceMetric::Cosine;
  int calls = 0;
  options.progress = [&](double f) { return ++calls < 3 && f < 0.5; };
  EXPECT_THROW(computeKnn(x.view(), options), Aborted);
  EXPECT_EQ(calls, 3);
}

// -------------------------------------------------------------------- FLANN

TEST(FlannKnn, RecallAtTenWithDefaultParameters)
{
  const Matrix& x = pixels();
  KnnOptions options;
  options.k = 10;
  options.search.method = KnnMethod::Flann;
  if (!isFlannAvailable())
  {
    const std::string message = errorMessage([&] { computeKnn(x.view(), options); });
    EXPECT_NE(message.find("FLANN"), std::string::npos);
    GTEST_SKIP() << "built without FLANN";
  }
  for (DistanceMetric metric : { DistanceMetric::Cosine, DistanceMetric::Euclidean })
  {
    options.metric = metric;
    options.search.method = KnnMethod::Exact;
    const KnnResult exact = computeKnn(x.view(), options);
    options.search.method = KnnMethod::Flann;
    const auto start = std::chrono::steady_clock::now();
    const KnnResult approx = computeKnn(x.view(), options);
    const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double recall = knnRecall(approx, exact);
    std::printf("[ result ] FLANN %s (trees %d, checks %d): recall@10 = %.4f in %.3f s\n",
      metricName(metric), options.search.flann.trees, options.search.flann.checks, recall, seconds);
    EXPECT_GE(recall, 0.9);
    // Returned distances are exact for the returned ids.
    for (std::size_t e = 0; e < approx.indices.size(); e += 97)
    {
      const int64_t i = static_cast<int64_t>(e) / approx.k;
      EXPECT_NEAR(approx.distances[e],
        vectorDistance(x.view().row(i), x.view().row(approx.indices[e]), x.cols, metric),
        1e-5 * std::max(1.0f, approx.distances[e]));
      EXPECT_NE(approx.indices[e], i);
    }
  }
}

// ---------------------------------------------------------------------- IVF

/// Clustered rows like a model's embeddings: 40 clusters, each a center plus
/// 8 directions of its own and a little noise (what an inverted file is for).
Matrix clustered(int64_t rows, int64_t cols, unsigned seed)
{
  std::mt19937 random(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int clusters = 40, rank = 8;
  std::vector<float> basis(static_cast<std::size_t>(clusters * (rank + 1) * cols));
  for (float& v : basis)
  {
    v = normal(random);
  }
  Matrix m;
  m.rows = rows;
  m.cols = cols;
  m.values.resize(static_cast<std::size_t>(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
  {
    const float* c = basis.data() + (random() % clusters) * (rank + 1) * cols;
    float z[rank];
    for (float& v : z)
    {
      v = 0.4f * normal(random);
    }
    for (int64_t j = 0; j < cols; ++j)
    {
      float v = c[j] + 0.05f * normal(random);
      for (int r = 0; r < rank; ++r)
      {
        v += z[r] * c[(r + 1) * cols + j];
      }
      m.values[static_cast<std::size_t>(i * cols + j)] = v;
    }
  }
  return m;
}

TEST(IvfKnn, RecallAgainstExactAndItsOwnEstimate)
{
  setThreads();
  const Matrix x = clustered(20000, 64, 7);
  KnnOptions options;
  options.k = 10;
  for (const auto& [metric, probes] : { std::pair{ DistanceMetric::Cosine, 16 },
         std::pair{ DistanceMetric::Euclidean, 16 }, std::pair{ DistanceMetric::Cosine, 1 } })
  {
    options.metric = metric;
    options.search.method = KnnMethod::Exact;
    const KnnResult exact = computeKnn(x.view(), options);
    options.search.method = KnnMethod::Ivf;
    options.search.ivf.probes = probes;
    options.search.recallSamples = 1000;
    std::vector<std::string> reports;
    options.search.report = [&reports](const std::string& s) { reports.push_back(s); };
    const auto start = std::chrono::steady_clock::now();
    const KnnResult approx = computeKnn(x.view(), options);
    const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double recall = knnRecall(approx, exact);
    std::printf("[ result ] IVF %s (%lld lists, %d probes): recall@10 = %.4f (estimated %.4f) "
                "in %.3f s\n%s\n",
      metricName(metric), static_cast<long long>(approx.lists), options.search.ivf.probes, recall,
      approx.recall, seconds, reports.empty() ? "" : reports[0].c_str());
    EXPECT_EQ(approx.method, KnnMethod::Ivf);
    if (probes == 16) // the default
    {
      EXPECT_GE(recall, 0.99);
    }
    else // one list read: neighbours across list borders are missed
    {
      EXPECT_GE(recall, 0.5);
      EXPECT_LT(recall, 0.97);
    }
    // Measured on 1000 of the 20 000 rows; with one list read, a row's recall
    // is near 0 or 1, so the sample mean spreads more.
    EXPECT_NEAR(approx.recall, recall, probes == 16 ? 0.01 : 0.06);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_NE(reports[0].find("IVF neighbours (k 10"), std::string::npos) << reports[0];
    EXPECT_NE(
      reports[0].find("recall@10 " + std::to_string(approx.recall).substr(0, 6)), std::string::npos)
      << reports[0];
    // Returned distances are the exact ones of the returned ids, ascending.
    for (std::size_t e = 0; e < approx.indices.size(); e += 89)
    {
      const int64_t i = static_cast<int64_t>(e) / approx.k;
      EXPECT_NE(approx.indices[e], i);
      EXPECT_NEAR(approx.distances[e],
        vectorDistance(x.view().row(i), x.view().row(approx.indices[e]), x.cols, metric),
        1e-6 * std::max(1.0f, approx.distances[e]));
      if (e % approx.k != 0)
      {
        EXPECT_LE(approx.distances[e - 1], approx.distances[e]);
      }
    }
  }
}

TEST(IvfKnn, AutoIsExactUpToTheLimit)
{
  EXPECT_EQ(resolveKnnMethod(KnnMethod::Auto, kExactNeighborRows), KnnMethod::Exact);
  EXPECT_EQ(resolveKnnMethod(KnnMethod::Auto, kExactNeighborRows + 1), KnnMethod::Ivf);
  EXPECT_EQ(resolveKnnMethod(KnnMethod::Flann, 10), KnnMethod::Flann);
  const Matrix x = clustered(3000, 16, 3);
  KnnOptions options; // auto by default
  bool reported = false;
  options.search.report = [&reported](const std::string&) { reported = true; };
  const KnnResult automatic = computeKnn(x.view(), options);
  options.search.method = KnnMethod::Exact;
  const KnnResult exact = computeKnn(x.view(), options);
  EXPECT_EQ(automatic.method, KnnMethod::Exact);
  EXPECT_EQ(automatic.indices, exact.indices);
  EXPECT_EQ(automatic.recall, -1.0);
  EXPECT_FALSE(reported) << "exact searches say nothing";
}

TEST(IvfKnn, SmallAndDegenerateInputsAreExact)
{
  // Fewer than 128 rows make one list: every row is read, the result is exact.
  KnnOptions options;
  options.k = 10;
  options.search.method = KnnMethod::Ivf;
  for (DistanceMetric metric : { DistanceMetric::Cosine, DistanceMetric::Euclidean })
  {
    options.metric = metric;
    for (int64_t rows : { 2, 11, 100 })
    {
      Matrix x = clustered(rows, 8, 11);
      std::fill_n(x.values.begin(), 8, 0.0f); // a zero row (cosine: distance 1 to all)
      if (rows > 5)
      {
        std::copy_n(x.values.begin() + 8, 8, x.values.begin() + 16); // an exact duplicate
      }
      const KnnResult ivf = computeKnn(x.view(), options);
      options.search.method = KnnMethod::Exact;
      const KnnResult exact = computeKnn(x.view(), options);
      options.search.method = KnnMethod::Ivf;
      EXPECT_EQ(ivf.k, std::min<int64_t>(10, rows - 1));
      EXPECT_EQ(ivf.indices, exact.indices) << rows << " rows, " << metricName(metric);
      EXPECT_EQ(ivf.distances, exact.distances) << rows << " rows, " << metricName(metric);
      EXPECT_EQ(ivf.recall, 1.0);
    }
  }
  // More probes than lists, and a row with NaN.
  const Matrix x = clustered(1000, 8, 5);
  options.search.ivf.probes = 1000;
  options.search.method = KnnMethod::Exact;
  const KnnResult exact = computeKnn(x.view(), options);
  options.search.method = KnnMethod::Ivf;
  EXPECT_EQ(computeKnn(x.view(), options).indices, exact.indices);
  Matrix bad = x;
  bad.values[77] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(errorMessage([&] { computeKnn(bad.view(), options); }).find("NaN"), std::string::npos);
  options.search.ivf.probes = 0;
  EXPECT_NE(
    errorMessage([&] { computeKnn(x.view(), options); }).find("IVF parameters"), std::string::npos);
}

TEST(IvfKnn, ProgressAndAbort)
{
  const Matrix x = clustered(5000, 16, 9);
  KnnOptions options;
  options.search.method = KnnMethod::Ivf;
  std::vector<double> fractions;
  options.progress = [&fractions](double f) {
    fractions.push_back(f);
    return true;
  };
  computeKnn(x.view(), options);
  ASSERT_GE(fractions.size(), 10u);
  EXPECT_TRUE(std::is_sorted(fractions.begin(), fractions.end()));
  EXPECT_EQ(fractions.back(), 1.0);
  int calls = 0;
  options.progress = [&calls](double) { return ++calls < 4; };
  EXPECT_THROW(computeKnn(x.view(), options), Aborted);
  EXPECT_EQ(calls, 4);
}

// ------------------------------------------------------ distributed search

/// computeKnn of each part's rows of `x` (split as `counts`) with the
/// distributed search; the parts' results in global row order.
KnnResult distributedKnn(const Matrix& x, const std::vector<int64_t>& counts, KnnOptions options,
  std::vector<std::string>* reports = nullptr)
{
  ThreadedParts parts(counts);
  std::vector<KnnResult> results(counts.size());
  std::mutex reportsMutex;
  parts.run([&](int p, const PartExchange& exchange) {
    KnnOptions mine = options;
    mine.search.parts = partsOf(exchange);
    mine.search.report = [&](const std::string& s) {
      std::lock_guard<std::mutex> lock(reportsMutex);
      if (reports)
      {
        reports->push_back(s);
      }
    };
    const int64_t first = exchange.firstRow(p);
    const FeatureMatrix local{ x.values.data() + first * x.cols, counts[p], x.cols };
    results[p] = computeKnn(local, mine);
    EXPECT_EQ(results[p].firstRow, first);
    EXPECT_EQ(results[p].rows, counts[p]);
  });
  KnnResult all = results[0];
  all.firstRow = 0;
  for (std::size_t p = 1; p < results.size(); ++p)
  {
    all.rows += results[p].rows;
    all.indices.insert(all.indices.end(), results[p].indices.begin(), results[p].indices.end());
    all.distances.insert(
      all.distances.end(), results[p].distances.begin(), results[p].distances.end());
    EXPECT_EQ(results[p].recall, all.recall); // one global figure
  }
  return all;
}

TEST(DistributedKnn, EveryListReadGivesTheExactNeighbours)
{
  // Three parts, one of them empty, with duplicates and zero rows across
  // parts: with every list read, the merged answers are the exact neighbours.
  Matrix x = clustered(2000, 16, 13);
  for (int64_t i : { 5, 1500, 1999 })
  {
    std::copy_n(x.values.begin() + 100 * x.cols, x.cols, x.values.begin() + i * x.cols);
  }
  for (int64_t i : { 7, 1200 })
  {
    std::fill_n(x.values.begin() + i * x.cols, x.cols, 0.0f);
  }
  for (DistanceMetric metric : { DistanceMetric::Cosine, DistanceMetric::Euclidean })
  {
    KnnOptions options;
    options.k = 10;
    options.metric = metric;
    options.search.method = KnnMethod::Exact;
    const KnnResult exact = computeKnn(x.view(), options);
    options.search.ivf.probes = 1000;
    std::vector<std::string> reports;
    const KnnResult distributed = distributedKnn(x, { 700, 0, 1300 }, options, &reports);
    EXPECT_EQ(distributed.method, KnnMethod::Ivf);
    EXPECT_EQ(distributed.indices, exact.indices) << metricName(metric);
    ASSERT_EQ(distributed.distances.size(), exact.distances.size());
    for (std::size_t e = 0; e < exact.distances.size(); ++e)
    {
      ASSERT_EQ(distributed.distances[e], exact.distances[e]) << e;
    }
    EXPECT_EQ(distributed.recall, 1.0);
    ASSERT_EQ(reports.size(), 1u); // from the first part only
    EXPECT_NE(
      reports[0].find("of 2000 rows on 3 MPI ranks, each indexing its own rows"), std::string::npos)
      << reports[0];
  }
}

TEST(DistributedKnn, RecallMatchesTheSerialSearch)
{
  const Matrix x = clustered(20000, 64, 7);
  KnnOptions options;
  options.k = 10;
  options.metric = DistanceMetric::Cosine;
  options.search.method = KnnMethod::Exact;
  const KnnResult exact = computeKnn(x.view(), options);
  options.search.method = KnnMethod::Ivf;
  options.search.recallSamples = 1000;
  const KnnResult serial = computeKnn(x.view(), options);
  std::vector<std::string> reports;
  const KnnResult distributed = distributedKnn(x, { 9000, 11000 }, options, &reports);
  const double recall = knnRecall(distributed, exact);
  std::printf("[ result ] recall@10: serial IVF %.4f, 2 parts %.4f (estimated %.4f)\n%s\n",
    knnRecall(serial, exact), recall, distributed.recall, reports.at(0).c_str());
  EXPECT_GE(recall, 0.99);
  EXPECT_GE(recall, knnRecall(serial, exact) - 0.005);
  EXPECT_NEAR(distributed.recall, recall, 0.01);
  for (std::size_t e = 0; e < distributed.indices.size(); e += 97)
  {
    const int64_t i = static_cast<int64_t>(e) / distributed.k;
    EXPECT_NE(distributed.indices[e], i);
    EXPECT_NEAR(distributed.distances[e],
      vectorDistance(
        x.view().row(i), x.view().row(distributed.indices[e]), x.cols, DistanceMetric::Cosine),
      1e-6);
  }
}

TEST(DistributedKnn, TheGraphIsSharedByTheSearchesOfEveryPart)
{
  const Matrix x = clustered(6000, 24, 17);
  KnnOptions options;
  options.k = 10;
  options.metric = DistanceMetric::Cosine;
  options.search.graphs = std::make_shared<NeighborGraphs>();
  std::vector<std::string> reports;
  const KnnResult ten = distributedKnn(x, { 2500, 3500 }, options, &reports);
  options.k = 1;
  const KnnResult one = distributedKnn(x, { 2500, 3500 }, options, &reports);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].find("used again"), std::string::npos) << reports[0];
  EXPECT_NE(reports[1].find("the graph built earlier in this session (k 16"), std::string::npos)
    << reports[1];
  EXPECT_EQ(options.search.graphs->size(), 2u); // one per part
  for (int64_t i = 0; i < x.rows; ++i)
  {
    ASSERT_EQ(one.indices[i], ten.indices[i * 10]) << i;
  }
  EXPECT_GE(one.recall, 0.99);
  // Another part layout of the same rows is another graph.
  distributedKnn(x, { 3000, 3000 }, options, &reports);
  EXPECT_EQ(reports.back().find("used again"), std::string::npos) << reports.back();
}

TEST(DistributedKnn, FilterComputationsOnPartsEqualTheExactOnes)
{
  // Outlier score, nearest neighbour and embedding change, each part passing
  // only its rows (one part empty), with every list read: the exact results.
  const Matrix a = clustered(2000, 16, 23), b = clustered(2000, 12, 29);
  const std::vector<int64_t> counts{ 700, 0, 1300 };
  OutlierScoreOptions outlier;
  NearestNeighborOptions nearest;
  EmbeddingChangeOptions change;
  outlier.neighbors.method = nearest.neighbors.method = change.neighbors.method = KnnMethod::Exact;
  const OutlierScoreResult exactOutlier = computeEmbeddingOutlierScore(a.view(), outlier);
  const NearestNeighborResult exactNearest = computeEmbeddingNearestNeighbor(a.view(), nearest);
  const EmbeddingChangeResult exactChange = computeEmbeddingChange(a.view(), b.view(), change);
  const Matrix third = clustered(2000, 16, 37); // a third checkpoint for the drift
  EmbeddingDriftOptions drift;
  drift.neighbors.method = KnnMethod::Exact;
  const EmbeddingDriftResult exactDrift =
    computeEmbeddingDrift({ a.view(), b.view(), third.view() }, drift);

  ThreadedParts parts(counts);
  std::vector<OutlierScoreResult> outliers(counts.size());
  std::vector<NearestNeighborResult> nearests(counts.size());
  std::vector<EmbeddingChangeResult> changes(counts.size());
  std::vector<EmbeddingDriftResult> drifts(counts.size());
  parts.run([&](int p, const PartExchange& exchange) {
    NeighborSearch search;
    search.ivf.probes = 1000;
    search.parts = partsOf(exchange);
    search.graphs = std::make_shared<NeighborGraphs>(); // this part's own store
    const int64_t first = exchange.firstRow(p);
    const FeatureMatrix localA{ a.values.data() + first * a.cols, counts[p], a.cols };
    const FeatureMatrix localB{ b.values.data() + first * b.cols, counts[p], b.cols };
    OutlierScoreOptions o;
    o.neighbors = search;
    outliers[p] = computeEmbeddingOutlierScore(localA, o);
    NearestNeighborOptions n;
    n.neighbors = search;
    nearests[p] = computeEmbeddingNearestNeighbor(localA, n);
    EmbeddingChangeOptions c;
    c.neighbors = search;
    changes[p] = computeEmbeddingChange(localA, localB, c);
    EmbeddingDriftOptions d;
    d.neighbors = search;
    drifts[p] = computeEmbeddingDrift(
      { localA, localB, { third.values.data() + first * third.cols, counts[p], third.cols } }, d);
  });
  std::vector<double> meanDistance;
  std::vector<int64_t> id;
  std::vector<float> overlap, driftMean;
  std::vector<std::vector<float>> toPrevious(3), toFinal(3); // per checkpoint
  for (std::size_t p = 0; p < counts.size(); ++p)
  {
    driftMean.insert(driftMean.end(), drifts[p].mean.begin(), drifts[p].mean.end());
    for (std::size_t t = 0; t < 3; ++t)
    {
      const auto begin = static_cast<std::ptrdiff_t>(t * static_cast<std::size_t>(counts[p]));
      toPrevious[t].insert(toPrevious[t].end(), drifts[p].toPrevious.begin() + begin,
        drifts[p].toPrevious.begin() + begin + counts[p]);
      toFinal[t].insert(toFinal[t].end(), drifts[p].toFinal.begin() + begin,
        drifts[p].toFinal.begin() + begin + counts[p]);
    }
    meanDistance.insert(
      meanDistance.end(), outliers[p].meanDistance.begin(), outliers[p].meanDistance.end());
    id.insert(id.end(), nearests[p].id.begin(), nearests[p].id.end());
    overlap.insert(overlap.end(), changes[p].overlap.begin(), changes[p].overlap.end());
  }
  EXPECT_EQ(meanDistance, exactOutlier.meanDistance);
  EXPECT_EQ(id, exactNearest.id);
  EXPECT_EQ(overlap, exactChange.overlap);
  EXPECT_EQ(driftMean, exactDrift.mean);
  for (std::size_t t = 0; t < 3; ++t)
  {
    const auto begin = exactDrift.toPrevious.begin() + static_cast<std::ptrdiff_t>(t * 2000);
    EXPECT_EQ(toPrevious[t], std::vector<float>(begin, begin + 2000)) << t;
    const auto final = exactDrift.toFinal.begin() + static_cast<std::ptrdiff_t>(t * 2000);
    EXPECT_EQ(toFinal[t], std::vector<float>(final, final + 2000)) << t;
  }
  EXPECT_GT(*std::max_element(driftMean.begin(), driftMean.end()), 0.5f); // the neighbours moved
}

TEST(DistributedKnn, CheckpointsOfDifferentSizesOnOnePartStopEveryPart)
{
  // The drift of part 1 gets a second checkpoint one row short: every part
  // refuses before searching (none is left waiting in a collective call).
  const Matrix a = clustered(600, 8, 41);
  ThreadedParts parts({ 300, 300 });
  std::vector<std::string> errors(2);
  parts.run([&](int p, const PartExchange& exchange) {
    EmbeddingDriftOptions options;
    options.neighbors.parts = partsOf(exchange);
    const FeatureMatrix local{ a.values.data() + exchange.firstRow(p) * a.cols, 300, a.cols };
    const FeatureMatrix shorter{ local.data, p == 1 ? 299 : 300, a.cols };
    try
    {
      computeEmbeddingDrift({ local, shorter }, options);
    }
    catch (const ModelError& e)
    {
      errors[p] = e.what();
    }
  });
  EXPECT_NE(errors[0].find("on another MPI rank"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("(300 and 299)"), std::string::npos) << errors[1];
}

TEST(DistributedKnn, DataIssuesGraphsOnPartsEqualTheExactOnes)
{
  // Data Issues keeps every row on every part and searches its own rows'
  // graphs (cosine, euclidean votes, centred uniqueness) distributed.
  const Matrix a = clustered(2000, 16, 31);
  std::vector<int32_t> labels(static_cast<std::size_t>(a.rows));
  for (std::size_t i = 0; i < labels.size(); ++i)
  {
    labels[i] = static_cast<int32_t>(i % 7);
  }
  DataIssuesInput input;
  input.rows = a.rows;
  input.labels = labels.data();
  input.embeddings = { a.view() };
  DataIssuesOptions options;
  options.neighbors.method = KnnMethod::Exact;
  const IssueNeighbors exact = computeIssueNeighbors(input, options, 0, a.rows);
  const std::vector<int64_t> counts{ 1200, 800 };
  ThreadedParts parts(counts);
  std::vector<IssueNeighbors> mine(counts.size());
  parts.run([&](int p, const PartExchange& exchange) {
    DataIssuesOptions o;
    o.neighbors.ivf.probes = 1000;
    o.neighbors.parts = partsOf(exchange);
    mine[p] = computeIssueNeighbors(
      input, o, exchange.firstRow(p), exchange.firstRow(p) + exchange.rowCount(p));
  });
  const auto slice = [](const KnnResult& all, int64_t first, int64_t rows) {
    return std::vector<int64_t>(
      all.indices.begin() + first * all.k, all.indices.begin() + (first + rows) * all.k);
  };
  int64_t first = 0;
  for (std::size_t p = 0; p < counts.size(); ++p)
  {
    EXPECT_EQ(mine[p].graph[0].indices, slice(exact.graph[0], first, counts[p])) << p;
    EXPECT_EQ(mine[p].votes[0].indices, slice(exact.votes[0], first, counts[p])) << p;
    EXPECT_EQ(mine[p].unique[0].indices, slice(exact.unique[0], first, counts[p])) << p;
    EXPECT_EQ(mine[p].graph[0].firstRow, first);
    first += counts[p];
  }
}

TEST(DistributedKnn, AFailureOrAnAbortOnOnePartStopsEveryPart)
{
  Matrix x = clustered(3000, 16, 3);
  x.values[2500 * x.cols + 3] = std::numeric_limits<float>::quiet_NaN(); // in the second part
  ThreadedParts parts({ 1000, 2000 });
  std::vector<std::string> errors(2);
  parts.run([&](int p, const PartExchange& exchange) {
    KnnOptions options;
    options.search.parts = partsOf(exchange);
    const FeatureMatrix local{ x.values.data() + exchange.firstRow(p) * x.cols,
      exchange.rowCount(p), x.cols };
    try
    {
      computeKnn(local, options);
    }
    catch (const ModelError& e)
    {
      errors[p] = e.what();
    }
  });
  for (const std::string& error : errors)
  {
    EXPECT_NE(error.find("1 of 3000 rows of the embedding contain NaN or Inf"), std::string::npos)
      << error;
  }

  x.values[2500 * x.cols + 3] = 1.0f;
  for (int aborting : { 0, 1 })
  {
    std::vector<int> outcome(2, 0); // 1 aborted, 2 finished
    parts.run([&](int p, const PartExchange& exchange) {
      KnnOptions options;
      options.search.parts = partsOf(exchange);
      int calls = 0;
      options.progress = [&](double) { return p != aborting || ++calls < 3; };
      const FeatureMatrix local{ x.values.data() + exchange.firstRow(p) * x.cols,
        exchange.rowCount(p), x.cols };
      try
      {
        computeKnn(local, options);
        outcome[p] = 2;
      }
      catch (const Aborted&)
      {
        outcome[p] = 1;
      }
    });
    EXPECT_EQ(outcome, (std::vector<int>{ 1, 1 })) << "part " << aborting << " aborting";
  }
}

// ---------------------------------------------------------- centred search

/// `x` minus `center`, each value as KnnOptions::center defines it.
Matrix centredCopy(const Matrix& x, const std::vector<double>& center)
{
  Matrix c = x;
  for (int64_t i = 0; i < x.rows; ++i)
  {
    for (int64_t j = 0; j < x.cols; ++j)
    {
      float& v = c.values[static_cast<std::size_t>(i * x.cols + j)];
      v = static_cast<float>(static_cast<double>(v) - center[static_cast<std::size_t>(j)]);
    }
  }
  return c;
}

void expectSameNeighbours(const KnnResult& a, const KnnResult& b, const std::string& what)
{
  EXPECT_EQ(a.indices, b.indices) << what;
  ASSERT_EQ(a.distances.size(), b.distances.size()) << what;
  for (std::size_t e = 0; e < a.distances.size(); ++e)
  {
    ASSERT_EQ(a.distances[e], b.distances[e]) << what << " at " << e;
  }
  EXPECT_EQ(a.recall, b.recall) << what;
}

TEST(CentredSearch, EqualsTheSearchOfACentredCopyForEveryMethod)
{
  // The centre is row 42, so that rows 42 and 43 (its duplicate) become zero
  // vectors: the cosine rule for them must see the centred rows too.
  Matrix x = clustered(3000, 24, 5);
  std::copy_n(x.values.begin() + 42 * x.cols, x.cols, x.values.begin() + 43 * x.cols);
  std::copy_n(x.values.begin() + 900 * x.cols, x.cols, x.values.begin() + 2000 * x.cols);
  const std::vector<double> center(x.values.begin() + 42 * x.cols, x.values.begin() + 43 * x.cols);
  const Matrix centred = centredCopy(x, center);
  for (KnnMethod method : { KnnMethod::Exact, KnnMethod::Ivf })
  {
    for (DistanceMetric metric : { DistanceMetric::Cosine, DistanceMetric::Euclidean })
    {
      const std::string what = std::string(knnMethodName(method)) + " " + metricName(metric);
      KnnOptions options;
      options.k = 6;
      options.metric = metric;
      options.search.method = method;
      options.search.ivf.probes = 2; // approximate: the two must miss the same neighbours
      const KnnResult copy = computeKnn(centred.view(), 20, 2900, options);
      options.center = center;
      const KnnResult onTheFly = computeKnn(x.view(), 20, 2900, options);
      expectSameNeighbours(onTheFly, copy, what);
      if (method != KnnMethod::Exact)
      {
        EXPECT_LT(onTheFly.recall, 1.0) << what << ": too easy to tell the two apart";
      }
      const std::size_t zero = static_cast<std::size_t>(42 - 20) * 6;
      EXPECT_EQ(onTheFly.indices[zero], 43) << what << ": row 42's duplicate, centred to zero too";
      EXPECT_EQ(onTheFly.distances[zero], 0.0f) << what;
      if (metric == DistanceMetric::Cosine)
      {
        EXPECT_EQ(onTheFly.distances[zero + 1], 1.0f) << what << ": a zero vector's rule";
      }
      if (metric == DistanceMetric::Cosine) // (euclidean distances do not move with a centre)
      {
        options.center.clear();
        const KnnResult plain = computeKnn(x.view(), 20, 2900, options);
        EXPECT_NE(plain.indices, onTheFly.indices) << what << ": the centre changes the neighbours";
      }
    }
  }
}

TEST(CentredSearch, FlannReRanksTheCentredRows)
{
  // Debian's FLANN shuffles its trees' rows with std::random_device, so two
  // FLANN searches need not find the same candidates (NearestNeighbors.h):
  // what is checked is that the centred rows were indexed and re-ranked.
  if (!isFlannAvailable())
  {
    GTEST_SKIP() << "built without FLANN";
  }
  const Matrix x = clustered(3000, 8, 11);
  std::vector<double> center(static_cast<std::size_t>(x.cols));
  for (std::size_t c = 0; c < center.size(); ++c)
  {
    center[c] = x.values[7 * x.cols + c];
  }
  const Matrix centred = centredCopy(x, center);
  for (DistanceMetric metric : { DistanceMetric::Cosine, DistanceMetric::Euclidean })
  {
    KnnOptions options;
    options.k = 6;
    options.metric = metric;
    options.search.method = KnnMethod::Exact;
    const KnnResult exact = computeKnn(centred.view(), options);
    options.search.method = KnnMethod::Flann;
    options.center = center;
    const KnnResult flann = computeKnn(x.view(), options);
    EXPECT_GE(knnRecall(flann, exact), 0.95) << metricName(metric);
    for (std::size_t e = 0; e < flann.indices.size(); e += 7)
    {
      const int64_t i = static_cast<int64_t>(e) / flann.k;
      if (i == 7) // centred to zero: the cosine rule, not a distance
      {
        continue;
      }
      ASSERT_EQ(flann.distances[e],
        static_cast<float>(vectorDistance(
          centred.view().row(i), centred.view().row(flann.indices[e]), x.cols, metric)))
        << metricName(metric) << " at " << e;
    }
  }
}

TEST(CentredSearch, DistributedEqualsTheDistributedSearchOfACentredCopy)
{
  Matrix x = clustered(2400, 16, 9);
  std::vector<double> center(static_cast<std::size_t>(x.cols));
  for (std::size_t c = 0; c < center.size(); ++c)
  {
    center[c] = 0.75 * x.values[c] - 0.5 * x.values[5 * x.cols + c];
  }
  const Matrix centred = centredCopy(x, center);
  for (DistanceMetric metric : { DistanceMetric::Cosine, DistanceMetric::Euclidean })
  {
    KnnOptions options;
    options.k = 5;
    options.metric = metric;
    options.search.ivf.probes = 3;
    options.search.recallSamples = 300;
    const KnnResult copy = distributedKnn(centred, { 900, 0, 1500 }, options);
    options.center = center;
    const KnnResult onTheFly = distributedKnn(x, { 900, 0, 1500 }, options);
    expectSameNeighbours(onTheFly, copy, metricName(metric));
    EXPECT_LT(onTheFly.recall, 1.0);
  }
}

TEST(CentredSearch, SharedGraphsKeepCentredAndPlainApart)
{
  const Matrix x = clustered(2000, 12, 21);
  std::vector<double> center(static_cast<std::size_t>(x.cols), 0.5);
  KnnOptions options;
  options.k = 5;
  options.metric = DistanceMetric::Cosine;
  options.search.graphs = std::make_shared<NeighborGraphs>();
  const KnnResult plain = computeKnn(x.view(), options);
  options.center = center;
  const KnnResult centred = computeKnn(x.view(), options);
  EXPECT_EQ(options.search.graphs->size(), 2u);
  EXPECT_NE(plain.indices, centred.indices);
  center[3] = 0.25; // another centre, another graph
  options.center = center;
  const KnnResult other = computeKnn(x.view(), options);
  EXPECT_EQ(options.search.graphs->size(), 3u);
  EXPECT_NE(other.indices, centred.indices);
  options.center[3] = 0.5; // the first centre again: its graph
  EXPECT_EQ(computeKnn(x.view(), options).indices, centred.indices);
  EXPECT_EQ(options.search.graphs->size(), 3u);
}

TEST(CentredSearch, BadCentresAreRefused)
{
  const Matrix x = clustered(500, 8, 4);
  KnnOptions options;
  options.center.assign(7, 0.0);
  try
  {
    computeKnn(x.view(), options);
    ADD_FAILURE() << "a centre of 7 values for 8 columns was accepted";
  }
  catch (const ModelError& e)
  {
    EXPECT_NE(std::string(e.what()).find("has 7 values for 8 columns"), std::string::npos)
      << e.what();
  }
  options.center.assign(8, 0.0);
  options.center[2] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(computeKnn(x.view(), options), ModelError);
  // On parts, every part stops with the message.
  ThreadedParts parts({ 200, 300 });
  std::atomic<int> refused{ 0 };
  parts.run([&](int p, const PartExchange& exchange) {
    KnnOptions mine = options;
    mine.search.parts = partsOf(exchange);
    const int64_t first = exchange.firstRow(p);
    try
    {
      computeKnn(
        FeatureMatrix{ x.values.data() + first * x.cols, exchange.rowCount(p), x.cols }, mine);
    }
    catch (const ModelError& e)
    {
      refused += std::string(e.what()).find("NaN or Inf") != std::string::npos;
    }
  });
  EXPECT_EQ(refused.load(), 2);
}

// ------------------------------------------------------------- shared graphs

/// Counts the progress calls of a search: a graph found again makes one (1.0).
struct ProgressCount
{
  int calls = 0;
  ProgressCallback callback()
  {
    return [this](double) {
      ++this->calls;
      return true;
    };
  }
};

TEST(NeighborGraphs, ExactGraphIsBuiltOnceAndItsPrefixIsTheExactResult)
{
  setThreads();
  const Matrix x = clustered(3000, 24, 21);
  auto graphs = std::make_shared<NeighborGraphs>();
  KnnOptions shared;
  shared.metric = DistanceMetric::Cosine;
  shared.search.graphs = graphs;
  KnnOptions alone = shared;
  alone.search.graphs = nullptr;

  ProgressCount first;
  shared.k = 10;
  shared.progress = first.callback();
  const KnnResult ten = computeKnn(x.view(), shared);
  EXPECT_GT(first.calls, 1);
  ASSERT_EQ(graphs->size(), 1u);
  EXPECT_EQ(graphs->bytes(), 3000u * kSharedGraphNeighbors * (sizeof(int64_t) + sizeof(float)));

  for (int k : { 10, 1, 3, 16 }) // all within the graph's 16: no search
  {
    ProgressCount again;
    shared.k = k;
    shared.progress = again.callback();
    const KnnResult fromGraph = computeKnn(x.view(), shared);
    EXPECT_EQ(again.calls, 1) << "k " << k << " searched again";
    alone.k = k;
    const KnnResult fresh = computeKnn(x.view(), alone);
    EXPECT_EQ(fromGraph.k, k);
    EXPECT_EQ(fromGraph.indices, fresh.indices) << "k " << k;
    EXPECT_EQ(fromGraph.distances, fresh.distances) << "k " << k;
  }
  EXPECT_EQ(graphs->size(), 1u);

  // More neighbours than kept: searched again, and the larger graph replaces the smaller.
  ProgressCount wider;
  shared.k = 20;
  shared.progress = wider.callback();
  EXPECT_EQ(computeKnn(x.view(), shared).k, 20);
  EXPECT_GT(wider.calls, 1);
  EXPECT_EQ(graphs->size(), 1u);
  EXPECT_EQ(graphs->bytes(), 3000u * 20 * (sizeof(int64_t) + sizeof(float)));

  // Another metric, other query rows, one changed value: other graphs.
  shared.k = 10;
  shared.metric = DistanceMetric::Euclidean;
  computeKnn(x.view(), shared);
  shared.metric = DistanceMetric::Cosine;
  computeKnn(x.view(), 0, 1500, shared);
  Matrix changed = x;
  changed.values[12345] += 1e-3f;
  ProgressCount other;
  shared.progress = other.callback();
  const KnnResult changedResult = computeKnn(changed.view(), shared);
  EXPECT_GT(other.calls, 1) << "a changed matrix must not find the old graph";
  EXPECT_EQ(graphs->size(), 4u);
  alone.k = 10;
  EXPECT_EQ(changedResult.indices, computeKnn(changed.view(), alone).indices);
  EXPECT_EQ(ten.indices, computeKnn(x.view(), alone).indices);
}

TEST(NeighborGraphs, ApproximateGraphReportsItsReuseAndRecallAtEachK)
{
  setThreads();
  const Matrix x = clustered(20000, 32, 5);
  auto graphs = std::make_shared<NeighborGraphs>();
  KnnOptions options;
  options.metric = DistanceMetric::Cosine;
  options.search.method = KnnMethod::Ivf;
  options.search.graphs = graphs;
  std::vector<std::string> reports;
  options.search.report = [&reports](const std::string& s) { reports.push_back(s); };
  options.k = 10;
  const KnnResult ten = computeKnn(x.view(), options);
  options.k = 5;
  const KnnResult five = computeKnn(x.view(), options);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].find("used again"), std::string::npos) << reports[0];
  EXPECT_NE(reports[1].find("IVF neighbours (k 5, cosine) of 20000 rows: the graph built earlier "
                            "in this session (k 16"),
    std::string::npos)
    << reports[1];
  EXPECT_NE(reports[1].find("recall@5 "), std::string::npos) << reports[1];
  // The prefix of the shared graph, with its recall measured at each k on
  // the same sample as estimateRecall's (seed 0).
  for (int64_t r = 0; r < x.rows; r += 97)
  {
    for (int j = 0; j < 5; ++j)
    {
      EXPECT_EQ(five.indices[r * 5 + j], ten.indices[r * 10 + j]);
    }
  }
  EXPECT_DOUBLE_EQ(ten.recall, estimateRecall(x.view(), ten, options.metric, 256));
  EXPECT_DOUBLE_EQ(five.recall, estimateRecall(x.view(), five, options.metric, 256));
  EXPECT_GE(five.recall, 0.99);
  // The same search alone: about the same recall from the wider graph (its far
  // rows, searched again exactly, are chosen by 16 neighbours, not 5).
  options.search.graphs = nullptr;
  const KnnResult alone = computeKnn(x.view(), options);
  EXPECT_GE(five.recall, alone.recall - 0.005);
}

TEST(NeighborGraphs, LeastRecentlyUsedGraphsLeaveBeyondTheBudget)
{
  const std::size_t graphBytes = 200u * kSharedGraphNeighbors * (sizeof(int64_t) + sizeof(float));
  auto graphs = std::make_shared<NeighborGraphs>(2 * graphBytes + 10);
  KnnOptions options;
  options.search.graphs = graphs;
  std::vector<Matrix> inputs;
  for (unsigned seed : { 1u, 2u, 3u })
  {
    inputs.push_back(clustered(200, 8, seed));
  }
  computeKnn(inputs[0].view(), options);
  computeKnn(inputs[1].view(), options);
  computeKnn(inputs[0].view(), options); // 0 is now the most recently used
  computeKnn(inputs[2].view(), options); // 1 leaves
  EXPECT_EQ(graphs->size(), 2u);
  EXPECT_EQ(graphs->bytes(), 2 * graphBytes);
  ProgressCount count;
  options.progress = count.callback();
  computeKnn(inputs[0].view(), options);
  EXPECT_EQ(count.calls, 1);
  computeKnn(inputs[1].view(), options);
  EXPECT_GT(count.calls, 2) << "the least recently used graph was kept";
  // A graph larger than the whole budget is used once and not kept.
  auto tiny = std::make_shared<NeighborGraphs>(100);
  options.search.graphs = tiny;
  computeKnn(inputs[0].view(), options);
  EXPECT_EQ(tiny->size(), 0u);
  EXPECT_EQ(tiny->bytes(), 0u);
}

TEST(NeighborGraphs, AbortedSearchKeepsNothing)
{
  const Matrix x = clustered(5000, 16, 9);
  auto graphs = std::make_shared<NeighborGraphs>();
  KnnOptions options;
  options.search.method = KnnMethod::Ivf;
  options.search.graphs = graphs;
  int calls = 0;
  options.progress = [&calls](double) { return ++calls < 3; };
  EXPECT_THROW(computeKnn(x.view(), options), Aborted);
  EXPECT_EQ(graphs->size(), 0u);
  options.progress = nullptr;
  EXPECT_EQ(computeKnn(x.view(), options).rows, 5000);
  EXPECT_EQ(graphs->size(), 1u);
}

// -------------------------------------------------------------- outlier score

TEST(EmbeddingOutlierScore, MatchesCleanlabFormulaOnFashionMnist)
{
  const Matrix& x = pixels();
  OutlierScoreOptions options; // K 10, auto (cosine for 784-D), t 1, median
  const OutlierScoreResult median = computeEmbeddingOutlierScore(x.view(), options);
  EXPECT_EQ(median.metric, DistanceMetric::Cosine);
  EXPECT_EQ(median.k, 10);
  const double scoreDiff =
    maxAbsDiff(median.score, load<double>("fmnist_outlier_score_median.npy", "<f8"));
  const double meanDiff =
    maxAbsDiff(median.meanDistance, load<double>("fmnist_knn_mean_distance.npy", "<f8"));
  options.scaling = DistanceScaling::None;
  const OutlierScoreResult none = computeEmbeddingOutlierScore(x.view(), options);
  const double noneDiff =
    maxAbsDiff(none.score, load<double>("fmnist_outlier_score_none.npy", "<f8"));
  std::printf("[ result ] outlier score (scale %.6g): max |diff| median %.3g, none %.3g, mean "
              "distance %.3g\n",
    median.scale, scoreDiff, noneDiff, meanDiff);
  EXPECT_LT(scoreDiff, 1e-4);
  EXPECT_LT(noneDiff, 1e-4);
  EXPECT_LT(meanDiff, 1e-5);
}

TEST(EmbeddingOutlierScore, MatchesCleanlabFormulaOnLowDimensionalPoints)
{
  const Matrix x = lowDim(); // 2-D: euclidean by auto; duplicates and a zero vector
  OutlierScoreOptions options;
  const OutlierScoreResult median = computeEmbeddingOutlierScore(x.view(), options);
  EXPECT_EQ(median.metric, DistanceMetric::Euclidean);
  options.scaling = DistanceScaling::None;
  const OutlierScoreResult none = computeEmbeddingOutlierScore(x.view(), options);
  const double scoreDiff =
    maxAbsDiff(median.score, load<double>("lowdim_outlier_score_median.npy", "<f8"));
  const double noneDiff =
    maxAbsDiff(none.score, load<double>("lowdim_outlier_score_none.npy", "<f8"));
  const double meanDiff =
    maxAbsDiff(median.meanDistance, load<double>("lowdim_knn_mean_distance.npy", "<f8"));
  std::printf(
    "[ result ] low-dim outlier score: max |diff| median %.3g, none %.3g, mean distance %.3g\n",
    scoreDiff, noneDiff, meanDiff);
  EXPECT_LT(scoreDiff, 1e-4);
  EXPECT_LT(noneDiff, 1e-4);
  EXPECT_LT(meanDiff, 1e-5);

  KnnOptions knnOptions;
  knnOptions.metric = DistanceMetric::Euclidean;
  const KnnResult knn = computeKnn(x.view(), knnOptions);
  const KnnComparison c = compareWithReference(knn, load<int32_t>("lowdim_knn_indices.npy", "<i4"),
    load<float>("lowdim_knn_distances.npy", "<f4"), 1e-6);
  std::printf("[ result ] low-dim kNN: %lld ids differ (all ties: %s), max distance diff %.3g\n",
    static_cast<long long>(c.differentIds), c.nonTieDifferences == 0 ? "yes" : "NO",
    c.maxDistanceDiff);
  EXPECT_EQ(c.nonTieDifferences, 0);
  EXPECT_LT(c.maxDistanceDiff, 1e-5);
}

TEST(EmbeddingOutlierScore, EdgeCases)
{
  setThreads();
  OutlierScoreOptions options;
  Matrix empty;
  empty.cols = 16;
  EXPECT_TRUE(computeEmbeddingOutlierScore(empty.view(), options).score.empty());
  Matrix one{ { 1, 2, 3, 4 }, 1, 4 };
  const std::string message =
    errorMessage([&] { computeEmbeddingOutlierScore(one.view(), options); });
  EXPECT_NE(message.find("at least 2 samples"), std::string::npos) << message;
  // N <= K: k = N - 1.
  Matrix three{ { 0, 1, 3 }, 3, 1 };
  OutlierScoreResult r = computeEmbeddingOutlierScore(three.view(), options);
  EXPECT_EQ(r.k, 2);
  EXPECT_EQ(r.metric, DistanceMetric::Euclidean);
  EXPECT_NEAR(r.meanDistance[0], 2.0, 1e-6); // (1 + 3) / 2
  EXPECT_NEAR(r.meanDistance[1], 1.5, 1e-6); // (1 + 2) / 2
  EXPECT_NEAR(r.meanDistance[2], 2.5, 1e-6); // (2 + 3) / 2
  EXPECT_NEAR(r.scale, 2.0, 1e-12);          // median
  EXPECT_NEAR(r.score[0], std::exp(-1.0), 1e-7);
  // Even N: numpy median = mean of the two middle values.
  EXPECT_DOUBLE_EQ(numpyMedian({ 4, 1, 3, 2 }), 2.5);
  EXPECT_DOUBLE_EQ(numpyMedian({ 5, 1, 3 }), 3.0);
  // All duplicates: every distance 0, scores 1 (below tolerance).
  Matrix same;
  same.rows = 15;
  same.cols = 6;
  same.values.assign(15 * 6, 3.0f);
  r = computeEmbeddingOutlierScore(same.view(), options);
  EXPECT_EQ(*std::min_element(r.score.begin(), r.score.end()), 1.0f);
  // Zero vectors with cosine (D > 3): two zero rows are duplicates.
  Matrix zeros{ { 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 2, 4, 6, 8, 1, 0, 0, 0 }, 5, 4 };
  options.k = 1;
  r = computeEmbeddingOutlierScore(zeros.view(), options);
  EXPECT_EQ(r.meanDistance[0], 0.0f);
  EXPECT_EQ(r.score[0], 1.0f);
  EXPECT_NEAR(r.meanDistance[1], 0.0f, 1e-7);
  // D = 1, 2, 3: euclidean by auto; D = 4: cosine.
  for (int64_t d = 1; d <= 4; ++d)
  {
    Matrix m;
    m.rows = 30;
    m.cols = d;
    for (int64_t i = 0; i < 30 * d; ++i)
    {
      m.values.push_back(static_cast<float>((i * 37) % 11) - 5.0f);
    }
    r = computeEmbeddingOutlierScore(m.view(), OutlierScoreOptions());
    EXPECT_EQ(r.metric, d <= 3 ? DistanceMetric::Euclidean : DistanceMetric::Cosine) << d;
  }
  // NaN / Inf.
  Matrix bad{ { 1, 2, 3, std::numeric_limits<float>::infinity(), 1, 1 }, 3, 2 };
  const std::string badMessage =
    errorMessage([&] { computeEmbeddingOutlierScore(bad.view(), options); });
  EXPECT_NE(badMessage.find("1 of 3 rows of the embedding contains NaN or Inf"), std::string::npos)
    << badMessage;
}

// ------------------------------------------------------ prediction outlier score

TEST(PredictionOutlierScore, MatchesCleanlabFormulas)
{
  for (const std::string name : { "pred", "pred_missing" })
  {
    const auto array = readNpy(kDataDir + name + "_probs_f4.npy");
    Matrix p;
    p.values = array.values<float>("<f4");
    p.rows = static_cast<int64_t>(array.shape.at(0));
    p.cols = static_cast<int64_t>(array.shape.at(1));
    const auto labels = load<int32_t>(name + "_labels_i4.npy", "<i4");
    PredictionScoreOptions options;
    const PredictionScoreResult entropy =
      computePredictionOutlierScore(p.view(), labels.data(), options);
    options.method = PredictionScoreMethod::LeastConfidence;
    const PredictionScoreResult least =
      computePredictionOutlierScore(p.view(), labels.data(), options);
    const double e = maxAbsDiff(entropy.oodScore, load<double>(name + "_entropy.npy", "<f8"));
    const double l =
      maxAbsDiff(least.oodScore, load<double>(name + "_least_confidence.npy", "<f8"));
    const double s =
      maxAbsDiff(entropy.labelQuality, load<double>(name + "_self_confidence.npy", "<f8"));
    const auto thresholds = load<double>(name + "_thresholds.npy", "<f8");
    double t = 0.0;
    for (std::size_t j = 0; j < thresholds.size(); ++j)
    {
      t = std::max(t, std::abs(entropy.confidentThresholds.at(j) - thresholds[j]));
    }
    std::printf("[ result ] %s: max |diff| entropy %.3g, least_confidence %.3g, self_confidence "
                "%.3g, thresholds %.3g\n",
      name.c_str(), e, l, s, t);
    EXPECT_LT(e, 1e-4);
    EXPECT_LT(l, 1e-4);
    EXPECT_LT(s, 1e-6);
    EXPECT_LT(t, 1e-9);
  }
}

TEST(PredictionOutlierScore, EdgeCases)
{
  Matrix p{ { 0.5f, 0.5f, 1.0f, 0.0f, 0.0f, 1.0f }, 3, 2 };
  std::vector<int32_t> labels{ 0, 0, 2 };
  std::string message =
    errorMessage([&] { computePredictionOutlierScore(p.view(), labels.data()); });
  EXPECT_NE(message.find("1 of 3 labels"), std::string::npos) << message;
  labels = { -1, 0, 1 };
  EXPECT_THROW(computePredictionOutlierScore(p.view(), labels.data()), ModelError);
  labels = { 0, 0, 1 };
  const PredictionScoreResult r = computePredictionOutlierScore(p.view(), labels.data());
  EXPECT_EQ(r.oodScore.size(), 3u);
  EXPECT_FLOAT_EQ(r.labelQuality[2], 1.0f);
  Matrix bad{ { 0.5f, std::numeric_limits<float>::quiet_NaN(), 1.2f, 0.0f, 0.0f, 1.0f }, 3, 2 };
  message = errorMessage([&] { computePredictionOutlierScore(bad.view(), labels.data()); });
  EXPECT_NE(message.find("1 of 3 rows of the probabilities contains NaN or Inf"), std::string::npos)
    << message;
  bad.values[1] = 0.5f;
  message = errorMessage([&] { computePredictionOutlierScore(bad.view(), labels.data()); });
  EXPECT_NE(message.find("outside [0, 1]"), std::string::npos) << message;
  Matrix oneClass{ { 1.0f, 1.0f }, 2, 1 };
  EXPECT_THROW(computePredictionOutlierScore(oneClass.view(), labels.data()), ModelError);
  Matrix empty;
  empty.cols = 3;
  EXPECT_TRUE(computePredictionOutlierScore(empty.view(), nullptr).oodScore.empty());
  EXPECT_THROW(computePredictionOutlierScore(p.view(), nullptr), ModelError); // adjust needs labels
  PredictionScoreOptions noAdjust;
  noAdjust.adjustPredProbs = false;
  const PredictionScoreResult plain = computePredictionOutlierScore(p.view(), nullptr, noAdjust);
  EXPECT_NEAR(plain.oodScore[0], 0.0, 1e-7); // uniform: entropy = log 2
  EXPECT_NEAR(plain.oodScore[1], 1.0, 1e-7);
  EXPECT_TRUE(plain.labelQuality.empty());
}

// ---------------------------------------------------------- nearest neighbour

TEST(EmbeddingNearestNeighbor, MatchesAnnoyAngularDistance)
{
  const Matrix& x = pixels();
  const NearestNeighborResult r = computeEmbeddingNearestNeighbor(x.view());
  const auto refIds = load<int32_t>("fmnist_nn_id.npy", "<i4");
  const auto refDist = load<double>("fmnist_nn_distance.npy", "<f8");
  int64_t differentIds = 0;
  int64_t nonTies = 0;
  double maxDiff = 0.0;
  int64_t flagged = 0;
  for (std::size_t i = 0; i < refIds.size(); ++i)
  {
    const double diff = std::abs(static_cast<double>(r.distance[i]) - refDist[i]);
    maxDiff = std::max(maxDiff, diff);
    if (r.id[i] != refIds[i])
    {
      ++differentIds;
      nonTies += diff > 1e-6 ? 1 : 0;
    }
    EXPECT_EQ(r.flag[i], r.distance[i] < 0.3f ? 1 : 0);
    flagged += r.flag[i];
  }
  std::printf("[ result ] nearest neighbour: %lld ids differ (non-ties %lld), max distance diff "
              "%.3g, %lld flagged below 0.3\n",
    static_cast<long long>(differentIds), static_cast<long long>(nonTies), maxDiff,
    static_cast<long long>(flagged));
  EXPECT_EQ(nonTies, 0);
  EXPECT_LT(maxDiff, 1e-5);
}

TEST(EmbeddingNearestNeighbor, EdgeCases)
{
  setThreads();
  Matrix empty;
  empty.cols = 3;
  EXPECT_TRUE(computeEmbeddingNearestNeighbor(empty.view()).id.empty());
  Matrix one{ { 1, 2, 3 }, 1, 3 };
  NearestNeighborResult r = computeEmbeddingNearestNeighbor(one.view());
  EXPECT_EQ(r.id[0], -1);
  EXPECT_TRUE(std::isnan(r.distance[0]));
  EXPECT_EQ(r.flag[0], 0);
  // Zero vectors: distance sqrt(2); a duplicate: distance 0; D = 2 works (angular).
  Matrix m{ { 0, 0, 1, 0, 1, 0, 0, 1, 0, 0 }, 5, 2 };
  r = computeEmbeddingNearestNeighbor(m.view());
  EXPECT_EQ(r.id[0], 4);
  EXPECT_FLOAT_EQ(r.distance[0], std::sqrt(2.0f));
  EXPECT_EQ(r.id[1], 2);
  EXPECT_EQ(r.distance[1], 0.0f);
  EXPECT_EQ(r.flag[1], 1);
  EXPECT_FLOAT_EQ(r.distance[3], std::sqrt(2.0f)); // e2 vs e1: 90 degrees
  EXPECT_EQ(r.flag[3], 0);
  Matrix bad{ { 1, 2, std::numeric_limits<float>::quiet_NaN(), 1 }, 2, 2 };
  EXPECT_THROW(computeEmbeddingNearestNeighbor(bad.view()), ModelError);
}

// ------------------------------------------------------------ embedding change

TEST(EmbeddingChange, MatchesExactNeighbourhoodOverlap)
{
  const Matrix& x = pixels();
  // B = pixels x W with W in {-1, 0, 1}: integers, exact in float32.
  const auto wArray = readNpy(kDataDir + "projection_784x64_i1.npy");
  const auto w = wArray.values<int8_t>("|i1");
  Matrix b;
  b.rows = x.rows;
  b.cols = 64;
  b.values.assign(static_cast<std::size_t>(b.rows * b.cols), 0.0f);
  for (int64_t i = 0; i < x.rows; ++i)
  {
    for (int64_t c = 0; c < 64; ++c)
    {
      int64_t sum = 0;
      for (int64_t p = 0; p < 784; ++p)
      {
        sum += static_cast<int64_t>(x.values[static_cast<std::size_t>(i * 784 + p)]) *
          w[static_cast<std::size_t>(p * 64 + c)];
      }
      b.values[static_cast<std::size_t>(i * 64 + c)] = static_cast<float>(sum);
    }
  }
  const EmbeddingChangeResult r = computeEmbeddingChange(x.view(), b.view());
  EXPECT_EQ(r.k, 10);
  EXPECT_EQ(r.metricA, DistanceMetric::Cosine);
  const auto refOverlap = load<double>("change_overlap.npy", "<f8");
  const auto tied = load<uint8_t>("change_tied.npy", "|u1");
  double maxDiff = 0.0;
  int64_t skipped = 0;
  for (std::size_t i = 0; i < refOverlap.size(); ++i)
  {
    if (tied[i])
    {
      ++skipped;
      continue;
    }
    maxDiff = std::max(maxDiff, std::abs(static_cast<double>(r.overlap[i]) - refOverlap[i]));
    EXPECT_FLOAT_EQ(r.change[i], 1.0f - r.overlap[i]);
  }
  std::printf(
    "[ result ] embedding change: max |overlap diff| %.3g (%lld rows with boundary ties skipped)\n",
    maxDiff, static_cast<long long>(skipped));
  EXPECT_LT(maxDiff, 1e-6);

  const EmbeddingChangeResult same = computeEmbeddingChange(x.view(), x.view());
  EXPECT_EQ(*std::min_element(same.overlap.begin(), same.overlap.end()), 1.0f);
  EXPECT_EQ(*std::max_element(same.change.begin(), same.change.end()), 0.0f);
}

TEST(EmbeddingChange, EdgeCases)
{
  setThreads();
  Matrix a{ { 1, 2, 3, 4, 5, 6 }, 3, 2 };
  Matrix b{ { 1, 2, 3, 4, 5, 6, 7, 8 }, 2, 4 };
  const std::string message = errorMessage([&] { computeEmbeddingChange(a.view(), b.view()); });
  EXPECT_NE(message.find("different numbers of samples (3 and 2)"), std::string::npos) << message;
  Matrix c{ { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, 3, 3 };
  const EmbeddingChangeResult r = computeEmbeddingChange(a.view(), c.view());
  EXPECT_EQ(r.k, 2);             // N <= K
  EXPECT_EQ(r.overlap[0], 1.0f); // k = N - 1: every other sample is a neighbour
  Matrix one{ { 1, 2 }, 1, 2 };
  EXPECT_EQ(computeEmbeddingChange(one.view(), one.view()).overlap[0], 1.0f);
  Matrix empty;
  EXPECT_TRUE(computeEmbeddingChange(empty.view(), empty.view()).overlap.empty());
  Matrix bad{ { 1, 2, 3, std::numeric_limits<float>::quiet_NaN(), 5, 6 }, 3, 2 };
  const std::string badMessage =
    errorMessage([&] { computeEmbeddingChange(a.view(), bad.view()); });
  EXPECT_NE(badMessage.find("1 of 3 rows of the second embedding"), std::string::npos)
    << badMessage;
}
