// t-SNE after scikit-learn 1.2 (Barnes-Hut; see EmbeddingProjection.h).
#include "ProjectionInternal.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

namespace dualembed
{
namespace engine
{
namespace projection
{
namespace
{

/// scikit-learn's _binary_search_perplexity on squared distances (n x k).
std::vector<double> conditionalP(const std::vector<double>& sq, int64_t n, int k, double perplexity)
{
  const double desiredEntropy = std::log(perplexity);
  std::vector<double> p(sq.size());
  at::parallel_for(0, n, 64, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
    {
      const double* d = sq.data() + i * k;
      double* pi = p.data() + i * k;
      double betaMin = -std::numeric_limits<double>::infinity();
      double betaMax = std::numeric_limits<double>::infinity();
      double beta = 1.0;
      for (int step = 0; step < 100; ++step)
      {
        double sum = 0.0;
        for (int j = 0; j < k; ++j)
        {
          pi[j] = std::exp(-d[j] * beta);
          sum += pi[j];
        }
        if (sum == 0.0)
        {
          sum = 1e-8;
        }
        double sumDist = 0.0;
        for (int j = 0; j < k; ++j)
        {
          pi[j] /= sum;
          sumDist += d[j] * pi[j];
        }
        const double entropyDiff = std::log(sum) + beta * sumDist - desiredEntropy;
        if (std::fabs(entropyDiff) <= 1e-5)
        {
          break;
        }
        if (entropyDiff > 0.0)
        {
          betaMin = beta;
          beta = std::isinf(betaMax) ? beta * 2.0 : (beta + betaMax) / 2.0;
        }
        else
        {
          betaMax = beta;
          beta = std::isinf(betaMin) ? beta / 2.0 : (beta + betaMin) / 2.0;
        }
      }
    }
  });
  return p;
}

struct SparseP
{
  std::vector<int64_t> rowPtr;
  std::vector<int32_t> cols;
  std::vector<double> values;
};

/// P = (C + C^T) / sum.
SparseP jointP(const std::vector<double>& cond, const KnnResult& knn)
{
  const int64_t n = knn.rows;
  const int k = knn.k;
  struct Entry
  {
    int32_t row, col;
    double v;
  };
  std::vector<Entry> entries;
  entries.reserve(static_cast<size_t>(2 * n * k));
  for (int64_t i = 0; i < n; ++i)
  {
    for (int j = 0; j < k; ++j)
    {
      const int32_t c = static_cast<int32_t>(knn.indices[i * k + j]);
      entries.push_back({ static_cast<int32_t>(i), c, cond[i * k + j] });
      entries.push_back({ c, static_cast<int32_t>(i), cond[i * k + j] });
    }
  }
  std::sort(entries.begin(), entries.end(),
    [](const Entry& x, const Entry& y) { return x.row != y.row ? x.row < y.row : x.col < y.col; });
  SparseP p;
  p.rowPtr.assign(static_cast<size_t>(n + 1), 0);
  double total = 0.0;
  for (size_t e = 0; e < entries.size();)
  {
    double v = 0.0;
    size_t f = e;
    while (
      f < entries.size() && entries[f].row == entries[e].row && entries[f].col == entries[e].col)
    {
      v += entries[f].v;
      ++f;
    }
    p.cols.push_back(entries[e].col);
    p.values.push_back(v);
    p.rowPtr[entries[e].row + 1]++;
    total += v;
    e = f;
  }
  for (int64_t i = 0; i < n; ++i)
  {
    p.rowPtr[i + 1] += p.rowPtr[i];
  }
  total = std::max(total, std::numeric_limits<double>::epsilon());
  for (auto& v : p.values)
  {
    v /= total;
  }
  return p;
}

/// Space-partitioning tree (quadtree / octree), one point (or exact
/// duplicates) per leaf, like scikit-learn's _QuadTree.
template <int DIM>
class Tree
{
public:
  static constexpr int Children = 1 << DIM;
  struct Node
  {
    double com[DIM];
    double maxWidth2;
    int32_t count;
    int32_t firstChild; // -1 for a leaf; children are contiguous
    int32_t childCount;
    int64_t begin; // first point of the node in order()
  };

  void build(const double* y, int64_t n)
  {
    Nodes.clear();
    Order.resize(n);
    std::iota(Order.begin(), Order.end(), 0);
    double lo[DIM], hi[DIM];
    for (int d = 0; d < DIM; ++d)
    {
      lo[d] = std::numeric_limits<double>::infinity();
      hi[d] = -lo[d];
    }
    for (int64_t i = 0; i < n; ++i)
    {
      for (int d = 0; d < DIM; ++d)
      {
        lo[d] = std::min(lo[d], y[i * DIM + d]);
        hi[d] = std::max(hi[d], y[i * DIM + d]);
      }
    }
    for (int d = 0; d < DIM; ++d)
    {
      const double sgn = hi[d] > 0 ? 1.0 : (hi[d] < 0 ? -1.0 : 0.0);
      hi[d] = std::max(hi[d] * (1.0 + 1e-3 * sgn), hi[d] + 1e-3);
    }
    Nodes.push_back(Node{});
    buildNode(0, y, 0, n, lo, hi, 0);
  }

  const std::vector<int64_t>& order() const { return Order; }
  const std::vector<Node>& nodes() const { return Nodes; }

  /// Nodes holding at most `size` points whose parent holds more (or the root).
  void groups(int size, std::vector<int32_t>& out) const
  {
    out.clear();
    std::vector<int32_t> stack{ 0 };
    while (!stack.empty())
    {
      const int32_t id = stack.back();
      stack.pop_back();
      const Node& node = Nodes[id];
      if (node.count <= size || node.firstChild < 0)
      {
        out.push_back(id);
        continue;
      }
      for (int c = node.childCount - 1; c >= 0; --c)
      {
        stack.push_back(node.firstChild + c);
      }
    }
  }

  /// Barnes-Hut interaction list of a group of points inside the box
  /// [lo, hi]: a node is summarised when maxWidth2 < theta2 * d2 holds for
  /// the box's closest point (so for every point of the group: at least as
  /// accurate as scikit-learn's per-point test); leaves are always taken.
  void interactions(const double* lo, const double* hi, double theta2, std::vector<float>* com,
    std::vector<float>& count, std::vector<int32_t>& stack) const
  {
    for (int d = 0; d < DIM; ++d)
    {
      com[d].clear();
    }
    count.clear();
    stack.clear();
    stack.push_back(0);
    while (!stack.empty())
    {
      const Node& node = Nodes[stack.back()];
      stack.pop_back();
      bool take = node.firstChild < 0;
      if (!take)
      {
        double d2 = 0.0;
        for (int d = 0; d < DIM; ++d)
        {
          const double t = node.com[d] < lo[d] ? lo[d] - node.com[d]
                                               : (node.com[d] > hi[d] ? node.com[d] - hi[d] : 0.0);
          d2 += t * t;
        }
        take = node.maxWidth2 < theta2 * d2;
      }
      if (take)
      {
        for (int d = 0; d < DIM; ++d)
        {
          com[d].push_back(static_cast<float>(node.com[d]));
        }
        count.push_back(static_cast<float>(node.count));
        continue;
      }
      for (int c = 0; c < node.childCount; ++c)
      {
        stack.push_back(node.firstChild + c);
      }
    }
  }

private:
  void buildNode(int32_t id, const double* y, int64_t b, int64_t e, const double* lo,
    const double* hi, int depth)
  {
    Node node{};
    node.count = static_cast<int32_t>(e - b);
    node.begin = b;
    node.firstChild = -1;
    node.childCount = 0;
    double w2 = 0.0;
    for (int d = 0; d < DIM; ++d)
    {
      double s = 0.0;
      for (int64_t t = b; t < e; ++t)
      {
        s += y[Order[t] * DIM + d];
      }
      node.com[d] = s / node.count;
      w2 = std::max(w2, (hi[d] - lo[d]) * (hi[d] - lo[d]));
    }
    node.maxWidth2 = w2;
    bool allSame = true;
    for (int64_t t = b + 1; t < e && allSame; ++t)
    {
      for (int d = 0; d < DIM; ++d)
      {
        if (std::fabs(y[Order[t] * DIM + d] - y[Order[b] * DIM + d]) > 1e-6)
        {
          allSame = false;
          break;
        }
      }
    }
    if (e - b <= 1 || allSame || depth > 60)
    {
      Nodes[id] = node;
      return;
    }
    double mid[DIM];
    for (int d = 0; d < DIM; ++d)
    {
      mid[d] = 0.5 * (lo[d] + hi[d]);
    }
    // Partition [b, e) by child quadrant (counting sort).
    int64_t counts[Children] = {};
    std::vector<int8_t> quadrant(static_cast<size_t>(e - b));
    for (int64_t t = b; t < e; ++t)
    {
      int c = 0;
      for (int d = 0; d < DIM; ++d)
      {
        c |= (y[Order[t] * DIM + d] >= mid[d] ? 1 : 0) << d;
      }
      quadrant[t - b] = static_cast<int8_t>(c);
      ++counts[c];
    }
    int64_t start[Children];
    int64_t acc = b;
    for (int c = 0; c < Children; ++c)
    {
      start[c] = acc;
      acc += counts[c];
    }
    std::vector<int64_t> sorted(static_cast<size_t>(e - b));
    int64_t pos[Children];
    std::copy(start, start + Children, pos);
    for (int64_t t = b; t < e; ++t)
    {
      sorted[pos[quadrant[t - b]]++ - b] = Order[t];
    }
    std::copy(sorted.begin(), sorted.end(), Order.begin() + b);
    int childCount = 0;
    for (int c = 0; c < Children; ++c)
    {
      childCount += counts[c] > 0 ? 1 : 0;
    }
    node.firstChild = static_cast<int32_t>(Nodes.size());
    node.childCount = childCount;
    Nodes[id] = node;
    Nodes.resize(Nodes.size() + childCount);
    int slot = 0;
    for (int c = 0; c < Children; ++c)
    {
      if (counts[c] == 0)
      {
        continue;
      }
      double clo[DIM], chi[DIM];
      for (int d = 0; d < DIM; ++d)
      {
        const bool upper = (c >> d) & 1;
        clo[d] = upper ? mid[d] : lo[d];
        chi[d] = upper ? hi[d] : mid[d];
      }
      buildNode(node.firstChild + slot, y, start[c], start[c] + counts[c], clo, chi, depth + 1);
      ++slot;
    }
  }

  std::vector<Node> Nodes;
  std::vector<int64_t> Order;
};

/// Sums over an interaction list for one point at (x, y): out = { sum w,
/// sum w q dx, sum w q dy } with q = 1 / (1 + d2) (dof 1), w = count q, and
/// w = 0 for the point itself or exact duplicates (|dx|, |dy| <= 1e-6, as
/// scikit-learn). Separate functions so that the loops are vectorised.
__attribute__((noinline)) void repulsion2(
  const float* cx, const float* cy, const float* cnt, int64_t m, float x, float y, float* out)
{
  float sq = 0.0f, fx = 0.0f, fy = 0.0f;
#pragma omp simd reduction(+ : sq, fx, fy)
  for (int64_t j = 0; j < m; ++j)
  {
    const float dx = x - cx[j], dy = y - cy[j];
    const float q = 1.0f / (1.0f + dx * dx + dy * dy);
    const float keep = ((std::fabs(dx) > 1e-6f) | (std::fabs(dy) > 1e-6f)) ? 1.0f : 0.0f;
    const float w = keep * cnt[j] * q;
    sq += w;
    fx += w * q * dx;
    fy += w * q * dy;
  }
  out[0] = sq;
  out[1] = fx;
  out[2] = fy;
  out[3] = 0.0f;
}

/// 3-D: dof 2, q = (2 / (2 + d2))^1.5.
__attribute__((noinline)) void repulsion3(const float* cx, const float* cy, const float* cz,
  const float* cnt, int64_t m, float x, float y, float z, float* out)
{
  float sq = 0.0f, fx = 0.0f, fy = 0.0f, fz = 0.0f;
#pragma omp simd reduction(+ : sq, fx, fy, fz)
  for (int64_t j = 0; j < m; ++j)
  {
    const float dx = x - cx[j], dy = y - cy[j], dz = z - cz[j];
    const float t = 2.0f / (2.0f + dx * dx + dy * dy + dz * dz);
    const float q = t * std::sqrt(t);
    const float keep =
      ((std::fabs(dx) > 1e-6f) | (std::fabs(dy) > 1e-6f) | (std::fabs(dz) > 1e-6f)) ? 1.0f : 0.0f;
    const float w = keep * cnt[j] * q;
    sq += w;
    fx += w * q * dx;
    fy += w * q * dy;
    fz += w * q * dz;
  }
  out[0] = sq;
  out[1] = fx;
  out[2] = fy;
  out[3] = fz;
}

/// Negative forces (sum over the summaries of q^2 (y_i - com) count) and
/// per-point sums of q count, one interaction list per group of <= 32 points;
/// each point's sums are computed by one thread in a fixed order
/// (deterministic for any thread count).
template <int DIM>
void negativeForces(const Tree<DIM>& tree, const double* y, double theta2, double dof,
  double exponent, double* neg, double* qsum, std::vector<int32_t>& groups)
{
  tree.groups(32, groups);
  const auto& nodes = tree.nodes();
  const auto& order = tree.order();
  static_assert(DIM == 2 || DIM == 3, "2-D or 3-D");
  (void)dof; // fixed by DIM: max(DIM - 1, 1), as in optimize()
  (void)exponent;
  at::parallel_for(0, static_cast<int64_t>(groups.size()), 4, [&](int64_t gb, int64_t ge) {
    std::vector<float> com[DIM];
    std::vector<float> count;
    std::vector<int32_t> stack;
    for (int64_t g = gb; g < ge; ++g)
    {
      const auto& node = nodes[groups[g]];
      double lo[DIM], hi[DIM];
      for (int d = 0; d < DIM; ++d)
      {
        lo[d] = std::numeric_limits<double>::infinity();
        hi[d] = -lo[d];
      }
      for (int64_t t = node.begin; t < node.begin + node.count; ++t)
      {
        for (int d = 0; d < DIM; ++d)
        {
          lo[d] = std::min(lo[d], y[order[t] * DIM + d]);
          hi[d] = std::max(hi[d], y[order[t] * DIM + d]);
        }
      }
      tree.interactions(lo, hi, theta2, com, count, stack);
      const int64_t m = static_cast<int64_t>(count.size());
      for (int64_t t = node.begin; t < node.begin + node.count; ++t)
      {
        const int64_t i = order[t];
        float yi[DIM];
        for (int d = 0; d < DIM; ++d)
        {
          yi[d] = static_cast<float>(y[i * DIM + d]);
        }
        float r[4];
        if (DIM == 2)
        {
          repulsion2(com[0].data(), com[1].data(), count.data(), m, yi[0], yi[1], r);
        }
        else
        {
          repulsion3(com[0].data(), com[1].data(), com[DIM - 1].data(), count.data(), m, yi[0],
            yi[1], yi[DIM - 1], r);
        }
        const double sq = r[0];
        const double f[3] = { r[1], r[2], r[3] };
        qsum[i] = sq;
        for (int d = 0; d < DIM; ++d)
        {
          neg[i * DIM + d] = f[d];
        }
      }
    }
  });
}

template <int DIM>
std::vector<float> optimize(const SparseP& P, std::vector<double> y, int64_t n,
  const ProjectionOptions& o, int iterations, double learningRate, const ProgressRange& progress,
  int& iterationsRun)
{
  const double dof = std::max(DIM - 1, 1);
  const double exponent = (dof + 1.0) / 2.0;
  const double c = 2.0 * (dof + 1.0) / dof;
  const double theta2 = o.angle * o.angle;
  const int64_t m = n * DIM;
  std::vector<double> update(m, 0.0), gains(m, 1.0), grad(m), neg(m), qsum(n);
  Tree<DIM> tree;
  std::vector<int32_t> groups;
  const int exploration = std::min(o.exaggerationIterations, iterations);
  iterationsRun = 0;
  for (int it = 0; it < iterations; ++it)
  {
    const bool early = it < exploration;
    if (it == exploration)
    {
      std::fill(update.begin(), update.end(), 0.0); // new _gradient_descent call
      std::fill(gains.begin(), gains.end(), 1.0);
    }
    const double exaggeration = early ? o.earlyExaggeration : 1.0;
    const double momentum = early ? 0.5 : 0.8;
    tree.build(y.data(), n);
    negativeForces<DIM>(tree, y.data(), theta2, dof, exponent, neg.data(), qsum.data(), groups);
    double sumQ = 0.0;
    for (double q : qsum)
    {
      sumQ += q;
    }
    sumQ = std::max(sumQ, std::numeric_limits<double>::min());
    at::parallel_for(0, n, 256, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
      {
        double pos[DIM] = {};
        const double* yi = y.data() + i * DIM;
        for (int64_t e = P.rowPtr[i]; e < P.rowPtr[i + 1]; ++e)
        {
          const double* yj = y.data() + static_cast<int64_t>(P.cols[e]) * DIM;
          double diff[DIM];
          double d2 = 0.0;
          for (int d = 0; d < DIM; ++d)
          {
            diff[d] = yi[d] - yj[d];
            d2 += diff[d] * diff[d];
          }
          double q = dof / (dof + d2);
          if (exponent != 1.0)
          {
            q = std::pow(q, exponent);
          }
          const double w = exaggeration * P.values[e] * q;
          for (int d = 0; d < DIM; ++d)
          {
            pos[d] += w * diff[d];
          }
        }
        for (int d = 0; d < DIM; ++d)
        {
          grad[i * DIM + d] = c * (pos[d] - neg[i * DIM + d] / sumQ);
        }
      }
    });
    // Gains and momentum (after all gradients: y is read above).
    at::parallel_for(0, m, 4096, [&](int64_t begin, int64_t end) {
      for (int64_t x = begin; x < end; ++x)
      {
        double g = grad[x];
        const bool inc = update[x] * g < 0.0;
        gains[x] = std::max(inc ? gains[x] + 0.2 : gains[x] * 0.8, 0.01);
        g *= gains[x];
        grad[x] = g;
        update[x] = momentum * update[x] - learningRate * g;
        y[x] += update[x];
      }
    });
    iterationsRun = it + 1;
    progress.report(static_cast<double>(it + 1) / iterations);
    if ((it + 1) % 50 == 0)
    {
      double norm = 0.0;
      for (double g : grad)
      {
        norm += g * g;
      }
      if (std::sqrt(norm) <= 1e-7)
      {
        break;
      }
    }
  }
  return std::vector<float>(y.begin(), y.end());
}

} // namespace

std::vector<float> runTsne(const KnnResult& knn, DistanceMetric metric, const ProjectionOptions& o,
  const InitProvider& pcaInit, ProjectionResult& diag, const ProgressRange& progress)
{
  const int64_t n = knn.rows;
  const int k = knn.k;
  const int dims = o.dimensions;
  std::vector<double> sq(knn.distances.begin(), knn.distances.end());
  if (metric == DistanceMetric::Euclidean)
  {
    for (auto& v : sq)
    {
      v *= v;
    }
  }
  const SparseP P = jointP(conditionalP(sq, n, k, o.perplexity), knn);
  diag.graphEdges = static_cast<int64_t>(P.values.size());
  progress.report(0.02);

  std::vector<double> y(static_cast<size_t>(n * dims));
  const ProjectionInit choice =
    o.init == ProjectionInit::Random ? ProjectionInit::Random : ProjectionInit::Pca;
  if (choice == ProjectionInit::Pca)
  {
    const std::vector<float> p = pcaInit();
    double mean = 0.0, var = 0.0;
    for (int64_t i = 0; i < n; ++i)
    {
      mean += p[i * dims];
    }
    mean /= n;
    for (int64_t i = 0; i < n; ++i)
    {
      var += (p[i * dims] - mean) * (p[i * dims] - mean);
    }
    const double sd = std::sqrt(var / n);
    const double scale = sd > 0 ? 1e-4 / sd : 1.0;
    for (size_t i = 0; i < y.size(); ++i)
    {
      y[i] = static_cast<float>(p[i] * scale);
    }
    diag.initUsed = "pca";
  }
  else
  {
    Random rng(o.seed);
    for (auto& v : y)
    {
      v = 1e-4 * rng.normal();
    }
    diag.initUsed = "random";
  }
  const int iterations = o.epochs > 0 ? o.epochs : 1000;
  const double lr = o.learningRate > 0
    ? o.learningRate
    : std::max(static_cast<double>(n) / o.earlyExaggeration / 4.0, 50.0);
  diag.learningRate = lr;
  const ProgressRange gd(progress.sub(), 0.02, 1.0);
  int run = 0;
  std::vector<float> out = dims == 2 ? optimize<2>(P, std::move(y), n, o, iterations, lr, gd, run)
                                     : optimize<3>(P, std::move(y), n, o, iterations, lr, gd, run);
  diag.epochs = run;
  return out;
}

} // namespace projection
} // namespace engine
} // namespace dualembed
