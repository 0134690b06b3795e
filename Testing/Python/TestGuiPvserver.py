"""The Sample Inspector on a pvserver of two MPI ranks, as a user drives it: the real paraview GUI
connected to `mpiexec -n 2 pvserver`, X mouse and keyboard events (gui_driver).

  open a results file of 400 samples (rank 0 reads samples 0-199, rank 1 200-399), Apply,
  Compare Embeddings (Ctrl+Shift+E): the inspector must show the 8 strongest outliers of all
  samples, rank 1's among them (Compare's selection fetched rank 0's samples alone: Fetch of a
  proxy never updated); then click the tile of a sample that rank 1 holds: exactly that sample
  must be selected (a tile selected (process 0, point id): on rank 0 another sample, or none;
  then the click aborted the client: "Wrong tag ... 23483", the inspector's data mover).

Run by CTest with plain Python 3 on the X display of Scripts/setup.sh. Needs DUALEMBED_PLUGIN,
DUALEMBED_PVPYTHON, DUALEMBED_PARAVIEW, DUALEMBED_PVSERVER, DUALEMBED_MPIEXEC,
DUALEMBED_MODELS_DIR and DUALEMBED_TEST_OUTPUT_DIR. Screenshots: TestGuiPvserver-*.png.
"""
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import gui_driver
from gui_driver import check

out_dir = os.environ.get("DUALEMBED_TEST_OUTPUT_DIR") or tempfile.mkdtemp()
os.makedirs(out_dir, exist_ok=True)
work = tempfile.mkdtemp(prefix="dualembed-pvserver-")
results = os.path.join(work, "results.h5")
samples = 400
plugin = os.environ["DUALEMBED_PLUGIN"]


def start_server():
    """mpiexec -n 2 pvserver with the plugin; returns (process, port)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_", "ORTE_", "OPAL_"))}
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               PV_PLUGIN_PATH=os.path.dirname(plugin))
    # `timeout`: a watchdog, should the GUI die without closing the connection.
    server = subprocess.Popen(["timeout", "600"] + os.environ["DUALEMBED_MPIEXEC"].split() +
                              [os.environ["DUALEMBED_PVSERVER"], "--server-port=0"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        line = server.stdout.readline()
        check(line or server.poll() is None, "pvserver exited before accepting connections")
        found = re.search(r"Accepting connection\(s\): [^:\s]+:(\d+)", line)
        if found:
            # Keep reading what the server prints: a full pipe would block it.
            threading.Thread(target=lambda: [print("pvserver: " + line, end="") for line in server.stdout],
                             daemon=True).start()
            return server, int(found.group(1))
    server.terminate()
    raise gui_driver.Failure("pvserver did not report its port")


def lowest_outliers(count):
    """The `count` samples with the lowest foundation outlier score, computed by serial pvpython."""
    script = """
from paraview import simple, servermanager
from vtkmodules.util.numpy_support import vtk_to_numpy
import numpy as np
simple.LoadPlugin(%r, remote=False)
scores = simple.EmbeddingOutlierScore(Input=simple.OpenDataFile(%r), Embedding=["POINTS", "embedding_foundation"])
scores.UpdatePipeline()
values = vtk_to_numpy(servermanager.Fetch(scores).GetPointData().GetArray("outlier_score_foundation"))
print("LOWEST", *np.argsort(values, kind="stable")[:%d])
""" % (plugin, results, count)
    out = subprocess.run([os.environ["DUALEMBED_PVPYTHON"], "-c", script], check=True, capture_output=True,
                         text=True).stdout
    return [int(v) for v in out.split("LOWEST")[1].split()]


def main():
    gui_driver.make_results(results, samples, os.environ["DUALEMBED_PVPYTHON"], plugin,
                            os.environ["DUALEMBED_MODELS_DIR"])
    server, port = start_server()
    gui = gui_driver.Gui(os.environ["DUALEMBED_PARAVIEW"], plugin, os.path.join(work, "inspector.log"),
                         ["--server-url=cs://localhost:%d" % port, "--data=" + results], out_dir,
                         "TestGuiPvserver")
    try:
        gui.wait_for("header")
        mark = gui.mark()
        gui.click(49, 537)  # Apply
        time.sleep(3)
        gui.key("ctrl+shift+e")
        update = gui.wait_update(mark, timeout=240)
        check(len(update["tiles"]) == 8, "Compare Embeddings: the inspector shows %s" % update["tiles"])
        expected = lowest_outliers(8)
        check(update["tiles"] == expected, "Compare Embeddings: the inspector shows %s, the 8 strongest "
              "outliers of both ranks are %s" % (update["tiles"], expected))
        gui.screenshot("1-compare")
        time.sleep(1)
        tiles = gui.tiles_on_screen(mark)
        on_rank_1 = [point for point in update["tiles"] if point >= samples // 2 and point in tiles]
        check(on_rank_1, "none of the top outliers %s is on rank 1 (points %d-%d)"
              % (update["tiles"], samples // 2, samples - 1))
        chosen = on_rank_1[0]
        mark = gui.mark()
        gui.click(*tiles[chosen])
        time.sleep(2)
        gui.screenshot("2a-clicked")
        update = gui.wait_update(mark)
        gui.screenshot("2-tile")
        check(update["tiles"] == [chosen] and "1 selected" in update["header"],
              "clicking the tile of sample %d (rank 1) selected %s: %r" % (chosen, update["tiles"], update["header"]))
        print("A tile of rank 1's sample %d selects that sample on the 2-rank pvserver." % chosen)
        check(gui.alive(), "paraview exited")
    finally:
        gui.close()
        server.terminate()
    print("DualEmbed GUI pvserver test passed")


try:
    main()
except gui_driver.Failure as failure:
    print("FAILED: %s" % failure)
    sys.exit(1)
