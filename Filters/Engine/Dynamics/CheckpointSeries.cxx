#include "CheckpointSeries.h"

#include "EngineError.h"
#include "ModelConfig.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace dualembed
{
namespace engine
{
namespace
{

bool hasWeights(const fs::path& dir)
{
  std::error_code ignored;
  return fs::is_regular_file(dir / "model.safetensors", ignored) ||
    fs::is_regular_file(dir / "pytorch_model.bin", ignored);
}

/// `checkpoint-<digits>` → the digits as a step; -1 for any other name.
double stepFromName(const std::string& name)
{
  static const std::string prefix = "checkpoint-";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0)
  {
    return -1;
  }
  const std::string digits = name.substr(prefix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
  {
    return -1;
  }
  return std::strtod(digits.c_str(), nullptr);
}

/// global_step and epoch of trainer_state.json; false when absent or unreadable.
bool readTrainerState(const fs::path& dir, double& step, double& epoch, std::string& problem)
{
  const fs::path file = dir / "trainer_state.json";
  std::error_code ignored;
  if (!fs::is_regular_file(file, ignored))
  {
    return false;
  }
  std::ifstream in(file);
  const nlohmann::json state = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (state.is_discarded() || !state.is_object() || !state.contains("global_step") ||
    !state["global_step"].is_number())
  {
    problem = file.string() + " is not a Trainer state (no numeric global_step)";
    return false;
  }
  step = state["global_step"].get<double>();
  epoch = state.contains("epoch") && state["epoch"].is_number() ? state["epoch"].get<double>() : -1;
  return true;
}

bool isClassifier(const fs::path& dir)
{
  std::ifstream in(dir / "config.json");
  const nlohmann::json config = nlohmann::json::parse(in, nullptr, false);
  if (config.is_discarded() || !config.is_object() || !config.contains("architectures") ||
    !config["architectures"].is_array())
  {
    return false;
  }
  for (const auto& name : config["architectures"])
  {
    if (name.is_string() &&
      name.get<std::string>().find("ForImageClassification") != std::string::npos)
    {
      return true;
    }
  }
  return false;
}

/// What must be equal for the embeddings of two checkpoints to be comparable.
std::string architectureOf(const ModelConfig& c)
{
  std::ostringstream s;
  s << c.modelTypeName << ", " << c.imageHeight << "x" << c.imageWidth << " images, patch "
    << c.patchSize << ", width " << c.finalHiddenSize() << ", ";
  if (c.isVitEncoder())
  {
    s << c.numHiddenLayers << " layers";
  }
  else
  {
    s << "depths";
    for (int d : c.depths)
    {
      s << " " << d;
    }
  }
  return s.str();
}

std::string labelsOf(const ModelConfig& c)
{
  std::string joined;
  for (const std::string& label : c.id2label)
  {
    joined += (joined.empty() ? "" : ", ") + label;
  }
  return joined;
}

Checkpoint describe(const fs::path& dir, double fallbackStep)
{
  Checkpoint checkpoint;
  checkpoint.path = dir.string();
  checkpoint.name = dir.filename().string();
  if (checkpoint.name.empty()) // "run/" ends with a separator
  {
    checkpoint.name = dir.parent_path().filename().string();
  }
  checkpoint.step = fallbackStep;
  checkpoint.epoch = -1;
  std::string problem;
  if (!readTrainerState(dir, checkpoint.step, checkpoint.epoch, problem) && !problem.empty())
  {
    throw ModelError(problem + ".");
  }
  checkpoint.classifier = isClassifier(dir);
  return checkpoint;
}

void requireModelFolder(const fs::path& dir)
{
  std::error_code ignored;
  if (!fs::is_directory(dir, ignored))
  {
    throw ModelError("The checkpoint '" + dir.string() + "' is not a folder.");
  }
  if (!fs::is_regular_file(dir / "config.json", ignored) || !hasWeights(dir))
  {
    throw ModelError("The checkpoint '" + dir.string() +
      "' is not a model folder: it needs config.json and model.safetensors or pytorch_model.bin.");
  }
}

} // namespace

CheckpointSeries findCheckpoints(const std::string& runPath,
  const std::vector<std::string>& explicitList, const std::string& initialModel)
{
  CheckpointSeries series;
  std::error_code error;
  if (!explicitList.empty())
  {
    // Trainer states give the steps; where one lacks it, the list's order does.
    bool allStates = true;
    for (size_t i = 0; i < explicitList.size(); ++i)
    {
      requireModelFolder(explicitList[i]);
      series.checkpoints.push_back(describe(explicitList[i], -1));
      allStates = allStates && series.checkpoints.back().step >= 0;
    }
    for (size_t i = 0; !allStates && i < series.checkpoints.size(); ++i)
    {
      series.checkpoints[i].step = static_cast<double>(i);
    }
  }
  else
  {
    if (runPath.empty())
    {
      throw ModelError(
        "No training run chosen: set the run folder (with checkpoint-<step> subfolders) "
        "or a list of model folders.");
    }
    if (!fs::is_directory(runPath, error))
    {
      throw ModelError("The training run '" + runPath + "' is not a folder.");
    }
    if (fs::is_regular_file(fs::path(runPath) / "config.json", error))
    {
      requireModelFolder(runPath); // one model: a series of one checkpoint
      series.checkpoints.push_back(describe(runPath, 0));
    }
    else
    {
      for (const auto& entry : fs::directory_iterator(runPath, error))
      {
        const std::string name = entry.path().filename().string();
        const double step = stepFromName(name);
        if (step < 0 || !entry.is_directory())
        {
          continue;
        }
        if (!fs::is_regular_file(entry.path() / "config.json", error) || !hasWeights(entry.path()))
        {
          series.warnings.push_back("left out " + entry.path().string() +
            ": it has no config.json or no model weights (an incomplete checkpoint)");
          continue;
        }
        series.checkpoints.push_back(describe(entry.path(), step));
      }
      if (series.checkpoints.empty())
      {
        throw ModelError("The training run '" + runPath +
          "' has no usable checkpoint-<step> folder (each needs config.json and model.safetensors "
          "or pytorch_model.bin).");
      }
    }
  }
  if (!initialModel.empty())
  {
    requireModelFolder(initialModel);
    Checkpoint start = describe(initialModel, 0);
    start.step = 0;
    start.epoch = 0;
    series.checkpoints.insert(series.checkpoints.begin(), start);
  }
  std::stable_sort(series.checkpoints.begin(), series.checkpoints.end(),
    [](const Checkpoint& a, const Checkpoint& b) { return a.step < b.step; });
  for (size_t i = 1; i < series.checkpoints.size(); ++i)
  {
    if (series.checkpoints[i].step == series.checkpoints[i - 1].step)
    {
      std::ostringstream message;
      message << "Two checkpoints have training step " << series.checkpoints[i].step << ": '"
              << series.checkpoints[i - 1].path << "' and '" << series.checkpoints[i].path
              << "'; a time step must show one model.";
      throw ModelError(message.str());
    }
  }

  // Comparable embeddings need one architecture; comparable predictions one label set.
  const ModelConfig first =
    loadModelConfig((fs::path(series.checkpoints[0].path) / "config.json").string());
  const std::string architecture = architectureOf(first);
  const Checkpoint* labelled = nullptr;
  ModelConfig labelledConfig;
  for (const Checkpoint& checkpoint : series.checkpoints)
  {
    const ModelConfig config =
      loadModelConfig((fs::path(checkpoint.path) / "config.json").string());
    if (architectureOf(config) != architecture)
    {
      throw ModelError("The checkpoints are of different architectures: '" +
        series.checkpoints[0].path + "' is " + architecture + ", '" + checkpoint.path + "' is " +
        architectureOf(config) + ". A series compares checkpoints of one model.");
    }
    if (!checkpoint.classifier)
    {
      continue;
    }
    if (!labelled)
    {
      labelled = &checkpoint;
      labelledConfig = config;
    }
    else if (config.id2label != labelledConfig.id2label)
    {
      throw ModelError("The checkpoints have different labels: '" + labelled->path + "' has [" +
        labelsOf(labelledConfig) + "], '" + checkpoint.path + "' has [" + labelsOf(config) +
        "]. A series compares the predictions of one task.");
    }
  }
  return series;
}

} // namespace engine
} // namespace dualembed
