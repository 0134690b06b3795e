#!/usr/bin/python3
"""Draw the deterministic test images and describe every dataset row.

Usage: /usr/bin/python3 draw_images.py <out_root> <tmp_dir>
Writes <out_root>/images/<set>/<index>.png|.jpg, the image-folder PNGs beside
<out_root>/arrow/imagefolder-by-path/, <out_root>/manifest.json (the rows of
every dataset, which the Node writer follows and tests can compare against),
<out_root>/parquet/embeddings/embeddings.npz and raw float32 copies of the
embeddings in <tmp_dir> for the Node writer.
Called by make_files.sh; everything it writes is committed.
"""
import json
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

ROOT = os.path.abspath(sys.argv[1])
TMP = os.path.abspath(sys.argv[2])

CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
CIFAR100_FINE = (
    "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel "
    "can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur "
    "dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion "
    "lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree "
    "pear pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray road rocket rose sea "
    "seal shark shrew skunk skyscraper snail snake spider squirrel streetcar sunflower sweet_pepper table "
    "tank telephone television tiger tractor train trout tulip turtle wardrobe whale willow_tree wolf woman "
    "worm").split()
CIFAR100_COARSE = (
    "aquatic_mammals fish flowers food_containers fruit_and_vegetables household_electrical_devices "
    "household_furniture insects large_carnivores large_man-made_outdoor_things large_natural_outdoor_scenes "
    "large_omnivores_and_herbivores medium_mammals non-insect_invertebrates people reptiles small_mammals "
    "trees vehicles_1 vehicles_2").split()
MNIST = [str(d) for d in range(10)]
BEANS = ["angular_leaf_spot", "bean_rust", "healthy"]
FOLDER = ["cat", "dog"]
EMB_NAMES = ["circle", "square", "triangle", "star"]
assert len(CIFAR100_FINE) == 100 and len(CIFAR100_COARSE) == 20


def draw(seed, size, mode):
    """Gradient background plus a few seeded shapes. size = (width, height)."""
    rng = np.random.RandomState(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    c0, c1 = rng.randint(0, 256, 3), rng.randint(0, 256, 3)
    t = ((x / max(w - 1, 1)) * rng.uniform(0.2, 1.0) + (y / max(h - 1, 1)) * rng.uniform(0.2, 1.0)) / 2.0
    bg = (c0[None, None, :] * (1 - t[..., None]) + c1[None, None, :] * t[..., None]).round().astype(np.uint8)
    im = Image.fromarray(bg, "RGB")
    d = ImageDraw.Draw(im)
    for _ in range(rng.randint(2, 5)):
        kind = rng.randint(0, 3)
        x0, y0 = int(rng.randint(0, w - 4)), int(rng.randint(0, h - 4))
        x1, y1 = int(rng.randint(x0 + 3, w + 1)), int(rng.randint(y0 + 3, h + 1))
        col = tuple(int(v) for v in rng.randint(0, 256, 3))
        if kind == 0:
            d.ellipse([x0, y0, x1 - 1, y1 - 1], fill=col)
        elif kind == 1:
            d.rectangle([x0, y0, x1 - 1, y1 - 1], fill=col)
        else:
            d.polygon([(x0, y1 - 1), ((x0 + x1) // 2, y0), (x1 - 1, y1 - 1)], fill=col)
    if mode == "L":
        im = im.convert("L")
    return im


def save(im, rel, fmt):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if fmt == "JPEG":
        im.save(path, "JPEG", quality=90)
    else:
        im.save(path, "PNG")
    return rel


def make_set(name, n, size, mode, seed0, jpeg_indices=()):
    out = []
    for i in range(n):
        fmt = "JPEG" if i in jpeg_indices else "PNG"
        ext = "jpg" if fmt == "JPEG" else "png"
        im = draw(seed0 + i, size, mode)
        rel = save(im, f"images/{name}/{i}.{ext}", fmt)
        out.append({"index": i, "file": rel, "format": fmt, "mode": mode, "width": size[0], "height": size[1]})
    return out


def hf_meta(features):
    # datasets: pa_schema.with_metadata({"huggingface": json.dumps({"info": {"features": ...}})})
    return json.dumps({"info": {"features": features}})


def image_feat():
    return {"_type": "Image"}


def class_feat(names):
    return {"names": names, "_type": "ClassLabel"}


sets = {}
sets["cifar10"] = make_set("cifar10", 24, (32, 32), "RGB", 1000)
sets["cifar100"] = make_set("cifar100", 16, (32, 32), "RGB", 2000)
sets["mnist_train"] = make_set("mnist_train", 12, (28, 28), "L", 3000)
sets["mnist_test"] = make_set("mnist_test", 4, (28, 28), "L", 3500)
sets["beans_train"] = make_set("beans_train", 6, (48, 40), "RGB", 4000, jpeg_indices=(1, 4))
sets["beans_validation"] = make_set("beans_validation", 3, (48, 40), "RGB", 4500)
sets["imagefolder"] = make_set("imagefolder", 6, (24, 20), "RGB", 5000)

# --- rows of every dataset -------------------------------------------------
img = lambda s, i, path=None: {"file": sets[s][i]["file"], "path": path}
datasets = {}

cifar10_feats = {"img": image_feat(), "label": class_feat(CIFAR10)}
datasets["cifar10"] = {
    "features": cifar10_feats, "huggingface": hf_meta(cifar10_feats),
    "rows": [{"img": img("cifar10", i), "label": (i * 7) % 10} for i in range(24)]}
datasets["cifar10_null_image"] = {
    "features": cifar10_feats, "huggingface": hf_meta(cifar10_feats),
    "rows": [{"img": None if i == 2 else img("cifar10", i), "label": (i * 7) % 10} for i in range(5)]}
datasets["cifar10_cache"] = {
    "features": cifar10_feats, "huggingface": hf_meta(cifar10_feats),
    "rows": [{"img": img("cifar10", i), "label": (i * 7) % 10} for i in range(12)]}

cifar100_feats = {"img": image_feat(), "fine_label": class_feat(CIFAR100_FINE),
                  "coarse_label": class_feat(CIFAR100_COARSE)}
datasets["cifar100"] = {
    "features": cifar100_feats, "huggingface": hf_meta(cifar100_feats),
    "rows": [{"img": img("cifar100", i), "fine_label": (i * 13 + 5) % 100,
              "coarse_label": ((i * 13 + 5) % 100) % 20} for i in range(16)]}

mnist_feats = {"image": image_feat(), "label": class_feat(MNIST)}
for split, n in (("train", 12), ("test", 4)):
    datasets[f"mnist_{split}"] = {
        "features": mnist_feats, "huggingface": hf_meta(mnist_feats),
        "rows": [{"image": img(f"mnist_{split}", i), "label": (i * 3 + (1 if split == "test" else 0)) % 10}
                 for i in range(n)]}

beans_feats = {"image_file_path": {"dtype": "string", "_type": "Value"}, "image": image_feat(),
               "labels": class_feat(BEANS)}
for split, n in (("train", 6), ("validation", 3)):
    rows = []
    for i in range(n):
        lab = i % 3
        ext = "jpg" if sets[f"beans_{split}"][i]["format"] == "JPEG" else "png"
        base = f"{BEANS[lab]}_{split}.{i}.{ext}"
        rows.append({
            "image_file_path": f"/home/user/.cache/huggingface/datasets/downloads/extracted/"
                               f"0f1e2d3c4b5a/{split}/{BEANS[lab]}/{base}",
            # save_to_disk embeds local files: bytes set, path = basename
            "image": img(f"beans_{split}", i, path=base),
            "labels": lab})
    datasets[f"beans_{split}"] = {"features": beans_feats, "huggingface": hf_meta(beans_feats), "rows": rows}

folder_feats = {"image": image_feat(), "label": class_feat(FOLDER)}
rows = []
for i in range(6):
    lab = i % 2
    rel = f"images/{FOLDER[lab]}/{i}.png"
    src = os.path.join(ROOT, sets["imagefolder"][i]["file"])
    dst = os.path.join(ROOT, "arrow/imagefolder-by-path", rel)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(src, "rb") as f, open(dst, "wb") as g:
        g.write(f.read())
    # the datasets cache keeps local image-folder files as {bytes: None, path: <path>}
    rows.append({"image": {"file": sets["imagefolder"][i]["file"], "path": rel, "bytes_null": True}, "label": lab})
datasets["imagefolder"] = {"features": folder_feats, "huggingface": hf_meta(folder_feats), "rows": rows}

# --- embeddings ------------------------------------------------------------
N, D = 40, 64
rng = np.random.RandomState(1234)
labels = np.array([i % 4 for i in range(N)], dtype=np.int64)
centers_ft = rng.normal(size=(4, D)) * 1.5
centers_fd = rng.normal(size=(4, D)) * 0.35
finetuned = centers_ft[labels] + rng.normal(size=(N, D)) * 0.4
foundation = centers_fd[labels] + rng.normal(size=(N, D)) * 1.0
OUTLIERS = [7, 23]
for k in OUTLIERS:
    direction = rng.normal(size=D)
    direction /= np.linalg.norm(direction)
    finetuned[k] = direction * 40.0
    foundation[k] = -direction * 40.0
finetuned = finetuned.astype(np.float32)
foundation = foundation.astype(np.float32)
ids = [f"emb-{i:03d}" for i in range(N)]
split = ["train" if i < 30 else "test" for i in range(N)]
emb_dir = os.path.join(ROOT, "parquet/embeddings")
os.makedirs(emb_dir, exist_ok=True)
np.savez(os.path.join(emb_dir, "embeddings.npz"), id=np.array(ids), split=np.array(split), label=labels,
         embedding_foundation=foundation, embedding_finetuned=finetuned)
foundation.astype("<f4").tofile(os.path.join(TMP, "embedding_foundation.f32"))
finetuned.astype("<f4").tofile(os.path.join(TMP, "embedding_finetuned.f32"))
emb_feats = {"id": {"dtype": "string", "_type": "Value"}, "split": {"dtype": "string", "_type": "Value"},
             "label": class_feat(EMB_NAMES),
             "embedding_foundation": {"feature": {"dtype": "float32", "_type": "Value"}, "length": D,
                                      "_type": "Sequence"},
             "embedding_finetuned": {"feature": {"dtype": "float32", "_type": "Value"}, "length": D,
                                     "_type": "Sequence"}}
emb_feats_list = json.loads(json.dumps(emb_feats))
for c in ("embedding_foundation", "embedding_finetuned"):
    emb_feats_list[c] = {"feature": {"dtype": "float32", "_type": "Value"}, "_type": "Sequence"}
datasets["embeddings"] = {
    "features": emb_feats, "huggingface": hf_meta(emb_feats),
    "huggingface_list": hf_meta(emb_feats_list), "dim": D, "outlier_ids": [ids[k] for k in OUTLIERS],
    "rows": [{"id": ids[i], "split": split[i], "label": int(labels[i])} for i in range(N)]}

with open(os.path.join(ROOT, "manifest.json"), "w") as f:
    json.dump({"images": sets, "datasets": datasets}, f, indent=1)
    f.write("\n")
print("images:", {k: len(v) for k, v in sets.items()})
