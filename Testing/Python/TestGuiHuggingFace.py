# Runs inside the paraview GUI (paraview --dr --script=...; it quits ParaView itself): Hugging Face
# datasets opened as a user opens them, with real X events (xdotool):
#  1. For each layout (arrow-rs snappy Parquet, DuckDB zstd Parquet, a shard of a sharded split, a
#     datasets cache .arrow, a save_to_disk split, an image folder cached by path): File > Open
#     (Ctrl+O), the path typed into the dialog, Return, Apply: every sample's pixels equal PIL's
#     decoding of the PNG / JPEG, labels and class names from the file's features.
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
# Every layout, as File > Open picks it: (file, manifest dataset, its image column).
layouts = [
    ("parquet/cifar10-arrowrs-snappy/plain_text/train-00000-of-00001.parquet", "cifar10", "img"),  # arrow-rs, snappy
    ("parquet/cifar100-duckdb-zstd/train-00000-of-00001.parquet", "cifar100", "img"),  # DuckDB, zstd
    ("parquet/mnist-sharded/train-00001-of-00002.parquet", "mnist_train", "image"),  # a shard: both shards
    ("arrow/cache/cifar10/plain_text/0.0.0/abc123/cifar10-train.arrow", "cifar10_cache", "img"),  # datasets cache
    ("arrow/save_to_disk/beans/validation/data-00000-of-00001.arrow", "beans_validation", "image"),  # save_to_disk
    ("arrow/imagefolder-by-path/imagefolder-train.arrow", "imagefolder", "image"),  # cached by path
]


def check_samples(reader, name, image_column):
    """The reader's output equals the manifest's rows: pixels (PIL's decoding), labels, names."""
    from vtkmodules.util.numpy_support import vtk_to_numpy
    rows = manifest["datasets"][name]["rows"]
    if reader.GetDataInformation().GetNumberOfPoints() != len(rows):
        raise NotYet("after Apply %s has %d samples, expected %d"
                     % (name, reader.GetDataInformation().GetNumberOfPoints(), len(rows)))
    data = servermanager.Fetch(reader)
    pixels = vtk_to_numpy(data.GetPointData().GetArray("image"))
    channels = data.GetFieldData().GetArray("image_shape").GetValue(2)
    labels = vtk_to_numpy(data.GetPointData().GetArray("label"))
    names = data.GetPointData().GetAbstractArray("label_str")
    label_column = [c for c in ("label", "labels", "fine_label") if c in rows[0]][0]
    classes = manifest["datasets"][name]["features"][label_column]["names"]
    for i, row in enumerate(rows):
        image = Image.open(os.path.join(data_dir, row[image_column]["file"])).convert("L" if channels == 1 else "RGB")
        check(np.array_equal(pixels[i], np.asarray(image).reshape(-1)),
              "%s sample %d: the pixels differ from PIL's decoding" % (name, i))
        check(labels[i] == row[label_column] and names.GetValue(i) == classes[row[label_column]],
              "%s sample %d: label %d %r" % (name, i, labels[i], names.GetValue(i)))


def add_layout_steps(index, relative, name, image_column):
    file_name = os.path.join(data_dir, relative)

    def open_file():
        if index == 0:
            main_window().resize(1600, 1000)  # no window manager under Xvfb to maximise it
        open_with_dialog(file_name)

    def choose_file():
        type_into_dialog()

    def confirm_file():
        dialog = app.activeModalWidget()
        typed = dialog.findChild(QtWidgets.QLineEdit, "EntityName").text() if dialog else ""
        if typed != file_name:
            raise NotYet("the dialog shows %r, not the typed path" % typed)
        if index == 0:
            steps.screenshot("dialog")
        xdotool("key", "Return")

    def apply_file():
        state[name] = opened_reader()
        click(apply_button())

    def file_read():
        check_samples(state[name], name, image_column)
        if index == 0:
            steps.screenshot("cifar")

    for delay, function in ((3000 if index == 0 else 200, open_file), (1500, choose_file), (300, confirm_file),
                            (1500, apply_file), (1500, file_read)):
        function.__name__ = "%s_%s" % (function.__name__, name)
        step(delay)(function)


for index, layout in enumerate(layouts):
    add_layout_steps(index, *layout)


@step(200)
def open_embeddings():
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


steps.run(420, "DualEmbed GUI Hugging Face test passed")
