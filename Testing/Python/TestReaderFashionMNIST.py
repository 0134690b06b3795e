"""Reads Debian's Fashion-MNIST test set through the plugin and checks it against the raw file."""
import gzip
import os

import numpy as np
from paraview import simple, servermanager

from dualembed_testing import check, check_cached_ranges, load_plugin, point_array

load_plugin()
folder = "/usr/share/datasets/fashion-mnist"
images_file = os.path.join(folder, "t10k-images-idx3-ubyte.gz")
check(os.path.exists(images_file), "Debian's dataset-fashion-mnist is not installed")

reader = simple.ImageDatasetReader(FileName=images_file)
reader.UpdatePipeline()
data = servermanager.Fetch(reader)
# The ranges ParaView asks of every array come from the reader's one pass (README, "Large sets").
check("image" in check_cached_ranges(reader), "the image array's ranges are not cached")

n = data.GetNumberOfPoints()
check(n == 10000, "expected 10000 samples, got %d" % n)
check(data.GetNumberOfVerts() == 10000, "expected one vertex per sample")

labels = point_array(data, "label")
counts = np.bincount(labels, minlength=10)
check(list(counts) == [1000] * 10, "expected 1000 samples per class, got %s" % counts)

image = point_array(data, "image")
check(image.shape == (10000, 784), "image array has shape %s" % (image.shape,))
shape = data.GetFieldData().GetArray("image_shape")
check([shape.GetValue(i) for i in range(3)] == [28, 28, 1], "image_shape is not [28, 28, 1]")

# Independent decoding of the same files: IDX header 16 bytes (images), 8 bytes (labels).
with gzip.open(images_file) as f:
    raw = np.frombuffer(f.read(), np.uint8)[16:].reshape(10000, 784)
with gzip.open(os.path.join(folder, "t10k-labels-idx1-ubyte.gz")) as f:
    raw_labels = np.frombuffer(f.read(), np.uint8)[8:]
check(np.array_equal(image[:5], raw[:5]), "first images differ from the IDX file")
check(np.array_equal(image, raw), "pixels differ from the IDX file")
check(np.array_equal(labels, raw_labels), "labels differ from the IDX file")
check(list(labels[:5]) == [9, 2, 1, 1, 6], "first labels are %s" % list(labels[:5]))

names = point_array(data, "label_str")
check(names[0] == "Ankle boot" and names[1] == "Pullover", "class names: %s" % names[:2])
ids = point_array(data, "sample_id")
check(ids.dtype == np.int64 and np.array_equal(ids, np.arange(10000)), "sample_id is not 0..N-1 int64")

reader.MaxSamples = 100
reader.UpdatePipeline()
check(servermanager.Fetch(reader).GetNumberOfPoints() == 100, "MaxSamples=100 not honoured")
print("Fashion-MNIST read through the plugin: 10000 samples, pixels and labels identical.")
