"""The batch report of a fine-tuning run in pvbatch: the demo's checkpoints (with the foundation
model as step 0) on 300 Fashion-MNIST images, then every promised file with the expected content.
CTest runs it serially and on 2 MPI ranks (DUALEMBED_EXPECTED_RANKS)."""
import csv
import glob
import os
import shutil
import tempfile

import numpy as np
from paraview import servermanager

from dualembed_testing import check, load_plugin

load_plugin()
from dualembed import report

ranks = servermanager.vtkProcessModule.GetProcessModule().GetNumberOfLocalPartitions()
check(ranks == int(os.environ.get("DUALEMBED_EXPECTED_RANKS", "1")), "running on %d ranks" % ranks)
models = os.path.join(os.environ["DUALEMBED_TESTING_DATA_DIR"], "..", "..", "Data", "models")
run = os.path.join(models, "fashion-vit-ft-run")
checkpoints = len(glob.glob(os.path.join(run, "checkpoint-*")))
out = tempfile.mkdtemp(prefix="dualembed-training-report-")
cache = os.path.join(out, "cache")
N = 300
result = report.training_run("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", run, out,
                             initial_model=os.path.join(models, "fashion-vit-foundation"), max_samples=N,
                             batch_size=50, cache_dir=cache)
steps = checkpoints + 1  # the foundation as step 0
names = sorted(os.path.basename(f) for f in result["files"])
expected = sorted(["aligned_umap.%04d.png" % i for i in range(steps)] + [
    "aligned_umap.ogv", "data_map.png", "gallery_lowest_aum.png", "gallery_most_forgotten.png",
    "gallery_lowest_confidence.png", "training_dynamics.csv"])
check(names == expected, "report files %s" % names)
for path in result["files"]:
    check(os.path.getsize(path) > 1000, "%s is (nearly) empty" % path)
check(len(glob.glob(os.path.join(cache, "*.h5"))) == steps * ranks, "cache files: %s" % os.listdir(cache))
# Consecutive frames differ (the map moves), but not entirely (it is aligned).
frames = [os.path.join(out, "aligned_umap.%04d.png" % i) for i in range(steps)]
check(len(set(open(f, "rb").read() for f in frames)) == steps, "some frames are identical")

summary = result["summary"]
check(summary["samples"] == N and summary["time_steps"] == steps, "summary %s" % summary)
rows = list(csv.DictReader(open(os.path.join(out, "training_dynamics.csv"))))
check(len(rows) == N, "CSV has %d rows" % len(rows))
aum = np.array([float(r["aum_ft"]) for r in rows])
check(np.all(np.diff(aum) >= 0), "CSV not sorted by aum_ft")
correctness = np.array([float(r["correctness_ft"]) for r in rows])
forgetting = np.array([int(r["forgetting_events_ft"]) for r in rows])
check(summary["never_learned"] == int((correctness == 0).sum()), "never_learned disagrees with the CSV")
check(np.all(forgetting[correctness == 0] == checkpoints), "a never-learned sample must count T forgetting events")
check(summary["negative_aum"] == int((aum < 0).sum()), "negative_aum disagrees with the CSV")
check(sorted(int(r["sample_id"]) for r in rows) == list(range(N)), "the CSV's sample ids")
# The dynamics flag the samples the final model's label quality flags (the note's figures).
agreement = result["agreement"]["aum_ft vs label_quality_ft"]
check(agreement["spearman"] > 0.8, "AUM and label quality disagree: %s" % agreement)
check(result["flagged"]["lowest_aum"] == [int(r["sample_id"]) for r in rows[:8]],
      "the lowest-AUM gallery is not the CSV's first rows")
shutil.rmtree(out)
print("Training-run report on %d rank(s): %d files; %s" % (ranks, len(names), summary))
