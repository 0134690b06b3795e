#include "EmbeddingProjection.h"

#include "EngineError.h"
#include "ProjectionInternal.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

namespace dualembed
{
namespace engine
{

using projection::Clock;
using projection::ProgressRange;
using projection::secondsSince;

namespace projection
{

std::vector<float> pcaInitFrom(const FeatureMatrix& points, int dims, uint64_t seed)
{
  const int available = static_cast<int>(std::min<int64_t>({ dims, points.rows, points.cols }));
  return initFromPca(projection::computePca(points, available).coordinates, available, dims, seed);
}

std::vector<float> initFromPca(
  const std::vector<float>& coordinates, int available, int dims, uint64_t seed)
{
  const int64_t n = available > 0 ? static_cast<int64_t>(coordinates.size()) / available : 0;
  std::vector<float> out(static_cast<size_t>(n * dims), 0.0f);
  double sd = 0.0;
  for (int64_t i = 0; i < n; ++i)
  {
    for (int c = 0; c < available; ++c)
    {
      out[i * dims + c] = coordinates[i * available + c];
    }
    sd += static_cast<double>(coordinates[i * available]) * coordinates[i * available];
  }
  sd = std::sqrt(sd / std::max<int64_t>(n, 1));
  if (available < dims)
  {
    projection::Random rng(seed ^ 0x5DEECE66DULL);
    for (int64_t i = 0; i < n; ++i)
    {
      for (int c = available; c < dims; ++c)
      {
        out[i * dims + c] = static_cast<float>(rng.normal() * (sd > 0 ? sd : 1.0));
      }
    }
  }
  return out;
}

namespace
{

/// Distance of the candidates' re-ranking: float32 products in 16 independent
/// lanes (vectorised), summed in double; identical rows are at distance 0,
/// a zero vector at cosine distance 1 from others (as vectorDistance).
double fastDistance(const float* a, const float* b, int64_t d, DistanceMetric metric)
{
  constexpr int L = 16;
  const int64_t full = d - d % L;
  if (metric == DistanceMetric::Euclidean)
  {
    float acc[L] = {};
    for (int64_t c = 0; c < full; c += L)
    {
      for (int l = 0; l < L; ++l)
      {
        const float t = a[c + l] - b[c + l];
        acc[l] += t * t;
      }
    }
    double s = 0.0;
    for (int l = 0; l < L; ++l)
    {
      s += acc[l];
    }
    for (int64_t c = full; c < d; ++c)
    {
      const double t = static_cast<double>(a[c]) - b[c];
      s += t * t;
    }
    return std::sqrt(s);
  }
  float ab[L] = {}, aa[L] = {}, bb[L] = {};
  bool same = true;
  for (int64_t c = 0; c < full; c += L)
  {
    for (int l = 0; l < L; ++l)
    {
      ab[l] += a[c + l] * b[c + l];
      aa[l] += a[c + l] * a[c + l];
      bb[l] += b[c + l] * b[c + l];
      same = same && a[c + l] == b[c + l];
    }
  }
  double sab = 0.0, saa = 0.0, sbb = 0.0;
  for (int l = 0; l < L; ++l)
  {
    sab += ab[l];
    saa += aa[l];
    sbb += bb[l];
  }
  for (int64_t c = full; c < d; ++c)
  {
    sab += static_cast<double>(a[c]) * b[c];
    saa += static_cast<double>(a[c]) * a[c];
    sbb += static_cast<double>(b[c]) * b[c];
    same = same && a[c] == b[c];
  }
  if (same)
  {
    return 0.0;
  }
  if (!(saa > 0.0) || !(sbb > 0.0))
  {
    return 1.0;
  }
  return std::min(2.0, std::max(0.0, 1.0 - sab / std::sqrt(saa * sbb)));
}

} // namespace

NeighborStep computeNeighbors(const FeatureMatrix& features, int k, DistanceMetric metric,
  const ProjectionOptions& options, ProjectionResult& diag, const ProgressRange& progress)
{
  NeighborStep step;
  const int64_t n = features.rows, d = features.cols;
  int components = options.pcaComponentsForNeighbors;
  const KnnMethod method = resolveKnnMethod(options.neighborSearch.method, n);
  if (components < 0)
  {
    // Approximate: the shared graph in the input space (see the header).
    components = d > 100 && method == KnnMethod::Exact ? 50 : 0;
  }
  if (components >= d || components >= n)
  {
    components = 0;
  }
  KnnOptions knnOptions;
  knnOptions.metric = metric;
  knnOptions.search = options.neighborSearch;
  std::ostringstream what;
  what << knnMethodName(method) << " kNN (k=" << k << ")";
  if (components == 0)
  {
    knnOptions.k = k;
    knnOptions.progress = ProgressRange(progress.sub(), 0.0, 1.0).sub();
    step.knn = computeKnn(features, knnOptions);
    what << " in " << d << "-D " << metricName(metric);
    diag.neighborsUsed = what.str();
    return step;
  }
  // Cosine: rows normalised to unit length first (|u - v|^2 = 2 cos distance).
  std::vector<float> normalised;
  FeatureMatrix source = features;
  if (metric == DistanceMetric::Cosine)
  {
    normalised.assign(features.data, features.data + n * d);
    at::parallel_for(0, n, 256, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
      {
        float* r = normalised.data() + i * d;
        double s = 0.0;
        for (int64_t c = 0; c < d; ++c)
        {
          s += static_cast<double>(r[c]) * r[c];
        }
        if (s > 0.0)
        {
          const float inv = static_cast<float>(1.0 / std::sqrt(s));
          for (int64_t c = 0; c < d; ++c)
          {
            r[c] *= inv;
          }
        }
      }
    });
    source.data = normalised.data();
  }
  projection::PcaResult pca = projection::computePca(source, components);
  progress.report(0.15);
  step.reduced = std::move(pca.coordinates);
  step.components = components;
  const FeatureMatrix reduced{ step.reduced.data(), n, components };
  const int candidates =
    static_cast<int>(std::min<int64_t>(n - 1, static_cast<int64_t>(k) + std::min(k, 15)));
  knnOptions.k = candidates;
  knnOptions.metric = DistanceMetric::Euclidean;
  knnOptions.progress = ProgressRange(progress.sub(), 0.15, 0.9).sub();
  KnnResult cand = computeKnn(reduced, knnOptions);
  // Re-rank the candidates by their exact distance in the input space.
  KnnResult& out = step.knn;
  out.k = std::min<int>(k, cand.k);
  out.rows = n;
  out.firstRow = 0;
  out.indices.resize(static_cast<size_t>(n * out.k));
  out.distances.resize(static_cast<size_t>(n * out.k));
  at::parallel_for(0, n, 64, [&](int64_t begin, int64_t end) {
    std::vector<std::pair<double, int64_t>> buf(cand.k);
    for (int64_t i = begin; i < end; ++i)
    {
      for (int j = 0; j < cand.k; ++j)
      {
        const int64_t o = cand.indices[i * cand.k + j];
        buf[j] = { fastDistance(features.row(i), features.row(o), d, metric), o };
      }
      std::partial_sort(buf.begin(), buf.begin() + out.k, buf.end());
      for (int j = 0; j < out.k; ++j)
      {
        out.indices[i * out.k + j] = buf[j].second;
        out.distances[i * out.k + j] = static_cast<float>(buf[j].first);
      }
    }
  });
  progress.report(1.0);
  what << " on " << components << " PCA components (" << candidates << " candidates), re-ranked in "
       << d << "-D " << metricName(metric);
  diag.neighborsUsed = what.str();
  diag.neighborPcaComponents = components;
  return step;
}

InitProvider makePcaInit(
  const FeatureMatrix& features, const NeighborStep& step, int dims, uint64_t seed)
{
  return [&features, &step, dims, seed]() {
    if (step.components >= dims)
    {
      std::vector<float> out(static_cast<size_t>(features.rows * dims));
      for (int64_t i = 0; i < features.rows; ++i)
      {
        for (int c = 0; c < dims; ++c)
        {
          out[i * dims + c] = step.reduced[i * step.components + c];
        }
      }
      return out;
    }
    return pcaInitFrom(features, dims, seed);
  };
}

void validateProjectionInput(const FeatureMatrix& features, const ProjectionOptions& o)
{
  if (!features.data || features.rows < 1 || features.cols < 1)
  {
    throw ModelError("The projection input is empty: it needs at least one row and one column.");
  }
  requireFiniteRows(features, "the projection input");
  validateProjectionShape(features.rows, features.cols, o);
}

void validateProjectionShape(int64_t rows, int64_t cols, const ProjectionOptions& o)
{
  if (o.dimensions != 2 && o.dimensions != 3)
  {
    throw ModelError(
      "Projections have 2 or 3 dimensions; " + std::to_string(o.dimensions) + " were asked for.");
  }
  if (rows < 1 || cols < 1)
  {
    throw ModelError("The projection input is empty: it needs at least one row and one column.");
  }
  const std::string n = std::to_string(rows);
  switch (o.method)
  {
    case ProjectionMethod::Umap:
      if (o.neighbors < 2)
      {
        throw ModelError("UMAP needs NumberOfNeighbors >= 2 (it counts the sample itself); got " +
          std::to_string(o.neighbors) + ".");
      }
      if (rows < static_cast<int64_t>(o.neighbors) + 1)
      {
        throw ModelError("UMAP with NumberOfNeighbors = " + std::to_string(o.neighbors) +
          " needs at least " + std::to_string(o.neighbors + 1) + " samples; the input has " + n +
          ". Lower NumberOfNeighbors or add samples.");
      }
      if (!(o.minDist >= 0.0) || !(o.spread > 0.0) || o.minDist > o.spread)
      {
        throw ModelError("UMAP needs 0 <= MinDist <= Spread and Spread > 0.");
      }
      if (o.negativeSampleRate < 0 || o.epochs < 0)
      {
        throw ModelError("UMAP needs a non-negative number of epochs and negative sample rate.");
      }
      break;
    case ProjectionMethod::Tsne:
      if (!(o.perplexity > 0.0) || !(o.perplexity < static_cast<double>(rows)))
      {
        std::ostringstream s;
        s << "t-SNE needs 0 < Perplexity < number of samples (as scikit-learn); Perplexity is "
          << o.perplexity << " and the input has " << n
          << " samples. Lower the perplexity or add samples.";
        throw ModelError(s.str());
      }
      if (rows < 2)
      {
        throw ModelError("t-SNE needs at least 2 samples.");
      }
      if (rows > kTsneMaxRows)
      {
        throw ModelError("t-SNE is limited to " + std::to_string(kTsneMaxRows) +
          " samples; the input has " + n +
          ". Its layout grows as N log N (50 000 samples of 768 values take about 45 s on 2 "
          "cores; 10^6 would take about 20 min) and a map of that many points crowds into a "
          "ball. Use UMAP at this size, or t-SNE on a random subset (ParaView's Mask Points "
          "filter: Maximum Number of Points " +
          std::to_string(kTsneMaxRows) + ", Random Sampling).");
      }
      if (o.init == ProjectionInit::Spectral)
      {
        throw ModelError("t-SNE has no spectral initialisation (use PCA or random).");
      }
      if (o.epochs < 0 || !(o.angle >= 0.0) || !(o.earlyExaggeration > 0.0))
      {
        throw ModelError("t-SNE needs iterations >= 0, angle >= 0 and early exaggeration > 0.");
      }
      break;
    case ProjectionMethod::Pca:
      if (cols < o.dimensions)
      {
        throw ModelError("PCA to " + std::to_string(o.dimensions) + " dimensions needs at least " +
          std::to_string(o.dimensions) + " input components; the input has " +
          std::to_string(cols) + ".");
      }
      if (rows < o.dimensions)
      {
        throw ModelError("PCA to " + std::to_string(o.dimensions) + " dimensions needs at least " +
          std::to_string(o.dimensions) + " samples; the input has " + n + ".");
      }
      break;
  }
}

} // namespace projection

using projection::NeighborStep;

const char* projectionMethodName(ProjectionMethod method)
{
  switch (method)
  {
    case ProjectionMethod::Umap:
      return "UMAP";
    case ProjectionMethod::Tsne:
      return "t-SNE";
    case ProjectionMethod::Pca:
      return "PCA";
  }
  return "?";
}

ProjectionResult computeEmbeddingProjection(
  const FeatureMatrix& features, const ProjectionOptions& options)
{
  projection::validateProjectionInput(features, options);
  ProjectionResult result;
  result.rows = features.rows;
  result.dimensions = options.dimensions;
  const int dims = options.dimensions;
  const auto start = Clock::now();
  ProgressRange(options.progress, 0.0, 1.0).report(0.0);

  if (options.method == ProjectionMethod::Pca)
  {
    projection::PcaResult pca = projection::computePca(features, dims);
    result.coordinates = std::move(pca.coordinates);
    for (double v : pca.explainedVariance)
    {
      result.explainedVarianceRatio.push_back(pca.totalVariance > 0 ? v / pca.totalVariance : 0.0);
    }
    result.initUsed = "none";
    result.stageSeconds.emplace_back("pca", secondsSince(start));
    ProgressRange(options.progress, 0.0, 1.0).report(1.0);
    return result;
  }

  const DistanceMetric metric = resolveMetric(options.metric, features.cols);
  const bool umap = options.method == ProjectionMethod::Umap;
  int k = 0;
  if (umap)
  {
    k = options.neighbors - 1; // umap-learn counts the sample itself
  }
  else
  {
    k = static_cast<int>(
      std::min<int64_t>(features.rows - 1, static_cast<int64_t>(3.0 * options.perplexity + 1.0)));
  }
  const double knnEnd = 0.3;
  NeighborStep step = projection::computeNeighbors(
    features, k, metric, options, result, ProgressRange(options.progress, 0.0, knnEnd));
  result.stageSeconds.emplace_back("neighbors", secondsSince(start));

  // PCA coordinates for initialisations: the first components of the
  // neighbour search's PCA when there was one, else a PCA of the input.
  const projection::InitProvider pcaInit =
    projection::makePcaInit(features, step, dims, options.seed);
  const auto layoutStart = Clock::now();
  const ProgressRange layoutProgress(options.progress, knnEnd, 1.0);
  if (umap)
  {
    result.coordinates = projection::runUmap(step.knn, options, pcaInit, result, layoutProgress);
  }
  else
  {
    result.coordinates =
      projection::runTsne(step.knn, metric, options, pcaInit, result, layoutProgress);
  }
  result.stageSeconds.emplace_back("layout", secondsSince(layoutStart));
  result.stageSeconds.emplace_back("total", secondsSince(start));
  layoutProgress.report(1.0);
  return result;
}

double trustworthiness(const FeatureMatrix& original, const float* embedded, int dims, int k)
{
  const int64_t n = original.rows;
  if (!original.data || !embedded || dims < 1 || k < 1 || !(2 * static_cast<int64_t>(k) < n))
  {
    throw ModelError("trustworthiness needs 1 <= k < n / 2 (n = " + std::to_string(n) +
      ", k = " + std::to_string(k) + ").");
  }
  requireFiniteRows(original, "the original space of the trustworthiness");
  // Embedded kNN (exact, brute force, ties by the smaller index), ranked by
  // the squared distance: distinct squares stay distinct where their rounded
  // roots could tie.
  const FeatureMatrix embedding{ embedded, n, dims };
  std::vector<int64_t> nb(static_cast<size_t>(n * k));
  at::parallel_for(0, n, 64, [&](int64_t begin, int64_t end) {
    std::vector<double> distances;
    for (int64_t i = begin; i < end; ++i)
    {
      squaredEuclideanDistancesFrom(embedding, i, distances);
      const std::vector<int64_t> nearest = nearestRows(distances, i, k);
      std::copy(nearest.begin(), nearest.end(), nb.begin() + i * k);
    }
  });
  // Ranks in the original space, blocks of rows of squared distances.
  at::NoGradGuard noGrad;
  at::Tensor x = at::from_blob(const_cast<float*>(original.data), { n, original.cols }, at::kFloat)
                   .to(at::kDouble);
  at::Tensor norms = (x * x).sum(1);
  const int64_t block =
    std::max<int64_t>(1, std::min<int64_t>(n, 4000000 / std::max<int64_t>(n, 1)));
  double penalty = 0.0;
  for (int64_t b0 = 0; b0 < n; b0 += block)
  {
    const int64_t b1 = std::min(n, b0 + block);
    at::Tensor dist = (norms.slice(0, b0, b1).unsqueeze(1) + norms.unsqueeze(0) -
      2.0 * at::matmul(x.slice(0, b0, b1), x.t()))
                        .contiguous();
    const double* dd = dist.data_ptr<double>();
    std::vector<double> partial(b1 - b0, 0.0);
    at::parallel_for(b0, b1, 16, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
      {
        const double* row = dd + (i - b0) * n;
        double p = 0.0;
        for (int j = 0; j < k; ++j)
        {
          const int64_t t = nb[i * k + j];
          const double dt = row[t];
          int64_t rank = 1;
          for (int64_t l = 0; l < n; ++l)
          {
            if (l != i && (row[l] < dt || (row[l] == dt && l < t)))
            {
              ++rank;
            }
          }
          if (rank > k)
          {
            p += static_cast<double>(rank - k);
          }
        }
        partial[i - b0] = p;
      }
    });
    for (double p : partial)
    {
      penalty += p;
    }
  }
  const double nn = static_cast<double>(n), kk = static_cast<double>(k);
  return 1.0 - penalty * (2.0 / (nn * kk * (2.0 * nn - 3.0 * kk - 1.0)));
}

std::pair<double, double> findAbParams(double spread, double minDist)
{
  // Levenberg-Marquardt from (1, 1), as scipy's curve_fit.
  const int m = 300;
  std::vector<double> xs(m), ys(m);
  for (int i = 0; i < m; ++i)
  {
    xs[i] = 3.0 * spread * i / (m - 1);
    ys[i] = xs[i] < minDist ? 1.0 : std::exp(-(xs[i] - minDist) / spread);
  }
  auto cost = [&](double a, double b) {
    double s = 0.0;
    for (int i = 0; i < m; ++i)
    {
      const double f = 1.0 / (1.0 + a * std::pow(xs[i], 2.0 * b));
      s += (f - ys[i]) * (f - ys[i]);
    }
    return s;
  };
  double a = 1.0, b = 1.0, lambda = 1e-3;
  double current = cost(a, b);
  for (int iter = 0; iter < 500; ++iter)
  {
    double jtj[2][2] = { { 0, 0 }, { 0, 0 } }, jtr[2] = { 0, 0 };
    for (int i = 0; i < m; ++i)
    {
      const double x = xs[i];
      const double p = x > 0 ? std::pow(x, 2.0 * b) : 0.0;
      const double den = 1.0 + a * p;
      const double f = 1.0 / den;
      const double r = f - ys[i];
      const double da = -p / (den * den);
      const double db = x > 0 ? -a * p * 2.0 * std::log(x) / (den * den) : 0.0;
      jtj[0][0] += da * da;
      jtj[0][1] += da * db;
      jtj[1][1] += db * db;
      jtr[0] += da * r;
      jtr[1] += db * r;
    }
    bool improved = false;
    for (int attempt = 0; attempt < 30 && !improved; ++attempt)
    {
      const double h00 = jtj[0][0] * (1.0 + lambda), h11 = jtj[1][1] * (1.0 + lambda);
      const double h01 = jtj[0][1];
      const double det = h00 * h11 - h01 * h01;
      if (!(std::fabs(det) > 0.0))
      {
        lambda *= 10.0;
        continue;
      }
      const double stepA = -(h11 * jtr[0] - h01 * jtr[1]) / det;
      const double stepB = -(h00 * jtr[1] - h01 * jtr[0]) / det;
      const double na = a + stepA, nbv = b + stepB;
      const double c = cost(na, nbv);
      if (c < current)
      {
        const double rel = (current - c) / std::max(current, 1e-300);
        a = na;
        b = nbv;
        current = c;
        lambda = std::max(lambda / 10.0, 1e-12);
        improved = true;
        if (rel < 1e-15 && std::fabs(stepA) < 1e-12 && std::fabs(stepB) < 1e-12)
        {
          return { a, b };
        }
      }
      else
      {
        lambda *= 10.0;
      }
    }
    if (!improved)
    {
      break;
    }
  }
  return { a, b };
}

} // namespace engine
} // namespace dualembed
