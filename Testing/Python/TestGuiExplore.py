"""Explores a results file in the real paraview GUI as a user does, with X mouse and keyboard
events (xdotool) and screenshots (imagemagick's import):

  open results.h5 (paraview --data), Apply, Compare Embeddings (its shortcut Ctrl+Shift+E),
  drag a Select Points rectangle in the foundation map, check that the other map and the Sample
  Inspector follow, click the inspector's first tile, check that exactly that sample is selected.

Run by CTest with plain Python 3 on the X display of Scripts/setup.sh (1920x1080). Needs
DUALEMBED_PLUGIN, DUALEMBED_PVPYTHON, DUALEMBED_PARAVIEW, DUALEMBED_TEST_OUTPUT_DIR. The Sample
Inspector writes one line per change to DUALEMBED_INSPECTOR_LOG: what it shows, read here.
Screenshots: TestGuiExplore-*.png in the output directory.
"""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

out_dir = os.environ.get("DUALEMBED_TEST_OUTPUT_DIR") or tempfile.mkdtemp()
os.makedirs(out_dir, exist_ok=True)
work = tempfile.mkdtemp(prefix="dualembed-gui-")
log_path = os.path.join(work, "inspector.log")
results = os.path.join(work, "results.h5")
WIDTH, HEIGHT = 1920, 1080


def fail(message):
    print("FAILED: " + message)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def xdotool(*args):
    subprocess.run(["xdotool"] + [str(a) for a in args], check=True)


def screenshot(name):
    path = os.path.join(out_dir, "TestGuiExplore-%s.png" % name)
    subprocess.run(["import", "-window", "root", path], check=True)
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def log_lines():
    if not os.path.exists(log_path):
        return []
    with open(log_path) as f:
        return [line.rstrip("\n").split(" ", 2)[1:] for line in f if " " in line]


def wait_update(after, timeout=120, quiet=1.5):
    """Waits for the inspector to update after log line `after` and then to stay unchanged for
    `quiet` seconds (a linked selection updates it more than once). Returns the last update:
    (tiles, header, time of its first line, line count)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        lines = log_lines()
        updates = [i for i in range(after + 1, len(lines))
                   if lines[i][0] == "header" and lines[i - 1][0] == "tiles"]
        if updates and time.time() - os.path.getmtime(log_path) > quiet:
            i = updates[-1]
            first = [j for j in range(after, len(lines)) if lines[j][0] == "tiles"][0]
            return lines[i - 1][1], lines[i][1], stamps()[first], len(lines)
        time.sleep(0.05)
    fail("the Sample Inspector did not update within %d s (log: %s)" % (timeout, log_lines()[-5:]))


def stamps():
    with open(log_path) as f:
        return [int(line.split(" ", 1)[0]) / 1000.0 for line in f if " " in line]


def wait_for(kind, after, timeout=120):
    """Waits for the inspector's next `kind` line (tiles, header, tile0) after line `after`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        lines = log_lines()
        for entry in lines[after:]:
            if entry[0] == kind:
                return entry[1] if len(entry) > 1 else "", len(lines)
        time.sleep(0.1)
    fail("the Sample Inspector showed no '%s' within %d s (log: %s)" % (kind, timeout, lines[-5:]))


# 1. A results file of 1 000 Fashion-MNIST test images with both demo models (pvpython).
make_results = """
from paraview import simple
simple.LoadPlugin(%(plugin)r, remote=False)
s = simple.ImageDatasetReader(FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=1000)
for tag in ("foundation", "ft"):
    s = simple.ImageEmbedding(Input=s, ModelPath=%(models)r + "/fashion-vit-" + ("ft" if tag == "ft" else "foundation"), Tag=tag)
simple.SaveData(%(results)r, proxy=s)
""" % {"plugin": os.environ["DUALEMBED_PLUGIN"], "models": os.environ["DUALEMBED_MODELS_DIR"], "results": results}
subprocess.run([os.environ["DUALEMBED_PVPYTHON"], "-c", make_results], check=True)
check(os.path.exists(results), "no results file")

# 2. The GUI with the plugin (PV_PLUGIN_PATH, as a user who auto-loads it) and the file.
env = dict(os.environ, PV_PLUGIN_PATH=os.path.dirname(os.environ["DUALEMBED_PLUGIN"]),
           DUALEMBED_INSPECTOR_LOG=log_path)
gui = subprocess.Popen([os.environ["DUALEMBED_PARAVIEW"], "--dr", "--data=" + results], env=env)
try:
    window = None
    for _ in range(120):
        time.sleep(0.5)
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^ParaView 5"],
                               capture_output=True, text=True).stdout.split()
        if found:
            window = found[0]
            break
    check(window is not None, "the ParaView window did not appear")
    time.sleep(3)
    xdotool("windowsize", window, WIDTH, HEIGHT)
    time.sleep(2)
    _, seen = wait_for("header", 0)  # the inspector's dock is there, with its hint
    # Apply (the reader opened by --data waits for it), then Compare Embeddings.
    xdotool("mousemove", 49, 537, "click", 1)
    time.sleep(3)
    xdotool("key", "ctrl+shift+e")
    tiles, header, _, seen = wait_update(seen, timeout=180)
    top = [int(t) for t in tiles.split()]
    check(len(top) == 8, "Compare Embeddings: the inspector shows %d tiles, expected the 8 top outliers" % len(top))
    time.sleep(2)
    before = screenshot("1-compare")

    # 3. The foundation map is the upper left view: its points are the saturated pixels there.
    region = before[200:700, 300:850]
    saturated = (region.max(axis=2) - region.min(axis=2)) > 60
    ys, xs = np.nonzero(saturated)
    check(len(xs) > 500, "the foundation map shows no coloured points")
    x0, x1 = np.percentile(xs, [35, 65]) + 300
    y0, y1 = np.percentile(ys, [35, 65]) + 200
    right_black_before = int((before[200:700, 870:1400].sum(axis=2) < 60).sum())
    xdotool("mousemove", int(x0), int(y0), "click", 1)  # focus the view
    time.sleep(0.5)
    xdotool("key", "d")  # Select Points On
    time.sleep(0.5)
    xdotool("mousemove", int(x0), int(y0), "mousedown", 1)
    for i in range(1, 11):
        xdotool("mousemove", int(x0 + (x1 - x0) * i / 10), int(y0 + (y1 - y0) * i / 10))
        time.sleep(0.02)
    start = time.time()
    xdotool("mouseup", 1)
    tiles, header, shown_at, seen = wait_update(seen)
    print("Rectangle selection round trip (mouse up to the inspector's tiles): %.2f s; %s"
          % (shown_at - start, header))
    check("selected" in header, "the inspector does not show the selection: %r" % header)
    count = int(header.split(":")[1].split()[0])
    check(0 < count < 1000, "the rectangle selected %d of 1000 samples" % count)
    time.sleep(2)
    after = screenshot("2-rectangle")
    right_black_after = int((after[200:700, 870:1400].sum(axis=2) < 60).sum())
    print("Selected (black) pixels in the fine-tuned map: %d before, %d after" % (right_black_before, right_black_after))
    check(right_black_after > right_black_before + 200, "the fine-tuned map does not show the selection")

    # 4. A click on the first tile selects that sample alone.
    position = [entry[1] for entry in log_lines() if entry[0] == "tile0"][-1]
    first = int(tiles.split()[0])
    x, y = (int(v) for v in position.split())
    xdotool("mousemove", x, y, "click", 1)
    tiles, header, _, seen = wait_update(seen)
    check(tiles.split() == [str(first)], "clicking the first tile (sample %d) shows %s" % (first, tiles))
    check("1 selected" in header, "clicking a tile: %r" % header)
    time.sleep(2)
    screenshot("3-tile")
    check(gui.poll() is None, "paraview exited")
    print("DualEmbed GUI exploration test passed")
finally:
    gui.terminate()
    try:
        gui.wait(20)
    except subprocess.TimeoutExpired:
        gui.kill()
