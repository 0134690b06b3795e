# Runs inside the paraview GUI (paraview --dr --script=...; it quits ParaView itself): the
# Properties panels of the Image Dataset Reader and of Image Embedding, as a user sees them.
#
# PyQt5 (Debian's python3-pyqt5, on the same Qt as ParaView) only finds widgets and reads their
# state; the clicks and the typing are real X events from xdotool. Screenshots (imagemagick's
# import) go to DUALEMBED_TEST_OUTPUT_DIR: TestGuiPanels-reader.png, -embedding.png, -dialog.png,
# -applied.png, -failed-apply.png, -projection.png, -projection-applied.png,
# -projection-neighbor-method.png (UMAP's Neighbor Method, chosen with the mouse and keyboard),
# -projection-pca.png (hidden for PCA), -outlier-method.png (Outlier Score's Method), -outlier-applied.png.
import os

from paraview import simple
from PyQt5 import QtCore, QtWidgets

from gui_steps import (Failure, NotYet, app, apply_button, check, click, main_window, property_widget,  # noqa: F401
                       stop, visible_labels, xdotool)
import gui_steps

simple.LoadPlugin(os.environ["DUALEMBED_PLUGIN"], remote=False)
model_config = os.path.join(os.environ["DUALEMBED_TESTING_DATA_DIR"], "hf-reference", "vit-tiny", "config.json")
steps = gui_steps.Steps("TestGuiPanels")
screenshot = steps.screenshot
step = steps.add


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
    x0, x1 = projection.GetDataInformation().GetBounds()[:2]
    if x1 - x0 <= 0 or simple.GetDisplayProperties(projection, simple.GetActiveView()).Visibility != 1:
        raise NotYet("the projection is not shown yet")
    check_fitted("UMAP")
    screenshot("projection-applied")
    show_advanced()


def check_fitted(what):
    """The active view looks at the centre of the active source's map (its camera was reset to it)."""
    view = simple.GetActiveView()
    x0, x1, y0, y1 = simple.GetActiveSource().GetDataInformation().GetBounds()[:4]
    centre = view.CameraFocalPoint
    extent = max(x1 - x0, y1 - y0)
    check(abs(centre[0] - (x0 + x1) / 2) <= 0.05 * extent and abs(centre[1] - (y0 + y1) / 2) <= 0.05 * extent,
          "after the Apply of %s the camera looks at %s, not at the centre of the map %s"
          % (what, list(centre[:2]), [x0, x1, y0, y1]))


def show_advanced():
    """Shows the advanced properties: the gear button beside the Properties panel's search box."""
    boxes = [w for w in main_window().findChildren(QtWidgets.QWidget) if w.inherits("pqSearchBox") and w.isVisible()]
    gears = [b for box in boxes for b in box.findChildren(QtWidgets.QToolButton) if b.isCheckable()]
    check(gears, "no advanced-properties button beside the Properties panel's search box")
    if not gears[0].isChecked():
        click(gears[0])


def output_messages():
    """The lines of the Output Messages window, as the user reads them."""
    views = main_window().window().findChildren(QtWidgets.QAbstractItemView) + [
        w for top in app.topLevelWidgets() for w in top.findChildren(QtWidgets.QAbstractItemView)]
    return [view.model().index(r, 0).data() or "" for view in views
            for r in range(view.model().rowCount() if view.model() else 0)]


def choose(name, moves):
    """Opens the combo box of property `name` with a click and moves `moves` entries down with the keyboard."""
    click(property_widget(name).findChild(QtWidgets.QComboBox))
    xdotool("key", *(["Down"] * moves + ["Return"]))


def choose_ivf(name):
    """Property `name` offers the neighbour searches, auto by default; ivf is chosen as a user does:
    the list opened with a click, the entry picked with the keyboard."""
    combo = property_widget(name).findChild(QtWidgets.QComboBox)
    items = [combo.itemText(i) for i in range(combo.count())]
    check(items == ["auto", "exact", "ivf", "flann"], "%s offers %s" % (name, items))
    check(combo.currentText() == "auto", "%s defaults to %r" % (name, combo.currentText()))
    choose(name, 2)


def apply_ivf(name, shot):
    """Apply once the panel shows ivf for property `name` (a screenshot `shot` first)."""
    combo = property_widget(name).findChild(QtWidgets.QComboBox)
    if combo.currentText() != "ivf":
        raise NotYet("the panel shows %s %r" % (name, combo.currentText()))
    screenshot(shot)
    click(apply_button())


@step(1500)
def projection_neighbor_method():
    # UMAP's graph search, an advanced property: offered as Outlier Score's Method, auto by default.
    combo = property_widget("NeighborMethod").findChild(QtWidgets.QComboBox)
    if not combo.isVisible():
        raise NotYet("Neighbor Method is not shown with the advanced properties")
    choose_ivf("NeighborMethod")


@step(1500)
def projection_ivf_chosen():
    apply_ivf("NeighborMethod", "projection-neighbor-method")


@step(2000)
def projection_ivf_applied():
    if not any("Embedding Projection: IVF neighbours (k 14" in t for t in output_messages()):
        raise NotYet("the Output Messages window does not say that UMAP's graph was searched by IVF")
    check(simple.GetActiveSource().GetPropertyValue("NeighborMethod") == "ivf", "NeighborMethod after Apply")
    check_fitted("UMAP with ivf")
    # PCA searches no neighbours: the panel hides the property.
    choose("Method", 2)


@step(1500)
def pca_hides_neighbor_method():
    if property_widget("Method").findChild(QtWidgets.QComboBox).currentText() != "PCA":
        raise NotYet("the panel does not show Method PCA yet")
    hidden = [w for w in gui_steps.panel().findChildren(QtWidgets.QWidget, "NeighborMethod")
              if w.inherits("pqPropertyWidget")]
    check(hidden and not hidden[0].isVisible(), "Neighbor Method is still shown for PCA")
    screenshot("projection-pca")
    click(apply_button())


@step(2000)
def pca_applied():
    projection = simple.GetActiveSource()
    names = [projection.PointData.GetArray(i).GetName() for i in range(projection.PointData.GetNumberOfArrays())]
    if "pca_foundation" not in names:
        raise NotYet("no pca_foundation after Apply (arrays: %s)" % names)
    screenshot("projection-pca-applied")
    check_fitted("PCA")


@step(600)
def outlier_score_from_filters_menu():
    simple.SetActiveSource(samples)
    actions = [a for a in main_window().findChildren(QtWidgets.QAction) if a.text() == "Embedding Outlier Score"]
    check(actions, "no Embedding Outlier Score action in the Filters menu")
    actions[0].trigger()


@step(1500)
def show_advanced_properties():
    # Method is an advanced property (the advanced properties stay shown once chosen).
    source = simple.GetActiveSource()
    if source is None or source.GetXMLName() != "EmbeddingOutlierScore":
        raise NotYet("the Filters menu did not create an Embedding Outlier Score")
    show_advanced()


@step(1500)
def method_defaults_to_auto():
    choose_ivf("Method")


@step(1500)
def ivf_chosen():
    apply_ivf("Method", "outlier-method")


@step(3000)
def ivf_applied():
    source = simple.GetActiveSource()
    if source.GetPropertyValue("Method") != "ivf":
        raise NotYet("Method is %r after Apply" % source.GetPropertyValue("Method"))
    names = [source.PointData.GetArray(i).GetName() for i in range(source.PointData.GetNumberOfArrays())]
    if "outlier_score_foundation" not in names:
        raise NotYet("no outlier_score_foundation yet (arrays: %s)" % names)
    # What ran is said in the Output Messages window, as the user sees it.
    if not any("Embedding Outlier Score: IVF neighbours (k 10" in t for t in output_messages()):
        raise NotYet("the Output Messages window does not say which method ran yet")
    screenshot("outlier-applied")


steps.run(240, "DualEmbed GUI panels test passed")
