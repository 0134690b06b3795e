"""Results files (HDF5): write, read back identical, documented layout, bad files, CacheFile.

Samples from Fashion-MNIST get extra arrays of every type the writer supports (signed and
unsigned integers of 8 to 64 bits, float32/64 with several components, UTF-8 strings, a name
with '/'), are saved with SaveData and with a writer proxy, read back with OpenDataFile and the
reader proxy, and compared array by array (name, VTK class, type, components, values), with the
points. h5py then checks the layout that README.md documents. Foreign, damaged and truncated
files must give a clear error and no output. Image Embedding's CacheFile must load a stored
embedding when the model matches and recompute when it does not.
"""
import os
import shutil
import tempfile

import h5py
import numpy as np
from paraview import servermanager, simple
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkCommonCore import (vtkCharArray, vtkDoubleArray, vtkFloatArray, vtkIdTypeArray,
                                      vtkIntArray, vtkLongArray, vtkLongLongArray, vtkShortArray,
                                      vtkSignedCharArray, vtkStringArray, vtkTypeUInt64Array,
                                      vtkUnsignedIntArray, vtkUnsignedLongArray,
                                      vtkUnsignedShortArray)
from vtkmodules.vtkCommonDataModel import vtkPolyData

from dualembed_testing import CapturedMessages, check, check_cached_ranges, load_plugin

load_plugin()
rng = np.random.default_rng(11)
tmp = tempfile.mkdtemp(prefix="dualembed-store-")
fashion = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
check(os.path.exists(fashion), "Debian's dataset-fashion-mnist is not installed")
N = 200

# --- samples with arrays of every supported type --------------------------------------
reader = simple.ImageDatasetReader(FileName=fashion, MaxSamples=N)
reader.UpdatePipeline()
samples = vtkPolyData()
samples.DeepCopy(servermanager.Fetch(reader))
check(samples.GetNumberOfPoints() == N, "reader gave %d samples" % samples.GetNumberOfPoints())
pd = samples.GetPointData()


def add_numeric(cls, name, values):
    array = cls()
    array.SetName(name)
    values = np.ascontiguousarray(values)
    array.SetNumberOfComponents(1 if values.ndim == 1 else values.shape[1])
    array.SetNumberOfTuples(values.shape[0])
    view = vtk_to_numpy(array)
    view[...] = values.reshape(view.shape)
    pd.AddArray(array)


add_numeric(vtkSignedCharArray, "int8_values", rng.integers(-128, 128, N))
add_numeric(vtkCharArray, "char_values", rng.integers(-128, 128, N))
add_numeric(vtkShortArray, "int16_values", rng.integers(-2**15, 2**15, N))
add_numeric(vtkUnsignedShortArray, "uint16_values", rng.integers(0, 2**16, N))
add_numeric(vtkIntArray, "int32_pairs", rng.integers(-2**31, 2**31, (N, 2)))
add_numeric(vtkUnsignedIntArray, "uint32_values", rng.integers(0, 2**32, N, dtype=np.uint64))
add_numeric(vtkLongArray, "long_values", rng.integers(-2**62, 2**62, N))
add_numeric(vtkUnsignedLongArray, "ulong_values", rng.integers(0, 2**63, N, dtype=np.uint64) * 2 + 1)
add_numeric(vtkLongLongArray, "longlong_values", rng.integers(-2**62, 2**62, N))
add_numeric(vtkTypeUInt64Array, "uint64_values", rng.integers(0, 2**64 - 1, N, dtype=np.uint64))
add_numeric(vtkIdTypeArray, "nn_id_foundation", rng.integers(0, N, N))
add_numeric(vtkFloatArray, "embedding_foundation", rng.standard_normal((N, 48)).astype(np.float32))
add_numeric(vtkDoubleArray, "umap_foundation", rng.standard_normal((N, 3)))
add_numeric(vtkFloatArray, "outlier/score%raw", rng.random(N).astype(np.float32))  # '/' and '%'
nan_values = rng.standard_normal(N).astype(np.float32)
nan_values[::7] = np.nan
nan_values[3] = np.inf
add_numeric(vtkFloatArray, "with_nan", nan_values)

texts = vtkStringArray()
texts.SetName("note")
words = ["Ünïcødé ✓", "日本語", "", "plain", "tab\tand \"quotes\"", "emoji 🙂"]
for i in range(N):
    texts.InsertNextValue(words[i % len(words)] + " %d" % i if i % 5 else words[i % len(words)])
pd.AddArray(texts)
pairs = vtkStringArray()
pairs.SetName("string_pairs")
pairs.SetNumberOfComponents(2)
pairs.SetNumberOfTuples(N)
for i in range(2 * N):
    pairs.SetValue(i, "s%d-ä" % i)
pd.AddArray(pairs)

# Points: a projection, as the projection filters will set them.
projection = rng.standard_normal((N, 3)).astype(np.float32)
samples.GetPoints().SetData(numpy_to_vtk(projection, deep=1))

provenance = vtkStringArray()
provenance.SetName("model_foundation")
for value in ["/models/vit-base", "vit", "first-token", "cpu float32"]:
    provenance.InsertNextValue(value)
samples.GetFieldData().AddArray(provenance)
weights = vtkDoubleArray()
weights.SetName("run_parameters")
weights.SetNumberOfComponents(2)
for value in [(0.5, 15.0), (1e-300, -2.5)]:
    weights.InsertNextTuple(value)
samples.GetFieldData().AddArray(weights)

producer = simple.PVTrivialProducer()
producer.GetClientSideObject().SetOutput(samples)
producer.UpdatePipeline()


def arrays(fields):
    return [fields.GetAbstractArray(i) for i in range(fields.GetNumberOfArrays())]


def values(array):
    if array.IsA("vtkStringArray"):
        return [array.GetValue(i) for i in range(array.GetNumberOfValues())]
    return vtk_to_numpy(array)


def same_arrays(expected, actual, what, skip=()):
    expected_arrays = [a for a in arrays(expected) if a.GetName() not in skip]
    names = [a.GetName() for a in expected_arrays]
    actual_names = [a.GetName() for a in arrays(actual)]
    # The writer gets the samples as they are (no parallel-serial copy): the file keeps their
    # order and their classes.
    check(actual_names == names, "%s: arrays %s, expected %s" % (what, actual_names, names))
    for a in expected_arrays:
        b = actual.GetAbstractArray(a.GetName())
        where = "%s '%s'" % (what, a.GetName())
        check(b.GetClassName() == a.GetClassName(), "%s: class %s, expected %s" % (where, b.GetClassName(), a.GetClassName()))
        check(b.GetDataType() == a.GetDataType(), "%s: VTK type %d, expected %d" % (where, b.GetDataType(), a.GetDataType()))
        check(b.GetNumberOfComponents() == a.GetNumberOfComponents(), "%s: components" % where)
        check(b.GetNumberOfTuples() == a.GetNumberOfTuples(), "%s: tuples" % where)
        va, vb = values(a), values(b)
        if isinstance(va, list):
            check(va == vb, "%s: strings differ" % where)
        else:
            check(va.dtype == vb.dtype and np.array_equal(va, vb, equal_nan=va.dtype.kind == "f"),
                  "%s: values differ" % where)


def same_samples(expected, actual, what, skip=()):
    check(actual.GetNumberOfPoints() == expected.GetNumberOfPoints(), "%s: %d samples" % (what, actual.GetNumberOfPoints()))
    check(actual.GetNumberOfVerts() == expected.GetNumberOfPoints(), "%s: one vertex per sample" % what)
    pa, pb = vtk_to_numpy(expected.GetPoints().GetData()), vtk_to_numpy(actual.GetPoints().GetData())
    check(pa.dtype == pb.dtype and np.array_equal(pa, pb), "%s: points differ" % what)
    same_arrays(expected.GetPointData(), actual.GetPointData(), what + " point data", skip)
    same_arrays(expected.GetFieldData(), actual.GetFieldData(), what + " field data")
    scalars = actual.GetPointData().GetScalars()
    check(scalars is not None and scalars.GetName() == "label", "%s: active scalars not restored" % what)


# --- round trip: SaveData + OpenDataFile ------------------------------------------------
path = os.path.join(tmp, "samples.h5")
with CapturedMessages() as messages:
    simple.SaveData(path, producer)
check(os.path.exists(path), "SaveData wrote nothing: %s" % messages.text)
check(not [f for f in os.listdir(tmp) if "partial" in f], "a temporary file was left behind")
opened = simple.OpenDataFile(path)
check(opened.GetXMLName() == "SampleStoreReader", "OpenDataFile chose %s" % opened.GetXMLName())
opened.UpdatePipeline()
same_samples(samples, servermanager.Fetch(opened), "SaveData/OpenDataFile")
print("round trip: %d arrays of %d samples identical" % (pd.GetNumberOfArrays(), N))
# Every numeric array's ranges (integers, floats, embeddings, 784 components) come cached.
cached = check_cached_ranges(opened)
check({"image", "label", "embedding_foundation", "int8_values", "uint64_values"} <= set(cached), "arrays without cached ranges: %s" % cached)

# The image reader does not claim results files, and says why when forced.
with CapturedMessages() as messages:  # the proxy reads the file's information when created
    image_reader = simple.ImageDatasetReader(FileName=path)
    image_reader.UpdatePipeline()
check(servermanager.Fetch(image_reader).GetNumberOfPoints() == 0, "image reader read a results file")
check("Samples Reader" in messages.text, "image reader on a results file: %r" % messages.text)
simple.Delete(image_reader)

# --- writer proxy without images; reader proxy with an array selection, pieces ---------
small = os.path.join(tmp, "no-images.h5")
writer = simple.CreateWriter(small, producer)
check(writer.GetXMLName() == "SampleStoreWriter", "CreateWriter chose %s" % writer.GetXMLName())
writer.WriteImages = 0
writer.UpdatePipeline()
del writer
store = simple.DualEmbedSamplesReader(FileName=small)
store.UpdatePipeline()
same_samples(samples, servermanager.Fetch(store), "SaveData with WriteImages=0", skip=("image",))
with h5py.File(small, "r") as f:
    check("image" not in f["point_data"] and "label" in f["point_data"], "WriteImages=0 wrote %s" % list(f["point_data"]))

# Choose Arrays To Write (as in ParaView's own writers): only the chosen arrays reach the file.
chosen = os.path.join(tmp, "chosen.h5")
writer = simple.CreateWriter(chosen, producer)
writer.ChooseArraysToWrite = 1
writer.PointDataArrays = ["label", "note"]
writer.FieldDataArrays = ["model_foundation"]
writer.UpdatePipeline()
del writer
with h5py.File(chosen, "r") as f:
    check(sorted(f["point_data"]) == ["label", "note"] and list(f["field_data"]) == ["model_foundation"],
          "Choose Arrays To Write wrote %s and %s" % (list(f["point_data"]), list(f["field_data"])))

store = simple.DualEmbedSamplesReader(FileName=path)
store.UpdatePipelineInformation()
listed = store.GetProperty("PointArrayInfo")[::2]
check("image" in listed and "note" in listed, "arrays listed: %s" % listed)
store.PointArrays = [name for name in listed if name not in ("image", "note")]  # the arrays to read
store.UpdatePipeline()
data = servermanager.Fetch(store)
check(data.GetPointData().GetAbstractArray("image") is None, "deselected image was read")
check(data.GetPointData().GetAbstractArray("note") is None, "deselected note was read")
check(data.GetPointData().GetAbstractArray("embedding_foundation") is not None, "selection dropped others")

algorithm = store.GetClientSideObject()
parts = []
for piece in range(3):
    algorithm.UpdatePiece(piece, 3, 0)
    part = vtkPolyData()
    part.DeepCopy(algorithm.GetOutputDataObject(0))
    parts.append(part)
ids = np.concatenate([vtk_to_numpy(p.GetPointData().GetArray("sample_id")) for p in parts])
check(np.array_equal(ids, np.arange(N)), "pieces do not cover the samples in order")
points = np.concatenate([vtk_to_numpy(p.GetPoints().GetData()) for p in parts])
check(np.array_equal(points, projection), "pieces' points differ")
check(sum(p.GetNumberOfVerts() for p in parts) == N, "pieces' vertices")
print("pieces: 3 contiguous shares, %s samples" % [p.GetNumberOfPoints() for p in parts])
simple.Delete(store)

# --- the documented layout, read with h5py ---------------------------------------------
with h5py.File(path, "r") as f:
    check(f.attrs["dualembed_format"] == "dualembed-samples", "root attribute dualembed_format")
    check(f.attrs["dualembed_format_version"] == 1, "dualembed_format_version")
    check(isinstance(f.attrs["dualembed_version"], str) and f.attrs["dualembed_version"], "dualembed_version")
    check(f.attrs["number_of_samples"] == N, "number_of_samples")
    check(list(f.attrs["model_foundation"]) == ["/models/vit-base", "vit", "first-token", "cpu float32"],
          "model_foundation root attribute: %s" % f.attrs["model_foundation"])
    check(f["points"].shape == (N, 3) and f["points"].dtype == np.float32, "/points")
    check(np.array_equal(f["points"][:], projection), "/points values")
    point_data = f["point_data"]
    check(set(point_data.keys()) == {a.GetName().replace("%", "%25").replace("/", "%2F") for a in arrays(pd)},
          "point_data datasets: %s" % list(point_data.keys()))
    image = point_data["image"]
    check(image.shape == (N, 784) and image.dtype == np.uint8, "image %s %s" % (image.shape, image.dtype))
    check(image.compression == "gzip" and image.shuffle, "image not compressed: %s" % image.compression)
    check(np.array_equal(image[:], values(pd.GetArray("image"))), "image values")
    check(point_data["label"].shape == (N,) and point_data["label"].dtype == np.int32, "label")
    check(point_data["sample_id"].dtype == np.int64, "sample_id")
    check(point_data["sample_id"].attrs["vtk_class"] == "vtkIdTypeArray", "vtk_class attribute: %s" % point_data["sample_id"].attrs["vtk_class"])
    check(point_data["embedding_foundation"].shape == (N, 48), "embedding shape")
    check(point_data["uint64_values"].dtype == np.uint64, "uint64")
    note = point_data["note"]
    check(h5py.check_string_dtype(note.dtype).encoding == "utf-8", "strings are not UTF-8")
    check(list(note.asstr()[:]) == values(texts), "strings differ in h5py")
    check(point_data["string_pairs"].shape == (N, 2), "string_pairs shape")
    check("outlier%2Fscore%25raw" in point_data, "escaped name")
    check(list(f["field_data/class_names"].asstr()[:5]) == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"],
          "class_names")
    check(list(f["field_data/image_shape"][:]) == [28, 28, 1], "image_shape")

    # README's lines: into NumPy and pandas.
    import pandas as pd_
    emb = f["point_data/embedding_foundation"][:]
    df = pd_.DataFrame({k: v.asstr()[:] if h5py.check_string_dtype(v.dtype) else v[:]
                        for k, v in f["point_data"].items() if v.ndim == 1})
    check(emb.shape == (N, 48) and len(df) == N and df["label_str"][0] == "Ankle boot", "README snippet")
print("h5py: documented layout found")

# --- foreign, damaged and truncated files ----------------------------------------------
def expect_error(bad_path, *fragments):
    with CapturedMessages() as messages:
        bad = simple.DualEmbedSamplesReader(FileName=bad_path)
        bad.UpdatePipeline()
    out = servermanager.Fetch(bad)
    check(out.GetNumberOfPoints() == 0, "%s: gave %d samples" % (bad_path, out.GetNumberOfPoints()))
    for fragment in fragments:
        check(fragment.lower() in messages.text.lower(), "%s: expected %r in %r" % (bad_path, fragment, messages.text))
    simple.Delete(bad)
    reason = [line for line in messages.text.splitlines() if "file" in line.lower()]
    print("  %-16s %s" % (os.path.basename(bad_path) + ":", reason[0].strip() if reason else messages.text))


image_h5 = os.path.join(tmp, "images.h5")
with h5py.File(image_h5, "w") as f:
    f["images"] = rng.integers(0, 256, (4, 8, 8), dtype=np.uint8)
    f["labels"] = np.arange(4)
print("bad files:")
expect_error(image_h5, "not a DualEmbed results file", "Image Dataset Reader")
check(simple.OpenDataFile(image_h5).GetXMLName() == "ImageDatasetReader", "OpenDataFile on an image dataset")

foreign = os.path.join(tmp, "foreign.h5")
with h5py.File(foreign, "w") as f:
    f["x"] = rng.random(10)
    f.attrs["dualembed_format"] = "something-else"
expect_error(foreign, "not a DualEmbed results file", "something-else")

not_hdf5 = os.path.join(tmp, "text.h5")
with open(not_hdf5, "w") as f:
    f.write("not HDF5\n" * 100)
expect_error(not_hdf5, "is not an HDF5 file")
expect_error(os.path.join(tmp, "missing.h5"), "does not exist")

newer = os.path.join(tmp, "newer.h5")
shutil.copy(small, newer)
with h5py.File(newer, "a") as f:
    f.attrs["dualembed_format_version"] = 2
expect_error(newer, "newer DualEmbed")

wrong_rows = os.path.join(tmp, "wrong-rows.h5")
shutil.copy(small, wrong_rows)
with h5py.File(wrong_rows, "a") as f:
    del f["point_data/label"]
    f["point_data/label"] = np.zeros(N - 1, np.int32)
expect_error(wrong_rows, "damaged", "label")

truncated = os.path.join(tmp, "truncated.h5")
with open(path, "rb") as f:
    content = f.read()
with open(truncated, "wb") as f:
    f.write(content[: len(content) // 2])
expect_error(truncated, "truncated")

# Damage inside the compressed image data: the read fails with an error, not a crash.
damaged = os.path.join(tmp, "damaged.h5")
with h5py.File(path, "r") as f:
    offset = f["point_data/image"].id.get_chunk_info(0).byte_offset
with open(damaged, "wb") as f:
    f.write(content[:offset] + bytes(rng.integers(0, 256, 4096, dtype=np.uint8)) + content[offset + 4096:])
expect_error(damaged, "point_data/image")

# A write that cannot happen: clear error, nothing left behind.
with CapturedMessages() as messages:
    simple.SaveData(os.path.join(tmp, "no-such-folder", "x.h5"), producer)
check("cannot write the results file" in messages.text.lower(), "unwritable path: %r" % messages.text)
print("bad files: clear errors, no output, no crash")

# --- ImageEmbedding CacheFile ----------------------------------------------------------
model_dir = os.path.join(os.environ["DUALEMBED_TESTING_DATA_DIR"], "hf-reference")
vit = os.path.join(model_dir, "vit-tiny")
classifier = os.path.join(model_dir, "vit-tiny-classifier")
source = simple.ImageDatasetReader(FileName=fashion, MaxSamples=20)
computed = simple.ImageEmbedding(Input=source, ModelPath=vit, Tag="foundation", BatchSize=8)
computed.UpdatePipeline()
reference = vtkPolyData()
reference.DeepCopy(servermanager.Fetch(computed))
cache = os.path.join(tmp, "embedded.h5")
simple.SaveData(cache, computed)


def embed(**properties):
    properties.setdefault("CacheFile", cache)
    filter_ = simple.ImageEmbedding(Input=properties.pop("Input", source), Tag="foundation", **properties)
    with CapturedMessages() as messages:
        filter_.UpdatePipeline()
    out = vtkPolyData()
    out.DeepCopy(servermanager.Fetch(filter_))
    simple.Delete(filter_)
    return out, messages.text


out, text = embed(ModelPath=vit)
check("loaded embedding_foundation for 20 samples from %s (model unchanged)" % cache in text,
      "CacheFile not used: %r" % text)
same_arrays(reference.GetPointData(), out.GetPointData(), "cached")
same_arrays(reference.GetFieldData(), out.GetFieldData(), "cached field data")
print("cache:", text.strip())

# Without images (a results file opened for exploring) and for a subset of the samples.
explore = simple.DualEmbedSamplesReader(FileName=cache)
explore.UpdatePipelineInformation()
explore.PointArrays = [name for name in explore.GetProperty("PointArrayInfo")[::2]
                       if name not in ("image", "embedding_foundation")]
out, text = embed(Input=explore, ModelPath=vit)
check("loaded" in text and np.array_equal(values(out.GetPointData().GetArray("embedding_foundation")),
                                         values(reference.GetPointData().GetArray("embedding_foundation"))),
      "cache without images: %r" % text)
subset = simple.ImageDatasetReader(FileName=fashion, MaxSamples=7)
out, text = embed(Input=subset, ModelPath=vit)
check("loaded embedding_foundation for 7 samples" in text, "subset: %r" % text)

# Another model, another pooling, unknown samples: recomputed, with the reason.
out, text = embed(ModelPath=classifier)
check("not using the cache file" in text and "vit-tiny-classifier" in text, "model change: %r" % text)
check(out.GetPointData().GetArray("logits_foundation") is not None, "classifier output not computed")
check(not np.array_equal(values(out.GetPointData().GetArray("embedding_foundation")),
                         values(reference.GetPointData().GetArray("embedding_foundation"))),
      "a changed model gave the cached embedding")
out, text = embed(ModelPath=vit, Pooling="mean")
check("not using" in text and "pooling" in text, "pooling change: %r" % text)
more = simple.ImageDatasetReader(FileName=fashion, MaxSamples=30)
out, text = embed(Input=more, ModelPath=vit)
check("not using" in text and "10 of the input's 30 samples" in text, "unknown samples: %r" % text)
check(out.GetPointData().GetArray("embedding_foundation").GetNumberOfTuples() == 30, "30 computed")
out, text = embed(ModelPath=vit, CacheFile=truncated)
check("not using" in text and "truncated" in text, "damaged cache: %r" % text)
print("cache: recomputed when the model, pooling or samples differ")

# auto resolves per checkpoint: a CLIP classifier without visual_projection takes pooler. Its
# cache, made with auto, is used again with auto (it was judged stale every time: auto was taken
# per family, projection) and with pooler, not with mean.
clip = os.path.join(os.environ["DUALEMBED_MODEL_REFERENCE_DIR"], "clip-classifier")
clip_cache = os.path.join(tmp, "clip.h5")
computed = simple.ImageEmbedding(Input=subset, ModelPath=clip, Tag="foundation", BatchSize=8)
computed.UpdatePipeline()
model = servermanager.Fetch(computed).GetFieldData().GetAbstractArray("model_foundation")
check([model.GetValue(i) for i in (1, 2, 4)] == ["clip", "pooler", "pooling asked: auto"],
      "CLIP provenance: %s" % [model.GetValue(i) for i in range(model.GetNumberOfValues())])
simple.SaveData(clip_cache, computed)
simple.Delete(computed)
for pooling in ("auto", "pooler"):
    out, text = embed(Input=subset, ModelPath=clip, Pooling=pooling, CacheFile=clip_cache)
    check("loaded embedding_foundation for 7 samples" in text, "CLIP cache with %s: %r" % (pooling, text))
out, text = embed(Input=subset, ModelPath=clip, Pooling="mean", CacheFile=clip_cache)
check("not using" in text and "pooler pooling, not mean" in text, "CLIP cache with mean: %r" % text)
print("cache: auto is resolved per checkpoint (CLIP without projection)")

shutil.rmtree(tmp)
print("Results files: round trip, layout, bad files and CacheFile OK.")
