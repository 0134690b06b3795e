#include "FloatGemm.h"

#include <ATen/ATen.h>
#ifdef DUALEMBED_WITH_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

namespace dualembed
{
namespace engine
{

void floatGemm(bool transposeA, bool transposeB, int64_t m, int64_t n, int64_t k, const float* a,
  int64_t lda, const float* b, int64_t ldb, float* c)
{
#ifdef DUALEMBED_WITH_DNNL
  if (dnnl_sgemm(transposeA ? 'T' : 'N', transposeB ? 'T' : 'N', m, n, k, 1.0f, a, lda, b, ldb,
        0.0f, c, n) == dnnl_success)
  {
    return;
  }
#endif
  // op(X) viewed through strides: X as stored is rows x ld.
  auto view = [](const float* x, bool transposed, int64_t rows, int64_t cols, int64_t ld) {
    const at::Tensor stored = at::from_blob(const_cast<float*>(x),
      { transposed ? cols : rows, transposed ? rows : cols }, { ld, 1 }, at::kFloat);
    return transposed ? stored.t() : stored;
  };
  at::Tensor out = at::from_blob(c, { m, n }, at::kFloat);
  at::mm_out(out, view(a, transposeA, m, k, lda), view(b, transposeB, k, n, ldb));
}

const char* floatGemmName()
{
#ifdef DUALEMBED_WITH_DNNL
  return "oneDNN sgemm";
#else
  return "ATen mm";
#endif
}

} // namespace engine
} // namespace dualembed
