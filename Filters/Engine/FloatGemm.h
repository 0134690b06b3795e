// The engine's large float32 matrix products (exact kNN distance tiles, PCA
// covariance): oneDNN's sgemm when the engine is built with it, else ATen's
// (the BLAS LibTorch was built with). oneDNN's JIT picks its kernels from the
// CPU flags, where OpenBLAS 0.3.21 falls back to SSE3 kernels on CPUs it does
// not know (5-8x slower). Threads: both use the OpenMP pool that
// at::set_num_threads sizes.
#ifndef DualEmbed_Engine_FloatGemm_h
#define DualEmbed_Engine_FloatGemm_h

#include <cstdint>

namespace dualembed
{
namespace engine
{

/// Row-major C (m x n, leading dimension n) = op(A) op(B), inner dimension k;
/// op(X) = X^T when transposed. lda / ldb: row lengths of A and B as stored.
void floatGemm(bool transposeA, bool transposeB, int64_t m, int64_t n, int64_t k, const float* a,
  int64_t lda, const float* b, int64_t ldb, float* c);

/// "oneDNN sgemm" or "ATen mm": what floatGemm uses in this build.
const char* floatGemmName();

} // namespace engine
} // namespace dualembed

#endif
