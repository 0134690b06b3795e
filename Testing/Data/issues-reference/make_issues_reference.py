#!/usr/bin/python3
"""Writes the expected results of the Data Issues tests (step 2 of 2, after make_issues_inputs.py).

    CLEANLAB_SOURCE=/tmp/cleanlab-src /usr/bin/python3 Testing/Data/issues-reference/make_issues_reference.py

(see issues_reference.py for the cleanlab source tree). Inputs: the .npy files of
make_issues_inputs.py; the embeddings and probabilities are float32 there and are given to
cleanlab and to the FiftyOne formulas as float64 copies (what the filter computes in).

Writes expected_*.npy beside this script:
  expected_<source>_is_label_issue_u1 / _label_score_f8   sources: probs_ft, embedding_foundation, embedding_ft
  expected_<emb>_is_near_duplicate_u1 / _near_duplicate_score_f8 / _near_duplicate_set_i8
  expected_<emb>_non_iid_f8      [p-value, KS statistic, flagged sample or -1], then the per-sample scores
  expected_<emb>_uniqueness_f8
  expected_ft_mistakenness_f8, expected_ft_hardness_f8   (from logits_ft)
  expected_class_imbalance_f8    [rarest class, its fraction, issue 0/1] on all samples, then on
                                 the subset imbalanced_subset_i8 (class 0 cut to 2 % of its samples)
  expected_sorted_non_iid_f8     non-IID of embedding_foundation with the samples sorted by label
                                 (stable), order in sorted_order_i8
and prints the recovery of the flipped labels and the near-duplicate sets per embedding.
"""
import os

import numpy as np

import issues_reference as ref

HERE = os.path.dirname(os.path.abspath(__file__))
K = 10


def load(name):
    return np.load(os.path.join(HERE, name))


def save(name, array):
    np.save(os.path.join(HERE, name), np.ascontiguousarray(array))


labels = load("labels_i4.npy").astype(np.int64)
flipped = load("flipped_i8.npy")
duplicates = load("duplicates_i8.npy")
probs = load("probs_ft_f4.npy").astype(np.float64)
logits = load("logits_ft_f4.npy").astype(np.float64)
embeddings = {x: load("embedding_%s_f4.npy" % x).astype(np.float64) for x in ("foundation", "ft")}

result = ref.label_issues(labels, K, pred_probs=probs)
save("expected_probs_ft_is_label_issue_u1.npy", result["is_issue"].astype(np.uint8))
save("expected_probs_ft_label_score_f8.npy", result["score"])
recall, precision = ref.recovery(result["is_issue"], flipped)
print("label issues from probs_ft: %d flagged, flipped recovered %.1f %% (precision %.1f %%)"
      % (result["is_issue"].sum(), 100 * recall, 100 * precision))

sets = {}
for x, features in embeddings.items():
    result = ref.label_issues(labels, K, features=features)
    save("expected_embedding_%s_is_label_issue_u1.npy" % x, result["is_issue"].astype(np.uint8))
    save("expected_embedding_%s_label_score_f8.npy" % x, result["score"])
    recall, precision = ref.recovery(result["is_issue"], flipped)
    print("label issues from embedding_%s (kNN): %d flagged, flipped recovered %.1f %% (precision %.1f %%)"
          % (x, result["is_issue"].sum(), 100 * recall, 100 * precision))

    result = ref.near_duplicates(labels, K, features)
    save("expected_embedding_%s_is_near_duplicate_u1.npy" % x, result["is_issue"].astype(np.uint8))
    save("expected_embedding_%s_near_duplicate_score_f8.npy" % x, result["score"])
    save("expected_embedding_%s_near_duplicate_set_i8.npy" % x, result["set_id"])
    ids = result["set_id"]
    sets[x] = {frozenset(np.flatnonzero(ids == s)) for s in np.unique(ids[ids >= 0])}
    inserted = sum(ids[c] >= 0 and ids[c] == ids[o] for c, o in duplicates)
    print("near duplicates in embedding_%s: %d samples in %d sets (median nn distance %.4g); "
          "%d of %d inserted copies share a set with their original"
          % (x, result["is_issue"].sum(), len(sets[x]), result["median_nn_distance"], inserted, len(duplicates)))

    result = ref.non_iid(labels, K, features)
    save("expected_embedding_%s_non_iid_f8.npy" % x,
         np.concatenate([[result["p_value"], result["statistic"], result["flagged"]], result["score"]]))
    print("non-IID embedding_%s: p = %.4g, KS = %.4g" % (x, result["p_value"], result["statistic"]))

    save("expected_embedding_%s_uniqueness_f8.npy" % x, ref.uniqueness(features))

common = sets["foundation"] & sets["ft"]
print("near-duplicate sets: %d foundation, %d fine-tuned, %d identical in both"
      % (len(sets["foundation"]), len(sets["ft"]), len(common)))

save("expected_ft_mistakenness_f8.npy", ref.mistakenness(logits, labels))
save("expected_ft_hardness_f8.npy", ref.hardness(logits))

# Class imbalance on all samples (balanced) and on a subset where class 0 is rare.
rng = np.random.default_rng(7)
class0 = np.flatnonzero(labels == 0)
keep0 = np.sort(rng.choice(class0, size=max(1, len(class0) // 50), replace=False))
subset = np.sort(np.concatenate([np.flatnonzero(labels != 0), keep0]))
save("imbalanced_subset_i8.npy", subset)
rows = []
for lab in (labels, labels[subset]):
    result = ref.class_imbalance(lab, K)
    rows.append([result["rarest_class"], result["rarest_fraction"], float(result["is_issue"])])
    print("class imbalance (%d samples): rarest class %d, fraction %.4f, issue %s"
          % (len(lab), result["rarest_class"], result["rarest_fraction"], result["is_issue"]))
save("expected_class_imbalance_f8.npy", np.array(rows))

# Non-IID on an ordering that is not IID: the samples sorted by label.
order = np.argsort(labels, kind="stable")
save("sorted_order_i8.npy", order.astype(np.int64))
result = ref.non_iid(labels[order], K, embeddings["foundation"][order])
save("expected_sorted_non_iid_f8.npy",
     np.concatenate([[result["p_value"], result["statistic"], result["flagged"]], result["score"]]))
print("non-IID sorted by label: p = %.4g, KS = %.4g, flagged sample %d"
      % (result["p_value"], result["statistic"], result["flagged"]))
