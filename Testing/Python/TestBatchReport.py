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
                   "open_in_paraview.py"])
check(names == expected, "report files %s" % names)
for path in result["files"]:
    check(os.path.getsize(path) > 100, "%s is empty" % path)
for stage in ("embedding (foundation)", "embedding (ft)", "UMAP (ft)", "pictures", "prediction outlier score (ft)"):
    check(stage in result["seconds"], "stage %r did not run" % stage)

rows = list(csv.DictReader(open(os.path.join(out, "top_outliers.csv"))))
check(len(rows) == 20, "CSV has %d rows" % len(rows))
scores = [float(r["outlier_score_foundation"]) for r in rows]
check(scores == sorted(scores), "CSV not sorted by outlier_score_foundation")
check(all(0 <= int(r["nn_sample_id_foundation"]) < 300 for r in rows), "neighbour ids out of range")

# The results file opens again with both maps' coordinates.
samples = simple.DualEmbedSamplesReader(FileName=os.path.join(out, "results.h5"))
samples.UpdatePipeline()
arrays = samples.PointData.keys()
for name in ("embedding_foundation", "embedding_ft", "umap_foundation", "umap_ft", "outlier_score_ft",
             "nn_id_foundation", "embedding_change", "probs_ft", "label_quality_ft"):
    check(name in arrays, "results file lacks %s" % name)
print("Batch report on %d rank(s): %d files, CSV and results file as documented." % (ranks, len(names)))
