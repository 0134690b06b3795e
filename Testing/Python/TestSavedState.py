"""A comparison layout saved as a ParaView state file and loaded again (File › Save State, then
File › Load State; here SaveState, ResetSession and LoadState in pvpython):

1. The state brings back the pipeline, the layout's views and the linked selection; after
   dualembed.layout.restore() (which the GUI runs itself after loading a state) a selection made
   in one map is drawn in front of both maps (the highlights follow it again) and the gallery
   shows the selected samples. Without restore() the highlights stayed on what was saved.
2. restore() makes the foundation's samples active, as Compare Embeddings does, and a second call
   adds no second observer.
3. Compare Embeddings on the loaded samples reuses the loaded maps (they find each other by an
   annotation the state keeps, not by proxy ids, which change): no projection is computed again.
4. The same for a fine-tuning run's comparison, with its data map: and pvpython ends normally.
"""
import os
import shutil
import tempfile

import numpy as np
from paraview import servermanager, simple

from dualembed_testing import check, load_plugin, point_array

load_plugin()
import dualembed.layout as layout  # noqa: E402 (served by the plugin once it is loaded)

here = os.path.dirname(os.path.abspath(__file__))
models = os.path.join(here, "..", "..", "Data", "models")
N = 80


def highlights():
    """{highlight name: the point ids it extracts} of the layout's selection highlights."""
    found = {}
    for (name, _), part in servermanager.ProxyManager().GetProxiesInGroup(layout.HIGHLIGHTS_GROUP).items():
        data = servermanager.Fetch(part)
        ids = data.GetPointData().GetArray("vtkOriginalPointIds") if data is not None else None
        found[name] = sorted(int(i) for i in point_array(data, "vtkOriginalPointIds")) if ids is not None else []
    return found


def projections():
    return sorted(name for (name, _), source in simple.GetSources().items() if source.GetXMLName() == "EmbeddingProjection")


samples = simple.ImageDatasetReader(FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                                    MaxSamples=N)
f = simple.ImageEmbedding(Input=samples, ModelPath=os.path.join(models, "fashion-vit-foundation"))
ft = simple.ImageEmbedding(Input=f, ModelPath=os.path.join(models, "fashion-vit-ft"))
views = layout.compare_source(ft, outliers=5)
saved_projections = projections()
check(len(saved_projections) == 2, "Compare Embeddings made %s" % saved_projections)
check(views["gallery_source"] is not None, "pvpython's layout has no gallery")
folder = tempfile.mkdtemp(prefix="dualembed-state-")
path = os.path.join(folder, "comparison.pvsm")
simple.SaveState(path)
check(os.path.getsize(path) > 0, "SaveState wrote nothing")

# 1. A new session from the state file.
simple.ResetSession()
load_plugin()
simple.LoadState(path)
check(simple.GetLayoutByName("DualEmbed") is not None, "the loaded state has no DualEmbed layout")
check(projections() == saved_projections, "the loaded state has the projections %s" % projections())
foundation = simple.FindSource("shown (foundation)")
check(foundation is not None and simple.FindSource("shown (ft)") is not None, "the loaded state lost the shown samples")
active = layout.restore()
check(active == foundation and simple.GetActiveSource() == foundation,
      "restore() made %s active, not the foundation's samples" % (active and layout._label(active)))

picked = layout.select_top_outliers(count=6, source=foundation)
drawn = highlights()
check(sorted(drawn) == ["shown (foundation) dots", "shown (ft) dots"], "the loaded highlights are %s" % sorted(drawn))
for name, ids in drawn.items():
    # The selection is linked: both maps draw the same six samples in front.
    check(ids == sorted(picked), "after loading, %s draws %s, not the selected %s" % (name, ids, sorted(picked)))
gallery = [s for s in simple.GetSources().values() if s.GetXMLName() == "SampleGallery"]
check(len(gallery) == 1, "the loaded layout has %d galleries" % len(gallery))
check(gallery[0].Selection is not None and gallery[0].Selection.SMProxy == foundation.SMProxy.GetSelectionInput(0),
      "the loaded gallery does not show the selection")

# 2. Idempotent: a second restore() adds no observer (one per highlight).
layout.restore()
check(len(layout._highlights) == 2, "two restore() calls follow %d highlights" % len(layout._highlights))
simple.ClearSelection(foundation)
drawn = [layout._label(part.Input) for part in servermanager.ProxyManager().GetProxiesInGroup(layout.HIGHLIGHTS_GROUP).values()
         for view in simple.GetViewsInLayout(simple.GetLayoutByName("DualEmbed"))
         if servermanager.GetRepresentation(part, view) is not None and servermanager.GetRepresentation(part, view).Visibility]
check(not drawn, "a cleared selection is still drawn on %s" % drawn)

# 3. Compare again on the loaded samples: the loaded maps, no projection computed again.
executions = {"count": 0}
for name in saved_projections:
    simple.FindSource(name).GetClientSideObject().AddObserver(
        "StartEvent", lambda *args: executions.__setitem__("count", executions["count"] + 1))
layout.compare_source(foundation, outliers=0)
check(projections() == saved_projections, "Compare again after loading made %s" % projections())
check(executions["count"] == 0, "Compare again after loading ran the projections %d times" % executions["count"])
check(len([key for key in simple.GetLayouts() if key[0] == "DualEmbed"]) == 1, "two DualEmbed layouts")
check(np.ptp(point_array(servermanager.Fetch(simple.FindSource("shown (foundation)")), "umap_foundation")) > 0,
      "the loaded foundation map is empty")

# 4. A fine-tuning run's comparison (Training Dynamics' data map joins the layout, linked to the
# maps) saved and loaded in the same session: the fine-tuned samples are active, all three maps draw
# the selection, and the process ends normally (with a second selection link for the data map,
# pvpython crashed at exit in that link's destructor).
simple.ResetSession()
load_plugin()
foundation_samples = simple.ImageEmbedding(
    Input=simple.ImageDatasetReader(FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=40),
    ModelPath=os.path.join(models, "fashion-vit-foundation"))
run = simple.CheckpointEmbedding(Input=foundation_samples, RunPath=os.path.join(models, "fashion-vit-ft-run"))
dynamics = simple.TrainingDynamics(Input=run)
dynamics.UpdatePipeline(max(run.TimestepValues))
check(layout.compare_source(dynamics, outliers=0)["data_map"] is not None, "the run's comparison has no data map")
simple.SaveState(path)
simple.ResetSession()
load_plugin()
simple.LoadState(path)
active = layout.restore()
check(layout._label(active) == "shown (ft)", "after loading a run's comparison %s is active" % layout._label(active))
picked = layout.select_top_outliers(count=4, source=active)
drawn = highlights()
check(sorted(drawn) == ["data map (ft) dots", "shown (foundation) dots", "shown (ft) dots"] and
      all(ids == sorted(picked) for ids in drawn.values()),
      "after loading a run's comparison the selection %s is drawn as %s" % (sorted(picked), drawn))

shutil.rmtree(folder, ignore_errors=True)
print("saved state test passed")
