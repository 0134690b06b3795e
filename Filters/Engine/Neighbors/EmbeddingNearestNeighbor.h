// Nearest other sample by angle, with Annoy's "angular" distance (SPEC §2.4),
// no VTK.
//
// - nn_id: index of the nearest other sample by cosine distance (the same
//   order as Annoy's angular distance on normalised vectors); ties -> the
//   smaller index; exact duplicates are at distance 0.
// - nn_distance = sqrt(max(0, 2 - 2 cos(u, v))) in [0, 2]; when either
//   vector has zero norm the distance is sqrt(2) (Annoy's convention). A
//   zero vector's nn_id is another zero vector if there is one, else the
//   sample with the smallest index.
// - nn_flag = nn_distance < threshold (1) or not (0).
// - N = 1: nn_id = -1, nn_distance = NaN, nn_flag = 0. N = 0: empty.
// Exact by default; Method Flann uses the approximate index (its recall is
// measured by the tests).
#ifndef DualEmbed_Engine_EmbeddingNearestNeighbor_h
#define DualEmbed_Engine_EmbeddingNearestNeighbor_h

#include "NearestNeighbors.h"
#include "QueryRows.h"

#include <cstdint>
#include <vector>

namespace dualembed
{
namespace engine
{

struct NearestNeighborOptions
{
  double threshold = 0.3;
  NeighborSearch neighbors; // the method (auto: exact up to 200 000 rows) and its report
  ProgressCallback progress;
  QueryRows queries; // rows to answer (all by default); nn_id indexes all rows
};

struct NearestNeighborResult
{
  std::vector<int64_t> id;     // nn_id_<X>, one per query row
  std::vector<float> distance; // nn_distance_<X>
  std::vector<uint8_t> flag;   // nn_flag_<X>
};

/// Throws ModelError for rows with NaN/Inf (naming their count) and a
/// non-finite threshold; Aborted when the progress callback returns false.
NearestNeighborResult computeEmbeddingNearestNeighbor(
  const FeatureMatrix& features, const NearestNeighborOptions& options = NearestNeighborOptions());

} // namespace engine
} // namespace dualembed

#endif
