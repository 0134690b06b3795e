"""DualEmbed demo (pvbatch): reads the Fashion-MNIST test set through the plugin and summarises it.

Run by Scripts/run-demo.sh, which sets DUALEMBED_PLUGIN to the built plugin.
"""
import os
import sys
import time

from paraview import simple, servermanager
from vtkmodules.util.numpy_support import vtk_to_numpy

DATASET = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

simple.LoadPlugin(os.environ["DUALEMBED_PLUGIN"], remote=False)
path = sys.argv[1] if len(sys.argv) > 1 else DATASET
start = time.perf_counter()
reader = simple.ImageDatasetReader(FileName=path)
reader.UpdatePipeline()
samples = servermanager.Fetch(reader)
seconds = time.perf_counter() - start
if samples.GetNumberOfPoints() == 0:
    sys.exit("DualEmbed demo: no samples read from %s (see the error above)." % path)

pd = samples.GetPointData()
labels = vtk_to_numpy(pd.GetArray("label"))
names = samples.GetFieldData().GetAbstractArray("class_names")
shape = samples.GetFieldData().GetArray("image_shape")
print("DualEmbed demo: %s" % path)
print("  %d samples, images %d x %d x %d, read in %.2f s"
      % (samples.GetNumberOfPoints(), shape.GetValue(0), shape.GetValue(1), shape.GetValue(2), seconds))
print("  point-data arrays: %s" % ", ".join(pd.GetArrayName(i) for i in range(pd.GetNumberOfArrays())))
for label in range(names.GetNumberOfValues()):
    print("  %2d %-12s %6d samples" % (label, names.GetValue(label), (labels == label).sum()))
