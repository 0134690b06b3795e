"""The batch report in pvbatch: the whole pipeline on 300 Fashion-MNIST images with the bundled
demo models, then every promised file, with the expected content. CTest runs it serially and on
2 MPI ranks (DUALEMBED_EXPECTED_RANKS)."""
import csv
import os
import tempfile

from paraview import servermanager, simple

from dualembed_testing import check, load_plugin

load_plugin()
from dualembed import report

ranks = servermanager.vtkProcessModule.GetProcessModule().GetNumberOfLocalPartitions()
check(ranks == int(os.environ.get("DUALEMBED_EXPECTED_RANKS", "1")), "running on %d ranks" % ranks)

models = os.path.join(os.environ["DUALEMBED_TESTING_DATA_DIR"], "..", "..", "Data", "models")
out = tempfile.mkdtemp(prefix="dualembed-report-")
result = report.run("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                    os.path.join(models, "fashion-vit-foundation"), os.path.join(models, "fashion-vit-ft"),
                    out, max_samples=300, csv_rows=20)
check(result["precision"] == "float32", "report precision %r" % result["precision"])
names = sorted(os.path.basename(f) for f in result["files"])
expected = sorted(["results.h5", "map_foundation_label.png", "map_foundation_outlier_score.png",
                   "gallery_foundation_outliers.png", "map_ft_label.png", "map_ft_outlier_score.png",
                   "gallery_ft_outliers.png", "map_embedding_change.png", "top_outliers.csv",
                   "open_in_paraview.py", "data_issues.csv", "gallery_label_issues_ft.png",
                   "gallery_most_mistaken_ft.png", "gallery_hardest_ft.png"] +
                  ["gallery_%s_%s.png" % (kind, tag) for tag in ("foundation", "ft")
                   for kind in ("knn_label_issues", "near_duplicates", "least_unique")])
check(names == expected, "report files %s" % names)
for path in result["files"]:
    check(os.path.getsize(path) > 100, "%s is empty" % path)
for stage in ("embedding (foundation)", "embedding (ft)", "UMAP (ft)", "pictures", "prediction outlier score (ft)",
              "data issues", "table of data issues"):
    check(stage in result["seconds"], "stage %r did not run" % stage)

rows = list(csv.DictReader(open(os.path.join(out, "top_outliers.csv"))))
check(len(rows) == 20, "CSV has %d rows" % len(rows))
scores = [float(r["outlier_score_foundation"]) for r in rows]
check(scores == sorted(scores), "CSV not sorted by outlier_score_foundation")
check(all(0 <= int(r["nn_sample_id_foundation"]) < 300 for r in rows), "neighbour ids out of range")

# The table of issue counts: one row per issue type and source, counts as in the results file.
issues = list(csv.DictReader(open(os.path.join(out, "data_issues.csv"))))
kinds = [(r["issue"], r["source"]) for r in issues]
check(kinds == [("label issue", "probs_ft"), ("label issue (kNN)", "embedding_foundation"),
                ("label issue (kNN)", "embedding_ft"), ("near duplicate", "embedding_foundation"),
                ("near duplicate", "embedding_ft"), ("non-IID", "embedding_foundation"), ("non-IID", "embedding_ft"),
                ("class imbalance", "labels")], "data_issues.csv rows %s" % kinds)

# The results file opens again with both maps' coordinates.
samples = simple.DualEmbedSamplesReader(FileName=os.path.join(out, "results.h5"))
samples.UpdatePipeline()
arrays = samples.PointData.keys()
for name in ("embedding_foundation", "embedding_ft", "umap_foundation", "umap_ft", "outlier_score_ft",
             "nn_id_foundation", "embedding_change", "probs_ft", "label_quality_ft", "is_label_issue_ft",
             "is_knn_label_issue_foundation", "near_duplicate_set_ft", "uniqueness_foundation", "mistakenness_ft"):
    check(name in arrays, "results file lacks %s" % name)
import numpy as np
from vtkmodules.util.numpy_support import vtk_to_numpy
stored = servermanager.Fetch(samples).GetPointData()
for row in issues[:5]:
    name = {"label issue": "is_label_issue_", "label issue (kNN)": "is_knn_label_issue_",
            "near duplicate": "is_near_duplicate_"}[row["issue"]] + row["source"].split("_", 1)[1]
    check(int(row["count"]) == np.count_nonzero(vtk_to_numpy(stored.GetArray(name))),
          "data_issues.csv count of %s" % name)
print("Batch report on %d rank(s): %d files, CSV and results file as documented." % (ranks, len(names)))
