#include "vtkTrainingDynamics.h"

#include "FilterSupport.h"
#include "TemporalSeries.h"
#include "TrainingDynamics.h"

#include "vtkDataObject.h"
#include "vtkDoubleArray.h"
#include "vtkFieldData.h"
#include "vtkFloatArray.h"
#include "vtkInformation.h"
#include "vtkIntArray.h"
#include "vtkObjectFactory.h"
#include "vtkOutputWindow.h"
#include "vtkPointData.h"

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkTrainingDynamics);

struct vtkTrainingDynamics::Internals
{
  // Collected, one entry per time step (empty where a step has no probabilities).
  std::string ProbsName, LogitsName, EmbeddingName;
  int Classes = 0;
  std::vector<std::vector<float>> Probs, Logits;    // this rank's rows
  std::vector<dualembed::SelectedArray> Embeddings; // all rows (the kNN needs every sample)
  std::vector<int32_t> Labels;

  // Result.
  engine::TrainingDynamicsResult Dynamics;
  engine::EmbeddingDriftResult Drift;
  std::vector<size_t> StepsWithPredictions;

  void Clear()
  {
    this->ProbsName.clear();
    this->LogitsName.clear();
    this->EmbeddingName.clear();
    this->Classes = 0;
    this->Probs.clear();
    this->Logits.clear();
    this->Embeddings.clear();
    this->Labels.clear();
    this->StepsWithPredictions.clear();
  }
};

vtkTrainingDynamics::vtkTrainingDynamics()
  : Internal(new Internals)
{
  // No names: chosen when the filter runs (chooseInputArray), as the Properties panel would.
  for (int index = 0; index < 3; ++index)
  {
    this->SetInputArrayToProcess(index, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "");
  }
}

vtkTrainingDynamics::~vtkTrainingDynamics() = default;

int vtkTrainingDynamics::Execute(vtkInformation* request, vtkPolyData* input, vtkPolyData* output,
  const dualembed::SampleExchange& exchange)
{
  dualembed::TemporalSeries& series = this->Series();
  if (series.collecting())
  {
    const size_t step = series.step();
    this->UpdateProgress(0.8 * static_cast<double>(step) / static_cast<double>(series.size()));
    if (this->GetAbortExecute())
    {
      vtkWarningMacro("Training Dynamics aborted while reading checkpoint "
        << step + 1 << " of " << series.size() << ": the output is empty.");
      series.abandon(request);
      return 0;
    }
    if (!this->CollectStep(input, step, exchange))
    {
      series.abandon(request);
      return 0;
    }
    if (series.advance(request))
    {
      return 1; // the next time step follows
    }
    if (!this->ComputeResult(exchange))
    {
      series.abandon(request);
      return 0;
    }
    if (series.finish(this, request))
    {
      return 1; // one more pass for the time step asked for
    }
  }
  else
  {
    series.passStep(request);
  }
  output->ShallowCopy(input);
  this->AddResult(output, series.indexOf(input));
  this->UpdateProgress(1.0);
  return 1;
}

bool vtkTrainingDynamics::CollectStep(
  vtkPolyData* input, size_t step, const dualembed::SampleExchange& exchange)
{
  Internals& in = *this->Internal;
  if (step == 0)
  {
    in.Clear();
    vtkAbstractArray* labels = nullptr;
    dualembed::SelectedArray labelValues;
    if (!dualembed::chooseInputArray(
          this, 1, input, { "Labels", dualembed::ArrayRole::Labels }, exchange, labels) ||
      !dualembed::readSelectedArray(this, labels, labelValues))
    {
      return false;
    }
    if (labelValues.dimension != 1)
    {
      vtkErrorMacro("The labels array '"
        << labelValues.name << "' has " << labelValues.dimension
        << " components; choose a one-component class-index array such as 'label'.");
      return false;
    }
    in.Labels.resize(labelValues.values.size());
    for (size_t i = 0; i < in.Labels.size(); ++i)
    {
      const float value = labelValues.values[i];
      in.Labels[i] =
        std::isfinite(value) && value == std::floor(value) ? static_cast<int32_t>(value) : -1;
    }
  }

  // Probabilities (and logits) of this checkpoint, this rank's rows; none at a headless step.
  in.Probs.emplace_back();
  in.Logits.emplace_back();
  // Optional: a headless checkpoint (step 0) has no probabilities.
  vtkAbstractArray* probs = nullptr;
  dualembed::chooseInputArray(this, 0, input,
    { "Probabilities", dualembed::ArrayRole::Probabilities, 0, "probs_ft", true }, exchange, probs);
  if (probs)
  {
    dualembed::SelectedArray values;
    if (!dualembed::readSelectedArray(this, probs, values))
    {
      return false;
    }
    if (in.ProbsName.empty())
    {
      in.ProbsName = values.name;
      in.Classes = values.dimension;
      in.LogitsName = "logits_" + dualembed::resultSuffix(values.name);
    }
    if (values.name != in.ProbsName || values.dimension != in.Classes)
    {
      vtkErrorMacro("Time step " << step + 1 << " has '" << values.name << "' with "
                                 << values.dimension << " classes, the steps before '"
                                 << in.ProbsName << "' with " << in.Classes
                                 << ": the checkpoints must predict the same classes.");
      return false;
    }
    in.Probs.back() = std::move(values.values);
    in.StepsWithPredictions.push_back(step);
    if (vtkAbstractArray* logits = input->GetPointData()->GetAbstractArray(in.LogitsName.c_str()))
    {
      dualembed::SelectedArray logitValues;
      if (dualembed::readSelectedArray(this, logits, logitValues) &&
        logitValues.dimension == in.Classes)
      {
        in.Logits.back() = std::move(logitValues.values);
      }
    }
  }

  if (this->ComputeEmbeddingDrift)
  {
    vtkAbstractArray* embedding = nullptr;
    in.Embeddings.emplace_back();
    if (!dualembed::chooseInputArray(this, 2, input,
          { "Embedding", dualembed::ArrayRole::Embedding, 0, "embedding_ft" }, exchange, embedding))
    {
      vtkErrorMacro("Time step " << step + 1
                                 << " has no embedding to measure the drift with (see above), or "
                                 << "turn ComputeEmbeddingDrift off.");
      return false;
    }
    if (!dualembed::gatherSelectedArray(
          this, embedding, exchange, dualembed::GatherTo::AllRanks, in.Embeddings.back()))
    {
      return false;
    }
    in.EmbeddingName = in.Embeddings.back().name;
  }
  return true;
}

bool vtkTrainingDynamics::ComputeResult(const dualembed::SampleExchange& exchange)
{
  Internals& in = *this->Internal;
  if (in.StepsWithPredictions.empty())
  {
    vtkErrorMacro(
      "No time step has the probabilities array (e.g. probs_ft): training dynamics need the "
      "predictions of the checkpoints (models with a classifier head).");
    return false;
  }
  if (exchange.rank() == 0 && in.StepsWithPredictions.size() < in.Probs.size())
  {
    std::ostringstream message;
    message << "Training Dynamics: " << in.Probs.size() - in.StepsWithPredictions.size() << " of "
            << in.Probs.size() << " time steps have no " << in.ProbsName
            << " (no classifier head); the dynamics use the other "
            << in.StepsWithPredictions.size() << ".\n";
    vtkOutputWindowDisplayText(message.str().c_str());
  }
  if (exchange.rank() == 0 && in.StepsWithPredictions.size() == 1)
  {
    vtkWarningMacro(
      "Only one checkpoint has predictions: variability is 0 and forgetting needs two; "
      "connect a series of checkpoints (Checkpoint Embedding) for the dynamics of training.");
  }
  const int64_t rows = static_cast<int64_t>(in.Labels.size());
  return dualembed::runEngine(
           this, exchange,
           [&] {
             std::vector<engine::CheckpointPredictions> predictions;
             for (size_t step : in.StepsWithPredictions)
             {
               predictions.push_back({ in.Probs[step].data(),
                 in.Logits[step].empty() ? nullptr : in.Logits[step].data() });
             }
             in.Dynamics =
               engine::computeTrainingDynamics(predictions, rows, in.Classes, in.Labels.data());
             in.Drift = engine::EmbeddingDriftResult();
             if (this->ComputeEmbeddingDrift)
             {
               std::vector<engine::FeatureMatrix> embeddings;
               for (const auto& embedding : in.Embeddings)
               {
                 embeddings.push_back(embedding.matrix());
               }
               engine::EmbeddingDriftOptions options;
               options.k = this->K;
               options.queries = { exchange.offset(), exchange.offset() + exchange.localRows() };
               const engine::ProgressCallback progress = dualembed::progressReporter(this);
               options.progress = [&progress](double f) { return progress(0.8 + 0.2 * f); };
               in.Drift = engine::computeEmbeddingDrift(embeddings, options);
             }
           },
           [] {}) != 0;
}

void vtkTrainingDynamics::AddResult(vtkPolyData* output, size_t step)
{
  const Internals& in = *this->Internal;
  const engine::TrainingDynamicsResult& d = in.Dynamics;
  const std::string x = dualembed::resultSuffix(in.ProbsName);
  dualembed::addPointArray<vtkFloatArray>(output, "confidence_" + x, d.confidence);
  dualembed::addPointArray<vtkFloatArray>(output, "variability_" + x, d.variability);
  dualembed::addPointArray<vtkFloatArray>(output, "correctness_" + x, d.correctness);
  dualembed::addPointArray<vtkIntArray>(output, "forgetting_events_" + x, d.forgettingEvents);
  if (!d.aum.empty())
  {
    dualembed::addPointArray<vtkFloatArray>(output, "aum_" + x, d.aum);
  }
  vtkNew<vtkFloatArray> trajectory;
  trajectory->SetName(("label_probability_" + x).c_str());
  trajectory->SetNumberOfComponents(d.checkpoints);
  trajectory->SetNumberOfTuples(static_cast<vtkIdType>(d.confidence.size()));
  std::copy(d.labelProbability.begin(), d.labelProbability.end(), trajectory->GetPointer(0));
  output->GetPointData()->AddArray(trajectory);

  if (this->ComputeEmbeddingDrift && !in.Drift.mean.empty())
  {
    const std::string y = dualembed::resultSuffix(in.EmbeddingName);
    const size_t n = in.Drift.mean.size();
    const size_t t = std::min(step, in.Drift.toPrevious.size() / n - 1);
    const auto slice = [n, t](const std::vector<float>& all) {
      return std::vector<float>(all.begin() + static_cast<std::ptrdiff_t>(t * n),
        all.begin() + static_cast<std::ptrdiff_t>((t + 1) * n));
    };
    dualembed::addPointArray<vtkFloatArray>(
      output, "embedding_drift_" + y, slice(in.Drift.toPrevious));
    dualembed::addPointArray<vtkFloatArray>(
      output, "embedding_drift_to_final_" + y, slice(in.Drift.toFinal));
    dualembed::addPointArray<vtkFloatArray>(output, "mean_embedding_drift_" + y, in.Drift.mean);
  }

  // Which time steps the dynamics are over, for plots and the report.
  vtkNew<vtkDoubleArray> times;
  times->SetName("dynamics_time_steps");
  const std::vector<double>& all = this->Series().times();
  for (size_t s : in.StepsWithPredictions)
  {
    times->InsertNextValue(all.empty() ? 0.0 : all[s]);
  }
  output->GetFieldData()->AddArray(times);
}

void vtkTrainingDynamics::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "ComputeEmbeddingDrift: " << this->ComputeEmbeddingDrift << "\n";
  os << indent << "K: " << this->K << "\n";
}
