#!/usr/bin/env python3
"""Cross-checks the DINOv2 reference of make_model_references.py (torch's attention, our layer
scale and SwiGLU, transformers' position interpolation) against facebookresearch/dinov2 itself,
with the same random weights (a check run by hand, not a test: it needs that repository).

    /usr/bin/python3 Testing/Benchmarks/check_dinov2_reference.py <dinov2 checkout>

DinoVisionTransformer runs with interpolate_offset=0 (an output size, as transformers
interpolates; the hub models' 0.1 offset is the original's historical kludge) at the test's
geometry and sizes; Debian's torch 1.13 lacks F.scaled_dot_product_attention, which its Attention
calls, so a plain softmax(q k^T / sqrt(d)) v stands in. Prints the largest differences.
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Engine"))
from make_model_references import dinov2_case  # noqa: E402

if not hasattr(F, "scaled_dot_product_attention"):
    def scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False):
        return torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), -1) @ v
    F.scaled_dot_product_attention = scaled_dot_product_attention


def transformers_names(state):
    """DinoVisionTransformer's state dict under transformers' Dinov2Model names."""
    out = {"embeddings.cls_token": state["cls_token"], "embeddings.position_embeddings": state["pos_embed"],
           "embeddings.patch_embeddings.projection.weight": state["patch_embed.proj.weight"],
           "embeddings.patch_embeddings.projection.bias": state["patch_embed.proj.bias"],
           "layernorm.weight": state["norm.weight"], "layernorm.bias": state["norm.bias"]}
    renames = {"norm1": "norm1", "norm2": "norm2", "attn.proj": "attention.output.dense", "mlp.fc1": "mlp.fc1",
               "mlp.fc2": "mlp.fc2", "mlp.w12": "mlp.weights_in", "mlp.w3": "mlp.weights_out"}
    for name, tensor in state.items():
        if not name.startswith("blocks."):
            continue
        _, index, rest = name.split(".", 2)
        base = "encoder.layer.%s." % index
        if rest.startswith("attn.qkv."):
            kind = rest.split(".")[-1]
            for part, chunk in zip(("query", "key", "value"), tensor.chunk(3)):
                out[base + "attention.attention.%s.%s" % (part, kind)] = chunk
        elif rest in ("ls1.gamma", "ls2.gamma"):
            out[base + "layer_scale%s.lambda1" % rest[2]] = tensor
        else:
            module, kind = rest.rsplit(".", 1)
            out[base + renames[module] + "." + kind] = tensor
    return out


def main():
    sys.path.insert(0, sys.argv[1])
    from dinov2.models.vision_transformer import DinoVisionTransformer
    torch.manual_seed(3)
    worst = 0.0
    for ffn in ("mlp", "swiglufused"):
        model = DinoVisionTransformer(img_size=28, patch_size=7, embed_dim=48, depth=2, num_heads=4, mlp_ratio=4.0,
                                      init_values=1.0, ffn_layer=ffn, block_chunks=0, interpolate_offset=0.0).eval()
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, torch.nn.LayerNorm):
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.normal_(0, 0.2)
            for name, p in model.named_parameters():
                if name.endswith("gamma"):
                    p.normal_(0, 0.5)
            model.pos_embed.normal_(0, 0.5)
            model.cls_token.normal_(0, 1.0)
        weights = transformers_names(model.state_dict())
        _, _, reference, _ = dinov2_case(ffn != "mlp", 0, torch.Generator().manual_seed(0), weights_from=weights)
        for height, width in ((28, 28), (21, 35), (49, 28)):  # its patch embedding needs multiples of 7
            pixels = torch.randn(3, 3, height, width)
            with torch.no_grad():
                ours = reference(pixels)
                theirs = model.forward_features(pixels)
            cls = theirs["x_norm_clstoken"]
            mean = torch.cat([cls.unsqueeze(1), theirs["x_norm_patchtokens"]], 1).mean(1)
            d1 = (ours["first"] - cls).abs().max().item()
            d2 = (ours["mean"] - mean).abs().max().item()
            worst = max(worst, d1, d2)
            print("%-12s %dx%d: CLS max |difference| %.2g, token mean %.2g" % (ffn, height, width, d1, d2))
    print("largest difference %.2g (%s)" % (worst, "agree" if worst < 1e-5 else "DISAGREE"))
    return 0 if worst < 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
