/**
 * @class   vtkCheckpointEmbedding
 * @brief   Image Embedding of every checkpoint of a fine-tuning run, one checkpoint per time step.
 *
 * Takes a training run: a Hugging Face Trainer output folder
 * (`checkpoint-<step>/` folders with config.json, model.safetensors or
 * pytorch_model.bin and trainer_state.json), or an explicit ordered list of
 * model folders, optionally preceded by the model the run started from (the
 * foundation) as step 0. It reports the training steps as TIME_STEPS, so
 * ParaView's animation controls and `pvpython`'s time keeper play through
 * training, and each time step carries that checkpoint's `embedding_<Tag>`
 * (and `logits_`, `probs_`, `pred_label_` for classifier checkpoints) as
 * vtkImageEmbedding computes them, plus field data `checkpoint` (name, path),
 * `checkpoint_step` and `checkpoint_epoch`.
 *
 * Each checkpoint is computed once per session (kept in memory) and, with a
 * CacheDirectory, written there as a results file and reloaded from it in
 * later sessions (the model unchanged, the same samples). All Image
 * Embedding options apply to every checkpoint.
 */
#ifndef vtkCheckpointEmbedding_h
#define vtkCheckpointEmbedding_h

#include "DualEmbedFiltersModule.h" // for export macro
#include "vtkImageEmbedding.h"

#include <memory> // for std::unique_ptr
#include <string> // for std::string
#include <vector> // for std::vector

namespace dualembed
{
class CheckpointSteps;
}

class DUALEMBEDFILTERS_EXPORT vtkCheckpointEmbedding : public vtkImageEmbedding
{
public:
  static vtkCheckpointEmbedding* New();
  vtkTypeMacro(vtkCheckpointEmbedding, vtkImageEmbedding);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  ///@{
  /// The training run: a folder of checkpoint-<step> folders (a single model
  /// folder is a run of one checkpoint). Ignored when Checkpoints are listed.
  vtkSetStdStringFromCharMacro(RunPath);
  vtkGetCharFromStdStringMacro(RunPath);
  ///@}

  ///@{
  /// An explicit ordered list of model folders (steps from their
  /// trainer_state.json, else 0, 1, ...). Empty: the checkpoints of RunPath.
  void AddCheckpoint(const char* modelPath);
  void RemoveAllCheckpoints();
  int GetNumberOfCheckpoints() const;
  const char* GetCheckpoint(int index) const;
  ///@}

  ///@{
  /// The model the run started from (e.g. the foundation), shown as step 0. Empty: none.
  vtkSetStdStringFromCharMacro(InitialModelPath);
  vtkGetCharFromStdStringMacro(InitialModelPath);
  ///@}

  ///@{
  /// A folder for one results file per checkpoint (<Tag>-<checkpoint>.h5),
  /// written after computing a checkpoint and reloaded when still valid.
  /// Empty (default): computed once per session, kept in memory only.
  vtkSetStdStringFromCharMacro(CacheDirectory);
  vtkGetCharFromStdStringMacro(CacheDirectory);
  ///@}

protected:
  vtkCheckpointEmbedding();
  ~vtkCheckpointEmbedding() override;

  int RequestInformation(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  int RequestData(vtkInformation*, vtkInformationVector**, vtkInformationVector*) override;
  int ComputeStep(vtkInformationVector** inputVector, vtkInformationVector* outputVector);
  /// Image Embedding with the checkpoint `name` at `path`, through the Cache
  /// Directory when there is one (read, or written after computing).
  int EmbedCheckpoint(
    vtkPolyData* input, vtkPolyData* output, const std::string& name, const std::string& path);

private:
  vtkCheckpointEmbedding(const vtkCheckpointEmbedding&) = delete;
  void operator=(const vtkCheckpointEmbedding&) = delete;

  std::unique_ptr<dualembed::CheckpointSteps> Steps; // the run's checkpoints, outputs computed

  std::string RunPath;
  std::vector<std::string> CheckpointList;
  std::string InitialModelPath;
  std::string CacheDirectory;
};

#endif
