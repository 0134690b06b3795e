// UMAP of samples spread over the parts of a distributed run: the parts
// search the neighbour graph together and compute the PCA fallback of the
// initialisation from their own rows; part 0 receives the graph (k indices
// and distances per sample) and lays the map out. No part holds more than its
// own rows of the embedding (ARCHITECTURE.md, "Neighbours at scale").
#include "EmbeddingProjection.h"

#include "DistributedNeighbors.h"
#include "ProjectionInternal.h"

#include <sstream>
#include <string>

namespace dualembed
{
namespace engine
{
using projection::Clock;
using projection::ProgressRange;
using projection::secondsSince;

namespace
{
/// The PCA of the initialisation's fallback needs each part's D x D
/// covariance share, all of them gathered on part 0 (128 MB each at 4096).
constexpr int64_t kMaxPcaInitColumns = 4096;
}

UmapGraphInput gatherUmapGraph(const FeatureMatrix& localRows, const ProjectionOptions& options)
{
  const PartExchange& parts = *options.neighborSearch.parts;
  const int64_t rows = parts.totalRows();
  if (options.method != ProjectionMethod::Umap)
  {
    throw ModelError("Only UMAP's neighbour graph is searched distributed.");
  }
  projection::validateProjectionShape(rows, localRows.cols, options);
  const auto start = Clock::now();
  const ProgressRange progress(options.progress, 0.0, 0.3);
  progress.report(0.0);

  KnnOptions knnOptions;
  knnOptions.k = options.neighbors - 1; // umap-learn counts the sample itself
  knnOptions.metric = resolveMetric(options.metric, localRows.cols);
  knnOptions.search = options.neighborSearch;
  knnOptions.progress = ProgressRange(options.progress, 0.0, 0.25).sub();
  const KnnResult local = computeKnn(localRows, knnOptions); // NaN / Inf: refused on every part

  UmapGraphInput input;
  input.knn.indices = gatherRows(parts, local.indices, local.k, 0);
  input.knn.distances = gatherRows(parts, local.distances, local.k, 0);
  input.knn.k = local.k;
  input.knn.rows = parts.part() == 0 ? rows : 0;
  input.knn.method = local.method;
  input.knn.recall = local.recall;
  input.knn.lists = local.lists;
  if (options.init != ProjectionInit::Random && localRows.cols <= kMaxPcaInitColumns)
  {
    input.pcaInit =
      projection::pcaInitFromParts(localRows, options.dimensions, options.seed, parts);
  }
  std::ostringstream what;
  what << knnMethodName(local.method) << " kNN (k=" << local.k << ") in " << localRows.cols << "-D "
       << metricName(knnOptions.metric) << ", on " << parts.parts()
       << " MPI ranks, each indexing its own rows";
  input.neighborsUsed = what.str();
  input.seconds = secondsSince(start);
  progress.report(1.0);
  return input;
}

ProjectionResult computeUmapFromGraph(const UmapGraphInput& input, const ProjectionOptions& options)
{
  ProjectionResult result;
  result.rows = input.knn.rows;
  result.dimensions = options.dimensions;
  result.neighborsUsed = input.neighborsUsed;
  result.stageSeconds.emplace_back("neighbors", input.seconds);
  const auto start = Clock::now();
  const projection::InitProvider pcaInit = [&input]() {
    if (input.pcaInit.empty())
    {
      throw ModelError("UMAP's initialisation needs PCA coordinates here (a graph of several "
                       "components, or the PCA initialisation), which a distributed run computes "
                       "for inputs of up to " +
        std::to_string(kMaxPcaInitColumns) +
        " components; this one has more. Project an embedding rather than a wider array, or "
        "choose Neighbor Method exact (the root then gathers the input).");
    }
    return input.pcaInit;
  };
  const ProgressRange layoutProgress(options.progress, 0.3, 1.0);
  result.coordinates = projection::runUmap(input.knn, options, pcaInit, result, layoutProgress);
  result.stageSeconds.emplace_back("layout", secondsSince(start));
  result.stageSeconds.emplace_back("total", input.seconds + secondsSince(start));
  layoutProgress.report(1.0);
  return result;
}

} // namespace engine
} // namespace dualembed
