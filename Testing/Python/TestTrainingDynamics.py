"""Checkpoint Embedding and Training Dynamics on the demo's real fine-tuning run.

- The run's checkpoints (Data/models/fashion-vit-ft-run, one per epoch) become time steps whose
  values are the training steps of their trainer_state.json; each step carries that
  checkpoint's predictions, and the last one equals the fine-tuned demo model.
- Training Dynamics equal a NumPy implementation of SPEC §2.7, computed here on the same
  probabilities and logits (1e-6); the embedding drift at each step equals the Embedding Change
  filter between that step's embedding and the one before.
- The result is computed once: asking for another time step passes it through.
- Per-sample filters below the run re-execute at every time step: those that read the unchanged
  foundation embedding give their arrays again (the same objects, equal to a fresh computation),
  those of the checkpoint's embedding recompute; a changed property recomputes.
- The initial model as step 0, a cache directory, and hostile runs: an incomplete checkpoint
  (left out with a warning), corrupt weights (an error at that step, nothing shown), another
  architecture, another label set (errors), a single checkpoint (one time step, a warning).
"""
import glob
import json
import os
import shutil
import tempfile

import numpy as np
from paraview import servermanager, simple

from dualembed_testing import CapturedMessages, check, load_plugin, point_array, producer

load_plugin()
here = os.path.dirname(os.path.abspath(__file__))
models = os.path.join(here, "..", "..", "Data", "models")
run = os.path.join(models, "fashion-vit-ft-run")
data_dir = os.environ["DUALEMBED_TESTING_DATA_DIR"]
N = 300

samples = simple.ImageDatasetReader(
    FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=N)

# Time steps = the checkpoints' global_step, as their trainer_state.json says.
states = {}
for folder in glob.glob(os.path.join(run, "checkpoint-*")):
    with open(os.path.join(folder, "trainer_state.json")) as f:
        state = json.load(f)
    states[state["global_step"]] = (os.path.basename(folder), state["epoch"])
check(len(states) >= 3, "the demo run has %d checkpoints, expected at least 3" % len(states))
steps = sorted(states)

series = simple.CheckpointEmbedding(Input=samples, RunPath=run, BatchSize=50)
series.UpdatePipelineInformation()
check(list(series.TimestepValues) == steps,
      "time steps %s, expected the training steps %s" % (list(series.TimestepValues), steps))
check(list(simple.GetTimeKeeper().TimestepValues) == steps, "the time keeper does not see the run's steps")

probs, logits, embeddings = [], [], []
for step in steps:
    series.UpdatePipeline(step)
    data = servermanager.Fetch(series)
    name, epoch = states[step]
    fields = data.GetFieldData()
    check(fields.GetAbstractArray("checkpoint").GetValue(0) == name, "step %d shows the wrong checkpoint" % step)
    check(fields.GetArray("checkpoint_step").GetValue(0) == step, "checkpoint_step at %d" % step)
    check(fields.GetArray("checkpoint_epoch").GetValue(0) == epoch, "checkpoint_epoch at %d" % step)
    probs.append(point_array(data, "probs_ft").astype(np.float64))
    logits.append(point_array(data, "logits_ft").astype(np.float64))
    embeddings.append(point_array(data, "embedding_ft"))
    labels = point_array(data, "label")
check(not np.array_equal(probs[0], probs[-1]), "the first and the last checkpoint predict the same")

# The last checkpoint is the fine-tuned demo model.
final = simple.ImageEmbedding(Input=samples, ModelPath=os.path.join(models, "fashion-vit-ft"), Tag="ft", BatchSize=50)
final.UpdatePipeline()
check(np.array_equal(point_array(servermanager.Fetch(final), "probs_ft"), probs[-1].astype(np.float32)),
      "the last checkpoint's probabilities differ from fashion-vit-ft's")

# SPEC §2.7 in NumPy, on the same values.
P = np.stack(probs)                      # T x N x K
Z = np.stack(logits)
T = len(steps)
rows = np.arange(N)
gold = P[:, rows, labels]                # T x N
correct = P.argmax(axis=2) == labels     # T x N
expected = {
    "confidence_ft": gold.mean(axis=0),
    "variability_ft": gold.std(axis=0),
    "correctness_ft": correct.mean(axis=0),
}
forgetting = (correct[:-1] & ~correct[1:]).sum(axis=0)
expected["forgetting_events_ft"] = np.where(correct.any(axis=0), forgetting, T)
others = Z.copy()
others[:, rows, labels] = -np.inf
expected["aum_ft"] = (Z[:, rows, labels] - others.max(axis=2)).mean(axis=0)

# Beside a foundation embedding, the drift's default is the run's embedding (same tag as probs_ft).
both = producer(servermanager.Fetch(series), embedding_foundation=embeddings[0])
check(simple.TrainingDynamics(Input=both).Embedding[1] == "embedding_ft", "the Embedding default is not embedding_ft")

dynamics = simple.TrainingDynamics(Input=series)
dynamics.UpdatePipeline(steps[1])
data = servermanager.Fetch(dynamics)
for name, values in expected.items():
    got = point_array(data, name)
    error = np.abs(got.astype(np.float64) - values).max()
    check(error <= 1e-6, "%s differs from the NumPy reference by %g" % (name, error))
    print("%s: max |difference| %.2g, range [%.3f, %.3f]" % (name, error, values.min(), values.max()))
trajectory = point_array(data, "label_probability_ft")
check(trajectory.shape == (N, T) and np.abs(trajectory - gold.T).max() <= 1e-7, "label_probability_ft")
check(expected["forgetting_events_ft"].max() > 0 and expected["variability_ft"].max() > 0.05,
      "the run shows no dynamics to test with")
check(list(data.GetFieldData().GetArray("dynamics_time_steps").GetValue(i) for i in range(T)) == steps,
      "dynamics_time_steps")

# Drift at each step = Embedding Change between that step's embedding and the one before.
for t in range(T):
    dynamics.UpdatePipeline(steps[t])
    data = servermanager.Fetch(dynamics)
    check(data.GetFieldData().GetArray("checkpoint_step").GetValue(0) == steps[t], "dynamics at step %d" % steps[t])
    for name, values in expected.items():  # the same per-sample values at every step
        check(np.abs(point_array(data, name) - values).max() <= 1e-6, "%s changes with the time step" % name)
    drift = point_array(data, "embedding_drift_ft")
    to_final = point_array(data, "embedding_drift_to_final_ft")
    if t == 0:
        check(not drift.any(), "drift at the first step must be 0")
    else:
        pair = producer(data, embedding_before=embeddings[t - 1], embedding_after=embeddings[t])
        change = simple.EmbeddingChange(Input=pair, EmbeddingA=["POINTS", "embedding_before"],
                                        EmbeddingB=["POINTS", "embedding_after"])
        change.UpdatePipeline()
        check(np.array_equal(point_array(servermanager.Fetch(change), "embedding_change"), drift),
              "embedding_drift_ft at step %d differs from the Embedding Change" % steps[t])
    check((t == T - 1) == (not to_final.any()), "drift to the final checkpoint at step %d" % steps[t])
mean_drift = point_array(data, "mean_embedding_drift_ft")
print("mean embedding drift: %.3f; samples with forgetting events: %d of %d"
      % (mean_drift.mean(), (expected["forgetting_events_ft"] > 0).sum(), N))
# The drift's neighbour search: auto is exact here and quiet; ivf recomputes, says so once for the
# series with its measured recall (every list read at this size: the exact drift); back to auto,
# the exact again.
check(dynamics.GetPropertyValue("NeighborMethod") == "auto", "NeighborMethod default")
dynamics.NeighborMethod = "ivf"
with CapturedMessages() as messages:
    dynamics.UpdatePipeline(steps[-1])
check(messages.text.count("Training Dynamics: IVF neighbours (k 10, cosine) of %d rows" % N) == 1 and
      "That was the first of %d checkpoints; the other %d were searched the same way: recall@10 1.0000."
      % (T, T - 1) in messages.text, "ivf drift: %r" % messages.text)
check(np.array_equal(point_array(servermanager.Fetch(dynamics), "mean_embedding_drift_ft"), mean_drift),
      "the ivf drift differs from the exact one")
dynamics.NeighborMethod = "auto"
with CapturedMessages() as messages:
    dynamics.UpdatePipeline(steps[-1])
check("IVF" not in messages.text and np.array_equal(
    point_array(servermanager.Fetch(dynamics), "mean_embedding_drift_ft"), mean_drift), "back to auto")

# The initial model (the foundation, no head) as step 0: drift only; a cache directory.
cache = tempfile.mkdtemp(prefix="dualembed-series-")
try:
    with_start = simple.CheckpointEmbedding(Input=samples, RunPath=run, BatchSize=50, CacheDirectory=cache,
                                            InitialModelPath=os.path.join(models, "fashion-vit-foundation"))
    with_start.UpdatePipelineInformation()
    check(list(with_start.TimestepValues) == [0.0] + steps, "the initial model is not step 0")
    with_start.UpdatePipeline(0.0)  # as after Apply in the GUI: the arrays of step 0 (no probs_ft) are known
    with CapturedMessages() as messages:
        started = simple.TrainingDynamics(Input=with_start)
        check(started.Probabilities[1] == "probs_ft", "Probabilities default at a step without them: %s"
              % started.Probabilities)
        started.UpdatePipeline(0.0)
    data = servermanager.Fetch(started)
    check(np.abs(point_array(data, "confidence_ft") - expected["confidence_ft"]).max() <= 1e-6,
          "the headless step 0 changed the dynamics")
    check("have no probs_ft" in messages.text, "no message about the step without predictions: " + messages.text)
    files = sorted(os.path.basename(f) for f in glob.glob(os.path.join(cache, "*.h5")))
    check(len(files) == T + 1, "cache files: %s" % files)
    with CapturedMessages() as messages:
        again = simple.CheckpointEmbedding(Input=samples, RunPath=run, BatchSize=50, CacheDirectory=cache,
                                           InitialModelPath=os.path.join(models, "fashion-vit-foundation"))
        again.UpdatePipeline(steps[-1])
    check("loaded embedding_ft for %d samples" % N in messages.text, "the cache was not used: " + messages.text)
    check(np.array_equal(point_array(servermanager.Fetch(again), "probs_ft"), probs[-1].astype(np.float32)),
          "the cached checkpoint differs")
    for proxy in (again, started, with_start):
        simple.Delete(proxy)
finally:
    shutil.rmtree(cache)


def hostile(make_run, expect, message):
    """A run folder made by `make_run(folder)`; `expect` is 'error', 'warning' or 'ok'."""
    folder = tempfile.mkdtemp(prefix="dualembed-run-")
    try:
        make_run(folder)
        with CapturedMessages() as messages:
            proxy = simple.CheckpointEmbedding(Input=samples, RunPath=folder, BatchSize=50)
            proxy.UpdatePipelineInformation()
            times = list(proxy.TimestepValues) if proxy.TimestepValues else []
            points = N
            for time in times or [0.0]:  # the fewest samples any step shows
                proxy.UpdatePipeline(time)
                points = min(points, proxy.GetDataInformation().GetNumberOfPoints())
            simple.Delete(proxy)
        if expect == "error":
            check("ERROR" in messages.text and message in messages.text and points == 0,
                  "expected the error %r, got %d points and: %s" % (message, points, messages.text))
        else:
            check(points == N and message in messages.text if message else points == N,
                  "expected %d samples and %r, got %d and: %s" % (N, message, points, messages.text))
        print("%-40s -> %s" % (make_run.__name__, messages.text.strip().splitlines()[-1][:150]
                                if messages.text.strip() else "no message"))
        return times
    finally:
        shutil.rmtree(folder)


def copy_checkpoints(folder, count=3):
    """The run's first `count` checkpoints copied into `folder`; their paths."""
    names = [states[step][0] for step in steps[:count]]
    for name in names:
        shutil.copytree(os.path.join(run, name), os.path.join(folder, name))
    return [os.path.join(folder, name) for name in names]


def incomplete_checkpoint(folder):
    copy_checkpoints(folder)
    os.makedirs(os.path.join(folder, "checkpoint-99999"))  # a run killed while saving
    shutil.copy(os.path.join(run, states[steps[0]][0], "config.json"), os.path.join(folder, "checkpoint-99999"))


def corrupt_weights(folder):
    paths = copy_checkpoints(folder)
    with open(os.path.join(paths[1], "model.safetensors"), "r+b") as f:
        f.truncate(1000)


def other_architecture(folder):
    copy_checkpoints(folder, 2)
    shutil.copytree(os.path.join(data_dir, "hf-reference", "vit-tiny-classifier"), os.path.join(folder, "checkpoint-5"))


def other_labels(folder):
    paths = copy_checkpoints(folder)
    with open(os.path.join(paths[2], "config.json")) as f:
        config = json.load(f)
    config["id2label"]["0"] = "Top"
    with open(os.path.join(paths[2], "config.json"), "w") as f:
        json.dump(config, f)


def single_checkpoint(folder):
    copy_checkpoints(folder, 1)


def no_checkpoints(folder):
    os.makedirs(os.path.join(folder, "logs"))


check(len(hostile(incomplete_checkpoint, "ok", "left out")) == 3, "the incomplete checkpoint was not left out")
hostile(corrupt_weights, "error", "model.safetensors")
hostile(other_architecture, "error", "different architectures")
hostile(other_labels, "error", "different labels")
hostile(no_checkpoints, "error", "has no usable checkpoint")
check(len(hostile(single_checkpoint, "ok", "")) == 1, "a single checkpoint is one time step")

# Training Dynamics over one checkpoint: a result and a warning.
folder = tempfile.mkdtemp(prefix="dualembed-run-")
try:
    copy_checkpoints(folder, 1)
    with CapturedMessages() as messages:
        single = simple.CheckpointEmbedding(Input=samples, RunPath=folder, BatchSize=50)
        single.UpdatePipeline()
        one = simple.TrainingDynamics(Input=single)
        one.UpdatePipeline()
    data = servermanager.Fetch(one)
    check(data.GetNumberOfPoints() == N and not point_array(data, "variability_ft").any(),
          "one checkpoint: variability must be 0")
    check("Only one checkpoint" in messages.text, "no warning for one checkpoint: " + messages.text)
finally:
    shutil.rmtree(folder)

# Filters below the run re-execute at every time step; the foundation's arrays are reused.
foundation = simple.ImageEmbedding(Input=samples, ModelPath=os.path.join(models, "fashion-vit-foundation"),
                                   Tag="foundation", BatchSize=50)
over_run = simple.CheckpointEmbedding(Input=foundation, RunPath=run, BatchSize=50)
scores_f = simple.EmbeddingOutlierScore(Input=over_run, Embedding=["POINTS", "embedding_foundation"])
nn_f = simple.EmbeddingNearestNeighbor(Input=scores_f, Embedding=["POINTS", "embedding_foundation"])
scores_ft = simple.EmbeddingOutlierScore(Input=nn_f, Embedding=["POINTS", "embedding_ft"])
reused = ("outlier_score_foundation", "nn_id_foundation", "nn_distance_foundation", "nn_flag_foundation")


def arrays_at(step):
    scores_ft.UpdatePipeline(step)
    pd = scores_ft.GetClientSideObject().GetOutputDataObject(0).GetPointData()
    return {name: pd.GetAbstractArray(name) for name in reused + ("outlier_score_ft",)}


before, after = arrays_at(steps[0]), arrays_at(steps[1])
for name in reused:
    check(after[name] is not None and after[name] is before[name], "%s was recomputed at a new time step" % name)
check(after["outlier_score_ft"] is not before["outlier_score_ft"], "the checkpoint's scores were not recomputed")
fresh = simple.EmbeddingNearestNeighbor(Input=simple.EmbeddingOutlierScore(
    Input=foundation, Embedding=["POINTS", "embedding_foundation"]), Embedding=["POINTS", "embedding_foundation"])
fresh_data = servermanager.Fetch(fresh)
from vtkmodules.util.numpy_support import vtk_to_numpy  # noqa: E402
for name in reused:
    check(np.array_equal(vtk_to_numpy(after[name]), point_array(fresh_data, name)), "reused %s differs" % name)
scores_f.K = 5
changed = arrays_at(steps[1])
check(changed["outlier_score_foundation"] is not after["outlier_score_foundation"] and not np.array_equal(
    vtk_to_numpy(changed["outlier_score_foundation"]), vtk_to_numpy(after["outlier_score_foundation"])),
    "a changed K must recompute the scores")
check(changed["nn_id_foundation"] is after["nn_id_foundation"], "the nearest neighbours depend on nothing that changed")

# Missing labels and a missing probabilities array: errors, nothing shown.
unlabelled = producer(servermanager.Fetch(samples))
unlabelled.GetClientSideObject().GetOutputDataObject(0).GetPointData().RemoveArray("label")
with CapturedMessages() as messages:
    unlabelled_series = simple.CheckpointEmbedding(Input=unlabelled, RunPath=run, BatchSize=50)
    unlabelled_series.UpdatePipeline(steps[0])
    broken = simple.TrainingDynamics(Input=unlabelled_series, Labels=["POINTS", "label"])
    broken.UpdatePipeline(steps[0])
check(broken.GetDataInformation().GetNumberOfPoints() == 0 and
      "Labels names the array 'label', which the input does not have" in messages.text,
      "missing labels: " + messages.text)
print("OK")
