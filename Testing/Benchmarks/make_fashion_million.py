"""Fashion-MNIST's 70 000 images (training and test set) grown to 10^6 by augmentation, as one
HDF5 image dataset for the Image Dataset Reader: the real-embedding set of the million-sample
benchmarks (BenchmarkFashionMillion.py).

    /usr/bin/python3 Testing/Benchmarks/make_fashion_million.py OUT.h5 [--samples N] [--seed S]

Sample i is a copy of original image i % 70 000: the first 70 000 are the originals as they are;
every later copy is the original shifted by up to 2 pixels in x and in y (zeros shifted in),
mirrored left-right with probability 1/2 and given Gaussian noise (sigma 8 grey levels), clipped
to 0..255. Its label is the original's. Beside `images`, `labels` and `label_names` the file
holds `source_index` (the original of each sample), which the benchmark reads with NumPy to
check that neighbours find their siblings; the reader ignores it.
"""
import gzip
import os
import sys

import h5py
import numpy as np

ROOT = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist
NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
         "Ankle boot"]


def idx(name, offset):
    with gzip.open(os.path.join(ROOT, name)) as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def augmented(originals, sources, rng):
    """Shifted, sometimes mirrored, noisy copies of originals[sources]."""
    images = originals[sources].astype(np.float32)
    n = len(sources)
    flips = rng.random(n) < 0.5
    images[flips] = images[flips, :, ::-1]
    shifted = np.zeros_like(images)
    dx, dy = rng.integers(-2, 3, n), rng.integers(-2, 3, n)
    for x in range(-2, 3):
        for y in range(-2, 3):
            chosen = (dx == x) & (dy == y)
            source = images[chosen][:, max(0, -y):28 - max(0, y), max(0, -x):28 - max(0, x)]
            shifted[chosen, max(0, y):28 - max(0, -y), max(0, x):28 - max(0, -x)] = source
    shifted += rng.normal(0.0, 8.0, shifted.shape).astype(np.float32)
    return np.clip(np.rint(shifted), 0, 255).astype(np.uint8)


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    out = args[0]
    samples = int(args[args.index("--samples") + 1]) if "--samples" in args else 1000000
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 2026
    originals = np.concatenate([idx("train-images-idx3-ubyte.gz", 16),
                                idx("t10k-images-idx3-ubyte.gz", 16)]).reshape(-1, 28, 28)
    labels = np.concatenate([idx("train-labels-idx1-ubyte.gz", 8), idx("t10k-labels-idx1-ubyte.gz", 8)])
    sources = np.arange(samples) % len(originals)
    rng = np.random.default_rng(seed)
    with h5py.File(out, "w") as f:
        images = f.create_dataset("images", (samples, 28, 28), np.uint8, chunks=(4096, 28, 28))
        block = 50000
        for start in range(0, samples, block):
            rows = sources[start:start + block]
            copies = augmented(originals, rows, rng)
            originals_here = np.arange(start, start + len(rows)) < len(originals)
            copies[originals_here] = originals[rows[originals_here]]
            images[start:start + len(rows)] = copies
        f["labels"] = labels[sources].astype(np.int64)
        f["label_names"] = np.array(NAMES, dtype=h5py.string_dtype())
        f["source_index"] = sources.astype(np.int64)
    print("%s: %d images (%d originals, %d augmented copies)" % (
        out, samples, min(samples, len(originals)), max(0, samples - len(originals))))


if __name__ == "__main__":
    main()
