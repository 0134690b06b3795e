// The results files that spare running a model again: Image Embedding's
// CacheFile and Checkpoint Embedding's CacheDirectory (README, "Results files
// (HDF5)"). A file is used only while it holds the embedding of the same
// model (path, pooling, files not newer than it) for every input sample_id.
// Not wrapped.
#ifndef EmbeddingCache_h
#define EmbeddingCache_h

#ifndef __VTK_WRAP__
#include <cstdint>
#include <string>
#include <vector>

class vtkAlgorithm;
class vtkPolyData;

namespace dualembed
{
class SampleExchange;

/// The provenance's record of the pooling asked for: "pooling asked: auto".
std::string askedPooling(const std::string& poolingName);

/// Why the arrays of `embeddingName` stored with `provenance` [model path,
/// type, pooling, device, askedPooling()] (three values at least: files
/// written before the last two) in `cacheFile` are not what
/// the model at `modelPath` with `poolingChoice` (an engine::Pooling) gives
/// now; empty when they are.
std::string staleReason(const std::string& embeddingName,
  const std::vector<std::string>& provenance, const std::string& modelPath, int poolingChoice,
  const std::string& cacheFile);

/// For each input sample (`inputIds`), the row of the stored samples
/// (`storedIds`) with the same sample_id, in `source`: empty when the rows
/// are the input's already (the same ids in the same order). False, with the
/// reason, when a sample is missing or the stored ids repeat.
bool storedRowsOf(const std::vector<long long>& inputIds, const std::vector<long long>& storedIds,
  std::vector<std::int64_t>& source, std::string& reason);

/// Adds the arrays of the embedding `tag` stored in `cacheFile` to `output`
/// (a shallow copy of `input`), in the input's order, when the file can be
/// used for the model at `modelPath` with `pooling`. The output window says
/// either way: loaded, or why not (the embedding is then computed).
bool loadCachedEmbedding(vtkPolyData* input, vtkPolyData* output, const std::string& tag,
  const std::string& modelPath, int pooling, const std::string& cacheFile);

/// The results file of the checkpoint `checkpointName` in `directory`:
/// <tag>-<checkpoint>.h5, one per rank under MPI (each rank keeps its own samples).
std::string checkpointCacheFile(const std::string& directory, const std::string& tag,
  const std::string& checkpointName, const SampleExchange& exchange);

/// Writes `output` without its images to `cacheFile`, creating `directory`;
/// a warning of `filter` when that fails (the checkpoint is then computed again).
void writeCheckpointCache(vtkAlgorithm* filter, vtkPolyData* output, const std::string& directory,
  const std::string& cacheFile);
}
#endif
#endif
