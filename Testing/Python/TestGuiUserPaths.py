# Runs inside the paraview GUI (paraview --dr --script=...; it quits ParaView itself): the paths
# a new user takes between features, with real X mouse and keyboard events (gui_steps):
#
#  1. Two Image Embeddings added with Quick Launch (Ctrl+Space), only ModelPath typed, Tag left as
#     the panel shows it (foundation, then ft): embedding_foundation and embedding_ft (a second one
#     used to overwrite the first).
#  2. Compare Embeddings (Ctrl+Shift+E) compares those two.
#  3. A click in the layout's histogram makes it the active view; a DualEmbed filter applied then
#     is drawn in a map view, not as a histogram comb.
#  4. A wrong ModelPath, Apply, then the right one, Apply: the maps, their colouring, the
#     spreadsheet's columns and the histogram come back.
#  5. Compare Embeddings on samples without embeddings: one plain sentence in the Output
#     Messages, no Python traceback.
#  6. The foundation map recoloured by its outlier score from the toolbar's colour menu: the new
#     colour bar has a title and dark text (it was white on the white map).
#  7. Data Issues on the fine-tuned map, then the toolbar's Select Issues menu, "label issue (ft)":
#     exactly the flagged samples are selected in the maps.
# Screenshots: TestGuiUserPaths-*.png in DUALEMBED_TEST_OUTPUT_DIR.
import os

import numpy as np
from paraview import servermanager, simple
from PyQt5 import QtWidgets

import gui_steps
from gui_steps import (NotYet, apply_button, check, click, main_window, property_widget, toolbar_button, type_into,
                       xdotool)

simple.LoadPlugin(os.environ["DUALEMBED_PLUGIN"], remote=False)
models = os.environ["DUALEMBED_MODELS_DIR"]
foundation_model = os.path.join(models, "fashion-vit-foundation")
ft_model = os.path.join(models, "fashion-vit-ft")
N = 300
steps = gui_steps.Steps("TestGuiUserPaths")
step = steps.add
state = {}


def points(proxy):
    return proxy.GetDataInformation().GetNumberOfPoints()


def quick_launch(text):
    """ParaView's Quick Launch: Ctrl+Space now; the filter's name and Return once it is open
    (a step that follows: the dialog runs its own event loop)."""
    xdotool("windowfocus", "--sync", int(main_window().winId()))
    xdotool("key", "ctrl+space")
    state["launch"] = text


def type_into_quick_launch():
    dialogs = [w for w in QtWidgets.QApplication.topLevelWidgets() if w.inherits("pqQuickLaunchDialog") and w.isVisible()]
    if not dialogs:
        raise NotYet("Ctrl+Space opened no Quick Launch")
    xdotool("windowfocus", "--sync", int(dialogs[0].winId()))
    xdotool("type", "--delay", 30, state["launch"])
    xdotool("sleep", "0.8", "key", "Return")


def layout_view(kind):
    views = [v for v in simple.GetViewsInLayout(simple.GetLayoutByName("DualEmbed")) if v.GetXMLName() == kind]
    return views[0] if views else None


def layout_view_showing(source):
    for view in simple.GetViewsInLayout(simple.GetLayoutByName("DualEmbed")):
        representation = servermanager.GetRepresentation(source, view)
        if view.GetXMLName() == "RenderView" and representation is not None and representation.Visibility:
            return view
    return None


def output_messages():
    """The text of ParaView's Output Messages window."""
    texts = []
    for widget in [w for w in QtWidgets.QApplication.allWidgets() if w.inherits("pqOutputWidget")]:
        for view in widget.findChildren(QtWidgets.QAbstractItemView):
            model = view.model()
            for row in range(model.rowCount() if model else 0):
                texts.append(str(model.data(model.index(row, 0))))
    return "\n".join(texts)


@step(3000)
def open_samples():
    main_window().resize(1600, 1000)  # no window manager under Xvfb to maximise it
    state["reader"] = simple.ImageDatasetReader(
        FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=N)
    simple.Show(state["reader"])
    simple.SetActiveSource(state["reader"])
    simple.Render()


def add_embedding(model):
    if points(simple.GetActiveSource()) != N:
        raise NotYet("the samples are not there yet")
    before = simple.GetActiveSource()
    quick_launch("Image Embedding")
    state["before"] = before
    state["model"] = model


def type_model_and_apply():
    embedding = simple.GetActiveSource()
    if embedding is state["before"] or embedding.GetXMLName() != "ImageEmbedding":
        raise NotYet("Quick Launch made no Image Embedding")
    tag = property_widget("Tag").findChild(QtWidgets.QLineEdit)
    expected = "foundation" if state["model"] == foundation_model else "ft"
    check(tag.text() == expected, "Tag shows %r before Apply, expected %r (the samples' %s embedding)"
          % (tag.text(), expected, "first" if expected == "foundation" else "second"))
    type_into(property_widget("ModelPath").findChild(QtWidgets.QLineEdit, "FileLineEdit"), state["model"])
    xdotool("sleep", "0.3")
    click(apply_button())
    state.setdefault("embeddings", []).append(embedding)


step(1000)(lambda: add_embedding(foundation_model))
step(800)(type_into_quick_launch)
step(1500)(type_model_and_apply)
step(1000)(lambda: add_embedding(ft_model))
step(800)(type_into_quick_launch)
step(1500)(type_model_and_apply)


@step(1000)
def two_embeddings():
    last = state["embeddings"][-1]
    if points(last) != N:
        raise NotYet("the second embedding has not run yet")
    names = last.PointData.keys()
    check("embedding_foundation" in names and "embedding_ft" in names,
          "two Image Embeddings with Tag left empty made %s" % [n for n in names if n.startswith("embedding")])
    steps.screenshot("1-two-embeddings")
    xdotool("windowfocus", "--sync", int(main_window().winId()))
    xdotool("key", "ctrl+shift+e")


@step(3000)
def compared():
    if simple.GetLayoutByName("DualEmbed") is None or layout_view("XYHistogramChartView") is None:
        raise NotYet("Compare Embeddings has not built its layout yet")
    titles = sorted(r.Input.Text for v in simple.GetViewsInLayout(simple.GetLayoutByName("DualEmbed"))
                    for r in v.Representations if r.GetXMLName() == "TextSourceRepresentation")
    if len(titles) < 2:
        # A layout change processes pending events: this step can run while Compare is still
        # building the layout (seen under load).
        raise NotYet("Compare Embeddings has not titled its maps yet")
    check(titles == ["after fine-tuning (ft)", "before fine-tuning (foundation)"],
          "Compare Embeddings titled its maps %s" % titles)
    steps.screenshot("2-compare")
    # A click in the histogram (its view becomes the active one), then a DualEmbed filter on the
    # fine-tuned map's samples.
    histogram = layout_view("XYHistogramChartView")
    frames = [f for f in main_window().findChildren(QtWidgets.QWidget) if f.inherits("pqViewFrame") and f.isVisible()]
    frame = max(frames, key=lambda f: (f.mapToGlobal(f.rect().center()).y(), f.mapToGlobal(f.rect().center()).x()))
    centre = frame.mapToGlobal(frame.rect().center())
    xdotool("mousemove", "--sync", centre.x(), centre.y(), "click", "1")
    state["histogram"] = histogram


@step(1000)
def filter_after_histogram_click():
    if simple.GetActiveView() != state["histogram"]:
        raise NotYet("the histogram did not become the active view (active: %s)" % simple.GetActiveView())
    steps.screenshot("3a-histogram-active")
    state["before"] = simple.FindSource("map (ft)")
    simple.SetActiveSource(state["before"])
    quick_launch("Embedding Outlier Score")


step(800)(type_into_quick_launch)


@step(1500)
def apply_filter():
    scores = simple.GetActiveSource()
    if scores is state["before"] or scores.GetXMLName() != "EmbeddingOutlierScore":
        raise NotYet("Quick Launch made no Embedding Outlier Score")
    state["scores"] = scores
    click(apply_button())


@step(1500)
def filter_not_in_histogram():
    scores = state["scores"]
    if points(scores) != N:
        raise NotYet("the outlier score has not run yet")
    in_chart = servermanager.GetRepresentation(scores, state["histogram"])
    check(in_chart is None or in_chart.Visibility == 0, "the new filter is drawn in the histogram view")
    kept = servermanager.GetRepresentation(simple.FindSource("shown (foundation)"), state["histogram"])
    check(kept is not None and kept.Visibility == 1, "the layout's histogram is no longer shown")
    shown = [v for v in simple.GetViewsInLayout(simple.GetLayoutByName("DualEmbed"))
             if servermanager.GetRepresentation(scores, v) is not None and
             servermanager.GetRepresentation(scores, v).Visibility == 1]
    check(len(shown) == 1 and shown[0] == layout_view_showing(simple.FindSource("shown (ft)")),
          "the new filter (on the fine-tuned map's samples) is shown in %s, not in the fine-tuned map" % shown)
    steps.screenshot("3-filter-after-histogram")
    simple.Hide(scores, shown[0])
    # A wrong model folder on the first embedding, typed and applied.
    simple.SetActiveSource(state["embeddings"][0])


@step(1000)
def wrong_model():
    type_into(property_widget("ModelPath").findChild(QtWidgets.QLineEdit, "FileLineEdit"),
              foundation_model + "-missing")
    xdotool("sleep", "0.3")
    click(apply_button())


@step(1500)
def failed_apply():
    if points(simple.FindSource("shown (foundation)")) != 0:
        raise NotYet("the maps still show samples after the failed Apply")
    steps.screenshot("4-failed-apply")
    type_into(property_widget("ModelPath").findChild(QtWidgets.QLineEdit, "FileLineEdit"), foundation_model)
    xdotool("sleep", "0.3")
    click(apply_button())


@step(2000)
def recovered():
    shown = simple.FindSource("shown (foundation)")
    if points(shown) != N:
        raise NotYet("the maps did not come back after the right ModelPath")
    left = layout_view("RenderView")
    display = servermanager.GetRepresentation(shown, left)
    check(display is not None and display.Visibility == 1, "the foundation map is no longer shown")
    check(list(display.ColorArrayName) == ["POINTS", "label"],
          "the foundation map lost its colouring: %s" % list(display.ColorArrayName))
    sheet = layout_view("SpreadSheetView")
    columns = servermanager.GetRepresentation(simple.FindSource("shown (ft)"), sheet)
    check(columns is not None and "label" in simple.FindSource("shown (ft)").PointData.keys(),
          "the spreadsheet's samples have no columns: %s" % simple.FindSource("shown (ft)").PointData.keys())
    histogram = servermanager.GetRepresentation(shown, state["histogram"])
    check(histogram is not None and list(histogram.SelectInputArray)[-1] == "outlier_score_foundation",
          "the histogram lost its array: %s" % (histogram and list(histogram.SelectInputArray)))
    steps.screenshot("5-recovered")
    # Compare Embeddings on samples without embeddings: a click on the toolbar button.
    simple.SetActiveSource(state["reader"])
    click(toolbar_button("actionCompareEmbeddings"))


@step(2000)
def plain_error():
    text = output_messages()
    if "DualEmbed:" not in text:
        raise NotYet("no DualEmbed message in the Output Messages:\n%s" % text[-2000:])
    check("Traceback" not in text, "the Output Messages show a Python traceback:\n%s" % text[-3000:])
    check("needs samples with two embeddings" in text, "the message does not say what is missing:\n%s" % text)
    for widget in [w for w in QtWidgets.QApplication.allWidgets() if w.inherits("pqOutputWidget")]:
        for view in widget.findChildren(QtWidgets.QAbstractItemView):
            view.scrollToBottom()  # for the screenshot: the newest message
    steps.screenshot("6-plain-error")
    for widget in [w for w in QtWidgets.QApplication.allWidgets() if w.inherits("pqOutputWidget")]:
        widget.window().hide()  # the Output Messages window would cover the maps
    # Recolour the foundation map by its outlier score with the toolbar's colour menu: select
    # the map's samples, click its view, open the menu and type the array's name.
    simple.SetActiveSource(simple.FindSource("shown (foundation)"))
    view = [f for f in main_window().findChildren(QtWidgets.QWidget) if f.inherits("pqViewFrame") and f.isVisible()]
    frame = min(view, key=lambda f: (f.mapToGlobal(f.rect().center()).y(), f.mapToGlobal(f.rect().center()).x()))
    corner = frame.mapToGlobal(frame.rect().topLeft())
    xdotool("mousemove", "--sync", corner.x() + 40, corner.y() + 60, "click", "1")


def colour_menu():
    menus = [c for c in main_window().findChildren(QtWidgets.QComboBox)
             if c.isVisible() and c.parentWidget() is not None and c.parentWidget().inherits("pqDisplayColorWidget")]
    check(menus, "no colour menu in the toolbar")
    return menus[0]


@step(1000)
def recolour():
    if simple.GetActiveView() != layout_view_showing(simple.FindSource("shown (foundation)")):
        raise NotYet("the foundation map's view is not the active one")
    click(colour_menu())
    xdotool("sleep", "0.5", "type", "--delay", 40, "outlier_score_f")
    xdotool("key", "Return")


@step(2000)
def legible_colour_bar():
    shown = simple.FindSource("shown (foundation)")
    view = layout_view_showing(shown)
    display = servermanager.GetRepresentation(shown, view)
    if list(display.ColorArrayName)[-1] != "outlier_score_foundation":
        raise NotYet("the map is coloured by %s" % list(display.ColorArrayName))
    bar = simple.GetScalarBar(simple.GetColorTransferFunction("outlier_score_foundation"), view)
    steps.screenshot("7-recoloured")
    check(bar.Visibility == 1 and "outlier_score_foundation" in bar.Title, "the colour bar has no title: %r" % bar.Title)
    for part in ("TitleColor", "LabelColor"):
        colour = list(getattr(bar, part))
        check(sum(colour) < 1.5, "the colour bar's %s is %s on the map's white background" % (part, colour))
    # Data Issues on the fine-tuned map's samples (selected in the Pipeline Browser, as from the
    # Filters menu), then the toolbar's Select Issues menu.
    simple.SetActiveSource(simple.FindSource("map (ft)"))
    state["issues"] = simple.DataIssues()
    simple.SetActiveSource(state["issues"])


@step(1500)
def open_issues_menu():
    state["issues"].UpdatePipeline()
    if points(state["issues"]) != N:
        raise NotYet("Data Issues has not run yet")
    click(toolbar_button("actionSelectIssues"))


@step(1000)
def choose_issue():
    menus = [m for m in QtWidgets.QApplication.topLevelWidgets() if isinstance(m, QtWidgets.QMenu) and m.isVisible()]
    if not menus:
        raise NotYet("Select Issues opened no menu")
    entries = {a.objectName(): a for a in menus[0].actions()}
    check("select_is_label_issue_ft" in entries, "the Select Issues menu lists %s" % [a.text() for a in entries.values()])
    state["flag"] = "is_label_issue_ft"
    steps.screenshot("8-issues-menu")
    centre = menus[0].mapToGlobal(menus[0].actionGeometry(entries["select_is_label_issue_ft"]).center())
    xdotool("mousemove", "--sync", centre.x(), centre.y(), "click", "1")


@step(1500)
def issues_selected():
    from vtkmodules.util.numpy_support import vtk_to_numpy
    shown = simple.FindSource("shown (ft)")
    selection = shown.SMProxy.GetSelectionInput(0)
    flags = vtk_to_numpy(servermanager.Fetch(state["issues"]).GetPointData().GetArray(state["flag"]))
    if selection is None:
        raise NotYet("nothing is selected in the fine-tuned map")
    chosen = simple.ExtractSelection(Input=shown, Selection=servermanager._getPyProxy(selection))
    ids = vtk_to_numpy(servermanager.Fetch(chosen).GetPointData().GetArray("vtkOriginalPointIds"))
    simple.Delete(chosen)
    check(sorted(ids) == sorted(np.flatnonzero(flags)), "Select Issues selected %s, Data Issues flagged %s"
          % (sorted(ids), list(np.flatnonzero(flags))))
    steps.screenshot("9-issues-selected")


steps.run(300, "DualEmbed GUI user paths test passed")
