"""Data Issues on all 70 000 Fashion-MNIST images vs the Python reference (cleanlab + FiftyOne), in one run.

    DUALEMBED_PLUGIN=build/lib/paraview-5.11/plugins/DualEmbed/DualEmbed.so \\
    CLEANLAB_SOURCE=/tmp/cleanlab-src OMP_WAIT_POLICY=PASSIVE \\
        pvpython Testing/Benchmarks/BenchmarkDataIssues.py [N] [--cache FILE]

Inputs: train + test images (70 000), 2 % of the labels flipped (seed 18), embedded with the
bundled demo models through Image Embedding (not timed; kept in --cache, default
/tmp/dualembed-issues-70000.npz, for the next run). Then, timed: the Data Issues filter with
every issue type on both embeddings and probs_ft (2 threads), and the Python reference of
Testing/Data/issues-reference/issues_reference.py doing the same (cleanlab's issue managers,
the kNN graph shared between near_duplicate and non_iid as Datalab shares it; FiftyOne's
formulas; scikit-learn with its default threads). Prints both times, the ratio, and how far
the results agree (flags differing, largest score difference), and the recovery of the
flipped labels per source.
"""
import gzip
import os
import signal
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "Testing", "Data", "issues-reference"))
FOLDER = "/usr/share/datasets/fashion-mnist"
K = 10


def arguments():
    n, cache = 70000, None
    args = sys.argv[1:]
    while args:
        a = args.pop(0)
        if a == "--cache":
            cache = args.pop(0)
        else:
            n = int(a)
    return n, cache or "/tmp/dualembed-issues-%d.npz" % n


def read_idx(prefix):
    with gzip.open(os.path.join(FOLDER, prefix + "-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8)[16:].reshape(-1, 784)
    with gzip.open(os.path.join(FOLDER, prefix + "-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8)[8:].astype(np.int32)
    return images, labels


def embed(n, simple, servermanager):
    """Both demo models on the first n of train + test, through the plugin's own filters."""
    from vtkmodules.util.numpy_support import vtk_to_numpy
    out = {}
    remaining = n
    for prefix in ("train", "t10k"):
        if remaining <= 0:
            break
        reader = simple.ImageDatasetReader(FileName=os.path.join(FOLDER, prefix + "-images-idx3-ubyte.gz"),
                                           MaxSamples=remaining)
        f = simple.ImageEmbedding(Input=reader, ModelPath=os.path.join(ROOT, "Data/models/fashion-vit-foundation"),
                                  Tag="foundation")
        ft = simple.ImageEmbedding(Input=f, ModelPath=os.path.join(ROOT, "Data/models/fashion-vit-ft"), Tag="ft")
        data = servermanager.Fetch(ft)
        for name in ("embedding_foundation", "embedding_ft", "probs_ft", "logits_ft", "label"):
            out.setdefault(name, []).append(vtk_to_numpy(data.GetPointData().GetArray(name)).copy())
        remaining -= data.GetNumberOfPoints()
        for proxy in (ft, f, reader):
            simple.Delete(proxy)
    return {name: np.concatenate(parts) for name, parts in out.items()}


def main():
    n, cache = arguments()
    from paraview import servermanager, simple
    from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
    from vtkmodules.vtkCommonCore import vtkPoints
    from vtkmodules.vtkCommonDataModel import vtkPolyData
    simple.LoadPlugin(os.environ["DUALEMBED_PLUGIN"], remote=False)
    if os.path.exists(cache):
        inputs = dict(np.load(cache))
    else:
        start = time.perf_counter()
        inputs = embed(n, simple, servermanager)
        np.savez(cache, **inputs)
        print("embedded %d images in %.0f s (cached in %s)" % (n, time.perf_counter() - start, cache))
    rng = np.random.default_rng(18)
    labels = inputs["label"].astype(np.int32)
    flipped = np.sort(rng.choice(n, size=int(round(0.02 * n)), replace=False))
    labels[flipped] = (labels[flipped] + rng.integers(1, 10, size=len(flipped))) % 10

    data = vtkPolyData()
    points = vtkPoints()
    points.SetNumberOfPoints(n)
    data.SetPoints(points)
    for name in ("embedding_foundation", "embedding_ft", "probs_ft", "logits_ft"):
        array = numpy_to_vtk(np.ascontiguousarray(inputs[name]), deep=1)
        array.SetName(name)
        data.GetPointData().AddArray(array)
    array = numpy_to_vtk(labels, deep=1)
    array.SetName("label")
    data.GetPointData().AddArray(array)
    source = simple.TrivialProducer()
    source.GetClientSideObject().SetOutput(data)
    issues = simple.DataIssues(Input=source)
    print("load average before the filter: %.2f" % os.getloadavg()[0])
    start = time.perf_counter()
    issues.UpdatePipeline()
    ours_seconds = time.perf_counter() - start
    out = issues.GetClientSideObject().GetOutput().GetPointData()
    ours = {out.GetArrayName(i): vtk_to_numpy(out.GetArray(i)) for i in range(out.GetNumberOfArrays())}
    print("Data Issues filter: %.1f s" % ours_seconds)

    import issues_reference as ref
    # cleanlab's find_label_issues runs a multiprocessing pool (forked pvpython processes) and
    # terminates it when done; ParaView's own SIGTERM handler would print a stack trace for each.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    print("load average before the reference: %.2f" % os.getloadavg()[0])
    start = time.perf_counter()
    probs = inputs["probs_ft"].astype(np.float64)
    expected = {}
    result = ref.label_issues(labels, K, pred_probs=probs)
    expected["is_label_issue_ft"], expected["label_score_ft"] = result["is_issue"], result["score"]
    logits = inputs["logits_ft"].astype(np.float64)
    expected["mistakenness_ft"] = ref.mistakenness(logits, labels)
    expected["hardness_ft"] = ref.hardness(logits)
    ref.class_imbalance(labels, K)
    for x in ("foundation", "ft"):
        features = inputs["embedding_" + x].astype(np.float64)
        result = ref.label_issues(labels, K, features=features)
        expected["is_knn_label_issue_" + x], expected["knn_label_score_" + x] = result["is_issue"], result["score"]
        host = ref.IssueManagerHost(labels, K)
        result = ref.near_duplicates(labels, K, features, host=host)
        expected["is_near_duplicate_" + x] = result["is_issue"]
        expected["near_duplicate_score_" + x] = result["score"]
        expected["near_duplicate_set_" + x] = result["set_id"]
        expected["non_iid_p_" + x] = ref.non_iid(labels, K, features, host=host)["p_value"]
        expected["uniqueness_" + x] = ref.uniqueness(features)
    reference_seconds = time.perf_counter() - start
    print("Python reference (cleanlab %s issue managers + FiftyOne formulas): %.1f s"
          % (__import__("cleanlab").__version__, reference_seconds))
    print("ratio reference / filter: %.1fx" % (reference_seconds / ours_seconds))

    field = issues.GetClientSideObject().GetOutput().GetFieldData()
    for name, values in expected.items():
        if name.startswith("non_iid_p_"):
            x = name[len("non_iid_p_"):]
            p = field.GetArray("non_iid_" + x).GetComponent(0, 0)
            print("%-28s ours %.6f  reference %.6f" % ("non-IID p " + x, p, values))
        elif name.startswith("is_") or name.startswith("near_duplicate_set"):
            differ = int(np.sum(ours[name].astype(np.int64) != values.astype(np.int64)))
            print("%-28s %6d flagged/set, %d differ" % (name, int(np.sum(values > 0)), differ))
        else:
            print("%-28s max abs diff %.2e" % (name, np.abs(ours[name] - values).max()))
    for source_name, flag in (("probs_ft", "is_label_issue_ft"), ("embedding_foundation", "is_knn_label_issue_foundation"),
                              ("embedding_ft", "is_knn_label_issue_ft")):
        print("flipped labels recovered from %-20s %.1f %% (%d flagged)"
              % (source_name, 100 * ours[flag][flipped].mean(), int(ours[flag].sum())))


main()
