"""The comparison layout links selections: ids selected in one map are selected in the other and
in the spreadsheet (which shows the second map's samples)."""
from paraview import simple, servermanager

from dualembed_testing import check, load_plugin, pixel_comparison, point_array

load_plugin()
import dualembed.layout

views, _, _ = pixel_comparison(outliers=5)
# The linked sources: the maps' per-sample arrays (what the views show).
foundation_map, ft_map = views["foundation_samples"], views["ft_samples"]


def selected_ids(source):
    """Point ids of the samples selected in `source`, whatever the selection's proxy type."""
    selection = source.SMProxy.GetSelectionInput(0)
    check(selection is not None, "%s has no selection" % source.GetXMLLabel())
    extract = simple.ExtractSelection(Input=source, Selection=servermanager._getPyProxy(selection))
    data = servermanager.Fetch(extract)
    simple.Delete(extract)
    ids = data.GetPointData().GetArray("vtkOriginalPointIds")
    return sorted(ids.GetValue(i) for i in range(ids.GetNumberOfTuples())) if ids else []


# At start: the 5 strongest outliers are selected in both maps.
check(len(views["selected"]) == 5, "5 outliers selected at start")
check(selected_ids(foundation_map) == sorted(views["selected"]), "foundation map selection")
check(selected_ids(ft_map) == sorted(views["selected"]), "ft map did not follow the selection")

# Selecting in the ft map selects the same ids in the foundation map.
simple.SelectIDs(IDs=[0, 7, 0, 42, 0, 199], FieldType="POINT", Source=ft_map)
check(selected_ids(ft_map) == [7, 42, 199], "ft map selection")
check(selected_ids(foundation_map) == [7, 42, 199], "foundation map did not follow the ft map")

# The spreadsheet shows ft_map: with "show only selected" it lists exactly those samples.
sheet = views["spreadsheet"]
sheet.SelectionOnly = 1
simple.Render(sheet)
rows = sheet.GetClientSideObject().GetNumberOfRows()
check(rows == 3, "spreadsheet shows %d selected rows, expected 3" % rows)

# The gallery follows the selection on request.
dualembed.layout.show_selection_in_gallery(views, foundation_map)
gallery = servermanager.Fetch(views["gallery_source"])
shown = [gallery.GetFieldData().GetArray("point_id").GetValue(i) for i in range(3)]
# The strongest outliers (lowest outlier_score_image) first.
score = point_array(servermanager.Fetch(foundation_map), "outlier_score_image")
check(shown == sorted([7, 42, 199], key=lambda i: score[i]), "gallery shows %s, scores %s"
      % (shown, [score[i] for i in (7, 42, 199)]))
print("Selections are linked across both maps, the spreadsheet and the gallery.")
