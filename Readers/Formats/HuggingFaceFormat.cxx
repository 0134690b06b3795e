#include "HuggingFaceFormat.h"

#include "Columnar/Table.h"
#include "FormatUtil.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <system_error>

namespace dualembed
{
namespace formats
{
struct OpenTables
{
  struct Shard
  {
    std::unique_ptr<columnar::TableReader> reader;
    std::filesystem::file_time_type modified;
    std::uintmax_t size = 0;
  };
  std::map<std::string, Shard> readers;
  /// The leaves read last, whose memory the next chunk reuses.
  columnar::LeafChunk images, paths, values;
};

namespace detail
{
namespace
{
namespace fs = std::filesystem;
using columnar::Field;
using columnar::LeafChunk;
using columnar::TableReader;
using columnar::ValueKind;
using nlohmann::json;

bool isParquet(const fs::path& path)
{
  return endsWith(toLower(path.filename().string()), ".parquet");
}

bool isArrow(const fs::path& path)
{
  return endsWith(toLower(path.filename().string()), ".arrow");
}

bool isTableFile(const fs::path& path)
{
  return (isParquet(path) || isArrow(path)) && isFile(path);
}

std::unique_ptr<TableReader> openTable(const std::string& path)
{
  return isParquet(path) ? columnar::openParquet(path) : columnar::openArrowIpc(path);
}

/// The reader of a shard, opened once per probed dataset, and again when the
/// file changed since (a memory-mapped file rewritten under its reader).
TableReader& openShard(const TableLayout& layout, const std::string& shard)
{
  auto& open = layout.open->readers[shard];
  std::error_code error;
  const auto modified = fs::last_write_time(shard, error);
  const auto size = fs::file_size(shard, error);
  if (!open.reader || open.modified != modified || open.size != size)
  {
    open.reader.reset(); // unmap before mapping the new file
    open.reader = openTable(shard);
    open.modified = modified;
    open.size = size;
  }
  return *open.reader;
}

json readJson(const fs::path& path)
{
  std::ifstream in(path, std::ios::binary);
  if (!in)
  {
    fail("Cannot read " + quoted(path) + ".");
  }
  json value = json::parse(in, nullptr, false);
  if (value.is_discarded())
  {
    fail("The file " + quoted(path) + " is not valid JSON; the dataset folder is damaged.");
  }
  return value;
}

// ---------------------------------------------------------------------------
// Shards and splits.

/// "<base>-0000K-of-0000N[-<hash>]" (Hub and cache shard names).
struct ShardName
{
  std::string base;
  int index = 0;
  int of = 0; ///< 0: not a shard name
};

ShardName parseShardName(const fs::path& file)
{
  static const std::regex pattern(R"(^(.*)-(\d{5})-of-(\d{5})(-[0-9a-fA-F]+)?$)");
  const std::string stem = file.stem().string();
  std::smatch match;
  if (std::regex_match(stem, match, pattern))
  {
    return { match[1].str(), std::stoi(match[2].str()), std::stoi(match[3].str()) };
  }
  return { stem, 0, 0 };
}

/// The split a file belongs to: Hub "train-00000-of-00001.parquet" → train;
/// cache "cifar10-train.arrow" → train; "data-....arrow", "0000.parquet" → the
/// folder's name (save_to_disk, the Hub's converted Parquet).
std::string splitOf(const fs::path& file)
{
  const std::string base = parseShardName(file).base;
  if (base == "data" || std::all_of(base.begin(), base.end(), ::isdigit))
  {
    return file.parent_path().filename().string();
  }
  const auto dash = base.rfind('-');
  return isArrow(file) && dash != std::string::npos ? base.substr(dash + 1) : base;
}

std::vector<fs::path> tableFilesIn(const fs::path& folder)
{
  std::vector<fs::path> files;
  std::error_code error;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error))
  {
    if (isTableFile(it->path()))
    {
      files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// The Parquet / Arrow files in `folder`, else in the first of its subfolders (by
/// name, two levels at most) that has some: a Hub snapshot keeps them in
/// plain_text/ or data/.
std::vector<fs::path> findTableFiles(const fs::path& folder, int depth = 2)
{
  auto files = tableFilesIn(folder);
  if (!files.empty() || depth == 0)
  {
    return files;
  }
  std::vector<fs::path> subfolders;
  std::error_code error;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error))
  {
    if (it->is_directory(error) && it->path().filename().string()[0] != '.')
    {
      subfolders.push_back(it->path());
    }
  }
  std::sort(subfolders.begin(), subfolders.end());
  for (const auto& subfolder : subfolders)
  {
    files = findTableFiles(subfolder, depth - 1);
    if (!files.empty())
    {
      return files;
    }
  }
  return files;
}

std::string joined(const std::vector<std::string>& names)
{
  std::string text;
  for (const auto& name : names)
  {
    text += (text.empty() ? "" : ", ") + ("'" + name + "'");
  }
  return text;
}

/// Picks the split to read: the one asked for, else "train", else the first.
std::string chooseSplit(
  const std::vector<std::string>& splits, const std::string& wanted, const fs::path& where)
{
  if (!wanted.empty())
  {
    if (std::find(splits.begin(), splits.end(), wanted) == splits.end())
    {
      fail("The dataset " + quoted(where) + " has no split '" + wanted + "'; its splits are " +
        joined(splits) + ".");
    }
    return wanted;
  }
  return std::find(splits.begin(), splits.end(), "train") != splits.end() ? "train" : splits[0];
}

/// Every shard of a shard-named file's split, in order; checks that none is missing.
std::vector<fs::path> siblingShards(const fs::path& file)
{
  const ShardName name = parseShardName(file);
  if (name.of == 0)
  {
    return { file };
  }
  std::vector<fs::path> shards(name.of);
  for (const auto& candidate : tableFilesIn(file.parent_path()))
  {
    const ShardName other = parseShardName(candidate);
    if (other.base == name.base && other.of == name.of && other.index < name.of &&
      candidate.extension() == file.extension())
    {
      shards[other.index] = candidate;
    }
  }
  for (int i = 0; i < name.of; ++i)
  {
    if (shards[i].empty())
    {
      fail("Shard " + std::to_string(i) + " of " + std::to_string(name.of) + " of " + quoted(file) +
        " ('" + name.base + "-" + std::string(5 - std::to_string(i).size(), '0') +
        std::to_string(i) + "-of-...') is missing beside it; download the whole split.");
    }
  }
  return shards;
}

/// A save_to_disk Dataset folder: its state.json lists the Arrow files.
std::vector<fs::path> savedDatasetShards(const fs::path& folder)
{
  const json state = readJson(folder / "state.json");
  std::vector<fs::path> shards;
  if (state.contains("_data_files") && state["_data_files"].is_array())
  {
    for (const auto& entry : state["_data_files"])
    {
      if (entry.contains("filename") && entry["filename"].is_string())
      {
        shards.push_back(folder / entry["filename"].get<std::string>());
      }
    }
  }
  if (shards.empty())
  {
    fail("The save_to_disk file " + quoted(folder / "state.json") +
      " lists no data files (_data_files).");
  }
  for (const auto& shard : shards)
  {
    if (!isFile(shard))
    {
      fail("The data file " + quoted(shard) + " listed in " + quoted(folder / "state.json") +
        " is missing.");
    }
  }
  return shards;
}

/// Finds the shards of the split to read, and every split found beside them.
std::vector<fs::path> locateShards(
  const fs::path& path, const DatasetOptions& options, TableLayout& layout)
{
  if (!fs::is_directory(path))
  {
    layout.split = splitOf(path);
    layout.splits = { layout.split };
    return siblingShards(path);
  }
  if (isFile(path / "dataset_dict.json")) // a save_to_disk DatasetDict: one folder per split
  {
    const json dict = readJson(path / "dataset_dict.json");
    if (dict.contains("splits") && dict["splits"].is_array())
    {
      for (const auto& split : dict["splits"])
      {
        if (split.is_string())
        {
          layout.splits.push_back(split.get<std::string>());
        }
      }
    }
    if (layout.splits.empty())
    {
      fail("The DatasetDict file " + quoted(path / "dataset_dict.json") + " lists no splits.");
    }
    layout.split = chooseSplit(layout.splits, options.split, path);
    return savedDatasetShards(path / layout.split);
  }
  if (isFile(path / "state.json"))
  {
    const json state = readJson(path / "state.json");
    layout.split = state.value("_split", json()).is_string() ? state["_split"].get<std::string>()
                                                             : path.filename().string();
    layout.splits = { layout.split };
    return savedDatasetShards(path);
  }
  const auto files = findTableFiles(path);
  if (files.empty())
  {
    fail("The folder " + quoted(path) + " holds no Parquet or Arrow files.");
  }
  std::map<std::string, std::vector<fs::path>> bySplit;
  for (const auto& file : files)
  {
    bySplit[splitOf(file)].push_back(file);
  }
  for (const auto& entry : bySplit)
  {
    layout.splits.push_back(entry.first);
  }
  layout.split = chooseSplit(layout.splits, options.split, path);
  const auto& chosen = bySplit[layout.split];
  return parseShardName(chosen[0]).of > 0 ? siblingShards(chosen[0]) : chosen;
}

// ---------------------------------------------------------------------------
// Features and columns.

/// The dataset's features: schema metadata "huggingface" ({"info": {"features":
/// ...}}), else dataset_info.json beside the first shard; null when neither.
json readFeatures(const columnar::Schema& schema, const fs::path& firstShard)
{
  for (const auto& entry : schema.metadata)
  {
    if (entry.first == "huggingface")
    {
      const json value = json::parse(entry.second, nullptr, false);
      if (value.is_object() && value.contains("info") && value["info"].is_object() &&
        value["info"].contains("features"))
      {
        return value["info"]["features"];
      }
    }
  }
  const fs::path info = firstShard.parent_path() / "dataset_info.json";
  if (isFile(info))
  {
    const json value = readJson(info);
    if (value.is_object() && value.contains("features"))
    {
      return value["features"];
    }
  }
  return json();
}

std::string featureType(const json& features, const std::string& column)
{
  if (features.is_object() && features.contains(column) && features[column].is_object())
  {
    return features[column].value("_type", std::string());
  }
  return "";
}

std::vector<std::string> classLabelNames(const json& features, const std::string& column)
{
  std::vector<std::string> names;
  if (featureType(features, column) == "ClassLabel" && features[column].contains("names") &&
    features[column]["names"].is_array())
  {
    for (const auto& name : features[column]["names"])
    {
      names.push_back(name.is_string() ? name.get<std::string>() : name.dump());
    }
  }
  return names;
}

bool isImageStruct(const Field& field)
{
  if (field.kind != ValueKind::Struct)
  {
    return false;
  }
  bool bytes = false;
  for (const auto& child : field.children)
  {
    bytes = bytes || (child.name == "bytes" && child.kind == ValueKind::Binary);
  }
  return bytes;
}

bool isNumeric(ValueKind kind)
{
  return kind == ValueKind::Integer || kind == ValueKind::Real || kind == ValueKind::Boolean;
}

const Field* findField(const columnar::Schema& schema, const std::string& name)
{
  for (const auto& field : schema.fields)
  {
    if (field.name == name)
    {
      return &field;
    }
  }
  return nullptr;
}

std::vector<std::string> fieldNames(const columnar::Schema& schema)
{
  std::vector<std::string> names;
  for (const auto& field : schema.fields)
  {
    names.push_back(field.name);
  }
  return names;
}

void chooseImageColumn(const columnar::Schema& schema, const json& features,
  const DatasetOptions& options, const fs::path& where, TableLayout& layout)
{
  if (!options.imageColumn.empty())
  {
    const Field* field = findField(schema, options.imageColumn);
    if (!field || !(isImageStruct(*field) || field->kind == ValueKind::Binary))
    {
      fail("The dataset " + quoted(where) + " has no image column '" + options.imageColumn +
        "' (an Image feature, struct<bytes, path> or binary); its columns are " +
        joined(fieldNames(schema)) + ".");
    }
    layout.imageColumn = field->name;
    layout.imageIsStruct = isImageStruct(*field);
    return;
  }
  std::vector<const Field*> byFeature, byType;
  for (const auto& field : schema.fields)
  {
    if (featureType(features, field.name) == "Image" &&
      (isImageStruct(field) || field.kind == ValueKind::Binary))
    {
      byFeature.push_back(&field);
    }
    if (isImageStruct(field))
    {
      byType.push_back(&field);
    }
  }
  const auto& candidates = byFeature.empty() ? byType : byFeature;
  if (candidates.empty())
  {
    return; // a table without images: its embeddings and metadata are still read
  }
  layout.imageColumn = candidates[0]->name;
  layout.imageIsStruct = isImageStruct(*candidates[0]);
  if (candidates.size() > 1)
  {
    layout.notes.push_back("The image column is '" + layout.imageColumn + "' of " +
      std::to_string(candidates.size()) + " image columns; set ImageColumn to read another.");
  }
}

void chooseLabelColumns(const columnar::Schema& schema, const json& features,
  const DatasetOptions& options, const fs::path& where, TableLayout& layout, DatasetInfo& info)
{
  auto isIntegerColumn = [&](const std::string& name) {
    const Field* field = findField(schema, name);
    return field && field->kind == ValueKind::Integer;
  };
  std::vector<std::string> classLabels;
  for (const auto& field : schema.fields)
  {
    if (featureType(features, field.name) == "ClassLabel" && isIntegerColumn(field.name))
    {
      classLabels.push_back(field.name);
    }
  }
  if (!options.labelColumn.empty())
  {
    if (!isIntegerColumn(options.labelColumn))
    {
      fail("The dataset " + quoted(where) + " has no integer label column '" + options.labelColumn +
        "'; its columns are " + joined(fieldNames(schema)) + ".");
    }
    layout.labelColumn = options.labelColumn;
  }
  else
  {
    // CIFAR-100 has two ClassLabels: the fine label is "the" label, as in torchvision.
    for (const char* preferred : { "label", "labels", "fine_label" })
    {
      if (layout.labelColumn.empty() &&
        std::find(classLabels.begin(), classLabels.end(), preferred) != classLabels.end())
      {
        layout.labelColumn = preferred;
      }
    }
    if (layout.labelColumn.empty() && !classLabels.empty())
    {
      layout.labelColumn = classLabels[0];
    }
    for (const char* conventional : { "label", "labels" }) // no features: the usual names
    {
      if (layout.labelColumn.empty() && isIntegerColumn(conventional))
      {
        layout.labelColumn = conventional;
      }
    }
  }
  if (layout.labelColumn.empty())
  {
    fail("The dataset " + quoted(where) + " has no label column (a ClassLabel feature, or an " +
      "integer column named 'label' or 'labels'); its columns are " + joined(fieldNames(schema)) +
      ". Set LabelColumn to the column that holds the labels.");
  }
  info.classNames = classLabelNames(features, layout.labelColumn);
  if (layout.labelColumn != "coarse_label" &&
    std::find(classLabels.begin(), classLabels.end(), "coarse_label") != classLabels.end())
  {
    layout.coarseLabelColumn = "coarse_label";
    info.coarseClassNames = classLabelNames(features, "coarse_label");
  }
  if (classLabels.size() > 1 && options.labelColumn.empty())
  {
    layout.notes.push_back("The label column is '" + layout.labelColumn + "' of the class " +
      "label columns " + joined(classLabels) + "; set LabelColumn to use another.");
  }
}

/// The point-data array a column becomes; names the reader gives its own arrays
/// are prefixed with "table_".
std::string arrayNameFor(const Field& field)
{
  static const std::set<std::string> reserved = { "label", "label_str", "sample_id", "image",
    "file_name", "coarse_label", "coarse_label_str" };
  if (field.kind == ValueKind::List)
  {
    return field.name.rfind("embedding_", 0) == 0 ? field.name : "embedding_" + field.name;
  }
  return reserved.count(field.name) ? "table_" + field.name : field.name;
}

/// The length of a numeric list column: its fixed size, else the length of its
/// first list in the first shard (every row is checked against it when read).
int listLength(const Field& field, TableReader& firstShard)
{
  if (field.fixedSize > 0)
  {
    return field.fixedSize;
  }
  for (std::size_t chunk = 0; chunk < firstShard.chunkRows().size(); ++chunk)
  {
    const LeafChunk leaf = firstShard.readLeaf(chunk, { field.name });
    for (std::int64_t row = 0; row < leaf.rows; ++row)
    {
      if (leaf.present[row])
      {
        return static_cast<int>(leaf.listOffsets[row + 1] - leaf.listOffsets[row]);
      }
    }
  }
  return 0;
}

void chooseColumns(const columnar::Schema& schema, TableReader& firstShard, TableLayout& layout)
{
  for (const auto& field : schema.fields)
  {
    if (field.name == layout.imageColumn || field.name == layout.labelColumn ||
      field.name == layout.coarseLabelColumn)
    {
      continue;
    }
    TableColumn column{ field.name, arrayNameFor(field), TableColumn::Kind::Real, 1 };
    if (field.kind == ValueKind::Integer || field.kind == ValueKind::Boolean)
    {
      column.kind = TableColumn::Kind::Integer;
    }
    else if (field.kind == ValueKind::Real)
    {
      column.kind = TableColumn::Kind::Real;
    }
    else if (field.kind == ValueKind::String)
    {
      column.kind = TableColumn::Kind::String;
    }
    else if (field.kind == ValueKind::List && field.children.size() == 1 &&
      isNumeric(field.children[0].kind))
    {
      column.kind = TableColumn::Kind::Vector;
      column.components = listLength(field, firstShard);
      if (column.components <= 0)
      {
        layout.notes.push_back("Column '" + field.name + "' is left out: its lists are empty.");
        continue;
      }
    }
    else
    {
      layout.notes.push_back("Column '" + field.name + "' (" + field.typeName +
        ") is left out: only numbers, strings and lists of numbers become arrays.");
      continue;
    }
    layout.columns.push_back(column);
  }
}

bool sameColumns(const columnar::Schema& a, const columnar::Schema& b)
{
  if (a.fields.size() != b.fields.size())
  {
    return false;
  }
  for (std::size_t i = 0; i < a.fields.size(); ++i)
  {
    if (a.fields[i].name != b.fields[i].name || a.fields[i].kind != b.fields[i].kind)
    {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// Reading.

/// Appends rows [begin, end) of one chunk to the block.
class BlockFiller
{
public:
  BlockFiller(const DatasetInfo& info, SampleBlock& block)
    : Layout(info.table)
    , Block(block)
    , Reused(*info.table.open)
  {
  }

  void append(TableReader& table, std::size_t chunk, std::int64_t begin, std::int64_t end)
  {
    if (!this->Layout.imageColumn.empty())
    {
      this->appendImages(table, chunk, begin, end);
    }
    this->appendLabels(table, chunk, this->Layout.labelColumn, this->Block.labels, begin, end);
    if (!this->Layout.coarseLabelColumn.empty())
    {
      this->appendLabels(
        table, chunk, this->Layout.coarseLabelColumn, this->Block.coarseLabels, begin, end);
    }
    for (std::size_t c = 0; c < this->Layout.columns.size(); ++c)
    {
      this->appendColumn(table, chunk, this->Layout.columns[c], this->Block.columns[c], begin, end);
    }
  }

private:
  void appendImages(TableReader& table, std::size_t chunk, std::int64_t begin, std::int64_t end)
  {
    const std::string& column = this->Layout.imageColumn;
    LeafChunk& bytes = this->Reused.images;
    table.readLeafInto(chunk,
      this->Layout.imageIsStruct ? std::vector<std::string>{ column, "bytes" }
                                 : std::vector<std::string>{ column },
      bytes);
    LeafChunk& paths = this->Reused.paths;
    paths.present.clear();
    if (this->Layout.imageIsStruct && this->PathMember)
    {
      table.readLeafInto(chunk, { column, "path" }, paths);
    }
    // The rows' bytes are contiguous (a null row holds none): one copy.
    auto& encoded = this->Block.encodedImages;
    const std::int64_t shift = static_cast<std::int64_t>(encoded.size()) - bytes.offsets[begin];
    encoded.insert(encoded.end(), bytes.bytes.begin() + bytes.offsets[begin],
      bytes.bytes.begin() + bytes.offsets[end]);
    const fs::path folder = fs::path(table.path()).parent_path();
    for (std::int64_t row = begin; row < end; ++row)
    {
      this->Block.encodedOffsets.push_back(shift + bytes.offsets[row + 1]);
      std::string file;
      const bool noBytes = bytes.offsets[row + 1] == bytes.offsets[row];
      if (noBytes && !paths.present.empty() && paths.present[row])
      {
        // Image folders cached by path: absolute, or relative to the table's folder.
        fs::path path(std::string(
          paths.bytes.begin() + paths.offsets[row], paths.bytes.begin() + paths.offsets[row + 1]));
        file = (path.is_absolute() ? path : folder / path).string();
      }
      this->Block.files.push_back(file);
    }
  }

  void appendLabels(TableReader& table, std::size_t chunk, const std::string& column,
    std::vector<std::int32_t>& labels, std::int64_t begin, std::int64_t end)
  {
    LeafChunk& leaf = this->Reused.values;
    table.readLeafInto(chunk, { column }, leaf);
    for (std::int64_t row = begin; row < end; ++row)
    {
      const std::int64_t value = leaf.present[row] ? leaf.integers[row] : -1;
      if (value < -1 || value > INT32_MAX)
      {
        fail("Row " + std::to_string(row) + " of a chunk of " + quoted(table.path()) +
          " has the label " + std::to_string(value) + " in column '" + column +
          "', outside the range of class indices.");
      }
      labels.push_back(static_cast<std::int32_t>(value));
    }
  }

  void appendColumn(TableReader& table, std::size_t chunk, const TableColumn& column,
    SampleBlock::ColumnValues& values, std::int64_t begin, std::int64_t end)
  {
    LeafChunk& leaf = this->Reused.values;
    table.readLeafInto(chunk, { column.column }, leaf);
    for (std::int64_t row = begin; row < end; ++row)
    {
      switch (column.kind)
      {
        case TableColumn::Kind::Integer:
          values.integers.push_back(leaf.integers[row]);
          break;
        case TableColumn::Kind::Real:
          values.reals.push_back(leaf.reals[row]);
          break;
        case TableColumn::Kind::String:
          values.strings.emplace_back(
            leaf.bytes.begin() + leaf.offsets[row], leaf.bytes.begin() + leaf.offsets[row + 1]);
          break;
        case TableColumn::Kind::Vector:
          this->appendVector(table, column, leaf, row, values.reals);
          break;
      }
    }
  }

  void appendVector(TableReader& table, const TableColumn& column, const LeafChunk& leaf,
    std::int64_t row, std::vector<double>& reals)
  {
    const auto from = leaf.listOffsets[row];
    const auto length = leaf.listOffsets[row + 1] - from;
    if (!leaf.present[row]) // a missing embedding: NaN, which the filters report
    {
      reals.insert(reals.end(), column.components, std::nan(""));
      return;
    }
    if (length != column.components)
    {
      fail("A row of " + quoted(table.path()) + " has " + std::to_string(length) +
        " values in column '" + column.column + "' where the others have " +
        std::to_string(column.components) + "; an embedding column needs one length.");
    }
    if (!leaf.reals.empty())
    {
      reals.insert(reals.end(), leaf.reals.begin() + from, leaf.reals.begin() + from + length);
    }
    else
    {
      for (std::int64_t i = from; i < from + length; ++i)
      {
        reals.push_back(static_cast<double>(leaf.integers[i]));
      }
    }
  }

public:
  /// The image struct of the shard being read has a `path` member.
  bool PathMember = false;

private:
  const TableLayout& Layout;
  SampleBlock& Block;
  OpenTables& Reused;
};

} // namespace

bool isHuggingFaceFileName(const std::string& fileName)
{
  return isParquet(fileName) || isArrow(fileName);
}

bool isHuggingFaceFolder(const fs::path& folder)
{
  return isFile(folder / "dataset_dict.json") || isFile(folder / "state.json") ||
    !findTableFiles(folder).empty();
}

DatasetInfo probeHuggingFace(const fs::path& path, const DatasetOptions& options)
{
  DatasetInfo info;
  info.path = path.string();
  TableLayout& layout = info.table;
  layout.open = std::make_shared<OpenTables>();
  const auto shards = locateShards(path, options, layout);
  info.kind = isParquet(shards[0]) ? DatasetKind::Parquet : DatasetKind::Arrow;

  TableReader& first = openShard(layout, shards[0].string());
  const columnar::Schema schema = first.schema();
  for (const auto& shard : shards)
  {
    TableReader& reader = openShard(layout, shard.string());
    if (!sameColumns(reader.schema(), schema))
    {
      fail("The shard " + quoted(shard) + " has other columns than " + quoted(shards[0]) +
        "; the files do not belong to one dataset split.");
    }
    layout.shards.push_back(shard.string());
    layout.shardRows.push_back(reader.numberOfRows());
    info.numberOfSamples += reader.numberOfRows();
  }

  const json features = readFeatures(schema, shards[0]);
  chooseImageColumn(schema, features, options, path, layout);
  chooseLabelColumns(schema, features, options, path, layout, info);
  chooseColumns(schema, first, layout);
  if (info.numberOfSamples == 0)
  {
    fail("The dataset " + quoted(path) + " (split '" + layout.split + "') has no rows.");
  }
  return info;
}

std::vector<std::int64_t> tableChunkStarts(const DatasetInfo& info)
{
  std::vector<std::int64_t> starts;
  std::int64_t start = 0;
  for (const auto& shard : info.table.shards)
  {
    for (const std::int64_t rows : openShard(info.table, shard).chunkRows())
    {
      if (rows > 0)
      {
        starts.push_back(start);
        start += rows;
      }
    }
  }
  if (start != info.numberOfSamples)
  {
    fail("The files of " + quoted(info.path) + " changed since they were opened; open the " +
      "dataset again.");
  }
  starts.push_back(start);
  return starts;
}

void readHuggingFace(
  const DatasetInfo& info, std::int64_t first, std::int64_t count, SampleBlock& block)
{
  const TableLayout& layout = info.table;
  block.first = first;
  block.count = count;
  block.pixels.clear();
  block.labels.clear();
  block.coarseLabels.clear();
  block.files.clear();
  block.encodedImages.clear();
  block.encodedOffsets.clear();
  block.columns.resize(layout.columns.size());
  for (auto& column : block.columns)
  {
    column.integers.clear();
    column.reals.clear();
    column.strings.clear();
  }
  if (!layout.imageColumn.empty())
  {
    block.encodedOffsets.push_back(0);
  }
  BlockFiller filler(info, block);
  const std::int64_t end = first + count;
  std::int64_t shardStart = 0;
  for (std::size_t s = 0; s < layout.shards.size() && shardStart < end; ++s)
  {
    const std::int64_t shardEnd = shardStart + layout.shardRows[s];
    if (shardEnd > first)
    {
      TableReader& table = openShard(layout, layout.shards[s]);
      const Field* image =
        layout.imageColumn.empty() ? nullptr : findField(table.schema(), layout.imageColumn);
      if (table.numberOfRows() != layout.shardRows[s] || (!layout.imageColumn.empty() && !image))
      {
        fail("The file " + quoted(layout.shards[s]) + " changed since it was opened; open " +
          "the dataset again.");
      }
      if (image && layout.imageIsStruct)
      {
        filler.PathMember = false;
        for (const auto& child : image->children)
        {
          filler.PathMember = filler.PathMember || child.name == "path";
        }
      }
      std::int64_t chunkStart = shardStart;
      const auto& chunkRows = table.chunkRows();
      for (std::size_t c = 0; c < chunkRows.size() && chunkStart < end; ++c)
      {
        const std::int64_t chunkEnd = chunkStart + chunkRows[c];
        if (chunkEnd > first)
        {
          filler.append(table, c, std::max(first, chunkStart) - chunkStart,
            std::min(end, chunkEnd) - chunkStart);
        }
        chunkStart = chunkEnd;
      }
    }
    shardStart = shardEnd;
  }
}

} // namespace detail
} // namespace formats
} // namespace dualembed
