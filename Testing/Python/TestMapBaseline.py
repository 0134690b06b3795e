"""Image baseline of a map: the PCA map of 500 Fashion-MNIST images' pixels, coloured by class
with the categorical legend, as the comparison layout draws it (ParaView's regression test)."""
from paraview import simple, smtesting

from dualembed_testing import load_plugin

smtesting.ProcessCommandLineArguments()
load_plugin()
import dualembed.layout

samples = simple.ImageDatasetReader(
    FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=500)
pca = simple.EmbeddingProjection(Input=samples, Embedding=["POINTS", "image"], Method="PCA")
view = simple.CreateView("RenderView")
view.ViewSize = [500, 400]
view.Background = [1, 1, 1]
view.UseColorPaletteForBackground = 0
dualembed.layout.style_map(view, pca, "label", "PCA of pixels")
simple.Render(view)
if not smtesting.DoRegressionTesting(view.SMProxy):
    raise SystemExit("FAILED: the map differs from its baseline image")
print("The PCA map matches its baseline image.")
