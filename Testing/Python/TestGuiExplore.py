"""Explores a results file in the real paraview GUI as a user does, with X mouse and keyboard
events (gui_driver: xdotool, screenshots, the Sample Inspector's log):

  open results.h5 (paraview --data), Apply, Compare Embeddings (its shortcut Ctrl+Shift+E),
  drag a Select Points rectangle in the foundation map, check that the other map and the Sample
  Inspector follow, click the inspector's first tile, check that exactly that sample is selected,
  right-click it: Enlarge opens it large beside its neighbour, Select with its nearest neighbour
  selects both,
  drag over the histogram's low bars, and run an Edit › Find Data query
  (outlier_score_foundation <= 0.1: a QUERY selection, which used to abort ParaView).

Run by CTest with plain Python 3 on the X display of Scripts/setup.sh (1920x1080). Needs
DUALEMBED_PLUGIN, DUALEMBED_PVPYTHON, DUALEMBED_PARAVIEW, DUALEMBED_MODELS_DIR and
DUALEMBED_TEST_OUTPUT_DIR. Screenshots: TestGuiExplore-*.png in the output directory.
"""
import os
import sys
import tempfile
import time

import gui_driver
from gui_driver import check

out_dir = os.environ.get("DUALEMBED_TEST_OUTPUT_DIR") or tempfile.mkdtemp()
os.makedirs(out_dir, exist_ok=True)
work = tempfile.mkdtemp(prefix="dualembed-gui-")
results = os.path.join(work, "results.h5")
samples = 1000


def tile_menu(gui, x, y, keys, logged):
    """Right-clicks the tile at (x, y) and chooses the menu entry that `keys` reach, until the
    inspector logs `logged` (a busy machine may show the menu after the keys were typed: then
    Escape and again). Returns the log mark before the right-click that worked."""
    for _ in range(3):
        mark = gui.mark()
        gui_driver.xdotool("mousemove", x, y, "click", 3)
        gui.wait_for("menu", mark, timeout=30)
        gui_driver.xdotool("sleep", "1.5", *[v for key in keys for v in ("key", key)], "key", "Return")
        try:
            gui.wait_for(logged, mark, timeout=10)
            return mark
        except gui_driver.Failure:
            gui_driver.xdotool("key", "Escape")
    raise gui_driver.Failure("the tile's menu did not do what was chosen (%s)" % logged)


def main():
    gui_driver.make_results(results, samples, os.environ["DUALEMBED_PVPYTHON"],
                            os.environ["DUALEMBED_PLUGIN"], os.environ["DUALEMBED_MODELS_DIR"])
    gui = gui_driver.Gui(os.environ["DUALEMBED_PARAVIEW"], os.environ["DUALEMBED_PLUGIN"],
                         os.path.join(work, "inspector.log"), ["--data=" + results], out_dir, "TestGuiExplore")
    try:
        gui.wait_for("header")  # the plugin's dock is there, with its hint
        # Apply (the reader that --data opened waits for it), then Compare Embeddings.
        mark = gui.mark()
        gui.click(49, 537)
        time.sleep(3)
        gui.key("ctrl+shift+e")
        update = gui.wait_update(mark, timeout=180)
        check(len(update["tiles"]) == 8,
              "Compare Embeddings: the inspector shows %s, expected the 8 top outliers" % update["tiles"])
        before = gui.screenshot("1-compare")

        # A rectangle over the middle of the foundation map's points.
        mark = gui.mark()
        released = gui.select_rectangle(gui_driver.points_box(before, gui_driver.FOUNDATION_MAP))
        update = gui.wait_update(mark)
        print("Rectangle selection round trip (mouse up to the inspector's tiles): %.2f s; %s"
              % (update["first"] - released, update["header"]))
        check("selected" in update["header"], "the inspector does not show the selection: %r" % update["header"])
        count = int(update["header"].split(":")[1].split()[0])
        check(0 < count < samples, "the rectangle selected %d of %d samples" % (count, samples))
        check(len(update["tiles"]) == min(count, 60), "%d selected, %d tiles" % (count, len(update["tiles"])))
        after = gui.screenshot("2-rectangle")
        black = [gui_driver.black_pixels(screen, gui_driver.FT_MAP) for screen in (before, after)]
        print("Selected (black) pixels in the fine-tuned map: %d before, %d after" % tuple(black))
        check(black[1] > black[0] + 200, "the fine-tuned map does not show the selection")

        # A click on the first tile selects that sample alone, in both maps and the inspector.
        first = update["tiles"][0]
        mark = gui.mark()
        gui.click(*gui.first_tile())
        update = gui.wait_update(mark)
        check(update["tiles"] == [first], "clicking the first tile (sample %d) shows %s" % (first, update["tiles"]))
        check("1 selected" in update["header"], "clicking a tile: %r" % update["header"])
        gui.screenshot("3-tile")

        # A right-click on that tile: Enlarge opens the sample and its neighbour large.
        x, y = gui.first_tile()
        mark = tile_menu(gui, x, y, ["Down"], "enlarged")
        pid, width = (int(v) for v in gui.wait_for("enlarged", mark, timeout=30).split())
        check(pid == first and width >= 2 * 5 * 28, "Enlarge showed sample %d at %d pixels wide" % (pid, width))
        time.sleep(1)
        gui.screenshot("3b-enlarged")
        # Escape in that window closes it.
        check(gui_driver.escape_window("and its nearest neighbour"),
              "Escape did not close the enlarged sample's window (or it never showed)")
        time.sleep(1)
        # Right-click again: Select with its nearest neighbour selects both samples.
        mark = tile_menu(gui, x, y, ["Down", "Down"], "select")
        update = gui.wait_update(mark)
        check(len(update["tiles"]) == 2 and first in update["tiles"] and "2 selected" in update["header"],
              "selecting sample %d with its nearest neighbour shows %s (%r)" % (first, update["tiles"], update["header"]))
        gui.screenshot("3c-with-neighbour")

        # Dragging over the histogram's low bars selects those bins' samples (a threshold).
        x0, y0, x1, y1 = gui_driver.HISTOGRAM
        mark = gui.mark()
        gui.drag((x0 + 0.15 * (x1 - x0), y0 + 0.12 * (y1 - y0), x0 + 0.25 * (x1 - x0), y0 + 0.85 * (y1 - y0)))
        update = gui.wait_update(mark)
        count = int(update["header"].split(":")[1].split()[0])
        check(0 < count < samples, "the histogram drag selected %r" % update["header"])
        print("Histogram bars: %s" % update["header"])
        gui.screenshot("4-histogram")

        # Edit › Find Data: a query, as typed into its panel.
        mark = gui.mark()
        gui_driver.find_data(gui, "shown (f", "outlier_score_f", "is <=", "0.1")
        update = gui.wait_update(mark)
        print("Find Data outlier_score_foundation <= 0.1: %s" % update["header"])
        check("selected" in update["header"] and gui.alive(), "Find Data: %r" % update["header"])
        count = int(update["header"].split(":")[1].split()[0])
        check(0 < count < samples, "the query selected %d of %d samples" % (count, samples))
        gui.screenshot("5-find-data")
        check(gui.alive(), "paraview exited")
    finally:
        gui.close()
    print("DualEmbed GUI exploration test passed")


try:
    main()
except gui_driver.Failure as failure:
    print("FAILED: %s" % failure)
    sys.exit(1)
