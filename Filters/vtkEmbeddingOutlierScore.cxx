#include "vtkEmbeddingOutlierScore.h"

#include "EmbeddingOutlierScore.h"
#include "FilterSupport.h"

#include "vtkDataObject.h"
#include "vtkFloatArray.h"
#include "vtkObjectFactory.h"

namespace engine = dualembed::engine;

vtkStandardNewMacro(vtkEmbeddingOutlierScore);

vtkEmbeddingOutlierScore::vtkEmbeddingOutlierScore()
{
  // No name: the first embedding, chosen when the filter runs (chooseInputArray).
  this->SetInputArrayToProcess(0, 0, 0, vtkDataObject::FIELD_ASSOCIATION_POINTS, "");
}

vtkEmbeddingOutlierScore::~vtkEmbeddingOutlierScore() = default;

int vtkEmbeddingOutlierScore::Execute(vtkInformation*, vtkPolyData* input, vtkPolyData* output,
  const dualembed::SampleExchange& exchange)
{
  // Under MPI every rank scores its own samples, against all embeddings
  // gathered on every rank, or, above the exact limit, through the
  // distributed search (each rank indexes its own rows); the median of the
  // mean distances is taken over all ranks.
  engine::OutlierScoreOptions options;
  options.k = this->K;
  options.metric = static_cast<engine::MetricChoice>(this->Metric);
  options.t = this->T;
  options.scaling = static_cast<engine::DistanceScaling>(this->Scaling);
  options.neighbors = dualembed::neighborSearch(
    "Embedding Outlier Score", static_cast<engine::KnnMethod>(this->Method), &exchange);
  options.progress = dualembed::progressReporter(this);
  const bool distributed = options.neighbors.parts != nullptr;
  if (!distributed)
  {
    options.queries = { exchange.offset(), exchange.offset() + exchange.localRows() };
  }
  engine::OutlierScoreResult result;
  return this->ExecuteOnGatheredArray(
    input, output, exchange, { "Embedding", dualembed::ArrayRole::Embedding },
    [&](const dualembed::SelectedArray& embedding) {
      result = engine::computeEmbeddingOutlierScore(embedding.matrix(), options);
    },
    [&](const dualembed::SelectedArray& embedding) {
      const std::vector<double> allMeans = exchange.allGatherRows(result.meanDistance, 1);
      const std::vector<float> scores =
        exchange.localPart(engine::outlierScoresFromMeanDistances(allMeans,
          engine::resolveMetric(options.metric, embedding.dimension), options.t, options.scaling));
      const std::string x = dualembed::resultSuffix(embedding.name);
      dualembed::addPointArray<vtkFloatArray>(output, "outlier_score_" + x, scores);
      dualembed::addPointArray<vtkFloatArray>(
        output, "knn_mean_distance_" + x, result.meanDistance);
      return std::vector<std::string>{ "outlier_score_" + x, "knn_mean_distance_" + x };
    },
    !distributed);
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
