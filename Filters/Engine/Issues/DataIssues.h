// Data issues of a labelled dataset (no VTK), as cleanlab's Datalab and
// FiftyOne's brain find them (Documentation/DATA-ISSUES.md says which source
// lines each part follows):
//
// - label issues (cleanlab CleanLearning.find_label_issues = filter.
//   find_label_issues, filter_by "prune_by_noise_rate", on the calibrated
//   confident joint, min_examples_per_class 10) and the label score
//   (rank.get_label_quality_scores, self-confidence), from predicted
//   probabilities or, for an embedding alone, from Datalab's out-of-sample kNN
//   probabilities (KNeighborsClassifier with k + 1 euclidean neighbours, the
//   sample's own vote removed);
// - near duplicates (Datalab near_duplicate: neighbours closer than 0.13 x
//   the median nearest-neighbour distance, score 1 - exp(-d1 / median)), with
//   a set id per connected group;
// - non-IID (Datalab non_iid: KS statistic of the index distances of kNN
//   pairs, p-value from 25 permutations and a Gaussian KDE) and class
//   imbalance (Datalab class_imbalance): dataset facts;
// - FiftyOne's uniqueness (from an embedding), mistakenness and hardness
//   (from logits, or probabilities).
//
// Where cleanlab orders tied values with NumPy's argsort (quicksort), the same
// introsort is used here, so that flags agree on ties too. Computations are in
// double; per-sample scores are stored as float.
#ifndef DualEmbed_Engine_DataIssues_h
#define DualEmbed_Engine_DataIssues_h

#include "NearestNeighbors.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dualembed
{
namespace engine
{

struct DataIssuesOptions
{
  bool labelIssues = true;    // from the probabilities and from each embedding
  bool nearDuplicates = true; // per embedding
  bool nonIid = true;         // per embedding (dataset fact)
  bool classImbalance = true; // dataset fact, from the labels
  bool uniqueness = true;     // FiftyOne, per embedding
  bool mistakenness = true;   // FiftyOne mistakenness and hardness, from the probabilities / logits
  int k = 10;                 // Datalab's k (kNN graph and kNN label votes)
  double nearDuplicateThreshold = 0.13; // Datalab's near_duplicate threshold
  int nonIidPermutations = 25;
  unsigned int nonIidSeed = 0;
  double nonIidSignificance = 0.05;
  double classImbalanceThreshold = 0.1;
  int minExamplesPerClass = 10; // CleanLearning's default for find_label_issues
  NeighborSearch neighbors;     // of every kNN graph (auto: exact up to 200 000 rows)
  ProgressCallback progress;
};

/// What the issues are computed from. All matrices have `rows` rows.
struct DataIssuesInput
{
  int64_t rows = 0;
  const int32_t* labels = nullptr; // class index per sample, >= 0
  std::vector<FeatureMatrix> embeddings;
  FeatureMatrix probabilities; // N x K, or rows == 0 when absent
  FeatureMatrix logits; // N x K, optional: FiftyOne's scores use softmax(logits) when present
};

struct LabelIssueResult
{
  std::vector<uint8_t> isIssue;        // is_label_issue
  std::vector<float> score;            // label_score (self-confidence)
  std::vector<int64_t> confidentJoint; // K x K, calibrated, [given][true]
  int64_t count = 0;
};

struct NearDuplicateResult
{
  std::vector<uint8_t> isIssue;
  std::vector<float> score;
  std::vector<int64_t> setId; // smallest sample index of the sample's group, -1 outside any
  double medianNnDistance = 0;
  int64_t count = 0;
  int64_t sets = 0;
};

struct NonIidResult
{
  double pValue = 1;
  double statistic = 0;
  std::vector<double> scores; // Datalab's per-sample non_iid_score
  int64_t flagged = -1;       // the lowest-scoring sample when p < significance
};

struct ClassImbalanceResult
{
  int rarestClass = -1;
  double rarestFraction = 0;
  double thresholdFraction = 0; // threshold x 1 / (number of distinct labels)
  bool isIssue = false;
};

struct EmbeddingIssues
{
  LabelIssueResult labels;
  NearDuplicateResult nearDuplicates;
  NonIidResult nonIid;
  std::vector<float> uniqueness;
};

struct DataIssuesResult
{
  int classes = 0;
  bool hasPredictions = false;
  LabelIssueResult predictionLabels;
  std::vector<float> mistakenness;
  std::vector<float> hardness;
  ClassImbalanceResult classImbalance;
  std::vector<EmbeddingIssues> embeddings; // in the order of the input embeddings
};

/// The kNN graphs the issues need, per embedding (empty where an option is
/// off): cosine (auto metric) k neighbours for near duplicates and non-IID,
/// euclidean k neighbours for the label votes, cosine 4 neighbours of the
/// centred embedding for uniqueness. Rows [begin, end) only, so that an MPI
/// rank computes its share; progress and abort honoured.
struct IssueNeighbors
{
  std::vector<KnnResult> graph;
  std::vector<KnnResult> votes;
  std::vector<KnnResult> unique;
};

/// Validates the input (throws ModelError with a sentence a user can act on).
/// Returns the number of classes K.
int validateDataIssuesInput(const DataIssuesInput& input, const DataIssuesOptions& options);

IssueNeighbors computeIssueNeighbors(
  const DataIssuesInput& input, const DataIssuesOptions& options, int64_t begin, int64_t end);

/// Everything else, from the neighbours of all rows (no kNN search here).
DataIssuesResult computeDataIssues(
  const DataIssuesInput& input, const DataIssuesOptions& options, const IssueNeighbors& all);

/// Both steps for all rows.
DataIssuesResult computeDataIssues(const DataIssuesInput& input, const DataIssuesOptions& options);

/// Predicted class probabilities (cleanlab's pred_probs), read one row or
/// one value at a time, so that no N x K matrix of doubles is made: for
/// 10^6 samples of 1000 classes it would take 8 GB.
class ClassProbabilities
{
public:
  virtual ~ClassProbabilities() = default;
  virtual int classes() const = 0;
  /// The `classes()` values of row i.
  virtual void row(int64_t i, double* out) const = 0;
  /// p[i][c].
  virtual double value(int64_t i, int c) const = 0;
};

// The parts, for tests.
LabelIssueResult findLabelIssues(const ClassProbabilities& probabilities, int64_t rows,
  const int32_t* labels, int minExamplesPerClass = 10);
NearDuplicateResult findNearDuplicates(const KnnResult& graph, double threshold = 0.13);
NonIidResult testNonIid(
  const KnnResult& graph, int permutations = 25, unsigned int seed = 0, double significance = 0.05);
ClassImbalanceResult findClassImbalance(
  const int32_t* labels, int64_t rows, double threshold = 0.1);

} // namespace engine
} // namespace dualembed

#endif
