"""Exact kNN outlier score on all 70 000 Fashion-MNIST images (784-D pixels) vs scikit-learn.

Ours: the exact method (cosine, K=10) and the FLANN option, either through the Embedding
Outlier Score filter in pvpython (DUALEMBED_PLUGIN set: the plugin's .so), or through the
engine's driver BenchmarkOutlierScore (built with the engine, e.g.
  cmake -S Filters/Engine -B build-bench -G Ninja && ninja -C build-bench BenchmarkOutlierScore),
which also writes the neighbour ids, so that the recall@10 of FLANN is reported.
Reference: scikit-learn's NearestNeighbors(metric="cosine") + cleanlab's formula.
Each runs in its own process so that peak memory (max RSS) is its own; the load average
is recorded before each. Ours uses 2 threads; scikit-learn uses what it uses by default.
Usage: DUALEMBED_PLUGIN=... pvpython BenchmarkOutlierScore.py [N]
       /usr/bin/python3 BenchmarkOutlierScore.py [N] [--binary build-bench/Benchmarks/BenchmarkOutlierScore]
"""
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

FOLDER = "/usr/share/datasets/fashion-mnist"
K = 10
THREADS = 2


def load_pixels(n):
    parts = []
    for prefix in ("train", "t10k"):
        with gzip.open(os.path.join(FOLDER, prefix + "-images-idx3-ubyte.gz")) as f:
            parts.append(np.frombuffer(f.read(), np.uint8)[16:].reshape(-1, 784))
    return np.concatenate(parts)[:n]


def run_ours(n, method):
    from paraview import simple, servermanager
    from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
    from vtkmodules.vtkCommonCore import vtkPoints
    from vtkmodules.vtkCommonDataModel import vtkPolyData
    simple.LoadPlugin(os.environ["DUALEMBED_PLUGIN"], remote=False)
    pixels = load_pixels(n)
    data = vtkPolyData()
    points = vtkPoints()
    points.SetNumberOfPoints(n)  # one point per sample, as the readers make them
    data.SetPoints(points)
    array = numpy_to_vtk(pixels, deep=1)
    array.SetName("image")
    data.GetPointData().AddArray(array)
    source = simple.TrivialProducer()
    source.GetClientSideObject().SetOutput(data)
    scores = simple.EmbeddingOutlierScore(Input=source, Embedding=["POINTS", "image"], K=K, Method=method)
    start = time.perf_counter()
    scores.UpdatePipeline()
    seconds = time.perf_counter() - start
    out = scores.GetClientSideObject().GetOutput()
    return seconds, vtk_to_numpy(out.GetPointData().GetArray("outlier_score_image"))


def run_reference(n):
    from sklearn.neighbors import NearestNeighbors
    pixels = load_pixels(n).astype(np.float32)
    start = time.perf_counter()
    dist, idx = NearestNeighbors(n_neighbors=K + 1, metric="cosine").fit(pixels).kneighbors(pixels)
    # Drop the sample itself (first column unless a duplicate came first), then cleanlab's formula.
    self_mask = idx == np.arange(n)[:, None]
    self_mask[~self_mask.any(axis=1), -1] = True
    dist = dist[~self_mask].reshape(n, K)
    mean_d = dist.mean(axis=1)
    scale = max(np.median(mean_d), 100 * np.finfo(np.float64).eps)
    score = np.exp(-mean_d / scale)
    return time.perf_counter() - start, score


def child(mode, n):
    if mode == "reference":
        seconds, score = run_reference(n)
    else:
        seconds, score = run_ours(n, mode)
    np.save("/tmp/dualembed-bench-%s.npy" % mode, score)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


def launch(mode, n, binary):
    load = os.getloadavg()
    if mode != "reference" and binary:
        with tempfile.TemporaryDirectory() as tmp:
            inp = os.path.join(tmp, "x.npy")
            np.save(inp, load_pixels(n))
            out = subprocess.run([binary, inp, "/tmp/dualembed-bench-%s.npy" % mode, "--method", mode,
                                  "--k", str(K), "--threads", str(THREADS),
                                  "--indices", "/tmp/dualembed-bench-%s-ids.npy" % mode],
                                 check=True, capture_output=True, text=True).stdout
    else:
        runner = "pvpython" if mode != "reference" else "/usr/bin/python3"
        out = subprocess.run([runner, __file__, "--child", mode, str(n)], check=True,
                             capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["load_before"] = load
    return result


def main():
    args = sys.argv[1:]
    binary = ""
    if "--binary" in args:
        i = args.index("--binary")
        binary = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    elif not os.environ.get("DUALEMBED_PLUGIN"):
        sys.exit("set DUALEMBED_PLUGIN (pvpython) or pass --binary (the engine's BenchmarkOutlierScore)")
    n = int(args[0]) if args else 70000
    print("Fashion-MNIST pixels, N = %d, D = 784, K = %d, cosine, %d cores; ours: %s" %
          (n, K, os.cpu_count(), binary or "pvpython + " + os.environ["DUALEMBED_PLUGIN"]), flush=True)
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg(), flush=True)
    results = {}
    for mode in ("exact", "reference", "flann"):
        results[mode] = launch(mode, n, binary)
        r = results[mode]
        print("  ran %-9s %8.2f s (load before %.2f %.2f %.2f)%s" % (
            mode, r["seconds"], *r["load_before"],
            "  [%s; LibTorch BLAS: %s; engine loops on %s threads]" % (
                r["gemm"], r["blas"], r.get("loop_threads")) if "gemm" in r else ""), flush=True)
    exact = np.load("/tmp/dualembed-bench-exact.npy")
    ref = np.load("/tmp/dualembed-bench-reference.npy")
    flann = np.load("/tmp/dualembed-bench-flann.npy")
    for mode, label in (("exact", "DualEmbed exact"), ("flann", "DualEmbed FLANN"),
                        ("reference", "scikit-learn + cleanlab formula")):
        r = results[mode]
        print("  %-32s %8.2f s   peak RSS %7.0f MB" % (label, r["seconds"], r["peak_mb"]))
    print("  speed-up exact vs scikit-learn   %8.2fx" % (results["reference"]["seconds"] / results["exact"]["seconds"]))
    print("  speed-up FLANN vs exact          %8.2fx" % (results["exact"]["seconds"] / results["flann"]["seconds"]))
    print("  max |score exact - reference|    %8.2e" % np.abs(exact - ref).max())
    print("  max |score FLANN - exact|        %8.2e" % np.abs(flann - exact).max())
    if binary:
        ids_exact = np.load("/tmp/dualembed-bench-exact-ids.npy")
        ids_flann = np.load("/tmp/dualembed-bench-flann-ids.npy")
        found = sum(len(np.intersect1d(a, b)) for a, b in zip(ids_exact, ids_flann))
        print("  recall@%d of FLANN               %8.4f" % (K, found / ids_exact.size))
        print("  exact rows recomputed by brute force: %d" % results["exact"]["brute_force_rows"])
    print("load average at end: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
        sys.exit(0)
    main()
