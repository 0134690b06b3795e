"""The pipeline under MPI gives exactly the serial results.

Runs DistributedPipeline.py (reader -> both embeddings -> outlier scores -> nearest neighbours
-> prediction score -> embedding change -> UMAP, PCA -> results file) with serial pvbatch and
with `mpiexec -n 2 pvbatch`, each rank on one thread (LibTorch and OpenBLAS), and asserts:
- the samples were really split between the ranks (each read its own share);
- the IVF filters (outlier score, nearest neighbour, Training Dynamics' drift, UMAP's graph)
  searched distributed under MPI (each rank indexed its own rows), and with every inverted list
  read at this size their scores, neighbours and drift equal the exact ones; the UMAP laid out on
  the root from the gathered graph equals the serial IVF UMAP;
- every array is identical, bit for bit: embeddings, scores, neighbour ids, training dynamics and
  the aligned UMAP over the demo run's checkpoints, the seeded UMAP
  and PCA coordinates, the points;
- the results file written under MPI (each rank writing its own rows in turn) equals the serial
  one; ranks whose samples hold different arrays are refused with one message, and no file; the
  right samples then write to the same name.
"""
import os
import subprocess
import tempfile

import h5py
import numpy as np

from dualembed_testing import check

SAMPLES = 600  # 300 per rank; BatchSize 25 divides both shares
script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "DistributedPipeline.py")
pvbatch = os.environ["DUALEMBED_PVBATCH"]
mpiexec = os.environ["DUALEMBED_MPIEXEC"].split()  # e.g. "mpiexec -n 2 --oversubscribe"
out = tempfile.mkdtemp(prefix="dualembed-mpi-")
# pvpython started MPI as a singleton: its OMPI_/PMIX_ variables would make the children join it.
env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_", "ORTE_", "OPAL_"))}
env.update(DUALEMBED_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
           OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def run(name, command):
    folder = os.path.join(out, name)
    result = subprocess.run(command + [script, folder, str(SAMPLES)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=600)
    print(result.stdout[-3000:])
    check(result.returncode == 0, "%s run failed with exit code %d" % (name, result.returncode))
    return folder, result.stdout


serial, serial_log = run("serial", [pvbatch])
parallel, parallel_log = run("mpi", mpiexec + [pvbatch, "--mpi"])
# The IVF filters searched distributed under MPI (each rank its own rows), not on gathered rows.
for label in ("Embedding Outlier Score", "Embedding Nearest Neighbor"):
    check("%s: IVF neighbours" % label in serial_log and "MPI ranks" not in serial_log,
          "serial run: no IVF report of %s" % label)
    check("%s: IVF neighbours (k %d, cosine) of %d rows on 2 MPI ranks, each indexing its own rows"
          % (label, 10 if "Outlier" in label else 1, SAMPLES) in parallel_log,
          "MPI run: no distributed IVF search reported by %s" % label)
check("Embedding Projection: IVF neighbours" in serial_log and
      "Embedding Projection: IVF neighbours (k 14, euclidean) of %d rows on 2 MPI ranks, each indexing its own "
      "rows" % SAMPLES in parallel_log, "MPI run: no distributed IVF search reported by Embedding Projection")
check("Training Dynamics: IVF neighbours" in serial_log and
      "Training Dynamics: IVF neighbours (k 10, cosine) of %d rows on 2 MPI ranks, each indexing its own rows"
      % SAMPLES in parallel_log, "MPI run: no distributed IVF search reported by Training Dynamics")
check("Embedding Nearest Neighbor: IVF neighbours (k 1, cosine) of %d rows on 2 MPI ranks, each indexing "
      "its own rows: the graph built earlier in this session (k 16" % SAMPLES in parallel_log,
      "MPI run: Nearest Neighbor did not use the outlier score's distributed graph again")
a = np.load(os.path.join(serial, "arrays.npz"))
b = np.load(os.path.join(parallel, "arrays.npz"))

check(set(a["owner_rank"]) == {0}, "serial run on more than one rank")
check(np.array_equal(np.bincount(b["owner_rank"]), [SAMPLES // 2, SAMPLES // 2]),
      "samples per rank under MPI: %s" % np.bincount(b["owner_rank"]))
check(np.array_equal(b["sample_id"], np.arange(SAMPLES)), "sample_id not global under MPI")
names = sorted(set(a.files) - {"owner_rank"})
check(names == sorted(set(b.files) - {"owner_rank"}), "arrays differ: %s vs %s" % (a.files, b.files))
for name in ("outlier_score_ivf", "knn_mean_distance_ivf", "nn_id_ivf", "nn_distance_ivf"):
    exact = name.replace("_ivf", "_foundation")
    check(np.array_equal(b[name], a[exact]), "%s under MPI differs from the exact %s" % (name, exact))
for name in ("embedding_drift_runivf", "embedding_drift_to_final_runivf", "mean_embedding_drift_runivf"):
    exact = name.replace("_runivf", "_run")
    check(np.array_equal(b[name], a[exact]), "%s under MPI differs from the exact %s" % (name, exact))
for name in ("embedding_foundation", "outlier_score_ft", "nn_id_foundation", "embedding_change",
             "ood_pred_score_ft", "umap_ft", "umap_ivf", "pca_foundation", "embedding_run", "confidence_run",
             "forgetting_events_run", "aum_run", "embedding_drift_run", "umap_run"):
    check(name in names, "no %s" % name)
for name in names:
    check(np.array_equal(a[name], b[name]),
          "%s differs between serial and MPI runs (max |diff| %s)" % (name, np.max(np.abs(
              a[name].astype(float) - b[name].astype(float))) if a[name].dtype.kind in "fiu" else "-"))

with h5py.File(os.path.join(serial, "results.h5"), "r") as fs, \
        h5py.File(os.path.join(parallel, "results.h5"), "r") as fp:
    check(sorted(fs["point_data"]) == sorted(fp["point_data"]), "results files hold different arrays")
    check(fp.attrs["number_of_samples"] == SAMPLES, "MPI results file has %s samples" % fp.attrs["number_of_samples"])
    for name in fs["point_data"]:
        check(np.array_equal(fs["point_data"][name][()], fp["point_data"][name][()]),
              "results file array %s differs" % name)
    check(sorted(fs["field_data"]) == sorted(fp["field_data"]), "results files hold different field data")
print("Distributed pipeline: %d arrays identical between serial pvbatch and 2 MPI ranks." % len(names))
