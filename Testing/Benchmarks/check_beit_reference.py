#!/usr/bin/env python3
"""Cross-checks the BEiT reference of make_model_references.py (torch's attention with BEiT's
relative position bias as a float mask, built from its table; layer scale; mean pooling with its
own norm, or a final norm) against timm's BEiT, with the same random weights (a check run by hand,
not a test: it needs a checkout of huggingface/pytorch-image-models).

    /usr/bin/python3 Testing/Benchmarks/check_beit_reference.py <pytorch-image-models checkout>

Both of the test's BEiT models are built in timm: per-layer bias tables, layer scale, no absolute
positions, mean pooling and a classifier; and a shared table, absolute positions, no layer scale, a
final norm. timm's Beit only runs at its configured size (its bias tables are resized when weights
are loaded, not per input), so this checks the table's indexing, the missing key bias, the layer
scale and the pooling at 32 x 32; the resizing to other grids follows transformers'
BeitRelativePositionBias. Prints the largest differences.
"""
import functools
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Engine"))
from make_model_references import beit_case  # noqa: E402


def transformers_names(state, prefix):
    """timm's Beit state dict under transformers' Beit* names."""
    top = {"cls_token": "embeddings.cls_token", "pos_embed": "embeddings.position_embeddings",
           "patch_embed.proj.weight": "embeddings.patch_embeddings.projection.weight",
           "patch_embed.proj.bias": "embeddings.patch_embeddings.projection.bias",
           "rel_pos_bias.relative_position_bias_table": "encoder.relative_position_bias.relative_position_bias_table",
           "norm.weight": "layernorm.weight", "norm.bias": "layernorm.bias",
           "fc_norm.weight": "pooler.layernorm.weight", "fc_norm.bias": "pooler.layernorm.bias"}
    block = {"norm1": "layernorm_before", "norm2": "layernorm_after", "attn.proj": "attention.output.dense",
             "mlp.fc1": "intermediate.dense", "mlp.fc2": "output.dense"}
    out = {}
    for name, tensor in state.items():
        if name in top:
            out[prefix + top[name]] = tensor
        elif name in ("head.weight", "head.bias"):
            out["classifier." + name.split(".")[1]] = tensor
        elif name.startswith("blocks."):
            _, index, rest = name.split(".", 2)
            base = prefix + "encoder.layer.%s." % index
            attention = base + "attention.attention."
            if rest == "attn.qkv.weight":
                for part, chunk in zip(("query", "key", "value"), tensor.chunk(3)):
                    out[attention + part + ".weight"] = chunk
            elif rest in ("attn.q_bias", "attn.v_bias"):
                out[attention + {"q": "query", "v": "value"}[rest[5]] + ".bias"] = tensor
            elif rest == "attn.relative_position_bias_table":
                out[attention + "relative_position_bias.relative_position_bias_table"] = tensor
            elif rest in ("gamma_1", "gamma_2"):
                out[base + "lambda_" + rest[-1]] = tensor
            else:
                module, kind = rest.rsplit(".", 1)
                out[base + block[module] + "." + kind] = tensor
    return out


def main():
    sys.path.insert(0, sys.argv[1])
    from timm.models.beit import Beit
    torch.manual_seed(5)
    norm = functools.partial(torch.nn.LayerNorm, eps=1e-12)  # transformers' BeitConfig epsilon
    worst = 0.0
    for mean_pooling in (True, False):
        model = Beit(img_size=32, patch_size=8, embed_dim=48, depth=2, num_heads=4, mlp_ratio=2.0,
                     norm_layer=norm, use_abs_pos_emb=not mean_pooling, use_rel_pos_bias=mean_pooling,
                     use_shared_rel_pos_bias=not mean_pooling, init_values=0.1 if mean_pooling else None,
                     global_pool="avg" if mean_pooling else "", num_classes=6 if mean_pooling else 0).eval()
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name.endswith("norm.weight") or ".norm" in name and name.endswith("weight"):
                    p.uniform_(0.5, 1.5)
                elif "norm" in name or name.endswith(("bias", "gamma_1", "gamma_2")):
                    p.normal_(0, 0.3)
                elif "relative_position_bias_table" in name or name in ("cls_token", "pos_embed"):
                    p.normal_(0, 1.0)
        weights = transformers_names(model.state_dict(), "beit." if mean_pooling else "")
        _, _, reference, _ = beit_case(mean_pooling, torch.Generator().manual_seed(0), weights_from=weights)
        pixels = torch.randn(3, 3, 32, 32)
        with torch.no_grad():
            ours = reference(pixels)
            tokens = model.forward_features(pixels)
            differences = {"first": (ours["first"] - tokens[:, 0]).abs().max().item(),
                           "mean": (ours["mean"] - tokens.mean(1)).abs().max().item()}
            if mean_pooling:
                pooled = model.fc_norm(tokens[:, 1:].mean(1))
                differences["pooler"] = (ours["pooler"] - pooled).abs().max().item()
                differences["logits"] = (ours["logits"] - model(pixels)).abs().max().item()
        worst = max(worst, *differences.values())
        print("%-13s %s" % ("mean pooling" if mean_pooling else "shared table",
                            ", ".join("%s %.2g" % item for item in differences.items())))
    print("largest difference %.2g (%s)" % (worst, "agree" if worst < 1e-5 else "DISAGREE"))
    return 0 if worst < 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
