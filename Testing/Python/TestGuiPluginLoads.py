# Runs inside the paraview GUI (paraview --script=... --exit): the plugin loads and reads data.
import os

from paraview import simple, servermanager

simple.LoadPlugin(os.environ["DUALEMBED_PLUGIN"], remote=False)
reader = simple.ImageDatasetReader(
    FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=50)
simple.Show(reader)
simple.Render()
n = servermanager.Fetch(reader).GetNumberOfPoints()
if n == 50:
    print("DualEmbed GUI smoke test passed")
else:
    print("DualEmbed GUI smoke test FAILED: %d samples" % n)
