#!/usr/bin/env python3
"""Writes a Hugging Face ViTModel folder with random weights, for benchmarks.

    make_random_vit.py OUT_DIR [--hidden 768 --layers 12 --heads 12
                                --intermediate 3072 --patch 16 --image 224]

With --swin it writes a SwinModel instead, by default the
microsoft/swin-base-patch4-window7-224 geometry (Swin-B/4-w7: embed 128,
depths 2-2-18-2, heads 4-8-16-32, window 7, MLP ratio 4, 224x224; torchvision's
swin_b).

The ViT defaults are the google/vit-base-patch16-224-in21k geometry (ViT-B/16:
hidden 768, 12 layers, 12 heads, MLP 3072, patch 16, 224x224, layer_norm_eps
1e-12, qkv_bias, gelu, with pooler). `--hidden 64 --layers 2 --heads 2
--intermediate 128` gives a smoke-test model.

Writes config.json, preprocessor_config.json and model.safetensors. The
safetensors file is written by hand (8-byte little-endian header length, JSON
header, raw little-endian data), so only NumPy is needed. Key names are those
of transformers' ViTModel (as in Testing/Data/hf-reference/vit-p16-224).

Weights: every matrix, conv kernel, bias, CLS token and position embedding is
drawn from N(0, 0.02) with a fixed seed (--seed); LayerNorm weights are 1 and
LayerNorm biases 0 (transformers' own initialisation of LayerNorm).
"""

import argparse
import json
import os
import struct
import sys

import numpy as np


def vit_tensors(hidden, layers, intermediate, patch, image, channels, pooler):
    """(name, shape, kind) in ViTModel's state-dict order; kind: normal|ones|zeros."""
    d = hidden
    n = (image // patch) ** 2 + 1
    out = [
        ("embeddings.cls_token", (1, 1, d), "normal"),
        ("embeddings.position_embeddings", (1, n, d), "normal"),
        ("embeddings.patch_embeddings.projection.weight", (d, channels, patch, patch), "normal"),
        ("embeddings.patch_embeddings.projection.bias", (d,), "normal"),
    ]
    for i in range(layers):
        p = "encoder.layer.%d." % i
        for name in ("query", "key", "value"):
            out.append((p + "attention.attention.%s.weight" % name, (d, d), "normal"))
            out.append((p + "attention.attention.%s.bias" % name, (d,), "normal"))
        out += [
            (p + "attention.output.dense.weight", (d, d), "normal"),
            (p + "attention.output.dense.bias", (d,), "normal"),
            (p + "intermediate.dense.weight", (intermediate, d), "normal"),
            (p + "intermediate.dense.bias", (intermediate,), "normal"),
            (p + "output.dense.weight", (d, intermediate), "normal"),
            (p + "output.dense.bias", (d,), "normal"),
            (p + "layernorm_before.weight", (d,), "ones"),
            (p + "layernorm_before.bias", (d,), "zeros"),
            (p + "layernorm_after.weight", (d,), "ones"),
            (p + "layernorm_after.bias", (d,), "zeros"),
        ]
    out += [("layernorm.weight", (d,), "ones"), ("layernorm.bias", (d,), "zeros")]
    if pooler:
        out += [("pooler.dense.weight", (d, d), "normal"), ("pooler.dense.bias", (d,), "normal")]
    return out


def swin_tensors(embed, depths, heads, window, mlp_ratio, patch, channels):
    """(name, shape, kind) of transformers' SwinModel (relative_position_index buffers left out)."""
    out = [
        ("embeddings.patch_embeddings.projection.weight", (embed, channels, patch, patch), "normal"),
        ("embeddings.patch_embeddings.projection.bias", (embed,), "normal"),
        ("embeddings.norm.weight", (embed,), "ones"),
        ("embeddings.norm.bias", (embed,), "zeros"),
    ]
    for s, (depth, h) in enumerate(zip(depths, heads)):
        d = embed << s
        hidden = int(mlp_ratio * d)
        for i in range(depth):
            p = "encoder.layers.%d.blocks.%d." % (s, i)
            out += [(p + "layernorm_before.weight", (d,), "ones"), (p + "layernorm_before.bias", (d,), "zeros"),
                    (p + "attention.self.relative_position_bias_table", ((2 * window - 1) ** 2, h), "normal")]
            for name in ("query", "key", "value"):
                out.append((p + "attention.self.%s.weight" % name, (d, d), "normal"))
                out.append((p + "attention.self.%s.bias" % name, (d,), "normal"))
            out += [
                (p + "attention.output.dense.weight", (d, d), "normal"),
                (p + "attention.output.dense.bias", (d,), "normal"),
                (p + "layernorm_after.weight", (d,), "ones"), (p + "layernorm_after.bias", (d,), "zeros"),
                (p + "intermediate.dense.weight", (hidden, d), "normal"),
                (p + "intermediate.dense.bias", (hidden,), "normal"),
                (p + "output.dense.weight", (d, hidden), "normal"),
                (p + "output.dense.bias", (d,), "normal"),
            ]
        if s + 1 < len(depths):
            p = "encoder.layers.%d.downsample." % s
            out += [(p + "norm.weight", (4 * d,), "ones"), (p + "norm.bias", (4 * d,), "zeros"),
                    (p + "reduction.weight", (2 * d, 4 * d), "normal")]
    f = embed << (len(depths) - 1)
    out += [("layernorm.weight", (f,), "ones"), ("layernorm.bias", (f,), "zeros")]
    return out


def write_safetensors(path, tensors):
    """tensors: list of (name, float32 ndarray). Keys sorted as safetensors does."""
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    items = sorted(tensors, key=lambda kv: kv[0])
    for name, a in items:
        nbytes = a.size * 4
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)  # data section 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, a in items:
            f.write(np.ascontiguousarray(a, dtype="<f4").tobytes())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--intermediate", type=int, default=None, help="default: 4 * hidden")
    ap.add_argument("--patch", type=int, default=16)
    ap.add_argument("--image", type=int, default=224)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--no-pooler", action="store_true", help="leave out pooler.dense (in21k has one)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--std", type=float, default=0.02)
    ap.add_argument("--swin", action="store_true", help="a SwinModel (Swin-B/4-w7 unless the options below)")
    ap.add_argument("--embed", type=int, default=128, help="Swin embed_dim")
    ap.add_argument("--depths", default="2,2,18,2", help="Swin depths")
    ap.add_argument("--swin-heads", default="4,8,16,32", help="Swin num_heads")
    ap.add_argument("--window", type=int, default=7, help="Swin window_size")
    args = ap.parse_args(argv)
    if args.swin:
        return main_swin(args)
    inter = args.intermediate if args.intermediate else 4 * args.hidden
    if args.hidden % args.heads:
        ap.error("--hidden must be a multiple of --heads")
    if args.image % args.patch:
        ap.error("--image must be a multiple of --patch")

    os.makedirs(args.out_dir, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    tensors = []
    count = 0
    for name, shape, kind in vit_tensors(args.hidden, args.layers, inter, args.patch, args.image,
                                         args.channels, not args.no_pooler):
        if kind == "normal":
            a = rng.standard_normal(shape, dtype=np.float32) * np.float32(args.std)
        elif kind == "ones":
            a = np.ones(shape, np.float32)
        else:
            a = np.zeros(shape, np.float32)
        tensors.append((name, a))
        count += a.size
    write_safetensors(os.path.join(args.out_dir, "model.safetensors"), tensors)

    config = {
        "architectures": ["ViTModel"],
        "attention_probs_dropout_prob": 0.0,
        "dtype": "float32",
        "encoder_stride": args.patch,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "hidden_size": args.hidden,
        "image_size": args.image,
        "initializer_range": args.std,
        "intermediate_size": inter,
        "layer_norm_eps": 1e-12,
        "model_type": "vit",
        "num_attention_heads": args.heads,
        "num_channels": args.channels,
        "num_hidden_layers": args.layers,
        "patch_size": args.patch,
        "pooler_act": "tanh",
        "pooler_output_size": args.hidden,
        "qkv_bias": True,
    }
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    pre = {
        "do_resize": True,
        "do_rescale": True,
        "do_normalize": True,
        "rescale_factor": 1.0 / 255.0,
        "image_mean": [0.5, 0.5, 0.5],
        "image_std": [0.5, 0.5, 0.5],
        "resample": 2,
        "size": {"height": args.image, "width": args.image},
        "image_processor_type": "ViTImageProcessor",
    }
    with open(os.path.join(args.out_dir, "preprocessor_config.json"), "w") as f:
        json.dump(pre, f, indent=2)
    print("wrote %s: ViT hidden %d, %d layers, %d heads, MLP %d, patch %d, image %d, %.1f M parameters"
          % (args.out_dir, args.hidden, args.layers, args.heads, inter, args.patch, args.image, count / 1e6))
    return 0


def main_swin(args):
    depths = [int(v) for v in args.depths.split(",")]
    heads = [int(v) for v in args.swin_heads.split(",")]
    patch = 4 if args.patch == 16 else args.patch
    os.makedirs(args.out_dir, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    tensors, count = [], 0
    for name, shape, kind in swin_tensors(args.embed, depths, heads, args.window, 4.0, patch, args.channels):
        if kind == "normal":
            a = rng.standard_normal(shape, dtype=np.float32) * np.float32(args.std)
        else:
            a = (np.ones if kind == "ones" else np.zeros)(shape, np.float32)
        tensors.append((name, a))
        count += a.size
    write_safetensors(os.path.join(args.out_dir, "model.safetensors"), tensors)
    config = {
        "architectures": ["SwinModel"], "attention_probs_dropout_prob": 0.0, "depths": depths,
        "drop_path_rate": 0.0, "embed_dim": args.embed, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
        "hidden_size": args.embed << (len(depths) - 1), "image_size": args.image,
        "initializer_range": args.std, "layer_norm_eps": 1e-05, "mlp_ratio": 4.0, "model_type": "swin",
        "num_channels": args.channels, "num_heads": heads, "num_layers": len(depths), "patch_size": patch,
        "qkv_bias": True, "use_absolute_embeddings": False, "window_size": args.window,
    }
    with open(os.path.join(args.out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    pre = {"do_resize": True, "do_rescale": True, "do_normalize": True, "rescale_factor": 1.0 / 255.0,
           "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225], "resample": 3,
           "size": {"height": args.image, "width": args.image}, "image_processor_type": "ViTImageProcessor"}
    with open(os.path.join(args.out_dir, "preprocessor_config.json"), "w") as f:
        json.dump(pre, f, indent=2)
    print("wrote %s: Swin embed %d, depths %s, heads %s, window %d, patch %d, image %d, %.1f M parameters"
          % (args.out_dir, args.embed, depths, heads, args.window, patch, args.image, count / 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
