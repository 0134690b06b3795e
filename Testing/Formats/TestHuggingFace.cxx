// Hugging Face datasets on disk (Testing/Data/huggingface, written by arrow-rs, DuckDB and
// apache-arrow; manifest.json says what each row holds): layouts, splits, shards, features,
// and the samples' encoded images byte for byte.
#include "ImageDataset.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace dualembed::formats;
using nlohmann::json;

namespace
{
const fs::path dataDir = DUALEMBED_HF_DATA_DIR;

const json& manifest()
{
  static const json value = json::parse(std::ifstream(dataDir / "manifest.json"));
  return value;
}

const json& rowsOf(const std::string& name)
{
  return manifest()["datasets"][name]["rows"];
}

std::string fileBytes(const fs::path& path)
{
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::string encodedImage(const SampleBlock& block, std::size_t i)
{
  return std::string(block.encodedImages.begin() + block.encodedOffsets[i],
    block.encodedImages.begin() + block.encodedOffsets[i + 1]);
}

/// Every sample: its label and its encoded image, byte for byte the file the writer was given.
void expectRows(const DatasetInfo& info, const std::string& name, const std::string& labelColumn,
  const std::string& imageColumn)
{
  const json& rows = rowsOf(name);
  ASSERT_EQ(info.numberOfSamples, static_cast<std::int64_t>(rows.size()));
  const SampleBlock block = readSamples(info, 0, info.numberOfSamples);
  ASSERT_EQ(block.labels.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i)
  {
    EXPECT_EQ(block.labels[i], rows[i][labelColumn].get<int>()) << name << " row " << i;
    if (!imageColumn.empty() && !rows[i][imageColumn].is_null())
    {
      EXPECT_EQ(encodedImage(block, i),
        fileBytes(dataDir / rows[i][imageColumn]["file"].get<std::string>()))
        << name << " row " << i;
    }
  }
}

std::string errorOf(const std::string& path, const DatasetOptions& options = {})
{
  try
  {
    probeDataset(path, options);
  }
  catch (const FormatError& error)
  {
    return error.what();
  }
  return "";
}
} // namespace

TEST(HuggingFace, ArrowRsSnappyParquetWithItsRowGroups)
{
  const auto info = probeDataset(
    (dataDir / "parquet/cifar10-arrowrs-snappy/plain_text/train-00000-of-00001.parquet").string());
  EXPECT_EQ(info.kind, DatasetKind::Parquet);
  EXPECT_EQ(info.table.imageColumn, "img");
  EXPECT_EQ(info.table.labelColumn, "label");
  EXPECT_EQ(info.table.split, "train");
  ASSERT_EQ(info.classNames.size(), 10u);
  EXPECT_EQ(info.classNames[9], "truck");
  EXPECT_TRUE(info.table.columns.empty());
  EXPECT_EQ(readBoundaries(info), (std::vector<std::int64_t>{ 0, 10, 20, 24 }));
  expectRows(info, "cifar10", "label", "img");
  // A range across row groups reads only what it asks for.
  const SampleBlock block = readSamples(info, 8, 5);
  ASSERT_EQ(block.labels.size(), 5u);
  EXPECT_EQ(block.labels[0], rowsOf("cifar10")[8]["label"].get<int>());
  EXPECT_EQ(encodedImage(block, 4), fileBytes(dataDir / "images/cifar10/12.png"));
}

TEST(HuggingFace, HubSnapshotFolderFindsItsParquetBelow)
{
  const auto info = probeDataset((dataDir / "parquet/cifar10-arrowrs-snappy").string());
  EXPECT_EQ(info.kind, DatasetKind::Parquet);
  EXPECT_EQ(info.numberOfSamples, 24);
}

TEST(HuggingFace, DuckDbZstdCifar100HasFineAndCoarseLabels)
{
  const auto info = probeDataset(
    (dataDir / "parquet/cifar100-duckdb-zstd/train-00000-of-00001.parquet").string());
  EXPECT_EQ(info.table.labelColumn, "fine_label");
  EXPECT_EQ(info.table.coarseLabelColumn, "coarse_label");
  EXPECT_EQ(info.classNames.size(), 100u);
  EXPECT_EQ(info.coarseClassNames.size(), 20u);
  expectRows(info, "cifar100", "fine_label", "img");
  const SampleBlock block = readSamples(info, 0, info.numberOfSamples);
  for (std::size_t i = 0; i < block.coarseLabels.size(); ++i)
  {
    EXPECT_EQ(block.coarseLabels[i], rowsOf("cifar100")[i]["coarse_label"].get<int>());
  }
}

TEST(HuggingFace, ShardsOfASplitAndSplitsOfAFolder)
{
  const auto shard = (dataDir / "parquet/mnist-sharded/train-00001-of-00002.parquet").string();
  const auto fromShard = probeDataset(shard);
  ASSERT_EQ(fromShard.table.shards.size(), 2u);
  EXPECT_EQ(fs::path(fromShard.table.shards[0]).filename(), "train-00000-of-00002.parquet");
  expectRows(fromShard, "mnist_train", "label", "image");

  const auto folder = (dataDir / "parquet/mnist-sharded").string();
  const auto byDefault = probeDataset(folder);
  EXPECT_EQ(byDefault.table.split, "train");
  EXPECT_EQ(byDefault.table.splits, (std::vector<std::string>{ "test", "train" }));
  EXPECT_EQ(byDefault.numberOfSamples, 12);
  DatasetOptions test;
  test.split = "test";
  expectRows(probeDataset(folder, test), "mnist_test", "label", "image");

  DatasetOptions missing;
  missing.split = "validation";
  const std::string message = errorOf(folder, missing);
  EXPECT_NE(message.find("no split 'validation'"), std::string::npos) << message;
  EXPECT_NE(message.find("'test', 'train'"), std::string::npos) << message;
}

TEST(HuggingFace, MissingShardIsNamed)
{
  const fs::path dir = fs::temp_directory_path() / "dualembed-hf-missing-shard";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(dataDir / "parquet/mnist-sharded/train-00000-of-00002.parquet",
    dir / "train-00000-of-00002.parquet");
  const std::string message = errorOf((dir / "train-00000-of-00002.parquet").string());
  EXPECT_NE(message.find("Shard 1 of 2"), std::string::npos) << message;
  fs::remove_all(dir);
}

TEST(HuggingFace, DatasetsCacheArrowStream)
{
  const auto info = probeDataset(
    (dataDir / "arrow/cache/cifar10/plain_text/0.0.0/abc123/cifar10-train.arrow").string());
  EXPECT_EQ(info.kind, DatasetKind::Arrow);
  EXPECT_EQ(info.table.split, "train");
  EXPECT_EQ(readBoundaries(info), (std::vector<std::int64_t>{ 0, 7, 12 }));
  expectRows(info, "cifar10_cache", "label", "img");
}

TEST(HuggingFace, SaveToDiskDatasetDict)
{
  const auto folder = (dataDir / "arrow/save_to_disk/beans").string();
  const auto info = probeDataset(folder);
  EXPECT_EQ(info.table.splits, (std::vector<std::string>{ "train", "validation" }));
  EXPECT_EQ(info.table.labelColumn, "labels");
  EXPECT_EQ(info.classNames, (std::vector<std::string>{ "angular_leaf_spot", "bean_rust", "healthy" }));
  ASSERT_EQ(info.table.columns.size(), 1u);
  EXPECT_EQ(info.table.columns[0].arrayName, "image_file_path");
  EXPECT_EQ(info.table.columns[0].kind, TableColumn::Kind::String);
  expectRows(info, "beans_train", "labels", "image");
  const SampleBlock block = readSamples(info, 0, info.numberOfSamples);
  EXPECT_EQ(block.columns[0].strings[0], rowsOf("beans_train")[0]["image_file_path"]);

  DatasetOptions validation;
  validation.split = "validation";
  expectRows(probeDataset(folder, validation), "beans_validation", "labels", "image");
  // One split's folder (a save_to_disk Dataset) opens alone too.
  expectRows(probeDataset(folder + "/validation"), "beans_validation", "labels", "image");
}

TEST(HuggingFace, ImageFolderCachedByPath)
{
  const auto info =
    probeDataset((dataDir / "arrow/imagefolder-by-path/imagefolder-train.arrow").string());
  const SampleBlock block = readSamples(info, 0, info.numberOfSamples);
  const json& rows = rowsOf("imagefolder");
  ASSERT_EQ(block.files.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i)
  {
    EXPECT_EQ(block.encodedOffsets[i + 1], block.encodedOffsets[i]) << "bytes are null";
    EXPECT_EQ(fs::path(block.files[i]),
      dataDir / "arrow/imagefolder-by-path" / rows[i]["image"]["path"].get<std::string>());
    EXPECT_EQ(block.labels[i], rows[i]["label"].get<int>());
  }
}

TEST(HuggingFace, NullImageRowHasNoBytesNorFile)
{
  const auto info = probeDataset(
    (dataDir / "parquet/cifar10-null-image/train-00000-of-00001.parquet").string());
  const SampleBlock block = readSamples(info, 0, info.numberOfSamples);
  ASSERT_EQ(block.labels.size(), 5u);
  EXPECT_EQ(block.encodedOffsets[3], block.encodedOffsets[2]);
  EXPECT_TRUE(block.files[2].empty());
  EXPECT_EQ(block.labels[2], 4);
}

TEST(HuggingFace, EmbeddingColumnsBecomeVectors)
{
  for (const char* file : { "parquet/embeddings/embeddings.parquet",
         "arrow/embeddings/embeddings-list.arrow" })
  {
    const auto info = probeDataset((dataDir / file).string());
    EXPECT_TRUE(info.table.imageColumn.empty()) << file;
    std::map<std::string, TableColumn> columns;
    for (const auto& column : info.table.columns)
    {
      columns[column.arrayName] = column;
    }
    ASSERT_EQ(columns.count("embedding_foundation"), 1u) << file;
    EXPECT_EQ(columns["embedding_foundation"].kind, TableColumn::Kind::Vector);
    EXPECT_EQ(columns["embedding_foundation"].components, 64);
    EXPECT_EQ(columns["embedding_finetuned"].components, 64);
    EXPECT_EQ(columns["id"].kind, TableColumn::Kind::String);
    const SampleBlock block = readSamples(info, 30, 10); // the second record batch of the .arrow
    for (std::size_t c = 0; c < info.table.columns.size(); ++c)
    {
      if (info.table.columns[c].arrayName == "id")
      {
        EXPECT_EQ(block.columns[c].strings[0], rowsOf("embeddings")[30]["id"]) << file;
      }
      if (info.table.columns[c].kind == TableColumn::Kind::Vector)
      {
        EXPECT_EQ(block.columns[c].reals.size(), 640u) << file;
      }
    }
  }
}

TEST(HuggingFace, NoLabelColumnSaysWhatToSet)
{
  // The embeddings table asked to take its labels from a string column.
  DatasetOptions options;
  options.labelColumn = "split";
  const std::string message =
    errorOf((dataDir / "parquet/embeddings/embeddings.parquet").string(), options);
  EXPECT_NE(message.find("no integer label column 'split'"), std::string::npos) << message;
  EXPECT_NE(message.find("'embedding_foundation'"), std::string::npos) << message;
}

TEST(HuggingFace, DamagedFilesAreErrorsNamingThem)
{
  const fs::path dir = fs::temp_directory_path() / "dualembed-hf-damaged";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string whole =
    fileBytes(dataDir / "parquet/cifar10-arrowrs-snappy/plain_text/train-00000-of-00001.parquet");
  for (const std::size_t size : { std::size_t(0), std::size_t(4), whole.size() / 2,
         whole.size() - 9 })
  {
    std::ofstream(dir / "cut.parquet", std::ios::binary) << whole.substr(0, size);
    const std::string message = errorOf((dir / "cut.parquet").string());
    EXPECT_NE(message.find("cut.parquet"), std::string::npos) << size << ": " << message;
  }
  const std::string stream = fileBytes(
    dataDir / "arrow/cache/cifar10/plain_text/0.0.0/abc123/cifar10-train.arrow");
  std::ofstream(dir / "cut.arrow", std::ios::binary) << stream.substr(0, stream.size() / 2);
  std::string message;
  try
  {
    const auto info = probeDataset((dir / "cut.arrow").string());
    readSamples(info, 0, info.numberOfSamples);
  }
  catch (const FormatError& error)
  {
    message = error.what();
  }
  EXPECT_NE(message.find("cut.arrow"), std::string::npos) << message;
  fs::remove_all(dir);
}

TEST(HuggingFace, ShardRewrittenAfterOpeningIsAnErrorNotACrash)
{
  // A probed dataset keeps its shards' readers (Arrow files memory-mapped); a
  // shard rewritten in place, shorter, is opened again and reported.
  const fs::path dir = fs::temp_directory_path() / "dualembed-hf-rewritten";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path cache =
    dataDir / "arrow/cache/cifar10/plain_text/0.0.0/abc123/cifar10-train.arrow";
  const fs::path file = dir / "cifar10-train.arrow";
  fs::copy_file(cache, file);
  const auto info = probeDataset(file.string());
  readSamples(info, 0, 3);
  const std::string whole = fileBytes(cache);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << whole.substr(0, whole.size() / 3);
  EXPECT_THROW(readSamples(info, 0, info.numberOfSamples), FormatError);
  fs::remove_all(dir);
}
