// Centred PCA through the covariance (or Gram) eigendecomposition (LibTorch).
#include "ProjectionInternal.h"

#include "FloatGemm.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <string>

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

} // namespace projection
} // namespace engine
} // namespace dualembed
