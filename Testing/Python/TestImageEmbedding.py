"""Image Embedding twice (foundation + fine-tuned) on real PNGs, checked against Hugging Face.

The eight reference images go into an image folder; they differ in size, so the reader keeps
thumbnails and file_name, and the filter decodes the original PNGs, preprocesses them like
ViTImageProcessor and runs the models. expected.json holds what transformers computed.
"""
import json
import os
import shutil
import tempfile

import numpy as np
from paraview import simple, servermanager

from dualembed_testing import CapturedMessages, check, check_cached_ranges, load_plugin, point_array

load_plugin()
data_dir = os.path.join(os.environ["DUALEMBED_TESTING_DATA_DIR"], "hf-reference")
expected = json.load(open(os.path.join(data_dir, "expected.json")))
names = expected["images"]

# One class folder holding the reference images: file order = expected.json's order.
root = tempfile.mkdtemp(prefix="dualembed-embedding-")
os.makedirs(os.path.join(root, "all"))
for name in names:
    shutil.copy(os.path.join(data_dir, "images", name), os.path.join(root, "all", name))

samples = simple.ImageDatasetReader(FileName=root)
foundation = simple.ImageEmbedding(Input=samples, ModelPath=os.path.join(data_dir, "vit-tiny"),
                                   Tag="foundation", BatchSize=3)
ft = simple.ImageEmbedding(Input=foundation, ModelPath=os.path.join(data_dir, "vit-tiny-classifier"),
                           Tag="ft", BatchSize=5)
ft.UpdatePipeline()
data = servermanager.Fetch(ft)
# The arrays the engine filled come with their ranges cached, as VTK would compute them.
produced = ["embedding_ft", "logits_ft", "probs_ft"]
check(check_cached_ranges(ft, produced) == produced, "Image Embedding's arrays without cached ranges")
check(data.GetNumberOfPoints() == 8, "expected 8 samples, got %d" % data.GetNumberOfPoints())
files = [os.path.basename(f) for f in point_array(data, "file_name")]
check(files == names, "sample order %s differs from expected.json %s" % (files, names))


def close(name, ours, reference):
    diff = np.abs(np.asarray(ours, np.float64) - np.asarray(reference, np.float64)).max()
    print("%-28s max abs diff %.2e" % (name, diff))
    check(diff <= 1e-4, "%s differs from transformers by %.3g" % (name, diff))


emb_f = point_array(data, "embedding_foundation")
check(emb_f.dtype == np.float32 and emb_f.shape == (8, 48), "embedding_foundation %s %s" % (emb_f.dtype, emb_f.shape))
close("embedding_foundation", emb_f, expected["models"]["vit-tiny"]["first_token"])
ref_ft = expected["models"]["vit-tiny-classifier"]
close("embedding_ft", point_array(data, "embedding_ft"), ref_ft["first_token"])
close("logits_ft", point_array(data, "logits_ft"), ref_ft["logits"])
close("probs_ft", point_array(data, "probs_ft"), ref_ft["probs"])
pred = point_array(data, "pred_label_ft")
check(list(pred) == list(np.argmax(ref_ft["probs"], axis=1)), "pred_label_ft %s" % list(pred))
labels = ref_ft["id2label"]
id2label = [labels[str(i)] for i in range(len(labels))] if isinstance(labels, dict) else labels
check(point_array(data, "pred_label_str_ft") == [id2label[p] for p in pred], "pred_label_str_ft")
check(data.GetPointData().GetArray("logits_foundation") is None, "a model without head gave logits")

# Pooling = mean gives the mean token.
foundation.Pooling = "mean"
foundation.UpdatePipeline()
close("embedding_foundation (mean)", point_array(servermanager.Fetch(foundation), "embedding_foundation"),
      expected["models"]["vit-tiny"]["mean_token"])

# Bad input: a clear error, no output array, no crash.
def expect_error(fragment, **properties):
    bad = simple.ImageEmbedding(Input=samples, Tag="bad", **properties)
    with CapturedMessages() as messages:
        bad.UpdatePipeline()
    out = servermanager.Fetch(bad)
    check(out.GetPointData().GetArray("embedding_bad") is None, "%s: output has embedding_bad" % properties)
    check(fragment.lower() in messages.text.lower(), "%s: expected %r in %r" % (properties, fragment, messages.text))
    simple.Delete(bad)


expect_error("config.json", ModelPath=root)
expect_error("does-not-exist", ModelPath=os.path.join(root, "does-not-exist"))
expect_error("cuda", ModelPath=os.path.join(data_dir, "vit-tiny"), Device="cuda")
expect_error("ModelPath", ModelPath="")
print("Image Embedding: foundation and ft arrays match transformers within 1e-4.")
