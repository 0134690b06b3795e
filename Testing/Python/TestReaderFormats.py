"""Every format through the plugin, with small generated files, good and bad."""
import gzip
import os
import struct
import tempfile

import h5py
import numpy as np
from PIL import Image
from paraview import simple, servermanager

from dualembed_testing import CapturedMessages, check, load_plugin, point_array

load_plugin()
rng = np.random.default_rng(7)
tmp = tempfile.mkdtemp(prefix="dualembed-reader-")


def read(path, **properties):
    """Runs the reader; returns (output, captured messages)."""
    with CapturedMessages() as messages:
        reader = simple.ImageDatasetReader(FileName=path, **properties)
        reader.UpdatePipeline()
        data = servermanager.Fetch(reader)
        simple.Delete(reader)
    return data, messages.text


def expect_error(path, fragment):
    data, text = read(path)
    check(data.GetNumberOfPoints() == 0, "%s: bad input produced %d samples" % (path, data.GetNumberOfPoints()))
    check(fragment.lower() in text.lower(), "%s: expected an error mentioning %r, got %r" % (path, fragment, text))


def image_shape(data):
    shape = data.GetFieldData().GetArray("image_shape")
    return [shape.GetValue(i) for i in range(3)]


# --- MNIST IDX, raw, with classes.txt --------------------------------------------------
mnist = os.path.join(tmp, "mnist")
os.makedirs(mnist)
images = rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)
labels = rng.integers(0, 10, size=12).astype(np.uint8)
with open(os.path.join(mnist, "train-images-idx3-ubyte"), "wb") as f:
    f.write(struct.pack(">IIII", 0x803, 12, 28, 28) + images.tobytes())
with open(os.path.join(mnist, "train-labels-idx1-ubyte"), "wb") as f:
    f.write(struct.pack(">II", 0x801, 12) + labels.tobytes())
with open(os.path.join(mnist, "classes.txt"), "w") as f:
    f.write("\n".join("digit-%d" % i for i in range(10)) + "\n")
data, _ = read(os.path.join(mnist, "train-images-idx3-ubyte"))
check(data.GetNumberOfPoints() == 12, "raw IDX: %d samples" % data.GetNumberOfPoints())
check(np.array_equal(point_array(data, "image"), images.reshape(12, -1)), "raw IDX pixels differ")
check(np.array_equal(point_array(data, "label"), labels), "raw IDX labels differ")
check(point_array(data, "label_str")[0] == "digit-%d" % labels[0], "classes.txt not used")

# ClassNames overrides the names found with the dataset.
data, _ = read(os.path.join(mnist, "train-images-idx3-ubyte"), ClassNames=["c%d" % i for i in range(10)])
check(point_array(data, "label_str")[0] == "c%d" % labels[0], "ClassNames does not override")

# --- CIFAR-10 ------------------------------------------------------------------------
cifar = os.path.join(tmp, "cifar-10-batches-bin")
os.makedirs(cifar)
chw = rng.integers(0, 256, size=(5, 3, 32, 32), dtype=np.uint8)
cifar_labels = np.array([3, 0, 9, 1, 3], np.uint8)
with open(os.path.join(cifar, "data_batch_1.bin"), "wb") as f:
    for i in range(5):
        f.write(bytes([cifar_labels[i]]) + chw[i].tobytes())
names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
with open(os.path.join(cifar, "batches.meta.txt"), "w") as f:
    f.write("\n".join(names) + "\n")
data, _ = read(os.path.join(cifar, "data_batch_1.bin"))
check(data.GetNumberOfPoints() == 5, "CIFAR-10: %d samples" % data.GetNumberOfPoints())
check(image_shape(data) == [32, 32, 3], "CIFAR-10 image_shape %s" % image_shape(data))
hwc = chw.transpose(0, 2, 3, 1).reshape(5, -1)
check(np.array_equal(point_array(data, "image"), hwc), "CIFAR-10 pixels are not HWC")
check(point_array(data, "label_str")[0] == "cat", "CIFAR-10 names from batches.meta.txt")

# --- CIFAR-100: fine labels, plus coarse_label -----------------------------------------
cifar100 = os.path.join(tmp, "cifar-100-binary")
os.makedirs(cifar100)
with open(os.path.join(cifar100, "test.bin"), "wb") as f:
    for i in range(5):
        f.write(bytes([i, 10 + i]) + chw[i].tobytes())
with open(os.path.join(cifar100, "fine_label_names.txt"), "w") as f:
    f.write("\n".join("fine%d" % i for i in range(100)) + "\n")
data, _ = read(os.path.join(cifar100, "test.bin"))
check(list(point_array(data, "label")) == [10, 11, 12, 13, 14], "CIFAR-100 fine labels")
check(list(point_array(data, "coarse_label")) == [0, 1, 2, 3, 4], "CIFAR-100 coarse labels")
check(point_array(data, "label_str")[0] == "fine10", "CIFAR-100 fine names")

# --- Image folder, uniform size, opened by its root and by one image --------------------
folder = os.path.join(tmp, "folder")
pictures = {}
for cls in ("dog", "cat"):
    os.makedirs(os.path.join(folder, cls))
    for i in range(3):
        a = rng.integers(0, 256, size=(20, 24, 3), dtype=np.uint8)
        path = os.path.join(folder, cls, "img%d.png" % i)
        Image.fromarray(a).save(path)
        pictures[path] = a
open(os.path.join(folder, "cat", "notes.txt"), "w").write("not an image")
for path in (folder, os.path.join(folder, "dog", "img1.png")):
    data, _ = read(path)
    check(data.GetNumberOfPoints() == 6, "image folder %s: %d samples" % (path, data.GetNumberOfPoints()))
    check(image_shape(data) == [20, 24, 3], "image folder shape %s" % image_shape(data))
    files = point_array(data, "file_name")
    check(point_array(data, "label_str")[:4] == ["cat"] * 3 + ["dog"], "classes sorted by name")
    pixels = point_array(data, "image")
    for i, f in enumerate(files):
        check(np.array_equal(pixels[i], pictures[f].reshape(-1)), "pixels of %s differ (row order?)" % f)

# Mixed sizes: thumbnails + file_name; a corrupt file is skipped with a warning.
mixed = os.path.join(tmp, "mixed")
os.makedirs(os.path.join(mixed, "a"))
os.makedirs(os.path.join(mixed, "b"))
Image.fromarray(rng.integers(0, 256, size=(30, 40, 3), dtype=np.uint8)).save(os.path.join(mixed, "a", "x.png"))
Image.fromarray(rng.integers(0, 256, size=(16, 16), dtype=np.uint8)).save(os.path.join(mixed, "b", "y.png"))
open(os.path.join(mixed, "b", "z.png"), "wb").write(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
# Found by Testing/Fuzz: a .bmp holding a truncated PNM header hung VTK's PNM reader.
open(os.path.join(mixed, "b", "w.bmp"), "wb").write(b"P6\n3 \xc9)\n255\n" + b"\x7f" * 18)
# Found by Testing/Fuzz: a BMP whose header size and data offset are 0 crashed vtkBMPReader.
bmp = bytearray(181)
bmp[0:3] = b"BM\x66"
bmp[88], bmp[92], bmp[96], bmp[100], bmp[104], bmp[106] = 0x36, 0x28, 5, 3, 1, 0x18
bmp[132:] = bytes((i * 11) & 0xFF for i in range(49))
open(os.path.join(mixed, "b", "v.bmp"), "wb").write(bytes(bmp))
data, text = read(mixed, ThumbnailSize=32)
check("v.bmp" in text, "the corrupt BMP was not named in a warning: %r" % text)
check("w.bmp" in text, "the PNM-in-BMP file was not named in a warning: %r" % text)
check(data.GetNumberOfPoints() == 2, "mixed folder: %d samples" % data.GetNumberOfPoints())
check(image_shape(data) == [32, 32, 3], "thumbnail shape %s" % image_shape(data))
check("z.png" in text, "the corrupt file was not named in a warning: %r" % text)
# file order: a/x.png, b/v.bmp, b/w.bmp, b/y.png, b/z.png
check(list(point_array(data, "sample_id")) == [0, 3], "sample ids of the decodable files")

# --- HDF5 ------------------------------------------------------------------------------
h5path = os.path.join(tmp, "set.h5")
h5images = rng.integers(0, 256, size=(7, 9, 11, 3), dtype=np.uint8)
with h5py.File(h5path, "w") as f:
    f["images"] = h5images
    f["labels"] = np.array([0, 1, 2, 0, 1, 2, 0], np.int64)
    f["label_names"] = np.array([b"zero", b"one", b"two"])
data, _ = read(h5path)
check(data.GetNumberOfPoints() == 7, "HDF5: %d samples" % data.GetNumberOfPoints())
check(image_shape(data) == [9, 11, 3], "HDF5 shape %s" % image_shape(data))
check(np.array_equal(point_array(data, "image"), h5images.reshape(7, -1)), "HDF5 pixels")
check(point_array(data, "label_str")[2] == "two", "HDF5 label_names")

# --- Bad input: a clear error, empty output, no crash ----------------------------------
bad = os.path.join(tmp, "bad")
os.makedirs(bad)
truncated = os.path.join(bad, "t10k-images-idx3-ubyte")
with open(truncated, "wb") as f:
    f.write(struct.pack(">IIII", 0x803, 100, 28, 28) + b"\0" * 1000)
with open(os.path.join(bad, "t10k-labels-idx1-ubyte"), "wb") as f:
    f.write(struct.pack(">II", 0x801, 100) + b"\0" * 100)
expect_error(truncated, "truncated")
nolabels = os.path.join(bad, "nolabels")
os.makedirs(nolabels)
with gzip.open(os.path.join(nolabels, "train-images-idx3-ubyte.gz"), "wb") as f:
    f.write(struct.pack(">IIII", 0x803, 2, 28, 28) + b"\0" * 1568)
expect_error(os.path.join(nolabels, "train-images-idx3-ubyte.gz"), "train-labels-idx1-ubyte")
wrongmagic = os.path.join(bad, "wm", "train-images-idx3-ubyte")
os.makedirs(os.path.dirname(wrongmagic))
open(wrongmagic, "wb").write(b"\x00\x00\x08\x01" + b"\0" * 64)
expect_error(wrongmagic, "train-images-idx3-ubyte")
short_cifar = os.path.join(bad, "data_batch_2.bin")
open(short_cifar, "wb").write(b"\x01" * 5000)
expect_error(short_cifar, "data_batch_2.bin")
empty = os.path.join(bad, "emptyfolder")
os.makedirs(os.path.join(empty, "cls"))
expect_error(empty, "emptyfolder")
nolab = os.path.join(bad, "nolabels.h5")
with h5py.File(nolab, "w") as f:
    f["images"] = h5images
expect_error(nolab, "labels")
rank = os.path.join(bad, "rank.h5")
with h5py.File(rank, "w") as f:
    f["images"] = np.zeros((4, 5), np.uint8)
    f["labels"] = np.zeros(4, np.int32)
expect_error(rank, "images")
noth5 = os.path.join(bad, "fake.h5")
open(noth5, "w").write("this is not HDF5")
expect_error(noth5, "fake.h5")
expect_error(os.path.join(bad, "does-not-exist.bin"), "does-not-exist.bin")
print("All formats read through the plugin; bad inputs gave clear errors.")
