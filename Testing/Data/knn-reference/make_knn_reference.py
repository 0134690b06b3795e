#!/usr/bin/python3
"""Writes the reference data of Testing/Engine/TestNeighbors.cxx.

Run with Debian's Python (numpy, scikit-learn 1.2, scipy):
    /usr/bin/python3 Testing/Data/knn-reference/make_knn_reference.py \
        [/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz]

Inputs: the first 3000 images of the Fashion-MNIST test set (784 pixels,
0..255) and small synthetic sets. References:
- exact kNN from scikit-learn's NearestNeighbors (brute force), self removed
  (kneighbors() without X), for cosine and euclidean; the distances stored
  are those of sklearn's neighbour ids recomputed directly in float64
  (sklearn's euclidean uses |a|^2+|b|^2-2ab, which loses digits);
- cleanlab's kNN outlier score. cleanlab is not installed here: the formula
  is re-implemented below from cleanlab 2.6/2.7 sources
  (cleanlab/outlier.py OutOfDistribution._get_ood_features_scores,
  cleanlab/internal/neighbor/knn_graph.py correct_knn_distances_and_indices,
  cleanlab/internal/outlier.py transform_distances_to_scores and
  correct_precision_errors) and from cleanlab 2.5 for Scaling = none
  (exp(-t * mean distance), no median scaling);
- Annoy-style angular nearest-neighbour distance sqrt(max(0, 2 - 2 cos));
- neighbourhood overlap between two embeddings (exact kNN sets, ties broken
  by the smaller index);
- prediction-based OOD scores (cleanlab 2.6 _get_ood_predictions_scores with
  adjust_pred_probs=True, get_confident_thresholds, get_normalized_entropy)
  and self-confidence label quality (cleanlab.rank).
"""
import gzip
import os
import sys

import numpy as np
from sklearn.neighbors import NearestNeighbors

HERE = os.path.dirname(os.path.abspath(__file__))
K = 10
N_IMAGES = 3000


def save(name, array):
    np.save(os.path.join(HERE, name), np.ascontiguousarray(array))


def read_idx_images(path, count):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, n, rows, cols = np.frombuffer(data[:16], dtype=">i4")
    assert magic == 2051, "not an IDX image file"
    pixels = np.frombuffer(data[16:16 + count * rows * cols], dtype=np.uint8)
    return pixels.reshape(count, rows * cols)


def direct_distances(x, indices, metric):
    """Distances of row i to its neighbour ids, computed directly in float64.
    Exact duplicates are at distance 0 (as after cleanlab's duplicate
    correction); cosine treats a zero vector as distance 1 to others."""
    x = x.astype(np.float64)
    out = np.zeros(indices.shape, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1)
    for i in range(x.shape[0]):
        nb = x[indices[i]]
        if metric == "euclidean":
            out[i] = np.sqrt(((nb - x[i]) ** 2).sum(axis=1))
        else:
            denom = norms[i] * norms[indices[i]]
            cos = np.where(denom > 0, (nb @ x[i]) / np.where(denom > 0, denom, 1), 0.0)
            out[i] = np.clip(1.0 - cos, 0.0, 2.0)
        same = np.all(nb == x[i], axis=1)
        out[i][same] = 0.0
    return out


def sklearn_knn(x, k, metric):
    knn = NearestNeighbors(n_neighbors=k, metric=metric).fit(x.astype(np.float64))
    distances, indices = knn.kneighbors()  # X=None: each sample's self is removed
    return distances, indices


def correct_knn_distances_and_indices(features, distances, indices):
    """cleanlab >= 2.6: exact duplicates come first, at distance 0."""
    n, k = distances.shape
    out_d = np.zeros_like(distances)
    out_i = np.zeros_like(indices)
    _, inverse = np.unique(features, return_inverse=True, axis=0)
    inverse = inverse.reshape(-1)
    groups = {u: np.where(inverse == u)[0] for u in set(inverse)}
    for i in range(n):
        same = np.setdiff1d(groups[inverse[i]], i)
        m = min(len(same), k)
        out_i[i, :m] = same[:m]
        rest = k - m
        if rest > 0:
            mask = np.isin(indices[i], same, invert=True)
            out_d[i, m:] = distances[i][mask][:rest]
            out_i[i, m:] = indices[i][mask][:rest]
    return out_d, out_i


def cleanlab_feature_scores(x, k=K, t=1.0):
    """Returns (scores_median, scores_none, mean_distance, metric)."""
    x = x.astype(np.float64)
    n, d = x.shape
    k = min(k, n - 1)
    metric = "cosine" if d > 3 else "euclidean"
    distances, indices = sklearn_knn(x, k, metric)
    # Exact distances for sklearn's ids (see module docstring), then
    # cleanlab's duplicate correction.
    distances = direct_distances(x, indices, metric)
    distances, indices = correct_knn_distances_and_indices(x, distances, indices)
    mean = distances[:, :k].mean(axis=1)
    scale = float(max(np.median(mean), 100 * np.finfo(np.float64).eps))
    scores = np.exp(-t * mean / scale)
    if metric == "cosine":
        tol = 100 * np.finfo(np.float64).epsneg
    else:
        tol = np.sqrt(100 * np.finfo(np.float64).eps)
    scores[mean < tol] = 1.0
    scores_none = np.exp(-1.0 * mean * t)  # cleanlab <= 2.5
    return scores, scores_none, mean, metric


def exact_knn_sets(x, k, metric):
    """Exact kNN ids (ties -> smaller index) from a full float64 distance
    matrix, and a mask of rows whose k-th and (k+1)-th distances are
    (nearly) tied, where the set is not unique."""
    x = x.astype(np.float64)
    n = x.shape[0]
    if metric == "cosine":
        norms = np.linalg.norm(x, axis=1)
        xn = x / np.where(norms > 0, norms, 1)[:, None]
        dist = np.clip(1.0 - xn @ xn.T, 0.0, 2.0)
    else:
        sq = (x * x).sum(axis=1)
        dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0))
    _, inverse = np.unique(x, return_inverse=True, axis=0)
    inverse = inverse.reshape(-1)
    dist[inverse[:, None] == inverse[None, :]] = 0.0
    np.fill_diagonal(dist, np.inf)
    ids = np.zeros((n, k), dtype=np.int64)
    tied = np.zeros(n, dtype=np.uint8)
    cols = np.arange(n)
    for i in range(n):
        order = np.lexsort((cols, dist[i]))
        ids[i] = order[:k]
        dk, dk1 = dist[i, order[k - 1]], dist[i, order[k]]
        if abs(dk1 - dk) <= 1e-9 * max(1.0, abs(dk)):
            tied[i] = 1
    return ids, tied


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else \
        "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
    pixels = read_idx_images(source, N_IMAGES)
    save("fmnist_pixels_u8.npy", pixels)
    x = pixels.astype(np.float64)

    # Exact kNN, both metrics.
    for metric in ("cosine", "euclidean"):
        _, indices = sklearn_knn(x, K, metric)
        save(f"fmnist_knn_{metric}_indices.npy", indices.astype(np.int32))
        save(f"fmnist_knn_{metric}_distances.npy",
             direct_distances(x, indices, metric).astype(np.float32))

    # Outlier scores (auto metric: cosine for 784-D).
    median, none, mean, metric = cleanlab_feature_scores(x)
    assert metric == "cosine"
    save("fmnist_outlier_score_median.npy", median)
    save("fmnist_outlier_score_none.npy", none)
    save("fmnist_knn_mean_distance.npy", mean)

    # Annoy-style nearest neighbour (cosine order, angular distance).
    _, nn = sklearn_knn(x, 1, "cosine")
    cosd = direct_distances(x, nn, "cosine")[:, 0]
    save("fmnist_nn_id.npy", nn[:, 0].astype(np.int32))
    save("fmnist_nn_distance.npy", np.sqrt(np.maximum(0.0, 2.0 * cosd)))

    # Embedding change: pixels vs. an exact integer projection to 64-D
    # (entries of W in {-1, 0, 1}: the projected values are integers, exact
    # in float32, so the C++ test recomputes them bit for bit).
    rng = np.random.default_rng(20240611)
    w = rng.integers(-1, 2, size=(784, 64)).astype(np.int8)
    save("projection_784x64_i1.npy", w)
    projected = (pixels.astype(np.int64) @ w.astype(np.int64)).astype(np.float64)
    ids_a, tied_a = exact_knn_sets(x, K, "cosine")
    ids_b, tied_b = exact_knn_sets(projected, K, "cosine")
    overlap = np.array([len(np.intersect1d(a, b)) / K for a, b in zip(ids_a, ids_b)])
    save("change_overlap.npy", overlap)
    save("change_tied.npy", (tied_a | tied_b).astype(np.uint8))

    # Low-dimensional set (euclidean by auto): 500 random 2-D points, 5
    # exact duplicates and a zero vector.
    pts = rng.normal(size=(500, 2)).astype(np.float32)
    pts = np.concatenate([pts, pts[[3, 17, 17, 250, 499]], np.zeros((1, 2), np.float32)])
    save("lowdim_points_f4.npy", pts)
    _, ind2 = sklearn_knn(pts, K, "euclidean")
    save("lowdim_knn_indices.npy", ind2.astype(np.int32))
    save("lowdim_knn_distances.npy", direct_distances(pts, ind2, "euclidean").astype(np.float32))
    median2, none2, mean2, metric2 = cleanlab_feature_scores(pts)
    assert metric2 == "euclidean"
    save("lowdim_outlier_score_median.npy", median2)
    save("lowdim_outlier_score_none.npy", none2)
    save("lowdim_knn_mean_distance.npy", mean2)

    # Predicted probabilities: Dirichlet rows, labels = argmax with 20 %
    # flipped; a second set where the last class has no labelled sample.
    for name, n, ncls, missing in (("pred", 2000, 10, False), ("pred_missing", 300, 5, True)):
        probs = rng.dirichlet(np.full(ncls, 0.5), size=n).astype(np.float32)
        labels = probs.argmax(axis=1)
        flip = rng.random(n) < 0.2
        labels[flip] = rng.integers(0, ncls, size=flip.sum())
        if missing:
            labels[labels == ncls - 1] = 0
        labels = labels.astype(np.int32)
        p = probs.astype(np.float64)
        # cleanlab.count.get_confident_thresholds
        big = 2 * p.max()
        thr = np.array([p[labels == j, j].mean() if np.any(labels == j) else big
                        for j in range(ncls)])
        thr = np.clip(thr, 2e-6, None)
        # _subtract_confident_thresholds
        adj = p - thr
        adj += thr.max()
        adj /= adj.sum(axis=1, keepdims=True)
        # get_normalized_entropy (xlogy: 0 log 0 = 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            plogp = np.where(adj > 0, adj * np.log(np.where(adj > 0, adj, 1)), 0.0)
        entropy = 1.0 - (-plogp.sum(axis=1) / np.log(ncls))
        save(f"{name}_probs_f4.npy", probs)
        save(f"{name}_labels_i4.npy", labels)
        save(f"{name}_entropy.npy", entropy)
        save(f"{name}_least_confidence.npy", adj.max(axis=1))
        save(f"{name}_self_confidence.npy", p[np.arange(n), labels])
        save(f"{name}_thresholds.npy", thr)


if __name__ == "__main__":
    main()
