"""The comparison layout: two linked maps (foundation, fine-tuned), a spreadsheet and a gallery.

    from dualembed import layout
    views = layout.compare(foundation_map, ft_map)

``foundation_map`` and ``ft_map`` are pipeline sources whose points are the projections of the
two embeddings (Embedding Projection filters) of the same samples. Selecting samples in one map
selects the same samples (point ids) in the other map and in the spreadsheet; the top outliers of
the foundation embedding are selected at start, and the gallery shows them beside their nearest
neighbours. While the layout exists, selecting samples (in either map or the spreadsheet) points the
gallery at the selected samples; clearing the selection brings back the top outliers.

The same call works in pvpython, pvbatch and the paraview GUI (e.g. ``paraview --script=...``,
also under xvfb-run): see `welcome_dialog_guard` for what the GUI needs.
"""
import contextlib

from paraview import simple, servermanager

SELECTION_LINK = "DualEmbedSelection"
CAMERA_LINK = "DualEmbedCamera"


def class_names(source):
    """The dataset's class names (field data `class_names` of the reader's output)."""
    data = servermanager.Fetch(source)
    names = data.GetFieldData().GetAbstractArray("class_names")
    return [names.GetValue(i) for i in range(names.GetNumberOfValues())] if names else []


def style_map(view, source, color_by="label", title="", names=None):
    """Shows a projection as round point sprites, 2-D, with a legend.

    color_by "label" colours by class with the class names in a categorical legend; any other
    point-data array (e.g. outlier_score_foundation) gets a continuous colour map.
    """
    display = simple.Show(source, view)
    display.SetRepresentationType("Points")
    display.RenderPointsAsSpheres = 1
    display.PointSize = 5
    if color_by:
        simple.ColorBy(display, ("POINTS", color_by))
        lut = simple.GetColorTransferFunction(color_by)
        if color_by == "label":
            names = names if names is not None else class_names(source)
            lut.InterpretValuesAsCategories = 1
            lut.Annotations = [v for i, name in enumerate(names) for v in (str(i), name)]
            lut.ApplyPreset("Brewer Qualitative Paired", True)
        else:
            lut.ApplyPreset("Viridis (matplotlib)", True)
            display.RescaleTransferFunctionToDataRange(True, False)
        display.SetScalarBarVisibility(view, True)
        bar = simple.GetScalarBar(lut, view)
        bar.Title = "" if color_by == "label" else color_by
        bar.ComponentTitle = ""
        bar.WindowLocation = "Any Location"
        bar.Position = [0.87, 0.04]
        bar.TitleColor = bar.LabelColor = [0.1, 0.1, 0.1]
        bar.LabelFontSize = bar.TitleFontSize = 10
        bar.ScalarBarLength = 0.45
        bar.ScalarBarThickness = 10
    view.InteractionMode = "2D"
    view.OrientationAxesVisibility = 0
    view.CameraParallelProjection = 1
    if title:
        text = simple.Text(Text=title)
        text_display = simple.Show(text, view)
        text_display.WindowLocation = "Upper Center"
        text_display.FontSize = 14
        text_display.Color = [0.1, 0.1, 0.1]
    # Leave the right-hand strip to the legend: zoom out a little, move the data left.
    simple.ResetCamera(view)
    bounds = source.GetDataInformation().GetBounds()
    shift = 0.12 * (bounds[1] - bounds[0])
    view.CameraFocalPoint = [view.CameraFocalPoint[0] + shift] + list(view.CameraFocalPoint[1:])
    view.CameraPosition = [view.CameraPosition[0] + shift] + list(view.CameraPosition[1:])
    view.CameraParallelScale = 1.15 * view.CameraParallelScale
    return display


def fit_image(view, image_source):
    """A 2-D view that fills its height with an image (the gallery)."""
    view.InteractionMode = "2D"
    view.OrientationAxesVisibility = 0
    view.CameraParallelProjection = 1
    simple.ResetCamera(view)
    bounds = image_source.GetDataInformation().GetBounds()
    view.CameraParallelScale = 0.52 * (bounds[3] - bounds[2])


def select_lowest(source, array, count):
    """Selects the `count` samples of `source` with the lowest values of `array`."""
    from vtkmodules.util.numpy_support import vtk_to_numpy
    import numpy as np
    data = servermanager.Fetch(source)
    values = vtk_to_numpy(data.GetPointData().GetArray(array))
    ids = np.argsort(values, kind="stable")[:count]
    simple.SelectIDs(IDs=[v for i in ids for v in (0, int(i))], FieldType="POINT", Source=source)
    return [int(i) for i in ids]


# --- The paraview GUI: ParaView's Welcome dialog -------------------------------------------------
# The GUI (ParaView 5.11) opens a modal Welcome dialog from a one-shot timer, one second after the
# main window first shows (unless started with --dr, or "Don't show again" was ticked). A --script
# runs from the event loop before that; any layout change (CreateLayout, SplitVertical, AssignView,
# Reset, ...) rebuilds the layout's widgets and processes pending Qt events
# (pqMultiViewWidget::reload -> pqEventDispatcher::processEvents), so a script that reaches its
# first layout change after that second fires the timer there and waits inside the dialog's
# QDialog::exec() until someone closes it: forever under xvfb-run. Python in the GUI has no Qt
# bindings, but a render view's interactor there is a QVTKInteractor whose timers are QTimers:
# a repeating one, running while the layout changes, closes the Welcome dialog if it opens.

dismissed_welcome_dialogs = 0  # how many Welcome dialogs welcome_dialog_guard closed (tests)


def _qt_interactor(view):
    """The view's interactor when it is the GUI's (a QVTKInteractor), else None."""
    try:
        interactor = view.GetRenderWindow().GetInteractor()
    except AttributeError:  # not a render view
        return None
    return interactor if interactor is not None and interactor.IsA("QVTKInteractor") else None


def _close_welcome_dialog_function():
    """A function that closes the GUI's modal Welcome dialog if it is open (None: not possible).

    Calls Qt 5 (the Qt of ParaView 5.11) through ctypes: QApplication::activeModalWidget(), the
    widget's class name (QObject::metaObject(), the first entry of its virtual table), and
    QWidget::close() (which rejects a dialog and so ends its exec()).
    """
    import ctypes
    try:
        widgets = ctypes.CDLL("libQt5Widgets.so.5")
        core = ctypes.CDLL("libQt5Core.so.5")
        active_modal = widgets._ZN12QApplication17activeModalWidgetEv
        close = widgets._ZN7QWidget5closeEv
        class_name = core._ZNK11QMetaObject9classNameEv
    except (OSError, AttributeError):
        return None
    active_modal.argtypes, active_modal.restype = [], ctypes.c_void_p
    close.argtypes, close.restype = [ctypes.c_void_p], ctypes.c_bool
    class_name.argtypes, class_name.restype = [ctypes.c_void_p], ctypes.c_char_p
    meta_object_type = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p)

    def close_welcome_dialog():
        global dismissed_welcome_dialogs
        widget = active_modal()
        if not widget:
            return False
        vtable = ctypes.cast(widget, ctypes.POINTER(ctypes.c_void_p))[0]
        meta_object = meta_object_type(ctypes.cast(vtable, ctypes.POINTER(ctypes.c_void_p))[0])
        if class_name(meta_object(widget)) != b"pqWelcomeDialog":
            return False  # some other dialog: not ours to close
        close(widget)
        dismissed_welcome_dialogs += 1
        return True

    return close_welcome_dialog


@contextlib.contextmanager
def welcome_dialog_guard(view=None, interval_ms=50):
    """Within this block, closes the GUI's Welcome dialog whenever it opens (see above).

    view: a render view of the GUI, whose interactor runs the timer (default: the active view).
    Does nothing outside the GUI (pvpython, pvbatch) or where the timer cannot be made. Wrap any
    other layout change or screenshot of a layout (SaveScreenshot of a layout resizes its views)
    that a GUI script makes before the Welcome dialog has been and gone, or start the GUI with --dr.
    """
    interactor = _qt_interactor(view if view is not None else simple.GetActiveView())
    close_welcome_dialog = _close_welcome_dialog_function() if interactor is not None else None
    if close_welcome_dialog is None:
        yield
        return
    observer = interactor.AddObserver("TimerEvent", lambda *args: close_welcome_dialog())
    timer = interactor.CreateRepeatingTimer(interval_ms)
    try:
        yield
    finally:
        interactor.DestroyTimer(timer)
        interactor.RemoveObserver(observer)


def compare(foundation_map, ft_map, foundation="foundation", ft="ft", color_by="label",
            outliers=8, layout=None):
    """Builds the comparison layout and returns its views as a dict.

    foundation_map, ft_map: sources whose point coordinates are the two projections.
    outliers: how many of the foundation embedding's top outliers (lowest
    outlier_score_<foundation>) to select at start (0: none).
    """
    left = simple.CreateView("RenderView")
    right = simple.CreateView("RenderView")
    sheet = simple.CreateView("SpreadSheetView")
    gallery_view = simple.CreateView("RenderView")
    for view in (left, right, gallery_view):
        view.Background = [1, 1, 1]
        view.UseColorPaletteForBackground = 0
    with welcome_dialog_guard(left):  # layout changes in the GUI: see welcome_dialog_guard
        layout = layout or simple.CreateLayout("DualEmbed")
        # Top row: the two maps; bottom row: spreadsheet and gallery.
        layout.SplitVertical(0, 0.62)
        layout.SplitHorizontal(1, 0.5)
        layout.SplitHorizontal(2, 0.6)
        layout.AssignView(3, left)
        layout.AssignView(4, right)
        layout.AssignView(5, sheet)
        layout.AssignView(6, gallery_view)

    names = class_names(foundation_map) or class_names(ft_map)  # both maps share one colour map
    style_map(left, foundation_map, color_by, "before fine-tuning (%s)" % foundation, names)
    style_map(right, ft_map, color_by, "after fine-tuning (%s)" % ft, names)

    simple.Show(ft_map, sheet)
    sheet.FieldAssociation = "Point Data"
    # Per-sample columns only: the images and the embeddings (vectors) are too wide to read there.
    vectors = [array.GetName() for array in ft_map.PointData
               if array.GetNumberOfComponents() > 3 and array.GetName() != "image"]
    sheet.HiddenColumnLabels = (["image", "image_Magnitude", "Points", "Points_Magnitude", "Point ID"]
                                + vectors + [name + "_Magnitude" for name in vectors])
    sheet.ColumnToSort = "outlier_score_%s" % foundation
    sheet.InvertOrder = 0

    # Same point ids in both maps and the spreadsheet.
    simple.AddSelectionLink(foundation_map, ft_map, SELECTION_LINK)

    gallery = simple.SampleGallery(Input=foundation_map, RankArray="outlier_score_%s" % foundation,
                                   NeighborSuffix=foundation, Count=max(outliers, 1))
    gallery_display = simple.Show(gallery, gallery_view)
    gallery_display.MapScalars = 0
    fit_image(gallery_view, gallery)

    selected = []
    if outliers > 0:
        selected = select_lowest(foundation_map, "outlier_score_%s" % foundation, outliers)
    for representation in gallery_view.Representations:  # the gallery alone in its view
        if representation.Input is not None and representation.Input.GetXMLName() != "SampleGallery":
            representation.Visibility = 0
    views = {"layout": layout, "foundation": left, "ft": right, "spreadsheet": sheet,
             "gallery": gallery_view, "gallery_source": gallery, "selected": selected}
    # From here on the gallery follows the selection (the maps' selections are linked, so
    # watching the foundation map is enough).
    follow_selection(views, foundation_map)
    for view in (left, right, sheet, gallery_view):
        simple.Render(view)
    return views


def show_selection_in_gallery(views, source):
    """Points the gallery at the current selection of `source` (all of it: no selection)."""
    selection = source.SMProxy.GetSelectionInput(0)
    gallery = views["gallery_source"]
    gallery.Selection = servermanager._getPyProxy(selection) if selection else None
    simple.Render(views["gallery"])


def follow_selection(views, source):
    """Updates the gallery whenever the selection of `source` changes (compare() does this).

    Works for selections made in the GUI (in a map or the spreadsheet) and from Python
    (simple.SelectIDs, ...). Returns the observer's tag; views["selection_observer"] holds it too.
    """
    def on_selection_changed(*args):
        show_selection_in_gallery(views, source)

    views["selection_observer"] = source.SMProxy.AddObserver("SelectionChangedEvent",
                                                             on_selection_changed)
    return views["selection_observer"]
