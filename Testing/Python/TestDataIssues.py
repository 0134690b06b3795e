"""Data Issues end to end: arrays, field data and messages against the cleanlab / FiftyOne reference.

3000 Fashion-MNIST test images with 2 % of the labels flipped and 32 inserted duplicates,
embedded with the demo models (Testing/Data/issues-reference, made by make_issues_inputs.py;
expected values from cleanlab's issue managers and FiftyOne's formulas, make_issues_reference.py).
Flags must be identical and scores within 1e-6.
"""
import os

import numpy as np
from paraview import servermanager, simple

from dualembed_testing import CapturedMessages, check, load_plugin, point_array, producer

load_plugin()
ref_dir = os.path.join(os.environ["DUALEMBED_TESTING_DATA_DIR"], "issues-reference")


def ref(name):
    return np.load(os.path.join(ref_dir, name))


N = 3000
samples = simple.ImageDatasetReader(
    FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=N)
fetched = servermanager.Fetch(samples)
arrays = {
    "embedding_foundation": ref("embedding_foundation_f4.npy"),
    "embedding_ft": ref("embedding_ft_f4.npy"),
    "probs_ft": ref("probs_ft_f4.npy"),
    "logits_ft": ref("logits_ft_f4.npy"),
}
fetched.GetPointData().RemoveArray("label")
source = producer(fetched, label=ref("labels_i4.npy"), **arrays)


def field(data, name):
    from vtkmodules.util.numpy_support import vtk_to_numpy
    array = data.GetFieldData().GetArray(name)
    check(array is not None, "no field-data array %r" % name)
    names = [array.GetComponentName(c) for c in range(array.GetNumberOfComponents())]
    return dict(zip(names, vtk_to_numpy(array).reshape(-1)))


def same_flags(data, name, expected_file):
    ours = point_array(data, name)
    expected = ref(expected_file)
    differ = int(np.sum(ours != expected))
    print("%-34s %4d flagged, %d differ from the reference" % (name, int(ours.sum()), differ))
    check(ours.dtype == np.uint8 and differ == 0, "%s differs from the reference on %d samples" % (name, differ))


def close_scores(data, name, expected, tol=1e-6):
    diff = np.abs(point_array(data, name).astype(np.float64) - expected).max()
    print("%-34s max abs diff %.2e" % (name, diff))
    check(diff <= tol, "%s differs from the reference by %.3g" % (name, diff))


with CapturedMessages() as messages:
    issues = simple.DataIssues(Input=source)
    data = servermanager.Fetch(issues)
check("rror" not in messages.text, "unexpected error: " + messages.text)
# Defaults: the two embeddings and probs_ft.
check(issues.EmbeddingA[1] == "embedding_foundation" and issues.EmbeddingB[1] == "embedding_ft"
      and issues.Probabilities[1] == "probs_ft", "defaults %s %s %s" % (issues.EmbeddingA, issues.EmbeddingB,
                                                                      issues.Probabilities))
check(data.GetNumberOfPoints() == N, "points lost")

same_flags(data, "is_label_issue_ft", "expected_probs_ft_is_label_issue_u1.npy")
close_scores(data, "label_score_ft", ref("expected_probs_ft_label_score_f8.npy"))
close_scores(data, "mistakenness_ft", ref("expected_ft_mistakenness_f8.npy"))
close_scores(data, "hardness_ft", ref("expected_ft_hardness_f8.npy"))
flipped = ref("flipped_i8.npy")
duplicates = ref("duplicates_i8.npy")
recovered = {"probs_ft": point_array(data, "is_label_issue_ft")[flipped].mean()}
for x in ("foundation", "ft"):
    same_flags(data, "is_knn_label_issue_" + x, "expected_embedding_%s_is_label_issue_u1.npy" % x)
    close_scores(data, "knn_label_score_" + x, ref("expected_embedding_%s_label_score_f8.npy" % x))
    same_flags(data, "is_near_duplicate_" + x, "expected_embedding_%s_is_near_duplicate_u1.npy" % x)
    close_scores(data, "near_duplicate_score_" + x, ref("expected_embedding_%s_near_duplicate_score_f8.npy" % x))
    sets = point_array(data, "near_duplicate_set_" + x)
    check(np.array_equal(sets, ref("expected_embedding_%s_near_duplicate_set_i8.npy" % x)),
          "near_duplicate_set_%s differs" % x)
    check(all(sets[c] >= 0 and sets[c] == sets[o] for c, o in duplicates),
          "an inserted duplicate is not in its original's set (%s)" % x)
    close_scores(data, "uniqueness_" + x, ref("expected_embedding_%s_uniqueness_f8.npy" % x))
    expected = ref("expected_embedding_%s_non_iid_f8.npy" % x)
    fact = field(data, "non_iid_" + x)
    check(abs(fact["p_value"] - expected[0]) <= 1e-6 and abs(fact["ks_statistic"] - expected[1]) <= 1e-6
          and fact["is_issue"] == 0 and fact["flagged_sample"] == expected[2], "non_iid_%s %s" % (x, fact))
    fact = field(data, "near_duplicate_" + x)
    check(fact["samples"] == sets[sets >= 0].size and fact["sets"] == np.unique(sets[sets >= 0]).size,
          "near_duplicate_%s %s" % (x, fact))
    recovered["embedding_" + x] = point_array(data, "is_knn_label_issue_" + x)[flipped].mean()
imbalance = field(data, "class_imbalance")
expected = ref("expected_class_imbalance_f8.npy")
check(imbalance["rarest_class"] == expected[0, 0] and abs(imbalance["rarest_fraction"] - expected[0, 1]) < 1e-12
      and imbalance["is_issue"] == 0, "class_imbalance %s" % imbalance)
for source_name, rate in recovered.items():
    print("flipped labels recovered from %-22s %.1f %%" % (source_name, 100 * rate))
check("Data Issues" not in messages.text, "a message without an issue: " + messages.text)

# Switched off: no arrays of that type.
issues.NearDuplicates = 0
issues.Uniqueness = 0
data = servermanager.Fetch(issues)
check(data.GetPointData().GetArray("is_near_duplicate_ft") is None and data.GetPointData().GetArray(
    "uniqueness_ft") is None and data.GetPointData().GetArray("is_label_issue_ft") is not None,
    "switching near duplicates and uniqueness off")

# Dataset facts as issues: a class cut to 2 % of its samples, and samples sorted by label.
labels = ref("labels_i4.npy")
subset = ref("imbalanced_subset_i8.npy")
order = ref("sorted_order_i8.npy")


def subset_source(rows):
    from vtkmodules.vtkCommonDataModel import vtkPolyData
    from vtkmodules.vtkCommonCore import vtkPoints
    from vtkmodules.util.numpy_support import numpy_to_vtk
    poly = vtkPolyData()
    points = vtkPoints()
    points.SetData(numpy_to_vtk(np.zeros((len(rows), 3), dtype=np.float32), deep=1))
    poly.SetPoints(points)
    return producer(poly, label=labels[rows], embedding_foundation=arrays["embedding_foundation"][rows])


with CapturedMessages() as messages:
    rare = simple.DataIssues(Input=subset_source(subset), LabelIssues=0, NearDuplicates=0, NonIID=0, Uniqueness=0)
    data = servermanager.Fetch(rare)
imbalance = field(data, "class_imbalance")
check(imbalance["is_issue"] == 1 and imbalance["rarest_class"] == expected[1, 0]
      and abs(imbalance["rarest_fraction"] - expected[1, 1]) < 1e-12, "imbalanced subset %s" % imbalance)
check("class imbalance: class 0" in messages.text, "no class-imbalance message: " + messages.text)
# Optional inputs that nothing fits are left empty (not the labels, not a final None): the filter
# applies the same rule when it runs and takes none, as the run above shows.
check(rare.EmbeddingB[1] == "" and rare.Probabilities[1] == "",
      "optional inputs without arrays should be left to the filter: %s %s" % (rare.EmbeddingB, rare.Probabilities))

with CapturedMessages() as messages:
    ordered = simple.DataIssues(Input=subset_source(order), LabelIssues=0, NearDuplicates=0, Uniqueness=0)
    data = servermanager.Fetch(ordered)
fact = field(data, "non_iid_foundation")
expected = ref("expected_sorted_non_iid_f8.npy")
check(fact["is_issue"] == 1 and abs(fact["p_value"] - expected[0]) <= 1e-6 and fact["flagged_sample"] == expected[2],
      "non-IID of the sorted samples %s" % fact)
check("not IID in 'embedding_foundation'" in messages.text, "no non-IID message: " + messages.text)
print("OK")
