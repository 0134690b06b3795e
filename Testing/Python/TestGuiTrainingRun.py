"""A fine-tuning run in the real paraview GUI, driven by X mouse and keyboard events (gui_driver):

  start with the demo's checkpoints as time steps (TrainingRunPipeline.py: Checkpoint Embedding
  and Training Dynamics on 500 images), click the pipeline's last filter, press Compare
  Embeddings (Ctrl+Shift+E): the Sample Inspector shows the top outliers with their training
  dynamics and label-probability trajectories, and the layout has the data map; click the VCR
  toolbar's Last Frame: the fine-tuned map moves (aligned maps, one per checkpoint) while the
  foundation map stays; drag a Select Points rectangle over the data map's hard-to-learn corner
  (low confidence, low variability): those samples are selected in the maps and the inspector.

Run by CTest with plain Python 3 on the X display of Scripts/setup.sh (1920x1080). Screenshots:
TestGuiTrainingRun-*.png in the output directory.
"""
import os
import sys
import tempfile
import time

import numpy as np

import gui_driver
from gui_driver import check

out_dir = os.environ.get("DUALEMBED_TEST_OUTPUT_DIR") or tempfile.mkdtemp()
os.makedirs(out_dir, exist_ok=True)
work = tempfile.mkdtemp(prefix="dualembed-gui-run-")
here = os.path.dirname(os.path.abspath(__file__))
SAMPLES = 500
# Screen positions (1920x1080, --dr, the DualEmbed layout of a run): the Pipeline Browser's
# fourth filter, the VCR toolbar's Last Frame button, the data map view.
TRAINING_DYNAMICS_ITEM = (111, 262)
LAST_FRAME = (657, 42)
DATA_MAP = (1165, 770, 1408, 1048)


def changed_pixels(a, b, view):
    x0, y0, x1, y1 = view
    return int((np.abs(a[y0:y1, x0:x1] - b[y0:y1, x0:x1]).sum(axis=2) > 60).sum())


def main():
    os.environ["DUALEMBED_SAMPLES"] = str(SAMPLES)
    gui = gui_driver.Gui(os.environ["DUALEMBED_PARAVIEW"], os.environ["DUALEMBED_PLUGIN"],
                         os.path.join(work, "inspector.log"),
                         ["--script=" + os.path.join(here, "TrainingRunPipeline.py")], out_dir, "TestGuiTrainingRun")
    try:
        gui.wait_for("header")
        time.sleep(5)  # the script's pipeline: 500 images through 11 models
        mark = gui.mark()
        gui.click(*TRAINING_DYNAMICS_ITEM)
        time.sleep(1)
        gui.key("ctrl+shift+e")
        update = gui.wait_update(mark, timeout=240)
        check(len(update["tiles"]) == 8, "Compare Embeddings on the run: the inspector shows %s" % update["tiles"])
        trajectories = gui.wait_for("trajectories", mark)
        check(trajectories == "label_probability_ft of 8", "trajectories in the inspector: %r" % trajectories)
        first = gui.screenshot("1-compare")
        x0, y0, x1, y1 = DATA_MAP
        colour = first[y0:y1, x0:x1]
        check(((colour.max(axis=2) - colour.min(axis=2)) > 80).sum() > 300, "no coloured points in the data map")

        # Last Frame: the aligned fine-tuned map of the last checkpoint; the foundation's is the same.
        gui.click(*LAST_FRAME)
        time.sleep(8)
        last = gui.screenshot("2-last-frame")
        moved = changed_pixels(first, last, gui_driver.FT_MAP)
        still = changed_pixels(first, last, gui_driver.FOUNDATION_MAP)
        print("Last Frame: %d pixels changed in the fine-tuned map, %d in the foundation map" % (moved, still))
        check(moved > 2000, "the fine-tuned map did not change with the time step")
        check(still < moved / 4, "the foundation map changed with the time step")
        check(gui.alive(), "paraview exited after Last Frame")

        # The data map's hard-to-learn corner: low confidence, low variability.
        mark = gui.mark()
        corner = (x0 + 0.14 * (x1 - x0), y0 + 0.62 * (y1 - y0), x0 + 0.42 * (x1 - x0), y0 + 0.93 * (y1 - y0))
        gui.select_rectangle(corner)
        update = gui.wait_update(mark)
        print("Data map corner: %s" % update["header"])
        check("selected" in update["header"], "the inspector does not show the data map's selection")
        count = int(update["header"].split(":")[1].split()[0])
        check(0 < count < SAMPLES // 4, "the corner selected %d of %d samples" % (count, SAMPLES))
        selected = gui.screenshot("3-data-map-selection")
        black = [gui_driver.black_pixels(screen, gui_driver.FT_MAP) for screen in (last, selected)]
        print("Selected (black) pixels in the fine-tuned map: %d before, %d after" % tuple(black))
        check(black[1] > black[0], "the fine-tuned map does not show the data map's selection")
        check(gui.alive(), "paraview exited")
    finally:
        gui.close()
    print("DualEmbed GUI training-run test passed")


try:
    main()
except gui_driver.Failure as failure:
    print("FAILED: %s" % failure)
    sys.exit(1)
