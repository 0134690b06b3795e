"""The DualEmbed batch report (pvbatch): the whole pipeline, then PNG maps, galleries and a CSV.

    from dualembed import report
    report.run("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
               "Data/models/fashion-vit-foundation", "Data/models/fashion-vit-ft", "report-out")

Stages: read the samples, embed them with both models (or read an earlier results file),
outlier scores, nearest neighbours, the embedding change and the data issues (cleanlab /
FiftyOne), a UMAP map per embedding, then the results file (HDF5), the pictures (maps, an outlier
gallery per embedding and a gallery per issue type), the CSV of top outliers and the table of
issue counts (data_issues.csv). Each stage prints one progress line.
"""
import csv
import os
import time

import numpy as np
from paraview import simple, servermanager
from vtkmodules.util.numpy_support import vtk_to_numpy

from . import layout

TAGS = ("foundation", "ft")


class Stages:
    """Prints one line per stage with its duration, and keeps the durations."""

    def __init__(self, log):
        self.log = log
        self.seconds = {}

    def run(self, name, function):
        start = time.perf_counter()
        result = function()
        self.seconds[name] = time.perf_counter() - start
        self.log("[DualEmbed] %-34s %7.1f s" % (name, self.seconds[name]))
        return result


class StageFailed(RuntimeError):
    pass


def _update(proxy, expected=None):
    """Updates `proxy`; raises StageFailed when it produced no samples (its error is above)."""
    proxy.UpdatePipeline()
    n = proxy.GetDataInformation().GetNumberOfPoints()
    if n == 0 or (expected is not None and n != expected):
        raise StageFailed("%s produced %d samples (see the error above)" % (proxy.GetXMLLabel(), n))
    return proxy


def _render_map(source, color_by, title, path, names, size=(900, 800)):
    view = simple.CreateView("RenderView")
    view.ViewSize = list(size)
    view.Background = [1, 1, 1]
    view.UseColorPaletteForBackground = 0
    layout.style_map(view, source, color_by, title, names)
    simple.SaveScreenshot(path, view, ImageResolution=list(size))
    simple.Delete(view)
    return path


def _render_gallery(gallery, path):
    view = simple.CreateView("RenderView")
    bounds = _update(gallery).GetDataInformation().GetBounds()
    view.ViewSize = [int(bounds[1] - bounds[0]) + 41, int(bounds[3] - bounds[2]) + 41]
    view.Background = [1, 1, 1]
    view.UseColorPaletteForBackground = 0
    display = simple.Show(gallery, view)
    display.MapScalars = 0
    layout.fit_image(view, gallery)
    simple.SaveScreenshot(path, view, ImageResolution=view.ViewSize)
    simple.Delete(view)
    return path


def _write_csv(samples, path, count):
    data = layout.fetch(samples)
    pd = data.GetPointData()

    def column(name):
        array = pd.GetAbstractArray(name)
        if array is None:
            return None
        if array.IsA("vtkStringArray"):
            return [array.GetValue(i) for i in range(array.GetNumberOfValues())]
        return vtk_to_numpy(array)

    score = column("outlier_score_foundation")
    order = np.argsort(score, kind="stable")[:count]
    sample_id = column("sample_id")
    names = ["sample_id", "label_str", "pred_label_str_ft", "outlier_score_foundation",
             "outlier_score_ft", "ood_pred_score_ft", "label_quality_ft", "nn_id_foundation",
             "nn_distance_foundation", "nn_id_ft", "nn_distance_ft", "embedding_change"]
    columns = {name: column(name) for name in names}
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        present = [name for name in names if columns[name] is not None]
        writer.writerow(["rank"] + [n.replace("nn_id", "nn_sample_id") for n in present])
        for rank, i in enumerate(order):
            row = [rank + 1]
            for name in present:
                value = columns[name][i]
                if name.startswith("nn_id"):
                    value = int(sample_id[value]) if value >= 0 else -1
                elif isinstance(value, (np.floating, float)):
                    value = "%.6g" % value
                elif isinstance(value, np.integer):
                    value = int(value)
                row.append(value)
            writer.writerow(row)
    return path


def _issue_table(samples, path, log):
    """Counts of each issue type per source (Data Issues' flags and dataset facts) as a CSV table."""
    data = layout.fetch(samples)
    pd, fd = data.GetPointData(), data.GetFieldData()

    def count(name):
        array = pd.GetArray(name)
        return None if array is None else int(np.count_nonzero(vtk_to_numpy(array)))

    def fact(name):
        array = fd.GetArray(name)
        if array is None:
            return None
        return {array.GetComponentName(c): array.GetComponent(0, c) for c in range(array.GetNumberOfComponents())}

    rows = []
    n = data.GetNumberOfPoints()
    for tag in TAGS:
        flagged = count("is_label_issue_" + tag)
        if flagged is not None:
            rows.append(("label issue", "probs_" + tag, flagged, "%.1f %% of %d samples" % (100.0 * flagged / n, n)))
    for tag in TAGS:
        flagged = count("is_knn_label_issue_" + tag)
        if flagged is not None:
            rows.append(("label issue (kNN)", "embedding_" + tag, flagged,
                         "%.1f %% of %d samples" % (100.0 * flagged / n, n)))
    for tag in TAGS:
        flagged, summary = count("is_near_duplicate_" + tag), fact("near_duplicate_" + tag)
        if flagged is not None:
            rows.append(("near duplicate", "embedding_" + tag, flagged,
                         "%d sets" % summary["sets"] if summary else ""))
    for tag in TAGS:
        summary = fact("non_iid_" + tag)
        if summary:
            rows.append(("non-IID", "embedding_" + tag, int(summary["is_issue"]), "p = %.4g" % summary["p_value"]))
    summary = fact("class_imbalance")
    if summary:
        rows.append(("class imbalance", "labels", int(summary["is_issue"]),
                     "rarest class %d: %.2f %% of the samples" % (summary["rarest_class"],
                                                                  100 * summary["rarest_fraction"])))
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["issue", "source", "count", "detail"])
        writer.writerows(rows)
    log("[DualEmbed] data issues:")
    for row in rows:
        log("    %-18s %-22s %6d  %s" % row)
    return path


# Issue galleries: (file name, rank array, neighbour suffix, expression when the issue is a
# high value; the gallery shows the lowest values of its rank array).
def _issue_galleries(arrays):
    made = []
    for tag in TAGS:
        if "label_score_" + tag in arrays:
            made.append(("gallery_label_issues_%s.png" % tag, "label_score_" + tag, tag, None))
    for tag in TAGS:
        for name, rank in (("knn_label_issues", "knn_label_score_"), ("near_duplicates", "near_duplicate_score_"),
                           ("least_unique", "uniqueness_")):
            if rank + tag in arrays:
                made.append(("gallery_%s_%s.png" % (name, tag), rank + tag, tag, None))
    for tag in TAGS:
        for name, score in (("most_mistaken", "mistakenness_"), ("hardest", "hardness_")):
            if score + tag in arrays:
                made.append(("gallery_%s_%s.png" % (name, tag), score + tag + "_rank", tag, "-" + score + tag))
    return made


def _open_script(path, results, plugin):
    with open(path, "w") as f:
        f.write('''"""Opens this DualEmbed report's results in the comparison layout.

    paraview --script=%(script)s
"""
from paraview import simple

simple.LoadPlugin(%(plugin)r, remote=False)
import dualembed.layout

samples = simple.DualEmbedSamplesReader(FileName=%(results)r)
maps = [simple.EmbeddingProjection(Input=samples, Embedding=["POINTS", "embedding_" + tag])
        for tag in ("foundation", "ft")]  # the stored UMAP coordinates are reused
dualembed.layout.compare(*maps)
''' % {"script": path, "plugin": plugin, "results": results})
    return path


def run(dataset, foundation_model, ft_model, output_dir, max_samples=0, results=None,
        batch_size=24, outliers=8, csv_rows=100, plugin=None, log=print, precision="float32"):
    """Runs the pipeline and writes the report; returns {"files": [...], "seconds": {...},
    "precision": ...}.

    dataset: anything the Image Dataset Reader opens. foundation_model, ft_model: Hugging Face
    folders or TorchScript files. results: an earlier results file (HDF5) to start from instead
    of the dataset and the models (its embeddings are reused).
    precision: the embeddings' compute precision, "float32" (default: equal to transformers
    within 1e-5) or "bfloat16" (CUDA, or a CPU with AVX512-BF16 / AMX; refused elsewhere). bf16
    gains on large models: on a 2-core Sapphire Rapids (AMX), batch 24, default environment,
    ViT-B/16 22 vs 6.6 images/s and Swin-B 16 vs 6.2 (README "Precision"). On ViT-B/16 and
    Swin-B, bf16 vs fp32 embeddings have cosine >= 0.9995 per sample; on the demo models and the
    10 000 Fashion-MNIST test images the 100 lowest outlier scores overlap 99 % and 99.93 % of the
    predicted labels agree, at the same speed as fp32 (their products are too small to gain).
    """
    os.makedirs(output_dir, exist_ok=True)
    output_dir = os.path.abspath(output_dir)
    plugin = plugin or os.environ.get("DUALEMBED_PLUGIN", "")
    stages = Stages(log)
    files = []

    if results:
        samples = stages.run("read results", lambda: _update(simple.DualEmbedSamplesReader(FileName=results)))
    else:
        samples = stages.run("read samples", lambda: _update(
            simple.ImageDatasetReader(FileName=dataset, MaxSamples=max_samples)))
        ranks = servermanager.vtkProcessModule.GetProcessModule().GetNumberOfLocalPartitions()
        log("[DualEmbed] %d samples from %s%s" % (samples.GetDataInformation().GetNumberOfPoints(), dataset,
                                                 " on %d MPI ranks" % ranks if ranks > 1 else ""))
        log("[DualEmbed] embedding precision: %s" % precision)
        for tag, model in zip(TAGS, (foundation_model, ft_model)):
            samples = stages.run("embedding (%s)" % tag, lambda: _update(simple.ImageEmbedding(
                Input=samples, ModelPath=model, Tag=tag, BatchSize=batch_size, Precision=precision)))

    arrays = samples.PointData.keys()
    n = samples.GetDataInformation().GetNumberOfPoints()
    for tag in TAGS:
        embedding = ["POINTS", "embedding_" + tag]
        samples = stages.run("outlier score (%s)" % tag, lambda: _update(
            simple.EmbeddingOutlierScore(Input=samples, Embedding=embedding), n))
        samples = stages.run("nearest neighbour (%s)" % tag, lambda: _update(
            simple.EmbeddingNearestNeighbor(Input=samples, Embedding=embedding), n))
    if "probs_ft" in arrays:
        try:
            samples = stages.run("prediction outlier score (ft)", lambda: _update(simple.PredictionOutlierScore(
                Input=samples, Probabilities=["POINTS", "probs_ft"], Labels=["POINTS", "label"]), n))
        except StageFailed as failure:  # e.g. a classifier trained on other classes: go on without it
            log("[DualEmbed] skipped the prediction outlier score: %s" % failure)
    samples = stages.run("embedding change", lambda: _update(simple.EmbeddingChange(
        Input=samples, EmbeddingA=["POINTS", "embedding_foundation"], EmbeddingB=["POINTS", "embedding_ft"]), n))
    try:
        probabilities = ["POINTS", "probs_ft"] if "probs_ft" in arrays else ["POINTS", "None"]
        samples = stages.run("data issues", lambda: _update(simple.DataIssues(
            Input=samples, EmbeddingA=["POINTS", "embedding_foundation"], EmbeddingB=["POINTS", "embedding_ft"],
            Probabilities=probabilities, Labels=["POINTS", "label"]), n))
    except StageFailed as failure:
        log("[DualEmbed] skipped the data issues: %s" % failure)
    # The ft map follows the foundation map, so it carries both maps' coordinates.
    maps = {}
    for tag in TAGS:
        source = maps.get("foundation", samples)
        maps[tag] = stages.run("UMAP (%s)" % tag, lambda: _update(simple.EmbeddingProjection(
            Input=source, Embedding=["POINTS", "embedding_" + tag]), n))
    combined = maps["ft"]

    def write_results():
        path = os.path.join(output_dir, "results.h5")
        simple.SaveData(path, proxy=combined)
        return path
    results_path = stages.run("results file", write_results)
    files.append(results_path)

    def pictures():
        names = layout.class_names(samples)
        made = []
        for tag, when in zip(TAGS, ("before", "after")):
            made.append(_render_map(maps[tag], "label", "%s fine-tuning (%s): classes" % (when, tag),
                                    os.path.join(output_dir, "map_%s_label.png" % tag), names))
            made.append(_render_map(maps[tag], "outlier_score_" + tag,
                                    "%s fine-tuning (%s): outlier score" % (when, tag),
                                    os.path.join(output_dir, "map_%s_outlier_score.png" % tag), names))
            gallery = simple.SampleGallery(Input=maps[tag], RankArray="outlier_score_" + tag,
                                           NeighborSuffix=tag, Count=outliers)
            made.append(_render_gallery(gallery, os.path.join(output_dir, "gallery_%s_outliers.png" % tag)))
        made.append(_render_map(maps["ft"], "embedding_change", "embedding change (on the fine-tuned map)",
                                os.path.join(output_dir, "map_embedding_change.png"), names))
        for name, rank, tag, expression in _issue_galleries(combined.PointData.keys()):
            source = combined
            if expression:  # the gallery shows the lowest values: rank by the negated score
                source = simple.Calculator(Input=combined, AttributeType="Point Data", ResultArrayName=rank,
                                           Function=expression)
            gallery = simple.SampleGallery(Input=source, RankArray=rank, NeighborSuffix=tag, Count=outliers)
            made.append(_render_gallery(gallery, os.path.join(output_dir, name)))
        return made
    files += stages.run("pictures", pictures)
    files.append(stages.run("CSV of top outliers", lambda: _write_csv(
        combined, os.path.join(output_dir, "top_outliers.csv"), csv_rows)))
    if "data issues" in stages.seconds:
        files.append(stages.run("table of data issues", lambda: _issue_table(
            combined, os.path.join(output_dir, "data_issues.csv"), log)))
    files.append(_open_script(os.path.join(output_dir, "open_in_paraview.py"), results_path, plugin))

    log("[DualEmbed] report written to %s:" % output_dir)
    for path in files:
        log("    " + os.path.basename(path))
    log("[DualEmbed] explore it in the GUI:  paraview --script=%s" % files[-1])
    return {"files": files, "seconds": stages.seconds, "precision": None if results else precision}


# --- A fine-tuning run: its checkpoints as time steps ---------------------------------------------

DYNAMICS = ("confidence", "variability", "correctness", "forgetting_events", "aum")


def _arrays(source, names):
    data = layout.fetch(source)
    out = {}
    for name in names:
        array = data.GetPointData().GetAbstractArray(name)
        if array is not None:
            out[name] = ([array.GetValue(i) for i in range(array.GetNumberOfValues())]
                         if array.IsA("vtkStringArray") else vtk_to_numpy(array))
    return out


def _ranks(values):
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    return ranks


def _agreement(values, lowest=100):
    """How the dynamics' flags agree with the scores of the final checkpoint: Spearman's rank
    correlation and the overlap of the `lowest` samples of each pair."""
    pairs = [("aum_ft", "label_quality_ft"), ("confidence_ft", "label_quality_ft"),
             ("aum_ft", "outlier_score_ft"), ("confidence_ft", "outlier_score_ft"),
             ("aum_ft", "outlier_score_foundation")]
    result = {}
    for a, b in pairs:
        if a not in values or b not in values:
            continue
        rho = float(np.corrcoef(_ranks(values[a]), _ranks(values[b]))[0, 1])
        low_a = set(np.argsort(values[a], kind="stable")[:lowest])
        low_b = set(np.argsort(values[b], kind="stable")[:lowest])
        result["%s vs %s" % (a, b)] = {"spearman": rho, "lowest_%d_overlap" % lowest: len(low_a & low_b) / lowest}
    return result


def _render_data_map(dynamics, path, title, size=(640, 800)):
    """Dataset Cartography's data map: variability (x) against confidence (y), coloured by
    correctness; the points keep their ids, so in the GUI selections link to the maps."""
    data_map = layout.data_map(dynamics)
    view = simple.CreateView("RenderView")
    view.ViewSize = list(size)
    view.Background = [1, 1, 1]
    view.UseColorPaletteForBackground = 0
    layout.style_data_map(view, data_map, title)
    simple.SaveScreenshot(path, view, ImageResolution=list(size))
    simple.Delete(view)
    return path


def _gallery_of(source, ids, rank_array, path, count):
    """A gallery of the first `count` samples of `ids` (shown with their `rank_array` value), beside
    their nearest neighbours."""
    selection = simple.IDSelectionSource(IDs=[v for i in ids[:count] for v in (0, int(i))], FieldType="POINT")
    gallery = simple.SampleGallery(Input=source, Selection=selection, RankArray=rank_array,
                                   NeighborSuffix="ft", Count=count)
    return _render_gallery(gallery, path)


def training_run(dataset, run_dir, output_dir, initial_model=None, max_samples=0, batch_size=24,
                 gallery_count=8, frame_size=(900, 800), cache_dir=None, log=print):
    """The report of a fine-tuning run: its checkpoints (a Hugging Face Trainer output folder of
    checkpoint-<step> folders) as time steps; returns {"files", "seconds", "flagged", "agreement"}.

    Writes to output_dir: the aligned UMAP maps of the fine-tuned embedding at every checkpoint
    (aligned_umap.NNNN.png, ParaView's animation export) and as a movie (aligned_umap.ogv), the
    data map (data_map.png: confidence against variability, coloured by correctness), galleries
    of the samples the dynamics flag (lowest AUM, most forgetting events, lowest confidence), and
    training_dynamics.csv (every sample's dynamics and final scores). initial_model (e.g. the
    foundation) becomes time step 0. cache_dir keeps each checkpoint's embeddings for later runs.
    """
    os.makedirs(output_dir, exist_ok=True)
    output_dir = os.path.abspath(output_dir)
    stages = Stages(log)
    files = []
    samples = stages.run("read samples", lambda: _update(
        simple.ImageDatasetReader(FileName=dataset, MaxSamples=max_samples)))
    n = samples.GetDataInformation().GetNumberOfPoints()
    series = simple.CheckpointEmbedding(Input=samples, RunPath=run_dir, InitialModelPath=initial_model or "",
                                        Tag="ft", BatchSize=batch_size, CacheDirectory=cache_dir or "")
    series.UpdatePipelineInformation()
    times = list(series.TimestepValues or [])
    if not times:
        _update(series)  # reports why the run has no checkpoints
        raise StageFailed("%s has no checkpoints" % run_dir)
    log("[DualEmbed] %d checkpoints of %s: training steps %s" % (len(times), run_dir,
                                                              ", ".join("%g" % t for t in times)))

    def embed_all():
        for time_value in times:
            series.UpdatePipeline(time_value)
            if series.GetDataInformation().GetNumberOfPoints() != n:
                raise StageFailed("Checkpoint Embedding failed at step %g (see the error above)" % time_value)
    stages.run("checkpoint embeddings (%d)" % len(times), embed_all)
    last = times[-1]
    # Everything below is shown at the final checkpoint (Fetch and the views use the scene's time).
    scene = simple.GetAnimationScene()
    scene.UpdateAnimationUsingDataTimeSteps()
    scene.AnimationTime = last
    dynamics = simple.TrainingDynamics(Input=series, Probabilities=["POINTS", "probs_ft"],
                                       Labels=["POINTS", "label"], Embedding=["POINTS", "embedding_ft"])
    stages.run("training dynamics", lambda: dynamics.UpdatePipeline(last))
    # The maps of every step (an initial model without a head has no probabilities: the scores
    # come after, at the final checkpoint only).
    aligned = simple.EmbeddingProjection(Input=dynamics, Embedding=["POINTS", "embedding_ft"], AlignTimeSteps=1)
    stages.run("aligned UMAP (%d steps)" % len(times), lambda: aligned.UpdatePipeline(last))
    if aligned.GetDataInformation().GetNumberOfPoints() != n:
        raise StageFailed("the aligned UMAP failed (see the error above)")
    # The final checkpoint's scores, to compare the dynamics with; its nearest neighbours for the galleries.
    scores = simple.PredictionOutlierScore(Input=aligned, Probabilities=["POINTS", "probs_ft"],
                                           Labels=["POINTS", "label"])
    scores = simple.EmbeddingOutlierScore(Input=scores, Embedding=["POINTS", "embedding_ft"])
    scores = simple.EmbeddingNearestNeighbor(Input=scores, Embedding=["POINTS", "embedding_ft"])
    stages.run("final scores", lambda: scores.UpdatePipeline(last))
    if scores.GetDataInformation().GetNumberOfPoints() != n:
        raise StageFailed("the scores of the final checkpoint failed (see the error above)")

    def animation():
        view = simple.CreateView("RenderView")
        view.ViewSize = list(frame_size)
        view.Background = [1, 1, 1]
        view.UseColorPaletteForBackground = 0
        layout.style_map(view, aligned, "label", "fine-tuning: aligned UMAP of each checkpoint",
                         layout.class_names(samples))
        # Every frame in the same place: the camera frames all steps' maps, the legend on the right.
        union = [float("inf"), -float("inf")] * 3
        for time_value in times:
            aligned.UpdatePipeline(time_value)
            bounds = aligned.GetDataInformation().GetBounds()
            union = [min(union[i], bounds[i]) if i % 2 == 0 else max(union[i], bounds[i]) for i in range(6)]
        width, height = union[1] - union[0], union[3] - union[2]
        aspect = frame_size[0] / frame_size[1]
        center = [(union[0] + union[1]) / 2 + 0.12 * width, (union[2] + union[3]) / 2]
        view.CameraFocalPoint = center + [0.0]
        view.CameraPosition = center + [10.0 * max(width, height)]
        view.CameraViewUp = [0, 1, 0]
        view.CameraParallelScale = 0.5 * 1.2 * max(height, 1.3 * width / aspect)
        log("[DualEmbed] aligned maps span [%.3g, %.3g] x [%.3g, %.3g]" % tuple(union[:4]))
        steps_text = simple.PythonAnnotation(Input=dynamics, ArrayAssociation="Field Data",
                                             Expression="'training step %d (epoch %g)' % "
                                                        "(checkpoint_step[0], checkpoint_epoch[0])")
        annotation = simple.Show(steps_text, view)
        annotation.WindowLocation = "Lower Left Corner"
        annotation.FontSize = 14
        annotation.Color = [0.1, 0.1, 0.1]
        frames = os.path.join(output_dir, "aligned_umap.png")
        simple.SaveAnimation(frames, view, ImageResolution=list(frame_size), FrameWindow=[0, len(times) - 1])
        movie = os.path.join(output_dir, "aligned_umap.ogv")
        simple.SaveAnimation(movie, view, ImageResolution=list(frame_size), FrameRate=2,
                             FrameWindow=[0, len(times) - 1])
        simple.Delete(view)
        scene.AnimationTime = last  # the animation export leaves the scene at its end
        made = sorted(os.path.join(output_dir, f) for f in os.listdir(output_dir)
                      if f.startswith("aligned_umap.") and f.endswith(".png"))
        return made + [movie]
    files += stages.run("animation of the aligned maps", animation)

    values = _arrays(scores, ["sample_id", "label", "label_str", "pred_label_str_ft", "label_quality_ft",
                               "outlier_score_ft", "mean_embedding_drift_ft"] +
                     ["%s_ft" % name for name in DYNAMICS])
    files.append(stages.run("data map", lambda: _render_data_map(
        dynamics, os.path.join(output_dir, "data_map.png"),
        "data map: %d samples over %d checkpoints" % (n, len(times)))))

    flagged = {
        "lowest_aum": np.argsort(values["aum_ft"], kind="stable"),
        # Learned, then forgotten (never-learned samples count T events but are the lowest AUM's).
        "most_forgotten": np.lexsort((values["aum_ft"], -np.where(values["correctness_ft"] > 0,
                                                                  values["forgetting_events_ft"], -1))),
        "lowest_confidence": np.argsort(values["confidence_ft"], kind="stable"),
    }
    ranking = {"lowest_aum": "aum_ft", "most_forgotten": "forgetting_events_ft", "lowest_confidence": "confidence_ft"}

    def galleries():
        return [_gallery_of(scores, ids, ranking[name], os.path.join(output_dir, "gallery_%s.png" % name),
                            gallery_count) for name, ids in flagged.items()]
    files += stages.run("galleries of flagged samples", galleries)

    def write_csv():
        path = os.path.join(output_dir, "training_dynamics.csv")
        names = [name for name in ["sample_id", "label_str", "pred_label_str_ft"] + ["%s_ft" % d for d in DYNAMICS]
                 + ["mean_embedding_drift_ft", "label_quality_ft", "outlier_score_ft"] if name in values]
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(names)
            for i in flagged["lowest_aum"]:
                writer.writerow([values[name][i] if isinstance(values[name], list) else
                                 ("%.6g" % values[name][i] if values[name].dtype.kind == "f" else int(values[name][i]))
                                 for name in names])
        return path
    files.append(stages.run("CSV of training dynamics", write_csv))

    agreement = _agreement(values)
    summary = {
        "samples": n, "time_steps": len(times),
        "never_learned": int((values["correctness_ft"] == 0).sum()),
        "forgotten_at_least_once": int((values["forgetting_events_ft"] > 0).sum()),
        "negative_aum": int((values["aum_ft"] < 0).sum()),
        "low_confidence_below_0.2": int((values["confidence_ft"] < 0.2).sum()),
    }
    log("[DualEmbed] dynamics: %s" % ", ".join("%s %s" % (k, v) for k, v in summary.items()))
    for pair, figures in agreement.items():
        log("[DualEmbed] agreement %s: %s" % (pair, ", ".join("%s %.3f" % kv for kv in figures.items())))
    log("[DualEmbed] training-run report written to %s" % output_dir)
    return {"files": files, "seconds": stages.seconds, "summary": summary, "agreement": agreement,
            "flagged": {name: [int(values["sample_id"][i]) for i in ids[:gallery_count]]
                        for name, ids in flagged.items()}}
