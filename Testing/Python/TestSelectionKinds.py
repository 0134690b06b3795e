"""Every kind of selection ParaView makes reaches the Sample Gallery (and so the GUI's Sample
Inspector, which reads the gallery's row table) as the same samples: ids, a Find Data query (it
used to abort ParaView: VTK's vtkExtractSelection refuses QUERY nodes), and thresholds, each wrapped in
AppendSelections as the GUI builds them."""
import numpy as np
from paraview import simple, servermanager
from vtkmodules.util.numpy_support import vtk_to_numpy

from dualembed_testing import check, load_plugin

load_plugin()
simple.GetActiveViewOrCreate("RenderView")  # selections by location need a view
samples = simple.ImageDatasetReader(
    FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=300)
scores = simple.EmbeddingOutlierScore(Input=samples, Embedding=["POINTS", "image"])
neighbors = simple.EmbeddingNearestNeighbor(Input=scores, Embedding=["POINTS", "image"])
data = servermanager.Fetch(neighbors)
score = vtk_to_numpy(data.GetPointData().GetArray("outlier_score_image"))
gallery = simple.SampleGallery(Input=neighbors, RankArray="outlier_score_image", NeighborSuffix="image",
                               Count=1000)


def shown(selection):
    """Point ids of the gallery's rows (its output 1) for `selection` (the active one if None)."""
    gallery.Selection = selection
    gallery.UpdatePipeline()
    table = servermanager.Fetch(gallery, idx=1)
    ids = table.GetColumnByName("point_id")
    return sorted(int(ids.GetValue(i)) for i in range(ids.GetNumberOfTuples())) if ids else None


def active_selection():
    return servermanager._getPyProxy(neighbors.SMProxy.GetSelectionInput(0))


simple.SelectIDs(IDs=[0, 3, 0, 17, 0, 250], FieldType="POINT", Source=neighbors)
check(shown(active_selection()) == [3, 17, 250], "id selection")
# In the order of the score: the strongest outlier first (they came in id order).
table = servermanager.Fetch(gallery, idx=1)
order = [int(table.GetColumnByName("point_id").GetValue(i)) for i in range(table.GetNumberOfRows())]
check(order == sorted([3, 17, 250], key=lambda i: (score[i], i)), "selected samples in the order %s, scores %s"
      % (order, [score[i] for i in order]))

threshold = float(np.sort(score)[20])
expected = sorted(int(i) for i in np.nonzero(score <= threshold)[0])
simple.QuerySelect(QueryString="outlier_score_image <= %r" % threshold, FieldType="POINT", Source=neighbors)
check(shown(active_selection()) == expected, "Find Data query: %s, expected %s" % (shown(active_selection()), expected))

simple.SelectThresholds(Thresholds=[0.0, threshold], ArrayName="outlier_score_image", FieldType="POINT",
                        Source=neighbors)
check(shown(active_selection()) == expected, "threshold selection")

# No selection: the lowest scores; a selection of nothing: no rows, no error.
ranked = simple.SampleGallery(Input=neighbors, RankArray="outlier_score_image", NeighborSuffix="image", Count=5)
table = servermanager.Fetch(ranked, idx=1)
top = [int(table.GetColumnByName("point_id").GetValue(i)) for i in range(table.GetNumberOfRows())]
check(top == [int(i) for i in np.argsort(score, kind="stable")[:5]], "no selection: the 5 lowest scores, got %s" % top)
simple.SelectIDs(IDs=[], FieldType="POINT", Source=neighbors)
check(shown(active_selection()) in ([], None), "an empty selection shows no rows")
print("Every kind of selection reaches the gallery.")
