"""Drives the real paraview GUI from outside, as a user does: X mouse and keyboard events
(xdotool), screenshots (imagemagick's import), and the Sample Inspector's log (one line per
change of the panel, written to DUALEMBED_INSPECTOR_LOG) to know what it shows and when.

Used by the GUI test (TestGuiExplore.py) and the selection benchmark
(Testing/Benchmarks/BenchmarkGuiSelection.py). Plain Python 3 with NumPy and PIL; needs an X
display of 1920x1080 (Scripts/setup.sh runs the tests in one).
"""
import os
import subprocess
import time

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 1920, 1080
# Where the comparison layout puts its views in a 1920x1080 window with the Sample Inspector
# docked right (ParaView's default panels, --dr): (x0, y0, x1, y1) in screen pixels.
FOUNDATION_MAP = (300, 200, 850, 700)
FT_MAP = (870, 200, 1400, 700)
HISTOGRAM = (915, 745, 1408, 1045)
# Edit › Find Data opens its panel above the Sample Inspector: its widgets' centres.
FIND_DATA = {"producer": (1709, 241), "array": (1464, 299), "operator": (1740, 300), "value": (1815, 300),
             "find": (1500, 385)}


class Failure(AssertionError):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def xdotool(*args):
    subprocess.run(["xdotool"] + [str(a) for a in args], check=True)


def make_results(path, count, pvpython, plugin, models, dataset=None):
    """A results file of the first `count` Fashion-MNIST test images (or of `dataset`) with both
    demo models' embeddings, written by pvpython."""
    dataset = dataset or "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
    script = """
from paraview import simple
simple.LoadPlugin(%(plugin)r, remote=False)
s = simple.ImageDatasetReader(FileName=%(dataset)r, MaxSamples=%(count)d)
for tag, folder in (("foundation", "fashion-vit-foundation"), ("ft", "fashion-vit-ft")):
    s = simple.ImageEmbedding(Input=s, ModelPath=%(models)r + "/" + folder, Tag=tag)
simple.SaveData(%(path)r, proxy=s)
""" % {"plugin": plugin, "dataset": dataset, "count": count, "models": models, "path": path}
    subprocess.run([pvpython, "-c", script], check=True)
    check(os.path.exists(path), "no results file written to %s" % path)


class Gui:
    """paraview --dr with the plugin auto-loaded (PV_PLUGIN_PATH) and `arguments`."""

    def __init__(self, paraview, plugin, log_path, arguments, out_dir, name):
        self.log_path = log_path
        self.out_dir = out_dir
        self.name = name
        if os.path.exists(log_path):
            os.remove(log_path)
        env = dict(os.environ, PV_PLUGIN_PATH=os.path.dirname(plugin), DUALEMBED_INSPECTOR_LOG=log_path)
        self.process = subprocess.Popen([paraview, "--dr"] + list(arguments), env=env)
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

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def alive(self):
        return self.process.poll() is None

    def screenshot(self, step):
        path = os.path.join(self.out_dir, "%s-%s.png" % (self.name, step))
        subprocess.run(["import", "-window", "root", path], check=True)
        return np.asarray(Image.open(path).convert("RGB")).astype(int)

    # --- the Sample Inspector's log ----------------------------------------------------------
    def _entries(self):
        """[(seconds, kind, text)] of the log so far."""
        if not os.path.exists(self.log_path):
            return []
        entries = []
        with open(self.log_path) as f:
            for line in f:
                parts = line.rstrip("\n").split(" ", 2)
                if len(parts) >= 2:
                    entries.append((int(parts[0]) / 1000.0, parts[1], parts[2] if len(parts) > 2 else ""))
        return entries

    def mark(self):
        """A position in the log: updates after it are waited for."""
        return len(self._entries())

    def wait_update(self, after, timeout=120, quiet=1.5):
        """Waits until the inspector has updated after `after` and then stays unchanged for `quiet`
        seconds (a linked selection updates it more than once). Returns the last update:
        {"tiles": [point ids], "header": text, "first": time of the first update's tiles}."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            entries = self._entries()[after:]
            updates = [i for i in range(1, len(entries))
                       if entries[i][1] == "header" and entries[i - 1][1] == "tiles"]
            if updates and time.time() - os.path.getmtime(self.log_path) > quiet:
                last = updates[-1]
                first = min(i - 1 for i in updates)
                return {"tiles": [int(t) for t in entries[last - 1][2].split()],
                        "header": entries[last][2], "first": entries[first][0]}
            time.sleep(0.05)
        raise Failure("the Sample Inspector did not update within %d s (log: %s)"
                      % (timeout, self._entries()[-5:]))

    def wait_for(self, kind, after=0, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for entry in self._entries()[after:]:
                if entry[1] == kind:
                    return entry[2]
            time.sleep(0.1)
        raise Failure("the Sample Inspector logged no '%s' within %d s" % (kind, timeout))

    def _tile_positions(self, after=0):
        """[(tile index, point id, (x, y))] of the inspector's tiles as logged once laid out."""
        return [(index, point, (x, y)) for entry in self._entries()[after:] if entry[1] == "tilepos"
                for index, point, x, y in [(int(v) for v in entry[2].split())]]

    def tiles_on_screen(self, after=0):
        """{point id: screen position} of the inspector's tiles, as last laid out after `after`."""
        return {point: position for _, point, position in self._tile_positions(after)}

    def first_tile(self):
        """Screen position of the inspector's first tile (logged once it is laid out)."""
        positions = [position for index, _, position in self._tile_positions() if index == 0]
        check(positions, "the inspector has shown no tile")
        return positions[-1]

    # --- user actions ---------------------------------------------------------------------------
    def click(self, x, y):
        xdotool("mousemove", x, y, "click", 1)

    def key(self, keys):
        xdotool("key", keys)

    def drag(self, rectangle):
        """A left-button drag across `rectangle`; returns the time of the release."""
        x0, y0, x1, y1 = (int(v) for v in rectangle)
        xdotool("mousemove", x0, y0, "mousedown", 1)
        for i in range(1, 11):
            xdotool("mousemove", x0 + (x1 - x0) * i // 10, y0 + (y1 - y0) * i // 10)
            time.sleep(0.02)
        released = time.time()
        xdotool("mouseup", 1)
        return released

    def select_rectangle(self, rectangle):
        """Select Points On (d) over the view at `rectangle`, then drags across it; returns the
        time of the mouse release."""
        x0, y0, x1, y1 = (int(v) for v in rectangle)
        self.click(x0, y0)  # focus the view
        time.sleep(0.5)
        self.key("d")
        time.sleep(0.5)
        return self.drag(rectangle)


def escape_window(title, timeout=90):
    """Presses Escape in the top-level window named `title` and waits until it is gone; False if
    it never showed or stayed. With no window manager under Xvfb the window must be given the
    focus first; on a busy machine it may be mapped late, or the focus may not have moved yet
    when the key goes out, so both are tried again until the window has closed."""
    deadline = time.time() + timeout
    seen = False
    while time.time() < deadline:
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title],
                               capture_output=True, text=True)
        windows = found.stdout.split()
        if not windows:
            if seen:
                return True
            time.sleep(0.5)
            continue
        seen = True
        subprocess.run(["xdotool", "windowfocus", windows[0]], capture_output=True)
        time.sleep(0.5)
        subprocess.run(["xdotool", "key", "Escape"], capture_output=True)
        time.sleep(1)
    return False


def choose(gui, widget, text):
    """Opens the combo box `widget` of the Find Data panel and picks the item starting with `text`
    (typed: the list's keyboard search)."""
    gui.click(*FIND_DATA[widget])
    time.sleep(1)
    xdotool("type", "--delay", "60", text)
    time.sleep(0.5)
    gui.key("Return")
    time.sleep(1)


def find_data(gui, producer, array, operator, value):
    """Edit › Find Data (its shortcut v) with one query, then its Find Data button."""
    gui.key("v")
    time.sleep(2)
    choose(gui, "producer", producer)
    choose(gui, "array", array)
    choose(gui, "operator", operator)
    gui.click(*FIND_DATA["value"])
    xdotool("type", "--delay", "60", value)
    time.sleep(0.5)
    gui.click(*FIND_DATA["find"])


def points_box(screen, view, low=35, high=65):
    """The part (percentiles low..high in x and y) of the coloured points of a map view: where a
    rectangle selects some but not all samples."""
    x0, y0, x1, y1 = view
    region = screen[y0:y1, x0:x1]
    ys, xs = np.nonzero((region.max(axis=2) - region.min(axis=2)) > 60)
    check(len(xs) > 500, "the map at %s shows no coloured points" % (view,))
    return (np.percentile(xs, low) + x0, np.percentile(ys, low) + y0,
            np.percentile(xs, high) + x0, np.percentile(ys, high) + y0)


def black_pixels(screen, view):
    """Pixels of the selection colour (black) in a map view."""
    x0, y0, x1, y1 = view
    return int((screen[y0:y1, x0:x1].sum(axis=2) < 60).sum())
