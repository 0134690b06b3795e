// The checkpoints of one fine-tuning run, in training order (SPEC §2.7), no VTK.
//
// A run is a Hugging Face Trainer output folder: `checkpoint-<step>/`
// subfolders, each a model folder (config.json, model.safetensors or
// pytorch_model.bin) with a trainer_state.json giving `global_step` and
// `epoch`. A model folder given as the run itself is a series of one. An
// explicit list of model folders is taken in the order given. The model the
// run started from (e.g. the foundation) may be added as step 0.
//
// Checkpoints are what a time step shows, so the series is checked before
// anything is computed: every checkpoint must be the same architecture
// (model_type, image size, patch size, hidden size / embed dim, depth) and
// every classifier checkpoint must have the same labels; an incomplete
// `checkpoint-*` folder (no config.json or no weights: a run killed while
// saving) is left out with a warning rather than failing the whole run.
#ifndef DualEmbed_Engine_CheckpointSeries_h
#define DualEmbed_Engine_CheckpointSeries_h

#include <string>
#include <vector>

namespace dualembed
{
namespace engine
{

struct Checkpoint
{
  std::string path;        // the model folder
  std::string name;        // "checkpoint-468", or the folder's name
  double step = 0;         // training step (Trainer's global_step): the time value
  double epoch = 0;        // -1 when unknown
  bool classifier = false; // config.json's architectures name a *ForImageClassification
};

struct CheckpointSeries
{
  std::vector<Checkpoint> checkpoints; // by increasing step
  std::vector<std::string> warnings;   // checkpoints left out, and why
};

/// Finds the checkpoints of `runPath` (a Trainer output folder, or one model
/// folder), or takes `explicitList` when it is not empty (then `runPath` is
/// ignored). `initialModel`, when not empty, becomes step 0 (epoch 0).
/// Steps come from trainer_state.json, else from the `checkpoint-<step>`
/// name; an explicit list whose folders have neither is numbered 0, 1, ...
/// Throws ModelError, with a sentence for the user, when nothing usable is
/// found, when two checkpoints have the same step, or when checkpoints
/// differ in architecture or labels.
CheckpointSeries findCheckpoints(const std::string& runPath,
  const std::vector<std::string>& explicitList = {}, const std::string& initialModel = {});

} // namespace engine
} // namespace dualembed

#endif
