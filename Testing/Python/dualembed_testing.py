"""Helpers shared by DualEmbed's pvpython / pvbatch tests."""
import os
import sys

import numpy as np

from paraview import simple
from vtkmodules.vtkCommonCore import vtkLogger, vtkOutputWindow, vtkStringOutputWindow


def load_plugin():
    """Loads the plugin whose path CTest passes in DUALEMBED_PLUGIN."""
    path = os.environ.get("DUALEMBED_PLUGIN")
    if not path or not os.path.exists(path):
        fail("DUALEMBED_PLUGIN must name the built plugin, got %r" % path)
    simple.LoadPlugin(path, remote=False)  # adds the proxies to paraview.simple
    return path


class CapturedMessages:
    """Collects VTK errors and warnings instead of printing them (expected errors
    must not reach stderr, where CTest's failure patterns look for them)."""

    def __enter__(self):
        self.window = vtkStringOutputWindow()
        self.previous = vtkOutputWindow.GetInstance()
        self.verbosity = vtkLogger.GetCurrentVerbosityCutoff()
        vtkOutputWindow.SetInstance(self.window)
        vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_OFF)
        return self

    def __exit__(self, *exc):
        vtkOutputWindow.SetInstance(self.previous)
        vtkLogger.SetStderrVerbosity(self.verbosity)
        self.text = self.window.GetOutput()
        return False


def fail(message):
    print("FAILED: " + message)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def point_array(data, name):
    """The named point-data array of a fetched dataset as a NumPy array."""
    from vtkmodules.util.numpy_support import vtk_to_numpy
    array = data.GetPointData().GetAbstractArray(name)
    check(array is not None, "no point-data array %r" % name)
    if array.IsA("vtkStringArray"):
        return [array.GetValue(i) for i in range(array.GetNumberOfValues())]
    return vtk_to_numpy(array)


def producer(dataset, **arrays):
    """A pipeline source serving `dataset` (a copy) with extra point-data arrays (NumPy)."""
    from vtkmodules.util.numpy_support import numpy_to_vtk
    copy = dataset.NewInstance()
    copy.DeepCopy(dataset)
    for name, values in arrays.items():
        array = numpy_to_vtk(np.ascontiguousarray(values), deep=1)
        array.SetName(name)
        copy.GetPointData().AddArray(array)
    source = simple.TrivialProducer()
    source.GetClientSideObject().SetOutput(copy)
    source.UpdatePipeline()
    return source


def pixel_comparison(outliers=5):
    """dualembed.layout.compare() on 200 Fashion-MNIST images, with the pixels as both
    embeddings (the second map is the first, shifted). Returns (views, foundation_map, ft_map)."""
    import dualembed.layout
    samples = simple.ImageDatasetReader(
        FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=200)
    scores = simple.EmbeddingOutlierScore(Input=samples, Embedding=["POINTS", "image"])
    foundation_map = simple.EmbeddingNearestNeighbor(Input=scores, Embedding=["POINTS", "image"])
    ft_map = simple.Transform(Input=foundation_map)  # a second map of the same samples
    ft_map.Transform.Translate = [100, 0, 0]
    views = dualembed.layout.compare(foundation_map, ft_map, foundation="image", ft="image", outliers=outliers)
    return views, foundation_map, ft_map
