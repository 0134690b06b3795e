// Training dynamics and embedding drift (SPEC §2.7) on cases small enough to
// work out by hand, and their refusals of bad input. The pvpython test
// TestTrainingDynamics compares the same functions with NumPy on the demo's
// real checkpoints.
#include "EngineError.h"
#include "TrainingDynamics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

using namespace dualembed::engine;

namespace
{
// Three checkpoints, two samples, three classes.
//   sample 0 (label 1): right, wrong, right -> one forgetting event
//   sample 1 (label 2): never right        -> "never learned": T events
const std::vector<float> kProbs[3] = {
  { 0.2f, 0.7f, 0.1f, /**/ 0.5f, 0.4f, 0.1f },
  { 0.6f, 0.3f, 0.1f, /**/ 0.3f, 0.6f, 0.1f },
  { 0.1f, 0.8f, 0.1f, /**/ 0.4f, 0.4f, 0.2f },
};
const std::vector<float> kLogits[3] = {
  { 0.0f, 2.0f, -1.0f, /**/ 1.0f, 0.5f, -3.0f },
  { 1.5f, 0.5f, 0.0f, /**/ 0.0f, 1.0f, -2.0f },
  { -1.0f, 3.0f, 0.0f, /**/ 0.5f, 0.5f, 0.0f },
};
const int32_t kLabels[2] = { 1, 2 };

std::vector<CheckpointPredictions> predictions(bool logits = true)
{
  std::vector<CheckpointPredictions> steps;
  for (int t = 0; t < 3; ++t)
  {
    steps.push_back({ kProbs[t].data(), logits ? kLogits[t].data() : nullptr });
  }
  return steps;
}
}

TEST(TrainingDynamics, WorkedExample)
{
  const TrainingDynamicsResult r = computeTrainingDynamics(predictions(), 2, 3, kLabels);
  ASSERT_EQ(r.checkpoints, 3);
  EXPECT_NEAR(r.confidence[0], (0.7 + 0.3 + 0.8) / 3, 1e-7);
  EXPECT_NEAR(r.confidence[1], (0.1 + 0.1 + 0.2) / 3, 1e-7);
  const double m0 = 0.6, v0 = std::sqrt(((0.1 * 0.1) + (0.3 * 0.3) + (0.2 * 0.2)) / 3);
  EXPECT_NEAR(r.confidence[0], m0, 1e-7);
  EXPECT_NEAR(r.variability[0], v0, 1e-7);
  EXPECT_NEAR(r.correctness[0], 2.0 / 3, 1e-7);
  EXPECT_EQ(r.correctness[1], 0.0f);
  EXPECT_EQ(r.forgettingEvents[0], 1);
  EXPECT_EQ(r.forgettingEvents[1], 3); // never learned
  // Margins: sample 0: 2-0, 0.5-1.5, 3-0; sample 1: -3-1, -2-1, 0-0.5.
  ASSERT_EQ(r.aum.size(), 2u);
  EXPECT_NEAR(r.aum[0], (2.0 - 1.0 + 3.0) / 3, 1e-6);
  EXPECT_NEAR(r.aum[1], (-4.0 - 3.0 - 0.5) / 3, 1e-6);
  EXPECT_FLOAT_EQ(r.labelProbability[0 * 3 + 1], 0.3f);
  EXPECT_FLOAT_EQ(r.labelProbability[1 * 3 + 2], 0.2f);
}

TEST(TrainingDynamics, TiesAndMissingLogits)
{
  // Sample 1 at the last checkpoint has 0.4 / 0.4 / 0.2: np.argmax takes the
  // first maximum (class 0), so label 0 would count as correct there.
  const int32_t labels[2] = { 1, 0 };
  const TrainingDynamicsResult r = computeTrainingDynamics(predictions(false), 2, 3, labels);
  EXPECT_TRUE(r.aum.empty());                   // no logits, no AUM
  EXPECT_NEAR(r.correctness[1], 2.0 / 3, 1e-7); // right at checkpoints 1 and 3
  EXPECT_EQ(r.forgettingEvents[1], 1);
}

TEST(TrainingDynamics, OneCheckpoint)
{
  const std::vector<CheckpointPredictions> one = { { kProbs[0].data(), kLogits[0].data() } };
  const TrainingDynamicsResult r = computeTrainingDynamics(one, 2, 3, kLabels);
  EXPECT_EQ(r.variability[0], 0.0f);
  EXPECT_EQ(r.forgettingEvents[0], 0);
  EXPECT_EQ(r.forgettingEvents[1], 1); // never learned = T = 1
}

TEST(TrainingDynamics, RefusesBadInput)
{
  EXPECT_THROW(computeTrainingDynamics({}, 2, 3, kLabels), ModelError);
  const int32_t outside[2] = { 1, 3 };
  EXPECT_THROW(computeTrainingDynamics(predictions(), 2, 3, outside), ModelError);
  const int32_t missing[2] = { -1, 0 };
  EXPECT_THROW(computeTrainingDynamics(predictions(), 2, 3, missing), ModelError);
  std::vector<float> nan = kProbs[1];
  nan[4] = NAN;
  std::vector<CheckpointPredictions> steps = predictions();
  steps[1].probs = nan.data();
  EXPECT_THROW(computeTrainingDynamics(steps, 2, 3, kLabels), ModelError);
  const float single[2] = { 1.0f, 1.0f };
  EXPECT_THROW(computeTrainingDynamics({ { single, nullptr } }, 2, 1, kLabels), ModelError);
}

TEST(EmbeddingDrift, NeighboursThatMove)
{
  // Four points on a line; at the second checkpoint point 0 jumps next to point 3.
  const std::vector<float> before = { 0.0f, 1.0f, 2.0f, 10.0f };
  const std::vector<float> after = { 11.0f, 1.0f, 2.0f, 10.0f };
  EmbeddingDriftOptions options;
  options.k = 1;
  const EmbeddingDriftResult r =
    computeEmbeddingDrift({ { before.data(), 4, 1 }, { after.data(), 4, 1 } }, options);
  ASSERT_EQ(r.k, 1);
  // Nearest other point before: 1, 0 (tie 0/2 at distance 1: the smaller index), 1, 2; after: 3, 2,
  // 1, 0.
  const std::vector<float> expected = { 1, 1, 0, 1 };
  for (int i = 0; i < 4; ++i)
  {
    EXPECT_EQ(r.toPrevious[i], 0.0f) << "nothing moved before the first checkpoint";
    EXPECT_EQ(r.toPrevious[4 + i], expected[i]) << "sample " << i;
    EXPECT_EQ(r.toFinal[i], expected[i]) << "sample " << i;
    EXPECT_EQ(r.toFinal[4 + i], 0.0f);
    EXPECT_EQ(r.mean[i], expected[i]);
  }
}

TEST(EmbeddingDrift, AnApproximateSeriesSaysSoOnce)
{
  // Three checkpoints of 300 points in 8 dimensions, searched by IVF: one
  // sentence for the series (the first search's, then the others' recall).
  std::vector<std::vector<float>> steps(3, std::vector<float>(300 * 8));
  for (std::size_t t = 0; t < steps.size(); ++t)
  {
    for (std::size_t v = 0; v < steps[t].size(); ++v)
    {
      steps[t][v] = static_cast<float>(std::sin(0.37 * v + 1.3 * t) + 0.01 * v / 8);
    }
  }
  EmbeddingDriftOptions options;
  options.neighbors.method = KnnMethod::Ivf;
  std::vector<std::string> reports;
  options.neighbors.report = [&reports](const std::string& s) { reports.push_back(s); };
  computeEmbeddingDrift(
    { { steps[0].data(), 300, 8 }, { steps[1].data(), 300, 8 }, { steps[2].data(), 300, 8 } },
    options);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].find("IVF neighbours (k 10, cosine) of 300 rows"), 0u) << reports[0];
  EXPECT_NE(
    reports[0].find(
      "That was the first of 3 checkpoints; the other 2 were searched the same way: recall@10 "),
    std::string::npos)
    << reports[0];
  // One checkpoint: its sentence alone.
  reports.clear();
  computeEmbeddingDrift({ { steps[0].data(), 300, 8 } }, options);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].find("That was"), std::string::npos) << reports[0];
}

TEST(EmbeddingDrift, RefusesBadInput)
{
  const std::vector<float> a = { 0.0f, 1.0f, 2.0f };
  const std::vector<float> b = { 0.0f, 1.0f };
  EXPECT_THROW(computeEmbeddingDrift({}), ModelError);
  EXPECT_THROW(computeEmbeddingDrift({ { a.data(), 3, 1 }, { b.data(), 2, 1 } }), ModelError);
  const std::vector<float> nan = { 0.0f, NAN, 2.0f };
  EXPECT_THROW(computeEmbeddingDrift({ { a.data(), 3, 1 }, { nan.data(), 3, 1 } }), ModelError);
  EmbeddingDriftOptions zero;
  zero.k = 0;
  EXPECT_THROW(computeEmbeddingDrift({ { a.data(), 3, 1 } }, zero), ModelError);
}
