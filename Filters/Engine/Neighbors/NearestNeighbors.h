// Exact and approximate k-nearest neighbours (no VTK), shared by the outlier
// scores, the nearest-neighbour filter, the embedding change and the
// projections (UMAP / t-SNE).
//
// Conventions (all functions of this header):
// - Input: a contiguous row-major float32 matrix (rows = samples).
// - Queries are a row range [queryBegin, queryEnd) of the same matrix and
//   the references are all its rows, so that an MPI rank can compute its
//   own rows against the whole set. A query never has itself (by index) as a
//   neighbour; an exact duplicate of it is a neighbour at distance 0.
// - Distances: Euclidean = sqrt(sum (a-b)^2); Cosine = 1 - cos(a, b),
//   clamped to [0, 2]. A zero vector is at cosine distance 1 from every
//   other vector (as in scikit-learn), except from an identical (zero)
//   vector: identical rows are always at distance 0 (as after cleanlab's
//   duplicate correction).
// - Each row of a result holds min(k, rows - 1) neighbours sorted by
//   ascending distance, ties broken by the smaller index. The returned
//   distances are computed in double precision from the vectors themselves
//   (never from |a|^2 + |b|^2 - 2 a.b), then stored as float.
// - Exact method: tiled float32 matrix products (oneDNN's sgemm when the
//   engine is built with it, else LibTorch / BLAS) select candidates with a
//   bounded top-k per row (a float32 pre-filter against the row's current
//   k-th key skips most of the heap work); the candidates are re-ranked in
//   double, and a rigorous float32 rounding bound proves that no
//   non-candidate can be closer (rows where it cannot be proven are
//   recomputed by brute force in double). When the queries are all rows,
//   only the tiles on and right of the diagonal are computed and each
//   product serves both rows (half the work); a partial row range computes
//   its rows against all. Memory is O(rows * k + tile^2) (tiles of up to
//   4096 x 4096 float32), never O(rows^2). Threads: ATen's intra-op pool
//   (at::set_num_threads, set by the caller; oneDNN uses the same OpenMP
//   pool).
// - Approximate methods (ApproximateNeighbors.h): an inverted file (IVF:
//   k-means lists, each query reads its nearest lists, scored by matrix
//   products) or FLANN randomized kd-trees, on the vectors or, for cosine, on
//   the unit-normalised vectors; their candidates are re-ranked with the
//   exact distances above, so only the recall is approximate
//   (estimateRecall() measures it). FLANN is not available when the engine
//   is built without it (isFlannAvailable() is false; computeKnn then throws
//   a ModelError).
// - Progress: the callback gets a fraction in [0, 1], at least every 2 %,
//   always from the calling thread. If it returns false the computation
//   stops and engine::Aborted (EngineError.h) is thrown.
// - Rows with NaN or Inf values are refused with a ModelError that names
//   their count.
#ifndef DualEmbed_Engine_NearestNeighbors_h
#define DualEmbed_Engine_NearestNeighbors_h

#include "EngineTypes.h" // FeatureMatrix, ProgressCallback

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dualembed
{
namespace engine
{

class NeighborGraphs;
class PartExchange;

enum class DistanceMetric
{
  Cosine,
  Euclidean
};

/// Metric property of the filters: Auto = cosine when the dimension is
/// larger than 3, else euclidean (cleanlab's choice).
enum class MetricChoice
{
  Auto,
  Cosine,
  Euclidean
};

/// The values of the filters' Method property.
enum class KnnMethod
{
  Exact,
  Flann,
  Ivf,
  Auto // exact up to kExactNeighborRows rows, IVF above
};

/// Auto's limit, where the exact search (O(rows^2) products) stops being
/// affordable: 200 000 x 768 takes about as long exactly as IVF takes for
/// 10^6 (ARCHITECTURE.md, "Neighbours at scale").
constexpr int64_t kExactNeighborRows = 200000;
/// The method `method` runs for `rows` rows (Auto resolved).
KnnMethod resolveKnnMethod(KnnMethod method, int64_t rows);
const char* knnMethodName(KnnMethod method);

/// Randomized kd-tree forest parameters of the FLANN method. The defaults
/// gave recall@10 = 0.974 (cosine) / 0.987 (euclidean) on 3000 Fashion-MNIST
/// images (784-D); 8 trees / 512 checks gave 0.90 / 0.94, 4 / 128 only
/// 0.57 / 0.70. kd-trees are weak in high dimension: on all 70 000 images
/// the recall@10 fell to 0.784 and FLANN took 57 s against 27 s for the
/// exact method (oneDNN GEMM; 2 cores), so exact is the better choice up to at least
/// that size; FLANN is kept for low dimensions and larger sets.
struct FlannParameters
{
  int trees = 8;     // number of randomized kd-trees (4..16 sensible)
  int checks = 1024; // leaves visited per query: higher = better recall, slower
  // Seed of the split choices. Debian's FLANN (1.9.2) shuffles each tree's
  // rows with std::random_device, so two FLANN searches of the same rows may
  // find different candidates (their distances stay exact): not reproducible.
  unsigned int seed = 0;
};

/// Inverted-file parameters of the IVF method.
struct IvfParameters
{
  int lists = 0;                // k-means lists; 0 = automatic: 2 sqrt(rows), at most rows / 64
                                // (then crowded lists are cut: KnnResult::lists has the count)
  int probes = 16;              // lists each query reads (its nearest): higher = better recall
  int trainingIterations = 8;   // Lloyd iterations of the k-means
  int trainingRowsPerList = 32; // sample rows per list the k-means learns from
  unsigned int seed = 0;        // seed of the sample (reproducible results)
};

/// How a computation's neighbour searches run: the method and its
/// parameters, and what an approximate search says about itself.
struct NeighborSearch
{
  KnnMethod method = KnnMethod::Auto;
  FlannParameters flann;
  IvfParameters ivf;
  /// Rows on which an approximate search measures its recall@k against the
  /// exact neighbours (estimateRecall; 0: not measured).
  int recallSamples = 256;
  /// Receives one sentence per approximate search: the method, its
  /// parameters and the measured recall (the filters' output window).
  std::function<void(const std::string&)> report;
  /// Where graphs are shared (NeighborGraphs.h; null: every search runs).
  /// The filters share one store per process, so that the filters of a
  /// pipeline that search the same embedding build its graph once.
  std::shared_ptr<NeighborGraphs> graphs;
  /// A distributed run (DistributedNeighbors.h): the matrix holds this
  /// part's rows only, the queries are all of them, and the neighbours are
  /// searched among the rows of every part (IVF on each part's own rows,
  /// whatever `method` says; global indices). Null: the matrix is all rows.
  std::shared_ptr<const PartExchange> parts;
};

/// The rows a search looks among: all parts' rows in a distributed run,
/// else the matrix's.
int64_t searchedRows(const FeatureMatrix& points, const NeighborSearch& search);

struct KnnOptions
{
  int k = 10;
  DistanceMetric metric = DistanceMetric::Euclidean;
  NeighborSearch search;
  /// Reference rows per tile of the exact method; 0 = automatic (tiles of
  /// up to 4096 x 4096 float32 scores, 64 MB).
  int64_t blockRows = 0;
  ProgressCallback progress;
  /// Empty, or one finite value per column: the search is then of the rows
  /// minus this centre, exactly as of a centred copy (each value
  /// float(x - center), distances from those floats) but without one: the
  /// approximate and distributed searches centre each row as they read it,
  /// the exact method centres a copy. Data Issues' uniqueness searches the
  /// embedding centred, at 10^6 x 768 a copy of 3 GB saved.
  std::vector<double> center;
};

struct KnnResult
{
  /// rows x k, row-major: neighbour indices into the reference matrix.
  std::vector<int64_t> indices;
  /// rows x k, row-major: distances, ascending (ties: smaller index first).
  std::vector<float> distances;
  /// Neighbours per row: min(requested k, number of samples - 1).
  int k = 0;
  /// First query row (queryBegin) and number of query rows.
  int64_t firstRow = 0;
  int64_t rows = 0;
  /// Diagnostics of the exact method: rows whose candidates could not be
  /// proven complete by the rounding bound and were recomputed by brute
  /// force in double.
  int64_t bruteForceRows = 0;
  /// The method that ran (Auto resolved) and, for an approximate one, the
  /// recall@k measured on NeighborSearch::recallSamples rows (-1: not measured).
  KnnMethod method = KnnMethod::Exact;
  double recall = -1.0;
  /// IVF: the lists of its index (crowded k-means lists are cut, so there
  /// may be more than ivfListCount()); 0 for the other methods.
  int64_t lists = 0;
};

/// k nearest neighbours of the rows [queryBegin, queryEnd) of `points`
/// among all rows of `points`, self excluded (see the conventions above).
/// Throws ModelError on invalid input (NaN/Inf rows, k < 1, bad range) and
/// Aborted when the progress callback returns false.
KnnResult computeKnn(
  const FeatureMatrix& points, int64_t queryBegin, int64_t queryEnd, const KnnOptions& options);

/// Same for all rows.
KnnResult computeKnn(const FeatureMatrix& points, const KnnOptions& options);

/// recall@k of an approximate result against the exact one: the mean over
/// rows of |approx_i ∩ exact_i| / k. Both must cover the same rows and k.
double knnRecall(const KnnResult& approximate, const KnnResult& exact);

/// The IVF method's list count for `rows` rows (parameters.lists, or automatic).
int64_t ivfListCount(const IvfParameters& parameters, int64_t rows);

/// The exact k nearest neighbours of a random sample of query rows: what the
/// recall of an approximate result is measured against. They come from
/// matrix products (candidates) re-ranked in double, about
/// samples x rows x cols x 2 flops.
struct RecallSample
{
  std::vector<int64_t> rows;      // the sampled query rows (indices into the matrix)
  int k = 0;                      // exact neighbours kept per sampled row
  std::vector<int64_t> neighbors; // rows.size() x k, nearest first (computeKnn's order)
};

/// `samples` of the rows [queryBegin, queryEnd) of `points` drawn at random
/// (seeded), with their exact k nearest neighbours.
RecallSample exactRecallSample(const FeatureMatrix& points, int64_t queryBegin, int64_t queryEnd,
  int k, DistanceMetric metric, int64_t samples, unsigned int seed = 0);

/// recall@k of `result` (k = result.k, at most sample.k) on the sample: the
/// share of the sampled rows' exact k nearest neighbours that it holds.
double recallOn(const RecallSample& sample, const KnnResult& result);

/// recall@k of `result` (rows of computeKnn over `points`) on `samples`
/// of its rows drawn at random (seeded): the two functions above.
double estimateRecall(const FeatureMatrix& points, const KnnResult& result, DistanceMetric metric,
  int64_t samples = 256, unsigned int seed = 0);

/// Exact distance between two vectors in double precision (the definition
/// used by computeKnn, identical vectors at distance 0).
double vectorDistance(const float* a, const float* b, int64_t cols, DistanceMetric metric);

/// Brute force for one query row, shared by the exact method's fallback
/// rows, Datalab's tie check (DataIssues.h) and the trustworthiness
/// (EmbeddingProjection.h). `distancesFrom` fills `out` (resized to
/// points.rows) with vectorDistance(points.row(query), points.row(j)) for
/// every row j (out[query] = 0).
void distancesFrom(
  const FeatureMatrix& points, int64_t query, DistanceMetric metric, std::vector<double>& out);

/// Same with the squared euclidean distance (the square that the euclidean
/// distance takes the root of). Ranking by it keeps two different squares
/// apart that their rounded roots could make equal (a tie then decided by
/// index instead).
void squaredEuclideanDistancesFrom(
  const FeatureMatrix& points, int64_t query, std::vector<double>& out);

/// The min(k, rows - 1) rows nearest to `query` given its `distances` to
/// every row (from the two functions above), `query` itself excluded,
/// ascending, ties broken by the smaller index (the computeKnn convention).
std::vector<int64_t> nearestRows(const std::vector<double>& distances, int64_t query, int k);

/// Auto → cosine when cols > 3, else euclidean.
DistanceMetric resolveMetric(MetricChoice choice, int64_t cols);

const char* metricName(DistanceMetric metric);

/// Number of rows holding at least one NaN or Inf value.
int64_t countNonFiniteRows(const FeatureMatrix& points);

/// Throws a ModelError naming the count of rows with NaN or Inf values:
/// "3 of 1000 rows of <what> contain NaN or Inf values; ...".
void requireFiniteRows(const FeatureMatrix& points, const std::string& what);

/// Whether this build has the FLANN method.
bool isFlannAvailable();

/// The float32 matrix product of the exact method in this build
/// (floatGemmName() of FloatGemm.h): "oneDNN sgemm" or "ATen mm".
const char* exactKnnGemmName();

} // namespace engine
} // namespace dualembed

#endif
