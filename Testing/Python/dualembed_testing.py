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


def check_cached_ranges(reader, names=None):
    """The value ranges a reader leaves in its arrays' range cache (what ParaView's data information
    reads) equal those VTK computes itself on a fresh copy of the values (no cache), for every
    numeric point-data array: each component's range and finite range, and the L2 norm's. Arrays
    holding NaN or infinities are left to VTK. `names`: only these arrays (default: every one).
    Returns the names of the arrays found cached."""
    from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
    from vtkmodules.vtkCommonCore import vtkDataArray
    data = reader.GetClientSideObject().GetOutputDataObject(0)  # the reader's own arrays (builtin session)
    pd = data.GetPointData()
    checked = []
    for i in range(pd.GetNumberOfArrays()):
        array = pd.GetArray(i)
        if array is None or array.GetNumberOfTuples() == 0 or (names and array.GetName() not in names):
            continue
        info = array.GetInformation()
        values = vtk_to_numpy(array)
        finite = bool(np.isfinite(values).all())
        cached = info.Has(vtkDataArray.PER_COMPONENT()) and info.Has(vtkDataArray.L2_NORM_FINITE_RANGE())
        check(cached == finite, "%s: ranges %scached" % (array.GetName(), "" if cached else "not "))
        fresh = numpy_to_vtk(values.copy(), deep=1, array_type=array.GetDataType())
        for c in list(range(array.GetNumberOfComponents())) + [-1]:
            for cached, computed in ((array.GetRange(c), fresh.GetRange(c)),
                                     (array.GetFiniteRange(c), fresh.GetFiniteRange(c))):
                check(tuple(cached) == tuple(computed), "%s component %d: cached range %s, VTK computes %s"
                      % (array.GetName(), c, cached, computed))
        if cached:
            checked.append(array.GetName())
    return checked


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
