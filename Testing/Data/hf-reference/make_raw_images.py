#!/usr/bin/python3
"""Prepare the image data of the engine's preprocessing tests (Debian python3 + PIL + numpy).

The C++ engine has no PNG decoder, so this script
 1. decodes images/*.png into images/<name>.npy: uint8 arrays exactly as PIL
    loads them, without conversion ((H, W) for "L", (H, W, C) otherwise);
 2. writes pil-cases/: PIL reference results for cases the Hugging Face
    fixtures do not cover (nearest, every filter down and up, one-axis
    resizes, RGBA and LA inputs, shortest_edge sizing), described in
    pil-cases/cases.json.

Usage (from anywhere): /usr/bin/python3 Testing/Data/hf-reference/make_raw_images.py
The outputs are committed; rerun only to regenerate them.
"""
import json
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(HERE, "images")
CASES = os.path.join(HERE, "pil-cases")


def decode_pngs():
    names = sorted(n for n in os.listdir(IMAGES) if n.endswith(".png"))
    for name in names:
        with Image.open(os.path.join(IMAGES, name)) as im:
            a = np.asarray(im)  # no convert(): the decoded bytes as they are
        assert a.dtype == np.uint8, (name, a.dtype)
        np.save(os.path.join(IMAGES, name[:-4] + ".npy"), np.ascontiguousarray(a))
        print(f"images/{name[:-4]}.npy", a.shape, im.mode)
    return names


def hf_pixel_values(rgb, mean, std, rescale=1 / 255):
    """transformers' rescale (float64, cast to float32) and normalize (float32), CHW."""
    x = (np.asarray(rgb).astype(np.float64) * rescale).astype(np.float32)
    x = (x - np.array(mean, np.float32)) / np.array(std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def make_cases():
    os.makedirs(CASES, exist_ok=True)
    rng = np.random.default_rng(20240601)
    cases = []

    # Extra inputs: RGBA and LA (alpha must be dropped, not composited).
    rgba = rng.integers(0, 256, size=(31, 33, 4), dtype=np.uint8)
    np.save(os.path.join(CASES, "rgba_33x31.npy"), rgba)
    la = rng.integers(0, 256, size=(20, 18, 2), dtype=np.uint8)
    np.save(os.path.join(CASES, "la_18x20.npy"), la)

    def load(src):
        if src.startswith("pil-cases/"):
            a = np.load(os.path.join(HERE, src))
            mode = {2: "LA", 4: "RGBA"}[a.shape[2]]
        else:
            a = np.load(os.path.join(HERE, src))
            mode = "L" if a.ndim == 2 else "RGB"
        return Image.fromarray(a, mode)

    # Resize cases: uint8 results of PIL's resize on the RGB-converted input.
    resize_cases = [
        # (input, width, height, resample)
        ("images/rgb_64x50.npy", 20, 30, 0),
        ("images/grad_45x37.npy", 100, 77, 0),
        ("images/gray28_0.npy", 32, 32, 0),
        ("images/rgb_64x50.npy", 13, 11, 0),
        ("images/rgb_64x50.npy", 20, 30, 3),
        ("images/rgb_64x50.npy", 20, 30, 2),
        ("images/rgb_64x50.npy", 20, 30, 1),
        ("images/rgb_64x50.npy", 20, 30, 4),
        ("images/rgb_64x50.npy", 20, 30, 5),
        ("images/grad_45x37.npy", 61, 83, 1),
        ("images/grad_45x37.npy", 61, 83, 3),
        ("images/grad_45x37.npy", 61, 83, 4),
        ("images/grad_45x37.npy", 61, 83, 5),
        ("images/rgb_64x50.npy", 64, 30, 3),  # vertical pass only
        ("images/rgb_64x50.npy", 7, 50, 2),  # horizontal pass only
        ("images/rgb_64x50.npy", 5, 3, 1),  # strong downscale, wide kernels
        ("images/rgb32_0.npy", 224, 224, 3),
    ]
    for src, w, h, r in resize_cases:
        im = load(src).convert("RGB")
        out = np.asarray(im.resize((w, h), resample=r))
        name = f"resize_{os.path.basename(src)[:-4]}_{w}x{h}_r{r}.npy"
        np.save(os.path.join(CASES, name), out)
        cases.append({"kind": "resize", "input": src, "width": w, "height": h,
                      "resample": r, "expected": "pil-cases/" + name})

    # Full preprocessing cases: float32 [3, H, W] with transformers' arithmetic.
    imnet_mean, imnet_std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    full_cases = [
        ("pil-cases/rgba_33x31.npy", {"height": 32, "width": 32}, 2, [0.5] * 3, [0.5] * 3),
        ("pil-cases/rgba_33x31.npy", {"height": 24, "width": 40}, 3, imnet_mean, imnet_std),
        ("pil-cases/la_18x20.npy", {"height": 32, "width": 32}, 3, imnet_mean, imnet_std),
        ("images/gray28_1.npy", {"height": 30, "width": 30}, 0, [0.5] * 3, [0.5] * 3),
        # shortest_edge keeps the aspect ratio (transformers 5, PIL backend):
        # 64 x 50 -> short side 40, long side int(40 * 64 / 50) = 51.
        ("images/rgb_64x50.npy", {"shortest_edge": 40}, 3, imnet_mean, imnet_std),
    ]
    for i, (src, size, r, mean, std) in enumerate(full_cases):
        im = load(src).convert("RGB")
        if "shortest_edge" in size:
            s = size["shortest_edge"]
            w0, h0 = im.size
            short, long_ = (w0, h0) if w0 <= h0 else (h0, w0)
            new_short, new_long = s, int(s * long_ / short)
            h, w = (new_long, new_short) if w0 <= h0 else (new_short, new_long)
        else:
            h, w = size["height"], size["width"]
        im = im.resize((w, h), resample=r)
        x = hf_pixel_values(im, mean, std)
        name = f"pixels_{i}_{os.path.basename(src)[:-4]}.npy"
        np.save(os.path.join(CASES, name), x)
        config = {"do_resize": True, "size": size, "resample": r, "do_rescale": True,
                  "rescale_factor": 1 / 255, "do_normalize": True,
                  "image_mean": mean, "image_std": std}
        cases.append({"kind": "preprocess", "input": src, "config": config,
                      "expected": "pil-cases/" + name})

    with open(os.path.join(CASES, "cases.json"), "w") as f:
        json.dump({"generator": "make_raw_images.py", "pillow": Image.__version__,
                   "numpy": np.__version__, "cases": cases}, f, indent=1)
    print(f"pil-cases/: {len(cases)} cases")


if __name__ == "__main__":
    decode_pngs()
    make_cases()
