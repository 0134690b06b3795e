// Tests of the Data Issues engine (Filters/Engine/Issues) against cleanlab's
// issue managers and FiftyOne's formulas, run by
// Testing/Data/issues-reference/make_issues_reference.py on 3000
// Fashion-MNIST test images with 2 % of the labels flipped and 32 inserted
// duplicates, embedded with the demo models (committed as .npy files).
// Scores must agree within 1e-6 and flags exactly.
#include "DataIssues.h"
#include "EngineError.h"
#include "NpyReader.h"
#include "NumpyOrder.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>
#include <vector>

using namespace dualembed::engine;
using dualembed::testdata::readNpy;

namespace
{
const std::string kDataDir = std::string(DUALEMBED_TESTING_DATA_DIR) + "/issues-reference/";
constexpr double kScoreTolerance = 1e-6;

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
  FeatureMatrix view() const { return FeatureMatrix{ values.data(), rows, cols }; }
};

Matrix loadMatrix(const std::string& name)
{
  const auto array = readNpy(kDataDir + name);
  Matrix m;
  m.values = array.values<float>("<f4");
  m.rows = static_cast<int64_t>(array.shape.at(0));
  m.cols = static_cast<int64_t>(array.shape.at(1));
  return m;
}

Matrix rowsOf(const Matrix& m, const std::vector<int64_t>& order)
{
  Matrix out;
  out.rows = static_cast<int64_t>(order.size());
  out.cols = m.cols;
  for (int64_t i : order)
  {
    out.values.insert(
      out.values.end(), m.values.begin() + i * m.cols, m.values.begin() + (i + 1) * m.cols);
  }
  return out;
}

struct Dataset
{
  std::vector<int32_t> labels;
  std::vector<int64_t> flipped;
  Matrix foundation, ft, probs, logits;
};

const Dataset& dataset()
{
  static Dataset d;
  if (d.labels.empty())
  {
    at::set_num_threads(2);
    d.labels = load<int32_t>("labels_i4.npy", "<i4");
    d.flipped = load<int64_t>("flipped_i8.npy", "<i8");
    d.foundation = loadMatrix("embedding_foundation_f4.npy");
    d.ft = loadMatrix("embedding_ft_f4.npy");
    d.probs = loadMatrix("probs_ft_f4.npy");
    d.logits = loadMatrix("logits_ft_f4.npy");
  }
  return d;
}

const DataIssuesResult& fullResult()
{
  static DataIssuesResult result;
  static bool done = false;
  if (!done)
  {
    const Dataset& d = dataset();
    DataIssuesInput input;
    input.rows = d.foundation.rows;
    input.labels = d.labels.data();
    input.embeddings = { d.foundation.view(), d.ft.view() };
    input.probabilities = d.probs.view();
    input.logits = d.logits.view();
    result = computeDataIssues(input, DataIssuesOptions());
    done = true;
  }
  return result;
}

template <typename T>
void expectScores(const std::vector<T>& ours, const std::string& file, const std::string& what)
{
  const std::vector<double> expected = load<double>(file, "<f8");
  ASSERT_EQ(ours.size(), expected.size()) << what;
  double worst = 0;
  for (size_t i = 0; i < expected.size(); ++i)
  {
    worst = std::max(worst, std::abs(static_cast<double>(ours[i]) - expected[i]));
  }
  std::printf("%-40s max abs diff %.2e\n", what.c_str(), worst);
  EXPECT_LE(worst, kScoreTolerance) << what;
}

void expectFlags(const std::vector<uint8_t>& ours, const std::string& file, const std::string& what)
{
  const std::vector<uint8_t> expected = load<uint8_t>(file, "|u1");
  ASSERT_EQ(ours.size(), expected.size()) << what;
  int64_t differ = 0, flagged = 0;
  for (size_t i = 0; i < expected.size(); ++i)
  {
    differ += ours[i] != expected[i] ? 1 : 0;
    flagged += ours[i];
  }
  std::printf("%-40s %lld flagged, %lld differ from cleanlab\n", what.c_str(),
    static_cast<long long>(flagged), static_cast<long long>(differ));
  EXPECT_EQ(differ, 0) << what;
}

double recall(const std::vector<uint8_t>& flags, const std::vector<int64_t>& flipped)
{
  int64_t found = 0;
  for (int64_t i : flipped)
  {
    found += flags[i];
  }
  return static_cast<double>(found) / static_cast<double>(flipped.size());
}
} // namespace

TEST(NumpyCompat, ArgsortKeepsNumpyOrderOfTies)
{
  // np.argsort([0.2, 0.1, 0.2, ...]) of NumPy 1.24 (introsort, not stable):
  // the order of equal values is NumPy's, checked here on a case where a
  // stable sort gives another answer.
  std::vector<double> values(40);
  for (size_t i = 0; i < values.size(); ++i)
  {
    values[i] = static_cast<double>((i * 7) % 3);
  }
  const std::vector<int64_t> order = numpyArgsort(values);
  std::vector<int64_t> stable(values.size());
  std::iota(stable.begin(), stable.end(), int64_t{ 0 });
  std::stable_sort(
    stable.begin(), stable.end(), [&](int64_t a, int64_t b) { return values[a] < values[b]; });
  // np.argsort((np.arange(40) * 7) % 3) with NumPy 1.24.2:
  const std::vector<int64_t> numpyOrder = { 0, 36, 33, 30, 27, 24, 21, 18, 15, 12, 39, 9, 3, 6, 25,
    37, 1, 34, 31, 28, 4, 10, 19, 16, 13, 7, 22, 14, 35, 8, 2, 32, 23, 29, 38, 26, 20, 5, 17, 11 };
  EXPECT_EQ(order, numpyOrder);
  EXPECT_NE(order, stable);
  const double values8[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
  EXPECT_EQ(numpySum(values8, 11), 66.0);
}

TEST(DataIssues, LabelIssuesFromProbabilitiesMatchCleanlab)
{
  const DataIssuesResult& r = fullResult();
  expectFlags(r.predictionLabels.isIssue, "expected_probs_ft_is_label_issue_u1.npy",
    "is_label_issue (probs_ft)");
  expectScores(
    r.predictionLabels.score, "expected_probs_ft_label_score_f8.npy", "label_score (probs_ft)");
  std::printf("flipped labels recovered from probs_ft: %.1f %%\n",
    100 * recall(r.predictionLabels.isIssue, dataset().flipped));
}

TEST(DataIssues, LabelIssuesFromEmbeddingsMatchDatalabKnn)
{
  const DataIssuesResult& r = fullResult();
  const char* names[] = { "foundation", "ft" };
  for (int e = 0; e < 2; ++e)
  {
    const std::string x = std::string("embedding_") + names[e];
    expectFlags(r.embeddings[e].labels.isIssue, "expected_" + x + "_is_label_issue_u1.npy",
      "is_knn_label_issue " + x);
    expectScores(r.embeddings[e].labels.score, "expected_" + x + "_label_score_f8.npy",
      "knn_label_score " + x);
    std::printf("flipped labels recovered from %s: %.1f %%\n", x.c_str(),
      100 * recall(r.embeddings[e].labels.isIssue, dataset().flipped));
  }
}

TEST(DataIssues, NearDuplicatesMatchDatalab)
{
  const DataIssuesResult& r = fullResult();
  const char* names[] = { "foundation", "ft" };
  const std::vector<int64_t> duplicates = load<int64_t>("duplicates_i8.npy", "<i8");
  for (int e = 0; e < 2; ++e)
  {
    const std::string x = std::string("embedding_") + names[e];
    const NearDuplicateResult& nd = r.embeddings[e].nearDuplicates;
    expectFlags(
      nd.isIssue, "expected_" + x + "_is_near_duplicate_u1.npy", "is_near_duplicate " + x);
    expectScores(
      nd.score, "expected_" + x + "_near_duplicate_score_f8.npy", "near_duplicate_score " + x);
    EXPECT_EQ(nd.setId, load<int64_t>("expected_" + x + "_near_duplicate_set_i8.npy", "<i8")) << x;
    // Every inserted copy is in its original's set.
    for (size_t i = 0; i < duplicates.size(); i += 2)
    {
      EXPECT_GE(nd.setId[duplicates[i]], 0);
      EXPECT_EQ(nd.setId[duplicates[i]], nd.setId[duplicates[i + 1]])
        << x << " copy " << duplicates[i];
    }
    std::printf("%s: %lld near duplicates in %lld sets\n", x.c_str(),
      static_cast<long long>(nd.count), static_cast<long long>(nd.sets));
  }
}

TEST(DataIssues, NonIidMatchesDatalab)
{
  const DataIssuesResult& r = fullResult();
  const char* names[] = { "foundation", "ft" };
  for (int e = 0; e < 2; ++e)
  {
    const std::string x = std::string("embedding_") + names[e];
    const std::vector<double> expected = load<double>("expected_" + x + "_non_iid_f8.npy", "<f8");
    const NonIidResult& ni = r.embeddings[e].nonIid;
    EXPECT_NEAR(ni.pValue, expected[0], kScoreTolerance) << x;
    EXPECT_NEAR(ni.statistic, expected[1], kScoreTolerance) << x;
    EXPECT_EQ(ni.flagged, static_cast<int64_t>(expected[2])) << x;
    double worst = 0;
    for (size_t i = 0; i < ni.scores.size(); ++i)
    {
      worst = std::max(worst, std::abs(ni.scores[i] - expected[3 + i]));
    }
    EXPECT_LE(worst, kScoreTolerance) << x;
    std::printf("%s: non-IID p %.6f (cleanlab %.6f), score max abs diff %.2e\n", x.c_str(),
      ni.pValue, expected[0], worst);
  }
}

TEST(DataIssues, NonIidFlagsSamplesSortedByLabel)
{
  const Dataset& d = dataset();
  const std::vector<int64_t> order = load<int64_t>("sorted_order_i8.npy", "<i8");
  const Matrix sorted = rowsOf(d.foundation, order);
  std::vector<int32_t> labels;
  for (int64_t i : order)
  {
    labels.push_back(d.labels[i]);
  }
  DataIssuesInput input;
  input.rows = sorted.rows;
  input.labels = labels.data();
  input.embeddings = { sorted.view() };
  DataIssuesOptions options;
  options.labelIssues = options.nearDuplicates = options.uniqueness = options.classImbalance =
    false;
  const DataIssuesResult r = computeDataIssues(input, options);
  const std::vector<double> expected = load<double>("expected_sorted_non_iid_f8.npy", "<f8");
  const NonIidResult& ni = r.embeddings[0].nonIid;
  EXPECT_NEAR(ni.pValue, expected[0], kScoreTolerance);
  EXPECT_LT(ni.pValue, 0.05);
  EXPECT_NEAR(ni.statistic, expected[1], kScoreTolerance);
  EXPECT_EQ(ni.flagged, static_cast<int64_t>(expected[2]));
}

TEST(DataIssues, ClassImbalanceMatchesDatalab)
{
  const Dataset& d = dataset();
  const std::vector<double> expected = load<double>("expected_class_imbalance_f8.npy", "<f8");
  const ClassImbalanceResult all = fullResult().classImbalance;
  EXPECT_EQ(all.rarestClass, static_cast<int>(expected[0]));
  EXPECT_NEAR(all.rarestFraction, expected[1], 1e-12);
  EXPECT_EQ(all.isIssue, expected[2] != 0);
  std::vector<int32_t> subset;
  for (int64_t i : load<int64_t>("imbalanced_subset_i8.npy", "<i8"))
  {
    subset.push_back(d.labels[i]);
  }
  const ClassImbalanceResult rare =
    findClassImbalance(subset.data(), static_cast<int64_t>(subset.size()));
  EXPECT_EQ(rare.rarestClass, static_cast<int>(expected[3]));
  EXPECT_NEAR(rare.rarestFraction, expected[4], 1e-12);
  EXPECT_TRUE(rare.isIssue);
  EXPECT_EQ(expected[5], 1.0);
}

TEST(DataIssues, FiftyOneScoresMatchItsFormulas)
{
  const DataIssuesResult& r = fullResult();
  expectScores(r.embeddings[0].uniqueness, "expected_embedding_foundation_uniqueness_f8.npy",
    "uniqueness foundation");
  expectScores(
    r.embeddings[1].uniqueness, "expected_embedding_ft_uniqueness_f8.npy", "uniqueness ft");
  expectScores(r.mistakenness, "expected_ft_mistakenness_f8.npy", "mistakenness ft");
  expectScores(r.hardness, "expected_ft_hardness_f8.npy", "hardness ft");
}

TEST(DataIssues, SplitNeighboursGiveTheSameResult)
{
  // What an MPI run does: each rank its rows of the kNN graphs, then all.
  const Dataset& d = dataset();
  DataIssuesInput input;
  input.rows = d.ft.rows;
  input.labels = d.labels.data();
  input.embeddings = { d.ft.view() };
  DataIssuesOptions options;
  const IssueNeighbors first = computeIssueNeighbors(input, options, 0, 1234);
  const IssueNeighbors second = computeIssueNeighbors(input, options, 1234, input.rows);
  IssueNeighbors all;
  auto join = [](const KnnResult& a, const KnnResult& b) {
    KnnResult out = a;
    out.indices.insert(out.indices.end(), b.indices.begin(), b.indices.end());
    out.distances.insert(out.distances.end(), b.distances.begin(), b.distances.end());
    out.rows = a.rows + b.rows;
    return out;
  };
  all.graph = { join(first.graph[0], second.graph[0]) };
  all.votes = { join(first.votes[0], second.votes[0]) };
  all.unique = { join(first.unique[0], second.unique[0]) };
  const DataIssuesResult split = computeDataIssues(input, options, all);
  const EmbeddingIssues& whole = fullResult().embeddings[1];
  EXPECT_EQ(split.embeddings[0].labels.isIssue, whole.labels.isIssue);
  EXPECT_EQ(split.embeddings[0].nearDuplicates.setId, whole.nearDuplicates.setId);
  EXPECT_EQ(split.embeddings[0].uniqueness, whole.uniqueness);
  EXPECT_EQ(split.embeddings[0].nonIid.pValue, whole.nonIid.pValue);
}

TEST(DataIssues, BadInputIsRefusedWithASentence)
{
  const Dataset& d = dataset();
  auto expectRefused = [](const DataIssuesInput& input, const std::string& words) {
    try
    {
      computeDataIssues(input, DataIssuesOptions());
      ADD_FAILURE() << "accepted input that should be refused (" << words << ")";
    }
    catch (const ModelError& error)
    {
      EXPECT_NE(std::string(error.what()).find(words), std::string::npos) << error.what();
    }
  };
  DataIssuesInput input;
  input.rows = 100;
  input.labels = d.labels.data();
  input.embeddings = { FeatureMatrix{ d.ft.values.data(), 100, d.ft.cols } };
  input.probabilities = FeatureMatrix{ d.probs.values.data(), 100, d.probs.cols };

  DataIssuesInput noLabels = input;
  noLabels.labels = nullptr;
  expectRefused(noLabels, "needs labels");

  std::vector<int32_t> labels(d.labels.begin(), d.labels.begin() + 100);
  labels[3] = 12;
  DataIssuesInput outOfRange = input;
  outOfRange.labels = labels.data();
  expectRefused(outOfRange, "1 of 100 labels are outside 0..9");
  labels[3] = -1;
  expectRefused(outOfRange, "not class indices");

  std::vector<float> probs(d.probs.values.begin(), d.probs.values.begin() + 100 * 10);
  probs[5 * 10 + 2] += 0.5f;
  DataIssuesInput notSummingToOne = input;
  notSummingToOne.probabilities.data = probs.data();
  expectRefused(notSummingToOne, "not summing to 1");

  std::vector<float> embedding(d.ft.values.begin(), d.ft.values.begin() + 100 * d.ft.cols);
  embedding[7 * d.ft.cols] = std::nanf("");
  DataIssuesInput nanRows = input;
  nanRows.embeddings = { FeatureMatrix{ embedding.data(), 100, d.ft.cols } };
  expectRefused(nanRows, "NaN");

  DataIssuesInput tooSmall = input;
  tooSmall.rows = 8;
  tooSmall.embeddings = { FeatureMatrix{ d.ft.values.data(), 8, d.ft.cols } };
  tooSmall.probabilities.rows = 8;
  expectRefused(tooSmall, "more samples than K = 10");
}

TEST(DataIssues, ProgressAndAbort)
{
  const Dataset& d = dataset();
  DataIssuesInput input;
  input.rows = d.ft.rows;
  input.labels = d.labels.data();
  input.embeddings = { d.ft.view() };
  DataIssuesOptions options;
  std::vector<double> seen;
  options.progress = [&seen](double f) {
    seen.push_back(f);
    return true;
  };
  computeDataIssues(input, options);
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_DOUBLE_EQ(seen.back(), 1.0);
  options.progress = [](double f) { return f < 0.3; };
  EXPECT_THROW(computeDataIssues(input, options), Aborted);
}
