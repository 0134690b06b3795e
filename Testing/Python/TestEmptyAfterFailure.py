"""A reader or filter that worked and then fails shows nothing, not its previous result.

For each reader and filter: a successful update, shown in a render view with a ParaView filter
(Transform) after it; then one property change that makes it fail. Its output, its
representation, the filter after it and a DualEmbed filter after it must all be empty (VTK runs
nothing downstream of an algorithm that returns failure, which left the GUI's views and
Information panel on the old result), only the cause is reported, and fixing the property
brings the result back.
"""
import os
import shutil
import tempfile

import numpy as np
from paraview import simple, servermanager

from dualembed_testing import CapturedMessages, check, load_plugin, producer

load_plugin()
view = simple.CreateRenderView()
data_dir = os.environ["DUALEMBED_TESTING_DATA_DIR"]
fashion = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
N = 40


def points(proxy):
    return proxy.GetDataInformation().GetNumberOfPoints()


def expect_cleared(name, source, break_it, repair, error):
    """`break_it()` must leave `source` and everything after it empty with `error` reported;
    `repair()` must bring the samples back."""
    after = simple.Transform(Input=source)            # a ParaView filter downstream
    scores = simple.EmbeddingOutlierScore(Input=after, Embedding=["POINTS", "image"]) \
        if "image" in source.PointData.keys() else None  # a DualEmbed filter downstream
    shown = simple.Show(source, view)
    shown_after = simple.Show(after, view)
    simple.Render(view)
    before = shown.GetRepresentedDataInformation().GetNumberOfPoints()
    check(before > 0 and points(after) == before, "%s: no samples before the failure" % name)
    if scores:
        scores.UpdatePipeline()
        check(points(scores) == before, "%s: the downstream score failed before the failure" % name)

    with CapturedMessages() as messages:
        break_it()
        simple.Render(view)
        if scores:
            scores.UpdatePipeline()
    check(error in messages.text, "%s: expected an error with %r, got %r" % (name, error, messages.text))
    check(points(source) == 0, "%s: output kept %d samples after the failure" % (name, points(source)))
    check(servermanager.Fetch(source).GetNumberOfPoints() == 0, "%s: fetched output not empty" % name)
    for what, count in (("its representation", shown.GetRepresentedDataInformation().GetNumberOfPoints()),
                        ("the Transform after it", points(after)),
                        ("the Transform's representation",
                         shown_after.GetRepresentedDataInformation().GetNumberOfPoints())):
        check(count == 0, "%s: %s still shows %d samples after the failure" % (name, what, count))
    if scores:
        check(points(scores) == 0, "%s: the outlier score after it kept its samples" % name)
    # The empty output is passed on quietly: every error reported is the cause's, and no
    # executive reports a failed request.
    errors = messages.text.split("ERROR: ")[1:]
    check(errors and all(error in e for e in errors) and "returned failure" not in messages.text,
          "%s: errors other than the cause were reported: %r" % (name, messages.text))

    repair()
    simple.Render(view)
    check(shown.GetRepresentedDataInformation().GetNumberOfPoints() == before and points(after) == before,
          "%s: repairing the property did not bring the %d samples back" % (name, before))
    for proxy in (scores, after):
        if proxy:
            simple.Delete(proxy)
    simple.Hide(source, view)
    print("%-26s empty after the failure, restored after the repair" % name)


# --- readers -------------------------------------------------------------------------------
reader = simple.ImageDatasetReader(FileName=fashion, MaxSamples=N)
expect_cleared("ImageDatasetReader", reader,
               lambda: setattr(reader, "FileName", "/nonexistent/t10k-images-idx3-ubyte.gz"),
               lambda: setattr(reader, "FileName", fashion), "does not exist")

work = tempfile.mkdtemp(prefix="dualembed-failure-")
results = os.path.join(work, "samples.h5")
simple.SaveData(results, reader)
not_hdf5 = os.path.join(work, "notes.h5")
with open(not_hdf5, "w") as f:
    f.write("not an HDF5 file\n")
stored = simple.DualEmbedSamplesReader(FileName=results)
expect_cleared("DualEmbedSamplesReader", stored, lambda: setattr(stored, "FileName", not_hdf5),
               lambda: setattr(stored, "FileName", results), "notes.h5")

# --- Image Embedding: a model folder that does not exist ----------------------------------
reference = os.path.join(data_dir, "hf-reference")
images = os.path.join(work, "images", "all")
os.makedirs(images)
for name in sorted(os.listdir(os.path.join(reference, "images")))[:4]:
    shutil.copy(os.path.join(reference, "images", name), images)
folder = simple.ImageDatasetReader(FileName=os.path.dirname(images))
model = os.path.join(reference, "vit-tiny-classifier")
embedding = simple.ImageEmbedding(Input=folder, ModelPath=model, Tag="ft")
expect_cleared("ImageEmbedding", embedding,
               lambda: setattr(embedding, "ModelPath", os.path.join(work, "no-such-model")),
               lambda: setattr(embedding, "ModelPath", model), "no-such-model")

# --- the kNN, projection and prediction filters on synthetic embeddings --------------------
rng = np.random.default_rng(0)
probs = rng.random((N, 10)).astype(np.float32)
samples = producer(servermanager.Fetch(reader),
                   embedding_foundation=rng.normal(size=(N, 8)).astype(np.float32),
                   embedding_ft=rng.normal(size=(N, 8)).astype(np.float32),
                   probs_ft=probs / probs.sum(axis=1, keepdims=True),
                   probs_unnormalised=probs,
                   label_shifted=(np.arange(N) % 12).astype(np.int32),   # 10 and 11: no such column
                   embedding_nan=np.where(np.arange(N)[:, None] == 3, np.nan, 1.0) * rng.normal(size=(N, 8)))
foundation = ["POINTS", "embedding_foundation"]

score = simple.EmbeddingOutlierScore(Input=samples, Embedding=foundation)
expect_cleared("EmbeddingOutlierScore", score,
               lambda: setattr(score, "Embedding", ["POINTS", "label_str"]),
               lambda: setattr(score, "Embedding", foundation), "not numeric")

neighbor = simple.EmbeddingNearestNeighbor(Input=samples, Embedding=foundation)
expect_cleared("EmbeddingNearestNeighbor", neighbor,
               lambda: setattr(neighbor, "Embedding", ["POINTS", "no_such_array"]),
               lambda: setattr(neighbor, "Embedding", foundation), "Embedding names the array 'no_such_array', which the input does not have")

change = simple.EmbeddingChange(Input=samples, EmbeddingA=foundation, EmbeddingB=["POINTS", "embedding_ft"])
expect_cleared("EmbeddingChange", change,
               lambda: setattr(change, "EmbeddingB", ["POINTS", "label_str"]),
               lambda: setattr(change, "EmbeddingB", ["POINTS", "embedding_ft"]), "not numeric")

projection = simple.EmbeddingProjection(Input=samples, Embedding=foundation, NumberOfNeighbors=10)
expect_cleared("EmbeddingProjection", projection,
               lambda: setattr(projection, "NumberOfNeighbors", 100),   # needs more than N samples
               lambda: setattr(projection, "NumberOfNeighbors", 10), "NumberOfNeighbors")

prediction = simple.PredictionOutlierScore(Input=samples, Probabilities=["POINTS", "probs_ft"],
                                           Labels=["POINTS", "label"])
expect_cleared("PredictionOutlierScore", prediction,
               lambda: setattr(prediction, "Labels", foundation),     # 8 components, not a class index
               lambda: setattr(prediction, "Labels", ["POINTS", "label"]), "components")

# Data Issues: each bad input is refused with a sentence and an empty output.
issues = simple.DataIssues(Input=samples, EmbeddingA=foundation, EmbeddingB=["POINTS", "embedding_ft"],
                           Probabilities=["POINTS", "probs_ft"], Labels=["POINTS", "label"],
                           NonIID=0)  # 40 random samples: the permutation test may flag them by chance
for what, prop, bad, good, error in (
        ("missing labels", "Labels", ["POINTS", "no_such_label"], ["POINTS", "label"], "Labels names the array 'no_such_label', which the input does not have"),
        ("labels beyond the columns", "Labels", ["POINTS", "label_shifted"], ["POINTS", "label"], "outside 0..9"),
        ("NaN rows", "EmbeddingA", ["POINTS", "embedding_nan"], foundation, "NaN"),
        ("too few samples", "K", 50, 10, "more samples than K = 50"),
        ("rows not summing to 1", "Probabilities", ["POINTS", "probs_unnormalised"], ["POINTS", "probs_ft"],
         "not summing to 1")):
    expect_cleared("DataIssues (%s)" % what, issues, lambda: setattr(issues, prop, bad),
                   lambda: setattr(issues, prop, good), error)

# --- the Sample Gallery (an image and a row table): a neighbour array that does not exist ------
gallery = simple.SampleGallery(Input=neighbor, RankArray="label", NeighborSuffix="foundation")
shown_gallery = simple.Show(gallery, view)
simple.Render(view)
check(points(gallery) > 0 and servermanager.Fetch(gallery, idx=1).GetNumberOfRows() == 8, "gallery before the failure")
with CapturedMessages() as messages:
    gallery.NeighborSuffix = "missing"
    simple.Render(view)
check("nn_id_missing" in messages.text, "gallery: expected an error naming nn_id_missing, got %r" % messages.text)
check(points(gallery) == 0 and shown_gallery.GetRepresentedDataInformation().GetNumberOfPoints() == 0,
      "gallery: the picture stayed after the failure")
check(servermanager.Fetch(gallery, idx=1).GetNumberOfRows() == 0, "gallery: the row table stayed after the failure")
gallery.NeighborSuffix = "foundation"
simple.Render(view)
check(points(gallery) > 0, "gallery: repairing NeighborSuffix did not bring the picture back")
print("%-26s empty after the failure, restored after the repair" % "SampleGallery")

# A failed filter upstream: the gallery stays empty without an error of its own.
with CapturedMessages() as messages:
    neighbor.Embedding = ["POINTS", "no_such_array"]
    gallery.UpdatePipeline()
check(points(gallery) == 0 and "which the input does not have" in messages.text and "nn_id" not in messages.text,
      "gallery after a failed filter: %d points, messages %r" % (points(gallery), messages.text))
neighbor.Embedding = foundation

# Empty input (a failed filter upstream): Data Issues passes it on without an error of its own.
after_failure = simple.DataIssues(Input=neighbor)
with CapturedMessages() as messages:
    neighbor.Embedding = ["POINTS", "no_such_array"]
    after_failure.UpdatePipeline()
check(points(after_failure) == 0 and "which the input does not have" in messages.text and "Data Issues" not in messages.text,
      "Data Issues after a failed filter: %d points, messages %r" % (points(after_failure), messages.text))
neighbor.Embedding = foundation

shutil.rmtree(work, ignore_errors=True)
print("empty-after-failure test passed")
