#!/usr/bin/env python3
"""A clustered mixture of embeddings for the large-N benchmarks (issue: a million samples): N x D
float32 written as .npy in chunks (10^6 x 768 is 3 GB; never all in memory), with what was planted.

    /usr/bin/python3 Testing/Benchmarks/make_clustered_embeddings.py OUT.npy [--rows 1000000] [--dims 768]
        [--clusters 1000] [--seed 0]

Like a vision model's embeddings, each cluster lies near a low-dimensional subspace (a center plus
24 random directions of its own, scales decaying, and isotropic noise), not in all D dimensions:
kNN search in isotropic 768-D noise is meaningless and no index would find its neighbours. Cluster
sizes are heavy-tailed (Pareto, the largest about 50x the median). Planted, in OUT.json: outliers
(0.1 %, far from every cluster), near-duplicate pairs (0.1 %, a copy of another row plus noise of
1e-3 of its norm) and the cluster label of every row (OUT-labels.npy beside, int32; each row's label is
its cluster, 2 % of them flipped to another cluster: label errors for Data Issues).
"""
import argparse
import json
import os

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--dims", type=int, default=768)
    ap.add_argument("--clusters", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    n, d, c = args.rows, args.dims, args.clusters
    rng = np.random.default_rng(args.seed)
    sizes = rng.pareto(1.5, c) + 1.0
    cluster = rng.choice(c, size=n, p=sizes / sizes.sum()).astype(np.int32)
    centers = rng.normal(0.0, 1.0, (c, d)).astype(np.float32)
    rank = 24
    out = np.lib.format.open_memmap(args.out, mode="w+", dtype=np.float32, shape=(n, d))
    chunk = 50000
    for begin in range(0, n, chunk):
        end = min(n, begin + chunk)
        ids = cluster[begin:end]
        rows = centers[ids].copy()
        for k in np.unique(ids):
            mask = ids == k
            local = np.random.default_rng(args.seed * 100003 + int(k))  # each cluster's own directions
            basis = local.normal(0.0, 1.0, (rank, d)).astype(np.float32) / np.sqrt(d)
            scales = (0.9 ** np.arange(rank)).astype(np.float32) * 0.6
            z = rng.normal(0.0, 1.0, (int(mask.sum()), rank)).astype(np.float32) * scales
            rows[mask] += z @ basis * np.sqrt(d) / 4.0
        rows += rng.normal(0.0, 0.05, rows.shape).astype(np.float32)
        out[begin:end] = rows
    planted = {"rows": n, "dims": d, "clusters": c, "seed": args.seed}
    outliers = rng.choice(n, size=max(1, n // 1000), replace=False)
    out[np.sort(outliers)] = rng.normal(0.0, 3.0, (outliers.size, d)).astype(np.float32)
    rest = np.setdiff1d(np.arange(n), outliers)
    pairs = rng.choice(rest, size=(max(1, n // 1000), 2), replace=False)
    for a, b in pairs:
        row = np.array(out[a])
        out[b] = row + rng.normal(0.0, 1e-3 * np.linalg.norm(row) / np.sqrt(d), d).astype(np.float32)
        cluster[b] = cluster[a]
    out.flush()
    labels = cluster.copy()
    flipped = rng.choice(n, size=n // 50, replace=False)
    labels[flipped] = (labels[flipped] + rng.integers(1, c, flipped.size)) % c
    np.save(os.path.splitext(args.out)[0] + "-labels.npy", labels)
    planted.update(outliers=sorted(int(i) for i in outliers), near_duplicates=[[int(a), int(b)] for a, b in pairs],
                   flipped_labels=sorted(int(i) for i in flipped))
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump(planted, f)
    print("%d x %d float32 written to %s (%d outliers, %d near-duplicate pairs, %d flipped labels)"
          % (n, d, args.out, outliers.size, len(pairs), flipped.size))


if __name__ == "__main__":
    main()
