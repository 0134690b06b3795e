// Checkpoint Embedding's time steps, one per checkpoint of a fine-tuning run
// at its training step: the run's checkpoints and the steps the output
// announces, the checkpoint a requested time shows, what its output says
// about it, and the outputs already computed. Not wrapped.
#ifndef CheckpointSteps_h
#define CheckpointSteps_h

#ifndef __VTK_WRAP__
#include "CheckpointSeries.h" // engine::Checkpoint, engine::CheckpointSeries

#include "vtkPolyData.h"     // for vtkSmartPointer<vtkPolyData>
#include "vtkSmartPointer.h" // for vtkSmartPointer
#include "vtkType.h"         // for vtkMTimeType

#include <cstddef>
#include <map>
#include <string>
#include <vector>

class vtkInformation;

namespace dualembed
{
/// The checkpoint of the requested `time`: the last one at or before it (the
/// first one for a time before them all).
std::size_t checkpointAt(double time, const std::vector<engine::Checkpoint>& checkpoints);

/// What Checkpoint Embedding knows of its run between requests.
class CheckpointSteps
{
public:
  /// RequestInformation: finds the run's checkpoints (engine::findCheckpoints).
  /// A failure is kept for error(), which RequestData reports and then empties
  /// the output (an error here would leave the views showing the previous
  /// run). Returns the warnings (checkpoints left out, and why) when they
  /// differ from those shown last; else empty.
  std::string find(const std::string& runPath, const std::vector<std::string>& checkpointList,
    const std::string& initialModelPath);

  /// The checkpoints' steps as the output's TIME_STEPS and TIME_RANGE in
  /// `outInfo`; neither when there is no checkpoint.
  void announceTimeSteps(vtkInformation* outInfo) const;

  /// Why find() found no checkpoints; empty when it did.
  const std::string& error() const { return this->Error; }

  /// The checkpoints by increasing step.
  const std::vector<engine::Checkpoint>& checkpoints() const { return this->Found.checkpoints; }

  /// The index of the checkpoint the time requested in `outInfo` shows (the
  /// first one when no time is requested).
  std::size_t requested(vtkInformation* outInfo) const;

  /// Forgets the outputs computed in another state of the pipeline (input,
  /// options, run) than `state` (its modification time).
  void forgetAllBut(vtkMTimeType state);
  /// The output kept for checkpoint `index`; null when there is none.
  vtkPolyData* computed(std::size_t index) const;
  /// Keeps a shallow copy of `output` as checkpoint `index`'s.
  void keep(std::size_t index, vtkPolyData* output);

  /// Says in `output` which checkpoint it shows (field data `checkpoint`,
  /// `checkpoint_step`, `checkpoint_epoch`), the whole run's steps and
  /// epochs, and sets its DATA_TIME_STEP.
  void describe(vtkPolyData* output, std::size_t index) const;

private:
  engine::CheckpointSeries Found;
  std::string Error;
  std::string ShownWarnings; // the warnings already in the output window
  std::map<std::size_t, vtkSmartPointer<vtkPolyData>> Computed;
  vtkMTimeType ComputedFor = 0;
};
}
#endif
#endif
