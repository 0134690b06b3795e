#include "TrainingDynamicsInputs.h"

#include "SampleExchange.h"

#include "vtkAlgorithm.h"
#include "vtkOutputWindow.h"
#include "vtkPointData.h"
#include "vtkPolyData.h"

#include <sstream>

namespace dualembed
{
void CheckpointInputs::clear()
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

bool CheckpointInputs::readLabels(
  vtkAlgorithm* filter, vtkPolyData* input, const SampleExchange& exchange)
{
  vtkAbstractArray* labels = nullptr;
  SelectedArray labelValues;
  return chooseInputArray(filter, 1, input, { "Labels", ArrayRole::Labels }, exchange, labels) &&
    readSelectedArray(filter, labels, labelValues) &&
    classIndices(filter, labelValues, this->Labels);
}

bool CheckpointInputs::readPredictions(
  vtkAlgorithm* filter, vtkPolyData* input, size_t step, const SampleExchange& exchange)
{
  this->Probs.emplace_back();
  this->Logits.emplace_back();
  // Optional: a headless checkpoint (step 0) has no probabilities.
  vtkAbstractArray* probs = nullptr;
  chooseInputArray(filter, 0, input,
    { "Probabilities", ArrayRole::Probabilities, 0, "probs_ft", true }, exchange, probs);
  if (!probs)
  {
    return true;
  }
  SelectedArray values;
  if (!readSelectedArray(filter, probs, values))
  {
    return false;
  }
  if (this->ProbsName.empty())
  {
    this->ProbsName = values.name;
    this->Classes = values.dimension;
    this->LogitsName = "logits_" + resultSuffix(values.name);
  }
  if (values.name != this->ProbsName || values.dimension != this->Classes)
  {
    vtkErrorWithObjectMacro(filter,
      "Time step " << step + 1 << " has '" << values.name << "' with " << values.dimension
                   << " classes, the steps before '" << this->ProbsName << "' with "
                   << this->Classes << ": the checkpoints must predict the same classes.");
    return false;
  }
  this->Probs.back() = values.takeValues();
  this->StepsWithPredictions.push_back(step);
  if (vtkAbstractArray* logits = input->GetPointData()->GetAbstractArray(this->LogitsName.c_str()))
  {
    SelectedArray logitValues;
    if (readSelectedArray(filter, logits, logitValues) && logitValues.dimension == this->Classes)
    {
      this->Logits.back() = logitValues.takeValues();
    }
  }
  return true;
}

bool CheckpointInputs::readEmbedding(vtkAlgorithm* filter, vtkPolyData* input, size_t step,
  const SampleExchange& exchange, GatherTo where)
{
  vtkAbstractArray* embedding = nullptr;
  this->Embeddings.emplace_back();
  if (!chooseInputArray(filter, 2, input, { "Embedding", ArrayRole::Embedding, 0, "embedding_ft" },
        exchange, embedding))
  {
    vtkErrorWithObjectMacro(filter,
      "Time step " << step + 1 << " has no embedding to measure the drift with (see above), or "
                   << "turn ComputeEmbeddingDrift off.");
    return false;
  }
  if (!gatherSelectedArray(filter, embedding, exchange, where, this->Embeddings.back()))
  {
    return false;
  }
  this->Embeddings.back().own();
  this->EmbeddingName = this->Embeddings.back().name;
  return true;
}

bool CheckpointInputs::checkPredictions(vtkAlgorithm* filter, const SampleExchange& exchange) const
{
  if (this->StepsWithPredictions.empty())
  {
    vtkErrorWithObjectMacro(filter,
      "No time step has the probabilities array (e.g. probs_ft): training dynamics need the "
      "predictions of the checkpoints (models with a classifier head).");
    return false;
  }
  if (exchange.rank() == 0 && this->StepsWithPredictions.size() < this->Probs.size())
  {
    std::ostringstream message;
    message << "Training Dynamics: " << this->Probs.size() - this->StepsWithPredictions.size()
            << " of " << this->Probs.size() << " time steps have no " << this->ProbsName
            << " (no classifier head); the dynamics use the other "
            << this->StepsWithPredictions.size() << ".\n";
    vtkOutputWindowDisplayText(message.str().c_str());
  }
  if (exchange.rank() == 0 && this->StepsWithPredictions.size() == 1)
  {
    vtkWarningWithObjectMacro(filter,
      "Only one checkpoint has predictions: variability is 0 and forgetting needs two; "
      "connect a series of checkpoints (Checkpoint Embedding) for the dynamics of training.");
  }
  return true;
}

engine::TrainingDynamicsResult CheckpointInputs::dynamics() const
{
  std::vector<engine::CheckpointPredictions> predictions;
  for (size_t step : this->StepsWithPredictions)
  {
    predictions.push_back({ this->Probs[step].data(),
      this->Logits[step].empty() ? nullptr : this->Logits[step].data() });
  }
  const int64_t rows = static_cast<int64_t>(this->Labels.size());
  return engine::computeTrainingDynamics(predictions, rows, this->Classes, this->Labels.data());
}

engine::EmbeddingDriftResult CheckpointInputs::drift(
  const engine::EmbeddingDriftOptions& options) const
{
  std::vector<engine::FeatureMatrix> embeddings;
  for (const auto& embedding : this->Embeddings)
  {
    embeddings.push_back(embedding.matrix());
  }
  return engine::computeEmbeddingDrift(embeddings, options);
}
}
