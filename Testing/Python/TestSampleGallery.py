"""Image baseline of the Sample Gallery: the 6 strongest pixel-space outliers of 300
Fashion-MNIST images beside their nearest neighbours (ParaView's regression image test)."""
from paraview import simple, servermanager, smtesting

from dualembed_testing import check, load_plugin

smtesting.ProcessCommandLineArguments()
load_plugin()
samples = simple.ImageDatasetReader(
    FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=300)
scores = simple.EmbeddingOutlierScore(Input=samples, Embedding=["POINTS", "image"])
neighbors = simple.EmbeddingNearestNeighbor(Input=scores, Embedding=["POINTS", "image"])
gallery = simple.SampleGallery(Input=neighbors, RankArray="outlier_score_image", NeighborSuffix="image",
                               Count=6, TileSize=56)
image = servermanager.Fetch(gallery)
# Two tiles and a column of labels per row; rows of 4 text lines (72 px) beside 56-px tiles.
check(image.GetDimensions()[:2] == (2 * 56 + 4 * 6 + 4 + 230, 6 * (72 + 6 + 4) + 6), "gallery size %s" % (image.GetDimensions(),))
rows = image.GetFieldData().GetArray("point_id")
check(rows.GetNumberOfTuples() == 6, "6 rows expected")

view = simple.CreateView("RenderView")
view.ViewSize = [420, 560]
view.Background = [1, 1, 1]
view.UseColorPaletteForBackground = 0
view.OrientationAxesVisibility = 0
display = simple.Show(gallery, view)
display.MapScalars = 0
import dualembed.layout
dualembed.layout.fit_image(view, gallery)
simple.Render(view)
if not smtesting.DoRegressionTesting(view.SMProxy):
    raise SystemExit("FAILED: the gallery differs from its baseline image")
print("Sample Gallery matches its baseline image.")
