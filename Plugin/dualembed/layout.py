"""The comparison layout: two linked maps (foundation, fine-tuned), a spreadsheet and a gallery.

    from dualembed import layout
    views = layout.compare(foundation_map, ft_map)

``foundation_map`` and ``ft_map`` are pipeline sources whose points are the projections of the
two embeddings (Embedding Projection filters) of the same samples. Selecting samples in one map
selects the same samples (point ids) in the other map and in the spreadsheet; the top outliers of
the foundation embedding are selected at start, and the gallery shows them beside their nearest
neighbours.
"""
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


def compare(foundation_map, ft_map, foundation="foundation", ft="ft", color_by="label",
            outliers=8, layout=None):
    """Builds the comparison layout and returns its views as a dict.

    foundation_map, ft_map: sources whose point coordinates are the two projections.
    outliers: how many of the foundation embedding's top outliers (lowest
    outlier_score_<foundation>) to select at start (0: none).
    """
    layout = layout or simple.CreateLayout("DualEmbed")
    left = simple.CreateView("RenderView")
    right = simple.CreateView("RenderView")
    sheet = simple.CreateView("SpreadSheetView")
    gallery_view = simple.CreateView("RenderView")
    for view in (left, right, gallery_view):
        view.Background = [1, 1, 1]
        view.UseColorPaletteForBackground = 0
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
    sheet.HiddenColumnLabels = ["image", "Points", "Points_Magnitude", "Point ID"]
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
    for view in (left, right, sheet, gallery_view):
        simple.Render(view)
    return {"layout": layout, "foundation": left, "ft": right, "spreadsheet": sheet,
            "gallery": gallery_view, "gallery_source": gallery, "selected": selected}


def show_selection_in_gallery(views, source):
    """Points the gallery at the current selection of `source` (call after selecting)."""
    selection = source.SMProxy.GetSelectionInput(0)
    gallery = views["gallery_source"]
    gallery.Selection = servermanager._getPyProxy(selection) if selection else None
    simple.Render(views["gallery"])
