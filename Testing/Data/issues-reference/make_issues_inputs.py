"""Makes the inputs of the Data Issues reference (step 1 of 2; step 2 is make_issues_reference.py).

Run with pvpython and the built plugin, from the repository root:
    DUALEMBED_PLUGIN=build/lib/paraview-5.11/plugins/DualEmbed/DualEmbed.so \
        pvpython Testing/Data/issues-reference/make_issues_inputs.py

The first 3000 Fashion-MNIST test images (Debian's dataset-fashion-mnist),
with a known set of duplicates inserted and 2 % of the labels flipped (fixed
seed), embedded with the bundled demo models (Data/models) through the
project's own Image Embedding filter. Writes, beside this script:
  labels_true_i4.npy       (N,) labels before flipping
  labels_i4.npy            (N,) the labels given to the filters (flipped ones included)
  flipped_i8.npy           indices of the flipped labels
  duplicates_i8.npy        (M, 2) [copy, original]: exact copies (first rows) and
                           near copies (+1 grey level on 8 pixels; the last rows)
  embedding_foundation_f4.npy, embedding_ft_f4.npy   (N, 64)
  logits_ft_f4.npy, probs_ft_f4.npy                  (N, 10)
"""
import gzip
import os
import sys

import numpy as np
from paraview import simple, servermanager
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
N = 3000
EXACT_COPIES = 24      # samples replaced by an exact copy of another sample
NEAR_COPIES = 8        # samples replaced by a copy with 8 pixels changed by one grey level
FLIP_FRACTION = 0.02
SEED = 18

simple.LoadPlugin(os.environ["DUALEMBED_PLUGIN"], remote=False)
reader = simple.ImageDatasetReader(
    FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=N)
data = servermanager.Fetch(reader)
images = vtk_to_numpy(data.GetPointData().GetArray("image")).copy()
labels_true = vtk_to_numpy(data.GetPointData().GetArray("label")).astype(np.int32).copy()

rng = np.random.default_rng(SEED)
chosen = rng.permutation(N)
copies = chosen[: EXACT_COPIES + NEAR_COPIES]
originals = chosen[EXACT_COPIES + NEAR_COPIES: 2 * (EXACT_COPIES + NEAR_COPIES)]
for n, (c, o) in enumerate(zip(copies, originals)):
    images[c] = images[o]
    labels_true[c] = labels_true[o]
    if n >= EXACT_COPIES:
        pixels = rng.choice(784, size=8, replace=False)
        images[c, pixels] = np.where(images[c, pixels] < 255, images[c, pixels] + 1, 254)
# Flip 2 % of the labels, outside the duplicates, each to another random class.
candidates = chosen[2 * (EXACT_COPIES + NEAR_COPIES):]
flipped = np.sort(candidates[: int(round(FLIP_FRACTION * N))])
labels = labels_true.copy()
labels[flipped] = (labels_true[flipped] + rng.integers(1, 10, size=len(flipped))) % 10

copy = data.NewInstance()
copy.DeepCopy(data)
image_array = numpy_to_vtk(images, deep=1)
image_array.SetName("image")
copy.GetPointData().AddArray(image_array)
source = simple.TrivialProducer()
source.GetClientSideObject().SetOutput(copy)
foundation = simple.ImageEmbedding(Input=source, ModelPath=os.path.join(ROOT, "Data/models/fashion-vit-foundation"),
                                   Tag="foundation")
ft = simple.ImageEmbedding(Input=foundation, ModelPath=os.path.join(ROOT, "Data/models/fashion-vit-ft"), Tag="ft")
result = servermanager.Fetch(ft)


def save(name, array):
    np.save(os.path.join(HERE, name), np.ascontiguousarray(array))


save("labels_true_i4.npy", labels_true)
save("labels_i4.npy", labels)
save("flipped_i8.npy", flipped.astype(np.int64))
save("duplicates_i8.npy", np.stack([copies, originals], axis=1).astype(np.int64))
for name in ("embedding_foundation", "embedding_ft", "logits_ft", "probs_ft"):
    array = result.GetPointData().GetArray(name)
    if array is None:
        sys.exit("the pipeline gave no %s" % name)
    save(name + "_f4.npy", vtk_to_numpy(array).astype(np.float32))
print("wrote %d samples, %d flipped labels, %d duplicates" % (N, len(flipped), len(copies)))
