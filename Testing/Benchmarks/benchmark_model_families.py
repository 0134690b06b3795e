#!/usr/bin/env python3
"""ResNet-50, ConvNeXt-T and DINOv2-B/14: the engine against the reference implementations with the
same weights (torchvision eager; facebookresearch/dinov2), float32 and bfloat16, batch 24 at
224x224, in one run (a benchmark, not a test).

    /usr/bin/python3 Testing/Benchmarks/benchmark_model_families.py [--binary PATH]
        [--models resnet50,convnext_tiny,dinov2_vitb14] [--dinov2 CHECKOUT] [--batch 24] [--images 48]
        [--threads N] [--rounds 2] [--precisions float32,bfloat16]

DINOv2 needs a checkout of facebookresearch/dinov2 (--dinov2; its model at the hub geometry:
518-pixel position grid, patch 14, layer scale), run on Debian's torch with the attention stand-in
of check_dinov2_reference.py.
The default environment only (nothing set, as a user runs it). Each measurement is its own process,
ours and torchvision's alternating, `rounds` times; each side's best round counts and the load
average is printed before each (compare ratios from one run). The ceiling is what this CPU's
convolutions reach through oneDNN (the library both sides call) on the largest layers of these
models: a 3x3 and a 1x1 convolution at batch 24, channels-last, best of several; GFLOP/s of a model
count 2 per multiply-add of its convolutions and linear layers (hooks on the modules), plus
DINOv2's attention products.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "Testing", "Engine"))
from make_model_references import convnext_names, resnet_names, write_safetensors  # noqa: E402

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def reference_model(name, dinov2=None):
    """The reference's own initialisation (random, seeded): the real geometry, sane activations."""
    torch.manual_seed(1)
    if name == "dinov2_vitb14":
        sys.path.insert(0, dinov2)
        sys.path.insert(0, HERE)
        import check_dinov2_reference  # noqa: F401 (the attention stand-in on torch 1.13)
        from dinov2.models.vision_transformer import DinoVisionTransformer
        return DinoVisionTransformer(img_size=518, patch_size=14, embed_dim=768, depth=12, num_heads=12,
                                     mlp_ratio=4.0, init_values=1e-5, block_chunks=0).eval()
    return getattr(torchvision.models, name)(weights=None).eval()


def hf_folder(name, model, folder):
    """The reference model's weights as a Hugging Face folder of transformers' names."""
    os.makedirs(folder, exist_ok=True)
    if name == "dinov2_vitb14":
        from check_dinov2_reference import transformers_names
        config = {"model_type": "dinov2", "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                  "mlp_ratio": 4.0, "patch_size": 14, "image_size": 518, "layer_norm_eps": 1e-6}
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config, f)
        write_safetensors(os.path.join(folder, "model.safetensors"), transformers_names(model.state_dict()))
        return
    if name.startswith("resnet"):
        config = {"model_type": "resnet", "embedding_size": 64, "hidden_sizes": [256, 512, 1024, 2048],
                  "depths": [3, 4, 6, 3], "layer_type": "bottleneck", "hidden_act": "relu"}
        weights = resnet_names(model.state_dict(), "resnet.", True)
    else:
        config = {"model_type": "convnext", "hidden_sizes": [96, 192, 384, 768], "depths": [3, 3, 9, 3],
                  "layer_norm_eps": 1e-6, "image_size": 224}
        weights = convnext_names(model.state_dict(), "convnext.", 4, True)
    config["id2label"] = {str(i): "class_%d" % i for i in range(1000)}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f)
    write_safetensors(os.path.join(folder, "model.safetensors"), weights)


def flops_per_image(model, size=224):
    """2 x the multiply-adds of the convolutions and linear layers."""
    total = [0]

    def conv(module, inputs, output):
        total[0] += 2 * output.numel() * (module.in_channels // module.groups) * module.kernel_size[0] * module.kernel_size[1]

    def linear(module, inputs, output):
        total[0] += 2 * output.numel() * module.in_features

    hooks = [m.register_forward_hook(conv) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    hooks += [m.register_forward_hook(linear) for m in model.modules() if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size))
    for h in hooks:
        h.remove()
    if hasattr(model, "blocks"):  # a ViT: q k^T and the weighted sum of v, 2 n^2 d each
        tokens = (size // model.patch_size) ** 2 + 1
        total[0] += len(model.blocks) * 2 * 2 * tokens * tokens * model.embed_dim
    return total[0]


def conv_ceiling(dtype, threads, batch):
    """Best GFLOP/s of a 3x3 (256 -> 256, 28x28) and a 1x1 (512 -> 2048, 14x14) convolution."""
    torch.set_num_threads(threads)
    best = 0.0
    for cin, cout, k, hw in ((256, 256, 3, 28), (512, 2048, 1, 14)):
        x = torch.randn(batch, cin, hw, hw).to(dtype).contiguous(memory_format=torch.channels_last)
        conv = torch.nn.Conv2d(cin, cout, k, padding=k // 2, bias=False).to(dtype).to(memory_format=torch.channels_last)
        flops = 2.0 * batch * cout * hw * hw * cin * k * k
        with torch.inference_mode():
            conv(x)
            for _ in range(5):
                t = time.perf_counter()
                conv(x)
                best = max(best, flops / (time.perf_counter() - t) / 1e9)
    return best


def reference(args):
    """One torchvision measurement (a process of its own): RESULT line with images/s."""
    torch.set_num_threads(args.threads)
    dtype = DTYPES[args.precision]
    model = reference_model(args.reference, args.dinov2).to(dtype)
    x = torch.randn(args.batch, 3, 224, 224).to(dtype)
    batches = (args.images + args.batch - 1) // args.batch
    with torch.inference_mode():
        model(x)
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(batches):
            model(x)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print("RESULT torchvision images_per_s=%.3f cpu_s_per_image=%.4f" % (batches * args.batch / wall,
                                                                        cpu / (batches * args.batch)))


def measure(cmd):
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    found = re.findall(r"^RESULT (?:engine|torchvision) images_per_s=(\S+)", out.stdout, re.M)
    if out.returncode != 0 or not found:
        sys.stderr.write(out.stdout)
        raise SystemExit("failed: %s" % " ".join(cmd))
    return float(found[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "Testing", "Benchmarks", "BenchmarkImageEmbedding"))
    ap.add_argument("--models", default="resnet50,convnext_tiny,dinov2_vitb14")
    ap.add_argument("--dinov2", default=None, help="a checkout of facebookresearch/dinov2 (for dinov2_vitb14)")
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--images", type=int, default=48)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--precisions", default="float32,bfloat16")
    ap.add_argument("--reference", help=argparse.SUPPRESS)
    ap.add_argument("--precision", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.reference:
        return reference(args)

    for tuned in ("OPENBLAS_CORETYPE", "OMP_WAIT_POLICY", "OMP_NUM_THREADS", "DNNL_MAX_CPU_ISA", "ONEDNN_MAX_CPU_ISA"):
        os.environ.pop(tuned, None)
    with open("/proc/cpuinfo") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    print("== %s, %d cores; threads %d, batch %d, 224x224, %d images per measurement; torch %s, torchvision %s"
          % (cpu, os.cpu_count(), args.threads, args.batch, args.images, torch.__version__, torchvision.__version__))
    precisions = args.precisions.split(",")
    ceilings = {p: conv_ceiling(DTYPES[p], args.threads, args.batch) for p in precisions}
    for p in precisions:
        print("== convolution ceiling (oneDNN through torch, best 3x3 / 1x1 layer, channels-last) %s: %.1f GFLOP/s"
              % (p, ceilings[p]))
    rows = []
    tmp = tempfile.mkdtemp(prefix="dualembed-convnets-")
    models = [m for m in args.models.split(",") if m != "dinov2_vitb14" or args.dinov2]
    if len(models) < len(args.models.split(",")):
        print("== dinov2_vitb14 left out: pass --dinov2 <checkout of facebookresearch/dinov2>")
    for name in models:
        model = reference_model(name, args.dinov2)
        flops = flops_per_image(model)
        folder = os.path.join(tmp, name)
        hf_folder(name, model, folder)
        del model
        for precision in precisions:
            best = {"ours": 0.0, "reference": 0.0}
            for _ in range(args.rounds):
                for side in ("ours", "reference"):
                    if side == "ours":
                        cmd = [args.binary, folder, "--device", "cpu", "--precision", precision, "--batch",
                               str(args.batch), "--images", str(args.images), "--warmup", "1", "--threads",
                               str(args.threads), "--preprocess-images", "0", "--image", "224"]
                    else:
                        cmd = [sys.executable, os.path.abspath(__file__), "--reference", name, "--precision",
                               precision, "--batch", str(args.batch), "--images", str(args.images), "--threads",
                               str(args.threads)] + (["--dinov2", args.dinov2] if args.dinov2 else [])
                    before = load()
                    rate = measure(cmd)
                    best[side] = max(best[side], rate)
                    print("%-14s %-9s %-12s %7.2f images/s  %6.1f GFLOP/s  (load before: %s)"
                          % (name, precision, side, rate, rate * flops / 1e9, before), flush=True)
            rows.append((name, precision, flops, best["ours"], best["reference"]))
    print("\n| model | precision | GFLOP/image | ours img/s | reference img/s | ours / reference "
          "| ours GFLOP/s | of the ceiling |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, precision, flops, ours, tv in rows:
        achieved = ours * flops / 1e9
        print("| %s | %s | %.2f | %.2f | %.2f | %.2fx | %.1f | %.0f %% |"
              % (name, precision, flops / 1e9, ours, tv, ours / tv, achieved, 100 * achieved / ceilings[precision]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
