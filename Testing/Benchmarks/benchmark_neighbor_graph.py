#!/usr/bin/env python3
"""The all-points 10-NN graph (cosine) of a large embedding set: the engine's IVF and exact methods
against the libraries people use for it, on the same data in one run, with one recall yardstick
(a benchmark, not a test).

    /usr/bin/python3 Testing/Benchmarks/benchmark_neighbor_graph.py DATA.npy [--rows N] [--threads 2]
        [--binary build/Testing/Benchmarks/BenchmarkNeighborGraph] [--skip exact,faiss-ivf,...]

DATA.npy: N x D float32 (make_clustered_embeddings.py). Each method runs in its own process (peak
RSS per method) and builds the whole graph (every row's 10 nearest others); recall@10 is measured
for all of them on the same 1000 random rows against exact neighbours computed here (float64
products). References: hnswlib (python3-hnswlib; M 16, ef_construction 100, ef 64), faiss
(python3-faiss: IndexHNSWFlat M 16 / efSearch 64, IndexIVFFlat with the engine's list count and
16 probes), pynndescent (what umap-learn builds its graph with; Debian's umap-learn). Prints the
CPU, one line per method and the ratios to the engine's IVF.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
K = 10


def load(path, rows):
    data = np.load(path, mmap_mode="r")
    return np.ascontiguousarray(data[:rows] if rows else data, dtype=np.float32)


def unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-30)


def reference(args):
    """One library in this process; writes its neighbour ids of the sample rows and its time."""
    x = load(args.data, args.rows)
    u = unit(x)
    n, d = u.shape
    start = time.perf_counter()
    if args.reference == "hnswlib":
        import hnswlib
        index = hnswlib.Index(space="l2", dim=d)
        index.init_index(max_elements=n, ef_construction=100, M=16, random_seed=1)
        index.set_num_threads(args.threads)
        index.add_items(u, np.arange(n))
        index.set_ef(64)
        ids, _ = index.knn_query(u, k=K + 1)
    elif args.reference.startswith("faiss"):
        import faiss
        faiss.omp_set_num_threads(args.threads)
        if args.reference == "faiss-hnsw":
            index = faiss.IndexHNSWFlat(d, 16)
            index.hnsw.efConstruction = 100
            index.add(u)
            index.hnsw.efSearch = 64
        else:
            lists = max(1, min(n // 64, int(round(2 * np.sqrt(n)))))
            index = faiss.IndexIVFFlat(faiss.IndexFlatL2(d), d, lists)
            rng = np.random.default_rng(0)
            index.train(u[rng.choice(n, min(n, 32 * lists), replace=False)])
            index.add(u)
            index.nprobe = 16
        _, ids = index.search(u, K + 1)
    elif args.reference == "pynndescent":
        import numba
        import pynndescent
        numba.set_num_threads(args.threads)
        graph = pynndescent.NNDescent(x.copy(), metric="cosine", n_neighbors=K + 1, random_state=0,
                                      n_jobs=args.threads)
        ids, _ = graph.neighbor_graph
    seconds = time.perf_counter() - start
    sample = np.load(args.sample)
    rows = [[j for j in ids[i] if j != i][:K] for i in sample]
    np.save(args.out, np.array(rows, dtype=np.int64))
    with open("/proc/self/status") as f:  # VmHWM: getrusage's maxrss would keep the parent's peak
        peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
    print("RESULT " + json.dumps({"seconds": seconds, "peak_mb": peak}))


def run(command):
    out = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ") or line.startswith("{")]
    if out.returncode != 0 or not lines:
        print("  failed: %s" % (out.stderr.strip().splitlines() or ["?"])[-1])
        return None
    return json.loads(lines[-1].replace("RESULT ", "", 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--rows", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "Testing", "Benchmarks", "BenchmarkNeighborGraph"))
    ap.add_argument("--skip", default="")
    ap.add_argument("--reference", help=argparse.SUPPRESS)
    ap.add_argument("--sample", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.reference:
        return reference(args)

    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    x = load(args.data, args.rows)
    n, d = x.shape
    print("CPU: %s; %d threads; %d x %d float32, cosine, k %d" % (cpu, args.threads, n, d, K))
    rng = np.random.default_rng(2026)
    sample = np.sort(rng.choice(n, 1000, replace=False))
    u = unit(x).astype(np.float64)
    truth = []
    for begin in range(0, 1000, 100):
        s = u[sample[begin:begin + 100]] @ u.T
        s[np.arange(s.shape[0]), sample[begin:begin + 100]] = -np.inf
        truth.extend(np.argsort(-s, axis=1, kind="stable")[:, :K])
    truth = np.array(truth)
    del u

    def recall(ids):
        return float(np.mean([len(set(a) & set(b)) / K for a, b in zip(ids, truth)]))

    skip = set(filter(None, args.skip.split(",")))
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        sample_path = os.path.join(tmp, "sample.npy")
        np.save(sample_path, sample)
        for method in ("ivf", "exact"):
            if method in skip:
                continue
            ids_path = os.path.join(tmp, method + ".npy")
            out = run([args.binary, args.data, "--method", method, "--threads", str(args.threads), "--rows", str(n),
                       "--metric", "cosine", "--recall-samples", "1000", "--indices", ids_path])
            if out:
                ids = np.load(ids_path)[sample]
                results["engine " + method] = dict(seconds=out["seconds"], peak_mb=out["peak_mb"], recall=recall(ids),
                                                   own_estimate=out["recall"])
                print("engine %-6s %8.1f s  recall@10 %.4f (its own estimate %.4f)  peak %5.0f MB"
                      % (method, out["seconds"], results["engine " + method]["recall"], out["recall"], out["peak_mb"]),
                      flush=True)
        for name in ("hnswlib", "faiss-hnsw", "faiss-ivf", "pynndescent"):
            if name in skip:
                continue
            ids_path = os.path.join(tmp, name + ".npy")
            out = run([sys.executable, os.path.abspath(__file__), args.data, "--rows", str(n), "--threads",
                       str(args.threads), "--reference", name, "--sample", sample_path, "--out", ids_path])
            if out:
                results[name] = dict(out, recall=recall(np.load(ids_path)))
                print("%-13s %8.1f s  recall@10 %.4f  peak %5.0f MB"
                      % (name, out["seconds"], results[name]["recall"], out["peak_mb"]), flush=True)
    if "engine ivf" in results:
        ours = results["engine ivf"]["seconds"]
        for name, r in results.items():
            if name != "engine ivf":
                print("  %-13s / engine IVF: %.1fx the time" % (name, r["seconds"] / ours))


if __name__ == "__main__":
    main()
