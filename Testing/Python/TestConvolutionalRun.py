"""A ConvNeXt fine-tuning run through Checkpoint Embedding and Training Dynamics (a non-ViT family).

make_convnext_run.py (Debian's python3 and torchvision, in a process of its own) trains a small
ConvNeXt on the first 300 Fashion-MNIST test images and saves three checkpoints as Hugging Face's
Trainer does, with what torchvision's model returns for those images. Here:
- Image Embedding of the initial model and Checkpoint Embedding of the run give those embeddings
  (the pooler output, auto's choice for ConvNeXt) and probabilities at every training step;
- Training Dynamics' confidence, variability and correctness equal NumPy on those probabilities;
- what comes after, with its defaults: Compare Embeddings takes the two ConvNeXt embeddings and
  builds its maps; Data Issues and Prediction Outlier Score take the fine-tuned model's
  probabilities, not those of the initial model's own head;
- first-token pooling is refused with the choices ConvNeXt has.
"""
import os
import shutil
import subprocess
import tempfile

import numpy as np
from paraview import servermanager, simple

from dualembed_testing import CapturedMessages, check, load_plugin, point_array

load_plugin()
here = os.path.dirname(os.path.abspath(__file__))
N = 300
run = tempfile.mkdtemp(prefix="dualembed-convnext-run-")
subprocess.run(["/usr/bin/python3", os.path.join(here, "make_convnext_run.py"), run, str(N)], check=True)
steps = [6, 12, 18]

samples = simple.ImageDatasetReader(FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                                    MaxSamples=N)
foundation = simple.ImageEmbedding(Input=samples, ModelPath=os.path.join(run, "initial"), BatchSize=64)
series = simple.CheckpointEmbedding(Input=foundation, RunPath=run, BatchSize=64)
series.UpdatePipelineInformation()
check(list(series.TimestepValues) == steps, "time steps %s, expected %s" % (list(series.TimestepValues), steps))


def close(got, expected, what, tolerance=1e-4):
    error = np.abs(got.astype(np.float64) - expected).max()
    check(error <= tolerance, "%s differs from torchvision's by %g" % (what, error))
    return error


initial = np.load(os.path.join(run, "expected-initial.npz"))
probs = []
for step in steps:
    series.UpdatePipeline(step)
    data = servermanager.Fetch(series)
    expected = np.load(os.path.join(run, "expected-%d.npz" % step))
    e1 = close(point_array(data, "embedding_ft"), expected["embedding"], "embedding_ft at step %d" % step)
    e2 = close(point_array(data, "probs_ft"), expected["probs"], "probs_ft at step %d" % step)
    close(point_array(data, "embedding_foundation"), initial["embedding"], "embedding_foundation")
    model = data.GetFieldData().GetAbstractArray("model_ft")
    check(model.GetValue(1) == "convnext" and model.GetValue(2) == "pooler",
          "model_ft records %s / %s pooling" % (model.GetValue(1), model.GetValue(2)))
    probs.append(point_array(data, "probs_ft").astype(np.float64))
    labels = point_array(data, "label")
    print("step %d: embedding max |difference| %.2g, probabilities %.2g" % (step, e1, e2))

P = np.stack(probs)
gold = P[:, np.arange(N), labels]
dynamics = simple.TrainingDynamics(Input=series)
dynamics.UpdatePipeline(steps[-1])
data = servermanager.Fetch(dynamics)
for name, values in (("confidence_ft", gold.mean(axis=0)), ("variability_ft", gold.std(axis=0)),
                     ("correctness_ft", (P.argmax(axis=2) == labels).mean(axis=0))):
    close(point_array(data, name), values, name, 1e-6)
check(gold.std(axis=0).max() > 0.05, "the run shows no dynamics to test with")
check(point_array(data, "embedding_drift_ft").any(), "no embedding drift at the last step")

# The features after the embeddings, defaults left as they are.
import dualembed.layout as layout  # noqa: E402 (the plugin's package, loaded with it)

check(layout.embedding_tags(dynamics) == ("foundation", "ft"),
      "Compare Embeddings would take %s" % (layout.embedding_tags(dynamics),))
views = layout.compare_source(dynamics, outliers=2)
check(views is not None, "Compare Embeddings on the ConvNeXt run made no layout")
for side in ("foundation_samples", "ft_samples"):
    compared = servermanager.Fetch(views[side])
    check(compared.GetNumberOfPoints() == N, "the %s map has %d samples" % (side, compared.GetNumberOfPoints()))
with CapturedMessages() as messages:
    issues = servermanager.Fetch(simple.DataIssues(Input=series))
flags = [issues.GetPointData().GetArrayName(i) for i in range(issues.GetPointData().GetNumberOfArrays())]
# The initial model has a head too (probs_foundation): the defaults take the fine-tuned model's.
check("is_label_issue_ft" in flags and "is_label_issue_foundation" not in flags and
      "is_near_duplicate_foundation" in flags,
      "Data Issues on the ConvNeXt run made %s (%r)" % (flags, messages.text))
scores = servermanager.Fetch(simple.PredictionOutlierScore(Input=series))
check(scores.GetPointData().GetArray("ood_pred_score_ft") is not None,
      "Prediction Outlier Score did not take probs_ft by default")

with CapturedMessages() as messages:
    refused = simple.ImageEmbedding(Input=samples, ModelPath=os.path.join(run, "initial"), Pooling="first-token")
    refused.UpdatePipeline()
check("needs a CLS token" in messages.text and "choose auto (pooler), mean or pooler" in messages.text,
      "first-token pooling of ConvNeXt: %r" % messages.text)
shutil.rmtree(run)
print("DualEmbed ConvNeXt run test passed")
