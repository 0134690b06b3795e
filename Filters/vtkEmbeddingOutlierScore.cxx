#include "vtkEmbeddingOutlierScore.h"

#include "EmbeddingOutlierScore.h"
#include "FilterSupport.h"

#include "vtkDataObject.h"
#include "vtkFloatArray.h"
#include "vtkInformationVector.h"
#include "vtkObjectFactory.h"

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkEmbeddingOutlierScore);

struct vtkEmbeddingOutlierScore::LastResult : dualembed::ReusableResult
{
};

vtkEmbeddingOutlierScore::vtkEmbeddingOutlierScore()
  : Last(new LastResult)
{
  // No name: the first embedding, chosen when the filter runs (chooseInputArray).
  this->SetInputArrayToProcess(0, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "");
}

vtkEmbeddingOutlierScore::~vtkEmbeddingOutlierScore() = default;

int vtkEmbeddingOutlierScore::RequestData(
  vtkInformation* request, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  return dualembed::emptyOnFailure(this, vtkPolyData::GetData(outputVector, 0),
    [&] { return this->Compute(request, inputVector, outputVector); });
}

int vtkEmbeddingOutlierScore::Compute(
  vtkInformation*, vtkInformationVector** inputVector, vtkInformationVector* outputVector)
{
  vtkPolyData* input = vtkPolyData::GetData(inputVector[0], 0);
  vtkPolyData* output = vtkPolyData::GetData(outputVector, 0);
  // Under MPI every rank gets all embeddings, scores its own samples against
  // them, and the median of the mean distances is taken over all ranks.
  const dualembed::SampleExchange exchange(input->GetNumberOfPoints());
  if (dualembed::passEmptyInput(input, output, exchange))
  {
    return 1;
  }
  vtkAbstractArray* selected = nullptr;
  if (!dualembed::chooseInputArray(this, 0, input, { "Embedding", dualembed::ArrayRole::Embedding }, exchange, selected))
  {
    return 0;
  }
  output->ShallowCopy(input);
  if (this->Last->reuse(this, selected, exchange, output))
  {
    return 1;
  }
  dualembed::SelectedArray embedding;
  if (!dualembed::gatherSelectedArray(this, selected, exchange, dualembed::GatherTo::AllRanks, embedding))
  {
    return 0;
  }
  engine::OutlierScoreOptions options;
  options.k = this->K;
  options.metric = static_cast<engine::MetricChoice>(this->Metric);
  options.t = this->T;
  options.scaling = static_cast<engine::DistanceScaling>(this->Scaling);
  options.method = static_cast<engine::KnnMethod>(this->Method);
  options.progress = dualembed::progressReporter(this);
  options.queries = { exchange.offset(), exchange.offset() + exchange.localRows() };
  engine::OutlierScoreResult result;
  const int done = dualembed::runEngine(this, exchange,
    [&] { result = engine::computeEmbeddingOutlierScore(embedding.matrix(), options); },
    [&] {
      const std::vector<double> allMeans = exchange.allGatherRows(result.meanDistance, 1);
      const std::vector<float> scores = exchange.localPart(engine::outlierScoresFromMeanDistances(
        allMeans, engine::resolveMetric(options.metric, embedding.dimension), options.t, options.scaling));
      const std::string x = dualembed::resultSuffix(embedding.name);
      dualembed::addPointArray<vtkFloatArray>(output, "outlier_score_" + x, scores);
      dualembed::addPointArray<vtkFloatArray>(output, "knn_mean_distance_" + x, result.meanDistance);
    });
  if (done)
  {
    const std::string x = dualembed::resultSuffix(embedding.name);
    this->Last->keep(this, selected, output, { "outlier_score_" + x, "knn_mean_distance_" + x });
  }
  return done;
}

void vtkEmbeddingOutlierScore::PrintSelf(ostream& os, vtkIndent indent)
{
  this->Superclass::PrintSelf(os, indent);
  os << indent << "K: " << this->K << "\n";
  os << indent << "Metric: " << this->Metric << "\n";
  os << indent << "T: " << this->T << "\n";
  os << indent << "Scaling: " << this->Scaling << "\n";
  os << indent << "Method: " << this->Method << "\n";
}
