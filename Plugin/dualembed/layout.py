"""The comparison layout: two linked maps (foundation, fine-tuned), a spreadsheet, a histogram of
the outlier score and, in scripts, a gallery of the selected samples.

    from dualembed import layout
    views = layout.compare(foundation_map, ft_map)      # two projections of the same samples
    views = layout.compare_source(samples)              # any samples with two embeddings

In the paraview GUI, the toolbar's *Compare Embeddings* calls `compare_active_source()`, and the
Sample Inspector dock (C++, Plugin/pqSampleInspector) shows the selection with its neighbours, so
the layout has no gallery view there and nothing in Python runs when the selection changes.

``foundation_map`` and ``ft_map`` are pipeline sources whose points are the projections of the
two embeddings (Embedding Projection filters) of the same samples. Selecting samples in one map
selects the same samples (point ids) in the other map and in the spreadsheet; the top outliers of
the foundation embedding are selected at start, and the gallery shows them beside their nearest
neighbours. While the layout exists, selecting samples (in either map or the spreadsheet) points the
gallery at the selected samples; clearing the selection brings back the top outliers.

The same call works in pvpython, pvbatch and the paraview GUI (e.g. ``paraview --script=...``,
also under xvfb-run; the plugin closes ParaView's Welcome dialog in a scripted GUI session).
"""
import uuid

from paraview import simple, servermanager

SELECTION_LINK = "DualEmbedSelection"
CAMERA_LINK = "DualEmbedCamera"
# Selected samples: black, 3 pixels larger, on the white maps; no class colour of the palette is black.
SELECTION_COLOR = [0.0, 0.0, 0.0]
SPHERE_LIMIT = 20000
# Proxy groups of the views' own parts, which the Pipeline Browser does not list as sources.
TITLES_GROUP = "dualembed_titles"  # the titles
HIGHLIGHTS_GROUP = "dualembed_highlights"  # the selection drawn on top of each map


def fetch(source):
    """The samples of `source` from every rank, joined in order, on the client. ParaView 5.11's
    servermanager.Fetch chooses how to join the ranks' pieces from the data information, which a
    proxy that was never updated lacks: it then returns rank 0's piece alone."""
    source.UpdatePipeline()
    return servermanager.Fetch(source)


def class_names(source):
    """The dataset's class names (field data `class_names` of the reader's output)."""
    data = fetch(source)
    names = data.GetFieldData().GetAbstractArray("class_names")
    return [names.GetValue(i) for i in range(names.GetNumberOfValues())] if names else []


def style_map(view, source, color_by="label", title="", names=None):
    """Shows a projection as round point sprites, 2-D, with a legend.

    color_by "label" colours by class with the class names in a categorical legend; any other
    point-data array (e.g. outlier_score_foundation) gets a continuous colour map.
    """
    display = simple.Show(source, view)
    display.SetRepresentationType("Points")
    # Round sprites read best; above SPHERE_LIMIT samples plain square points: without a GPU
    # (Mesa's software renderer) the sprites made every selection take 2 s at 70 000 samples.
    large = source.GetDataInformation().GetNumberOfPoints() > SPHERE_LIMIT
    display.RenderPointsAsSpheres = 0 if large else 1
    display.PointSize = 3 if large else 5
    style_selection(display)
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
    _flat_view(view, title)
    _fit_map(view, source)
    return display


def _fit_map(view, source):
    """The whole map in `view`, the right-hand strip left to the legend: zoomed out a little, the
    data moved left. The view is updated first: after a loaded state it had not drawn the map yet,
    and its bounds were empty."""
    source.UpdatePipeline()
    view.SMProxy.Update()
    simple.ResetCamera(view)
    bounds = source.GetDataInformation().GetBounds()
    shift = 0.12 * (bounds[1] - bounds[0])
    view.CameraFocalPoint = [view.CameraFocalPoint[0] + shift] + list(view.CameraFocalPoint[1:])
    view.CameraPosition = [view.CameraPosition[0] + shift] + list(view.CameraPosition[1:])
    view.CameraParallelScale = 1.15 * view.CameraParallelScale


def _flat_view(view, title=""):
    """A 2-D view with parallel projection, no orientation axes, `title` on top."""
    view.InteractionMode = "2D"
    view.OrientationAxesVisibility = 0
    view.CameraParallelProjection = 1
    if title:
        # A part of the view, not of the data: registered outside the "sources" group, so the
        # Pipeline Browser does not list it (Text1, Text2, ... cluttered it).
        text = servermanager.sources.Text(Text=title)
        servermanager.ProxyManager().RegisterProxy(TITLES_GROUP, title, text)
        text_display = simple.Show(text, view)
        text_display.WindowLocation = "Upper Center"
        text_display.FontSize = 14
        text_display.Color = [0.1, 0.1, 0.1]


def style_selection(display):
    """Selected samples in black and larger than the others (ParaView's magenta is too close to
    the pink and lilac of the class palette)."""
    for name, value in (("SelectionColor", SELECTION_COLOR), ("SelectionPointSize", display.PointSize + 3),
                        ("SelectionRenderPointsAsSpheres", display.RenderPointsAsSpheres)):
        if display.GetProperty(name) is not None:  # not every representation has them
            display.SetPropertyWithName(name, value)


_highlights = []  # (samples, observer tag, view, highlight): what highlight_selection() follows


def highlight_selection(view, samples):
    """Draws the selected samples of `samples` on top of its map in `view`: black dots in front of
    every other sample, at any density, each in the white halo of ParaView's own (larger) drawing
    of the selection. ParaView draws its own selection colour
    among the samples, where the neighbours of a dense map hid single samples and most of a small
    selection (and a selected region became a black outline). Follows the selection of `samples`
    (selections linked to it too) from the GUI and from Python; nothing when none."""
    # The halo is ParaView's own drawing of the selection, white and larger, among the samples;
    # the dots are one drawing of the selected samples in front of all of them. (A second
    # drawing for the halo cost 0.1-0.2 s per frame when a fine-tuning run plays.)
    shown = simple.GetDisplayProperties(samples, view)
    shown.SelectionColor = [1, 1, 1]
    shown.SelectionPointSize = 15
    part = servermanager.filters.ExtractSelection(Input=samples)
    servermanager.ProxyManager().RegisterProxy(HIGHLIGHTS_GROUP, "%s dots" % _label(samples), part)
    bounds = samples.GetDataInformation().GetBounds()
    size = max(bounds[1] - bounds[0], bounds[3] - bounds[2], 1e-12)
    display = simple.Show(part, view)
    display.SetRepresentationType("Points")
    display.ColorArrayName = ["POINTS", ""]
    display.AmbientColor = display.DiffuseColor = [0, 0, 0]
    display.PointSize = 10
    # Round like the map's own points, square where the map draws squares (above SPHERE_LIMIT):
    # round sprites among square points lost most of the selected samples under Mesa's software
    # renderer (only 2 of 8 top outliers drawn at 70 000 samples).
    display.RenderPointsAsSpheres = shown.RenderPointsAsSpheres
    # In front by more than the point sprites' own depth (a sphere's radius, a few % of the map).
    display.Position = [0, 0, 0.4 * size]
    display.Pickable = 0  # a rectangle selection selects the samples, not their highlight
    _follow_selection(samples, part, display, view)
    return part


def _follow_selection(samples, part, display, view):
    """Keeps the highlight `part` (shown by `display` in `view`) on the selection of `samples`."""
    def follow(*args):
        # Only what changed: a property set again re-executes and redraws (at every frame of a
        # fine-tuning run's playback, where the selection is announced again).
        selection = samples.SMProxy.GetSelectionInput(0)
        current = part.Selection
        if selection is not None and (current is None or current.SMProxy != selection):
            part.Selection = servermanager._getPyProxy(selection)
        if display.Visibility != (selection is not None):
            display.Visibility = 1 if selection is not None else 0
    _highlights.append((samples, samples.SMProxy.AddObserver("SelectionChangedEvent", follow), view, part))
    follow()


def _remove_highlights(views):
    """Stops following the selections drawn in `views` and deletes their highlights."""
    for entry in [h for h in _highlights if h[2] in views]:
        entry[0].SMProxy.RemoveObserver(entry[1])
        _highlights.remove(entry)
    manager = servermanager.ProxyManager()
    parts = manager.GetProxiesInGroup(HIGHLIGHTS_GROUP)
    shown = {representation.Input for view in views for representation in view.Representations
             if getattr(representation, "Input", None) is not None}
    for (name, _), part in parts.items():
        if part in shown:
            for view in views:
                simple.Hide(part, view)
            manager.UnRegisterProxy(HIGHLIGHTS_GROUP, name, part)


def data_map(source, suffix="ft"):
    """Dataset Cartography's data map of Training Dynamics samples: each sample at (variability_X,
    confidence_X). The point ids stay those of `source`, so selections are the same samples."""
    return simple.Calculator(Input=source, ResultArrayName="data_map_" + suffix, CoordinateResults=1,
                             Function="variability_{0}*iHat + confidence_{0}*jHat".format(suffix))


def style_data_map(view, source, title="", suffix="ft", axis_titles=True):
    """The data map as Dataset Cartography draws it: variability (x) against confidence (y),
    coloured by correctness; easy-to-learn samples top left, ambiguous ones right, hard-to-learn
    (often mislabelled) ones bottom left. axis_titles=False: the title names the axes instead
    (the y title needs room left of the labels that a narrow view lacks)."""
    display = simple.Show(source, view)
    display.SetRepresentationType("Points")
    large = source.GetDataInformation().GetNumberOfPoints() > SPHERE_LIMIT
    display.RenderPointsAsSpheres = 0 if large else 1
    display.PointSize = 3 if large else 4
    style_selection(display)
    correctness = "correctness_" + suffix
    simple.ColorBy(display, ("POINTS", correctness))
    lut = simple.GetColorTransferFunction(correctness)
    lut.ApplyPreset("Turbo", True)
    lut.RescaleTransferFunction(0.0, 1.0)
    display.SetScalarBarVisibility(view, True)
    bar = simple.GetScalarBar(lut, view)
    bar.Title = correctness
    bar.ComponentTitle = ""
    bar.TitleColor = bar.LabelColor = [0.1, 0.1, 0.1]
    bar.LabelFontSize = bar.TitleFontSize = 10
    grid = display.DataAxesGrid
    grid.GridAxesVisibility = 1
    grid.XTitle, grid.YTitle = ("variability", "confidence") if axis_titles else ("", "")
    grid.ShowGrid = 1
    grid.GridColor = [0.85, 0.85, 0.85]
    for axis in ("X", "Y"):
        setattr(grid, axis + "TitleColor", [0.1, 0.1, 0.1])
        setattr(grid, axis + "LabelColor", [0.1, 0.1, 0.1])
    grid.FacesToRender = 0x04    # the x-y face only
    grid.AxesToLabel = 0x01 | 0x02  # variability below, confidence on the left
    grid.UseCustomBounds = 1
    # Drawn to scale: variability (at most 0.5) is half as wide as confidence. ParaView 5.11's
    # axes grid labels world coordinates, so the points are not stretched to fill a square.
    grid.CustomBounds = [0, 0.5, 0, 1, 0, 0]
    _flat_view(view, title)
    simple.ResetCamera(view)
    view.CameraParallelScale = 0.62 if axis_titles else 0.64
    view.CameraFocalPoint = [0.3 if axis_titles else 0.28, 0.5, 0]
    view.CameraPosition = [view.CameraFocalPoint[0], 0.5, 10]
    return display


def in_gui(view=None):
    """True inside the paraview GUI (its render views' interactors are Qt's QVTKInteractor)."""
    view = view if view is not None else simple.GetActiveViewOrCreate("RenderView")
    try:
        interactor = view.GetRenderWindow().GetInteractor()
    except AttributeError:  # not a render view
        return False
    return interactor is not None and interactor.IsA("QVTKInteractor")


def style_histogram(view, source, array):
    """A histogram of `array` of the samples; selecting bars selects the samples of those bins."""
    display = simple.Show(source, view)
    display.SelectInputArray = ["POINTS", array]
    display.BinCount = 40
    view.LeftAxisTitle = "samples"
    view.BottomAxisTitle = "drag over bars to select their samples"
    view.ChartTitle = array  # short: the view is narrow in the GUI's layout (a long title was cut)
    _drag_selects_bars(view)
    return display


def _drag_selects_bars(view):
    """A left drag selects bars (ParaView's chart views pan with it by default; panning stays on
    the middle button): the selection is a threshold of the histogram's array, i.e. those bins'
    samples. A setting of the chart itself, which no state file keeps (restore() sets it again)."""
    try:
        from vtkmodules.vtkChartsCore import vtkChart
        from vtkmodules.vtkRenderingContext2D import vtkContextMouseEvent
        chart = view.GetClientSideObject().GetChart()
        chart.SetActionToButton(vtkChart.SELECT_RECTANGLE, vtkContextMouseEvent.LEFT_BUTTON)
        chart.SetActionToButton(vtkChart.PAN, vtkContextMouseEvent.MIDDLE_BUTTON)
    except (AttributeError, ImportError):  # no client-side chart (a remote render server)
        pass


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
    import numpy as np
    values, global_ids = _fetch_values(source, array)
    ids = np.argsort(values, kind="stable")[:count]
    _select_samples(source, ids, global_ids)
    return [int(i) for i in ids]


def select_flagged(flag, source=None):
    """Selects the samples that `flag` (Data Issues' is_label_issue_<X>, is_near_duplicate_<Y>, ...)
    marks in `source` (default: the active source), where the comparison layout shows them: on
    the layout's map of those samples (_shown_samples), so both maps, the spreadsheet, the
    histogram and the Sample Inspector show them. The toolbar's Select
    Issues menu. Returns the flagged point ids."""
    import numpy as np
    source = source or simple.GetActiveSource()
    if source is None or flag not in _point_arrays(source):
        raise ValueError("Select Issues: %s has no %s array: apply Data Issues to the samples first."
                         % ((_label(source) or "the active source") if source else "no source is active", flag))
    values, global_ids = _fetch_values(source, flag)
    ids = np.flatnonzero(values)
    _select_samples(_shown_samples(source) or source, ids, global_ids)
    return [int(i) for i in ids]


def _shown_samples(source):
    """The comparison layout's map ("shown (...)") of the samples of `source`: `source` itself, or
    the map shown of `source` or of a source upstream (the DualEmbed filters keep the point ids)."""
    shown = {s.Input: s for (name, _), s in simple.GetSources().items()
             if name.startswith("shown (") and getattr(s, "Input", None) is not None}
    for _ in range(64):
        if _label(source).startswith("shown ("):
            return source
        if source in shown:
            return shown[source]
        source = getattr(source, "Input", None)
        if source is None or isinstance(source, list):
            return None
    return None


def _fetch_values(source, array):
    """`array` of `source`'s samples (gathered from every rank, in order) and their global ids
    (None when they have none); only those two arrays travel, not the pixels."""
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkCommonDataModel import vtkDataSetAttributes
    ids = source.GetDataInformation().DataInformation.GetPointDataInformation().GetAttributeInformation(
        vtkDataSetAttributes.GLOBALIDS)
    ids_name = ids.GetName() if ids is not None else None
    # Not registered: no entry in the Pipeline Browser, the active source stays.
    light = servermanager.filters.PassArrays(Input=source, PointDataArrays=[array] + ([ids_name] if ids_name else []),
                                             CellDataArrays=[], FieldDataArrays=[])
    data = fetch(light)
    values = data.GetPointData().GetArray(array)
    global_ids = data.GetPointData().GetArray(ids_name) if ids_name else None
    return vtk_to_numpy(values), None if global_ids is None else vtk_to_numpy(global_ids)


def _select_samples(source, ids, global_ids):
    with _active_view_showing(source):
        if global_ids is not None:
            # Fetch gathers the ranks' samples in order; an id selection would address rank 0's points.
            simple.SelectGlobalIDs(IDs=[int(global_ids[i]) for i in ids], FieldType="POINT", Source=source)
        else:
            simple.SelectIDs(IDs=[v for i in ids for v in (0, int(i))], FieldType="POINT", Source=source)


class _active_view_showing:
    """While selecting: a view that shows `source` is the active one (the active view already if it
    does; the earlier active view comes back after). ParaView's SelectIDs, SelectGlobalIDs and
    QuerySelect select through the source's representation in the active view, and create (and
    show) one where there is none: after Compare again the samples appeared in the render view of
    ParaView's first layout."""

    def __init__(self, source):
        self.source = source
        self.before = None

    def __enter__(self):
        view = simple.GetActiveView()
        if view is not None and servermanager.GetRepresentation(self.source, view) is not None:
            return
        showing = [v for v in simple.GetViews() if servermanager.GetRepresentation(self.source, v) is not None]
        if showing:
            self.before = view
            simple.SetActiveView(showing[0])

    def __exit__(self, *exc):
        if self.before is not None:
            simple.SetActiveView(self.before)


def per_sample_arrays(source):
    """The samples of `source` with their per-sample values only (labels, scores, neighbours, map
    coordinates): without the pixels, embeddings, logits and probabilities (arrays of more than three
    components). What the views of the layout show: every spreadsheet (also the Find Data panel's)
    splits each component into a column and re-extracts the selection on every change, which took
    8 s per selection with 784 pixel columns; the hover tooltip lists every component. Point ids are
    those of `source`, so a selection of it applies to `source` itself too. A rule (the Per-Sample
    Arrays filter), not a list of names: after a failed Apply upstream the arrays come back."""
    return simple.PerSampleArrays(Input=source)


def compare(foundation_map, ft_map, foundation="foundation", ft="ft", color_by="label",
            outliers=8, layout=None, per_sample_views=True, data_map_view=None):
    """Builds the comparison layout and returns its views as a dict.

    foundation_map, ft_map: sources whose point coordinates are the two projections.
    outliers: how many of the foundation embedding's top outliers (lowest
    outlier_score_<foundation>) to select at start (0: none).
    Top row: the two maps. Bottom row: the spreadsheet, the histogram of the foundation's outlier
    score and, outside the GUI, the gallery (in the GUI, the Sample Inspector dock shows it; samples
    without an image array have none).
    The views show per_sample_arrays() of the maps; views["foundation_samples"] and
    views["ft_samples"] are those sources, whose selections are linked. per_sample_views=False
    shows the maps themselves, with every array (what the selection benchmark compares against).
    data_map_view: None (default) adds Dataset Cartography's data map beside the histogram when the
    samples carry Training Dynamics (confidence_<ft>, variability_<ft>), linked to the maps;
    False never, True always.
    """
    maps = {"foundation": foundation_map, "ft": ft_map}
    if per_sample_views:
        foundation_map, ft_map = per_sample_arrays(foundation_map), per_sample_arrays(ft_map)
        simple.RenameSource("shown (%s)" % foundation, foundation_map)
        simple.RenameSource("shown (%s)" % ft, ft_map)
    left = simple.CreateView("RenderView")
    gui = in_gui(left)
    if gui:
        # White maps: the colour bars, axes and texts a user adds later (recolouring a map from
        # the toolbar) take the palette's colours, white by default: invisible on white.
        simple.LoadPalette("WhiteBackground")
    right = simple.CreateView("RenderView")
    sheet = simple.CreateView("SpreadSheetView")
    histogram_view = simple.CreateView("XYHistogramChartView")
    # Samples without pixels (a table of embeddings computed elsewhere) have no gallery.
    has_images = "image" in _point_arrays(maps["foundation"])
    gallery_view = None if gui or not has_images else simple.CreateView("RenderView")
    if data_map_view is None:
        data_map_view = {"confidence_" + ft, "variability_" + ft} <= set(_point_arrays(ft_map))
    cartography_view = simple.CreateView("RenderView") if data_map_view else None
    for view in (left, right, gallery_view, cartography_view):
        if view is not None:
            view.Background = [1, 1, 1]
            view.UseColorPaletteForBackground = 0
    if layout is None:
        earlier = simple.GetLayoutByName("DualEmbed")
        layout = simple.CreateLayout("DualEmbed")
        _remove_layout(earlier)  # Compare again: one DualEmbed tab, not a second one
    # Top row: the two maps; bottom row: spreadsheet, histogram (and gallery).
    layout.SplitVertical(0, 0.62)
    layout.SplitHorizontal(1, 0.5)
    layout.SplitHorizontal(2, 0.55 if gui else 0.45)
    layout.AssignView(3, left)
    layout.AssignView(4, right)
    layout.AssignView(5, sheet)
    if gallery_view is None and cartography_view is None:
        layout.AssignView(6, histogram_view)
    elif gallery_view is None:
        layout.SplitHorizontal(6, 0.5)
        layout.AssignView(13, histogram_view)
        layout.AssignView(14, cartography_view)
    else:
        layout.SplitHorizontal(6, 0.45)
        layout.AssignView(13, histogram_view)
        if cartography_view is None:
            layout.AssignView(14, gallery_view)
        else:
            layout.SplitHorizontal(14, 0.5)
            layout.AssignView(29, gallery_view)
            layout.AssignView(30, cartography_view)

    names = class_names(foundation_map) or class_names(ft_map)  # both maps share one colour map
    style_map(left, foundation_map, color_by, "before fine-tuning (%s)" % foundation, names)
    style_map(right, ft_map, color_by, "after fine-tuning (%s)" % ft, names)

    simple.Show(ft_map, sheet)
    sheet.FieldAssociation = "Point Data"
    sheet.HiddenColumnLabels = ["Points", "Points_Magnitude", "Point ID"]
    score = "outlier_score_%s" % foundation
    sheet.ColumnToSort = score
    sheet.InvertOrder = 0

    # Same point ids in both maps, the spreadsheet and the histogram.
    _link_selection(SELECTION_LINK, foundation_map, ft_map)
    highlight_selection(left, foundation_map)
    highlight_selection(right, ft_map)
    style_histogram(histogram_view, foundation_map, score)

    views = {"layout": layout, "foundation": left, "ft": right, "spreadsheet": sheet,
             "histogram": histogram_view, "gallery": gallery_view, "gallery_source": None,
             "foundation_samples": foundation_map, "ft_samples": ft_map, "selected": [],
             "data_map": cartography_view, "data_map_source": None}
    if cartography_view is not None:
        # Same point ids as the maps: selecting in the data map selects there, and back.
        cartography = data_map(ft_map, ft)
        simple.RenameSource("data map (%s)" % ft, cartography)
        style_data_map(cartography_view, cartography, "data map (%s): confidence (y)\nagainst variability (x)" % ft, ft,
                       axis_titles=False)
        _link_selection(SELECTION_LINK, foundation_map, ft_map, cartography)
        highlight_selection(cartography_view, cartography)
        views["data_map_source"] = cartography
    if gallery_view is not None:
        # The gallery needs the pixels: it reads the full samples, with the light map's selection.
        gallery = simple.SampleGallery(Input=maps["foundation"], RankArray=score,
                                       NeighborSuffix=foundation, Count=max(outliers, 1))
        gallery_display = simple.Show(gallery, gallery_view)
        gallery_display.MapScalars = 0
        fit_image(gallery_view, gallery)
        views["gallery_source"] = gallery
        for representation in gallery_view.Representations:  # the gallery alone in its view
            if representation.Input is not None and representation.Input.GetXMLName() != "SampleGallery":
                representation.Visibility = 0
    simple.SetActiveView(left)  # the layout's tab comes to the front (Compare again too)
    if outliers > 0:
        views["selected"] = select_lowest(foundation_map, score, outliers)
    if gallery_view is not None:
        # From here on the gallery follows the selection (the maps' selections are linked, so
        # watching the foundation map is enough).
        follow_selection(views, foundation_map)
        show_selection_in_gallery(views, foundation_map)
    # The Sample Inspector shows the active samples: those with the training dynamics, if any.
    simple.SetActiveSource(foundation_map if cartography_view is None else ft_map)
    for view in (left, right, sheet, histogram_view, gallery_view, cartography_view):
        if view is not None:
            simple.Render(view)
    return views


def _link_selection(name, *sources):
    """One selection link `name` among `sources` (simple.AddSelectionLink links two; the layout
    with a data map used a second link beside the maps' one, and pvpython then crashed at exit
    after Reset Session and Load State, in that link's destructor)."""
    link = servermanager.vtkSMSelectionLink()
    link.SetConvertToIndices(True)
    for direction in (2, 1):  # output, then input, as simple.AddSelectionLink
        for source in sources:
            link.AddLinkedSelection(source.SMProxy, direction)
    simple.RemoveSelectionLink(name)
    servermanager.ProxyManager().RegisterLink(name, link)


def restore():
    """Reconnects the comparison layout of a loaded state (File › Load State: the GUI calls this
    itself; a script calls it after simple.LoadState). A state file keeps the layout's views, maps,
    titles, linked selections and highlights, but not what Python adds to them: the observers that
    draw the selected samples in front of each map (outside the GUI also the gallery's) and the
    histogram's left drag that selects bars. Without them a selection made after loading was not
    drawn. Each map's view is fitted to its map, which the loaded pipeline computes again. The
    samples of the foundation map (of the fine-tuned one when a data map shows the training
    dynamics) become the active source, as after Compare Embeddings, so that the Sample Inspector
    shows them. Returns them, or None without a DualEmbed layout. Calling it again adds no second
    observer."""
    layout = simple.GetLayoutByName("DualEmbed")
    if layout is None:
        return None
    views = simple.GetViewsInLayout(layout)
    manager = servermanager.ProxyManager()
    parts = list(manager.GetProxiesInGroup(HIGHLIGHTS_GROUP).values())
    # Observers of an earlier session (Reset Session, then Load State) follow deleted proxies.
    for entry in [h for h in _highlights if h[3] not in parts]:
        entry[0].SMProxy.RemoveObserver(entry[1])
        _highlights.remove(entry)
    for part in parts:
        for view in views:
            display = servermanager.GetRepresentation(part, view)
            if display is not None and part not in [h[3] for h in _highlights]:
                _follow_selection(part.Input, part, display, view)
    shown = {}  # view type -> the sources it shows
    for view in views:
        if view.GetXMLName() == "XYHistogramChartView":
            _drag_selects_bars(view)
        for representation in view.Representations:
            source = getattr(representation, "Input", None)
            if source is not None and representation.Visibility:
                shown.setdefault(view.GetXMLName(), []).append((source, view))
    # compare() shows the foundation's samples in the histogram, the fine-tuned ones in the sheet.
    foundation_samples = shown.get("XYHistogramChartView", [(None, None)])[0][0]
    ft_samples = shown.get("SpreadSheetView", [(None, None)])[0][0]
    in_maps = [source for source, _ in shown.get("RenderView", [])]
    for gallery, view in [(s, v) for s, v in shown.get("RenderView", []) if s.GetXMLName() == "SampleGallery"]:
        if foundation_samples is not None and gallery not in _restored_galleries:
            gallery_views = {"gallery": view, "gallery_source": gallery}
            follow_selection(gallery_views, foundation_samples)
            show_selection_in_gallery(gallery_views, foundation_samples)
            _restored_galleries.append(gallery)
    # The maps are computed again when a state loads, and UMAP's layout differs from run to run
    # with several threads: the saved cameras looked at empty space. Fit each map's view to it.
    for source, view in shown.get("RenderView", []):
        if _label(source).startswith("shown ("):
            _fit_map(view, source)
            simple.Render(view)
            if source == foundation_samples:
                simple.SetActiveView(view)  # the layout's tab in front, as after Compare
    data_map = any(_label(source).startswith("data map (") for source in in_maps)
    active = ft_samples if data_map else foundation_samples
    if active is not None:
        simple.SetActiveSource(active)
    return active


_restored_galleries = []  # the galleries restore() made follow the selection


def _remove_layout(old):
    """Removes the layout `old` (an earlier comparison; None: nothing), its views, and the sources
    only they showed: the per-sample copies of the maps, the data map, the titles, the gallery.
    Call it after creating the new layout: simple.RemoveLayout replaces the last layout."""
    if old is None:
        return
    views = simple.GetViewsInLayout(old)
    made = {representation.Input for view in views for representation in view.Representations
            if getattr(representation, "Input", None) is not None}
    made = [source for source in made if source.GetXMLName() in ("TextSource", "SampleGallery") or
            _label(source).startswith(("data map (", "shown ("))]
    _remove_highlights(views)
    simple.RemoveLayout(old)
    for view in views:
        simple.Delete(view)
    titles = servermanager.ProxyManager()
    for source in [source for source in made if source.GetXMLName() == "TextSource"]:
        titles.UnRegisterProxy(TITLES_GROUP, titles.SMProxyManager.GetProxyName(TITLES_GROUP, source.SMProxy), source)
    # The data map reads the shown samples: it goes first. A source a user filtered further stays.
    for source in sorted([source for source in made if source.GetXMLName() != "TextSource"],
                         key=lambda source: not _label(source).startswith("data map (")):
        if not any(getattr(other, "Input", None) == source for other in simple.GetSources().values()):
            simple.Delete(source)


def _label(source):
    """The source's name in the Pipeline Browser."""
    return source.SMProxy.GetSessionProxyManager().GetProxyName("sources", source.SMProxy) or ""


# The annotation by which the two maps of a comparison find each other: "<pair token> foundation"
# and "<pair token> ft". A token, not the proxies' global ids: a state file keeps annotations, but
# the loaded proxies get new ids.
PAIR_ANNOTATION = "DualEmbed.ComparedMaps"
PAIR_ROLES = ("foundation", "ft")


def _pair(foundation_map, ft_map):
    token = uuid.uuid4().hex
    for proxy, role in zip((foundation_map, ft_map), PAIR_ROLES):
        proxy.SMProxy.SetAnnotation(PAIR_ANNOTATION, "%s %s" % (token, role))


def _pair_of(source):
    """(token, role) of a map that Compare Embeddings made, else None."""
    if source is None or not source.SMProxy.HasAnnotation(PAIR_ANNOTATION):
        return None
    parts = source.SMProxy.GetAnnotation(PAIR_ANNOTATION).split()
    return tuple(parts) if len(parts) == 2 and parts[1] in PAIR_ROLES else None


def _made_by_compare(source):
    """For a source an earlier Compare Embeddings made, the two maps it compared, else None."""
    while _label(source).startswith(("shown (", "data map (")):
        source = source.Input
    pair = _pair_of(source)
    if pair is None:
        return None
    maps = {}
    for other in simple.GetSources().values():
        other_pair = _pair_of(other)
        if other_pair is not None and other_pair[0] == pair[0]:
            maps[other_pair[1]] = other
    return tuple(maps[role] for role in PAIR_ROLES) if len(maps) == 2 else None


def _time_steps(source):
    return source.GetDataInformation().DataInformation.GetNumberOfTimeSteps()


def _before_time_steps(samples, array):
    """The nearest source upstream of `samples` whose samples are the same at every time step and
    still carry `array` (the foundation's embedding before Checkpoint Embedding), else None."""
    source = samples
    while getattr(source, "Input", None) is not None and not isinstance(source.Input, list):
        source = source.Input
        source.UpdatePipeline()
        if _time_steps(source) <= 1 and array in _point_arrays(source):
            return source
    return None


def _with_neighbour_results(source, tags, array_of):
    """`source` with each tag's outlier score and nearest neighbour (the filters added where missing)."""
    for tag in tags:
        arrays = _point_arrays(source)
        embedding = ["POINTS", array_of[tag]]
        if "outlier_score_" + tag not in arrays:
            source = simple.EmbeddingOutlierScore(Input=source, Embedding=embedding)
        if "nn_id_" + tag not in arrays:
            source = simple.EmbeddingNearestNeighbor(Input=source, Embedding=embedding)
    return source


def _point_arrays(source):
    return [source.PointData.GetArray(i).GetName() for i in range(len(source.PointData))]


# The mark of an embedding array: the information key vtkSampleArrays::EMBEDDING() (location, name).
EMBEDDING_KEY = ("vtkSampleArrays", "EMBEDDING")
_TEXT_TYPES = (13, 20)  # VTK_STRING, VTK_VARIANT


def embedding_arrays(source):
    """The names of the embeddings of `source`'s samples, sorted: the rule of the filters' array
    defaults (Readers/vtkSampleArrays.h). Arrays marked as embeddings (by Image Embedding, Checkpoint
    Embedding, a results file, or whose model the field data records); only when none is marked,
    numeric embedding_* arrays of two or more components. Scalars such as Training Dynamics'
    embedding_drift_ft are never embeddings."""
    source.UpdatePipeline()  # a pvpython chain may not have run yet
    info = source.GetDataInformation()
    point_data, field_data = info.GetPointDataInformation(), info.GetFieldDataInformation()
    fields = {field_data.GetArrayInformation(i).GetName() for i in range(field_data.GetNumberOfArrays())}
    vectors = [point_data.GetArrayInformation(i) for i in range(point_data.GetNumberOfArrays())]
    vectors = [a for a in vectors if a.GetNumberOfComponents() >= 2 and a.GetDataType() not in _TEXT_TYPES]
    # The mark, or Image Embedding's provenance model_<tag> of embedding_<tag> in the field data
    # (copies passed between processes, e.g. by ParaView's writers, lose array keys).
    marked = [a.GetName() for a in vectors if a.HasInformationKey(*EMBEDDING_KEY) or
              (a.GetName().startswith("embedding_") and "model_" + a.GetName()[10:] in fields)]
    return sorted(marked or [a.GetName() for a in vectors if a.GetName().startswith("embedding_")])


def tag_of(array_name):
    """The <X> the filters name their results with: embedding_ft -> ft, any other name -> itself."""
    return array_name[len("embedding_"):] if array_name.startswith("embedding_") else array_name


def embedding_tags(source, names=None):
    """The two embeddings to compare, as tags: ("foundation", "ft") when both are present, else
    "foundation" and the first other one when there is a foundation (e.g. embedding_foundation and
    embedding_finetuned columns of a Parquet file), else the first two embeddings by name (`names`,
    default embedding_arrays(source))."""
    names = embedding_arrays(source) if names is None else names
    tags = [tag_of(name) for name in names]
    if "foundation" in tags and "ft" in tags:
        return "foundation", "ft"
    if "foundation" in tags and len(tags) >= 2:
        return "foundation", [tag for tag in tags if tag != "foundation"][0]
    if len(tags) < 2:
        raise ValueError(
            "%s has %s: Compare Embeddings needs samples with two embeddings (apply Image Embedding "
            "twice, first with the foundation model, then with the fine-tuned one, or open a DualEmbed "
            "results file)." % (source.GetXMLLabel(), "only one embedding, " + names[0] if tags else "no embedding"))
    return tags[0], tags[1]


def compare_source(samples, outliers=8, per_sample_views=True):
    """The comparison layout for any samples with two embeddings (e.g. a results file, or
    Training Dynamics over a Checkpoint Embedding: then the fine-tuned maps are aligned across the
    checkpoints and the data map joins the layout).

    Adds what is missing for each embedding (outlier score, nearest neighbour, the map: stored
    umap_<tag> coordinates are reused) and calls compare(). Returns its views.
    """
    made = _made_by_compare(samples)
    if made is not None:  # Compare again, on what an earlier Compare made: its maps, a new layout
        foundation_map, ft_map = made
        return compare(foundation_map, ft_map, tag_of(foundation_map.Embedding[1]), tag_of(ft_map.Embedding[1]),
                       outliers=outliers, per_sample_views=per_sample_views)
    samples.UpdatePipeline()
    if samples.GetDataInformation().GetNumberOfPoints() == 0:
        raise ValueError("%s has no samples (see the error above, or Apply it first)." % samples.GetXMLLabel())
    names = embedding_arrays(samples)
    foundation, ft = embedding_tags(samples, names)
    array_of = {tag_of(name): name for name in names}
    source = _with_neighbour_results(samples, [foundation, ft], array_of)
    # Over the time steps of a fine-tuning run (Checkpoint Embedding) the fine-tuned maps are
    # aligned, so that samples move smoothly while the animation plays. The foundation's
    # embedding is the same at every step: its map, scores and histogram come from the samples
    # before the checkpoints, so they are computed and drawn once, not at every frame (anything
    # below Checkpoint Embedding re-executes at each time step). Otherwise the fine-tuned map
    # follows the foundation map and carries both maps' coordinates.
    temporal = _time_steps(samples) > 1
    static = _before_time_steps(samples, array_of[foundation]) if temporal else None
    foundation_input = _with_neighbour_results(static, [foundation], array_of) if static else source
    foundation_map = simple.EmbeddingProjection(Input=foundation_input, Embedding=["POINTS", array_of[foundation]])
    simple.RenameSource("map (%s)" % foundation, foundation_map)
    ft_map = simple.EmbeddingProjection(Input=source if static else foundation_map, Embedding=["POINTS", array_of[ft]],
                                        AlignTimeSteps=1 if temporal else 0)
    if temporal:  # the animation controls step through the checkpoints
        simple.GetAnimationScene().UpdateAnimationUsingDataTimeSteps()
    simple.RenameSource("map (%s)" % ft, ft_map)
    _pair(foundation_map, ft_map)
    ft_map.UpdatePipeline()
    for proxy in {samples, source, foundation_input}:  # the layout shows the maps only
        for view in simple.GetViews():
            # Only where it is shown: simple.GetDisplayProperties would create a representation.
            if servermanager.GetRepresentation(proxy, view) is not None:
                simple.Hide(proxy, view)
    return compare(foundation_map, ft_map, foundation, ft, outliers=outliers, per_sample_views=per_sample_views)


def run_action(action, *args):
    """Runs a toolbar action in the GUI. The plugin's own errors (ValueError: what to do instead)
    reach the Output Messages as one plain sentence, not as a Python traceback; any other error
    as its message first, with the traceback after it in the terminal."""
    from vtkmodules.vtkCommonCore import vtkOutputWindow
    try:
        return action(*args)
    except ValueError as error:
        vtkOutputWindow.GetInstance().DisplayErrorText("DualEmbed: %s\n" % error)
    except Exception as error:  # a bug: say so plainly, keep the details for a report
        import traceback
        traceback.print_exc()
        vtkOutputWindow.GetInstance().DisplayErrorText(
            "DualEmbed: %s failed: %s: %s (the traceback is in the terminal)\n"
            % (action.__name__, type(error).__name__, error))
    return None


def compare_active_source(outliers=8):
    """Compare Embeddings (the GUI toolbar): compare_source() on the active source."""
    source = simple.GetActiveSource()
    if source is None:
        raise ValueError("Compare Embeddings: select the samples in the Pipeline Browser first (a DualEmbed "
                         "results file, or the last filter of a pipeline with two Image Embeddings).")
    return compare_source(source, outliers=outliers)


def select_top_outliers(count=8, source=None):
    """Selects the `count` strongest outliers of the foundation embedding (the toolbar's action)."""
    source = source or simple.GetActiveSource()
    scores = [name for name in _point_arrays(source) if name.startswith("outlier_score_")] if source else []
    if not scores:
        raise ValueError("Select Top Outliers: the active source has no outlier_score_<tag> array.")
    score = "outlier_score_foundation" if "outlier_score_foundation" in scores else scores[0]
    return select_lowest(source, score, count)


def select_near(location, radius=None, source=None):
    """Selects the samples of a map (`source`, default the active source) drawn within `radius` of
    `location` (x, y[, z]), as a click at that place would. ParaView 5.11's SelectLocation selects
    no sample of a map, not even at a sample's exact coordinates: its location selection has no
    tolerance for points. radius: default 1 % of the map's larger side. A query on the points,
    evaluated where the samples are (also on every rank of a pvserver)."""
    source = source or simple.GetActiveSource()
    if source is None:
        raise ValueError("select_near: no map given and no active source.")
    if radius is None:
        source.UpdatePipeline()
        bounds = source.GetDataInformation().GetBounds()
        radius = 0.01 * max(bounds[1] - bounds[0], bounds[3] - bounds[2], 1e-12)
    x, y, z = (list(location) + [0.0, 0.0])[:3]
    with _active_view_showing(source):
        simple.QuerySelect(QueryString="(points[:,0]-(%r))**2 + (points[:,1]-(%r))**2 + (points[:,2]-(%r))**2 <= %r"
                           % (float(x), float(y), float(z), float(radius) ** 2), FieldType="POINT", Source=source)


def show_selection_in_gallery(views, source):
    """Points the gallery at the current selection of `source` (all of it: no selection).
    Outside the GUI only: there, the Sample Inspector follows the selection."""
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
