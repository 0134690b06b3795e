/**
 * @class   vtkDataIssues
 * @brief   Label issues, near duplicates, non-IID and class imbalance as cleanlab's Datalab finds
 *          them, and FiftyOne's uniqueness, mistakenness and hardness, in one pass.
 *
 * Inputs (point data): up to two embeddings (`embedding_<X>`), class
 * probabilities (`probs_<X>`, with `logits_<X>` used by FiftyOne's scores
 * when present) and the labels. Adds, per embedding X:
 * `is_knn_label_issue_X`, `knn_label_score_X` (Datalab's label check from
 * features alone), `is_near_duplicate_X`, `near_duplicate_score_X`,
 * `near_duplicate_set_X`, `uniqueness_X`; per probability array X:
 * `is_label_issue_X`, `label_score_X`, `mistakenness_X`, `hardness_X`; and
 * field data `near_duplicate_X`, `non_iid_X` and `class_imbalance` (dataset
 * facts, also reported in the output window when they are issues).
 * Documentation/DATA-ISSUES.md gives the formulas and the cleanlab / FiftyOne
 * code they follow.
 */
#ifndef vtkDataIssues_h
#define vtkDataIssues_h

#include "DualEmbedFiltersModule.h" // for export macro
#include "vtkSampleFilter.h"

class DUALEMBEDFILTERS_EXPORT vtkDataIssues : public vtkSampleFilter
{
public:
  static vtkDataIssues* New();
  vtkTypeMacro(vtkDataIssues, vtkSampleFilter);
  void PrintSelf(ostream& os, vtkIndent indent) override;

  ///@{
  /// Which issue types to compute (all on by default).
  vtkSetMacro(LabelIssues, bool);
  vtkGetMacro(LabelIssues, bool);
  vtkSetMacro(NearDuplicates, bool);
  vtkGetMacro(NearDuplicates, bool);
  vtkSetMacro(NonIid, bool);
  vtkGetMacro(NonIid, bool);
  vtkSetMacro(ClassImbalance, bool);
  vtkGetMacro(ClassImbalance, bool);
  vtkSetMacro(Uniqueness, bool);
  vtkGetMacro(Uniqueness, bool);
  vtkSetMacro(Mistakenness, bool);
  vtkGetMacro(Mistakenness, bool);
  ///@}

  ///@{
  /// Datalab's k: neighbours of the kNN graph and of the kNN label votes (10).
  vtkSetClampMacro(K, int, 1, 1000);
  vtkGetMacro(K, int);
  ///@}

  ///@{
  /// Datalab's near-duplicate threshold, relative to the median nearest-neighbour distance (0.13).
  vtkSetClampMacro(NearDuplicateThreshold, double, 0.0, 100.0);
  vtkGetMacro(NearDuplicateThreshold, double);
  ///@}

protected:
  vtkDataIssues();
  ~vtkDataIssues() override = default;

  int Execute(vtkInformation* request, vtkPolyData* input, vtkPolyData* output,
    const dualembed::SampleExchange& exchange) override;

private:
  vtkDataIssues(const vtkDataIssues&) = delete;
  void operator=(const vtkDataIssues&) = delete;

  bool LabelIssues = true;
  bool NearDuplicates = true;
  bool NonIid = true;
  bool ClassImbalance = true;
  bool Uniqueness = true;
  bool Mistakenness = true;
  int K = 10;
  double NearDuplicateThreshold = 0.13;
};

#endif
