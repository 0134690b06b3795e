"""Reference outputs for the engine's model families that transformers' fixtures do not cover.

transformers is not in Debian. The references here are other implementations run on Debian's torch:
- ResNet and ConvNeXt: torchvision's own models, with random weights (and random BatchNorm
  statistics, norms and layer scales, so that folding and every epsilon matter), their state dicts
  renamed to the names transformers' ResNet*/ConvNext* classes save;
- DeiT: torchvision's ViT encoder blocks (EncoderBlock: nn.MultiheadAttention, its MLP) behind a
  CLS and a distillation token, heads as DeiTForImageClassification(WithTeacher) has them;
- DINOv2: blocks of torch.nn.MultiheadAttention with layer scale and an MLP or SwiGLU, as
  Dinov2Layer has them (cross-checked against facebookresearch/dinov2 itself:
  Testing/Benchmarks/check_dinov2_reference.py); with registers, register tokens after CLS and
  positions resized with antialiasing, as Dinov2WithRegistersEmbeddings has them;
- BEiT: torch.nn.MultiheadAttention blocks (no key bias) whose float attention mask is BEiT's
  relative position bias, built here from its table (resized bilinearly to the input's patch grid,
  as BeitRelativePositionBias does), per layer or shared, with layer scale, absolute positions or
  none, and mean pooling with its own norm or a final norm and the CLS token;
- CLIP's vision tower: blocks of torch.nn.MultiheadAttention with quick GELU between a pre- and a
  post-layer norm, as CLIPVisionTransformer has them, with its projection or a classifier;
- SigLIP's vision tower: the same blocks with GELU (tanh), no CLS token, its attention-pooling head
  (torch's MultiheadAttention with one learned query) or a classifier.
Position embeddings are interpolated with F.interpolate(bicubic, align_corners=False), as
transformers does. For each model a Hugging Face folder (config.json, model.safetensors) and, at
three input sizes (square, wide, odd), the pixel batch and what the model returns: the CLS token
and the mean of the final tokens (last_hidden_state), the pooler output, CLIP's projection and the
logits. It also preprocesses an
image with PIL as ConvNextImageProcessor does (shortest edge to size / crop_pct, centre crop;
from 384 on a warp), for the engine's preprocessing of ResNet and ConvNeXt checkpoints.

    python3 make_model_references.py <output folder>

CTest runs it as the fixture of TestModelFamilies (Testing/Engine/CMakeLists.txt).
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torchvision.models.convnext import CNBlockConfig, ConvNeXt
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet
from torchvision.models.vision_transformer import EncoderBlock

VIT_ATTENTION = ("attention.attention.query", "attention.attention.key", "attention.attention.value")
CONV_SIZES = [(64, 64), (48, 80), (97, 71)]  # square, wide, odd (none a multiple of 32)
BATCH = 3


def write_safetensors(path, tensors):
    """The safetensors format: an 8-byte header length, a JSON header, the raw little-endian data."""
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        array = tensor.detach().cpu().contiguous().numpy()
        dtype = {np.dtype("float32"): "F32", np.dtype("int64"): "I64"}[array.dtype]
        data = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def randomize(model, generator):
    """Random norms and BatchNorm statistics (torchvision initialises them to 1 and 0)."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.BatchNorm2d, torch.nn.LayerNorm)):
                module.weight.copy_(0.5 + torch.rand(module.weight.shape, generator=generator))
                module.bias.copy_(0.2 * torch.randn(module.bias.shape, generator=generator))
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.copy_(0.2 * torch.randn(module.running_mean.shape, generator=generator))
                module.running_var.copy_(0.5 + torch.rand(module.running_var.shape, generator=generator))
                module.num_batches_tracked.fill_(7)
            if hasattr(module, "layer_scale"):
                module.layer_scale.copy_(0.1 + 0.9 * torch.rand(module.layer_scale.shape, generator=generator))


def resnet_names(state, prefix, with_classifier):
    """torchvision's ResNet state dict under transformers' ResNet names."""
    out = {}
    for name, tensor in state.items():
        parts = name.split(".")
        if parts[0] in ("conv1", "bn1"):
            kind = "convolution" if parts[0] == "conv1" else "normalization"
            new = prefix + "embedder.embedder.%s.%s" % (kind, parts[1])
        elif parts[0].startswith("layer"):
            stage, layer = int(parts[0][5:]) - 1, int(parts[1])
            base = prefix + "encoder.stages.%d.layers.%d." % (stage, layer)
            if parts[2] == "downsample":
                kind = "convolution" if parts[3] == "0" else "normalization"
                new = base + "shortcut.%s.%s" % (kind, parts[4])
            else:
                index = int(parts[2][-1]) - 1
                kind = "convolution" if parts[2].startswith("conv") else "normalization"
                new = base + "layer.%d.%s.%s" % (index, kind, parts[3])
        elif parts[0] == "fc":
            if not with_classifier:
                continue
            new = "classifier.1." + parts[1]
        else:
            raise ValueError(name)
        out[new] = tensor
    return out


def convnext_names(state, prefix, stages, with_classifier):
    """torchvision's ConvNeXt state dict under transformers' ConvNext names."""
    out = {}
    for name, tensor in state.items():
        parts = name.split(".")
        if parts[0] == "features":
            index = int(parts[1])
            if index == 0:
                new = prefix + "embeddings.%s.%s" % ("patch_embeddings" if parts[2] == "0" else "layernorm", parts[3])
            elif index % 2 == 1:  # a stage's blocks
                stage, layer = (index - 1) // 2, int(parts[2])
                base = prefix + "encoder.stages.%d.layers.%d." % (stage, layer)
                if parts[3] == "layer_scale":
                    new, tensor = base + "layer_scale_parameter", tensor.reshape(-1)
                else:
                    new = base + {"0": "dwconv", "2": "layernorm", "3": "pwconv1", "5": "pwconv2"}[parts[4]] + "." + parts[5]
            else:  # the downsampling before stage index / 2
                new = prefix + "encoder.stages.%d.downsampling_layer.%s.%s" % (index // 2, parts[2], parts[3])
        elif parts[0] == "classifier":
            if parts[1] == "0":
                new = prefix + "layernorm." + parts[2]
            elif with_classifier:
                new = "classifier." + parts[2]
            else:
                continue
        else:
            raise ValueError(name)
        out[new] = tensor
    return out


def resnet_case(block, layers, hidden_sizes, layer_type, classes, generator):
    model = ResNet(block, layers, num_classes=classes or 10)
    randomize(model, generator)
    model.eval()
    config = {"model_type": "resnet", "num_channels": 3, "embedding_size": 64, "hidden_sizes": hidden_sizes,
              "depths": layers, "layer_type": layer_type, "hidden_act": "relu", "downsample_in_first_stage": False,
              "downsample_in_bottleneck": False}
    if classes:
        config["architectures"] = ["ResNetForImageClassification"]
        config["id2label"] = {str(i): "class_%d" % i for i in range(classes)}
    weights = resnet_names(model.state_dict(), "resnet." if classes else "", bool(classes))

    def features(x):
        x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        return model.layer4(model.layer3(model.layer2(model.layer1(x))))

    def head(tokens):
        pooled = tokens.mean(1)
        return pooled, (model.fc(pooled) if classes else None)

    return config, weights, features, head


def convnext_case(classes, eps, generator):
    setting = [CNBlockConfig(16, 32, 2), CNBlockConfig(32, 48, 1), CNBlockConfig(48, None, 2)]
    model = ConvNeXt(setting, num_classes=classes or 10)
    randomize(model, generator)
    model.eval()
    config = {"model_type": "convnext", "num_channels": 3, "patch_size": 4, "num_stages": 3,
              "hidden_sizes": [16, 32, 48], "depths": [2, 1, 2], "hidden_act": "gelu", "layer_norm_eps": eps,
              "image_size": 64}
    if classes:
        config["architectures"] = ["ConvNextForImageClassification"]
        config["id2label"] = {str(i): "class_%d" % i for i in range(classes)}
    weights = convnext_names(model.state_dict(), "convnext." if classes else "", 3, bool(classes))
    norm = model.classifier[0]

    def head(tokens):
        # transformers' pooler: the layer norm of the mean, with layer_norm_eps (torchvision: 1e-6).
        pooled = F.layer_norm(tokens.mean(1), (tokens.shape[-1],), norm.weight, norm.bias, eps)
        return pooled, (model.classifier[2](pooled) if classes else None)

    return config, weights, model.features, head


def convnext_processor_cases(out_dir, generator):
    """PIL's resize and transformers' centre crop, rescale and normalise, as ConvNextImageProcessor."""
    from PIL import Image
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    image = torch.randint(0, 256, (61, 90, 3), generator=generator, dtype=torch.uint8).numpy()
    folder = os.path.join(out_dir, "convnext-processor")
    os.makedirs(folder, exist_ok=True)
    np.save(os.path.join(folder, "image.npy"), image)
    for size, crop_pct, resample in ((48, 0.875, 3), (400, 0.875, 2)):
        config = {"image_processor_type": "ConvNextImageProcessor", "size": {"shortest_edge": size},
                  "crop_pct": crop_pct, "resample": resample, "do_rescale": True, "rescale_factor": 1 / 255,
                  "do_normalize": True, "image_mean": mean.tolist(), "image_std": std.tolist()}
        height, width = image.shape[:2]
        if size < 384:
            short = int(size / crop_pct)
            new_h, new_w = (short, int(short * width / height)) if height <= width else (int(short * height / width), short)
            resized = np.asarray(Image.fromarray(image).resize((new_w, new_h), resample))
            top, left = (new_h - size) // 2, (new_w - size) // 2
            resized = resized[top:top + size, left:left + size]
        else:
            resized = np.asarray(Image.fromarray(image).resize((size, size), resample))
        rescaled = (resized.astype(np.float64) * (1 / 255)).astype(np.float32)
        expected = ((rescaled - mean) / std).transpose(2, 0, 1)
        with open(os.path.join(folder, "preprocessor_config_%d.json" % size), "w") as f:
            json.dump(config, f)
        np.save(os.path.join(folder, "expected_%d.npy" % size), expected.astype(np.float32))


def interpolated(position, prefix, grid, height, width, antialias=False):
    """transformers' interpolate_pos_encoding: the patch grid resized (bicubic) to the input's."""
    if grid * grid == height * width and height == grid:
        return position
    dim = position.shape[-1]
    patches = position[:, prefix:].reshape(1, grid, grid, dim).permute(0, 3, 1, 2)
    patches = F.interpolate(patches, size=(height, width), mode="bicubic", align_corners=False,
                            antialias=antialias)
    return torch.cat([position[:, :prefix], patches.permute(0, 2, 3, 1).reshape(1, -1, dim)], 1)


def vit_tokens(pixels, patch, cls_tokens, position, grid, registers=None):
    """Patch embedding (a strided convolution), prefix tokens, interpolated positions; registers
    (DINOv2's) after CLS, without positions."""
    x = patch(pixels)
    height, width = x.shape[-2:]
    x = x.flatten(2).transpose(1, 2)
    prefix = [t.expand(x.shape[0], -1, -1) for t in cls_tokens]  # none in SigLIP
    x = torch.cat(prefix + [x], 1) + interpolated(position, len(cls_tokens), grid, height, width,
                                                  antialias=registers is not None)
    if registers is not None:
        x = torch.cat([x[:, :1], registers.expand(x.shape[0], -1, -1), x[:, 1:]], 1)
    return x


def vit_embeddings(prefix, cls_tokens, position, conv, norm):
    """transformers' ViT-family embedding and final-norm names (DeiT, DINOv2)."""
    weights = {prefix + "embeddings.position_embeddings": position,
               prefix + "embeddings.patch_embeddings.projection.weight": conv.weight,
               prefix + "embeddings.patch_embeddings.projection.bias": conv.bias,
               prefix + "layernorm.weight": norm.weight, prefix + "layernorm.bias": norm.bias}
    weights.update({prefix + "embeddings." + name: token for name, token in cls_tokens.items()})
    return weights


def split_attention(weights, base, attention, names):
    """nn.MultiheadAttention's fused in-projection as three products named `names` (q, k, v)."""
    for name, w, b in zip(names, attention.in_proj_weight.chunk(3), attention.in_proj_bias.chunk(3)):
        weights[base + name + ".weight"] = w
        weights[base + name + ".bias"] = b


def randn(generator, *shape, scale=0.02):
    return torch.nn.Parameter(scale * torch.randn(*shape, generator=generator))


def deit_case(teacher, generator):
    """DeiT: torchvision's ViT blocks behind [CLS, distillation] tokens (layer norms at 1e-6, theirs)."""
    d, heads, layers, mlp, patch, image, classes = 48, 4, 2, 96, 8, 32, 6
    grid = image // patch
    blocks = torch.nn.ModuleList(EncoderBlock(heads, d, mlp, 0.0, 0.0) for _ in range(layers))
    conv = torch.nn.Conv2d(3, d, patch, patch)
    norm = torch.nn.LayerNorm(d, eps=1e-6)
    cls, dist = randn(generator, 1, 1, d, scale=1.0), randn(generator, 1, 1, d, scale=1.0)
    position = randn(generator, 1, grid * grid + 2, d, scale=0.5)
    pooler = torch.nn.Linear(d, d)
    heads_out = [torch.nn.Linear(d, classes) for _ in range(2 if teacher else 1)]
    for module in [*blocks, norm]:
        randomize(module, generator)
    prefix = "deit." if teacher else ""
    weights = vit_embeddings(prefix, {"cls_token": cls, "distillation_token": dist}, position, conv, norm)
    for i, block in enumerate(blocks):
        base = prefix + "encoder.layer.%d." % i
        split_attention(weights, base, block.self_attention, VIT_ATTENTION)
        for name, module in (("attention.output.dense", block.self_attention.out_proj), ("layernorm_before", block.ln_1),
                             ("layernorm_after", block.ln_2), ("intermediate.dense", block.mlp[0]),
                             ("output.dense", block.mlp[3])):
            weights[base + name + ".weight"] = module.weight
            weights[base + name + ".bias"] = module.bias
    if teacher:
        for name, module in zip(("cls_classifier", "distillation_classifier"), heads_out):
            weights[name + ".weight"], weights[name + ".bias"] = module.weight, module.bias
    else:
        weights[prefix + "pooler.dense.weight"], weights[prefix + "pooler.dense.bias"] = pooler.weight, pooler.bias
    config = {"model_type": "deit", "hidden_size": d, "num_hidden_layers": layers, "num_attention_heads": heads,
              "intermediate_size": mlp, "hidden_act": "gelu", "layer_norm_eps": 1e-6, "image_size": image,
              "patch_size": patch, "num_channels": 3, "qkv_bias": True}
    if teacher:
        config["architectures"] = ["DeiTForImageClassificationWithTeacher"]
        config["id2label"] = {str(i): "class_%d" % i for i in range(classes)}

    def run(pixels):
        x = vit_tokens(pixels, conv, [cls, dist], position, grid)
        for block in blocks:
            x = block(x)
        x = norm(x)
        out = {"first": x[:, 0], "mean": x.mean(1)}
        if teacher:
            out["logits"] = (heads_out[0](x[:, 0]) + heads_out[1](x[:, 1])) / 2
        else:
            out["pooler"] = torch.tanh(pooler(x[:, 0]))
        return out

    return config, weights, run, "first-token"


class Dinov2Block(torch.nn.Module):
    """Dinov2Layer: x + ls1 * attn(norm1(x)), then x + ls2 * mlp(norm2(x)); attention by torch's MHA."""

    def __init__(self, d, heads, hidden, swiglu, generator):
        super().__init__()
        self.norm1, self.norm2 = torch.nn.LayerNorm(d, eps=1e-6), torch.nn.LayerNorm(d, eps=1e-6)
        self.attn = torch.nn.MultiheadAttention(d, heads, batch_first=True)
        self.ls1, self.ls2 = randn(generator, d, scale=0.5), randn(generator, d, scale=0.5)
        self.swiglu = swiglu
        self.fc1 = torch.nn.Linear(d, 2 * hidden if swiglu else hidden)
        self.fc2 = torch.nn.Linear(hidden, d)

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.ls1 * self.attn(h, h, h, need_weights=False)[0]
        h = self.fc1(self.norm2(x))
        if self.swiglu:
            a, b = h.chunk(2, -1)
            h = F.silu(a) * b
        else:
            h = F.gelu(h)
        return x + self.ls2 * self.fc2(h)


def dinov2_case(swiglu, classes, generator, weights_from=None, registers=0):
    """weights_from: transformers-named weights to take instead of random ones (the cross-check);
    registers: a dinov2_with_registers model with that many register tokens."""
    d, heads, layers, patch, image, ratio = 48, 4, 2, 7, 28, 4.0
    hidden = int(d * ratio)
    if swiglu:
        hidden = (int(hidden * 2 / 3) + 7) // 8 * 8
    grid = image // patch
    blocks = torch.nn.ModuleList(Dinov2Block(d, heads, hidden, swiglu, generator) for _ in range(layers))
    conv = torch.nn.Conv2d(3, d, patch, patch)
    norm = torch.nn.LayerNorm(d, eps=1e-6)
    cls = randn(generator, 1, 1, d, scale=1.0)
    position = randn(generator, 1, grid * grid + 1, d, scale=0.5)
    head = torch.nn.Linear(2 * d, classes) if classes else None
    for module in [*blocks, norm]:
        randomize(module, generator)
    model_type = "dinov2_with_registers" if registers else "dinov2"
    prefix = model_type + "." if classes else ""
    tokens = {"cls_token": cls, "mask_token": torch.zeros(1, d)}
    register_tokens = randn(generator, 1, registers, d, scale=1.0) if registers else None
    if registers:
        tokens["register_tokens"] = register_tokens
    weights = vit_embeddings(prefix, tokens, position, conv, norm)
    for i, block in enumerate(blocks):
        base = prefix + "encoder.layer.%d." % i
        split_attention(weights, base, block.attn, VIT_ATTENTION)
        mlp = ("mlp.weights_in", "mlp.weights_out") if swiglu else ("mlp.fc1", "mlp.fc2")
        for name, module in (("attention.output.dense", block.attn.out_proj), ("norm1", block.norm1),
                             ("norm2", block.norm2), (mlp[0], block.fc1), (mlp[1], block.fc2)):
            weights[base + name + ".weight"] = module.weight
            weights[base + name + ".bias"] = module.bias
        weights[base + "layer_scale1.lambda1"] = block.ls1
        weights[base + "layer_scale2.lambda1"] = block.ls2
    if head is not None:
        weights["classifier.weight"], weights["classifier.bias"] = head.weight, head.bias
    if weights_from is not None:
        with torch.no_grad():
            for name, tensor in weights.items():
                if name in weights_from:  # all but the mask token, which inference does not use
                    tensor.copy_(weights_from[name].reshape(tensor.shape))
    config = {"model_type": model_type, "hidden_size": d, "num_hidden_layers": layers,
              "num_attention_heads": heads, "mlp_ratio": ratio, "hidden_act": "gelu", "layer_norm_eps": 1e-6,
              "image_size": image, "patch_size": patch, "num_channels": 3, "qkv_bias": True,
              "layerscale_value": 1.0, "use_swiglu_ffn": swiglu}
    if registers:
        config["num_register_tokens"] = registers
    if classes:
        config["architectures"] = ["Dinov2WithRegistersForImageClassification" if registers
                                   else "Dinov2ForImageClassification"]
        config["id2label"] = {str(i): "class_%d" % i for i in range(classes)}

    def run(pixels):
        x = vit_tokens(pixels, conv, [cls], position, grid, register_tokens)
        for block in blocks:
            x = block(x)
        x = norm(x)
        out = {"first": x[:, 0], "mean": x.mean(1), "pooler": x[:, 0]}
        if head is not None:  # the patch tokens' mean, registers left out
            out["logits"] = head(torch.cat([x[:, 0], x[:, 1 + registers:].mean(1)], 1))
        return out

    return config, weights, run, "first-token"


def beit_position_bias(table, window, grid):
    """BEiT's relative position bias [heads, N, N] (N = 1 + patches) for a `grid` (h, w) of patches
    from the table of the configured `window` (h, w): the offsets' part resized bilinearly to the
    grid's (2h - 1, 2w - 1) offsets, read at each token pair's (dy, dx); the CLS row, column and
    corner take the table's last three rows."""
    heads = table.shape[1]
    (wh, ww), (gh, gw) = window, grid
    offsets = table[:-3].reshape(1, 2 * ww - 1, 2 * wh - 1, heads).permute(0, 3, 1, 2)
    offsets = F.interpolate(offsets, size=(2 * gh - 1, 2 * gw - 1), mode="bilinear", align_corners=False)[0]
    ys, xs = torch.meshgrid(torch.arange(gh), torch.arange(gw), indexing="ij")
    ys, xs = ys.flatten(), xs.flatten()
    n = gh * gw + 1
    bias = torch.empty(heads, n, n)
    bias[:, 1:, 1:] = offsets[:, ys[:, None] - ys[None, :] + gh - 1, xs[:, None] - xs[None, :] + gw - 1]
    bias[:, 0, 1:] = table[-3][:, None]
    bias[:, 1:, 0] = table[-2][:, None]
    bias[:, 0, 0] = table[-1]
    return bias


class BeitBlock(torch.nn.Module):
    """BeitLayer: x + lambda_1 * attn(layernorm_before(x)), then x + lambda_2 * mlp(layernorm_after(x));
    torch's MHA without a key bias adds the position bias (a float mask) to its scaled scores."""

    def __init__(self, d, heads, hidden, table_rows, own_table, layer_scale, generator):
        super().__init__()
        self.norm1, self.norm2 = torch.nn.LayerNorm(d, eps=1e-12), torch.nn.LayerNorm(d, eps=1e-12)
        self.attn = torch.nn.MultiheadAttention(d, heads, batch_first=True)
        with torch.no_grad():
            self.attn.in_proj_bias[d:2 * d] = 0
        self.heads = heads
        self.lambda1 = randn(generator, d, scale=0.5) if layer_scale else None
        self.lambda2 = randn(generator, d, scale=0.5) if layer_scale else None
        self.table = randn(generator, table_rows, heads, scale=1.0) if own_table else None
        self.fc1, self.fc2 = torch.nn.Linear(d, hidden), torch.nn.Linear(hidden, d)

    def forward(self, x, bias):
        h = self.norm1(x)
        mask = bias.repeat(x.shape[0], 1, 1)  # [batch * heads, N, N], batch-major as MHA reads it
        a = self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        x = x + (a * self.lambda1 if self.lambda1 is not None else a)
        m = self.fc2(F.gelu(self.fc1(self.norm2(x))))
        return x + (m * self.lambda2 if self.lambda2 is not None else m)


def beit_case(mean_pooling, generator, weights_from=None):
    """weights_from: transformers-named weights to take instead of random ones (the cross-check).
    mean_pooling: BeitForImageClassification (per-layer bias tables, layer scale, no absolute
    positions, no final norm, the pooler's norm over the patch tokens' mean, the classifier on it);
    else BeitModel with a shared bias table, absolute positions, no layer scale, a final norm and
    the CLS token as its pooler output."""
    d, heads, layers, mlp, patch, image, classes = 48, 4, 2, 96, 8, 32, 6
    grid = image // patch
    rows = (2 * grid - 1) ** 2 + 3
    blocks = torch.nn.ModuleList(BeitBlock(d, heads, mlp, rows, mean_pooling, mean_pooling, generator)
                                 for _ in range(layers))
    conv = torch.nn.Conv2d(3, d, patch, patch)
    norm = torch.nn.LayerNorm(d, eps=1e-12)  # the pooler's (mean pooling), else the final one
    cls = randn(generator, 1, 1, d, scale=1.0)
    position = None if mean_pooling else randn(generator, 1, grid * grid + 1, d, scale=0.5)
    shared = None if mean_pooling else randn(generator, rows, heads, scale=1.0)
    head = torch.nn.Linear(d, classes)
    for module in [*blocks, norm]:
        randomize(module, generator)
    prefix = "beit." if mean_pooling else ""
    weights = {prefix + "embeddings.cls_token": cls,
               prefix + "embeddings.patch_embeddings.projection.weight": conv.weight,
               prefix + "embeddings.patch_embeddings.projection.bias": conv.bias}
    if position is not None:
        weights[prefix + "embeddings.position_embeddings"] = position
        weights[prefix + "encoder.relative_position_bias.relative_position_bias_table"] = shared
    norm_name = "pooler.layernorm" if mean_pooling else "layernorm"
    weights[prefix + norm_name + ".weight"], weights[prefix + norm_name + ".bias"] = norm.weight, norm.bias
    for i, block in enumerate(blocks):
        base = prefix + "encoder.layer.%d." % i
        split_attention(weights, base, block.attn, VIT_ATTENTION)
        del weights[base + "attention.attention.key.bias"]
        for name, module in (("attention.output.dense", block.attn.out_proj), ("layernorm_before", block.norm1),
                             ("layernorm_after", block.norm2), ("intermediate.dense", block.fc1),
                             ("output.dense", block.fc2)):
            weights[base + name + ".weight"] = module.weight
            weights[base + name + ".bias"] = module.bias
        if mean_pooling:
            weights[base + "lambda_1"], weights[base + "lambda_2"] = block.lambda1, block.lambda2
            weights[base + "attention.attention.relative_position_bias.relative_position_bias_table"] = block.table
    if mean_pooling:
        weights["classifier.weight"], weights["classifier.bias"] = head.weight, head.bias
    if weights_from is not None:
        with torch.no_grad():
            for name, tensor in weights.items():
                tensor.copy_(weights_from[name].reshape(tensor.shape))
            for block in blocks:  # the key bias, zero in both
                block.attn.in_proj_bias[d:2 * d] = 0
    config = {"model_type": "beit", "hidden_size": d, "num_hidden_layers": layers, "num_attention_heads": heads,
              "intermediate_size": mlp, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "image_size": image,
              "patch_size": patch, "num_channels": 3, "use_mean_pooling": mean_pooling,
              "use_relative_position_bias": mean_pooling, "use_shared_relative_position_bias": not mean_pooling,
              "use_absolute_position_embeddings": not mean_pooling,
              "layer_scale_init_value": 0.1 if mean_pooling else 0.0}
    if mean_pooling:
        config["architectures"] = ["BeitForImageClassification"]
        config["id2label"] = {str(i): "class_%d" % i for i in range(classes)}

    def run(pixels):
        x = conv(pixels)
        size = tuple(x.shape[-2:])
        x = torch.cat([cls.expand(x.shape[0], -1, -1), x.flatten(2).transpose(1, 2)], 1)
        if position is not None:
            x = x + interpolated(position, 1, grid, *size)
        common = beit_position_bias(shared, (grid, grid), size) if shared is not None else None
        for block in blocks:
            x = block(x, beit_position_bias(block.table, (grid, grid), size) if block.table is not None else common)
        if mean_pooling:
            pooled = norm(x[:, 1:].mean(1))
            return {"first": x[:, 0], "mean": x.mean(1), "pooler": pooled, "logits": head(pooled)}
        x = norm(x)
        return {"first": x[:, 0], "mean": x.mean(1), "pooler": x[:, 0]}

    return config, weights, run, "pooler"


def quick_gelu(h):
    return h * torch.sigmoid(1.702 * h)


def tanh_gelu(h):
    return F.gelu(h, approximate="tanh")


class ClipBlock(torch.nn.Module):
    """CLIPEncoderLayer (and SiglipEncoderLayer): x + attn(layer_norm1(x)), then
    x + fc2(act(fc1(layer_norm2(x)))); CLIP's act is quick GELU, SigLIP's GELU (tanh)."""

    def __init__(self, d, heads, hidden, act=quick_gelu, eps=1e-5):
        super().__init__()
        self.norm1, self.norm2 = torch.nn.LayerNorm(d, eps=eps), torch.nn.LayerNorm(d, eps=eps)
        self.attn = torch.nn.MultiheadAttention(d, heads, batch_first=True)
        self.fc1, self.fc2 = torch.nn.Linear(d, hidden), torch.nn.Linear(hidden, d)
        self.act = act

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.fc2(self.act(self.fc1(self.norm2(x))))


def block_weights(weights, base, block):
    """A ClipBlock under CLIP's and SigLIP's encoder names."""
    split_attention(weights, base, block.attn, ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"))
    for name, module in (("self_attn.out_proj", block.attn.out_proj), ("layer_norm1", block.norm1),
                         ("layer_norm2", block.norm2), ("mlp.fc1", block.fc1), ("mlp.fc2", block.fc2)):
        weights[base + name + ".weight"] = module.weight
        weights[base + name + ".bias"] = module.bias


def clip_case(full, generator):
    """CLIP's vision tower. full: a whole CLIPForImageClassification checkpoint (model_type clip, the
    vision fields in vision_config, a text tower to ignore, a classifier over the patch tokens' mean);
    else CLIPVisionModelWithProjection (clip_vision_model, visual_projection)."""
    d, heads, layers, mlp, patch, image, projection, classes = 48, 4, 2, 96, 8, 32, 24, 5
    grid = image // patch
    blocks = torch.nn.ModuleList(ClipBlock(d, heads, mlp) for _ in range(layers))
    conv = torch.nn.Conv2d(3, d, patch, patch, bias=False)
    pre, post = torch.nn.LayerNorm(d, eps=1e-5), torch.nn.LayerNorm(d, eps=1e-5)
    cls = randn(generator, d, scale=1.0)
    position = randn(generator, grid * grid + 1, d, scale=0.5)
    project = torch.nn.Linear(d, projection, bias=False)
    head = torch.nn.Linear(d, classes)
    for module in [*blocks, pre, post]:
        randomize(module, generator)
    v = "vision_model."
    weights = {v + "embeddings.class_embedding": cls, v + "embeddings.position_embedding.weight": position,
               v + "embeddings.patch_embedding.weight": conv.weight}
    for name, module in (("pre_layrnorm", pre), ("post_layernorm", post)):
        weights[v + name + ".weight"], weights[v + name + ".bias"] = module.weight, module.bias
    for i, block in enumerate(blocks):
        block_weights(weights, v + "encoder.layers.%d." % i, block)
    vision = {"hidden_size": d, "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": mlp,
              "image_size": image, "patch_size": patch, "num_channels": 3, "layer_norm_eps": 1e-5,
              "hidden_act": "quick_gelu", "projection_dim": projection}
    if full:
        weights["classifier.weight"], weights["classifier.bias"] = head.weight, head.bias
        weights["text_model.embeddings.token_embedding.weight"] = torch.zeros(10, d)  # not read
        config = {"model_type": "clip", "architectures": ["CLIPForImageClassification"], "vision_config": vision,
                  "text_config": {"hidden_size": d}, "projection_dim": projection,
                  "id2label": {str(i): "class_%d" % i for i in range(classes)}}
    else:
        weights["visual_projection.weight"] = project.weight
        config = dict(vision, model_type="clip_vision_model", architectures=["CLIPVisionModelWithProjection"])

    def run(pixels):
        x = pre(vit_tokens(pixels, conv, [cls.view(1, 1, d)], position.unsqueeze(0), grid))
        for block in blocks:
            x = block(x)
        pooled = post(x[:, 0])
        out = {"first": x[:, 0], "mean": x.mean(1), "pooler": pooled}
        if full:
            out["logits"] = head(x[:, 1:].mean(1))
        else:
            out["projection"] = project(pooled)
        return out

    return config, weights, run, "pooler" if full else "projection"


def siglip_case(full, generator):
    """SigLIP's vision tower: no CLS token, post-normed tokens. full: a whole
    SiglipForImageClassification checkpoint (model_type siglip, vision_config, a text tower to ignore,
    no pooling head, a classifier over the tokens' mean); else SiglipVisionModel with its
    attention-pooling head (one learned query through torch's MultiheadAttention, then a residual MLP)."""
    d, heads, layers, mlp, patch, image, classes = 48, 4, 2, 96, 8, 32, 5
    grid = image // patch
    blocks = torch.nn.ModuleList(ClipBlock(d, heads, mlp, tanh_gelu, 1e-6) for _ in range(layers))
    conv = torch.nn.Conv2d(3, d, patch, patch)
    post = torch.nn.LayerNorm(d, eps=1e-6)
    position = randn(generator, grid * grid, d, scale=0.5)
    probe = randn(generator, 1, 1, d, scale=1.0)
    pool = torch.nn.MultiheadAttention(d, heads, batch_first=True)
    pool_norm = torch.nn.LayerNorm(d, eps=1e-6)
    pool_fc1, pool_fc2 = torch.nn.Linear(d, mlp), torch.nn.Linear(mlp, d)
    head = torch.nn.Linear(d, classes)
    for module in [*blocks, post, pool_norm]:
        randomize(module, generator)
    v = "vision_model."
    weights = {v + "embeddings.position_embedding.weight": position,
               v + "embeddings.patch_embedding.weight": conv.weight, v + "embeddings.patch_embedding.bias": conv.bias,
               v + "post_layernorm.weight": post.weight, v + "post_layernorm.bias": post.bias}
    for i, block in enumerate(blocks):
        block_weights(weights, v + "encoder.layers.%d." % i, block)
    vision = {"hidden_size": d, "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": mlp,
              "image_size": image, "patch_size": patch, "num_channels": 3, "layer_norm_eps": 1e-6,
              "hidden_act": "gelu_pytorch_tanh"}
    if full:
        weights["classifier.weight"], weights["classifier.bias"] = head.weight, head.bias
        weights["text_model.embeddings.token_embedding.weight"] = torch.zeros(10, d)  # not read
        config = {"model_type": "siglip", "architectures": ["SiglipForImageClassification"],
                  "vision_config": dict(vision, vision_use_head=False), "text_config": {"hidden_size": d},
                  "id2label": {str(i): "class_%d" % i for i in range(classes)}}
    else:
        h = v + "head."
        weights.update({h + "probe": probe, h + "attention.in_proj_weight": pool.in_proj_weight,
                        h + "attention.in_proj_bias": pool.in_proj_bias,
                        h + "attention.out_proj.weight": pool.out_proj.weight,
                        h + "attention.out_proj.bias": pool.out_proj.bias,
                        h + "layernorm.weight": pool_norm.weight, h + "layernorm.bias": pool_norm.bias,
                        h + "mlp.fc1.weight": pool_fc1.weight, h + "mlp.fc1.bias": pool_fc1.bias,
                        h + "mlp.fc2.weight": pool_fc2.weight, h + "mlp.fc2.bias": pool_fc2.bias})
        config = dict(vision, model_type="siglip_vision_model", architectures=["SiglipVisionModel"])

    def run(pixels):
        x = vit_tokens(pixels, conv, [], position.unsqueeze(0), grid)
        for block in blocks:
            x = block(x)
        x = post(x)
        out = {"mean": x.mean(1)}
        if full:
            out["logits"] = head(x.mean(1))
        else:
            pooled = pool(probe.expand(x.shape[0], -1, -1), x, x, need_weights=False)[0]
            pooled = pooled + pool_fc2(tanh_gelu(pool_fc1(pool_norm(pooled))))
            out["pooler"] = pooled[:, 0]
        return out

    return config, weights, run, "mean" if full else "pooler"


def conv_run(features, head):
    """A convolutional family's outputs: the final map's tokens' mean, the pooler, the logits."""
    def run(pixels):
        maps = features(pixels)
        tokens = maps.permute(0, 2, 3, 1).reshape(maps.shape[0], -1, maps.shape[1])
        pooled, logits = head(tokens)
        out = {"mean": tokens.mean(1), "pooler": pooled}
        if logits is not None:
            out["logits"] = logits
        return out
    return run


def main():
    out_dir = sys.argv[1]
    generator = torch.Generator().manual_seed(20261207)
    torch.manual_seed(20261207)
    cases = {}
    for name, (config, weights, features, head) in (
            ("resnet-basic-classifier", resnet_case(BasicBlock, [1, 1, 1, 1], [64, 128, 256, 512], "basic", 5, generator)),
            ("resnet-bottleneck", resnet_case(Bottleneck, [1, 2, 1, 1], [256, 512, 1024, 2048], "bottleneck", 0, generator)),
            ("convnext-classifier", convnext_case(7, 1e-12, generator)),
            ("convnext", convnext_case(0, 1e-12, generator))):
        cases[name] = (config, weights, conv_run(features, head), "pooler", CONV_SIZES)
    patch8 = [(32, 32), (24, 40), (47, 33)]
    patch7 = [(28, 28), (21, 35), (50, 29)]
    vit_sizes = {"deit": patch8, "beit": patch8, "clip": patch8, "clip_vision_model": patch8, "siglip": patch8,
                 "siglip_vision_model": patch8, "dinov2": patch7, "dinov2_with_registers": patch7}
    for name, (config, weights, run, auto) in (("deit-teacher", deit_case(True, generator)),
                                               ("deit", deit_case(False, generator)),
                                               ("dinov2-classifier", dinov2_case(False, 5, generator)),
                                               ("dinov2-swiglu", dinov2_case(True, 0, generator)),
                                               ("dinov2-registers-classifier",
                                                dinov2_case(False, 4, generator, registers=3)),
                                               ("beit-classifier", beit_case(True, generator)),
                                               ("beit-shared", beit_case(False, generator)),
                                               ("clip-classifier", clip_case(True, generator)),
                                               ("clip-projection", clip_case(False, generator)),
                                               ("siglip-classifier", siglip_case(True, generator)),
                                               ("siglip-head", siglip_case(False, generator))):
        cases[name] = (config, weights, run, auto, vit_sizes[config["model_type"]])
    convnext_processor_cases(out_dir, generator)
    manifest = {"torch": torch.__version__, "torchvision": torchvision.__version__, "cases": {}}
    for name, (config, weights, run, auto, sizes) in cases.items():
        folder = os.path.join(out_dir, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config, f, indent=1)
        write_safetensors(os.path.join(folder, "model.safetensors"), weights)
        outputs = []
        for height, width in sizes:
            pixels = torch.randn(BATCH, 3, height, width, generator=generator)
            with torch.no_grad():
                out = run(pixels)
            stem = os.path.join(folder, "%dx%d_" % (height, width))
            np.save(stem + "pixels.npy", pixels.numpy())
            for key, value in out.items():
                np.save(stem + key + ".npy", value.numpy())
            outputs = sorted(out)
        manifest["cases"][name] = {"sizes": ["%dx%d" % s for s in sizes], "outputs": outputs, "auto": auto,
                                   "classes": len(config.get("id2label", {}))}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("model references written to %s" % out_dir)


if __name__ == "__main__":
    main()
