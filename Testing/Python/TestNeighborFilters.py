"""The four neighbour filters on Fashion-MNIST pixels, against scikit-learn computed here.

Reader (3000 samples) -> Embedding Outlier Score / Embedding Nearest Neighbor / Embedding Change
on the raw `image` array, and Prediction Outlier Score on made-up probabilities. References:
scikit-learn's exact NearestNeighbors and cleanlab's formulas (Documentation/SPEC.md §2.3, 2.4, 2.6) in NumPy.
"""
import numpy as np
from paraview import simple, servermanager
from sklearn.neighbors import NearestNeighbors

from dualembed_testing import CapturedMessages, check, load_plugin, point_array, producer

load_plugin()
N, K = 3000, 10
samples = simple.ImageDatasetReader(
    FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=N)
fetched = servermanager.Fetch(samples)
pixels = point_array(fetched, "image").astype(np.float64)

# scikit-learn: k + 1 neighbours, then drop the sample itself.
def sklearn_knn(x, metric, k=K):
    dist, idx = NearestNeighbors(n_neighbors=k + 1, metric=metric, algorithm="brute").fit(x).kneighbors(x)
    keep = idx != np.arange(len(x))[:, None]
    rows = [(i[m][:k], d[m][:k]) for i, d, m in zip(idx, dist, keep)]
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows])

ref_idx, ref_dist = sklearn_knn(pixels, "cosine")
mean_d = ref_dist.mean(axis=1)
eps = np.finfo(np.float64).eps
scale = max(np.median(mean_d), 100 * eps)
ref_score = np.exp(-mean_d / scale)
ref_score[mean_d < 100 * np.finfo(np.float64).epsneg] = 1.0

def assert_close(name, ours, ref, tol=1e-4):
    diff = np.abs(np.asarray(ours, np.float64) - ref).max()
    print("%-26s max abs diff %.2e" % (name, diff))
    check(diff <= tol, "%s differs from the scikit-learn reference by %.3g" % (name, diff))

# Outlier score, Scaling median (cleanlab >= 2.6) and none (cleanlab <= 2.5).
outliers = simple.EmbeddingOutlierScore(Input=samples, Embedding=["POINTS", "image"])
data = servermanager.Fetch(outliers)
assert_close("outlier_score_image", point_array(data, "outlier_score_image"), ref_score)
assert_close("knn_mean_distance_image", point_array(data, "knn_mean_distance_image"), mean_d)
ours_rank = np.argsort(point_array(data, "outlier_score_image"), kind="stable")
check(set(ours_rank[:20]) == set(np.argsort(ref_score, kind="stable")[:20]), "top-20 outliers differ")
outliers.Scaling = "none"
assert_close("outlier_score (Scaling none)", point_array(servermanager.Fetch(outliers), "outlier_score_image"),
             np.exp(-mean_d))

# The default Method (auto) is exact at this size and says nothing; ivf is approximate, says so in
# the output window with its measured recall, and its scores rank the samples like the exact ones.
check(outliers.GetPropertyValue("Method") == "auto", "Method default: %s" % outliers.GetPropertyValue("Method"))
outliers.Scaling = "median"
approximate = simple.EmbeddingOutlierScore(Input=samples, Embedding=["POINTS", "image"], Method="ivf")
with CapturedMessages() as messages:
    approximate.UpdatePipeline()
check("Embedding Outlier Score: IVF neighbours (k 10, cosine) of 3000 rows" in messages.text
      and "recall@10" in messages.text, "IVF report: %r" % messages.text)
recall = float(messages.text.split("recall@10 ")[1].split()[0])
ivf_score = point_array(servermanager.Fetch(approximate), "outlier_score_image")
exact_score = point_array(servermanager.Fetch(outliers), "outlier_score_image")
ranks = lambda v: np.argsort(np.argsort(v, kind="stable"), kind="stable")
spearman = np.corrcoef(ranks(ivf_score), ranks(exact_score))[0, 1]
top = len(set(np.argsort(ivf_score)[:100]) & set(np.argsort(exact_score)[:100]))
print("IVF on 3000 Fashion-MNIST images: recall@10 %.4f (reported), Spearman %.4f, top-100 overlap %d"
      % (recall, spearman, top))
check(recall >= 0.9 and spearman >= 0.99 and top >= 90, "IVF scores too far from exact")
# Another filter on the same embedding uses the graph built above instead of searching again.
nn_ivf = simple.EmbeddingNearestNeighbor(Input=samples, Embedding=["POINTS", "image"], Method="ivf")
with CapturedMessages() as messages:
    nn_ivf_ids = point_array(servermanager.Fetch(nn_ivf), "nn_id_image")
check("Embedding Nearest Neighbor: IVF neighbours (k 1, cosine) of 3000 rows: the graph built earlier "
      "in this session (k 16" in messages.text and "recall@1 " in messages.text,
      "IVF graph not shared: %r" % messages.text)
print("IVF nearest neighbour from the shared graph: %.4f equal to scikit-learn's"
      % (nn_ivf_ids == ref_idx[:, 0]).mean())
check((nn_ivf_ids == ref_idx[:, 0]).mean() >= 0.98, "shared IVF graph: nearest neighbours differ")
simple.Delete(nn_ivf)
with CapturedMessages() as messages:
    outliers.UpdatePipeline()
check("neighbours" not in messages.text, "exact search reported: %r" % messages.text)
simple.Delete(approximate)

# Nearest neighbour with Annoy's angular distance.
nn = simple.EmbeddingNearestNeighbor(Input=samples, Embedding=["POINTS", "image"], Threshold=0.3)
data = servermanager.Fetch(nn)
nn_id = point_array(data, "nn_id_image")
ties = np.isclose(ref_dist[:, 0], ref_dist[:, 1], rtol=0, atol=1e-9)
check(np.all((nn_id == ref_idx[:, 0]) | ties), "nn_id differs from scikit-learn where there is no tie")
angular = np.sqrt(np.maximum(0, 2 * ref_dist[:, 0]))  # 1 - cos = d  ->  sqrt(2 - 2 cos)
assert_close("nn_distance_image", point_array(data, "nn_distance_image"), angular)
check(np.array_equal(point_array(data, "nn_flag_image"), (angular < 0.3).astype(np.uint8)), "nn_flag_image")

# Embedding change between the pixels and a fixed random projection of them.
projection = np.random.default_rng(3).normal(size=(784, 32))
proj = producer(fetched, projected=(pixels @ projection).astype(np.float32))
change = simple.EmbeddingChange(Input=proj, EmbeddingA=["POINTS", "image"], EmbeddingB=["POINTS", "projected"])
data = servermanager.Fetch(change)
idx_b, _ = sklearn_knn(pixels @ projection, "cosine")
ref_overlap = np.array([len(set(a) & set(b)) / K for a, b in zip(ref_idx, idx_b)])
assert_close("neighbor_overlap", point_array(data, "neighbor_overlap"), ref_overlap, tol=0.1 + 1e-6)
mismatch = np.abs(point_array(data, "neighbor_overlap") - ref_overlap) > 1e-6
check(mismatch.mean() < 0.01, "neighbor_overlap differs on %.1f%% of samples" % (100 * mismatch.mean()))
assert_close("embedding_change", point_array(data, "embedding_change"), 1 - point_array(data, "neighbor_overlap"))

# Prediction outlier score on Dirichlet probabilities with labels.
rng = np.random.default_rng(5)
probs = rng.dirichlet(np.ones(10) * 0.5, size=N)
labels = point_array(fetched, "label")
thr = np.array([probs[labels == j, j].mean() for j in range(10)])
adj = probs - thr + thr.max()
adj /= adj.sum(axis=1, keepdims=True)
ref_ood = 1 - (-(adj * np.log(np.where(adj > 0, adj, 1))).sum(axis=1)) / np.log(10)
calc = producer(fetched, probs_dirichlet=probs.astype(np.float32))
pred = simple.PredictionOutlierScore(Input=calc, Probabilities=["POINTS", "probs_dirichlet"],
                                     Labels=["POINTS", "label"])
data = servermanager.Fetch(pred)
assert_close("ood_pred_score_dirichlet", point_array(data, "ood_pred_score_dirichlet"), ref_ood)
assert_close("label_quality_dirichlet", point_array(data, "label_quality_dirichlet"), probs[np.arange(N), labels])

# Embedding Projection's neighbour search: auto is exact here (on 50 principal components) and
# quiet; ivf searches the input space, says so, and makes another map (not the one kept before).
umap = simple.EmbeddingProjection(Input=samples, Embedding=["POINTS", "image"], Seed=3)
with CapturedMessages() as messages:
    exact_map = point_array(servermanager.Fetch(umap), "umap_image")
check(umap.GetPropertyValue("NeighborMethod") == "auto" and "IVF" not in messages.text, "UMAP auto: %r"
      % messages.text)
umap.NeighborMethod = "ivf"
with CapturedMessages() as messages:
    ivf_map = point_array(servermanager.Fetch(umap), "umap_image")
check("Embedding Projection: IVF neighbours (k 14, euclidean) of 3000 rows" in messages.text,
      "UMAP ivf: %r" % messages.text)
check(ivf_map.shape == exact_map.shape and not np.array_equal(ivf_map, exact_map),
      "UMAP with ivf neighbours gave the map kept from the exact ones")
simple.Delete(umap)

# Bad input: NaN rows are refused with their count, k >= N works, no crash.
with_nan = pixels.astype(np.float32)
with_nan[:3, 5] = np.nan
nan_calc = producer(fetched, with_nan=with_nan)
bad = simple.EmbeddingOutlierScore(Input=nan_calc, Embedding=["POINTS", "with_nan"])
with CapturedMessages() as messages:
    bad.UpdatePipeline()
check("3 of 3000" in messages.text, "NaN rows not refused with their count: %r" % messages.text)
check(servermanager.Fetch(bad).GetPointData().GetArray("outlier_score_with_nan") is None, "NaN input gave scores")
# An array of the wrong length (one value per sample expected) is refused, naming both counts.
short = producer(fetched, short=np.zeros((N - 1, 4), np.float32))
for bad in (simple.EmbeddingOutlierScore(Input=short, Embedding=["POINTS", "short"]),
            simple.EmbeddingNearestNeighbor(Input=short, Embedding=["POINTS", "short"]),
            simple.EmbeddingProjection(Input=short, Embedding=["POINTS", "short"], Method="PCA")):
    with CapturedMessages() as messages:
        bad.UpdatePipeline()
    check("has %d values but the input has %d points" % (N - 1, N) in messages.text,
          "%s: wrong array length not refused: %r" % (bad.GetXMLName(), messages.text))
    check(servermanager.Fetch(bad).GetNumberOfPoints() == 0, "%s: output after a refused array" % bad.GetXMLName())
small = simple.ImageDatasetReader(FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=5)
few = servermanager.Fetch(simple.EmbeddingOutlierScore(Input=small, Embedding=["POINTS", "image"], K=10))
check(len(point_array(few, "outlier_score_image")) == 5, "K >= N did not fall back to N - 1")
print("Neighbour filters match scikit-learn and cleanlab's formulas.")
