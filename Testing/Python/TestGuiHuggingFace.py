# Runs inside the paraview GUI (paraview --dr --script=...; it quits ParaView itself): Hugging Face
# datasets opened as a user opens them, with real X events (xdotool):
#  1. File > Open (Ctrl+O), the Hub's CIFAR-10 Parquet file typed into the dialog, Return, Apply:
#     24 samples whose pixels equal PIL's decoding of the PNGs, class names from the file.
#  2. File > Open of a table of embeddings computed elsewhere (no images), Apply, then Compare
#     Embeddings (Ctrl+Shift+E): the two maps, titled by the table's two embedding columns.
# Screenshots in DUALEMBED_TEST_OUTPUT_DIR: TestGuiHuggingFace-dialog.png, -cifar.png, -compare.png.
import json
import os

import numpy as np
from paraview import servermanager, simple
from PIL import Image
from PyQt5 import QtWidgets

from gui_steps import NotYet, app, apply_button, check, click, main_window, xdotool
import gui_steps

simple.LoadPlugin(os.environ["DUALEMBED_PLUGIN"], remote=False)
data_dir = os.path.join(os.environ["DUALEMBED_TESTING_DATA_DIR"], "huggingface")
manifest = json.load(open(os.path.join(data_dir, "manifest.json")))
cifar = os.path.join(data_dir, "parquet", "cifar10-arrowrs-snappy", "plain_text", "train-00000-of-00001.parquet")
embeddings = os.path.join(data_dir, "parquet", "embeddings", "embeddings.parquet")
steps = gui_steps.Steps("TestGuiHuggingFace")
step = steps.add


def open_with_dialog(file_name):
    xdotool("windowfocus", "--sync", int(main_window().winId()))
    xdotool("key", "ctrl+o")
    state["file"] = file_name


def type_into_dialog():
    dialog = app.activeModalWidget()
    if dialog is None or not dialog.inherits("pqFileDialog"):
        raise NotYet("Ctrl+O opened no file dialog")
    name = dialog.findChild(QtWidgets.QLineEdit, "EntityName")
    name.setFocus()
    xdotool("windowfocus", "--sync", int(dialog.winId()))
    xdotool("type", "--delay", 2, state["file"])
    return dialog


def opened_reader():
    """The reader File > Open made for state["file"], waiting for Apply."""
    if app.activeModalWidget() is not None:
        raise NotYet("a dialog is still open after choosing %s" % state["file"])
    source = simple.GetActiveSource()
    if source is None or source.GetXMLName() != "ImageDatasetReader" or source.FileName != state["file"]:
        raise NotYet("File > Open made no Image Dataset Reader for %s" % state["file"])
    return source


state = {}


@step(3000)
def open_cifar():
    main_window().resize(1600, 1000)  # no window manager under Xvfb to maximise it
    open_with_dialog(cifar)


@step(1500)
def choose_cifar():
    type_into_dialog()
    steps.screenshot("dialog")
    xdotool("key", "Return")


@step(1500)
def apply_cifar():
    state["cifar"] = opened_reader()
    click(apply_button())


@step(1500)
def cifar_read():
    reader = state["cifar"]
    if reader.GetDataInformation().GetNumberOfPoints() != 24:
        raise NotYet("after Apply the reader has %d samples, expected 24" % reader.GetDataInformation().GetNumberOfPoints())
    data = servermanager.Fetch(reader)
    from vtkmodules.util.numpy_support import vtk_to_numpy
    pixels = vtk_to_numpy(data.GetPointData().GetArray("image"))
    rows = manifest["datasets"]["cifar10"]["rows"]
    for i, row in enumerate(rows):
        expected = np.asarray(Image.open(os.path.join(data_dir, row["img"]["file"])).convert("RGB")).reshape(-1)
        check(np.array_equal(pixels[i], expected), "sample %d: the pixels differ from PIL's decoding" % i)
    names = data.GetPointData().GetAbstractArray("label_str")
    classes = manifest["datasets"]["cifar10"]["features"]["label"]["names"]
    check(names.GetValue(1) == classes[rows[1]["label"]], "class name %r" % names.GetValue(1))
    steps.screenshot("cifar")
    open_with_dialog(embeddings)


@step(1500)
def choose_embeddings():
    type_into_dialog()
    xdotool("key", "Return")


@step(1500)
def apply_embeddings():
    state["table"] = opened_reader()
    click(apply_button())


@step(1500)
def embeddings_read():
    table = state["table"]
    if table.GetDataInformation().GetNumberOfPoints() != 40:
        raise NotYet("after Apply the table has %d samples, expected 40" % table.GetDataInformation().GetNumberOfPoints())
    names = table.PointData.keys()
    check("embedding_foundation" in names and "embedding_finetuned" in names, "the table's arrays: %s" % names)
    simple.SetActiveSource(table)
    xdotool("windowfocus", "--sync", int(main_window().winId()))
    xdotool("key", "ctrl+shift+e")


@step(3000)
def compared():
    compare_layout = simple.GetLayoutByName("DualEmbed")
    if compare_layout is None:
        raise NotYet("Compare Embeddings has not built its layout yet")
    titles = sorted(r.Input.Text for v in simple.GetViewsInLayout(compare_layout)
                    for r in v.Representations if r.GetXMLName() == "TextSourceRepresentation")
    if len(titles) < 2:
        raise NotYet("Compare Embeddings has not titled its maps yet")
    check(titles == ["after fine-tuning (finetuned)", "before fine-tuning (foundation)"],
          "Compare Embeddings titled its maps %s" % titles)
    maps = [s for s in simple.GetSources().values() if s.GetXMLName() == "EmbeddingProjection"]
    check(sorted(m.Embedding[1] for m in maps) == ["embedding_finetuned", "embedding_foundation"],
          "the maps project %s" % sorted(m.Embedding[1] for m in maps))
    for m in maps:
        check(m.GetDataInformation().GetNumberOfPoints() == 40, "a map has %d samples" % m.GetDataInformation().GetNumberOfPoints())
    inspector = [d for d in main_window().findChildren(QtWidgets.QDockWidget) if d.windowTitle() == "Sample Inspector"]
    texts = [label.text() for dock in inspector for label in dock.findChildren(QtWidgets.QLabel)]
    if not any("no images" in text for text in texts):
        raise NotYet("the Sample Inspector does not say the samples have no images: %s" % texts[:3])
    steps.screenshot("compare")


steps.run(240, "DualEmbed GUI Hugging Face test passed")
