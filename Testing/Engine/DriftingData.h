// A synthetic time series of features for the aligned-projection tests and
// benchmark: the same samples at T time steps, each class's cluster moving
// along its own direction while every sample jitters, so that the
// neighbourhoods change gradually (as embeddings do over fine-tuning).
#ifndef DualEmbed_Testing_DriftingData_h
#define DualEmbed_Testing_DriftingData_h

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace dualembed
{
namespace testdata
{

/// Step t (0-based) of `steps`: x_t(i) = x(i) + t * shift * v_label(i) +
/// noise * g_t(i), with x the base rows (n x d, row-major), v_c a random unit
/// direction per class and g_t(i) independent N(0, 1) vectors. Labels in
/// [0, 255]. Deterministic for a seed (std::mt19937_64, libstdc++'s normal
/// distribution).
inline std::vector<std::vector<float>> driftingSteps(const float* base, int64_t n, int64_t d,
  const std::vector<int>& labels, int steps, double shift, double noise, uint64_t seed)
{
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  int classes = 0;
  for (int l : labels)
  {
    classes = std::max(classes, l + 1);
  }
  std::vector<double> directions(static_cast<size_t>(classes * d));
  for (int c = 0; c < classes; ++c)
  {
    double norm = 0.0;
    for (int64_t j = 0; j < d; ++j)
    {
      directions[c * d + j] = normal(rng);
      norm += directions[c * d + j] * directions[c * d + j];
    }
    for (int64_t j = 0; j < d; ++j)
    {
      directions[c * d + j] /= std::sqrt(norm);
    }
  }
  std::vector<std::vector<float>> out(steps);
  for (int t = 0; t < steps; ++t)
  {
    out[t].resize(static_cast<size_t>(n * d));
    for (int64_t i = 0; i < n; ++i)
    {
      const double* v = directions.data() + labels[i] * d;
      for (int64_t j = 0; j < d; ++j)
      {
        out[t][i * d + j] =
          static_cast<float>(base[i * d + j] + t * shift * v[j] + noise * normal(rng));
      }
    }
  }
  return out;
}

} // namespace testdata
} // namespace dualembed

#endif
