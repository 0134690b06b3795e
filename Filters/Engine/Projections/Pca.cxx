// Centred PCA through the covariance (or Gram) eigendecomposition (LibTorch),
// also of rows spread over the parts of a distributed run.
#include "ProjectionInternal.h"

#include "FloatGemm.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace dualembed
{
namespace engine
{
namespace projection
{

double Random::normal()
{
  double u1 = uniform();
  while (u1 <= 0.0)
  {
    u1 = uniform();
  }
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

namespace
{

// C = op(A) B of two contiguous float32 matrices, through floatGemm.
at::Tensor floatProduct(const at::Tensor& a, bool transposeA, const at::Tensor& b)
{
  const int64_t m = transposeA ? a.size(1) : a.size(0), k = b.size(0), n = b.size(1);
  at::Tensor c = at::empty({ m, n }, at::kFloat);
  floatGemm(transposeA, false, m, n, k, a.data_ptr<float>(), a.size(1), b.data_ptr<float>(), n,
    c.data_ptr<float>());
  return c;
}

} // namespace

PcaResult computePca(const FeatureMatrix& points, int components)
{
  const int64_t n = points.rows, d = points.cols;
  if (components < 1 || components > std::min(n, d))
  {
    throw ModelError("PCA needs 1 to min(rows, columns) = " + std::to_string(std::min(n, d)) +
      " components; " + std::to_string(components) + " were asked for.");
  }
  at::NoGradGuard noGrad;
  // Small problems in double; larger ones (e.g. 3000 x 784) with a float32
  // product of the centred data (the eigendecomposition is in double).
  const bool useDouble = n * d <= 2000000;
  const auto type = useDouble ? at::kDouble : at::kFloat;
  const at::Tensor input = at::from_blob(const_cast<float*>(points.data), { n, d }, at::kFloat);
  const at::Tensor mean = input.sum(0, /*keepdim=*/true, at::kDouble) / static_cast<double>(n);
  // Centred copy, in the working precision only (no double copy of a large input).
  at::Tensor x = useDouble ? input.to(at::kDouble) - mean : input - mean.to(at::kFloat);

  at::Tensor vectors; // d x components (covariance eigenvectors, descending)
  at::Tensor values;  // components
  at::Tensor coords;  // n x components
  double total = 0.0;
  const double denom = static_cast<double>(std::max<int64_t>(n - 1, 1));
  if (d <= n)
  {
    at::Tensor cov =
      (useDouble ? at::matmul(x.t(), x) : floatProduct(x, true, x)).to(at::kDouble) / denom;
    total = cov.diagonal().sum().item<double>();
    auto eig = at::linalg_eigh(cov);
    values = std::get<0>(eig).flip(0).slice(0, 0, components);
    vectors = std::get<1>(eig).flip(1).slice(1, 0, components).contiguous();
    coords =
      (useDouble ? at::matmul(x, vectors) : floatProduct(x, false, vectors.to(type).contiguous()))
        .to(at::kDouble);
  }
  else
  {
    at::Tensor gram = at::matmul(x, x.t()).to(at::kDouble);
    total = gram.diagonal().sum().item<double>() / denom;
    auto eig = at::linalg_eigh(gram);
    at::Tensor lambda = std::get<0>(eig).flip(0).slice(0, 0, components).clamp_min(0.0);
    at::Tensor u = std::get<1>(eig).flip(1).slice(1, 0, components);
    values = lambda / denom;
    coords = u * lambda.sqrt().unsqueeze(0);
  }
  coords = coords.contiguous();
  // svd_flip (u-based): the entry of largest magnitude of each column > 0.
  at::Tensor idx = coords.abs().argmax(0);
  at::Tensor signs = coords.gather(0, idx.unsqueeze(0)).sign();
  signs = at::where(signs == 0, at::ones_like(signs), signs);
  coords = (coords * signs).to(at::kFloat).contiguous();

  PcaResult result;
  result.rows = n;
  result.components = components;
  result.coordinates.assign(coords.data_ptr<float>(), coords.data_ptr<float>() + n * components);
  values = values.contiguous();
  result.explainedVariance.assign(
    values.data_ptr<double>(), values.data_ptr<double>() + components);
  result.totalVariance = total;
  return result;
}

namespace
{
/// Rows per block of the distributed PCA: a centred float32 copy of 65 536 x
/// 768 is 200 MB, not a second copy of a part's rows.
constexpr int64_t kPcaBlockRows = 65536;

/// `values` summed over every part, on part 0 (the others: empty).
std::vector<double> sumOnFirstPart(const PartExchange& parts, const std::vector<double>& values)
{
  const std::vector<double> all = parts.gather(values, 0);
  std::vector<double> sum;
  if (parts.part() == 0)
  {
    sum.assign(values.size(), 0.0);
    for (std::size_t at = 0; at < all.size(); ++at)
    {
      sum[at % values.size()] += all[at];
    }
  }
  return sum;
}

std::vector<double> valuesOf(const at::Tensor& tensor)
{
  const at::Tensor dense = tensor.to(at::kDouble).contiguous();
  return std::vector<double>(dense.data_ptr<double>(), dense.data_ptr<double>() + dense.numel());
}
} // namespace

std::vector<float> pcaInitFromParts(
  const FeatureMatrix& localRows, int dims, uint64_t seed, const PartExchange& parts)
{
  const int64_t n = parts.totalRows(), d = localRows.cols, m = localRows.rows;
  const int available = static_cast<int>(std::min<int64_t>({ dims, n, d }));
  at::NoGradGuard noGrad;
  const at::Tensor input = at::from_blob(const_cast<float*>(localRows.data), { m, d }, at::kFloat);
  const auto centredBlocks = [&](const at::Tensor& mean,
                               const std::function<void(int64_t, const at::Tensor&)>& use) {
    for (int64_t begin = 0; begin < m; begin += kPcaBlockRows)
    {
      const int64_t end = std::min(m, begin + kPcaBlockRows);
      use(begin, (input.slice(0, begin, end) - mean).contiguous());
    }
  };

  // The mean of all rows, on every part.
  std::vector<double> mean(static_cast<std::size_t>(d), 0.0);
  runAgreed(parts, [&] {
    if (m > 0)
    {
      mean = valuesOf(input.sum(0, /*keepdim=*/false, at::kDouble));
    }
  });
  mean = sumOnFirstPart(parts, mean);
  for (double& value : mean)
  {
    value /= static_cast<double>(n);
  }
  parts.broadcast(mean, 0);
  const at::Tensor meanRow =
    at::from_blob(mean.data(), { 1, d }, at::kDouble).to(at::kFloat).contiguous();

  // The covariance: each part's centred products, summed on part 0, whose
  // eigenvectors (the top `available`) every part then projects its rows on.
  std::vector<double> share;
  runAgreed(parts, [&] {
    at::Tensor sum = at::zeros({ d, d }, at::kDouble);
    centredBlocks(meanRow,
      [&](int64_t, const at::Tensor& x) { sum += floatProduct(x, true, x).to(at::kDouble); });
    share = valuesOf(sum);
  });
  const std::vector<double> covariance = sumOnFirstPart(parts, share);
  std::vector<double> vectors;
  runAgreed(parts, [&] {
    if (parts.part() == 0)
    {
      const at::Tensor cov =
        at::from_blob(const_cast<double*>(covariance.data()), { d, d }, at::kDouble) /
        static_cast<double>(std::max<int64_t>(n - 1, 1));
      vectors = valuesOf(std::get<1>(at::linalg_eigh(cov)).flip(1).slice(1, 0, available));
    }
  });
  parts.broadcast(vectors, 0);
  const at::Tensor components =
    at::from_blob(vectors.data(), { d, available }, at::kDouble).to(at::kFloat).contiguous();
  std::vector<float> local(static_cast<std::size_t>(m * available));
  runAgreed(parts, [&] {
    centredBlocks(meanRow, [&](int64_t begin, const at::Tensor& x) {
      const at::Tensor coordinates = floatProduct(x, false, components);
      std::copy(coordinates.data_ptr<float>(), coordinates.data_ptr<float>() + coordinates.numel(),
        local.begin() + begin * available);
    });
  });
  std::vector<float> coordinates = gatherRows(parts, local, available, 0);
  if (parts.part() != 0)
  {
    return {};
  }
  // svd_flip as computePca: the entry of largest magnitude of each column > 0.
  for (int c = 0; c < available; ++c)
  {
    float largest = 0.0f;
    for (int64_t i = 0; i < n; ++i)
    {
      const float value = coordinates[static_cast<std::size_t>(i * available + c)];
      largest = std::fabs(value) > std::fabs(largest) ? value : largest;
    }
    if (largest < 0.0f)
    {
      for (int64_t i = 0; i < n; ++i)
      {
        coordinates[static_cast<std::size_t>(i * available + c)] *= -1.0f;
      }
    }
  }
  return initFromPca(coordinates, available, dims, seed);
}

} // namespace projection
} // namespace engine
} // namespace dualembed
