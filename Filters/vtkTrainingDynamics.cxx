#include "vtkTrainingDynamics.h"

#include "FilterSupport.h"
#include "TemporalSeries.h"
#include "TimeStepLoop.h"
#include "TrainingDynamics.h"
#include "TrainingDynamicsArrays.h"
#include "TrainingDynamicsInputs.h"

#include "vtkDataObject.h"
#include "vtkObjectFactory.h"

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkTrainingDynamics);

struct vtkTrainingDynamics::Internals
{
  dualembed::CheckpointInputs Inputs; // collected, one entry per time step
  engine::TrainingDynamicsResult Dynamics;
  engine::EmbeddingDriftResult Drift;
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
  return dualembed::runTimeStepLoop(this, series, request,
    { [&] { return this->CollectStep(input, series.step(), exchange); },
      [&] { return this->ComputeResult(exchange); },
      [&] {
        output->ShallowCopy(input);
        this->AddResult(output, series.indexOf(input));
      } });
}

bool vtkTrainingDynamics::CollectStep(
  vtkPolyData* input, size_t step, const dualembed::SampleExchange& exchange)
{
  const size_t steps = this->Series().size();
  this->UpdateProgress(0.8 * static_cast<double>(step) / static_cast<double>(steps));
  if (this->GetAbortExecute())
  {
    vtkWarningMacro("Training Dynamics aborted while reading checkpoint "
      << step + 1 << " of " << steps << ": the output is empty.");
    return false;
  }
  dualembed::CheckpointInputs& in = this->Internal->Inputs;
  if (step == 0)
  {
    in.clear();
    if (!in.readLabels(this, input, exchange))
    {
      return false;
    }
  }
  // A distributed drift keeps each rank's own rows; else every rank gathers all.
  const bool distributed =
    dualembed::searchesDistributed(static_cast<engine::KnnMethod>(this->NeighborMethod), exchange);
  return in.readPredictions(this, input, step, exchange) &&
    (!this->ComputeEmbeddingDrift ||
      in.readEmbedding(this, input, step, exchange,
        distributed ? dualembed::GatherTo::None : dualembed::GatherTo::AllRanks));
}

bool vtkTrainingDynamics::ComputeResult(const dualembed::SampleExchange& exchange)
{
  const dualembed::CheckpointInputs& in = this->Internal->Inputs;
  if (!in.checkPredictions(this, exchange))
  {
    return false;
  }
  return dualembed::runEngine(
           this, exchange,
           [&] {
             this->Internal->Dynamics = in.dynamics();
             this->Internal->Drift = engine::EmbeddingDriftResult();
             if (this->ComputeEmbeddingDrift)
             {
               engine::EmbeddingDriftOptions options;
               options.k = this->K;
               options.neighbors = dualembed::neighborSearch("Training Dynamics",
                 static_cast<engine::KnnMethod>(this->NeighborMethod), &exchange);
               if (!options.neighbors.parts)
               {
                 options.queries = { exchange.offset(), exchange.offset() + exchange.localRows() };
               }
               const engine::ProgressCallback progress = dualembed::progressReporter(this);
               options.progress = [&progress](double f) { return progress(0.8 + 0.2 * f); };
               this->Internal->Drift = in.drift(options);
             }
           },
           [] {}) != 0;
}

void vtkTrainingDynamics::AddResult(vtkPolyData* output, size_t step)
{
  const Internals& result = *this->Internal;
  dualembed::addDynamicsArrays(output, result.Inputs.ProbsName, result.Dynamics);
  if (this->ComputeEmbeddingDrift && !result.Drift.mean.empty())
  {
    dualembed::addDriftArrays(output, result.Inputs.EmbeddingName, result.Drift, step);
  }
  dualembed::addDynamicsTimeSteps(
    output, this->Series().times(), result.Inputs.StepsWithPredictions);
}

void vtkTrainingDynamics::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "ComputeEmbeddingDrift: " << this->ComputeEmbeddingDrift << "\n";
  os << indent << "K: " << this->K << "\n";
  os << indent << "NeighborMethod: " << this->NeighborMethod << "\n";
}
