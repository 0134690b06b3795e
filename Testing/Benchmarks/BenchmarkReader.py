"""Times reading all 70 000 Fashion-MNIST images through the plugin, against a NumPy reference.

The reference is what Python loaders (torchvision's FashionMNIST among them) do: gunzip the
IDX files and view the bytes as arrays. Run with pvpython; DUALEMBED_PLUGIN names the plugin.
"""
import gzip
import os
import time

import numpy as np
from paraview import simple, servermanager

FOLDER = "/usr/share/datasets/fashion-mnist"
simple.LoadPlugin(os.environ["DUALEMBED_PLUGIN"], remote=False)


def numpy_reference(prefix):
    with gzip.open(os.path.join(FOLDER, prefix + "-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8)[16:].reshape(-1, 784)
    with gzip.open(os.path.join(FOLDER, prefix + "-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8)[8:]
    return images, labels


def through_proxy(prefix):
    """What a pvpython user sees: the proxy's UpdatePipeline, ParaView's data information included."""
    reader = simple.ImageDatasetReader(FileName=os.path.join(FOLDER, prefix + "-images-idx3-ubyte.gz"))
    reader.UpdatePipeline()
    n = reader.GetDataInformation().GetNumberOfPoints()
    simple.Delete(reader)
    return n


def reader_alone(prefix):
    """The VTK reader's own work: probe, decompress, build the polydata."""
    reader = simple.ImageDatasetReader(FileName=os.path.join(FOLDER, prefix + "-images-idx3-ubyte.gz"))
    algorithm = reader.GetClientSideObject()
    algorithm.Modified()
    algorithm.Update()
    n = algorithm.GetOutput().GetNumberOfPoints()
    simple.Delete(reader)
    return n


def best_of(repeats, function):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


alone, n = best_of(3, lambda: reader_alone("train") + reader_alone("t10k"))
proxy, _ = best_of(3, lambda: through_proxy("train") + through_proxy("t10k"))
ref, _ = best_of(3, lambda: (numpy_reference("train"), numpy_reference("t10k")))
print("Fashion-MNIST, %d images (train + t10k, .gz), best of 3" % n)
print("  vtkImageDatasetReader alone           : %.3f s  (%.0f images/s)" % (alone, n / alone))
print("  ImageDatasetReader proxy (pvpython)   : %.3f s  (incl. ParaView's data information)" % proxy)
print("  NumPy gzip reference                  : %.3f s  (%.0f images/s)" % (ref, n / ref))
print("  ratio reference / reader alone        : %.2fx" % (ref / alone))
