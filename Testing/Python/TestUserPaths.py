"""The paths a person takes between features, in pvpython as ParaView users write it: no
UpdatePipeline calls, array properties and tags left as they are, a mistake then its fix.

1. A chain built before anything ran (the README's chain without its array names and tags):
   every filter picks its arrays when it runs, the two Image Embeddings make embedding_foundation
   and embedding_ft, and everything downstream uses the right one.
2. A Tag the input already has is an error that names both models; nothing is overwritten.
3. An array that is not there: the error names the property and lists the input's arrays; the
   right name afterwards works.
4. Embeddings are recognised by their mark, not by their name: after Checkpoint Embedding and
   Training Dynamics (whose embedding_drift_* are scalars), in a results file written and read
   back, and beside an unmarked embedding_* array, the defaults, dualembed.layout and Compare
   Embeddings take the two embeddings.
5. A truncated IDX file or .h5 opens with the DualEmbed reader, which reports the damage.
6. A place on a map selects the samples drawn there; Compare again reuses its maps and its tab.
"""
import os
import shutil
import tempfile

import numpy as np
from paraview import servermanager, simple

from dualembed_testing import CapturedMessages, check, load_plugin, point_array, producer

load_plugin()
import dualembed.layout as layout  # noqa: E402 (served by the plugin once it is loaded)

here = os.path.dirname(os.path.abspath(__file__))
models = os.path.join(here, "..", "..", "Data", "models")
foundation_model = os.path.join(models, "fashion-vit-foundation")
ft_model = os.path.join(models, "fashion-vit-ft")
N = 60


def arrays(data):
    pd = data.GetPointData()
    return [pd.GetArrayName(i) for i in range(pd.GetNumberOfArrays())]


def selected_name(proxy, name):
    prop = proxy.GetProperty(name).SMProperty
    return prop.GetElement(4)


# 1. Built before any update: the domains see no arrays yet, so the names stay empty and each
# filter chooses when it runs, with the rule of the Properties panel.
samples = simple.ImageDatasetReader(FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                                    MaxSamples=N)
f = simple.ImageEmbedding(Input=samples, ModelPath=foundation_model)
ft = simple.ImageEmbedding(Input=f, ModelPath=ft_model)
scores = simple.EmbeddingOutlierScore(Input=ft)
nn = simple.EmbeddingNearestNeighbor(Input=scores)
change = simple.EmbeddingChange(Input=nn)
pca = simple.EmbeddingProjection(Input=change, Method="PCA")
check(selected_name(scores, "Embedding") == "", "a chain built before any update got an array name already")
with CapturedMessages() as log:
    data = servermanager.Fetch(pca)
check("ERROR" not in log.text.upper(), "the chain built before any update failed:\n" + log.text)
names = arrays(data)
for wanted in ("embedding_foundation", "embedding_ft", "probs_ft", "outlier_score_foundation",
               "nn_id_foundation", "embedding_change", "pca_foundation"):
    check(wanted in names, "the chain built before any update has no %s (arrays: %s)" % (wanted, names))
check(data.GetNumberOfPoints() == N, "%d samples, expected %d" % (data.GetNumberOfPoints(), N))
models_used = {tag: data.GetFieldData().GetAbstractArray("model_" + tag).GetValue(0) for tag in ("foundation", "ft")}
check(models_used == {"foundation": foundation_model, "ft": ft_model},
      "the default tags went to the wrong models: %s" % models_used)
# The same numbers as the chain with every array and tag named (the README's chain).
named_f = simple.ImageEmbedding(Input=samples, ModelPath=foundation_model, Tag="foundation")
named_scores = simple.EmbeddingOutlierScore(Input=named_f, Embedding=["POINTS", "embedding_foundation"])
check(np.array_equal(point_array(servermanager.Fetch(named_scores), "outlier_score_foundation"),
                     point_array(data, "outlier_score_foundation")),
      "the default chain's outlier scores differ from the named chain's")

# 2. A second embedding with a tag the input has: an error naming both models, an empty output.
clash = simple.ImageEmbedding(Input=ft, ModelPath=ft_model, Tag="foundation")
with CapturedMessages() as log:
    clash.UpdatePipeline()
check(clash.GetDataInformation().GetNumberOfPoints() == 0, "a clashing Tag still produced samples")
check("Tag 'foundation' is taken" in log.text and foundation_model in log.text and ft_model in log.text,
      "the clash error does not name the tag and both models:\n" + log.text)
# On an updated input the panel's default is the free tag already (the GUI shows it); a third
# embedding's depends on its model, so it stays empty until the filter runs.
check(simple.ImageEmbedding(Input=f).Tag == "ft", "the default Tag of a second embedding is not ft")
check(simple.ImageEmbedding(Input=ft).Tag == "", "the default Tag of a third embedding is not empty")
# Left empty, a third embedding gets a free tag from its model's folder.
third = simple.ImageEmbedding(Input=ft, ModelPath=ft_model)
third_names = arrays(servermanager.Fetch(third))
check("embedding_fashion_vit_ft" in third_names, "a third embedding got no tag of its own: %s" % third_names)

# 3. A wrong array, then the right one.
wrong = simple.EmbeddingOutlierScore(Input=ft, Embedding=["POINTS", "embedding_fundation"])
with CapturedMessages() as log:
    wrong.UpdatePipeline()
check(wrong.GetDataInformation().GetNumberOfPoints() == 0, "a missing array still produced samples")
check("Embedding names the array 'embedding_fundation'" in log.text and
      "embedding_foundation (" in log.text and "embedding_ft (" in log.text,
      "the missing-array error does not name the property and list the arrays:\n" + log.text)
wrong.Embedding = ["POINTS", "embedding_foundation"]
with CapturedMessages() as log:
    fixed = servermanager.Fetch(wrong)
check(fixed.GetNumberOfPoints() == N and "outlier_score_foundation" in arrays(fixed),
      "after the right array the filter still fails:\n" + log.text)
# No embedding at all: the error says what is missing.
bare = simple.EmbeddingProjection(Input=simple.ImageDatasetReader(
    FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=N), Method="PCA")
bare.Embedding = ["POINTS", ""]  # as a chain built before any update leaves it
with CapturedMessages() as log:
    bare.UpdatePipeline()
check("Embedding names no array, and the input has no embedding" in log.text and "image (784 components)" in log.text,
      "the error for samples without an embedding does not say so:\n" + log.text)

# 4. The mark, not the name: Training Dynamics adds embedding_drift_ft (a scalar) before
# embedding_foundation in name order.
run = simple.CheckpointEmbedding(Input=named_f, RunPath=os.path.join(models, "fashion-vit-ft-run"))
dynamics = simple.TrainingDynamics(Input=run)
dynamics.UpdatePipeline(max(run.TimestepValues))
check(layout.embedding_arrays(dynamics) == ["embedding_foundation", "embedding_ft"],
      "after Training Dynamics the embeddings are %s" % layout.embedding_arrays(dynamics))
check(layout.embedding_tags(dynamics) == ("foundation", "ft"), "Compare Embeddings would take %s"
      % (layout.embedding_tags(dynamics),))
check(selected_name(simple.EmbeddingOutlierScore(Input=dynamics), "Embedding") == "embedding_foundation",
      "the panel's default after Training Dynamics is not embedding_foundation")
# Beside an unmarked embedding_* array (marked ones exist, so it is not taken) ...
plain = producer(servermanager.Fetch(ft), embedding_aaa=np.zeros((N, 4), np.float32))
check(layout.embedding_arrays(plain) == ["embedding_foundation", "embedding_ft"],
      "an unmarked embedding_aaa was taken for an embedding: %s" % layout.embedding_arrays(plain))
both = simple.EmbeddingChange(Input=plain)
check((selected_name(both, "EmbeddingA"), selected_name(both, "EmbeddingB")) == ("embedding_foundation", "embedding_ft"),
      "Embedding Change's defaults beside an unmarked array: %s, %s"
      % (selected_name(both, "EmbeddingA"), selected_name(both, "EmbeddingB")))
# ... and a results file keeps the mark.
work = tempfile.mkdtemp()
try:
    path = os.path.join(work, "results.h5")
    simple.SaveData(path, proxy=plain)
    stored = simple.OpenDataFile(path)
    check(layout.embedding_arrays(stored) == ["embedding_foundation", "embedding_ft"],
          "a results file lost the embeddings' mark: %s" % layout.embedding_arrays(stored))
finally:
    shutil.rmtree(work)

# 5. Damaged files with a DualEmbed name reach the DualEmbed reader, which says what is wrong
# (ParaView found no reader for them and asked the user to pick one).
work = tempfile.mkdtemp()
try:
    truncated = os.path.join(work, "t10k-images-idx3-ubyte.gz")
    with open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "rb") as f:
        head = f.read(3000)
    with open(truncated, "wb") as f:
        f.write(head)
    results = os.path.join(work, "results.h5")
    simple.SaveData(results, proxy=plain)
    with open(results, "rb") as f:
        head = f.read(os.path.getsize(results) // 2)
    with open(results, "wb") as f:
        f.write(head)
    for path in (truncated, results):
        with CapturedMessages() as log:
            reader = simple.OpenDataFile(path)
            check(reader is not None and reader.GetXMLName() == "ImageDatasetReader",
                  "no DualEmbed reader for the damaged %s: %s" % (os.path.basename(path), reader))
            reader.UpdatePipeline()
        check(path in log.text and reader.GetDataInformation().GetNumberOfPoints() == 0,
              "opening the damaged %s does not say what is wrong:\n%s" % (os.path.basename(path), log.text))
        simple.Delete(reader)
finally:
    shutil.rmtree(work)

def point_array_of(point_data, name):
    from vtkmodules.util.numpy_support import vtk_to_numpy
    return vtk_to_numpy(point_data.GetArray(name))


# Compare Embeddings on the run compares the two embeddings (it took the drift scalars).
views = layout.compare_source(dynamics, outliers=0)
maps = [views["foundation_samples"], views["ft_samples"]]
check(selected_name(simple.FindSource("map (foundation)"), "Embedding") == "embedding_foundation" and
      selected_name(simple.FindSource("map (ft)"), "Embedding") == "embedding_ft",
      "Compare Embeddings mapped the wrong arrays")
shown = servermanager.Fetch(maps[0])
outlier = point_array(shown, "outlier_score_foundation")
check(np.ptp(outlier) > 0.05, "every outlier score is the same (%s): not an embedding" % np.unique(outlier)[:3])

# Playing the run: the fine-tuned map moves, the foundation's map and histogram are not computed
# again (they come from before the checkpoints; they used to re-execute at every frame).
executions = {}
for name in ("map (foundation)", "shown (foundation)", "map (ft)"):
    executions[name] = 0

    def count(*args, name=name):
        executions[name] += 1
    simple.FindSource(name).GetClientSideObject().AddObserver("EndEvent", count)
scene = simple.GetAnimationScene()
steps = list(simple.GetTimeKeeper().TimestepValues)
check(len(steps) == len(run.TimestepValues), "the animation does not step through the checkpoints: %s" % steps)
moved = []
for step in steps[-3:]:
    scene.AnimationTime = step
    simple.RenderAllViews()
    moved.append(servermanager.Fetch(maps[1]).GetPoint(5))
check(executions["map (foundation)"] == 0 and executions["shown (foundation)"] == 0,
      "the foundation's map was computed again while playing: %s" % executions)
check(executions["map (ft)"] >= 2 and moved[0] != moved[-1], "the fine-tuned map did not follow the checkpoints: %s %s"
      % (executions, moved))

# A place on a map selects the samples drawn there (ParaView's SelectLocation selects none).
shown_ft = views["ft_samples"]
where = servermanager.Fetch(shown_ft).GetPoint(17)
layout.select_near(where, source=shown_ft)
picked = simple.ExtractSelection(Input=shown_ft, Selection=servermanager._getPyProxy(shown_ft.SMProxy.GetSelectionInput(0)))
ids = point_array(servermanager.Fetch(picked), "vtkOriginalPointIds")
check(17 in ids and len(ids) < N // 4, "select_near at sample 17 selected %s" % list(ids))
simple.Delete(picked)

# Data Issues on the fine-tuned map, then its flags selected in one action (the toolbar's Select
# Issues): the flagged samples are selected in the layout's maps, whose selections are linked.
issues = simple.DataIssues(Input=simple.FindSource("map (ft)"))
flagged = servermanager.Fetch(issues).GetPointData()
counts = {flagged.GetArrayName(i): int(np.sum(point_array_of(flagged, flagged.GetArrayName(i))))
          for i in range(flagged.GetNumberOfArrays()) if flagged.GetArrayName(i).startswith("is_")}
flag = max(counts, key=counts.get)
check(counts[flag] > 0, "Data Issues flagged nothing on %d samples: %s" % (N, counts))
picked = layout.select_flagged(flag, source=issues)
for shown_map in maps:
    chosen = simple.ExtractSelection(Input=shown_map, Selection=servermanager._getPyProxy(shown_map.SMProxy.GetSelectionInput(0)))
    ids = sorted(point_array(servermanager.Fetch(chosen), "vtkOriginalPointIds"))
    simple.Delete(chosen)
    check(len(picked) == counts[flag] and ids == sorted(picked),
          "Select Issues %s: %s selected in %s, flagged %s" % (flag, ids, shown_map.GetXMLLabel(), picked))
try:
    layout.select_flagged("is_label_issue_nothing", source=issues)
    check(False, "Select Issues of a flag the samples lack did not fail")
except ValueError as error:
    check("apply Data Issues" in str(error), "Select Issues of a missing flag says: %s" % error)
simple.Delete(issues)

# Compare again, from the samples the layout shows: the same maps, one DualEmbed tab.
again = layout.compare_source(views["foundation_samples"], outliers=0)
labels = [name for name, _ in simple.GetSources()]
check(labels.count("map (ft)") == 1 and labels.count("map (foundation)") == 1,
      "Compare again made new maps: %s" % sorted(labels))
check(labels.count("shown (foundation)") == 1, "Compare again kept the old shown samples: %s" % sorted(labels))
check(not [l for l in labels if l.startswith("Text")], "the maps' titles are listed as pipeline sources: %s" % sorted(labels))
titles = servermanager.ProxyManager().GetProxiesInGroup(layout.TITLES_GROUP)
check(len(titles) == 3, "after Compare again %d titles exist, expected the new layout's 3 (two maps, the data map)" % len(titles))
tabs = [key for key in simple.GetLayouts() if key[0] == "DualEmbed"]
check(len(tabs) == 1, "Compare again made %d DualEmbed layouts" % len(tabs))

print("user paths test passed")
