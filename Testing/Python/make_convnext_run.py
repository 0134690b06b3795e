"""A small ConvNeXt fine-tuning run, written as Hugging Face's Trainer writes one (run by
Debian's /usr/bin/python3, not pvpython: its torch stays out of the plugin's process).

    python3 make_convnext_run.py <run folder> <N>

Trains torchvision's ConvNeXt (three stages 16/32/64 wide, patch 4) on the first N Fashion-MNIST
test images for three epochs with SGD, and saves after every epoch a `checkpoint-<step>` folder:
config.json (ConvNextForImageClassification, Fashion-MNIST's class names), model.safetensors in
transformers' names, preprocessor_config.json (ConvNextImageProcessor that leaves 28x28 images as
they are, then normalises with 0.5 / 0.5, as the engine will) and trainer_state.json (global_step,
epoch). Also the initial model (`initial/`), and for it and every checkpoint what the model
returns for the same images (`expected-initial.npz`, `expected-<step>.npz`: probabilities, pooled
embedding), for the test to compare.
"""
import gzip
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.models.convnext import CNBlockConfig, ConvNeXt

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Engine"))
from make_model_references import convnext_names, write_safetensors  # noqa: E402

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
           "Ankle boot"]
DATA = "/usr/share/datasets/fashion-mnist"


def idx(path, offset):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def save(model, folder, step, epoch):
    os.makedirs(folder, exist_ok=True)
    config = {"model_type": "convnext", "architectures": ["ConvNextForImageClassification"], "num_channels": 3,
              "patch_size": 4, "num_stages": 3, "hidden_sizes": [16, 32, 64], "depths": [1, 1, 1],
              "hidden_act": "gelu", "layer_norm_eps": 1e-6, "image_size": 28,
              "id2label": {str(i): c for i, c in enumerate(CLASSES)}}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    processor = {"image_processor_type": "ConvNextImageProcessor", "size": {"shortest_edge": 28},
                 "crop_pct": 1.0, "resample": 2, "do_rescale": True, "rescale_factor": 1 / 255,
                 "do_normalize": True, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}
    with open(os.path.join(folder, "preprocessor_config.json"), "w") as f:
        json.dump(processor, f, indent=1)
    write_safetensors(os.path.join(folder, "model.safetensors"), convnext_names(model.state_dict(), "convnext.", 3, True))
    if step is not None:
        with open(os.path.join(folder, "trainer_state.json"), "w") as f:
            json.dump({"global_step": step, "epoch": epoch}, f)


def expect(model, x, path):
    """What transformers' ConvNextForImageClassification returns: the pooler output (the classifier's
    layer norm of the mean) and the softmax of the logits."""
    with torch.no_grad():
        pooled = model.classifier[0](model.avgpool(model.features(x))).flatten(1)
        probs = torch.softmax(model.classifier[2](pooled), 1)
    np.savez(path, probs=probs.numpy(), embedding=pooled.numpy())
    return probs


def main():
    run, n = sys.argv[1], int(sys.argv[2])
    torch.manual_seed(7)
    images = idx(os.path.join(DATA, "t10k-images-idx3-ubyte.gz"), 16)[:n * 784].reshape(n, 1, 28, 28)
    labels = torch.from_numpy(idx(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz"), 8)[:n].astype(np.int64))
    # What the engine feeds: gray replicated to RGB, / 255, (x - 0.5) / 0.5, in float32.
    x = torch.from_numpy(((images.astype(np.float64) / 255).astype(np.float32) - 0.5) / 0.5).repeat(1, 3, 1, 1)
    model = ConvNeXt([CNBlockConfig(16, 32, 1), CNBlockConfig(32, 64, 1), CNBlockConfig(64, None, 1)],
                     layer_scale=0.5, num_classes=10)
    save(model, os.path.join(run, "initial"), None, None)
    model.eval()
    expect(model, x, os.path.join(run, "expected-initial.npz"))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    step = 0
    for epoch in range(1, 4):
        model.train()
        for batch in torch.randperm(n).split(50):
            optimizer.zero_grad()
            F.cross_entropy(model(x[batch]), labels[batch]).backward()
            optimizer.step()
            step += 1
        model.eval()
        save(model, os.path.join(run, "checkpoint-%d" % step), step, float(epoch))
        probs = expect(model, x, os.path.join(run, "expected-%d.npz" % step))
        accuracy = (probs.argmax(1) == labels).float().mean().item()
        print("checkpoint-%d: epoch %d, training accuracy %.3f" % (step, epoch, accuracy))


if __name__ == "__main__":
    main()
