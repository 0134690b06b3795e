"""Every neighbour filter and both UMAPs on two 10^6 x 768 embeddings, end to end in one pvbatch run.

    /usr/bin/python3 Testing/Benchmarks/make_clustered_embeddings.py /tmp/ann/e1m.npy
    DUALEMBED_PLUGIN=build/lib/paraview-5.11/plugins/DualEmbed/DualEmbed.so \\
        pvbatch Testing/Benchmarks/BenchmarkMillion.py /tmp/ann/e1m.npy [--no-umap] [--checks N]

A benchmark, not a test (tens of minutes, 10 GB or more of memory). Inputs:
- embedding_foundation: the clustered mixture as written (planted outliers, near-duplicate
  pairs and 2 % flipped labels, listed in E.json), memory-mapped;
- embedding_ft, the "fine-tuned" one: made once from it and kept beside it (E-ft.npy): every
  row pulled 30 % of the way to the mean of its (given, possibly flipped) label, as fine-tuning
  on these labels would, planted outliers left where they are;
- label: E-labels.npy.

Stages, in the order a user would add them, each timed with its peak RSS (VmHWM, reset before
each stage): Embedding Outlier Score and Nearest Neighbor on each embedding, Embedding Change,
Data Issues (both embeddings, labels, no probabilities), UMAP of each. The filters' own lines
in the output window say which neighbour method ran, its measured recall, and where a graph
was used again.

Afterwards, from the arrays (NumPy, outside the timed stages), against exact neighbours:
- the outlier scores' top 100 and top 1000 against the exact ones: the exact 10 nearest of
  the approximate top --checks rows (default 2000) are computed by matrix products; as an
  approximate mean distance is never below the exact one, the exact top n is certain when its
  smallest exact mean distance is above the approximate one of the last candidate (said);
- nearest neighbour recall@1 and the mean-distance error on --checks random rows;
- planted cases: outliers among the 1000 lowest scores, near-duplicate pairs flagged in one
  set, flipped labels found by Data Issues' kNN label check (precision and recall).
"""
import json
import os
import sys
import time

import numpy as np
from paraview import servermanager, simple
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkCommonDataModel import vtkPolyData

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchmark_stages import Stages, neighbour_filters  # noqa: E402


def arguments():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    options = {"embeddings": args[0], "umap": "--no-umap" not in args, "checks": 2000}
    if "--checks" in args:
        options["checks"] = int(args[args.index("--checks") + 1])
        if options["checks"] < 1000:
            sys.exit("--checks must be at least 1000: the outlier check compares the top 1000.")
    return options


def fine_tuned(path, a, labels, planted):
    """A copy of `a` with each row pulled 30 % of the way to its label's mean (chunked)."""
    if os.path.exists(path):
        return np.load(path, mmap_mode="r")
    n, d = a.shape
    classes = int(labels.max()) + 1
    sums = np.zeros((classes, d), np.float64)
    chunk = 50000
    for begin in range(0, n, chunk):
        np.add.at(sums, labels[begin:begin + chunk], a[begin:begin + chunk])
    means = (sums / np.maximum(np.bincount(labels, minlength=classes), 1)[:, None]).astype(np.float32)
    out = np.lib.format.open_memmap(path + ".partial", mode="w+", dtype=np.float32, shape=(n, d))
    outliers = np.zeros(n, bool)
    outliers[planted["outliers"]] = True
    for begin in range(0, n, chunk):
        rows = np.array(a[begin:begin + chunk])
        pull = ~outliers[begin:begin + chunk]
        rows[pull] += 0.3 * (means[labels[begin:begin + chunk][pull]] - rows[pull])
        out[begin:begin + chunk] = rows
    out.flush()
    del out
    os.rename(path + ".partial", path)
    return np.load(path, mmap_mode="r")


def exact_neighbours(x, queries, k=10):
    """Exact cosine k nearest neighbours (self excluded) of the rows `queries` of x, by products."""
    q = np.array(x[queries], np.float64)
    q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-30)
    q = q.astype(np.float32)
    best_d = np.full((len(queries), 0), np.inf, np.float32)
    best_i = np.zeros((len(queries), 0), np.int64)
    chunk = 50000
    for begin in range(0, x.shape[0], chunk):
        rows = np.array(x[begin:begin + chunk], np.float32)
        rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-30)
        dist = 1.0 - q @ rows.T
        ids = np.arange(begin, begin + len(rows))
        dist[ids[None, :] == np.asarray(queries)[:, None]] = np.inf
        take = np.argpartition(dist, k, axis=1)[:, :k]
        best_d = np.concatenate([best_d, np.take_along_axis(dist, take, 1)], 1)
        best_i = np.concatenate([best_i, ids[take]], 1)
        keep = np.argsort(best_d, axis=1, kind="stable")[:, :k]
        best_d, best_i = np.take_along_axis(best_d, keep, 1), np.take_along_axis(best_i, keep, 1)
    return best_i, np.maximum(best_d, 0.0)


def main():
    options = arguments()
    base = os.path.splitext(options["embeddings"])[0]
    a = np.load(options["embeddings"], mmap_mode="r")
    labels = np.load(base + "-labels.npy").astype(np.int32)
    with open(base + ".json") as f:
        planted = json.load(f)
    made = time.perf_counter()
    b = fine_tuned(base + "-ft.npy", a, labels, planted)
    print("inputs: %d x %d float32 twice (embedding_ft ready in %.0f s), %d labels"
          % (a.shape[0], a.shape[1], time.perf_counter() - made, len(labels)), flush=True)
    n = a.shape[0]

    simple.LoadPlugin(os.environ["DUALEMBED_PLUGIN"], remote=False)
    data = vtkPolyData()
    points = numpy_to_vtk(np.zeros((n, 3), np.float32), deep=1)
    from vtkmodules.vtkCommonCore import vtkPoints
    p = vtkPoints()
    p.SetData(points)
    data.SetPoints(p)
    for name, values in (("embedding_foundation", a), ("embedding_ft", b), ("label", labels)):
        array = numpy_to_vtk(values, deep=0)  # the memory-mapped file itself, no copy
        array.SetName(name)
        data.GetPointData().AddArray(array)
    source = simple.TrivialProducer()
    source.GetClientSideObject().SetOutput(data)

    stages = Stages()
    samples = neighbour_filters(stages, source, umap=options["umap"])
    out = samples.GetClientSideObject().GetOutputDataObject(0).GetPointData()
    arrays = {out.GetArrayName(i): vtk_to_numpy(out.GetArray(i))
              for i in range(out.GetNumberOfArrays()) if out.GetArray(i) is not None}
    print("output arrays: %s" % ", ".join(sorted(arrays)), flush=True)

    stages.print_table(38)

    rng = np.random.default_rng(0)
    checks = options["checks"]
    for tag, x in (("foundation", a), ("ft", b)):
        mean_d = arrays["knn_mean_distance_" + tag].astype(np.float64)
        candidates = np.argsort(-mean_d, kind="stable")[:checks]
        start = time.perf_counter()
        _, exact_d = exact_neighbours(x, candidates)
        exact_mean = exact_d.astype(np.float64).mean(axis=1)
        order = np.argsort(-exact_mean, kind="stable")
        tops = []
        for top in (100, 1000):
            certain = exact_mean[order[top - 1]] > mean_d[candidates[-1]]
            overlap = len(set(candidates[order[:top]]) & set(candidates[:top])) / float(top)
            tops.append("top %d %.2f (%s)" % (top, overlap, "certain" if certain else "NOT certain"))
        spread = (exact_mean[order[0]] - exact_mean[order[999]]) / exact_mean[order[999]]
        random_rows = rng.choice(n, checks, replace=False)
        exact_i, exact_rd = exact_neighbours(x, random_rows)
        nn = arrays["nn_id_" + tag][random_rows]
        recall1 = float(np.mean(nn == exact_i[:, 0]))
        error = float(np.max(mean_d[random_rows] - exact_rd.astype(np.float64).mean(axis=1)))
        print("\n%s: outlier overlap with the exact ranking: %s (of %d candidates; the exact top 1000's "
              "mean distances within %.1f %% of each other); nearest neighbour recall@1 %.4f and largest "
              "mean-distance excess %.2e on %d random rows (exact check %.0f s)"
              % (tag, ", ".join(tops), checks, 100 * spread, recall1, error, checks,
                 time.perf_counter() - start))
        score = arrays["outlier_score_" + tag]
        lowest = set(np.argsort(score, kind="stable")[:1000])
        found = len(lowest & set(planted["outliers"])) / len(planted["outliers"])
        print("%s: %.1f %% of the %d planted outliers among the 1000 lowest outlier scores"
              % (tag, 100 * found, len(planted["outliers"])))
        duplicate = arrays.get("is_near_duplicate_" + tag)
        groups = arrays.get("near_duplicate_set_" + tag)
        if duplicate is not None:
            pairs = np.array(planted["near_duplicates"])
            flagged = (duplicate[pairs[:, 0]] == 1) & (duplicate[pairs[:, 1]] == 1) & \
                (groups[pairs[:, 0]] == groups[pairs[:, 1]])
            print("%s: %d of %d planted near-duplicate pairs flagged in one set; %d samples flagged in all"
                  % (tag, flagged.sum(), len(pairs), int(duplicate.sum())))
        issue = arrays.get("is_knn_label_issue_" + tag)
        if issue is not None:
            flipped = np.zeros(n, bool)
            flipped[planted["flipped_labels"]] = True
            hits = int((issue.astype(bool) & flipped).sum())
            print("%s: kNN label issues: %d flagged, precision %.3f, recall %.3f of %d flipped labels"
                  % (tag, int(issue.sum()), hits / max(1, int(issue.sum())), hits / flipped.sum(),
                     flipped.sum()))
    if options["umap"]:
        for tag in ("foundation", "ft"):
            name = next((k for k in arrays if k.startswith("umap") and k.endswith(tag)), None)
            if name:
                print("%s: %s finite: %s" % (tag, name, bool(np.isfinite(arrays[name]).all())))


main()
