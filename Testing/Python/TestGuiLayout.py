# Runs inside the paraview GUI (paraview --script=... --exit): dualembed.layout.compare() builds
# the comparison layout there (it used to hang in ParaView's Welcome dialog, which the plugin now
# closes in a scripted session: Plugin/pqScriptWelcomeDialogBehavior.h), the gallery follows a
# selection by itself, and a screenshot of the whole layout is saved and checked.
import os
import tempfile
import time

from paraview import simple

from dualembed_testing import check, load_plugin, pixel_comparison

load_plugin()
import dualembed.layout

# The GUI opens its Welcome dialog one second after the main window shows (unless the user's
# settings turned it off): waiting here makes sure the layout function's first layout change
# meets that dialog, as a longer script would (CTest looks for the plugin's line saying it closed it).
time.sleep(1.5)

views, foundation_map, ft_map = pixel_comparison(outliers=5)

layout = views["layout"]
check(views["gallery"] is None, "in the GUI the Sample Inspector dock, not a gallery view, shows the selection")
for key in ("foundation", "ft", "spreadsheet", "histogram"):
    check(layout.GetViewLocation(views[key]) >= 0, "the %s view is not in the layout" % key)
rows = views["spreadsheet"].GetClientSideObject().GetNumberOfRows()
check(rows == 200, "spreadsheet shows %d rows, expected 200" % rows)

# The views show the samples without their 784 pixel columns (what made each selection take 8 s).
shown = views["ft_samples"].PointData.keys()
check("image" not in shown and "outlier_score_image" in shown, "the maps show %s" % shown)
# Back to the top outliers for the screenshot.
dualembed.layout.select_lowest(views["foundation_samples"], "outlier_score_image", 5)

out_dir = os.environ.get("DUALEMBED_TEST_OUTPUT_DIR") or tempfile.gettempdir()
os.makedirs(out_dir, exist_ok=True)
path = os.path.join(out_dir, "TestGuiLayout.png")
if os.path.exists(path):
    os.remove(path)
simple.SaveScreenshot(path, layout, SaveAllViews=1, ImageResolution=[1600, 900])
check(os.path.exists(path), "no screenshot written to %s" % path)

# A non-trivial image of the whole layout: its size, many colours, and every quarter drawn.
from vtkmodules.vtkIOImage import vtkPNGReader
from vtkmodules.util.numpy_support import vtk_to_numpy

reader = vtkPNGReader()
reader.SetFileName(path)
reader.Update()
image = reader.GetOutput()
width, height, _ = image.GetDimensions()
check((width, height) == (1600, 900), "screenshot is %dx%d, expected 1600x900" % (width, height))
pixels = vtk_to_numpy(image.GetPointData().GetScalars())[:, :3].reshape(height, width, 3)
colours = len({tuple(p) for p in pixels[::4, ::4].reshape(-1, 3)})
check(colours > 50, "screenshot has only %d colours" % colours)
for name, quarter in (("bottom left", pixels[:height // 2, :width // 2]),  # rows from the bottom
                      ("bottom right", pixels[:height // 2, width // 2:]),
                      ("top left", pixels[height // 2:, :width // 2]),
                      ("top right", pixels[height // 2:, width // 2:])):
    check(quarter.std() > 5, "the %s of the screenshot is blank" % name)
print("Screenshot of the layout: %s (%dx%d, %d colours)" % (path, width, height, colours))
print("DualEmbed GUI layout test passed")
