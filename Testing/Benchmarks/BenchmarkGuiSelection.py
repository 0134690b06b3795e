"""The selection round trip in the real paraview GUI: from the release of the mouse after a
rectangle selection in the foundation map to the Sample Inspector showing the selection (the
two maps, the spreadsheet and the histogram are updated on the way), for 10 000 and 70 000
Fashion-MNIST images with both demo models.

    DUALEMBED_PLUGIN=build/lib/paraview-5.11/plugins/DualEmbed/DualEmbed.so \\
      xvfb-run -a -s "-screen 0 1920x1080x24" /usr/bin/python3 Testing/Benchmarks/BenchmarkGuiSelection.py [N ...] [--work DIR]

--work DIR keeps the results files there and reuses them on the next run. --results FILE
measures a results file made elsewhere that holds both embeddings' maps (e.g. the 10^6 samples
of BenchmarkFashionMillion.py), with Compare Embeddings only.

Two layouts of the same data in the same run: "before", the maps with every array in the views
(as up to this change: the spreadsheets split the 784 pixel and the embedding components into
columns on every selection), and "after", Compare Embeddings from the toolbar (the views show
the per-sample arrays). Three rectangles each, small to large; with Compare Embeddings also a
click on the inspector's first tile and a drag over the histogram's bars. Prints one line per
selection: the round trip (mouse release to the inspector's tiles) and when both maps had
finished drawing it; and how long Compare Embeddings took to show the layout.
"""
import os
import sys
import tempfile
import time

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "Python"))
import gui_driver  # noqa: E402

plugin = os.path.abspath(os.environ.get("DUALEMBED_PLUGIN", "build/lib/paraview-5.11/plugins/DualEmbed/DualEmbed.so"))
models = os.path.join(here, "..", "..", "Data", "models")
arguments = sys.argv[1:]
work = given = None
if "--results" in arguments:
    given = os.path.abspath(arguments.pop(arguments.index("--results") + 1))
    arguments.remove("--results")
if "--work" in arguments:
    work = os.path.abspath(arguments.pop(arguments.index("--work") + 1))
    arguments.remove("--work")
    os.makedirs(work, exist_ok=True)
work = work or tempfile.mkdtemp(prefix="dualembed-bench-gui-")
sizes = [int(a) for a in arguments] or [10000, 70000]
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def fashion_mnist_70k(path):
    """All 70 000 Fashion-MNIST images (training and test set) as one HDF5 image dataset."""
    import gzip
    import h5py
    root = "/usr/share/datasets/fashion-mnist"

    def idx(name, offset):
        with gzip.open(os.path.join(root, name)) as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)
    images = np.concatenate([idx("train-images-idx3-ubyte.gz", 16), idx("t10k-images-idx3-ubyte.gz", 16)])
    labels = np.concatenate([idx("train-labels-idx1-ubyte.gz", 8), idx("t10k-labels-idx1-ubyte.gz", 8)])
    with h5py.File(path, "w") as f:
        f["images"] = images.reshape(-1, 28, 28)
        f["labels"] = labels.astype(np.int64)
    return path


def results_file(n):
    path = os.path.join(work, "results-%d.h5" % n)
    if os.path.exists(path + ".maps.h5"):
        return path + ".maps.h5"
    dataset = None if n <= 10000 else fashion_mnist_70k(os.path.join(work, "fmnist-70k.h5"))
    start = time.time()
    gui_driver.make_results(path, n, "pvpython", plugin, models, dataset)
    # The maps too, so that both layouts reuse them (UMAP is not what is measured here).
    script = """
from paraview import simple
simple.LoadPlugin(%r, remote=False)
s = simple.DualEmbedSamplesReader(FileName=%r)
m = simple.EmbeddingProjection(Input=s, Embedding=["POINTS", "embedding_foundation"])
m = simple.EmbeddingProjection(Input=m, Embedding=["POINTS", "embedding_ft"])
simple.SaveData(%r, proxy=m)
""" % (plugin, path, path + ".maps.h5")
    gui_driver.subprocess.run(["pvpython", "-c", script], check=True)
    print("[%d samples] results file with both embeddings and maps in %.0f s" % (n, time.time() - start))
    return path + ".maps.h5"


def settled(gui, since, quiet=5, timeout=300):
    """Seconds from `since` until both maps show their final picture: screenshots every half
    second until the maps have not changed for `quiet` seconds; the time of the first screenshot
    of that picture. (The inspector updates first; at 10^6 samples the views finish drawing the
    selection seconds later, and a view keeps its last frame while it draws the next.)"""
    x0, y0 = gui_driver.FOUNDATION_MAP[:2]
    x1, y1 = gui_driver.FT_MAP[2:]
    last, changed = None, since
    while time.time() < since + timeout:
        taken = time.time()
        maps = gui.screenshot("settling")[y0:y1, x0:x1]
        if last is None or not np.array_equal(maps, last):
            last, changed = maps, taken
        elif taken - changed >= quiet:
            return changed - since
        time.sleep(0.5)
    return float("nan")


def measure(n, path, variant):
    log = os.path.join(work, "inspector-%s-%d.log" % (variant, n))
    if variant == "before":
        script = os.path.join(work, "before.py")
        with open(script, "w") as f:
            f.write("from paraview import simple\nimport paraview.servermanager\nimport dualembed.layout\n"
                    "s = simple.DualEmbedSamplesReader(FileName=%r)\n"
                    "dualembed.layout.compare_source(s, per_sample_views=False)\n" % path)
        arguments = ["--script=" + script]
    else:
        arguments = ["--data=" + path]
    gui = gui_driver.Gui("paraview", plugin, log, arguments, work, "bench-%s-%d" % (variant, n))
    try:
        mark = gui.mark()
        if variant == "after":
            gui.wait_for("header", timeout=600)
            gui.click(49, 537)  # Apply
            time.sleep(3)
            pressed = time.time()
            gui.key("ctrl+shift+e")
        update = gui.wait_update(mark, timeout=1200, quiet=3)
        if variant == "after":
            print("[%d samples] Compare Embeddings: layout and inspector shown %.1f s after the shortcut"
                  % (n, update["first"] - pressed))
        screen = gui.screenshot("layout-%d" % n)

        def report(what, released, update):
            print("[%d samples] %-6s %-22s %-52s round trip %6.2f s, maps drawn %6.1f s" % (
                n, variant, what, update["header"].split(": ", 1)[-1], update["first"] - released,
                settled(gui, released)))
            sys.stdout.flush()
        for low, high in ((48, 52), (40, 60), (25, 75)):
            box = gui_driver.points_box(screen, gui_driver.FOUNDATION_MAP, low, high)
            mark = gui.mark()
            released = gui.select_rectangle(box)
            report("rectangle", released, gui.wait_update(mark, timeout=600, quiet=3))
            gui.screenshot("rectangle-%d-%d" % (high - low, n))
        if variant == "after":
            mark = gui.mark()
            released = time.time()
            gui.click(*gui.first_tile())
            report("inspector tile click", released, gui.wait_update(mark, timeout=600, quiet=3))
            x0, y0, x1, y1 = gui_driver.HISTOGRAM
            mark = gui.mark()
            released = gui.drag((x0 + 0.15 * (x1 - x0), y0 + 0.12 * (y1 - y0), x0 + 0.25 * (x1 - x0),
                                 y0 + 0.85 * (y1 - y0)))
            report("histogram drag", released, gui.wait_update(mark, timeout=600, quiet=3))
            gui.screenshot("histogram-%d" % n)
    finally:
        gui.close()


print("load average before: %.2f %.2f %.2f" % os.getloadavg())
if given:
    import h5py
    with h5py.File(given, "r") as f:
        measure(int(f.attrs["number_of_samples"]), given, "after")
for n in [] if given else sizes:
    path = results_file(n)
    for variant in ("before", "after"):
        measure(n, path, variant)
print("load average after: %.2f %.2f %.2f" % os.getloadavg())
