"""Filters created without naming their arrays pick the embedding_* / probs_* arrays.

paraview.simple takes a new proxy's defaults from its domains, as the GUI's Properties panel
does, so this is the default a GUI user sees too. Arrays are added in non-alphabetical order:
the default is the first by name, the order of the panel's list.
"""
import numpy as np
from paraview import simple, servermanager

from dualembed_testing import check, load_plugin, point_array, producer

load_plugin()
N = 30
reader = simple.ImageDatasetReader(FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                                   MaxSamples=N)
reader.UpdatePipeline()
samples = servermanager.Fetch(reader)
rng = np.random.default_rng(1)
probs = rng.random((N, 10)).astype(np.float32)
probs /= probs.sum(axis=1, keepdims=True)
both = producer(samples, embedding_ft=rng.normal(size=(N, 6)).astype(np.float32),
                zeta=np.zeros(N, np.float32),
                embedding_foundation=rng.normal(size=(N, 6)).astype(np.float32),
                probs_ft=probs)


def selected(proxy, name):
    """(input index, association, array name) of a SetInputArrayToProcess property."""
    prop = proxy.GetProperty(name).SMProperty
    values = [prop.GetElement(i) for i in range(prop.GetNumberOfElements())]
    return values[0], values[3], values[4]


def expect(proxy, name, index, array):
    got = selected(proxy, name)
    want = (str(index), "0", array)  # 0 = vtkDataObject::FIELD_ASSOCIATION_POINTS
    check(got == want, "%s.%s defaults to %s, expected %s" % (proxy.GetXMLName(), name, got, want))


for make in (simple.EmbeddingProjection, simple.EmbeddingOutlierScore, simple.EmbeddingNearestNeighbor):
    expect(make(Input=both), "Embedding", 0, "embedding_foundation")
change = simple.EmbeddingChange(Input=both)
expect(change, "EmbeddingA", 0, "embedding_foundation")
expect(change, "EmbeddingB", 1, "embedding_ft")
prediction = simple.PredictionOutlierScore(Input=both)
expect(prediction, "Probabilities", 0, "probs_ft")
expect(prediction, "Labels", 1, "label")

# The defaults reach the VTK filters: they run without any array named.
pca = simple.EmbeddingProjection(Input=both, Method="PCA")
pca.UpdatePipeline()
check(servermanager.Fetch(pca).GetPointData().GetArray("pca_foundation") is not None,
      "EmbeddingProjection with the default Embedding did not add pca_foundation")
prediction.UpdatePipeline()
scores = point_array(servermanager.Fetch(prediction), "label_quality_ft")
check(len(scores) == N, "PredictionOutlierScore with the default arrays gave %d scores" % len(scores))

# One embedding: Embedding Change's B has no second one and falls back like ParaView's own
# array lists (the active scalars, label); without embeddings every filter does.
one = producer(samples, embedding_ft=rng.normal(size=(N, 6)).astype(np.float32))
change = simple.EmbeddingChange(Input=one)
expect(change, "EmbeddingA", 0, "embedding_ft")
expect(change, "EmbeddingB", 1, "label")
expect(simple.EmbeddingProjection(Input=reader), "Embedding", 0, "label")
expect(simple.PredictionOutlierScore(Input=reader), "Probabilities", 0, "label")

print("array defaults test passed")
