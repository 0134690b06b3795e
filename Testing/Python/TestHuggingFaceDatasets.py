"""Hugging Face datasets as they sit on disk, through the Image Dataset Reader, as a pvpython
user opens them: Parquet written by arrow-rs (snappy, v1 and v2 pages) and DuckDB (zstd), a
sharded split, a Hub snapshot folder, a `datasets` cache .arrow stream, a save_to_disk DatasetDict,
an image folder cached by path, and a table of embeddings computed elsewhere that feeds the
embedding filters and Compare Embeddings.

The files are Testing/Data/huggingface (made by its make_files.sh with writers that are not ours);
manifest.json there says what every row holds. Pixels are checked against PIL's decoding of the
same PNG / JPEG bytes, labels and class names against the manifest.
"""
import json
import os
import shutil
import tempfile

import numpy as np
from PIL import Image
from paraview import servermanager, simple

from dualembed_testing import CapturedMessages, check, load_plugin, point_array

load_plugin()
import dualembed.layout as layout  # noqa: E402 (served by the plugin once it is loaded)

here = os.path.dirname(os.path.abspath(__file__))
data_dir = os.path.join(here, "..", "Data", "huggingface")
manifest = json.load(open(os.path.join(data_dir, "manifest.json")))
tmp = tempfile.mkdtemp(prefix="dualembed-hf-")


def path(*parts):
    return os.path.join(data_dir, *parts)


def read(file_name, **properties):
    """Runs the reader; returns (output, captured messages)."""
    with CapturedMessages() as messages:
        reader = simple.ImageDatasetReader(FileName=file_name, **properties)
        reader.UpdatePipeline()
        data = servermanager.Fetch(reader)
        simple.Delete(reader)
    return data, messages.text


def expected_pixels(image_file, channels):
    """PIL's decoding of the file, with the reader's channel rule (gray stays gray)."""
    image = Image.open(path(image_file))
    image = image.convert("L" if channels == 1 else "RGB")
    return np.asarray(image).reshape(-1)


def check_dataset(name, data, rows, text=""):
    """The output holds exactly `rows` (manifest rows) in order: pixels, labels, names."""
    spec = manifest["datasets"][name]
    features = spec["features"]
    check(data.GetNumberOfPoints() == len(rows),
          "%s: %d samples, expected %d (%s)" % (name, data.GetNumberOfPoints(), len(rows), text))
    label_column = [c for c in ("label", "labels", "fine_label") if c in features][0]
    names = features[label_column]["names"]
    labels = point_array(data, "label")
    label_str = point_array(data, "label_str")
    check(list(labels) == [r[label_column] for r in rows], "%s: labels %s" % (name, list(labels)))
    check(label_str == [names[r[label_column]] for r in rows], "%s: class names %s" % (name, label_str[:3]))
    image_column = [c for c, f in features.items() if f.get("_type") == "Image"]
    if image_column:
        shape = data.GetFieldData().GetArray("image_shape")
        h, w, c = [shape.GetValue(i) for i in range(3)]
        pixels = point_array(data, "image")
        for i, row in enumerate(rows):
            expected = expected_pixels(row[image_column[0]]["file"], c)
            check(expected.size == h * w * c, "%s: image %d has %d values, the shape says %s"
                  % (name, i, expected.size, (h, w, c)))
            check(np.array_equal(pixels[i], expected), "%s: the pixels of sample %d differ from PIL's" % (name, i))
    if "coarse_label" in features:
        coarse = point_array(data, "coarse_label")
        coarse_names = features["coarse_label"]["names"]
        check(list(coarse) == [r["coarse_label"] for r in rows], "%s: coarse labels" % name)
        check(point_array(data, "coarse_label_str") == [coarse_names[r["coarse_label"]] for r in rows],
              "%s: coarse class names" % name)


def rows_of(name):
    return manifest["datasets"][name]["rows"]


# --- Parquet: arrow-rs (parquet-wasm), snappy, dictionary pages, 3 row groups --------------
cifar = path("parquet", "cifar10-arrowrs-snappy", "plain_text", "train-00000-of-00001.parquet")
data, text = read(cifar)
check_dataset("cifar10", data, rows_of("cifar10"), text)
check(data.GetPointData().GetArray("file_name") is None, "bytes in the file: no file_name array")
dataset = data.GetFieldData().GetAbstractArray("dataset")
check(dataset.GetValue(1) == "Hugging Face Parquet", "dataset kind %r" % dataset.GetValue(1))
# The Hub snapshot's root folder (the files are in plain_text/) opens the same.
data, text = read(path("parquet", "cifar10-arrowrs-snappy"))
check_dataset("cifar10", data, rows_of("cifar10"), text)
# MaxSamples reads the first rows only (row groups 1 and 2 of 3).
data, text = read(cifar, MaxSamples=13)
check_dataset("cifar10", data, rows_of("cifar10")[:13], text)

# --- Parquet: DuckDB, zstd, CIFAR-100's two ClassLabels -----------------------------------
data, text = read(path("parquet", "cifar100-duckdb-zstd", "train-00000-of-00001.parquet"))
check_dataset("cifar100", data, rows_of("cifar100"), text)

# --- Sharded split (v2 data pages, zstd) and a folder of splits ----------------------------
mnist_train = rows_of("mnist_train")
data, text = read(path("parquet", "mnist-sharded", "train-00000-of-00002.parquet"))
check_dataset("mnist_train", data, mnist_train, text)  # one shard opens both
check([data.GetFieldData().GetArray("image_shape").GetValue(i) for i in range(3)] == [28, 28, 1],
      "gray PNGs stay one channel")
data, text = read(path("parquet", "mnist-sharded"))
check_dataset("mnist_train", data, mnist_train, text)  # the folder: train by default
check("set Split to read another" in text, "the output window does not say other splits exist: %r" % text)
# A split that is not there, then the right one (the same reader, as a user fixes it).
with CapturedMessages() as messages:
    reader = simple.ImageDatasetReader(FileName=path("parquet", "mnist-sharded"), Split="validation")
    reader.UpdatePipeline()
    empty = servermanager.Fetch(reader)
check(empty.GetNumberOfPoints() == 0, "a missing split produced samples")
check("no split 'validation'" in messages.text and "'test'" in messages.text and "'train'" in messages.text,
      "the error does not list the splits: %r" % messages.text)
with CapturedMessages() as messages:
    reader.Split = "test"
    reader.UpdatePipeline()
    fixed = servermanager.Fetch(reader)
    simple.Delete(reader)
check_dataset("mnist_test", fixed, rows_of("mnist_test"), messages.text)

# --- A null image: skipped with a warning naming the sample --------------------------------
data, text = read(path("parquet", "cifar10-null-image", "train-00000-of-00001.parquet"))
kept = [r for r in rows_of("cifar10_null_image") if r["img"] is not None]
check_dataset("cifar10_null_image", data, kept, text)
check("Skipping sample 2" in text, "the null image is not reported: %r" % text)
check(list(point_array(data, "sample_id")) == [0, 1, 3, 4], "sample ids after the null image")

# --- The datasets cache: an Arrow IPC stream with dataset_info.json beside it ---------------
data, text = read(path("arrow", "cache", "cifar10", "plain_text", "0.0.0", "abc123", "cifar10-train.arrow"))
check_dataset("cifar10_cache", data, rows_of("cifar10_cache"), text)
dataset = data.GetFieldData().GetAbstractArray("dataset")
check(dataset.GetValue(1) == "Hugging Face Arrow", "dataset kind %r" % dataset.GetValue(1))

# --- save_to_disk DatasetDict (beans: non-square images, two JPEGs, a string column) --------
beans = path("arrow", "save_to_disk", "beans")
data, text = read(beans)
check_dataset("beans_train", data, rows_of("beans_train"), text)
check(point_array(data, "image_file_path") == [r["image_file_path"] for r in rows_of("beans_train")],
      "the image_file_path column is not an array")
data, text = read(beans, Split="validation")
check_dataset("beans_validation", data, rows_of("beans_validation"), text)
# One split's own .arrow file, as File > Open picks it.
data, text = read(path("arrow", "save_to_disk", "beans", "validation", "data-00000-of-00001.arrow"))
check_dataset("beans_validation", data, rows_of("beans_validation"), text)

# --- An image folder cached by path (bytes null): the files, relative to the table ----------
data, text = read(path("arrow", "imagefolder-by-path", "imagefolder-train.arrow"))
check_dataset("imagefolder", data, rows_of("imagefolder"), text)
files = point_array(data, "file_name")
check(all(os.path.isfile(f) for f in files) and files[0].endswith(os.path.join("images", "cat", "0.png")),
      "file_name does not point at the cached images: %s" % files[:2])

# --- Embeddings computed elsewhere --------------------------------------------------------
vectors = np.load(path("parquet", "embeddings", "embeddings.npz"))
for table in (path("parquet", "embeddings", "embeddings.parquet"),  # FixedSizeList<float32>[64]
              path("arrow", "embeddings", "embeddings-list.arrow")):  # List<float32>, 2 batches
    data, text = read(table)
    rows = rows_of("embeddings")
    check(data.GetNumberOfPoints() == 40, "%s: %d samples" % (table, data.GetNumberOfPoints()))
    check(data.GetPointData().GetArray("image") is None, "a table without images has an image array")
    for tag in ("foundation", "finetuned"):
        values = point_array(data, "embedding_" + tag)
        key = [k for k in vectors.files if tag in k][0]
        check(values.shape == (40, 64) and np.array_equal(values, vectors[key].astype(np.float32)),
              "%s: embedding_%s differs from the vectors written" % (table, tag))
    check(point_array(data, "id") == [r["id"] for r in rows], "the id column")
    check(point_array(data, "split") == [r["split"] for r in rows], "the split column")
    check(list(point_array(data, "label")) == [r["label"] for r in rows], "embedding table labels")

# A pvpython chain written without UpdatePipeline: the filters' defaults take the table's
# embeddings (marked as embeddings by the reader), and the planted outliers come out on top.
table = simple.ImageDatasetReader(FileName=path("parquet", "embeddings", "embeddings.parquet"))
scores = simple.EmbeddingOutlierScore(Input=table)  # Embedding left empty: chosen when it runs
scored = servermanager.Fetch(scores)
score_names = [n for n in (scored.GetPointData().GetArrayName(i) for i in range(scored.GetPointData().GetNumberOfArrays()))
               if n.startswith("outlier_score_")]
check(score_names in (["outlier_score_foundation"], ["outlier_score_finetuned"]),
      "Outlier Score on the table made %s" % score_names)
score = point_array(scored, score_names[0])
ids = point_array(scored, "id")
lowest = sorted(range(40), key=lambda i: score[i])[:2]
check(sorted(ids[i] for i in lowest) == ["emb-007", "emb-023"],
      "the planted outliers are not the two lowest scores: %s" % [ids[i] for i in lowest])
# Compare Embeddings takes the foundation column first and the other as the fine-tuned one.
check(layout.embedding_tags(table) == ("foundation", "finetuned"),
      "Compare Embeddings would take %s" % (layout.embedding_tags(table),))
views = layout.compare_source(table, outliers=2)
check(views is not None, "Compare Embeddings on the embedding table made no layout")
# Data Issues with its defaults takes the table's embeddings and labels too.
with CapturedMessages() as messages:
    flagged = servermanager.Fetch(simple.DataIssues(Input=table))
names = [flagged.GetPointData().GetArrayName(i) for i in range(flagged.GetPointData().GetNumberOfArrays())]
check(flagged.GetNumberOfPoints() == 40 and any(n.startswith("is_") for n in names),
      "Data Issues on the embedding table: %d samples, arrays %s, %r" % (flagged.GetNumberOfPoints(), names, messages.text))

# --- MaxSamples and pieces read only their row groups ------------------------------------
# A copy whose last row group (rows 20-23) is damaged: the first 10 rows still read cleanly,
# because neither the header scan nor the read touches that row group.
with open(cifar, "rb") as f:
    whole = bytearray(f.read())
footer_start = len(whole) - 8 - int.from_bytes(whole[-8:-4], "little")
for i in range(footer_start - 1200, footer_start - 900):
    whole[i] ^= 0x5A
damaged = os.path.join(tmp, "damaged-tail.parquet")
with open(damaged, "wb") as f:
    f.write(whole)
data, text = read(damaged, MaxSamples=10)
check_dataset("cifar10", data, rows_of("cifar10")[:10], text)
check("ERR" not in text and "Warning" not in text, "reading 10 rows touched the damaged row group: %r" % text)
data, text = read(damaged)
check(data.GetNumberOfPoints() < 24, "the damaged row group went unnoticed: %d samples, %r" % (data.GetNumberOfPoints(), text))
# Pieces (MPI ranks) tile the rows in order, with the pixels of the whole read.
reader = simple.ImageDatasetReader(FileName=cifar)
algorithm = reader.GetClientSideObject()
pieces = []
for piece in range(3):
    algorithm.UpdatePiece(piece, 3, 0)
    pieces.append((point_array(algorithm.GetOutput(), "sample_id").copy(), point_array(algorithm.GetOutput(), "image").copy()))
algorithm.UpdatePiece(0, 1, 0)
check(np.array_equal(np.concatenate([p[0] for p in pieces]), np.arange(24)), "pieces do not tile the rows")
check(np.array_equal(np.concatenate([p[1] for p in pieces]), point_array(algorithm.GetOutput(), "image")),
      "the pieces' pixels differ from the whole read")
simple.Delete(reader)

# --- Damaged files: an error in the output window, no samples, no crash --------------------
truncated = os.path.join(tmp, "truncated.parquet")
with open(cifar, "rb") as f:
    whole = f.read()
with open(truncated, "wb") as f:
    f.write(whole[: len(whole) // 2])
data, text = read(truncated)
check(data.GetNumberOfPoints() == 0 and "truncated.parquet" in text, "truncated Parquet: %r" % text)
garbage = os.path.join(tmp, "garbage.arrow")
with open(garbage, "wb") as f:
    f.write(b"\xff\xff\xff\xff\x10\x00\x00\x00" + bytes(range(64)))
data, text = read(garbage)
check(data.GetNumberOfPoints() == 0 and "garbage.arrow" in text, "garbage Arrow: %r" % text)
# A missing shard is named.
shards = os.path.join(tmp, "shards")
os.makedirs(shards)
shutil.copy(path("parquet", "mnist-sharded", "train-00000-of-00002.parquet"), shards)
data, text = read(os.path.join(shards, "train-00000-of-00002.parquet"))
check(data.GetNumberOfPoints() == 0 and "Shard 1 of 2" in text, "missing shard: %r" % text)

shutil.rmtree(tmp)
print("Hugging Face datasets: every layout read, pixels equal to PIL's")
