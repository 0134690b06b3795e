# Runs inside the paraview GUI (paraview --dr --script=...; it quits ParaView itself): the
# Properties panels of the Image Dataset Reader and of Image Embedding, as a user sees them.
#
# PyQt5 (Debian's python3-pyqt5, on the same Qt as ParaView) only finds widgets and reads their
# state; the clicks and the typing are real X events from xdotool. Screenshots (imagemagick's
# import) go to DUALEMBED_TEST_OUTPUT_DIR: TestGuiPanels-reader.png, -embedding.png, -dialog.png,
# -applied.png, -failed-apply.png, -projection.png.
import os
import subprocess
import time
import traceback

from paraview import simple
from PyQt5 import QtCore, QtWidgets

simple.LoadPlugin(os.environ["DUALEMBED_PLUGIN"], remote=False)
app = QtWidgets.QApplication.instance()
out_dir = os.environ.get("DUALEMBED_TEST_OUTPUT_DIR", ".")
model_config = os.path.join(os.environ["DUALEMBED_TESTING_DATA_DIR"], "hf-reference", "vit-tiny", "config.json")


class Failure(Exception):
    pass


class NotYet(Failure):
    """The GUI has not got there yet: the step is retried until its deadline."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def screenshot(name):
    path = os.path.join(out_dir, "TestGuiPanels-%s.png" % name)
    subprocess.run(["import", "-window", "root", path], check=True)
    print("screenshot " + path)


def xdotool(*args):
    subprocess.run(["xdotool"] + [str(a) for a in args], check=True)


def main_window():
    return [w for w in app.topLevelWidgets() if w.objectName() == "pqClientMainWindow"][0]


def panel():
    """The Properties panel's pqProxyWidget of the active source."""
    panels = [w for w in main_window().findChildren(QtWidgets.QWidget, "ProxyPanel")
              if w.isVisible() and w.parentWidget().objectName() == "PropertiesFrame"]
    if len(panels) != 1:
        raise NotYet("expected one visible Properties panel, found %d" % len(panels))
    return panels[0]


def property_widget(name):
    widgets = [w for w in panel().findChildren(QtWidgets.QWidget, name) if w.inherits("pqPropertyWidget")]
    if not widgets or not widgets[0].isVisible():
        raise NotYet("the panel shows no %s" % name)
    return widgets[0]


def visible_labels():
    return {label.text() for label in panel().findChildren(QtWidgets.QLabel) if label.isVisible()}


steps = []


def step(delay_ms):
    def add(function):
        steps.append((delay_ms, function))
        return function
    return add


def run_next():
    if not steps:
        print("DualEmbed GUI panels test passed")
        app.quit()
        return
    delay, function = steps.pop(0)
    deadline = time.time() + delay / 1000.0 + 20  # a busy machine draws late

    def call():
        try:
            function()
        except NotYet as error:
            if time.time() < deadline:
                QtCore.QTimer.singleShot(250, call)
                return
            print("FAILED: %s" % error)
            stop()
            return
        except Exception as error:  # an exception must not leave a Qt slot
            print("FAILED: %s" % error if isinstance(error, Failure) else traceback.format_exc())
            stop()
            return
        run_next()
    QtCore.QTimer.singleShot(delay, call)


def stop():
    if app.activeModalWidget() is not None:
        app.activeModalWidget().reject()
    app.quit()


@step(3000)
def reader_panel():
    global reader
    main_window().resize(1600, 1000)  # no window manager under Xvfb to maximise it
    reader = simple.ImageDatasetReader(
        FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=50)
    simple.SetActiveSource(reader)


@step(1500)
def reader_labels():
    screenshot("reader")
    labels = visible_labels()
    for name, label in (("MaxSamples", "Max Samples"), ("ClassNames", "Class Names")):
        property_widget(name)
        check("<p>%s</p>" % label in labels, "%s has no visible label %r (labels: %s)" % (name, label, sorted(labels)))


@step(100)
def embedding_panel():
    global embedding
    embedding = simple.ImageEmbedding(Input=reader)
    simple.SetActiveSource(embedding)


@step(1500)
def click_model_path_button():
    screenshot("embedding")
    check("<p>Model Path</p>" in visible_labels(), "ModelPath has no visible label 'Model Path'")
    button = property_widget("ModelPath").findChild(QtWidgets.QToolButton, "FileButton")
    centre = button.mapToGlobal(button.rect().center())
    xdotool("mousemove", "--sync", centre.x(), centre.y(), "click", "1")


@step(1500)
def dialog_opens_files():
    dialog = app.activeModalWidget()
    if dialog is None or not dialog.inherits("pqFileDialog"):
        raise NotYet("the ... button opened no file dialog")
    check(dialog.windowTitle() == "Select Model Path", "dialog title %r" % dialog.windowTitle())
    screenshot("dialog")
    # pqFileDialog shows Create Folder only in its save (AnyFile) and directory modes.
    check(not dialog.findChild(QtWidgets.QToolButton, "CreateFolder").isVisible(),
          "the ModelPath dialog is a save dialog (it offers Create Folder)")
    name = dialog.findChild(QtWidgets.QLineEdit, "EntityName")
    name.setFocus()
    xdotool("windowfocus", "--sync", int(dialog.winId()))
    xdotool("type", "--delay", 2, model_config)
    xdotool("key", "Return")


@step(1500)
def existing_file_accepted():
    left = app.activeModalWidget()
    if left is not None and left.inherits("QMessageBox"):
        raise Failure("opening an existing model file asked: %r" % left.text())
    if left is not None:
        raise NotYet("the file dialog is still open after choosing %s" % model_config)
    line = property_widget("ModelPath").findChild(QtWidgets.QLineEdit, "FileLineEdit")
    check(line.text() == model_config, "ModelPath shows %r after the dialog, expected %r" % (line.text(), model_config))


@step(100)
def cache_file_dialog():
    button = property_widget("CacheFile").findChild(QtWidgets.QToolButton, "FileButton")
    centre = button.mapToGlobal(button.rect().center())
    xdotool("mousemove", "--sync", centre.x(), centre.y(), "click", "1")


@step(1500)
def cache_dialog_opens_files():
    dialog = app.activeModalWidget()
    if dialog is None or not dialog.inherits("pqFileDialog"):
        raise NotYet("CacheFile's ... button opened no file dialog")
    check(not dialog.findChild(QtWidgets.QToolButton, "CreateFolder").isVisible(),
          "the CacheFile dialog is a save dialog (it offers Create Folder)")
    dialog.reject()


def click(widget):
    centre = widget.mapToGlobal(widget.rect().center())
    xdotool("mousemove", "--sync", centre.x(), centre.y(), "click", "1")


def apply_button():
    return [b for b in main_window().findChildren(QtWidgets.QPushButton, "Accept") if b.isVisible()][0]


def information_points():
    """The Information panel's point count, as displayed (e.g. "50", "0")."""
    labels = main_window().findChildren(QtWidgets.QLabel, "pointCount")
    return labels[0].text().replace(",", "").split(" ")[0] if labels else None


@step(100)
def apply_embedding():
    simple.SetActiveSource(embedding)
    click(apply_button())


@step(1000)
def embedding_shown():
    shown = simple.GetDisplayProperties(embedding).GetRepresentedDataInformation().GetNumberOfPoints()
    if information_points() != "50" or shown != 50:
        raise NotYet("after Apply the Information panel shows %r points and the view %d, expected 50"
                     % (information_points(), shown))
    screenshot("applied")
    # Now a model folder that does not exist, typed in and applied as a user would.
    line = property_widget("ModelPath").findChild(QtWidgets.QLineEdit, "FileLineEdit")
    line.setFocus()
    xdotool("windowfocus", "--sync", int(main_window().winId()))
    xdotool("key", "ctrl+a")
    xdotool("type", "--delay", 2, os.path.join(os.path.dirname(model_config), "no-such-model"))
    click(apply_button())


@step(1000)
def failed_apply_shows_nothing():
    check(embedding.ModelPath.endswith("no-such-model"), "ModelPath is %r after typing" % embedding.ModelPath)
    shown = simple.GetDisplayProperties(embedding).GetRepresentedDataInformation().GetNumberOfPoints()
    if information_points() != "0" or shown != 0:
        raise NotYet("after the failed Apply the Information panel shows %r points and the view %d, "
                     "expected 0 (the previous result is stale)" % (information_points(), shown))
    for dock in main_window().findChildren(QtWidgets.QDockWidget):
        if dock.windowTitle() == "Information":
            dock.raise_()  # for the screenshot: the panel that used to keep the old counts
    QtCore.QTimer.singleShot(300, lambda: screenshot("failed-apply"))


@step(800)
def back_to_properties():
    for dock in main_window().findChildren(QtWidgets.QDockWidget):
        if dock.windowTitle() == "Properties":
            dock.raise_()


@step(600)
def projection_from_filters_menu():
    # Samples with two embeddings, then Filters > DualEmbed > Embedding Projection: the GUI's
    # own creation path (pqObjectBuilder), not paraview.simple's.
    import numpy as np
    from paraview import servermanager
    from dualembed_testing import producer
    global samples
    rng = np.random.default_rng(0)
    samples = producer(servermanager.Fetch(reader), embedding_ft=rng.normal(size=(50, 4)).astype(np.float32),
                       embedding_foundation=rng.normal(size=(50, 4)).astype(np.float32))
    simple.SetActiveSource(samples)
    actions = [a for a in main_window().findChildren(QtWidgets.QAction) if a.text() == "Embedding Projection"]
    check(actions, "no Embedding Projection action in the Filters menu")
    actions[0].trigger()


@step(1500)
def projection_defaults_to_embedding():
    projection = simple.GetActiveSource()
    if projection is None or projection.GetXMLName() != "EmbeddingProjection":
        raise NotYet("the Filters menu did not create an Embedding Projection")
    check(list(projection.Embedding) == ["POINTS", "embedding_foundation"],
          "Embedding Projection from the menu defaults to %s" % list(projection.Embedding))
    combo = property_widget("Embedding").findChild(QtWidgets.QComboBox)
    check(combo.currentText() == "embedding_foundation", "the panel shows %r" % combo.currentText())
    screenshot("projection")


@step(100)
def apply_projection():
    click(apply_button())


@step(2000)
def projection_fills_its_view():
    # The points moved from the reader's grid to the map: the DualEmbed toolbar's behaviour resets
    # the camera after the Apply, so the map fills the view instead of being a blob in a corner.
    projection = simple.GetActiveSource()
    view = simple.GetActiveView()
    x0, x1, y0, y1 = projection.GetDataInformation().GetBounds()[:4]
    if x1 - x0 <= 0 or simple.GetDisplayProperties(projection, view).Visibility != 1:
        raise NotYet("the projection is not shown yet")
    centre = view.CameraFocalPoint
    check(x0 <= centre[0] <= x1 and y0 <= centre[1] <= y1,
          "after Apply the camera looks at %s, outside the map %s" % (list(centre[:2]), [x0, x1, y0, y1]))
    screenshot("projection-applied")


# ParaView's own test timeout would leave a hung GUI to CTest's; stop earlier with a message.
QtCore.QTimer.singleShot(240000, lambda: (print("FAILED: the GUI panels test timed out"), stop()))
run_next()
