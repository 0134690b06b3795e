"""The whole DualEmbed pipeline on 10^6 real images, end to end in one pvbatch run: Fashion-MNIST
grown to a million by augmentation (make_fashion_million.py), both demo models' embeddings,
every neighbour filter, Data Issues with the fine-tuned model's probabilities, both UMAPs, and the
results file that the GUI benchmark opens (BenchmarkGuiSelection.py --results).

    /usr/bin/python3 Testing/Benchmarks/make_fashion_million.py /tmp/fm/fm1m.h5
    DUALEMBED_PLUGIN=build/lib/paraview-5.11/plugins/DualEmbed/DualEmbed.so \\
        pvbatch Testing/Benchmarks/BenchmarkFashionMillion.py /tmp/fm/fm1m.h5 [RESULTS.h5]

A benchmark, not a test. Each stage is timed with its peak RSS (VmHWM, reset before each stage);
the filters' own lines in the output window say which neighbour method ran and its measured
recall. Afterwards, from the arrays (NumPy): how often a sample's nearest neighbour is one of
its own augmented siblings (the same original image) or has its label, per embedding, and the
label issues Data Issues flags among the originals and among the copies.
"""
import os
import sys

import h5py
import numpy as np
from paraview import simple
from vtkmodules.util.numpy_support import vtk_to_numpy

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from benchmark_stages import Stages, cpu_model, neighbour_filters  # noqa: E402

models = os.path.join(here, "..", "..", "Data", "models")


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    dataset = os.path.abspath(args[0])
    results = os.path.abspath(args[1]) if len(args) > 1 else os.path.splitext(dataset)[0] + "-results.h5"
    with h5py.File(dataset, "r") as f:
        sources = f["source_index"][()]
    n = len(sources)
    print("%s: %d images; CPU: %s; %d threads" % (dataset, n, cpu_model(), os.cpu_count()), flush=True)
    simple.LoadPlugin(os.environ["DUALEMBED_PLUGIN"], remote=False)

    stages = Stages()
    samples = stages.run("Image Dataset Reader", simple.ImageDatasetReader(FileName=dataset))
    for tag, folder in (("foundation", "fashion-vit-foundation"), ("ft", "fashion-vit-ft")):
        samples = stages.run("Image Embedding " + tag, simple.ImageEmbedding(
            Input=samples, ModelPath=os.path.join(models, folder), Tag=tag))
    samples = neighbour_filters(stages, samples, probabilities="probs_ft")
    saved = stages.run("results file %s" % os.path.basename(results), samples,
                       lambda: simple.SaveData(results, proxy=samples))
    out = saved.GetClientSideObject().GetOutputDataObject(0).GetPointData()
    arrays = {out.GetArrayName(i): vtk_to_numpy(out.GetArray(i))
              for i in range(out.GetNumberOfArrays()) if out.GetArray(i) is not None}
    stages.print_table()
    print("results file: %.2f GiB" % (os.path.getsize(results) / 1024.0 ** 3))

    labels = arrays["label"]
    original = np.arange(n) < 70000
    for tag in ("foundation", "ft"):
        nn = arrays["nn_id_" + tag].astype(np.int64)
        sibling = sources[nn] == sources
        print("%s: nearest neighbour is an augmented sibling for %.1f %% of samples, has the same label "
              "for %.1f %%; embedding width %d" % (tag, 100 * sibling.mean(), 100 * (labels[nn] == labels).mean(),
                                                   arrays["embedding_" + tag].shape[1]))
    for name in sorted(k for k in arrays if k.startswith("is_") and "label_issue" in k):
        flags = arrays[name].astype(bool)
        copies = "%.2f %%" % (100 * flags[~original].mean()) if (~original).any() else "-"
        print("%s: %d flagged (%.2f %% of the originals, %s of the copies)"
              % (name, flags.sum(), 100 * flags[original].mean(), copies))
    for name in sorted(k for k in arrays if k.startswith("umap")):
        print("%s finite: %s" % (name, bool(np.isfinite(arrays[name]).all())))


main()
