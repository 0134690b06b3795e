#!/usr/bin/python3
"""Aligned UMAP over time steps: ours vs T independent UMAPs vs umap-learn's AlignedUMAP, same data, same run.

Data: Fashion-MNIST pixels (/usr/share/datasets/fashion-mnist, IDX; the first N of the
70 000 train + test images, 784-D, 0..255) made to drift over T steps, as
Testing/Engine/DriftingData.h does for the tests: step t = x + t * SHIFT * v_label + NOISE * g_t,
v_c a random unit direction per class (each class's cluster moves), g_t independent
N(0, 1) per pixel and step (every sample jitters). SHIFT 400, NOISE 12 (a typical distance
between two images of a class is ~1500). The drift is reported as the mean 15-NN overlap
between consecutive steps (within the 5 000 samples of the trustworthiness).

Compared, on 2 threads each:
- ours, aligned (BenchmarkAlignedProjection: computeAlignedProjection, 200 epochs, lambda 1e-2,
  window 3);
- ours, T independent UMAPs (computeEmbeddingProjection per step, the same 200 epochs unless
  --independent-epochs), raw and Procrustes-aligned onto the previous step (numpy orthogonal
  Procrustes with centring, as the engine's procrustesAlign);
- umap-learn 0.5.3 AlignedUMAP (defaults: 200 aligned epochs after a full UMAP fit per step,
  relations = identity), its numba JIT excluded by a small warm-up run (timed apart).
Per step: trustworthiness (sklearn, k = 15, on the same random 5 000 samples, numpy
default_rng(0)) and the relative displacement between consecutive steps: mean over all
samples of |y_t(i) - y_{t-1}(i)|, divided by the mean of the two maps' scales (root mean
square distance to the centroid), so maps of different sizes compare fairly.

Usage (Debian's Python; build first: cmake --build build --target BenchmarkAlignedProjection):
  /usr/bin/python3 Testing/Benchmarks/BenchmarkAlignedProjection.py \
      [--binary build/Testing/Benchmarks/BenchmarkAlignedProjection]
      [--small]              (4 steps x 2 000 samples: a few minutes on 2 cores)
      [--steps 10 --n 10000] (the default run)
      [--independent-epochs 0] (independent UMAPs with plain UMAP's default epochs)
      [--init previous]      (ours: each step starts from its predecessor's initial layout)
      [--umap-seeded]        (umap-learn with random_state=42: its UMAP fits single-threaded)
      [--skip-reference] [--json out.json]
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

THREADS = "2"
for var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, THREADS)

import numpy as np  # noqa: E402

FOLDER = "/usr/share/datasets/fashion-mnist"
SHIFT, NOISE = 400.0, 12.0


def load_fashion(n):
    images, labels = [], []
    for prefix in ("train", "t10k"):
        with gzip.open(os.path.join(FOLDER, prefix + "-images-idx3-ubyte.gz")) as f:
            images.append(np.frombuffer(f.read(), np.uint8)[16:].reshape(-1, 784))
        with gzip.open(os.path.join(FOLDER, prefix + "-labels-idx1-ubyte.gz")) as f:
            labels.append(np.frombuffer(f.read(), np.uint8)[8:])
    return np.concatenate(images)[:n], np.concatenate(labels)[:n]


def drifting(x, labels, steps, seed=16):
    rng = np.random.default_rng(seed)
    classes = int(labels.max()) + 1
    v = rng.standard_normal((classes, x.shape[1]))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    base = x.astype(np.float64)
    return [(base + t * SHIFT * v[labels] + NOISE * rng.standard_normal(x.shape)).astype(np.float32)
            for t in range(steps)]


def consecutive_knn_overlaps(steps, sample, k=15):
    """Mean overlap of the k nearest neighbours (among the sampled rows) of each sampled row in
    consecutive steps."""
    from sklearn.neighbors import NearestNeighbors
    knn = [NearestNeighbors(n_neighbors=k, algorithm="brute").fit(s[sample]).kneighbors(return_distance=False)
           for s in steps]
    return [float(np.mean([len(np.intersect1d(p, q)) / k for p, q in zip(a, b)]))
            for a, b in zip(knn[:-1], knn[1:])]


def trust(x, emb, sample):
    from sklearn.manifold import trustworthiness
    return float(trustworthiness(x[sample], emb[sample], n_neighbors=15))


def scale(y):
    return float(np.sqrt(((y - y.mean(0)) ** 2).sum(1).mean()))


def relative_displacements(layouts):
    out = [0.0]
    for p, q in zip(layouts[:-1], layouts[1:]):
        out.append(float(np.linalg.norm(q - p, axis=1).mean() / (0.5 * (scale(p) + scale(q)))))
    return out


def procrustes_chain(layouts):
    """Each layout rotated / reflected (no scaling) and translated onto the previous aligned one."""
    out = [layouts[0].astype(np.float64)]
    for y in layouts[1:]:
        ref = out[-1]
        m = y - y.mean(0)
        u, _, vt = np.linalg.svd(m.T @ (ref - ref.mean(0)))
        out.append(m @ (u @ vt) + ref.mean(0))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(
        here, "..", "..", "build", "Testing", "Benchmarks", "BenchmarkAlignedProjection"))
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--small", action="store_true", help="4 steps x 2 000 samples")
    ap.add_argument("--independent-epochs", type=int, default=-1,
                    help="epochs of the independent UMAPs (-1: the aligned run's, 0: plain defaults)")
    ap.add_argument("--init", default="procrustes", choices=["procrustes", "previous"],
                    help="ours: each step's own initial layout Procrustes-aligned (umap-learn's fit) "
                         "or its predecessor's (umap-learn's update)")
    ap.add_argument("--umap-seeded", action="store_true")
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    if args.small:
        args.steps, args.n = 4, 2000
    x, labels = load_fashion(args.n)
    steps = drifting(x, labels, args.steps)
    sample = np.random.default_rng(0).choice(args.n, size=min(5000, args.n), replace=False)
    report = {"steps": args.steps, "n": args.n, "threads": int(THREADS), "shift": SHIFT, "noise": NOISE,
              "init": args.init,
              "load_at_start": os.getloadavg()}
    print(f"{args.steps} steps x {args.n} Fashion-MNIST images (784-D), drift {SHIFT}/step, "
          f"jitter {NOISE}; load average {report['load_at_start'][0]:.2f}", flush=True)
    report["knn15_overlap_consecutive"] = consecutive_knn_overlaps(steps, sample)
    print("mean 15-NN overlap between consecutive steps (on the 5 000 samples): %.3f"
          % np.mean(report["knn15_overlap_consecutive"]), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for t, s in enumerate(steps):
            paths.append(os.path.join(tmp, f"step_{t}.npy"))
            np.save(paths[-1], s)
        env = dict(os.environ)
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as BenchmarkProjection.py runs the engine
        cmd = [args.binary, tmp, *paths, "--threads", THREADS, "--independent", "1", "--init", args.init]
        if args.independent_epochs >= 0:
            cmd += ["--independent-epochs", str(args.independent_epochs)]
        load = os.getloadavg()[0]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            sys.exit(proc.stderr)
        info = json.loads(proc.stdout.strip().splitlines()[-1])
        info["load_before"] = load
        aligned = [np.load(os.path.join(tmp, f"aligned_{t}.npy")) for t in range(args.steps)]
        independent = [np.load(os.path.join(tmp, f"independent_{t}.npy")) for t in range(args.steps)]
    report["ours"] = info
    print(f"ours: aligned {info['aligned_seconds']:.1f} s (stages {info['aligned_stages']}), "
          f"{args.steps} independent UMAPs {info['independent_seconds']:.1f} s; step 1 init: "
          f"{info['init_step1']}", flush=True)

    runs = {"ours aligned": aligned, "ours independent": independent,
            "ours independent+Procrustes": procrustes_chain(independent)}
    times = {"ours aligned": info["aligned_seconds"], "ours independent": info["independent_seconds"]}
    if not args.skip_reference:
        import umap
        from umap import AlignedUMAP
        seed = 42 if args.umap_seeded else None
        relations = [{i: i for i in range(args.n)} for _ in range(args.steps - 1)]
        start = time.perf_counter()
        warm = drifting(x[:400], labels[:400], 3)
        AlignedUMAP(random_state=seed, n_epochs=20).fit(warm, relations=[{i: i for i in range(400)}] * 2)
        report["reference_warmup_seconds"] = time.perf_counter() - start
        load = os.getloadavg()[0]
        start = time.perf_counter()
        ref = AlignedUMAP(random_state=seed).fit(steps, relations=relations)
        times["umap-learn AlignedUMAP"] = time.perf_counter() - start
        report["reference"] = {"version": umap.__version__, "random_state": seed, "load_before": load,
                               "seconds": times["umap-learn AlignedUMAP"]}
        runs["umap-learn AlignedUMAP"] = [np.asarray(e) for e in ref.embeddings_]

    results = {}
    for name, layouts in runs.items():
        finite = all(np.isfinite(y).all() for y in layouts)
        entry = {"relative_displacement": relative_displacements(layouts), "map_scale": [scale(y) for y in layouts],
                 "finite": finite}
        if name != "ours independent+Procrustes":  # a rigid motion: the trustworthiness of "independent"
            entry["trustworthiness_k15"] = [trust(s, y, sample) if finite else float("nan")
                                            for s, y in zip(steps, layouts)]
        results[name] = entry
    report["results"] = results
    print("\nper step: trustworthiness (k=15, 5 000 samples) / relative displacement from step t-1")
    names = list(runs)
    print("step " + "".join(f"| {n:>30s} " for n in names))
    for t in range(args.steps):
        cells = []
        for n in names:
            tw = results[n].get("trustworthiness_k15")
            tws = f"{tw[t]:.4f}" if tw else "  =   "
            cells.append(f"| {tws:>14s} / {results[n]['relative_displacement'][t]:>7.4f}      ")
        print(f"{t:4d} " + "".join(cells))
    print()
    base = np.mean(results["ours aligned"]["relative_displacement"][1:])
    summary = {}
    for n in names:
        d = np.mean(results[n]["relative_displacement"][1:])
        tw = results[n].get("trustworthiness_k15")
        summary[n] = {"mean_relative_displacement": float(d),
                      "aligned_over_this_displacement": float(base / d) if d > 0 else float("nan"),
                      "mean_trustworthiness": float(np.mean(tw)) if tw else None,
                      "seconds": times.get(n)}
        line = f"{n:30s} mean relative displacement {d:.4f} (ours aligned / this = {base / d:.3f})"
        if tw:
            line += f", mean trustworthiness {np.mean(tw):.4f}"
        if n in times:
            line += f", {times[n]:.1f} s (ours aligned / this = {times['ours aligned'] / times[n]:.2f})"
        print(line)
    report["summary"] = summary
    print(f"ours aligned stages: {info['aligned_stages']}; independent epochs {info['independent_epochs']}, "
          f"aligned epochs {info['epochs']}")
    if "reference_warmup_seconds" in report:
        print(f"umap-learn warm-up (numba JIT, excluded): {report['reference_warmup_seconds']:.1f} s")
    report["load_at_end"] = os.getloadavg()
    print("load average at end: %.2f %.2f %.2f" % report["load_at_end"])
    out = args.json or os.path.join(tempfile.gettempdir(), "benchmark_aligned_projection.json")
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    print("report:", out)


if __name__ == "__main__":
    main()
