#!/usr/bin/python3
"""Embedding Outlier Score, Embedding Nearest Neighbor (and, given a second embedding of the same
rows, Embedding Change; given labels, Data Issues; with --umap, Embedding Projection's UMAP) on a
large embedding, serial pvbatch vs.
`mpiexec -n RANKS pvbatch --mpi`: above the exact limit each rank indexes only its own samples
(the distributed search), so its memory falls with the rank count. Prints per run the filters'
own reports (method, time, measured recall), the seconds of each stage and the peak RSS of every
process, then how far the MPI results agree with the serial ones (nearest neighbour ids, outlier
scores: Spearman and top-100 overlap; the UMAPs' trustworthiness on the same random rows).

Each rank reads its contiguous share of the rows from the .npy straight into its VTK array (a
programmable source, as the readers deliver samples), so no rank ever holds all rows.

Usage (after building; the data: Testing/Benchmarks/make_clustered_embeddings.py):
  /usr/bin/python3 Testing/Benchmarks/BenchmarkDistributedNeighbors.py /tmp/e1m.npy [--rows N]
      [--second /tmp/e1m-ft.npy] [--labels /tmp/e1m-labels.npy] [--umap] [--ranks 2]
      [--plugin build/lib/paraview-5.11/plugins/DualEmbed/DualEmbed.so]
"""
import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", ".."))

PIPELINE = r'''
import os, sys, time
import numpy as np
from paraview import simple, servermanager
from vtkmodules.vtkParallelCore import vtkMultiProcessController

rows, out, paths = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
simple.LoadPlugin(os.environ["DUALEMBED_PLUGIN"], remote=False)
source = simple.ProgrammableSource(OutputDataSetType="vtkPolyData")
source.Script = """
import numpy as np
from vtkmodules.vtkCommonCore import vtkFloatArray, vtkPoints
from vtkmodules.vtkParallelCore import vtkMultiProcessController
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
controller = vtkMultiProcessController.GetGlobalController()
rank = controller.GetLocalProcessId() if controller else 0
ranks = controller.GetNumberOfProcesses() if controller else 1
first, last = [int(v) for v in np.linspace(0, %(rows)d, ranks + 1)[rank:rank + 2]]
output = self.GetPolyDataOutput()
points = vtkPoints()
points.SetData(numpy_to_vtk(np.zeros((last - first, 3), np.float32), deep=1))
output.SetPoints(points)
# Each share is read straight into its VTK array: no memory-mapped pages, no second copy.
for name, path in %(files)r:
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        shape, _, _ = np.lib.format._read_array_header(f, version)
        array = vtkFloatArray()
        array.SetName(name)
        array.SetNumberOfComponents(shape[1])
        array.SetNumberOfTuples(last - first)
        f.seek(first * shape[1] * 4, 1)
        f.readinto(memoryview(vtk_to_numpy(array)).cast("B"))
    output.GetPointData().AddArray(array)
if %(labels)r:
    label = numpy_to_vtk(np.load(%(labels)r, mmap_mode="r")[first:last].astype(np.int32), deep=1)
    label.SetName("label")
    output.GetPointData().AddArray(label)
""" % {"rows": rows, "files": [("embedding_" + t, p) for t, p in zip(("x", "y"), paths)],
       "labels": os.environ.get("BENCHMARK_LABELS", "")}
seconds = {}
def stage(name, proxy):
    start = time.perf_counter()
    proxy.UpdatePipeline()
    seconds[name] = time.perf_counter() - start
    print("--- %s: %.1f s" % (name, seconds[name]), flush=True)
    return proxy
samples = stage("read (each rank its share)", source)
samples = stage("Embedding Outlier Score", simple.EmbeddingOutlierScore(Input=samples, Embedding=["POINTS", "embedding_x"]))
samples = stage("Embedding Nearest Neighbor", simple.EmbeddingNearestNeighbor(Input=samples, Embedding=["POINTS", "embedding_x"]))
names = ["outlier_score_x", "knn_mean_distance_x", "nn_id_x"]
if len(paths) > 1:
    samples = stage("Embedding Change", simple.EmbeddingChange(
        Input=samples, EmbeddingA=["POINTS", "embedding_x"], EmbeddingB=["POINTS", "embedding_y"]))
    names.append("neighbor_overlap")
if os.environ.get("BENCHMARK_LABELS"):
    samples = stage("Data Issues", simple.DataIssues(
        Input=samples, EmbeddingA=["POINTS", "embedding_x"], EmbeddingB=["POINTS", "None"],
        Probabilities=["POINTS", "None"], Labels=["POINTS", "label"]))
    names += ["is_near_duplicate_x", "is_knn_label_issue_x", "uniqueness_x"]
if os.environ.get("BENCHMARK_UMAP"):
    # Under MPI the graph is searched distributed and the root lays the map out from it alone.
    samples = stage("Embedding Projection (UMAP)", simple.EmbeddingProjection(
        Input=samples, Embedding=["POINTS", "embedding_x"], Method="UMAP"))
    names.append("umap_x")
# Every rank prints its peak resident memory (the embedding stays where it is).
peaks = simple.ProgrammableFilter(Input=samples, CopyArrays=1, Script="""
from vtkmodules.vtkParallelCore import vtkMultiProcessController
controller = vtkMultiProcessController.GetGlobalController()
rank = controller.GetLocalProcessId() if controller else 0
with open("/proc/self/status") as f:
    peak = [l for l in f if l.startswith("VmHWM")][0].split()[1]
print("rank %d peak RSS %.2f GiB" % (rank, int(peak) / 1024.0 ** 2), flush=True)
""")
peaks.UpdatePipeline()
results = simple.PassArrays(Input=samples, PointDataArrays=names)
data = servermanager.Fetch(results)
from vtkmodules.util.numpy_support import vtk_to_numpy
pd = data.GetPointData()
np.savez(out, **{name: vtk_to_numpy(pd.GetArray(name)) for name in names})
print("stages: " + ", ".join("%s %.1f s" % item for item in seconds.items()), flush=True)
'''


def run(label, command, env):
    print("\n=== %s: %s" % (label, " ".join(command)), flush=True)
    start = time.perf_counter()
    result = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = [l for l in result.stdout.splitlines()
             if l.startswith(("---", "rank ", "stages", "Embedding")) or "Error" in l or "error" in l]
    print("\n".join(lines))
    print("(%s: %.1f s in all, exit code %d)" % (label, time.perf_counter() - start, result.returncode), flush=True)
    if result.returncode != 0:
        print(result.stdout[-4000:])
        sys.exit(1)


def ranks_of(values):
    order = np.argsort(values, kind="stable")
    r = np.empty(len(values))
    r[order] = np.arange(len(values))
    return r


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("embeddings")
    parser.add_argument("--second", default="", help="a second embedding of the same rows: Embedding Change too")
    parser.add_argument("--labels", default="", help="labels of the rows (.npy): Data Issues on the first embedding too")
    parser.add_argument("--umap", action="store_true", help="Embedding Projection's UMAP too")
    parser.add_argument("--rows", type=int, default=0, help="the first N rows (default: all)")
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--plugin", default=os.path.join(root, "build/lib/paraview-5.11/plugins/DualEmbed/DualEmbed.so"))
    args = parser.parse_args()
    n = np.load(args.embeddings, mmap_mode="r").shape[0]
    rows = min(args.rows, n) if args.rows > 0 else n
    cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")]
    print("CPU: %s, %d cores; %d rows of %s" % (cpu[0] if cpu else platform.processor(), os.cpu_count(),
                                              rows, args.embeddings))
    work = tempfile.mkdtemp(prefix="dualembed-distributed-")
    script = os.path.join(work, "pipeline.py")
    with open(script, "w") as f:
        f.write(PIPELINE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_"))}
    env.update(DUALEMBED_PLUGIN=os.path.abspath(args.plugin), OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if args.labels:
        env["BENCHMARK_LABELS"] = os.path.abspath(args.labels)
    if args.umap:
        env["BENCHMARK_UMAP"] = "1"
    serial = os.path.join(work, "serial.npz")
    parallel = os.path.join(work, "mpi.npz")
    files = [args.embeddings] + ([args.second] if args.second else [])
    run("serial pvbatch", ["pvbatch", script, str(rows), serial] + files, env)
    run("%d MPI ranks" % args.ranks, ["mpiexec", "-n", str(args.ranks), "--oversubscribe", "pvbatch", "--mpi",
                                      script, str(rows), parallel] + files, env)
    a, b = np.load(serial), np.load(parallel)
    same_nn = float(np.mean(a["nn_id_x"] == b["nn_id_x"]))
    ra, rb = ranks_of(a["knn_mean_distance_x"]), ranks_of(b["knn_mean_distance_x"])
    spearman = float(np.corrcoef(ra, rb)[0, 1])
    top_a = set(np.argsort(-a["knn_mean_distance_x"], kind="stable")[:100])
    top_b = set(np.argsort(-b["knn_mean_distance_x"], kind="stable")[:100])
    relative = np.abs(b["knn_mean_distance_x"] - a["knn_mean_distance_x"]) / np.maximum(a["knn_mean_distance_x"], 1e-12)
    print("\nMPI vs serial: nearest neighbour equal for %.4f of the rows; outlier mean distances: Spearman %.5f, "
          "top-100 overlap %.2f, median relative difference %.1e (largest %.1e)"
          % (same_nn, spearman, len(top_a & top_b) / 100.0, float(np.median(relative)), float(relative.max())))
    if "is_near_duplicate_x" in a.files:
        for name in ("is_near_duplicate_x", "is_knn_label_issue_x"):
            print("Data Issues %s: %d flagged serial, %d under MPI, %d in both"
                  % (name, int(a[name].sum()), int(b[name].sum()), int((a[name] & b[name]).sum())))
        print("Data Issues uniqueness: Spearman %.5f" % float(np.corrcoef(
            ranks_of(a["uniqueness_x"]), ranks_of(b["uniqueness_x"]))[0, 1]))
    if "umap_x" in a.files:
        # scikit-learn's trustworthiness (k 15) of both maps on the same 5000 random rows.
        from sklearn.manifold import trustworthiness
        pick = np.sort(np.random.default_rng(0).choice(rows, min(rows, 5000), replace=False))
        x = np.load(args.embeddings, mmap_mode="r")[pick]
        print("UMAP trustworthiness (k 15, 5000 random rows): serial %.4f, MPI %.4f"
              % (trustworthiness(x, a["umap_x"][pick], n_neighbors=15),
                 trustworthiness(x, b["umap_x"][pick], n_neighbors=15)))
    if "neighbor_overlap" in a.files:
        print("Embedding Change: neighbour overlap equal for %.4f of the rows, mean |difference| %.4f"
              % (float(np.mean(a["neighbor_overlap"] == b["neighbor_overlap"])),
                 float(np.mean(np.abs(a["neighbor_overlap"] - b["neighbor_overlap"])))))


if __name__ == "__main__":
    main()
