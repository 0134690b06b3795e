#!/usr/bin/python3
"""Writes the reference data of Testing/Engine/TestProjection.cxx.

Run with Debian's Python (numpy, scikit-learn 1.2, umap-learn 0.5.3):
    /usr/bin/python3 Testing/Data/projection-reference/make_projection_reference.py \
        [/usr/share/datasets/fashion-mnist]

Inputs: the 3000 Fashion-MNIST test images of
Testing/Data/knn-reference/fmnist_pixels_u8.npy (the first 3000 of the test
set) and their labels (t10k-labels-idx1-ubyte.gz, first 3000).
Writes:
- fmnist_labels_u1.npy: the 3000 labels;
- pca_sklearn_f8.npy: scikit-learn PCA(n_components=3, svd_solver="full")
  coordinates of the first 300 images;
- pca_tiny_input_f4.npy (50 x 6 uniform random), pca_tiny_sklearn_f8.npy
  and pca_tiny_ratio_f8.npy: PCA(n_components=3) coordinates and explained
  variance ratios;
- pca2_f4.npy and pca2_trustworthiness.json: sklearn.manifold.trustworthiness (k=15) of the
  2-D PCA of the 3000 images (checks our implementation of the measure);
- reference.json: trustworthiness (k=15) and 2-D 10-NN classifier accuracy
  (leave-one-out) of umap-learn (defaults, random_state=42) and scikit-learn
  TSNE (defaults of 1.2 with init="pca", learning_rate="auto",
  random_state=42) on the 3000 images, for the test bounds.
"""
import gzip
import json
import os
import sys
import time

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE, trustworthiness
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

HERE = os.path.dirname(os.path.abspath(__file__))
FOLDER = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"


def save(name, array):
    np.save(os.path.join(HERE, name), np.ascontiguousarray(array))  # C order (NpyReader.h)


def knn_accuracy(embedding, labels, k=10):
    """Leave-one-out k-NN classifier accuracy (majority vote, ties -> smallest label)."""
    nn = NearestNeighbors(n_neighbors=k).fit(embedding)
    idx = nn.kneighbors(return_distance=False)
    votes = labels[idx]
    pred = np.array([np.bincount(v, minlength=10).argmax() for v in votes])
    return float((pred == labels).mean())


def main():
    pixels = np.load(os.path.join(HERE, "..", "knn-reference", "fmnist_pixels_u8.npy"))
    n = pixels.shape[0]
    with gzip.open(os.path.join(FOLDER, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8)[8:8 + n].copy()
    save("fmnist_labels_u1.npy", labels)
    x = pixels.astype(np.float32)

    rng = np.random.default_rng(0)
    tiny = rng.uniform(0.0, 1.0, size=(50, 6)).astype(np.float32)
    save("pca_tiny_input_f4.npy", tiny)
    tiny_pca = PCA(n_components=3, svd_solver="full").fit(tiny.astype(np.float64))
    save("pca_tiny_sklearn_f8.npy", tiny_pca.transform(tiny.astype(np.float64)))
    save("pca_tiny_ratio_f8.npy", tiny_pca.explained_variance_ratio_)

    small = x[:300]
    save("pca_sklearn_f8.npy",
            PCA(n_components=3, svd_solver="full").fit_transform(small.astype(np.float64)))

    pca2 = PCA(n_components=2, svd_solver="full").fit_transform(x.astype(np.float64)).astype(np.float32)
    save("pca2_f4.npy", pca2)
    with open(os.path.join(HERE, "pca2_trustworthiness.json"), "w") as f:
        json.dump({"trustworthiness_k15": float(trustworthiness(x, pca2, n_neighbors=15))}, f, indent=1)

    ref = {"n": int(n), "original_knn_accuracy": knn_accuracy(x, labels.astype(int))}
    import umap
    start = time.perf_counter()
    emb = umap.UMAP(random_state=42).fit_transform(x)
    ref["umap"] = {"seconds": time.perf_counter() - start,
                   "trustworthiness_k15": float(trustworthiness(x, emb, n_neighbors=15)),
                   "knn_accuracy": knn_accuracy(emb, labels.astype(int))}
    start = time.perf_counter()
    emb = TSNE(init="pca", learning_rate="auto", random_state=42).fit_transform(x)
    ref["tsne"] = {"seconds": time.perf_counter() - start,
                   "trustworthiness_k15": float(trustworthiness(x, emb, n_neighbors=15)),
                   "knn_accuracy": knn_accuracy(emb, labels.astype(int))}
    ref["pca2"] = {"trustworthiness_k15": float(trustworthiness(x, pca2, n_neighbors=15)),
                   "knn_accuracy": knn_accuracy(pca2, labels.astype(int))}
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
    print(json.dumps(ref, indent=1))


if __name__ == "__main__":
    main()
