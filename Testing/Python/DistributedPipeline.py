"""The whole DualEmbed pipeline in pvbatch, serial or under MPI; saves every result array.

    [mpiexec -n 2] pvbatch DistributedPipeline.py OUT_DIR [SAMPLES]

Reader -> both embeddings (bundled demo models) -> outlier scores -> nearest neighbours ->
prediction score -> embedding change -> data issues -> the demo's fine-tuning run as time steps
(Checkpoint Embedding, Training Dynamics, aligned UMAP) -> UMAP and PCA -> results file. Writes OUT_DIR/arrays.npz
(every point-data array of the final samples, fetched to the root in sample order),
OUT_DIR/results.h5 (the samples writer) and OUT_DIR/run.json (ranks, samples per rank,
seconds per stage). TestDistributedPipeline.py runs it both ways and compares.
"""
import json
import os
import sys
import time

import numpy as np
from paraview import servermanager, simple
from vtkmodules.vtkCommonCore import vtkStringArray

from dualembed_testing import CapturedMessages, check, load_plugin, point_array

out = sys.argv[1]
samples_wanted = int(sys.argv[2]) if len(sys.argv) > 2 else 600
os.makedirs(out, exist_ok=True)
load_plugin()

ranks = servermanager.vtkProcessModule.GetProcessModule().GetNumberOfLocalPartitions()
models = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Data", "models")
seconds = {}


def stage(name, proxy):
    start = time.perf_counter()
    proxy.UpdatePipeline()
    seconds[name] = time.perf_counter() - start
    check(proxy.GetDataInformation().GetNumberOfPoints() == samples_wanted,
          "%s produced %d samples" % (name, proxy.GetDataInformation().GetNumberOfPoints()))
    return proxy


# BatchSize divides each rank's share, so that serial and MPI runs batch the same images together.
samples = stage("read", simple.ImageDatasetReader(
    FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=samples_wanted))
for tag in ("foundation", "ft"):
    samples = stage("embedding " + tag, simple.ImageEmbedding(
        Input=samples, ModelPath=os.path.join(models, "fashion-vit-" + tag), Tag=tag, BatchSize=25))
for tag in ("foundation", "ft"):
    embedding = ["POINTS", "embedding_" + tag]
    samples = stage("outlier score " + tag, simple.EmbeddingOutlierScore(Input=samples, Embedding=embedding))
    samples = stage("nearest neighbour " + tag, simple.EmbeddingNearestNeighbor(Input=samples, Embedding=embedding))
# The same embedding through the approximate method: under MPI a distributed search (each rank
# indexes its own rows). At 600 samples the inverted file has so few lists that every one is
# read, so its neighbours are the exact ones, bit for bit.
samples = stage("copy for IVF", simple.PythonCalculator(
    Input=samples, Expression="inputs[0].PointData['embedding_foundation']", ArrayName="embedding_ivf"))
samples = stage("outlier score ivf", simple.EmbeddingOutlierScore(
    Input=samples, Embedding=["POINTS", "embedding_ivf"], Method="ivf"))
samples = stage("nearest neighbour ivf", simple.EmbeddingNearestNeighbor(
    Input=samples, Embedding=["POINTS", "embedding_ivf"], Method="ivf"))
samples = stage("prediction score", simple.PredictionOutlierScore(
    Input=samples, Probabilities=["POINTS", "probs_ft"], Labels=["POINTS", "label"]))
samples = stage("embedding change", simple.EmbeddingChange(
    Input=samples, EmbeddingA=["POINTS", "embedding_foundation"], EmbeddingB=["POINTS", "embedding_ft"]))
samples = stage("data issues", simple.DataIssues(
    Input=samples, EmbeddingA=["POINTS", "embedding_foundation"], EmbeddingB=["POINTS", "embedding_ft"],
    Probabilities=["POINTS", "probs_ft"], Labels=["POINTS", "label"]))
# The demo's fine-tuning run as time steps: dynamics over all of them, maps aligned across them.
samples = stage("checkpoint embeddings", simple.CheckpointEmbedding(
    Input=samples, RunPath=os.path.join(models, "fashion-vit-ft-run"), Tag="run", BatchSize=25))
samples = stage("training dynamics", simple.TrainingDynamics(
    Input=samples, Probabilities=["POINTS", "probs_run"], Labels=["POINTS", "label"],
    Embedding=["POINTS", "embedding_run"]))
# The drift again through the approximate search: under MPI distributed, each rank keeping only its
# own samples' embeddings of every checkpoint (all lists read at this size: the exact neighbours).
samples = stage("copy run for IVF", simple.PythonCalculator(
    Input=samples, Expression="inputs[0].PointData['embedding_run']", ArrayName="embedding_runivf"))
samples = stage("training dynamics ivf", simple.TrainingDynamics(
    Input=samples, Probabilities=["POINTS", "probs_run"], Labels=["POINTS", "label"],
    Embedding=["POINTS", "embedding_runivf"], NeighborMethod="ivf"))
samples = stage("aligned UMAP run", simple.EmbeddingProjection(
    Input=samples, Embedding=["POINTS", "embedding_run"], AlignTimeSteps=1, Seed=7))
# UMAP through the approximate graph: under MPI searched distributed, the root laying the map out
# from the gathered graph alone (every list read at this size: the serial run's graph, so its map).
samples = stage("UMAP ivf", simple.EmbeddingProjection(
    Input=samples, Embedding=["POINTS", "embedding_ivf"], Method="UMAP", Seed=7, NeighborMethod="ivf"))
samples = stage("UMAP ft", simple.EmbeddingProjection(
    Input=samples, Embedding=["POINTS", "embedding_ft"], Method="UMAP", Seed=7))
samples = stage("PCA foundation", simple.EmbeddingProjection(
    Input=samples, Embedding=["POINTS", "embedding_foundation"], Method="PCA"))

start = time.perf_counter()
simple.SaveData(os.path.join(out, "results.h5"), proxy=samples)
seconds["results file"] = time.perf_counter() - start

# Which rank holds each sample, seen through a filter that runs on every rank.
samples = simple.ProgrammableFilter(Input=samples, CopyArrays=1, Script="""
from vtkmodules.vtkParallelCore import vtkMultiProcessController
from vtkmodules.vtkCommonCore import vtkIntArray
controller = vtkMultiProcessController.GetGlobalController()
rank = vtkIntArray()
rank.SetName("owner_rank")
rank.SetNumberOfTuples(self.GetInput().GetNumberOfPoints())
rank.Fill(controller.GetLocalProcessId() if controller else 0)
self.GetOutput().GetPointData().AddArray(rank)
""")
data = servermanager.Fetch(samples)
arrays = {}
pd = data.GetPointData()
for i in range(pd.GetNumberOfArrays()):
    array = pd.GetAbstractArray(i)
    name = array.GetName()
    values = point_array(data, name)
    arrays[name] = np.array(values) if isinstance(array, vtkStringArray) else values
from vtkmodules.util.numpy_support import vtk_to_numpy
arrays["points"] = vtk_to_numpy(data.GetPoints().GetData())
np.savez(os.path.join(out, "arrays.npz"), **arrays)
per_rank = {int(r): int(c) for r, c in zip(*np.unique(arrays["owner_rank"], return_counts=True))}
with open(os.path.join(out, "run.json"), "w") as f:
    json.dump({"ranks": ranks, "samples_per_rank": per_rank,
               "seconds": seconds}, f, indent=1)
print("DistributedPipeline: %d ranks, %d samples, samples per rank %s" % (ranks, samples_wanted, per_rank))

# Ranks whose samples hold different arrays (one made on rank 1 only) cannot write one file: the
# writer refuses with one message that names the rank, and leaves no file, not even a partial one.
if ranks > 1:
    uneven = simple.ProgrammableFilter(Input=samples, CopyArrays=1, Script="""
from vtkmodules.vtkParallelCore import vtkMultiProcessController
from vtkmodules.vtkCommonCore import vtkFloatArray
if vtkMultiProcessController.GetGlobalController().GetLocalProcessId() == 1:
    extra = vtkFloatArray()
    extra.SetName("rank_one_only")
    extra.SetNumberOfTuples(self.GetInput().GetNumberOfPoints())
    extra.Fill(1)
    self.GetOutput().GetPointData().AddArray(extra)
""")
    with CapturedMessages() as messages:
        simple.SaveData(os.path.join(out, "uneven.h5"), proxy=uneven)
    check("process 1 of 2" in messages.text and "holds" in messages.text and "point-data arrays" in messages.text,
          "ranks with different arrays: %r" % messages.text)
    check(not [f for f in os.listdir(out) if f.startswith("uneven")], "a refused results file was left: %s"
          % os.listdir(out))
    print("Ranks with different arrays: %s" % messages.text.strip().splitlines()[-1])
    # Then the right input to the same file name: written, nothing left of the refused run.
    with CapturedMessages() as messages:
        simple.SaveData(os.path.join(out, "uneven.h5"), proxy=samples)
    check(not messages.text.strip() and sorted(f for f in os.listdir(out) if f.startswith("uneven")) == ["uneven.h5"],
          "after the refused file, the right samples wrote %s (%r)" % (os.listdir(out), messages.text))
