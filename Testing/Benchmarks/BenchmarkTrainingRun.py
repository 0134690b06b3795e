"""A fine-tuning run through DualEmbed, per stage, against the Python reference in the same run.

    pvbatch Testing/Benchmarks/BenchmarkTrainingRun.py [--samples 10000] [--no-reference]
            [--plugin build/lib/paraview-5.11/plugins/DualEmbed/DualEmbed.so]

The demo's run (Data/models/fashion-vit-ft-run: 10 checkpoints, one per epoch) on the first N
Fashion-MNIST test images: Checkpoint Embedding of every checkpoint (no cache), Training
Dynamics (first update: reads every time step), Embedding Projection with Align Time Steps
(aligned UMAP of all steps) and, for comparison, N independent UMAPs (one per time step, as
without Align Time Steps). Mean displacement between consecutive maps, relative to the map size
(root mean square distance to the centroid): aligned, independent, and independent after an
orthogonal Procrustes fit of each map onto the one before (a fair comparison: independent maps
may just be rotated or mirrored).

Reference (Debian's /usr/bin/python3 on the same probabilities, logits and embeddings, saved by
this script): the dynamics in NumPy (SPEC §2.7) and umap-learn 0.5.3's AlignedUMAP (defaults,
identity relations; its numba compilation is timed separately on a small warm-up). The load
average is printed with every timing: the machine may be shared.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from paraview import servermanager, simple
from vtkmodules.util.numpy_support import vtk_to_numpy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
parser = argparse.ArgumentParser()
parser.add_argument("--samples", type=int, default=10000)
parser.add_argument("--plugin", default=os.path.join(ROOT, "build/lib/paraview-5.11/plugins/DualEmbed/DualEmbed.so"))
parser.add_argument("--no-reference", action="store_true")
args = parser.parse_args()
simple.LoadPlugin(args.plugin, remote=False)


def load():
    return "load %.1f" % os.getloadavg()[0]


def timed(name, function):
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    print("%-44s %8.1f s  (%s)" % (name, seconds, load()), flush=True)
    return seconds, result


def relative_displacements(maps, procrustes=False):
    out = []
    previous = maps[0] - maps[0].mean(0)
    for current in maps[1:]:
        current = current - current.mean(0)
        if procrustes:  # rotation / reflection of this map onto the previous one
            u, _, vt = np.linalg.svd(current.T @ previous)
            current = current @ (u @ vt)
        scale = 0.5 * (np.sqrt((previous ** 2).sum(1).mean()) + np.sqrt((current ** 2).sum(1).mean()))
        out.append(np.linalg.norm(current - previous, axis=1).mean() / scale)
        previous = current
    return out


samples = simple.ImageDatasetReader(FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                                    MaxSamples=args.samples)
samples.UpdatePipeline()
series = simple.CheckpointEmbedding(Input=samples, RunPath=os.path.join(ROOT, "Data/models/fashion-vit-ft-run"))
series.UpdatePipelineInformation()
times = list(series.TimestepValues)
print("%d samples, %d checkpoints (steps %s), %d cores" % (args.samples, len(times), times, os.cpu_count()))
stages = {}
stages["checkpoint embeddings"], _ = timed("checkpoint embeddings (%d)" % len(times),
                                           lambda: [series.UpdatePipeline(t) for t in times])
dynamics = simple.TrainingDynamics(Input=series)
stages["training dynamics"], _ = timed("training dynamics (incl. drift)", lambda: dynamics.UpdatePipeline(times[-1]))
aligned = simple.EmbeddingProjection(Input=series, Embedding=["POINTS", "embedding_ft"], AlignTimeSteps=1)
stages["aligned UMAP"], _ = timed("aligned UMAP (%d steps)" % len(times), lambda: aligned.UpdatePipeline(times[-1]))
independent = simple.EmbeddingProjection(Input=series, Embedding=["POINTS", "embedding_ft"])
stages["independent UMAPs"], _ = timed("independent UMAPs (%d)" % len(times),
                                       lambda: [independent.UpdatePipeline(t) for t in times])


def fetch_all(proxy, names):
    out = {name: [] for name in names}
    for t in times:
        proxy.UpdatePipeline(t)
        data = servermanager.Fetch(proxy)
        for name in names:
            out[name].append(vtk_to_numpy(data.GetPointData().GetArray(name)).copy())
    return {name: np.stack(values) for name, values in out.items()}


aligned_maps = fetch_all(aligned, ["umap_ft"])["umap_ft"]
independent_maps = fetch_all(independent, ["umap_ft"])["umap_ft"]
displacement = {"aligned": relative_displacements(aligned_maps),
                "independent": relative_displacements(independent_maps),
                "independent, Procrustes-fitted": relative_displacements(independent_maps, True)}
for name, values in displacement.items():
    print("relative displacement, %-31s mean %.3f  (%s)" % (name, np.mean(values), " ".join("%.3f" % v for v in values)))
print("aligned / independent (Procrustes-fitted): %.2f" % (np.mean(displacement["aligned"]) /
                                                          np.mean(displacement["independent, Procrustes-fitted"])))
print("aligned UMAP time / %d independent UMAPs: %.2f" % (len(times), stages["aligned UMAP"] / stages["independent UMAPs"]))

if not args.no_reference:
    work = tempfile.mkdtemp(prefix="dualembed-bench-run-")
    arrays = fetch_all(series, ["probs_ft", "logits_ft", "embedding_ft"])
    data = servermanager.Fetch(series)
    labels = vtk_to_numpy(data.GetPointData().GetArray("label"))
    np.savez(os.path.join(work, "run.npz"), labels=labels, **arrays)
    ours = {name: vtk_to_numpy(servermanager.Fetch(dynamics).GetPointData().GetArray(name))
            for name in ("confidence_ft", "variability_ft", "aum_ft")}
    reference = r'''
import json, sys, time
import numpy as np
d = np.load(sys.argv[1])
P, Z, y = d["probs_ft"].astype(np.float64), d["logits_ft"].astype(np.float64), d["labels"]
start = time.perf_counter()
rows = np.arange(len(y)); gold = P[:, rows, y]; correct = P.argmax(2) == y
confidence, variability, correctness = gold.mean(0), gold.std(0), correct.mean(0)
forgetting = np.where(correct.any(0), (correct[:-1] & ~correct[1:]).sum(0), len(P))
others = Z.copy(); others[:, rows, y] = -np.inf
aum = (Z[:, rows, y] - others.max(2)).mean(0)
out = {"dynamics_seconds": time.perf_counter() - start}
np.savez(sys.argv[2], confidence=confidence, variability=variability, aum=aum)
if sys.argv[3] == "1":
    import umap
    E = d["embedding_ft"]
    relations = [{i: i for i in range(E.shape[1])} for _ in range(len(E) - 1)]
    start = time.perf_counter()
    umap.AlignedUMAP(n_epochs=5).fit([e[:500] for e in E[:2]], relations=[{i: i for i in range(500)}])
    out["aligned_umap_warmup_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    model = umap.AlignedUMAP(random_state=None).fit(list(E), relations=relations)
    out["aligned_umap_seconds"] = time.perf_counter() - start
    np.save(sys.argv[4], np.stack(model.embeddings_))
print(json.dumps(out))
'''
    script = os.path.join(work, "reference.py")
    with open(script, "w") as f:
        f.write(reference)
    env = dict(os.environ, OMP_NUM_THREADS="2", NUMBA_NUM_THREADS="2")
    start = time.perf_counter()
    output = subprocess.run(["/usr/bin/python3", script, os.path.join(work, "run.npz"), os.path.join(work, "ref.npz"),
                             "1", os.path.join(work, "ref_maps.npy")], capture_output=True, text=True, env=env)
    if output.returncode != 0:
        print(output.stderr[-2000:])
        sys.exit(1)
    figures = json.loads(output.stdout.strip().splitlines()[-1])
    ref = np.load(os.path.join(work, "ref.npz"))
    for name in ("confidence", "variability", "aum"):
        print("dynamics %s: max |ours - NumPy| %.2g" % (name, np.abs(ours[name + "_ft"] - ref[name]).max()))
    print("NumPy dynamics (without drift): %.3f s; ours, incl. reading %d time steps and the drift: %.1f s"
          % (figures["dynamics_seconds"], len(times), stages["training dynamics"]))
    reference_maps = np.load(os.path.join(work, "ref_maps.npy"))
    reference_displacement = relative_displacements(reference_maps)
    print("umap-learn AlignedUMAP: %.1f s (numba warm-up %.1f s excluded), relative displacement mean %.3f  (%s)"
          % (figures["aligned_umap_seconds"], figures["aligned_umap_warmup_seconds"], np.mean(reference_displacement),
             load()))
    print("aligned UMAP: ours %.1f s vs umap-learn %.1f s: %.1fx faster"
          % (stages["aligned UMAP"], figures["aligned_umap_seconds"], figures["aligned_umap_seconds"] / stages["aligned UMAP"]))
