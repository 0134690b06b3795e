// Aligned UMAP after umap-learn 0.5.3's AlignedUMAP, aligned PCA by
// orthogonal Procrustes (see AlignedProjection.h for the steps and the
// deviations).
#include "AlignedProjection.h"

#include "EngineError.h"
#include "ProjectionInternal.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

namespace dualembed
{
namespace engine
{

using projection::Clock;
using projection::ProgressRange;
using projection::secondsSince;

namespace
{

void validate(const std::vector<FeatureMatrix>& steps, const AlignedProjectionOptions& o)
{
  if (steps.empty())
  {
    throw ModelError("An aligned projection needs at least one time step; none was given.");
  }
  if (o.projection.method == ProjectionMethod::Tsne)
  {
    throw ModelError("Aligned projections are computed with UMAP or PCA; t-SNE has no aligned "
                     "variant. Choose UMAP or PCA.");
  }
  if (!std::isfinite(o.alignmentRegularisation) || o.alignmentRegularisation < 0.0)
  {
    std::ostringstream s;
    s << "The alignment regularisation must be a finite number >= 0; it is "
      << o.alignmentRegularisation << ".";
    throw ModelError(s.str());
  }
  if (o.alignmentWindowSize < 0)
  {
    throw ModelError("The alignment window size must be >= 0 steps; it is " +
      std::to_string(o.alignmentWindowSize) + ".");
  }
  for (size_t t = 0; t < steps.size(); ++t)
  {
    if (steps[t].rows != steps[0].rows)
    {
      throw ModelError(
        "An aligned projection needs the same samples in every time step: step 0 has " +
        std::to_string(steps[0].rows) + " rows, step " + std::to_string(t) + " has " +
        std::to_string(steps[t].rows) + ".");
    }
  }
  for (size_t t = 0; t < steps.size(); ++t)
  {
    try
    {
      projection::validateProjectionInput(steps[t], o.projection);
    }
    catch (const ModelError& e)
    {
      throw ModelError("Time step " + std::to_string(t) + ": " + e.what());
    }
  }
}

/// Jaccard index of the column sets of row i in two CSR graphs (sorted
/// columns); 1 when both are empty (umap-learn's convention).
float neighbourhoodOverlap(
  const projection::UmapGraph& g, const projection::UmapGraph& h, int64_t i)
{
  int64_t a = g.rowPtr[i], ae = g.rowPtr[i + 1], b = h.rowPtr[i], be = h.rowPtr[i + 1];
  const int64_t sizes = (ae - a) + (be - b);
  if (sizes == 0)
  {
    return 1.0f;
  }
  int64_t common = 0;
  while (a < ae && b < be)
  {
    if (g.cols[a] == h.cols[b])
    {
      ++common;
      ++a;
      ++b;
    }
    else if (g.cols[a] < h.cols[b])
    {
      ++a;
    }
    else
    {
      ++b;
    }
  }
  return static_cast<float>(static_cast<double>(common) / static_cast<double>(sizes - common));
}

void fillDisplacements(AlignedProjectionResult& r)
{
  const size_t count = r.steps.size();
  r.meanDisplacement.assign(count, 0.0);
  r.relativeDisplacement.assign(count, 0.0);
  r.mapScale.assign(count, 0.0);
  for (size_t t = 0; t < count; ++t)
  {
    const ProjectionResult& s = r.steps[t];
    r.mapScale[t] = mapScale(s.coordinates.data(), s.rows, s.dimensions);
    if (t > 0)
    {
      const ProjectionResult& p = r.steps[t - 1];
      r.meanDisplacement[t] =
        meanDisplacement(p.coordinates.data(), s.coordinates.data(), s.rows, s.dimensions);
      const double scale = 0.5 * (r.mapScale[t - 1] + r.mapScale[t]);
      r.relativeDisplacement[t] = scale > 0 ? r.meanDisplacement[t] / scale : 0.0;
    }
  }
}

AlignedProjectionResult alignedPca(
  const std::vector<FeatureMatrix>& steps, const AlignedProjectionOptions& o)
{
  AlignedProjectionResult r;
  const auto start = Clock::now();
  const int64_t count = static_cast<int64_t>(steps.size());
  const ProgressRange all(o.projection.progress, 0.0, 1.0);
  double procrustesSeconds = 0.0;
  for (int64_t t = 0; t < count; ++t)
  {
    ProjectionOptions po = o.projection;
    po.progress = ProgressRange(
      o.projection.progress, static_cast<double>(t) / count, static_cast<double>(t + 1) / count)
                    .sub();
    r.steps.push_back(computeEmbeddingProjection(steps[t], po));
    if (t > 0)
    {
      const auto p0 = Clock::now();
      ProjectionResult& s = r.steps.back();
      s.coordinates = procrustesAlign(
        r.steps[t - 1].coordinates.data(), s.coordinates.data(), s.rows, s.dimensions);
      s.initUsed = "none (Procrustes-aligned onto step " + std::to_string(t - 1) + ")";
      procrustesSeconds += secondsSince(p0);
    }
  }
  r.stageSeconds.emplace_back("pca", secondsSince(start) - procrustesSeconds);
  r.stageSeconds.emplace_back("procrustes", procrustesSeconds);
  fillDisplacements(r);
  r.stageSeconds.emplace_back("total", secondsSince(start));
  all.report(1.0);
  return r;
}

AlignedProjectionResult alignedUmap(
  const std::vector<FeatureMatrix>& steps, const AlignedProjectionOptions& o)
{
  AlignedProjectionResult r;
  const auto start = Clock::now();
  const int64_t count = static_cast<int64_t>(steps.size());
  const int64_t n = steps[0].rows;
  const ProjectionOptions& po = o.projection;
  const int dims = po.dimensions;
  const int k = po.neighbors - 1;                     // umap-learn counts the sample itself
  const int epochs = po.epochs > 0 ? po.epochs : 200; // AlignedUMAP's default
  const ProgressRange all(po.progress, 0.0, 1.0);
  all.report(0.0);
  const double graphsEnd = 0.4, weightsEnd = 0.42;

  // 1. Per step: neighbours, fuzzy graph (kept unpruned for the overlaps),
  // pruned graph, initial layout.
  std::vector<projection::UmapGraph> fuzzy(count), pruned(count);
  std::vector<std::vector<float>> layouts(count);
  r.steps.resize(count);
  double initSeconds = 0.0;
  for (int64_t t = 0; t < count; ++t)
  {
    const ProgressRange stepRange(po.progress, graphsEnd * t / count, graphsEnd * (t + 1) / count);
    ProjectionResult& diag = r.steps[t];
    diag.rows = n;
    diag.dimensions = dims;
    diag.epochs = epochs;
    const auto stepStart = Clock::now();
    const DistanceMetric metric = resolveMetric(po.metric, steps[t].cols);
    projection::NeighborStep ns = projection::computeNeighbors(
      steps[t], k, metric, po, diag, ProgressRange(stepRange.sub(), 0.0, 0.75));
    diag.stageSeconds.emplace_back("neighbors", secondsSince(stepStart));
    auto stageStart = Clock::now();
    fuzzy[t] = projection::umapFuzzyGraph(ns.knn, po);
    pruned[t] = fuzzy[t];
    projection::pruneUmapGraph(pruned[t], epochs > 10 ? epochs : 200);
    diag.graphEdges = static_cast<int64_t>(pruned[t].cols.size());
    diag.graphComponents = projection::umapGraphComponents(pruned[t]);
    diag.stageSeconds.emplace_back("umap_graph", secondsSince(stageStart));
    stepRange.report(0.8);

    stageStart = Clock::now();
    if (t == 0 || o.init == AlignedInit::Procrustes)
    {
      const projection::InitProvider pcaInit = projection::makePcaInit(steps[t], ns, dims, po.seed);
      layouts[t] = projection::umapInitialLayout(
        pruned[t], po, pcaInit, diag, ProgressRange(stepRange.sub(), 0.8, 1.0));
      if (t > 0)
      {
        layouts[t] = procrustesAlign(layouts[t - 1].data(), layouts[t].data(), n, dims);
        diag.initUsed += ", Procrustes-aligned onto step " + std::to_string(t - 1);
      }
    }
    else
    {
      layouts[t] = layouts[t - 1];
      diag.initUsed = "step " + std::to_string(t - 1) + "'s initial layout";
    }
    const double s = secondsSince(stageStart);
    initSeconds += s;
    diag.stageSeconds.emplace_back("umap_init", s);
    stepRange.report(1.0);
  }
  r.stageSeconds.emplace_back("neighbors_and_graphs", secondsSince(start) - initSeconds);
  r.stageSeconds.emplace_back("init", initSeconds);

  // 2. Regularisation weights: lambda e^-(|offset| - 1) times the overlap of
  // the sample's neighbourhoods, per step and offset of the window.
  auto stageStart = Clock::now();
  const int window = o.alignmentWindowSize;
  // coefficients[t][p] for the p-th other step of t's window (others[t][p]).
  std::vector<std::vector<std::vector<float>>> coefficients(count);
  std::vector<std::vector<int64_t>> others(count);
  for (int64_t t = 0; t < count; ++t)
  {
    for (int64_t u = std::max<int64_t>(0, t - window); u <= std::min(count - 1, t + window); ++u)
    {
      if (u == t || o.alignmentRegularisation == 0.0)
      {
        continue;
      }
      others[t].push_back(u);
      coefficients[t].emplace_back(static_cast<size_t>(n), 0.0f);
    }
  }
  for (int64_t t = 0; t < count; ++t)
  {
    for (size_t p = 0; p < others[t].size(); ++p)
    {
      const int64_t u = others[t][p];
      if (u < t)
      {
        continue; // filled from u's side (the overlap is symmetric)
      }
      const float scale = static_cast<float>(
        o.alignmentRegularisation * std::exp(-(static_cast<double>(u - t) - 1.0)));
      const auto back = std::find(others[u].begin(), others[u].end(), t) - others[u].begin();
      std::vector<float>& mine = coefficients[t][p];
      std::vector<float>& theirs = coefficients[u][back];
      at::parallel_for(0, n, 1024, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i)
        {
          mine[i] = theirs[i] = scale * neighbourhoodOverlap(fuzzy[t], fuzzy[u], i);
        }
      });
    }
  }
  fuzzy.clear();
  all.report(weightsEnd);
  r.stageSeconds.emplace_back("alignment_weights", secondsSince(stageStart));

  // 3. The joint SGD.
  stageStart = Clock::now();
  std::vector<projection::AlignedLayoutStep> layoutSteps(count);
  for (int64_t t = 0; t < count; ++t)
  {
    layoutSteps[t].graph = &pruned[t];
    layoutSteps[t].embedding = layouts[t].data();
    for (size_t p = 0; p < others[t].size(); ++p)
    {
      layoutSteps[t].positions.push_back(layouts[others[t][p]].data());
      layoutSteps[t].coefficients.push_back(coefficients[t][p].data());
    }
  }
  const auto ab = findAbParams(po.spread, po.minDist);
  const double lr = po.learningRate > 0 ? po.learningRate : 1.0;
  projection::optimizeAlignedUmapLayouts(layoutSteps, dims, epochs, static_cast<float>(ab.first),
    static_cast<float>(ab.second), static_cast<float>(po.repulsionStrength), static_cast<float>(lr),
    po.negativeSampleRate, po.seed, ProgressRange(po.progress, weightsEnd, 1.0));
  r.stageSeconds.emplace_back("umap_sgd", secondsSince(stageStart));
  for (int64_t t = 0; t < count; ++t)
  {
    ProjectionResult& diag = r.steps[t];
    diag.a = ab.first;
    diag.b = ab.second;
    diag.learningRate = lr;
    diag.coordinates = std::move(layouts[t]);
  }
  fillDisplacements(r);
  r.stageSeconds.emplace_back("total", secondsSince(start));
  all.report(1.0);
  return r;
}

} // namespace

AlignedProjectionResult computeAlignedProjection(
  const std::vector<FeatureMatrix>& steps, const AlignedProjectionOptions& options)
{
  validate(steps, options);
  if (steps.size() == 1)
  {
    AlignedProjectionResult r;
    const auto start = Clock::now();
    r.steps.push_back(computeEmbeddingProjection(steps[0], options.projection));
    fillDisplacements(r);
    r.stageSeconds = r.steps[0].stageSeconds;
    if (r.stageSeconds.empty() || r.stageSeconds.back().first != "total")
    {
      r.stageSeconds.emplace_back("total", secondsSince(start));
    }
    return r;
  }
  if (options.projection.method == ProjectionMethod::Pca)
  {
    return alignedPca(steps, options);
  }
  return alignedUmap(steps, options);
}

std::vector<float> procrustesAlign(
  const float* reference, const float* moving, int64_t rows, int dims)
{
  if (!reference || !moving || rows < 1 || dims < 1)
  {
    throw ModelError("Procrustes alignment needs two non-empty layouts of the same shape.");
  }
  at::NoGradGuard noGrad;
  at::Tensor a =
    at::from_blob(const_cast<float*>(reference), { rows, dims }, at::kFloat).to(at::kDouble);
  at::Tensor m =
    at::from_blob(const_cast<float*>(moving), { rows, dims }, at::kFloat).to(at::kDouble);
  const at::Tensor meanA = a.mean(0, true), meanM = m.mean(0, true);
  a = a - meanA;
  m = m - meanM;
  const at::Tensor cross = at::matmul(m.t(), a); // dims x dims
  const auto svd = at::linalg_svd(cross, false);
  const at::Tensor rotation = at::matmul(std::get<0>(svd), std::get<2>(svd));
  const at::Tensor aligned = (at::matmul(m, rotation) + meanA).to(at::kFloat).contiguous();
  const float* p = aligned.data_ptr<float>();
  return std::vector<float>(p, p + rows * dims);
}

double meanDisplacement(const float* a, const float* b, int64_t rows, int dims)
{
  if (rows < 1)
  {
    return 0.0;
  }
  double sum = 0.0;
  for (int64_t i = 0; i < rows; ++i)
  {
    double s = 0.0;
    for (int d = 0; d < dims; ++d)
    {
      const double t = static_cast<double>(a[i * dims + d]) - b[i * dims + d];
      s += t * t;
    }
    sum += std::sqrt(s);
  }
  return sum / static_cast<double>(rows);
}

double mapScale(const float* y, int64_t rows, int dims)
{
  if (rows < 1)
  {
    return 0.0;
  }
  std::vector<double> mean(dims, 0.0);
  for (int64_t i = 0; i < rows; ++i)
  {
    for (int d = 0; d < dims; ++d)
    {
      mean[d] += y[i * dims + d];
    }
  }
  for (auto& v : mean)
  {
    v /= static_cast<double>(rows);
  }
  double s = 0.0;
  for (int64_t i = 0; i < rows; ++i)
  {
    for (int d = 0; d < dims; ++d)
    {
      const double t = y[i * dims + d] - mean[d];
      s += t * t;
    }
  }
  return std::sqrt(s / static_cast<double>(rows));
}

} // namespace engine
} // namespace dualembed
