// UMAP after umap-learn 0.5.3 (see EmbeddingProjection.h for the steps and
// the deviations).
#include "ProjectionInternal.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
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

using Graph = UmapGraph; // symmetric, CSR, both directions stored

/// smooth_knn_dist + compute_membership_strengths + fuzzy union.
Graph fuzzySimplicialSet(const KnnResult& knn, const ProjectionOptions& o)
{
  const int64_t n = knn.rows;
  const int k = knn.k;     // neighbours besides the sample itself
  const int width = k + 1; // umap-learn's n_neighbors columns
  const double target = std::log2(static_cast<double>(width)); // bandwidth 1
  const double tolerance = 1e-5, minScale = 1e-3;
  double meanAll = 0.0;
  for (float d : knn.distances)
  {
    meanAll += d;
  }
  meanAll /= static_cast<double>(n) * width;
  const int index = static_cast<int>(std::floor(o.localConnectivity));
  const double interpolation = o.localConnectivity - index;

  std::vector<float> memberships(static_cast<size_t>(n * k));
  at::parallel_for(0, n, 256, [&](int64_t begin, int64_t end) {
    std::vector<double> nonZero;
    for (int64_t i = begin; i < end; ++i)
    {
      const float* d = knn.distances.data() + i * k;
      nonZero.clear();
      double sum = 0.0;
      for (int j = 0; j < k; ++j)
      {
        sum += d[j];
        if (d[j] > 0.0f)
        {
          nonZero.push_back(d[j]);
        }
      }
      double rho = 0.0;
      if (static_cast<double>(nonZero.size()) >= o.localConnectivity)
      {
        if (index > 0)
        {
          rho = nonZero[index - 1];
          if (interpolation > tolerance)
          {
            rho += interpolation * (nonZero[index] - nonZero[index - 1]);
          }
        }
        else
        {
          rho = interpolation * nonZero[0];
        }
      }
      else if (!nonZero.empty())
      {
        rho = *std::max_element(nonZero.begin(), nonZero.end());
      }
      double lo = 0.0, hi = std::numeric_limits<double>::infinity(), mid = 1.0;
      for (int it = 0; it < 64; ++it)
      {
        double psum = 0.0;
        for (int j = 0; j < k; ++j)
        {
          const double t = d[j] - rho;
          psum += t > 0.0 ? std::exp(-(t / mid)) : 1.0;
        }
        if (std::fabs(psum - target) < tolerance)
        {
          break;
        }
        if (psum > target)
        {
          hi = mid;
          mid = (lo + hi) / 2.0;
        }
        else
        {
          lo = mid;
          mid = std::isinf(hi) ? mid * 2.0 : (lo + hi) / 2.0;
        }
      }
      double sigma = mid;
      if (rho > 0.0)
      {
        sigma = std::max(sigma, minScale * (sum / width));
      }
      else
      {
        sigma = std::max(sigma, minScale * meanAll);
      }
      for (int j = 0; j < k; ++j)
      {
        const double t = d[j] - rho;
        memberships[i * k + j] =
          (t <= 0.0 || sigma == 0.0) ? 1.0f : static_cast<float>(std::exp(-(t / sigma)));
      }
    }
  });

  // Fuzzy union: ratio * (P + P^T - P o P^T) + (1 - ratio) * P o P^T.
  struct Entry
  {
    int32_t row, col;
    float w;
    bool transposed;
  };
  std::vector<Entry> entries;
  entries.reserve(static_cast<size_t>(2 * n * k));
  for (int64_t i = 0; i < n; ++i)
  {
    for (int j = 0; j < k; ++j)
    {
      const int32_t c = static_cast<int32_t>(knn.indices[i * k + j]);
      const float w = memberships[i * k + j];
      if (c == i)
      {
        continue;
      }
      entries.push_back({ static_cast<int32_t>(i), c, w, false });
      entries.push_back({ c, static_cast<int32_t>(i), w, true });
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& x, const Entry& y) {
    return x.row != y.row ? x.row < y.row
                          : (x.col != y.col ? x.col < y.col : x.transposed < y.transposed);
  });
  Graph g;
  g.n = n;
  g.rowPtr.assign(static_cast<size_t>(n + 1), 0);
  const double ratio = o.setOpMixRatio;
  for (size_t e = 0; e < entries.size();)
  {
    double p = 0.0, t = 0.0;
    size_t f = e;
    while (
      f < entries.size() && entries[f].row == entries[e].row && entries[f].col == entries[e].col)
    {
      (entries[f].transposed ? t : p) = entries[f].w;
      ++f;
    }
    const double w = ratio * (p + t - p * t) + (1.0 - ratio) * p * t;
    if (w != 0.0)
    {
      g.cols.push_back(entries[e].col);
      g.weights.push_back(static_cast<float>(w));
      g.rowPtr[entries[e].row + 1]++;
    }
    e = f;
  }
  for (int64_t i = 0; i < n; ++i)
  {
    g.rowPtr[i + 1] += g.rowPtr[i];
  }
  return g;
}

void pruneGraph(Graph& g, int epochs)
{
  float maxW = 0.0f;
  for (float w : g.weights)
  {
    maxW = std::max(maxW, w);
  }
  const float threshold = maxW / static_cast<float>(epochs);
  std::vector<int64_t> rowPtr(g.rowPtr.size(), 0);
  size_t out = 0;
  for (int64_t i = 0; i < g.n; ++i)
  {
    for (int64_t e = g.rowPtr[i]; e < g.rowPtr[i + 1]; ++e)
    {
      if (!(g.weights[e] < threshold))
      {
        g.cols[out] = g.cols[e];
        g.weights[out] = g.weights[e];
        ++out;
      }
    }
    rowPtr[i + 1] = static_cast<int64_t>(out);
  }
  g.cols.resize(out);
  g.weights.resize(out);
  g.rowPtr = std::move(rowPtr);
}

int connectedComponents(const Graph& g)
{
  std::vector<int32_t> parent(g.n);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int32_t x) {
    while (parent[x] != x)
    {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  int count = static_cast<int>(g.n);
  for (int64_t i = 0; i < g.n; ++i)
  {
    for (int64_t e = g.rowPtr[i]; e < g.rowPtr[i + 1]; ++e)
    {
      const int32_t a = find(static_cast<int32_t>(i)), b = find(g.cols[e]);
      if (a != b)
      {
        parent[std::max(a, b)] = std::min(a, b);
        --count;
      }
    }
  }
  return count;
}

/// Eigenvectors of the `dims` smallest nontrivial eigenvalues of the
/// normalised Laplacian I - D^-1/2 W D^-1/2 (= largest of D^-1/2 W D^-1/2,
/// the trivial one D^1/2 1 deflated), by Lanczos with full
/// reorthogonalisation. Returns n x dims, and the largest residual norm.
std::vector<double> spectralLayout(const Graph& g, int dims, uint64_t seed, double& residual,
  int& steps, const ProgressRange& progress)
{
  at::NoGradGuard noGrad;
  const int64_t n = g.n;
  std::vector<double> invSqrtDeg(n), v0(n);
  double norm0 = 0.0;
  for (int64_t i = 0; i < n; ++i)
  {
    double s = 0.0;
    for (int64_t e = g.rowPtr[i]; e < g.rowPtr[i + 1]; ++e)
    {
      s += g.weights[e];
    }
    invSqrtDeg[i] = s > 0 ? 1.0 / std::sqrt(s) : 0.0;
    v0[i] = std::sqrt(s);
    norm0 += s;
  }
  norm0 = std::sqrt(norm0);
  for (auto& v : v0)
  {
    v /= norm0;
  }
  at::Tensor v0t = at::from_blob(v0.data(), { n }, at::kDouble);
  auto apply = [&](const double* x, double* y) {
    at::parallel_for(0, n, 1024, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
      {
        double s = 0.0;
        for (int64_t e = g.rowPtr[i]; e < g.rowPtr[i + 1]; ++e)
        {
          s += g.weights[e] * invSqrtDeg[g.cols[e]] * x[g.cols[e]];
        }
        y[i] = invSqrtDeg[i] * s;
      }
    });
  };
  const int64_t maxSteps = std::min<int64_t>(n - 1, std::max<int64_t>(2 * dims + 2, 300));
  // w -= V^T (V w) for the first `rows` rows of the basis V, on ATen's
  // threads (through BLAS the OpenMP workers spun idle while BLAS's own
  // threads worked, and on a busy machine the Lanczos steps took 10x longer).
  std::vector<double> h;
  auto reorthogonalize = [&](const double* v, int64_t rows, double* x) {
    h.assign(static_cast<size_t>(rows), 0.0);
    at::parallel_for(0, rows, 1, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
      {
        const double* row = v + r * n;
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        int64_t i = 0;
        for (; i + 4 <= n; i += 4)
        {
          s0 += row[i] * x[i];
          s1 += row[i + 1] * x[i + 1];
          s2 += row[i + 2] * x[i + 2];
          s3 += row[i + 3] * x[i + 3];
        }
        for (; i < n; ++i)
        {
          s0 += row[i] * x[i];
        }
        h[r] = (s0 + s1) + (s2 + s3);
      }
    });
    at::parallel_for(0, n, 2048, [&](int64_t i0, int64_t i1) {
      for (int64_t r = 0; r < rows; ++r)
      {
        const double* row = v + r * n;
        const double c = h[r];
        for (int64_t i = i0; i < i1; ++i)
        {
          x[i] -= c * row[i];
        }
      }
    });
  };

  at::Tensor basis = at::zeros({ maxSteps, n }, at::kDouble);
  std::vector<double> alpha, beta;
  Random rng(seed ^ 0xA5A5A5A5ULL);
  at::Tensor q = at::empty({ n }, at::kDouble);
  {
    double* p = q.data_ptr<double>();
    for (int64_t i = 0; i < n; ++i)
    {
      p[i] = 1.0 + 0.1 * rng.normal();
    }
  }
  q -= v0t * at::dot(v0t, q);
  q /= q.norm();
  at::Tensor w = at::empty({ n }, at::kDouble);
  at::Tensor ritzValues, ritzVectors;
  int64_t m = 0;
  residual = std::numeric_limits<double>::infinity();
  const double tolerance = 1e-4;
  for (int64_t j = 0; j < maxSteps; ++j)
  {
    basis[j].copy_(q);
    apply(q.data_ptr<double>(), w.data_ptr<double>());
    w -= v0t * at::dot(v0t, w);
    alpha.push_back(at::dot(q, w).item<double>());
    // Three-term recurrence, then a full reorthogonalisation (classical
    // Gram-Schmidt), repeated when it removed more than 1 - 1/sqrt(2) of the
    // norm (Daniel-Gragg-Kaufman-Stewart criterion). Each pass reads the
    // whole basis twice: the second is rarely needed once the recurrence
    // has removed the two large components.
    w -= q * alpha.back();
    if (j > 0)
    {
      w -= basis[j - 1] * beta.back();
    }
    double b = w.norm().item<double>();
    for (int pass = 0; pass < 2; ++pass)
    {
      const double before = b;
      reorthogonalize(basis.data_ptr<double>(), j + 1, w.data_ptr<double>());
      b = w.norm().item<double>();
      if (!(b < 0.7071067811865476 * before))
      {
        break;
      }
    }
    m = j + 1;
    const bool lastStep = m == maxSteps || b < 1e-10;
    if (lastStep || (m >= 2 * dims + 2 && m % 10 == 0))
    {
      at::Tensor t = at::zeros({ m, m }, at::kDouble);
      for (int64_t r = 0; r < m; ++r)
      {
        t[r][r] = alpha[r];
        if (r + 1 < m)
        {
          t[r][r + 1] = beta[r];
          t[r + 1][r] = beta[r];
        }
      }
      auto eig = at::linalg_eigh(t);
      const int take = static_cast<int>(std::min<int64_t>(dims, m));
      ritzValues = std::get<0>(eig).flip(0).slice(0, 0, take);
      ritzVectors = std::get<1>(eig).flip(1).slice(1, 0, take);
      residual = (ritzVectors[m - 1].abs() * b).max().item<double>();
      progress.report(std::min(1.0, static_cast<double>(m) / maxSteps));
      if (residual < tolerance || lastStep)
      {
        break;
      }
    }
    beta.push_back(b);
    q = w / b;
  }
  steps = static_cast<int>(m);
  at::Tensor y = at::matmul(basis.slice(0, 0, m).t(), ritzVectors).contiguous(); // n x dims
  const int take = static_cast<int>(y.size(1));
  std::vector<double> out(static_cast<size_t>(n * dims), 0.0);
  const double* py = y.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i)
  {
    for (int c = 0; c < take; ++c)
    {
      out[i * dims + c] = py[i * take + c];
    }
  }
  return out;
}

// The 8-lane helpers are always inlined into the AVX2 functions: no vector
// crosses a call, the ABI note of GCC does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

/// x^b for x > 0 through polynomial log2 / exp2 (relative error < 1e-5;
/// the SGD does not need more, and libm's powf dominated its time).
// The polynomials of fastPow in Estrin's form (half the dependency depth of
// Horner's: the SGD's cost is their latency). T = float or Float4.
template <typename T>
inline __attribute__((always_inline)) T log2Mantissa(T t) // log2(1 + t), t in [0, 1)
{
  const T t2 = t * t;
  const T p01 = 1.44251703f + -0.71789838f * t;
  const T p23 = 0.45689417f + -0.27736505f * t;
  const T p45 = 0.12191414f + -0.0260663f * t;
  return t * (p01 + t2 * (p23 + t2 * p45));
}

template <typename T>
inline __attribute__((always_inline)) T exp2Fraction(T f) // 2^f, f in [0, 1)
{
  const T f2 = f * f;
  const T q01 = 0.693146838f + 0.240231097f * f;
  const T q23 = 0.0554789125f + 0.00968618629f * f;
  const T q45 = 0.00123824155f + 0.000218712623f * f;
  return 1.0f + f * (q01 + f2 * (q23 + f2 * q45));
}

inline __attribute__((always_inline)) float fastPow(float x, float b)
{
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  const float e = static_cast<float>(static_cast<int32_t>(bits >> 23) - 127);
  bits = (bits & 0x007FFFFFu) | 0x3F800000u;
  float t;
  std::memcpy(&t, &bits, 4);
  t -= 1.0f; // mantissa - 1 in [0, 1)
  const float log2x = e + log2Mantissa(t);
  float y = b * log2x;
  y = std::min(126.0f, std::max(-126.0f, y));
  const float fl = std::floor(y);
  const float f = y - fl;
  const float p = exp2Fraction(f);
  const uint32_t scale = static_cast<uint32_t>(static_cast<int32_t>(fl) + 127) << 23;
  float s;
  std::memcpy(&s, &scale, 4);
  return p * s;
}

inline __attribute__((always_inline)) float clip4(float v)
{
  return v > 4.0f ? 4.0f : (v < -4.0f ? -4.0f : v);
}

// Float vectors of four lanes (GCC / Clang vector extensions: SSE2 on any
// x86-64) and of eight (AVX2 + FMA, chosen at run time where the CPU has
// them), for the negative samples of one positive sample.
typedef float Float4 __attribute__((vector_size(16)));
typedef float Float8 __attribute__((vector_size(32)));

#define DUALEMBED_ALWAYS_INLINE inline __attribute__((always_inline))

/// fastPow on the lanes of V (x >= 0; same polynomials; floor(y) taken as
/// trunc(y + 127) - 127, y + 127 >= 1).
template <typename V>
DUALEMBED_ALWAYS_INLINE V fastPowV(V x, float b)
{
  using I = decltype(V{} < V{});
  I bits;
  std::memcpy(&bits, &x, sizeof(bits));
  const V e = __builtin_convertvector((bits >> 23) - 127, V);
  const I mantissa = (bits & 0x007FFFFF) | 0x3F800000;
  V t;
  std::memcpy(&t, &mantissa, sizeof(t));
  t -= 1.0f;
  const V log2x = e + log2Mantissa(t);
  V y = b * log2x;
  y = y > 126.0f ? V{} + 126.0f : y;
  y = y < -126.0f ? V{} - 126.0f : y;
  const I biased = __builtin_convertvector(y + 127.0f, I); // floor(y) + 127
  const V f = y - (__builtin_convertvector(biased, V) - 127.0f);
  const V p = exp2Fraction(f);
  const I scaleBits = biased << 23;
  V scale;
  std::memcpy(&scale, &scaleBits, sizeof(scale));
  return p * scale;
}

template <typename V>
DUALEMBED_ALWAYS_INLINE V clipV(V v)
{
  v = v > 4.0f ? V{} + 4.0f : v;
  return v < -4.0f ? V{} - 4.0f : v;
}

template <typename V>
DUALEMBED_ALWAYS_INLINE V gatherLanes(const float* const* p, int d)
{
  if constexpr (sizeof(V) == 16)
  {
    return V{ p[0][d], p[1][d], p[2][d], p[3][d] };
  }
  else
  {
    return V{ p[0][d], p[1][d], p[2][d], p[3][d], p[4][d], p[5][d], p[6][d], p[7][d] };
  }
}

/// Repulsive moves of `current` from the samples idx[0 .. lanes) (lanes <= W,
/// the lanes of V), added to acc. Vectors are built from registers
/// (element-wise stores followed by a vector load would stall on store
/// forwarding); unused lanes point at the current sample itself and are
/// masked out.
/// With `Pulled` (aligned UMAP), pull[d] (the alignment term at `current`) is
/// subtracted from each lane's move, which is then clipped again.
template <int DIM, typename V, bool Pulled = false>
DUALEMBED_ALWAYS_INLINE void negativeLanes(const float* embedding, const float* current,
  const int32_t* idx, int lanes, int32_t j, float a, float b, float twoGB, V* acc,
  const float* pull = nullptr)
{
  using I = decltype(V{} < V{});
  constexpr int W = static_cast<int>(sizeof(V) / sizeof(float));
  const float* p[W];
  I ids, lane;
  for (int l = 0; l < W; ++l)
  {
    p[l] = embedding + static_cast<int64_t>(idx[l]) * DIM;
    ids[l] = idx[l];
    lane[l] = l;
  }
  V diff[DIM];
  V nd2 = {};
  for (int d = 0; d < DIM; ++d)
  {
    diff[d] = current[d] - gatherLanes<V>(p, d);
    nd2 += diff[d] * diff[d];
  }
  // A sample at the same position is skipped only when it is the current
  // point itself (else it is pushed by 4, as umap-learn).
  const I valid = (lane < lanes) & ((nd2 > 0.0f) | (ids != j));
  const V pb = fastPowV(nd2, b);
  const V nc = nd2 > 0.0f ? twoGB / ((0.001f + nd2) * (a * pb + 1.0f)) : V{};
  for (int d = 0; d < DIM; ++d)
  {
    if constexpr (Pulled)
    {
      const V gd = clipV((nc > 0.0f ? clipV(nc * diff[d]) : V{} + 4.0f) - pull[d]);
      acc[d] += valid != 0 ? gd : V{};
    }
    else
    {
      const V gd = nc > 0.0f ? clipV(nc * diff[d]) : V{} + 4.0f;
      acc[d] += valid != 0 ? gd : V{};
    }
  }
}

/// Plain UMAP: no alignment term.
struct NoPull
{
  static constexpr bool active = false;
  template <int DIM>
  void at(int32_t, const float*, float*) const
  {
  }
};

/// Aligned UMAP: the alignment term of one step (see AlignedLayoutStep):
/// out = sum over the steps p of the window of
/// clip(coefficients[p][i] * (x - positions[p][i])), umap-learn's
/// lambda e^-(|offset|-1) w (x - y), each term clipped at 4.
struct WindowPull
{
  static constexpr bool active = true;
  const float* const* positions = nullptr;
  const float* const* coefficients = nullptr;
  int count = 0;
  template <int DIM>
  DUALEMBED_ALWAYS_INLINE void at(int32_t i, const float* x, float* out) const
  {
    for (int d = 0; d < DIM; ++d)
    {
      out[d] = 0.0f;
    }
    for (int p = 0; p < count; ++p)
    {
      const float c = coefficients[p][i];
      if (c == 0.0f)
      {
        continue; // clip(0 * (x - y)) = 0
      }
      const float* y = positions[p] + static_cast<int64_t>(i) * DIM;
      for (int d = 0; d < DIM; ++d)
      {
        out[d] += clip4(c * (x[d] - y[d]));
      }
    }
  }
};

/// The state of optimize_layout_euclidean shared by the blocks of edges.
struct LayoutState
{
  const int32_t* head;
  const int32_t* tail;
  const double* perSample;
  const double* perNegative;
  double* nextSample;
  double* nextNegative;
  float* embedding;
  const float* negativeSource;
  uint32_t n;
  float a, b, twoAB, twoGB, alpha;
  int negativeRate;
};

/// One epoch on the edges [e0, e1). Pull: NoPull (plain UMAP) or WindowPull
/// (aligned UMAP: the alignment term is evaluated once per edge for the head
/// at its position before the edge's moves, and for the tail likewise, and
/// subtracted from each of their moves, as umap-learn subtracts it from the
/// gradient of each move).
template <int DIM, typename V, typename Pull>
DUALEMBED_ALWAYS_INLINE void layoutBlockBody(
  const LayoutState& s, const Pull& pull, double en, int64_t e0, int64_t e1, Random& rng)
{
  constexpr int W = static_cast<int>(sizeof(V) / sizeof(float));
  const float a = s.a, b = s.b, twoAB = s.twoAB, twoGB = s.twoGB, alpha = s.alpha;
  for (int64_t e = e0; e < e1; ++e)
  {
    if (!(s.nextSample[e] <= en))
    {
      continue;
    }
    const int32_t j = s.head[e];
    const int32_t kk = s.tail[e];
    float* current = s.embedding + static_cast<int64_t>(j) * DIM;
    float* other = s.embedding + static_cast<int64_t>(kk) * DIM;
    if constexpr (W == 8)
    {
      // Up to 7 negatives: the positive sample takes the 8th lane (one
      // power and one division for all; the negatives are then evaluated
      // at the position of `current` before its attractive move instead of
      // after it, a step of at most 4 alpha).
      const int pending =
        s.negativeRate > 0 ? static_cast<int>((en - s.nextNegative[e]) / s.perNegative[e]) : 0;
      if (pending <= 7)
      {
        const float* p[8];
        for (int l = 0; l < 7; ++l)
        {
          const int32_t id = l < pending
            ? static_cast<int32_t>(((rng.next() >> 32) * static_cast<uint64_t>(s.n)) >> 32)
            : j;
          p[l] = s.negativeSource + static_cast<int64_t>(id) * DIM;
          if (l < pending && id == j)
          {
            p[l] = nullptr; // marks the current point itself
          }
        }
        int32_t selfMask[8];
        for (int l = 0; l < 7; ++l)
        {
          selfMask[l] = p[l] == nullptr ? -1 : 0;
          if (p[l] == nullptr)
          {
            p[l] = s.negativeSource + static_cast<int64_t>(j) * DIM;
          }
        }
        selfMask[7] = 0;
        p[7] = other;
        using I = decltype(V{} < V{});
        const I lane = { 0, 1, 2, 3, 4, 5, 6, 7 };
        I self;
        std::memcpy(&self, selfMask, sizeof(self));
        V vd[DIM];
        V nd2 = {};
        for (int d = 0; d < DIM; ++d)
        {
          vd[d] = current[d] - gatherLanes<V>(p, d);
          nd2 += vd[d] * vd[d];
        }
        const I isPositive = lane == 7;
        const V pb = fastPowV(nd2, b);
        const V numerator = isPositive != 0 ? V{} - twoAB * pb : V{} + twoGB;
        const V denominator = (isPositive != 0 ? nd2 : nd2 + 0.001f) * (a * pb + 1.0f);
        const V c = nd2 > 0.0f ? numerator / (nd2 > 0.0f ? denominator : V{} + 1.0f) : V{};
        // Negatives: a sample at the same position is skipped only when it
        // is the current point itself (else pushed by 4, as umap-learn).
        const I negValid = (lane < pending) & ((nd2 > 0.0f) | (self == 0));
        if constexpr (Pull::active)
        {
          float pullHead[DIM], pullTail[DIM], attractHead[DIM], attractTail[DIM], repel[DIM];
          pull.template at<DIM>(j, current, pullHead);
          pull.template at<DIM>(kk, other, pullTail);
          for (int d = 0; d < DIM; ++d)
          {
            const V clipped = clipV(c * vd[d]);
            attractHead[d] = clip4(clipped[7] - pullHead[d]) * alpha;
            attractTail[d] = clip4(clipped[7] + pullTail[d]) * alpha;
            const V gd = clipV((nd2 > 0.0f ? clipped : V{} + 4.0f) - pullHead[d]);
            const V acc = negValid != 0 ? gd : V{};
            repel[d] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + acc[6]);
          }
          for (int d = 0; d < DIM; ++d)
          {
            current[d] += attractHead[d] + repel[d] * alpha;
            other[d] -= attractTail[d];
          }
        }
        else
        {
          float attract[DIM], repel[DIM];
          for (int d = 0; d < DIM; ++d)
          {
            const V clipped = clipV(c * vd[d]);
            attract[d] = clipped[7] * alpha;
            const V gd = nd2 > 0.0f ? clipped : V{} + 4.0f;
            const V acc = negValid != 0 ? gd : V{};
            repel[d] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + acc[6]);
          }
          for (int d = 0; d < DIM; ++d)
          {
            current[d] += attract[d] + repel[d] * alpha;
            other[d] -= attract[d];
          }
        }
        s.nextSample[e] += s.perSample[e];
        s.nextNegative[e] += pending * s.perNegative[e];
        continue;
      }
    }
    float diff[DIM];
    float d2 = 0.0f;
    for (int d = 0; d < DIM; ++d)
    {
      diff[d] = current[d] - other[d];
      d2 += diff[d] * diff[d];
    }
    float coeff = 0.0f;
    if (d2 > 0.0f)
    {
      const float pb = fastPow(d2, b);
      coeff = -twoAB * pb / (d2 * (a * pb + 1.0f));
    }
    float pullHead[DIM] = {};
    if constexpr (Pull::active)
    {
      float pullTail[DIM];
      pull.template at<DIM>(j, current, pullHead);
      pull.template at<DIM>(kk, other, pullTail);
      for (int d = 0; d < DIM; ++d)
      {
        const float gd = clip4(coeff * diff[d]);
        current[d] += clip4(gd - pullHead[d]) * alpha;
        other[d] -= clip4(gd + pullTail[d]) * alpha;
      }
      pull.template at<DIM>(j, current, pullHead); // for the negative samples
    }
    else
    {
      for (int d = 0; d < DIM; ++d)
      {
        const float gd = clip4(coeff * diff[d]) * alpha;
        current[d] += gd;
        other[d] -= gd;
      }
    }
    s.nextSample[e] += s.perSample[e];
    const int negatives =
      s.negativeRate > 0 ? static_cast<int>((en - s.nextNegative[e]) / s.perNegative[e]) : 0;
    // Negative samples, all evaluated at the same position of `current`
    // and applied together (umap-learn applies each before the next:
    // the serial dependency made the loop latency-bound, 4x slower),
    // on vector lanes: with 4 lanes two independent groups at a time
    // (their latency chains overlap), with 8 lanes one (5 negatives, the
    // default rate, fill one group).
    constexpr int Step = 8;
    V acc[DIM] = {};
    for (int p = 0; p < negatives; p += Step)
    {
      const int lanes = std::min(Step, negatives - p);
      int32_t idx[8] = { j, j, j, j, j, j, j, j };
      for (int l = 0; l < lanes; ++l)
      {
        idx[l] = static_cast<int32_t>(((rng.next() >> 32) * static_cast<uint64_t>(s.n)) >> 32);
      }
      negativeLanes<DIM, V, Pull::active>(
        s.negativeSource, current, idx, lanes, j, a, b, twoGB, acc, pullHead);
      if (W == 4 && lanes > 4)
      {
        negativeLanes<DIM, V, Pull::active>(
          s.negativeSource, current, idx + 4, lanes - 4, j, a, b, twoGB, acc, pullHead);
      }
    }
    for (int d = 0; d < DIM; ++d)
    {
      float m;
      if constexpr (W == 4)
      {
        m = (acc[d][0] + acc[d][1]) + (acc[d][2] + acc[d][3]);
      }
      else
      {
        m = ((acc[d][0] + acc[d][1]) + (acc[d][2] + acc[d][3])) +
          ((acc[d][4] + acc[d][5]) + (acc[d][6] + acc[d][7]));
      }
      current[d] += m * alpha;
    }
    s.nextNegative[e] += negatives * s.perNegative[e];
  }
}

template <typename Pull>
using LayoutBlockFn = void (*)(const LayoutState&, const Pull&, double, int64_t, int64_t, Random&);

template <int DIM, typename Pull>
void layoutBlockSse(
  const LayoutState& s, const Pull& pull, double en, int64_t e0, int64_t e1, Random& rng)
{
  Random local = rng; // see optimizeLayout
  layoutBlockBody<DIM, Float4>(s, pull, en, e0, e1, local);
  rng = local;
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define DUALEMBED_HAVE_AVX2_LAYOUT 1
template <int DIM, typename Pull>
__attribute__((target("avx2,fma"))) void layoutBlockAvx2(
  const LayoutState& s, const Pull& pull, double en, int64_t e0, int64_t e1, Random& rng)
{
  Random local = rng; // see optimizeLayout
  layoutBlockBody<DIM, Float8>(s, pull, en, e0, e1, local);
  rng = local;
}
#endif

template <int DIM, typename Pull>
LayoutBlockFn<Pull> chooseLayoutBlock()
{
#ifdef DUALEMBED_HAVE_AVX2_LAYOUT
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
  {
    return &layoutBlockAvx2<DIM, Pull>;
  }
#endif
  return &layoutBlockSse<DIM, Pull>;
}

/// The edges of one graph and their sampling schedule (make_epochs_per_sample).
struct EdgeSchedule
{
  std::vector<int32_t> head;
  std::vector<double> perSample, perNegative, nextSample, nextNegative;
};

EdgeSchedule makeEdgeSchedule(const Graph& g, int epochs, int negativeRate)
{
  const int64_t edges = static_cast<int64_t>(g.cols.size());
  EdgeSchedule s;
  s.head.resize(edges);
  for (int64_t i = 0; i < g.n; ++i)
  {
    for (int64_t e = g.rowPtr[i]; e < g.rowPtr[i + 1]; ++e)
    {
      s.head[e] = static_cast<int32_t>(i);
    }
  }
  float maxW = 0.0f;
  for (float w : g.weights)
  {
    maxW = std::max(maxW, w);
  }
  s.perSample.resize(edges);
  s.perNegative.resize(edges);
  s.nextSample.resize(edges);
  s.nextNegative.resize(edges);
  for (int64_t e = 0; e < edges; ++e)
  {
    const double samples = static_cast<double>(epochs) * (g.weights[e] / maxW);
    s.perSample[e] = samples > 0 ? epochs / samples : -1.0;
    s.perNegative[e] = s.perSample[e] / negativeRate;
    s.nextSample[e] = s.perSample[e];
    s.nextNegative[e] = s.perNegative[e];
  }
  return s;
}

LayoutState makeLayoutState(EdgeSchedule& s, const Graph& g, float* embedding,
  const float* negativeSource, float a, float b, float gamma, float initialAlpha, int negativeRate)
{
  return LayoutState{ s.head.data(), g.cols.data(), s.perSample.data(), s.perNegative.data(),
    s.nextSample.data(), s.nextNegative.data(), embedding, negativeSource,
    static_cast<uint32_t>(g.n), a, b, 2.0f * a * b, 2.0f * gamma * b, initialAlpha, negativeRate };
}

/// The random stream of block c of a graph's edges; aligned UMAP's step m > 0
/// mixes m in (step 0 has the streams of plain UMAP).
Random blockStream(uint64_t seed, int64_t c, int64_t step)
{
  const uint64_t base =
    seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL * static_cast<uint64_t>(c + 1);
  return Random(step == 0 ? base : base ^ (0xD1B54A32D192ED03ULL * static_cast<uint64_t>(step)));
}

/// optimize_layout_euclidean, Hogwild: each epoch's edges are cut into
/// fixed blocks, each with its own random stream, handed out to ATen's
/// threads on demand (a busy machine or uneven blocks do not stall an epoch
/// on its slowest thread; on one thread the result depends only on the seed).
template <int DIM>
void optimizeLayout(float* embedding, const Graph& g, int epochs, float a, float b, float gamma,
  float initialAlpha, int negativeRate, uint64_t seed, const ProgressRange& progress)
{
  const int64_t edges = static_cast<int64_t>(g.cols.size());
  const int64_t n = g.n;
  EdgeSchedule schedule = makeEdgeSchedule(g, epochs, negativeRate);
  const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>(edges, 256));
  // The blocks' random streams lie side by side, two to a cache line: a block
  // works on a local copy, else two threads writing neighbouring streams
  // bounce that line between their cores on every draw (2 threads were then
  // slower than 1).
  std::vector<Random> rngs;
  for (int64_t c = 0; c < blocks; ++c)
  {
    rngs.push_back(blockStream(seed, c, 0));
  }
  const int threads =
    static_cast<int>(std::min<int64_t>(blocks, std::max(1, at::get_num_threads())));
  // With several threads the negative samples are read from a copy of the
  // embedding taken at the start of each epoch: the threads' random reads of
  // the live array hit cache lines the other threads had just written
  // (cache-line ping-pong between cores). The copy is only read during the
  // epoch, so its lines stay shared. Hogwild already reads positions that
  // other threads are moving; a repulsion computed from a position one epoch
  // old changes nothing measurable. One thread reads the live array.
  std::vector<float> snapshot(threads > 1 ? static_cast<size_t>(n * DIM) : 0);
  LayoutState state = makeLayoutState(schedule, g, embedding,
    threads > 1 ? snapshot.data() : embedding, a, b, gamma, initialAlpha, negativeRate);
  const LayoutBlockFn<NoPull> block = chooseLayoutBlock<DIM, NoPull>();
  const NoPull noPull;
  for (int epoch = 0; epoch < epochs; ++epoch)
  {
    const double en = static_cast<double>(epoch);
    if (threads > 1)
    {
      std::memcpy(snapshot.data(), embedding, snapshot.size() * sizeof(float));
    }
    std::atomic<int64_t> nextBlock(0);
    at::parallel_for(0, threads, 1, [&](int64_t, int64_t) {
      for (int64_t c = nextBlock++; c < blocks; c = nextBlock++)
      {
        block(state, noPull, en, edges * c / blocks, edges * (c + 1) / blocks, rngs[c]);
      }
    });
    state.alpha = initialAlpha * (1.0f - static_cast<float>(epoch) / static_cast<float>(epochs));
    progress.report(static_cast<double>(epoch + 1) / epochs);
  }
}

/// optimize_layout_aligned_euclidean: every step's edges cut into blocks as
/// above; an epoch visits block c of every step (the steps in an order
/// shuffled each epoch, as umap-learn shuffles its embedding order) before
/// block c + 1, so that the steps move together and each is pulled toward
/// the others' current positions. Hogwild on ATen's threads; deterministic
/// for a fixed seed on one thread.
template <int DIM>
void optimizeAligned(std::vector<AlignedLayoutStep>& steps, int epochs, float a, float b,
  float gamma, float initialAlpha, int negativeRate, uint64_t seed, const ProgressRange& progress)
{
  const int64_t count = static_cast<int64_t>(steps.size());
  std::vector<EdgeSchedule> schedules;
  std::vector<int64_t> edges(count), blocks(count);
  int64_t maxBlocks = 1;
  for (int64_t m = 0; m < count; ++m)
  {
    schedules.push_back(makeEdgeSchedule(*steps[m].graph, epochs, negativeRate));
    edges[m] = static_cast<int64_t>(steps[m].graph->cols.size());
    blocks[m] = std::max<int64_t>(1, std::min<int64_t>(edges[m], 256));
    maxBlocks = std::max(maxBlocks, blocks[m]);
  }
  const int threads =
    static_cast<int>(std::min<int64_t>(maxBlocks * count, std::max(1, at::get_num_threads())));
  std::vector<std::vector<Random>> rngs(count);
  std::vector<std::vector<float>> snapshots(count);
  std::vector<LayoutState> states;
  std::vector<WindowPull> pulls(count);
  for (int64_t m = 0; m < count; ++m)
  {
    for (int64_t c = 0; c < blocks[m]; ++c)
    {
      rngs[m].push_back(blockStream(seed, c, m));
    }
    const Graph& g = *steps[m].graph;
    if (threads > 1)
    {
      snapshots[m].resize(static_cast<size_t>(g.n * DIM));
    }
    states.push_back(makeLayoutState(schedules[m], g, steps[m].embedding,
      threads > 1 ? snapshots[m].data() : steps[m].embedding, a, b, gamma, initialAlpha,
      negativeRate));
    pulls[m].positions = steps[m].positions.data();
    pulls[m].coefficients = steps[m].coefficients.data();
    pulls[m].count = static_cast<int>(steps[m].positions.size());
  }
  const LayoutBlockFn<WindowPull> block = chooseLayoutBlock<DIM, WindowPull>();
  Random orderRng(seed ^ 0x3C6EF372FE94F82BULL);
  std::vector<int64_t> order(count);
  std::vector<std::pair<int64_t, int64_t>> tasks; // (step, block)
  for (int epoch = 0; epoch < epochs; ++epoch)
  {
    const double en = static_cast<double>(epoch);
    std::iota(order.begin(), order.end(), 0);
    for (int64_t i = count - 1; i > 0; --i)
    {
      std::swap(order[i], order[static_cast<int64_t>(orderRng.uniform() * (i + 1))]);
    }
    tasks.clear();
    for (int64_t c = 0; c < maxBlocks; ++c)
    {
      for (int64_t m : order)
      {
        if (c < blocks[m])
        {
          tasks.emplace_back(m, c);
        }
      }
    }
    for (int64_t m = 0; m < count; ++m)
    {
      if (threads > 1)
      {
        std::memcpy(snapshots[m].data(), steps[m].embedding, snapshots[m].size() * sizeof(float));
      }
    }
    std::atomic<int64_t> next(0);
    const int64_t taskCount = static_cast<int64_t>(tasks.size());
    at::parallel_for(0, threads, 1, [&](int64_t, int64_t) {
      for (int64_t t = next++; t < taskCount; t = next++)
      {
        const int64_t m = tasks[t].first, c = tasks[t].second;
        block(states[m], pulls[m], en, edges[m] * c / blocks[m], edges[m] * (c + 1) / blocks[m],
          rngs[m][c]);
      }
    });
    const float alpha =
      initialAlpha * (1.0f - static_cast<float>(epoch) / static_cast<float>(epochs));
    for (auto& st : states)
    {
      st.alpha = alpha;
    }
    progress.report(static_cast<double>(epoch + 1) / epochs);
  }
}
} // namespace

UmapGraph umapFuzzyGraph(const KnnResult& knn, const ProjectionOptions& options)
{
  return fuzzySimplicialSet(knn, options);
}

void pruneUmapGraph(UmapGraph& graph, int epochs)
{
  pruneGraph(graph, epochs);
}

int umapGraphComponents(const UmapGraph& graph)
{
  return connectedComponents(graph);
}

int umapDefaultEpochs(int64_t n)
{
  return n <= 10000 ? 500 : 200;
}

void optimizeUmapLayout(float* embedding, int dims, const UmapGraph& g, int epochs, float a,
  float b, float gamma, float initialAlpha, int negativeRate, uint64_t seed,
  const ProgressRange& progress)
{
  if (dims == 2)
  {
    optimizeLayout<2>(
      embedding, g, epochs, a, b, gamma, initialAlpha, negativeRate, seed, progress);
  }
  else
  {
    optimizeLayout<3>(
      embedding, g, epochs, a, b, gamma, initialAlpha, negativeRate, seed, progress);
  }
}

void optimizeAlignedUmapLayouts(std::vector<AlignedLayoutStep>& steps, int dims, int epochs,
  float a, float b, float gamma, float initialAlpha, int negativeRate, uint64_t seed,
  const ProgressRange& progress)
{
  if (dims == 2)
  {
    optimizeAligned<2>(steps, epochs, a, b, gamma, initialAlpha, negativeRate, seed, progress);
  }
  else
  {
    optimizeAligned<3>(steps, epochs, a, b, gamma, initialAlpha, negativeRate, seed, progress);
  }
}

std::vector<float> umapInitialLayout(const UmapGraph& g, const ProjectionOptions& o,
  const InitProvider& pcaInit, ProjectionResult& diag, const ProgressRange& progress)
{
  const int64_t n = g.n;
  const int dims = o.dimensions;
  std::vector<double> init(static_cast<size_t>(n * dims));
  Random rng(o.seed);
  ProjectionInit choice = o.init == ProjectionInit::Auto ? ProjectionInit::Spectral : o.init;
  std::ostringstream used;
  if (choice == ProjectionInit::Spectral && diag.graphComponents > 1)
  {
    used << "pca (the graph has " << diag.graphComponents << " connected components)";
    choice = ProjectionInit::Pca;
  }
  else if (choice == ProjectionInit::Spectral && n <= dims + 1)
  {
    used << "random (too few samples for a spectral layout)";
    choice = ProjectionInit::Random;
  }
  if (choice == ProjectionInit::Spectral)
  {
    double residual = 0.0;
    int steps = 0;
    init = spectralLayout(g, dims, o.seed, residual, steps, progress);
    used << "spectral (Lanczos " << steps << " steps, residual " << residual << ")";
  }
  else if (choice == ProjectionInit::Pca)
  {
    const std::vector<float> p = pcaInit();
    std::copy(p.begin(), p.end(), init.begin());
    if (used.str().empty())
    {
      used << "pca";
    }
  }
  else
  {
    for (auto& v : init)
    {
      v = -10.0 + 20.0 * rng.uniform();
    }
    if (used.str().empty())
    {
      used << "random";
    }
  }
  diag.initUsed = used.str();
  std::vector<float> embedding(static_cast<size_t>(n * dims));
  if (choice != ProjectionInit::Random)
  {
    double maxAbs = 0.0;
    for (double v : init)
    {
      maxAbs = std::max(maxAbs, std::fabs(v));
    }
    const double expansion = maxAbs > 0 ? 10.0 / maxAbs : 1.0;
    for (size_t i = 0; i < init.size(); ++i)
    {
      init[i] = static_cast<float>(init[i] * expansion) + static_cast<float>(1e-4 * rng.normal());
    }
  }
  for (int c = 0; c < dims; ++c)
  {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (int64_t i = 0; i < n; ++i)
    {
      lo = std::min(lo, init[i * dims + c]);
      hi = std::max(hi, init[i * dims + c]);
    }
    const double range = hi > lo ? hi - lo : 1.0;
    for (int64_t i = 0; i < n; ++i)
    {
      embedding[i * dims + c] = static_cast<float>(10.0 * (init[i * dims + c] - lo) / range);
    }
  }
  progress.report(1.0);
  return embedding;
}

std::vector<float> runUmap(const KnnResult& knn, const ProjectionOptions& o,
  const InitProvider& pcaInit, ProjectionResult& diag, const ProgressRange& progress)
{
  // Sub-stages of the layout, appended to the stage timings.
  using Clock = std::chrono::steady_clock;
  auto stageStart = Clock::now();
  auto endStage = [&](const char* name) {
    const auto now = Clock::now();
    diag.stageSeconds.emplace_back(name, std::chrono::duration<double>(now - stageStart).count());
    stageStart = now;
  };
  const int64_t n = knn.rows;
  const int dims = o.dimensions;
  const int defaultEpochs = umapDefaultEpochs(n);
  const int epochs = o.epochs > 0 ? o.epochs : defaultEpochs;
  Graph g = fuzzySimplicialSet(knn, o);
  pruneGraph(g, epochs > 10 ? epochs : defaultEpochs);
  diag.graphEdges = static_cast<int64_t>(g.cols.size());
  diag.graphComponents = connectedComponents(g);
  diag.epochs = epochs;
  progress.report(0.02);
  endStage("umap_graph");

  std::vector<float> embedding =
    umapInitialLayout(g, o, pcaInit, diag, ProgressRange(progress.sub(), 0.02, 0.1));
  endStage("umap_init");

  const auto ab = findAbParams(o.spread, o.minDist);
  diag.a = ab.first;
  diag.b = ab.second;
  const double lr = o.learningRate > 0 ? o.learningRate : 1.0;
  diag.learningRate = lr;
  const ProgressRange sgd(progress.sub(), 0.1, 1.0);
  optimizeUmapLayout(embedding.data(), dims, g, epochs, static_cast<float>(ab.first),
    static_cast<float>(ab.second), static_cast<float>(o.repulsionStrength), static_cast<float>(lr),
    o.negativeSampleRate, o.seed, sgd);
  endStage("umap_sgd");
  return embedding;
}

} // namespace projection
} // namespace engine
} // namespace dualembed
