"""Python reference of the Data Issues filter: cleanlab's Datalab issue managers and FiftyOne brain's scores.

Used by make_issues_reference.py (test data) and Testing/Benchmarks/BenchmarkDataIssues.py.
Runs with Debian's /usr/bin/python3 (NumPy 1.24, scikit-learn 1.2, SciPy 1.10, pandas 1.5,
termcolor) and cleanlab run from its source: put a cleanlab source tree on the path, e.g.

    git --git-dir=<cleanlab mirror> archive HEAD cleanlab | tar -x -C /tmp/cleanlab-src
    CLEANLAB_SOURCE=/tmp/cleanlab-src /usr/bin/python3 ...

Made with cleanlab 2.9.0 (github.com/cleanlab/cleanlab, commit 750625747de1) and
fiftyone-brain commit 7238036bcb5f.

cleanlab: the real issue managers run (cleanlab/datalab/internal/issue_manager/{label,
duplicate, noniid, imbalance}.py), each on its own. Datalab itself cannot be built here: it
needs Hugging Face `datasets`, which Debian does not package. `IssueManagerHost` gives the
managers what they read from a Datalab (labels, class names, the statistics store; the store
starts empty, so each manager builds its own kNN graph, as Datalab does for the first manager
that needs one).

FiftyOne brain cannot be installed here; its three formulas are re-implemented below from
fiftyone/brain/internal/core/{uniqueness, mistakenness, hardness}.py and the sklearn
similarity backend they use (fiftyone/brain/internal/core/sklearn.py), line by line.
"""
import os
import sys

import numpy as np

if os.environ.get("CLEANLAB_SOURCE"):
    sys.path.insert(0, os.environ["CLEANLAB_SOURCE"])

import sklearn.metrics as skm  # noqa: E402
import sklearn.neighbors as skn  # noqa: E402
import sklearn.preprocessing as skp  # noqa: E402
from scipy.special import softmax  # noqa: E402
from scipy.stats import entropy  # noqa: E402

from cleanlab.datalab.internal.issue_manager.duplicate import NearDuplicateIssueManager  # noqa: E402
from cleanlab.datalab.internal.issue_manager.imbalance import ClassImbalanceIssueManager  # noqa: E402
from cleanlab.datalab.internal.issue_manager.label import LabelIssueManager  # noqa: E402
from cleanlab.datalab.internal.issue_manager.noniid import NonIIDIssueManager  # noqa: E402


class IssueManagerHost:
    """What an issue manager reads from its Datalab."""

    def __init__(self, labels, num_classes):
        self.labels = np.asarray(labels, dtype=np.int64)
        self._label_map = {i: str(i) for i in range(num_classes)}
        self.class_names = list(self._label_map.values())
        self._statistics = {}

    def get_info(self, name):
        assert name == "statistics"
        return self._statistics


def label_issues(labels, num_classes, pred_probs=None, features=None):
    """Datalab's label issue check: from pred_probs, or (features only) from its kNN classifier."""
    manager = LabelIssueManager(IssueManagerHost(labels, num_classes))
    manager.find_issues(pred_probs=pred_probs, features=features)
    return {
        "is_issue": manager.issues["is_label_issue"].to_numpy(bool),
        "score": manager.issues["label_score"].to_numpy(np.float64),
    }


def near_duplicates(labels, num_classes, features, host=None):
    host = host or IssueManagerHost(labels, num_classes)
    manager = NearDuplicateIssueManager(host)
    manager.find_issues(features=features)
    # Datalab keeps the kNN graph for the managers after this one (DataIssues.collect_statistics).
    host._statistics.update(manager.info.get("statistics", {}))
    n = len(features)
    # The set id of the filter: connected components of Datalab's (reciprocal) near-duplicate
    # sets, named by their smallest sample index; -1 outside any set.
    parent = np.arange(n)

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, members in enumerate(manager.near_duplicate_sets):
        for j in members:
            a, b = find(i), find(int(j))
            if a != b:
                parent[max(a, b)] = min(a, b)
    set_id = np.full(n, -1, dtype=np.int64)
    in_set = np.array([len(s) > 0 for s in manager.near_duplicate_sets])
    roots = np.array([find(i) for i in range(n)])
    set_id[in_set] = roots[in_set]
    return {
        "is_issue": manager.issues["is_near_duplicate_issue"].to_numpy(bool),
        "score": manager.issues["near_duplicate_score"].to_numpy(np.float64),
        "set_id": set_id,
        "median_nn_distance": float(manager.info["median_distance_to_nearest_neighbor"]),
        "sets": manager.near_duplicate_sets,
    }


def non_iid(labels, num_classes, features, host=None):
    manager = NonIIDIssueManager(host or IssueManagerHost(labels, num_classes))
    manager.find_issues(features=features)
    flags = manager.issues["is_non_iid_issue"].to_numpy(bool)
    return {
        "p_value": float(manager.p_value),
        "statistic": float(manager.statistics["ks"]),
        "score": manager.issues["non_iid_score"].to_numpy(np.float64),
        "flagged": int(np.flatnonzero(flags)[0]) if flags.any() else -1,
    }


def class_imbalance(labels, num_classes):
    manager = ClassImbalanceIssueManager(IssueManagerHost(labels, num_classes))
    manager.find_issues()
    scores = manager.issues["class_imbalance_score"].to_numpy(np.float64)
    rarest = int(np.argmin(np.bincount(labels) / len(labels)))
    return {
        "rarest_class": rarest,
        "rarest_fraction": float(np.bincount(labels)[rarest] / len(labels)),
        "is_issue": bool(manager.issues["is_class_imbalance_issue"].any()),
        "score": scores,
    }


# --- FiftyOne brain (re-implemented from its source) ---------------------------------------

_MAX_PRECOMPUTE_DISTS = 15000  # fiftyone/brain/internal/core/sklearn.py


def uniqueness(embeddings):
    """compute_uniqueness(samples, embeddings=...) with the default sklearn similarity backend
    (metric "cosine"): uniqueness.py _compute_uniqueness, sklearn.py NeighborsHelper."""
    embeddings = np.array(embeddings, dtype=np.float64)
    K = 3
    n = len(embeddings)
    if n <= K:
        return np.ones(n)
    # NeighborsHelper._build_dists / _build_neighbors both centre the embeddings.
    embeddings -= embeddings.mean(axis=0, keepdims=True)
    if n <= _MAX_PRECOMPUTE_DISTS:
        # Full cosine distance matrix, NaN diagonal, the k + 1 = 4 smallest per row (_nanargmin).
        full = skm.pairwise_distances(embeddings, metric="cosine")
        np.fill_diagonal(full, np.nan)
        inds = np.argsort(full, axis=1)[:, : K + 1]
        dists = np.take_along_axis(full, inds, axis=1)
    else:
        # Above 15 000 samples: sklearn NearestNeighbors, cosine approximated by the euclidean
        # distance of the unit-normalised embeddings (sqrt(2 * cosine distance)); kneighbors()
        # without a query leaves each sample out.
        normalised = skp.normalize(embeddings, axis=1)
        neighbors = skn.NearestNeighbors(metric="euclidean").fit(normalised)
        dists, _ = neighbors.kneighbors(X=None, n_neighbors=K + 1, return_distance=True)
    # Both paths hold 4 *other* samples per row; [:, 1:] then drops the nearest of them.
    weights = [0.6, 0.3, 0.1]
    sample_dists = np.mean(dists[:, 1:] * weights, axis=1)
    sample_dists /= sample_dists.max()
    return sample_dists


def mistakenness(logits, labels):
    """ClassificationMistakenness with use_logits=True: m = 1 if the prediction (argmax) is the
    label, else 0; then mistakenness.py _compute_mistakenness_class."""
    out = np.empty(len(logits))
    predicted = np.argmax(logits, axis=1)
    for i, (row, label) in enumerate(zip(logits, labels)):
        m = float(predicted[i] == label)
        m = m * -2.0 + 1.0
        c = -1.0 * entropy(softmax(np.asarray(row, dtype=np.float64)))
        out[i] = (m * np.exp(c) + 1.0) / 2.0
    return out


def hardness(logits):
    """hardness.py: entropy(softmax(logits))."""
    return np.array([entropy(softmax(np.asarray(row, dtype=np.float64))) for row in logits])


def recovery(flags, flipped):
    """(recall, precision) of the flagged samples against the flipped labels."""
    found = np.intersect1d(np.flatnonzero(flags), flipped)
    return len(found) / len(flipped), len(found) / max(int(np.sum(flags)), 1)
