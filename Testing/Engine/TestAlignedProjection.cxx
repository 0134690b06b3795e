// Tests of the aligned projections (AlignedProjection.h): aligned UMAP after
// umap-learn's AlignedUMAP and aligned PCA (orthogonal Procrustes), on
// Fashion-MNIST pixels of the projection reference data made to drift over
// time steps (DriftingData.h: each class's cluster moves, every sample
// jitters). They check what the feature promises: a fixed seed on one
// thread gives bit-equal layouts, samples move much less between steps than
// in independent UMAPs (also after Procrustes-aligning those), the layouts
// stay as trustworthy as plain UMAP's, and Procrustes undoes rotations.
#include "AlignedProjection.h"
#include "DriftingData.h"
#include "EmbeddingProjection.h"
#include "EngineError.h"
#include "NpyReader.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

using namespace dualembed::engine;
using dualembed::testdata::readNpy;

namespace
{

const std::string kData = std::string(DUALEMBED_TESTING_DATA_DIR);

struct Series
{
  int64_t rows = 0, cols = 0;
  std::vector<std::vector<float>> values;
  std::vector<FeatureMatrix> matrices() const
  {
    std::vector<FeatureMatrix> m;
    for (const auto& v : values)
    {
      m.push_back({ v.data(), rows, cols });
    }
    return m;
  }
};

/// The first n reference images (pixels 0..255), drifting over `steps`
/// steps: each class moves by 400 per step (the typical distance between two
/// images of a class is ~1500), every pixel jitters with std 12 (~340 per image).
Series drifting(int64_t n, int steps)
{
  const auto px = readNpy(kData + "/knn-reference/fmnist_pixels_u8.npy");
  const auto bytes = px.values<uint8_t>("|u1");
  const auto lb =
    readNpy(kData + "/projection-reference/fmnist_labels_u1.npy").values<uint8_t>("|u1");
  Series s;
  s.rows = n;
  s.cols = static_cast<int64_t>(px.shape[1]);
  std::vector<float> base(bytes.begin(), bytes.begin() + n * s.cols);
  std::vector<int> labels(lb.begin(), lb.begin() + n);
  s.values =
    dualembed::testdata::driftingSteps(base.data(), n, s.cols, labels, steps, 400.0, 12.0, 16);
  return s;
}

double mean(const std::vector<double>& v, size_t from = 1)
{
  double s = 0.0;
  for (size_t i = from; i < v.size(); ++i)
  {
    s += v[i];
  }
  return v.size() > from ? s / static_cast<double>(v.size() - from) : 0.0;
}

/// Relative displacement (mean displacement / mean map scale) between
/// consecutive layouts.
std::vector<double> relativeDisplacements(
  const std::vector<std::vector<float>>& layouts, int64_t n, int dims)
{
  std::vector<double> out(layouts.size(), 0.0);
  for (size_t t = 1; t < layouts.size(); ++t)
  {
    const double scale =
      0.5 * (mapScale(layouts[t - 1].data(), n, dims) + mapScale(layouts[t].data(), n, dims));
    out[t] = meanDisplacement(layouts[t - 1].data(), layouts[t].data(), n, dims) / scale;
  }
  return out;
}

class AlignedProjection : public ::testing::Test
{
protected:
  void SetUp() override { at::set_num_threads(2); }
  void TearDown() override { at::set_num_threads(2); }
};

} // namespace

TEST_F(AlignedProjection, UmapIsDeterministicOnOneThread)
{
  const Series s = drifting(600, 3);
  at::set_num_threads(1);
  AlignedProjectionOptions o;
  o.projection.epochs = 60;
  const auto a = computeAlignedProjection(s.matrices(), o);
  const auto b = computeAlignedProjection(s.matrices(), o);
  ASSERT_EQ(a.steps.size(), 3u);
  for (size_t t = 0; t < 3; ++t)
  {
    ASSERT_EQ(a.steps[t].coordinates.size(), static_cast<size_t>(600 * 2));
    EXPECT_EQ(a.steps[t].coordinates, b.steps[t].coordinates) << "step " << t;
  }
  o.projection.seed = 7;
  const auto c = computeAlignedProjection(s.matrices(), o);
  EXPECT_NE(a.steps[1].coordinates, c.steps[1].coordinates);
  // Three dimensions, the other initialisation: deterministic too.
  o.projection.dimensions = 3;
  o.init = AlignedInit::Previous;
  const auto d = computeAlignedProjection(s.matrices(), o);
  const auto e = computeAlignedProjection(s.matrices(), o);
  EXPECT_EQ(d.steps[2].coordinates, e.steps[2].coordinates);
  EXPECT_EQ(d.steps[2].coordinates.size(), static_cast<size_t>(600 * 3));
}

TEST_F(AlignedProjection, UmapMovesLessThanIndependentUmaps)
{
  const int64_t n = 1500;
  const int steps = 4;
  const Series s = drifting(n, steps);
  AlignedProjectionOptions o;
  o.projection.epochs = 200; // the same epochs for both
  const auto aligned = computeAlignedProjection(s.matrices(), o);

  std::vector<std::vector<float>> independent, procrustes;
  for (int t = 0; t < steps; ++t)
  {
    independent.push_back(computeEmbeddingProjection(s.matrices()[t], o.projection).coordinates);
    procrustes.push_back(t == 0
        ? independent[0]
        : procrustesAlign(procrustes[t - 1].data(), independent[t].data(), n, 2));
  }
  const auto rawD = relativeDisplacements(independent, n, 2);
  const auto proD = relativeDisplacements(procrustes, n, 2);
  double worstTrust = 1.0;
  for (int t = 0; t < steps; ++t)
  {
    const FeatureMatrix x = s.matrices()[t];
    const double ta = trustworthiness(x, aligned.steps[t].coordinates.data(), 2, 15);
    const double ti = trustworthiness(x, independent[t].data(), 2, 15);
    worstTrust = std::min(worstTrust, ta - ti);
    std::printf(
      "step %d: trustworthiness aligned %.4f independent %.4f; relative displacement "
      "aligned %.4f independent %.4f independent+Procrustes %.4f (map scale %.2f / %.2f)\n",
      t, ta, ti, aligned.relativeDisplacement[t], rawD[t], proD[t], aligned.mapScale[t],
      mapScale(independent[t].data(), n, 2));
    // Within 0.01 of plain UMAP (the alignment term costs a little local structure).
    EXPECT_GE(ta, ti - 0.01) << "step " << t;
  }
  const double ratioRaw = mean(aligned.relativeDisplacement) / mean(rawD);
  const double ratioPro = mean(aligned.relativeDisplacement) / mean(proD);
  std::printf("mean relative displacement: aligned / independent %.3f, aligned / "
              "(independent + Procrustes) %.3f; worst trustworthiness difference %.4f\n",
    ratioRaw, ratioPro, worstTrust);
  EXPECT_LT(ratioRaw, 0.25);
  EXPECT_LT(ratioPro, 0.5);
  // meanDisplacement and relativeDisplacement agree with the helpers.
  for (int t = 1; t < steps; ++t)
  {
    EXPECT_DOUBLE_EQ(aligned.meanDisplacement[t],
      meanDisplacement(
        aligned.steps[t - 1].coordinates.data(), aligned.steps[t].coordinates.data(), n, 2));
  }
  EXPECT_EQ(aligned.meanDisplacement[0], 0.0);
}

TEST_F(AlignedProjection, ProcrustesRecoversAKnownRotationOfPca)
{
  const Series s = drifting(500, 1);
  ProjectionOptions po;
  po.method = ProjectionMethod::Pca;
  const auto pca = computeEmbeddingProjection(s.matrices()[0], po);
  const int64_t n = 500;
  // Rotation by 0.7 rad, a reflection, a translation.
  const double c = std::cos(0.7), sn = std::sin(0.7);
  std::vector<float> moved(pca.coordinates.size());
  for (int64_t i = 0; i < n; ++i)
  {
    const double x = pca.coordinates[i * 2], y = pca.coordinates[i * 2 + 1];
    moved[i * 2] = static_cast<float>(c * x - sn * y + 300.0);
    moved[i * 2 + 1] = static_cast<float>(-(sn * x + c * y) - 50.0);
  }
  const auto back = procrustesAlign(pca.coordinates.data(), moved.data(), n, 2);
  const double scale = mapScale(pca.coordinates.data(), n, 2);
  double worst = 0.0;
  for (size_t i = 0; i < back.size(); ++i)
  {
    worst = std::max(worst, std::fabs(static_cast<double>(back[i]) - pca.coordinates[i]));
  }
  EXPECT_LT(worst, 1e-5 * scale) << "scale " << scale;
  // No scaling: a shrunk copy is rotated back, not enlarged.
  for (auto& v : moved)
  {
    v *= 0.5f;
  }
  const auto half = procrustesAlign(pca.coordinates.data(), moved.data(), n, 2);
  EXPECT_NEAR(mapScale(half.data(), n, 2), 0.5 * scale, 1e-4 * scale);
}

TEST_F(AlignedProjection, AlignedPcaIsAnOrthogonalTransformOfEachStepsPca)
{
  const int64_t n = 800;
  const Series s = drifting(n, 4);
  AlignedProjectionOptions o;
  o.projection.method = ProjectionMethod::Pca;
  const auto aligned = computeAlignedProjection(s.matrices(), o);
  ASSERT_EQ(aligned.steps.size(), 4u);
  std::vector<std::vector<float>> plain;
  for (int t = 0; t < 4; ++t)
  {
    plain.push_back(computeEmbeddingProjection(s.matrices()[t], o.projection).coordinates);
  }
  EXPECT_EQ(aligned.steps[0].coordinates, plain[0]);
  for (int t = 1; t < 4; ++t)
  {
    const auto& a = aligned.steps[t].coordinates;
    // Distances between samples are those of the step's own PCA.
    double worst = 0.0;
    for (int64_t i = 0; i + 1 < n; i += 7)
    {
      const int64_t j = (i * 31 + 5) % n;
      const double da = std::hypot(a[i * 2] - a[j * 2], a[i * 2 + 1] - a[j * 2 + 1]);
      const double dp =
        std::hypot(plain[t][i * 2] - plain[t][j * 2], plain[t][i * 2 + 1] - plain[t][j * 2 + 1]);
      worst = std::max(worst, std::fabs(da - dp));
    }
    EXPECT_LT(worst, 1e-4 * aligned.mapScale[t]) << "step " << t;
    // And no farther from the previous step than the unaligned PCA
    // (Procrustes minimises the sum of squared displacements).
    double sa = 0.0, sp = 0.0;
    const auto& prev = aligned.steps[t - 1].coordinates;
    for (int64_t i = 0; i < 2 * n; ++i)
    {
      sa += (a[i] - prev[i]) * (a[i] - prev[i]);
      sp += (plain[t][i] - prev[i]) * (plain[t][i] - prev[i]);
    }
    EXPECT_LE(sa, sp * (1.0 + 1e-6)) << "step " << t;
    std::printf("PCA step %d: relative displacement aligned %.4f, unaligned %.4f\n", t,
      aligned.relativeDisplacement[t],
      meanDisplacement(prev.data(), plain[t].data(), n, 2) / aligned.mapScale[t]);
  }
}

TEST_F(AlignedProjection, OneStepIsPlainProjection)
{
  const Series s = drifting(300, 1);
  at::set_num_threads(1);
  for (ProjectionMethod m : { ProjectionMethod::Umap, ProjectionMethod::Pca })
  {
    AlignedProjectionOptions o;
    o.projection.method = m;
    o.projection.epochs = 50;
    const auto aligned = computeAlignedProjection(s.matrices(), o);
    const auto plain = computeEmbeddingProjection(s.matrices()[0], o.projection);
    ASSERT_EQ(aligned.steps.size(), 1u);
    EXPECT_EQ(aligned.steps[0].coordinates, plain.coordinates) << projectionMethodName(m);
    EXPECT_EQ(aligned.meanDisplacement, std::vector<double>{ 0.0 });
  }
}

TEST_F(AlignedProjection, ProgressAndAbort)
{
  const Series s = drifting(300, 3);
  for (ProjectionMethod m : { ProjectionMethod::Umap, ProjectionMethod::Pca })
  {
    AlignedProjectionOptions o;
    o.projection.method = m;
    o.projection.epochs = 50;
    std::vector<double> seen;
    o.projection.progress = [&](double f) {
      seen.push_back(f);
      return true;
    };
    computeAlignedProjection(s.matrices(), o);
    ASSERT_FALSE(seen.empty());
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end())) << projectionMethodName(m);
    EXPECT_DOUBLE_EQ(seen.back(), 1.0);
    int calls = 0;
    o.projection.progress = [&](double) { return ++calls < 3; };
    EXPECT_THROW(computeAlignedProjection(s.matrices(), o), Aborted) << projectionMethodName(m);
  }
}

TEST_F(AlignedProjection, BadInput)
{
  const Series s = drifting(40, 2);
  AlignedProjectionOptions o;
  auto expectError = [&](const std::vector<FeatureMatrix>& steps,
                       const AlignedProjectionOptions& opt, const std::string& fragment) {
    try
    {
      computeAlignedProjection(steps, opt);
      ADD_FAILURE() << "no error, expected one with '" << fragment << "'";
    }
    catch (const ModelError& e)
    {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expectError({}, o, "at least one time step");
  // Different row counts.
  {
    auto m = s.matrices();
    m[1].rows = 39;
    expectError(m, o, "step 0 has 40 rows, step 1 has 39");
  }
  // NaN / Inf in the second step: the message names the step.
  {
    Series bad = s;
    bad.values[1][3 * bad.cols + 5] = std::numeric_limits<float>::quiet_NaN();
    bad.values[1][9 * bad.cols] = -std::numeric_limits<float>::infinity();
    expectError(bad.matrices(), o, "Time step 1: ");
    expectError(bad.matrices(), o, "2 of 40 rows");
  }
  // Too few rows for the neighbours.
  {
    auto m = s.matrices();
    for (auto& x : m)
    {
      x.rows = 15;
    }
    expectError(m, o, "at least 16 samples");
  }
  // t-SNE, a negative regularisation, a negative window.
  {
    AlignedProjectionOptions t = o;
    t.projection.method = ProjectionMethod::Tsne;
    expectError(s.matrices(), t, "t-SNE");
    AlignedProjectionOptions r = o;
    r.alignmentRegularisation = -1.0;
    expectError(s.matrices(), r, "regularisation");
    r.alignmentRegularisation = std::numeric_limits<double>::quiet_NaN();
    expectError(s.matrices(), r, "regularisation");
    AlignedProjectionOptions w = o;
    w.alignmentWindowSize = -1;
    expectError(s.matrices(), w, "window");
  }
}
