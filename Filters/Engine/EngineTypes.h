// What the engine's parts take and give: a view of a float matrix (the
// samples' rows) and a progress callback that can abort long work.
#ifndef DualEmbed_Engine_EngineTypes_h
#define DualEmbed_Engine_EngineTypes_h

#include <cstdint>
#include <functional>

namespace dualembed
{
namespace engine
{
/// Read-only view of a row-major float32 matrix; the data is not owned.
struct FeatureMatrix
{
  const float* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;

  const float* row(int64_t i) const { return data + i * cols; }
};

/// Called with the fraction done; returns false to abort (then engine::Aborted is thrown).
using ProgressCallback = std::function<bool(double)>;

} // namespace engine
} // namespace dualembed

#endif
