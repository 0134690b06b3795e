// Hugging Face datasets as they sit on disk: the Hub's Parquet files (one file,
// its shards, or a snapshot folder), the `datasets` cache's Arrow files and
// save_to_disk folders (a Dataset or one split of a DatasetDict).
//
// The columns are found by the dataset's own features (schema metadata
// "huggingface", or dataset_info.json beside Arrow files): the image column by
// its Image feature (else the one struct<bytes, path> column), labels and
// class names by ClassLabel. Every other column of numbers or strings becomes
// a point-data array; a numeric list column (an embedding computed elsewhere)
// becomes `embedding_<column>` (a name already starting with "embedding_" is
// kept), so that the embedding filters and Compare Embeddings find it.
#pragma once

#include "ImageDataset.h"

#include <cstdint>
#include <filesystem>
#include <string>

namespace dualembed
{
namespace formats
{
namespace detail
{

/// Names ending in .parquet or .arrow (case-insensitive).
bool isHuggingFaceFileName(const std::string& fileName);

/// A folder holding a Hugging Face dataset: dataset_dict.json, state.json, or
/// Parquet / Arrow files in it or one or two folders below it.
bool isHuggingFaceFolder(const std::filesystem::path& folder);

/// `path`: a .parquet or .arrow file (a shard named <split>-0000K-of-0000N opens all
/// N shards of its split) or a folder (see isHuggingFaceFolder).
DatasetInfo probeHuggingFace(const std::filesystem::path& path, const DatasetOptions& options);
/// The first sample of every chunk of every shard, then numberOfSamples.
std::vector<std::int64_t> tableChunkStarts(const DatasetInfo& info);
/// Fills `block`, reusing the memory of its vectors.
void readHuggingFace(
  const DatasetInfo& info, std::int64_t first, std::int64_t count, SampleBlock& block);

} // namespace detail
} // namespace formats
} // namespace dualembed
