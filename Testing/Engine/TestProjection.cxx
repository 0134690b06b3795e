// Tests of the projection engine (EmbeddingProjection: UMAP, t-SNE, PCA) on
// 3000 Fashion-MNIST test images, against the structure measured from
// umap-learn 0.5.3 / scikit-learn 1.2 by
// Testing/Data/projection-reference/make_projection_reference.py: they check
// trustworthiness (scikit-learn's definition, k = 15) and class separation
// (leave-one-out 10-NN accuracy in the projection), not coordinates.
#include "EmbeddingProjection.h"
#include "EngineError.h"
#include "NeighborGraphs.h"
#include "NpyReader.h"
#include "ThreadedParts.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace dualembed::engine;
using dualembed::testdata::partsOf;
using dualembed::testdata::readNpy;
using dualembed::testdata::ThreadedParts;

namespace
{

const std::string kData = std::string(DUALEMBED_TESTING_DATA_DIR);
const std::string kRef = kData + "/projection-reference/";

struct Images
{
  std::vector<float> values;
  std::vector<int> labels;
  int64_t rows = 0, cols = 0;
  FeatureMatrix matrix() const { return { values.data(), rows, cols }; }
  Images head(int64_t n) const
  {
    Images h;
    h.rows = n;
    h.cols = cols;
    h.values.assign(values.begin(), values.begin() + n * cols);
    h.labels.assign(labels.begin(), labels.begin() + n);
    return h;
  }
  /// The rows scaled to unit length: their euclidean ranks are the cosine ranks.
  Images unitRows() const
  {
    Images unit = *this;
    for (int64_t i = 0; i < rows; ++i)
    {
      float* row = unit.values.data() + i * cols;
      double s = 0.0;
      for (int64_t c = 0; c < cols; ++c)
        s += static_cast<double>(row[c]) * row[c];
      for (int64_t c = 0; c < cols; ++c)
        row[c] = static_cast<float>(row[c] / std::sqrt(s));
    }
    return unit;
  }
};

const Images& fashion()
{
  static const Images images = [] {
    Images im;
    const auto px = readNpy(kData + "/knn-reference/fmnist_pixels_u8.npy");
    const auto bytes = px.values<uint8_t>("|u1");
    im.rows = static_cast<int64_t>(px.shape[0]);
    im.cols = static_cast<int64_t>(px.shape[1]);
    im.values.assign(bytes.begin(), bytes.end());
    const auto lb = readNpy(kRef + "fmnist_labels_u1.npy").values<uint8_t>("|u1");
    im.labels.assign(lb.begin(), lb.end());
    return im;
  }();
  return images;
}

nlohmann::json readJson(const std::string& path)
{
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

/// Leave-one-out 10-NN classifier accuracy in the projection (as the
/// reference script: majority vote, ties to the smallest label).
double knnAccuracy(
  const std::vector<float>& y, int dims, const std::vector<int>& labels, int k = 10)
{
  const int64_t n = static_cast<int64_t>(labels.size());
  int64_t correct = 0;
  std::vector<std::pair<double, int64_t>> d(n - 1);
  for (int64_t i = 0; i < n; ++i)
  {
    int64_t m = 0;
    for (int64_t j = 0; j < n; ++j)
    {
      if (j == i)
        continue;
      double s = 0.0;
      for (int c = 0; c < dims; ++c)
      {
        const double t = static_cast<double>(y[i * dims + c]) - y[j * dims + c];
        s += t * t;
      }
      d[m++] = { s, j };
    }
    std::partial_sort(d.begin(), d.begin() + k, d.end());
    int votes[256] = {};
    for (int j = 0; j < k; ++j)
      ++votes[labels[d[j].second]];
    const int predicted = static_cast<int>(std::max_element(votes, votes + 256) - votes);
    correct += predicted == labels[i];
  }
  return static_cast<double>(correct) / n;
}

bool allFinite(const std::vector<float>& v)
{
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

double seconds(std::chrono::steady_clock::time_point start)
{
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class Projection : public ::testing::Test
{
protected:
  void SetUp() override { at::set_num_threads(2); }
};

} // namespace

TEST_F(Projection, FindAbParamsMatchesUmapLearn)
{
  // umap-learn 0.5.3 find_ab_params(1.0, 0.1) = (1.5769434603113077, 0.8950608779109733).
  const auto ab = findAbParams(1.0, 0.1);
  EXPECT_NEAR(ab.first, 1.5769434603113077, 1e-4);
  EXPECT_NEAR(ab.second, 0.8950608779109733, 1e-4);
}

TEST_F(Projection, PcaMatchesScikitLearnUpToSign)
{
  struct Case
  {
    std::string input, reference;
    double tolerance; // absolute, relative to the largest |coordinate|
  };
  for (const Case& c : { Case{ "pca_tiny_input_f4.npy", "pca_tiny_sklearn_f8.npy", 1e-4 },
         Case{ "", "pca_sklearn_f8.npy", 1e-5 } /* 300 images */ })
  {
    std::vector<float> x;
    int64_t n = 0, d = 0;
    if (c.input.empty())
    {
      const Images im = fashion().head(300);
      x = im.values;
      n = im.rows;
      d = im.cols;
    }
    else
    {
      const auto in = readNpy(kRef + c.input);
      x = in.values<float>("<f4");
      n = static_cast<int64_t>(in.shape[0]);
      d = static_cast<int64_t>(in.shape[1]);
    }
    const auto ref = readNpy(kRef + c.reference).values<double>("<f8");
    ProjectionOptions o;
    o.method = ProjectionMethod::Pca;
    o.dimensions = 3;
    const auto r = computeEmbeddingProjection({ x.data(), n, d }, o);
    ASSERT_EQ(r.coordinates.size(), static_cast<size_t>(n * 3));
    double scale = 0.0;
    for (double v : ref)
      scale = std::max(scale, std::fabs(v));
    const double tol = c.tolerance * std::max(scale, 1.0);
    for (int comp = 0; comp < 3; ++comp)
    {
      // Same sign rule as scikit-learn's svd_flip: compare as is, and also
      // accept a global flip (numerical ties of the largest entry).
      double same = 0.0, flipped = 0.0;
      for (int64_t i = 0; i < n; ++i)
      {
        same = std::max(same, std::fabs(r.coordinates[i * 3 + comp] - ref[i * 3 + comp]));
        flipped = std::max(flipped, std::fabs(r.coordinates[i * 3 + comp] + ref[i * 3 + comp]));
      }
      EXPECT_LE(std::min(same, flipped), tol) << c.input << " component " << comp;
      EXPECT_LE(same, tol) << c.input << " component " << comp << ": sign differs from svd_flip";
    }
    if (c.input == "pca_tiny_input_f4.npy")
    {
      const auto ratio = readNpy(kRef + "pca_tiny_ratio_f8.npy").values<double>("<f8");
      ASSERT_EQ(r.explainedVarianceRatio.size(), 3u);
      for (int comp = 0; comp < 3; ++comp)
        EXPECT_NEAR(r.explainedVarianceRatio[comp], ratio[comp], 1e-6);
    }
  }
}

TEST_F(Projection, TrustworthinessMatchesScikitLearn)
{
  const Images& im = fashion();
  const auto emb = readNpy(kRef + "pca2_f4.npy").values<float>("<f4");
  const double expected = readJson(kRef + "pca2_trustworthiness.json")["trustworthiness_k15"];
  const double t = trustworthiness(im.matrix(), emb.data(), 2, 15);
  EXPECT_NEAR(t, expected, 1e-6);
  // Perfect embedding: the data itself.
  const Images few = im.head(200);
  EXPECT_NEAR(
    trustworthiness(few.matrix(), few.values.data(), static_cast<int>(few.cols), 15), 1.0, 1e-12);
  EXPECT_THROW(trustworthiness(few.matrix(), emb.data(), 2, 100), ModelError);
}

TEST_F(Projection, UmapPreservesStructureOfFashionMnist)
{
  const Images& im = fashion();
  const auto ref = readJson(kRef + "reference.json");
  ProjectionOptions o; // defaults: 15 neighbours, 500 epochs (N <= 10 000), spectral
  const auto start = std::chrono::steady_clock::now();
  const auto r = computeEmbeddingProjection(im.matrix(), o);
  const double time = seconds(start);
  ASSERT_EQ(r.coordinates.size(), static_cast<size_t>(im.rows * 2));
  ASSERT_TRUE(allFinite(r.coordinates));
  const double t = trustworthiness(im.matrix(), r.coordinates.data(), 2, 15);
  const double acc = knnAccuracy(r.coordinates, 2, im.labels);
  std::printf("UMAP 3000: %.2f s, trustworthiness %.4f (umap-learn %.4f), 10-NN accuracy %.4f "
              "(umap-learn %.4f), init %s, %s, a %.4f b %.4f\n",
    time, t, ref["umap"]["trustworthiness_k15"].get<double>(), acc,
    ref["umap"]["knn_accuracy"].get<double>(), r.initUsed.c_str(), r.neighborsUsed.c_str(), r.a,
    r.b);
  EXPECT_GE(t, ref["umap"]["trustworthiness_k15"].get<double>() - 0.02);
  EXPECT_GE(acc, ref["umap"]["knn_accuracy"].get<double>() - 0.03);
  EXPECT_EQ(r.epochs, 500);
  EXPECT_EQ(r.initUsed.rfind("spectral", 0), 0u) << r.initUsed;
}

TEST_F(Projection, TsnePreservesStructureOfFashionMnist)
{
  const Images& im = fashion();
  const auto ref = readJson(kRef + "reference.json");
  ProjectionOptions o;
  o.method = ProjectionMethod::Tsne; // perplexity 30, 1000 iterations, PCA init
  const auto start = std::chrono::steady_clock::now();
  const auto r = computeEmbeddingProjection(im.matrix(), o);
  const double time = seconds(start);
  ASSERT_TRUE(allFinite(r.coordinates));
  const double t = trustworthiness(im.matrix(), r.coordinates.data(), 2, 15);
  const double acc = knnAccuracy(r.coordinates, 2, im.labels);
  std::printf("t-SNE 3000: %.2f s, trustworthiness %.4f (sklearn %.4f), 10-NN accuracy %.4f "
              "(sklearn %.4f), %s, learning rate %.1f\n",
    time, t, ref["tsne"]["trustworthiness_k15"].get<double>(), acc,
    ref["tsne"]["knn_accuracy"].get<double>(), r.neighborsUsed.c_str(), r.learningRate);
  EXPECT_GE(t, ref["tsne"]["trustworthiness_k15"].get<double>() - 0.02);
  EXPECT_GE(acc, ref["tsne"]["knn_accuracy"].get<double>() - 0.03);
  EXPECT_EQ(r.epochs, 1000);
  EXPECT_DOUBLE_EQ(r.learningRate, 3000.0 / 12.0 / 4.0);
}

TEST_F(Projection, PcaStructureOfFashionMnist)
{
  const Images& im = fashion();
  const auto ref = readJson(kRef + "reference.json");
  ProjectionOptions o;
  o.method = ProjectionMethod::Pca;
  const auto r = computeEmbeddingProjection(im.matrix(), o);
  const double t = trustworthiness(im.matrix(), r.coordinates.data(), 2, 15);
  EXPECT_NEAR(t, ref["pca2"]["trustworthiness_k15"].get<double>(), 1e-3);
  ASSERT_EQ(r.explainedVarianceRatio.size(), 2u);
  EXPECT_GT(r.explainedVarianceRatio[0], r.explainedVarianceRatio[1]);
}

TEST_F(Projection, UmapIsDeterministicOnOneThread)
{
  const Images im = fashion().head(1000);
  at::set_num_threads(1);
  ProjectionOptions o;
  o.epochs = 100;
  const auto a = computeEmbeddingProjection(im.matrix(), o);
  const auto b = computeEmbeddingProjection(im.matrix(), o);
  EXPECT_EQ(a.coordinates, b.coordinates);
  o.seed = 7;
  const auto c = computeEmbeddingProjection(im.matrix(), o);
  EXPECT_NE(a.coordinates, c.coordinates);
  at::set_num_threads(2);
}

TEST_F(Projection, TsneIsDeterministicForAnyThreadCount)
{
  const Images im = fashion().head(1000);
  ProjectionOptions o;
  o.method = ProjectionMethod::Tsne;
  o.epochs = 300;
  at::set_num_threads(1);
  const auto a = computeEmbeddingProjection(im.matrix(), o);
  at::set_num_threads(2);
  const auto b = computeEmbeddingProjection(im.matrix(), o);
  EXPECT_EQ(a.coordinates, b.coordinates);
  o.init = ProjectionInit::Random;
  const auto c = computeEmbeddingProjection(im.matrix(), o);
  o.seed = 43;
  const auto d = computeEmbeddingProjection(im.matrix(), o);
  EXPECT_NE(c.coordinates, d.coordinates);
}

TEST_F(Projection, ThreeDimensionsAndCosine)
{
  const Images im = fashion().head(1500);
  const Images unit = im.unitRows();
  for (ProjectionMethod m : { ProjectionMethod::Umap, ProjectionMethod::Tsne })
  {
    ProjectionOptions o;
    o.method = m;
    o.dimensions = 3;
    o.metric = MetricChoice::Cosine;
    o.epochs = m == ProjectionMethod::Umap ? 200 : 500;
    const auto r = computeEmbeddingProjection(im.matrix(), o);
    ASSERT_EQ(r.coordinates.size(), static_cast<size_t>(im.rows * 3));
    ASSERT_TRUE(allFinite(r.coordinates));
    // Cosine ranks = euclidean ranks of the unit-normalised rows.
    const double t = trustworthiness(unit.matrix(), r.coordinates.data(), 3, 15);
    std::printf("%s 3-D cosine 1500: trustworthiness %.4f, %s\n", projectionMethodName(m), t,
      r.neighborsUsed.c_str());
    EXPECT_GE(t, 0.93);
  }
}

TEST_F(Projection, NeighboursOnPrincipalComponentsLoseLittle)
{
  const Images im = fashion().head(2000);
  ProjectionOptions o;
  o.epochs = 200;
  o.pcaComponentsForNeighbors = 0;
  const auto exact = computeEmbeddingProjection(im.matrix(), o);
  o.pcaComponentsForNeighbors = -1;
  const auto reduced = computeEmbeddingProjection(im.matrix(), o);
  EXPECT_EQ(exact.neighborPcaComponents, 0);
  EXPECT_EQ(reduced.neighborPcaComponents, 50);
  const double te = trustworthiness(im.matrix(), exact.coordinates.data(), 2, 15);
  const double tr = trustworthiness(im.matrix(), reduced.coordinates.data(), 2, 15);
  std::printf("UMAP 2000: trustworthiness %.4f (kNN in 784-D) vs %.4f (%s)\n", te, tr,
    reduced.neighborsUsed.c_str());
  EXPECT_GE(tr, te - 0.01);
}

TEST_F(Projection, ApproximateGraphIsTheSharedOneInTheInputSpace)
{
  // Where the search is approximate, UMAP's graph is the one the other
  // filters search for the same embedding: built once, found again.
  const Images im = fashion().head(3000);
  auto graphs = std::make_shared<NeighborGraphs>();
  ProjectionOptions o;
  o.epochs = 200;
  o.metric = MetricChoice::Cosine;
  o.neighborSearch.method = KnnMethod::Ivf;
  o.neighborSearch.graphs = graphs;
  const auto r = computeEmbeddingProjection(im.matrix(), o);
  EXPECT_EQ(r.neighborPcaComponents, 0);
  EXPECT_NE(r.neighborsUsed.find("IVF kNN (k=14) in 784-D cosine"), std::string::npos)
    << r.neighborsUsed;
  ASSERT_EQ(graphs->size(), 1u);
  KnnOptions outlierSearch; // Embedding Outlier Score's: k 10, cosine
  outlierSearch.k = 10;
  outlierSearch.metric = DistanceMetric::Cosine;
  outlierSearch.search = o.neighborSearch;
  int calls = 0;
  outlierSearch.progress = [&calls](double) { return ++calls > 0; };
  computeKnn(im.matrix(), outlierSearch);
  EXPECT_EQ(calls, 1) << "the outlier search did not find UMAP's graph";
  EXPECT_EQ(graphs->size(), 1u);
  // Cosine ranks: those of the unit rows.
  const double t = trustworthiness(im.unitRows().matrix(), r.coordinates.data(), 2, 15);
  std::printf(
    "UMAP 3000 on the shared IVF graph: trustworthiness %.4f (%s)\n", t, r.neighborsUsed.c_str());
  EXPECT_GE(t, 0.95);
}

TEST_F(Projection, UmapOfPartsLaysOutTheGatheredGraphAsTheSerialRun)
{
  // Three parts (one without samples) search the graph distributed; part 0
  // lays the map out from the gathered graph. Every list read: the serial
  // IVF graph, so the serial map, bit for bit on one thread. The PCA
  // initialisation from the parts' rows agrees with the serial PCA.
  const Images im = fashion().head(2000);
  at::set_num_threads(1);
  ProjectionOptions serial;
  serial.epochs = 50;
  serial.neighborSearch.method = KnnMethod::Ivf;
  serial.neighborSearch.ivf.probes = 1000;
  const ProjectionResult expected = computeEmbeddingProjection(im.matrix(), serial);
  ProjectionOptions pca;
  pca.method = ProjectionMethod::Pca;
  const ProjectionResult expectedPca = computeEmbeddingProjection(im.matrix(), pca);

  const std::vector<int64_t> counts{ 800, 0, 1200 };
  ThreadedParts parts(counts);
  std::vector<UmapGraphInput> inputs(counts.size());
  parts.run([&](int p, const PartExchange& exchange) {
    ProjectionOptions o = serial;
    o.neighborSearch.parts = partsOf(exchange);
    const FeatureMatrix local{ im.values.data() + exchange.firstRow(p) * im.cols, counts[p],
      im.cols };
    inputs[p] = gatherUmapGraph(local, o);
  });
  EXPECT_TRUE(inputs[1].knn.indices.empty() && inputs[2].pcaInit.empty());
  const UmapGraphInput& input = inputs[0];
  ASSERT_EQ(input.knn.rows, 2000);
  EXPECT_NE(input.neighborsUsed.find("on 3 MPI ranks"), std::string::npos) << input.neighborsUsed;
  const ProjectionResult result = computeUmapFromGraph(input, serial);
  EXPECT_EQ(result.initUsed, expected.initUsed);
  EXPECT_EQ(result.coordinates, expected.coordinates);

  ASSERT_EQ(input.pcaInit.size(), expectedPca.coordinates.size());
  double largest = 0.0, error = 0.0;
  for (std::size_t i = 0; i < input.pcaInit.size(); ++i)
  {
    largest = std::max(largest, std::fabs(static_cast<double>(expectedPca.coordinates[i])));
    error = std::max(
      error, std::fabs(static_cast<double>(input.pcaInit[i]) - expectedPca.coordinates[i]));
  }
  EXPECT_LT(error, 1e-4 * largest) << "PCA of the parts vs serial PCA";
  ProjectionOptions fromPca = serial;
  fromPca.init = ProjectionInit::Pca;
  const ProjectionResult laidOut = computeUmapFromGraph(input, fromPca);
  EXPECT_EQ(laidOut.initUsed.rfind("pca", 0), 0u) << laidOut.initUsed;
  EXPECT_GE(trustworthiness(im.matrix(), laidOut.coordinates.data(), 2, 15), 0.9);
  at::set_num_threads(2);
}

TEST_F(Projection, UmapOfPartsRefusesAlikeOnEveryPart)
{
  // A NaN on one part, and too few samples for the neighbours: every part
  // throws (none is left waiting), with the cause.
  Images im = fashion().head(300);
  im.values[250 * im.cols] = std::numeric_limits<float>::quiet_NaN();
  for (int neighbors : { 15, 400 })
  {
    ThreadedParts parts({ 100, 200 });
    std::vector<std::string> errors(2);
    parts.run([&](int p, const PartExchange& exchange) {
      ProjectionOptions o;
      o.neighbors = neighbors;
      o.neighborSearch.method = KnnMethod::Ivf;
      o.neighborSearch.parts = partsOf(exchange);
      const FeatureMatrix local{ im.values.data() + exchange.firstRow(p) * im.cols,
        exchange.rowCount(p), im.cols };
      try
      {
        gatherUmapGraph(local, o);
      }
      catch (const ModelError& e)
      {
        errors[p] = e.what();
      }
    });
    for (const std::string& error : errors)
    {
      EXPECT_NE(
        error.find(neighbors == 15 ? "NaN" : "needs at least 401 samples"), std::string::npos)
        << error;
    }
  }
}

TEST_F(Projection, UmapOfPartsComputesNoPcaForWideInputs)
{
  // Wider than 4096 columns the parts leave the PCA coordinates out (each
  // part's covariance share would be D x D): a layout that needs them is
  // refused with advice; the spectral one works.
  const int64_t rows = 300, cols = 4100;
  std::vector<float> wide(static_cast<std::size_t>(rows * cols));
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  for (float& v : wide)
  {
    v = normal(rng);
  }
  ThreadedParts parts({ 150, 150 });
  std::vector<UmapGraphInput> inputs(2);
  parts.run([&](int p, const PartExchange& exchange) {
    ProjectionOptions o;
    o.epochs = 20;
    o.neighborSearch.method = KnnMethod::Ivf;
    o.neighborSearch.parts = partsOf(exchange);
    inputs[p] = gatherUmapGraph({ wide.data() + exchange.firstRow(p) * cols, 150, cols }, o);
  });
  ASSERT_EQ(inputs[0].knn.rows, rows);
  EXPECT_TRUE(inputs[0].pcaInit.empty());
  ProjectionOptions o;
  o.epochs = 20;
  o.init = ProjectionInit::Pca;
  try
  {
    computeUmapFromGraph(inputs[0], o);
    FAIL() << "no error for a PCA initialisation the parts did not compute";
  }
  catch (const ModelError& e)
  {
    EXPECT_NE(std::string(e.what()).find("up to 4096 components"), std::string::npos) << e.what();
  }
  o.init = ProjectionInit::Spectral;
  EXPECT_EQ(
    computeUmapFromGraph(inputs[0], o).coordinates.size(), static_cast<std::size_t>(rows * 2));
}

TEST_F(Projection, ProgressAndAbort)
{
  const Images im = fashion().head(300);
  for (ProjectionMethod m :
    { ProjectionMethod::Umap, ProjectionMethod::Tsne, ProjectionMethod::Pca })
  {
    ProjectionOptions o;
    o.method = m;
    o.epochs = 50;
    std::vector<double> seen;
    o.progress = [&](double f) {
      seen.push_back(f);
      return true;
    };
    computeEmbeddingProjection(im.matrix(), o);
    ASSERT_FALSE(seen.empty());
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end())) << projectionMethodName(m);
    EXPECT_DOUBLE_EQ(seen.back(), 1.0);
    if (m != ProjectionMethod::Pca)
    {
      EXPECT_GE(seen.size(), 50u);
    }
    int calls = 0;
    o.progress = [&](double) { return ++calls < 20; };
    if (m != ProjectionMethod::Pca)
    {
      EXPECT_THROW(computeEmbeddingProjection(im.matrix(), o), Aborted) << projectionMethodName(m);
    }
  }
}

TEST_F(Projection, BadInput)
{
  const Images im = fashion().head(40);
  ProjectionOptions o;
  // Too few samples for the neighbours / the perplexity.
  {
    const Images few = im.head(15);
    try
    {
      computeEmbeddingProjection(few.matrix(), o);
      FAIL() << "no error for N < NumberOfNeighbors + 1";
    }
    catch (const ModelError& e)
    {
      EXPECT_NE(std::string(e.what()).find("at least 16 samples"), std::string::npos) << e.what();
    }
    ProjectionOptions t;
    t.method = ProjectionMethod::Tsne;
    EXPECT_THROW(computeEmbeddingProjection(few.matrix(), t), ModelError); // perplexity 30 >= 15
    t.perplexity = 5;
    EXPECT_NO_THROW(computeEmbeddingProjection(few.matrix(), t));
  }
  // t-SNE beyond its limit: refused at once, with what to do instead.
  {
    const std::vector<float> many(static_cast<size_t>(kTsneMaxRows + 1) * 2, 1.0f);
    ProjectionOptions t;
    t.method = ProjectionMethod::Tsne;
    try
    {
      computeEmbeddingProjection({ many.data(), kTsneMaxRows + 1, 2 }, t);
      FAIL() << "no error for t-SNE above its limit";
    }
    catch (const ModelError& e)
    {
      const std::string message = e.what();
      EXPECT_NE(
        message.find("t-SNE is limited to 200000 samples; the input has 200001"), std::string::npos)
        << message;
      EXPECT_NE(message.find("Use UMAP"), std::string::npos) << message;
      EXPECT_NE(message.find("Mask Points"), std::string::npos) << message;
    }
  }
  // NaN / Inf rows: the message names their count.
  {
    Images bad = im;
    bad.values[3 * bad.cols + 5] = std::numeric_limits<float>::quiet_NaN();
    bad.values[7 * bad.cols] = std::numeric_limits<float>::infinity();
    for (ProjectionMethod m :
      { ProjectionMethod::Umap, ProjectionMethod::Tsne, ProjectionMethod::Pca })
    {
      ProjectionOptions b;
      b.method = m;
      b.perplexity = 5;
      try
      {
        computeEmbeddingProjection(bad.matrix(), b);
        FAIL() << "no error for NaN rows";
      }
      catch (const ModelError& e)
      {
        EXPECT_NE(std::string(e.what()).find("2 of 40 rows"), std::string::npos) << e.what();
      }
    }
  }
  // Dimensions other than 2 or 3.
  for (int dims : { 1, 4 })
  {
    ProjectionOptions b;
    b.dimensions = dims;
    EXPECT_THROW(computeEmbeddingProjection(im.matrix(), b), ModelError);
  }
  // One input column: PCA cannot make 2 components; UMAP and t-SNE can.
  {
    std::vector<float> line(200);
    std::mt19937 rng(3);
    std::normal_distribution<float> noise(0.0f, 0.1f);
    for (size_t i = 0; i < line.size(); ++i)
      line[i] = static_cast<float>(i % 4) * 5.0f + noise(rng);
    const FeatureMatrix x{ line.data(), 200, 1 };
    ProjectionOptions p;
    p.method = ProjectionMethod::Pca;
    EXPECT_THROW(computeEmbeddingProjection(x, p), ModelError);
    for (ProjectionMethod m : { ProjectionMethod::Umap, ProjectionMethod::Tsne })
    {
      ProjectionOptions b;
      b.method = m;
      b.epochs = 100;
      const auto r = computeEmbeddingProjection(x, b);
      EXPECT_TRUE(allFinite(r.coordinates)) << projectionMethodName(m);
      // The four groups stay apart: every sample's nearest neighbour is in its group.
      std::vector<int> groups(200);
      for (int i = 0; i < 200; ++i)
        groups[i] = i % 4;
      EXPECT_GE(knnAccuracy(r.coordinates, 2, groups, 5), 0.99) << projectionMethodName(m);
    }
  }
  // Empty input.
  EXPECT_THROW(computeEmbeddingProjection(FeatureMatrix{}, o), ModelError);
}
