# Runs inside the paraview GUI (paraview --dr --script=...; it quits ParaView itself): a comparison
# saved with File › Save State and opened again with File › Load State, every step through the
# menus and dialogs with real X mouse and keyboard events (gui_steps):
#
#  1. Compare Embeddings, then File › Save State… (ParaView's file dialog, a typed path).
#  2. Edit › Reset Session (confirmed), then File › Load State… with its options dialog.
#  3. The loaded layout works as the one saved: the Sample Inspector shows the foundation's
#     samples; a rectangle selection in the foundation map is drawn in front of both maps (it was
#     not drawn after loading: the observers that draw it are not part of a state) and the
#     inspector shows it; a left drag over the histogram's bars selects their samples (it panned).
#  4. Compare Embeddings again reuses the loaded maps (no projection computed again) and brings
#     the DualEmbed tab to the front.
# Screenshots: TestGuiSavedState-*.png in DUALEMBED_TEST_OUTPUT_DIR.
import os
import tempfile

from paraview import servermanager, simple
from PyQt5 import QtWidgets

import gui_steps
from gui_steps import NotYet, check, click, main_window, toolbar_button, xdotool

simple.LoadPlugin(os.environ["DUALEMBED_PLUGIN"], remote=False)
models = os.environ["DUALEMBED_MODELS_DIR"]
N = 200
steps = gui_steps.Steps("TestGuiSavedState")
step = steps.add
state = {"path": os.path.join(tempfile.mkdtemp(prefix="dualembed-gui-state-"), "comparison.pvsm")}


def visible(class_name):
    return [w for w in QtWidgets.QApplication.topLevelWidgets() if w.isVisible() and w.inherits(class_name)]


def menu_entry(menu_title, entry):
    """Opens `menu_title` of the menu bar with a click, then clicks `entry` in it."""
    bar = main_window().menuBar()
    action = [a for a in bar.actions() if a.text().replace("&", "") == menu_title][0]
    centre = bar.mapToGlobal(bar.actionGeometry(action).center())
    xdotool("mousemove", "--sync", centre.x(), centre.y(), "click", "1")
    state["entry"] = entry


def click_entry():
    menus = [m for m in visible("QMenu")]
    if not menus:
        raise NotYet("no menu opened")
    actions = [a for a in menus[0].actions() if a.text().replace("&", "") == state["entry"]]
    check(actions, "the menu has no %r: %s" % (state["entry"], [a.text() for a in menus[0].actions()]))
    centre = menus[0].mapToGlobal(menus[0].actionGeometry(actions[0]).center())
    xdotool("mousemove", "--sync", centre.x(), centre.y(), "click", "1")


def type_path():
    dialogs = visible("pqFileDialog")
    if not dialogs:
        raise NotYet("no file dialog")
    xdotool("windowfocus", "--sync", int(dialogs[0].winId()))
    xdotool("type", "--delay", 20, state["path"])
    xdotool("key", "Return")


def press(dialog_class, button_text):
    dialogs = visible(dialog_class)
    if not dialogs:
        raise NotYet("no %s" % dialog_class)
    buttons = [b for b in dialogs[0].findChildren(QtWidgets.QPushButton)
               if b.isVisible() and b.text().replace("&", "") == button_text]
    check(buttons, "%s has no %r button" % (dialog_class, button_text))
    click(buttons[0])


def inspector_header():
    docks = [w for w in main_window().findChildren(QtWidgets.QWidget) if w.inherits("pqSampleInspector")]
    check(docks, "no Sample Inspector")
    return docks[0].findChild(QtWidgets.QLabel, "Header").text()


def frames():
    """The visible view frames, top-left first (the foundation map), bottom-right last."""
    found = [f for f in main_window().findChildren(QtWidgets.QWidget) if f.inherits("pqViewFrame") and f.isVisible()]
    return sorted(found, key=lambda f: (f.mapToGlobal(f.rect().center()).y(), f.mapToGlobal(f.rect().center()).x()))


def drag(frame, x0, y0, x1, y1):
    """A left-button drag over the fractions (x0, y0)-(x1, y1) of `frame`."""
    corner, w, h = frame.mapToGlobal(frame.rect().topLeft()), frame.width(), frame.height()
    xdotool("mousemove", "--sync", int(corner.x() + x0 * w), int(corner.y() + y0 * h), "mousedown", "1")
    for i in range(1, 11):
        xdotool("mousemove", "--sync", int(corner.x() + (x0 + (x1 - x0) * i / 10) * w),
                int(corner.y() + (y0 + (y1 - y0) * i / 10) * h))
    xdotool("mouseup", "1")


def selected_ids(source):
    selection = source.SMProxy.GetSelectionInput(0)
    if selection is None:
        return []
    picked = servermanager.filters.ExtractSelection(Input=source, Selection=servermanager._getPyProxy(selection))
    data = servermanager.Fetch(picked)
    ids = data.GetPointData().GetArray("vtkOriginalPointIds") if data is not None else None
    return sorted(int(ids.GetValue(i)) for i in range(ids.GetNumberOfTuples())) if ids is not None else []


def drawn_highlights():
    """{samples' name: the ids their highlight draws} for the highlights visible in the layout."""
    import dualembed.layout as layout
    drawn = {}
    for part in servermanager.ProxyManager().GetProxiesInGroup(layout.HIGHLIGHTS_GROUP).values():
        for view in simple.GetViewsInLayout(simple.GetLayoutByName("DualEmbed")):
            display = servermanager.GetRepresentation(part, view)
            if display is not None and display.Visibility:
                data = servermanager.Fetch(part)
                ids = data.GetPointData().GetArray("vtkOriginalPointIds")
                drawn[layout._label(part.Input)] = sorted(int(ids.GetValue(i)) for i in range(ids.GetNumberOfTuples()))
    return drawn


def projections():
    return sorted(name for (name, _), s in simple.GetSources().items() if s.GetXMLName() == "EmbeddingProjection")


@step(3000)
def open_samples():
    main_window().resize(1600, 1000)  # no window manager under Xvfb to maximise it
    samples = simple.ImageDatasetReader(FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
                                        MaxSamples=N)
    for folder in ("fashion-vit-foundation", "fashion-vit-ft"):
        samples = simple.ImageEmbedding(Input=samples, ModelPath=os.path.join(models, folder))
    simple.Show(samples)
    simple.SetActiveSource(samples)
    state["samples"] = samples


@step(1000, patience_s=60)  # the two embeddings run first
def compare():
    if state["samples"].GetDataInformation().GetNumberOfPoints() != N:
        raise NotYet("the embeddings have not run yet")
    click(toolbar_button("actionCompareEmbeddings"))


@step(3000, patience_s=60)
def save_state():
    if simple.GetLayoutByName("DualEmbed") is None or simple.FindSource("shown (ft)") is None:
        raise NotYet("Compare Embeddings has not built its layout yet")
    state["projections"] = projections()
    steps.screenshot("1-compared")
    menu_entry("File", "Save State...")


step(800)(click_entry)
step(1500)(type_path)


@step(1500)
def reset_session():
    if not os.path.exists(state["path"]):
        raise NotYet("no state file at %s" % state["path"])
    menu_entry("Edit", "Reset Session")


step(800)(click_entry)
step(1000)(lambda: press("QMessageBox", "Yes"))


@step(1500)
def load_state():
    if simple.GetSources():
        raise NotYet("Reset Session left %s" % list(simple.GetSources()))
    menu_entry("File", "Load State...")


step(800)(click_entry)
step(1500)(type_path)


@step(1500)
def load_options():
    dialogs = visible("pqProxyWidgetDialog")
    if not dialogs:
        raise NotYet("no Load State Options dialog")
    xdotool("windowfocus", "--sync", int(dialogs[0].winId()))
    xdotool("key", "Return")  # its default button, OK


@step(3000, patience_s=60)  # the loaded pipeline runs again
def loaded():
    foundation = simple.FindSource("shown (foundation)")
    if simple.GetLayoutByName("DualEmbed") is None or foundation is None:
        raise NotYet("the state has not loaded")
    if "shown (foundation)" not in inspector_header():
        raise NotYet("the Sample Inspector shows %r, not the loaded foundation samples" % inspector_header())
    check(projections() == state["projections"], "the loaded state has the projections %s" % projections())
    check(current_tab() == "DualEmbed", "after loading, the tab in front is %r" % current_tab())
    steps.screenshot("2-loaded")
    # A click in the foundation map (its view gets the keyboard), Select Points On (d), then a
    # rectangle over the left part of the map; each a step of its own, so that ParaView handles each event.
    frame = frames()[0]
    centre = frame.mapToGlobal(frame.rect().center())
    xdotool("mousemove", "--sync", centre.x(), centre.y(), "click", "1")


step(800)(lambda: xdotool("key", "d"))
step(800)(lambda: drag(frames()[0], 0.05, 0.1, 0.45, 0.95))  # the left part of the map


@step(2000)
def map_selection_drawn():
    picked = selected_ids(simple.FindSource("shown (foundation)"))
    if not picked:
        raise NotYet("the rectangle selected nothing")
    check(len(picked) < N, "the rectangle selected every sample")
    drawn = drawn_highlights()
    check(drawn.get("shown (foundation)") == picked and drawn.get("shown (ft)") == picked,
          "after loading, the selection of %d samples is drawn as %s" % (len(picked), {k: len(v) for k, v in drawn.items()}))
    if "%d selected" % len(picked) not in inspector_header():
        raise NotYet("the Sample Inspector shows %r" % inspector_header())
    state["picked"] = picked
    steps.screenshot("3-map-selection")
    # A left drag over the histogram's lowest bars (bottom-right view).
    drag(frames()[-1], 0.2, 0.25, 0.35, 0.8)


@step(2000)
def histogram_selection():
    picked = selected_ids(simple.FindSource("shown (foundation)"))
    if picked == state["picked"]:
        raise NotYet("the drag over the histogram's bars selected nothing (it pans the chart)")
    check(0 < len(picked) < N, "the drag over the histogram's bars selected %d samples" % len(picked))
    check(drawn_highlights().get("shown (ft)") == picked, "the histogram's selection is not drawn on the fine-tuned map")
    steps.screenshot("4-histogram-selection")
    state["executions"] = 0
    for (name, _), source in simple.GetSources().items():
        if source.GetXMLName() == "EmbeddingProjection":
            source.GetClientSideObject().AddObserver(
                "StartEvent", lambda *args: state.__setitem__("executions", state["executions"] + 1))
    click(toolbar_button("actionCompareEmbeddings"))


def current_tab():
    tabs = [w for w in main_window().findChildren(QtWidgets.QTabWidget)
            if w.parentWidget() is not None and w.parentWidget().inherits("pqTabbedMultiViewWidget")][0]
    return tabs.tabText(tabs.currentIndex())


@step(3000)
def compared_again():
    if current_tab() != "DualEmbed":
        raise NotYet("the tab in front is %r" % current_tab())
    check(projections() == state["projections"], "Compare again after loading made the projections %s" % projections())
    check(state["executions"] == 0, "Compare again after loading computed the maps again (%d runs)" % state["executions"])
    check(len([key for key in simple.GetLayouts() if key[0] == "DualEmbed"]) == 1, "two DualEmbed layouts")
    steps.screenshot("5-compared-again")


steps.run(timeout_s=300, passed="DualEmbed GUI saved state test passed")
