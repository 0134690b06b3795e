"""What the Properties panel makes of the plugin's proxies, checked on their definitions.

TestGuiPanels looks at the panels themselves; this covers every proxy and property, the
advanced ones included: each has documentation, none is of a type the 5.11 panel has no widget
for, list widgets keep their label, and the files the filters read open with an open dialog.
"""
from paraview import servermanager

from dualembed_testing import check, load_plugin

load_plugin()
proxies = {
    "sources": ["ImageDatasetReader", "SampleStoreReader"],
    "filters": ["ImageEmbedding", "EmbeddingOutlierScore", "PredictionOutlierScore",
                "EmbeddingNearestNeighbor", "EmbeddingChange", "EmbeddingProjection", "SampleGallery"],
    "writers": ["SampleStoreWriter"],
}
# Read by the filters, never written: pqFileChooserWidget opens a save dialog with
# AcceptAnyFile, a folder-only dialog with UseDirectoryName.
opened_files = {("ImageEmbedding", "ModelPath"), ("ImageEmbedding", "PreprocessorFile"),
                ("ImageEmbedding", "CacheFile")}
found_files = set()
checked = []


def hint(prop, name):
    hints = prop.GetHints()
    return hints is not None and hints.FindNestedElementByName(name) is not None


for group, names in proxies.items():
    for name in names:
        proxy = servermanager.ProxyManager().SMProxyManager.NewProxy(group, name)
        check(proxy is not None, "no proxy %s/%s" % (group, name))
        it = proxy.NewPropertyIterator()
        it.Begin()
        while not it.IsAtEnd():
            prop, key = it.GetProperty(), it.GetKey()
            it.Next()
            if prop.GetInformationOnly() or prop.GetIsInternal() or prop.GetPanelVisibility() == "never":
                continue
            where = "%s.%s" % (name, key)
            checked.append(where)
            doc = prop.GetDocumentation()
            check(doc is not None and (doc.GetDescription() or "").strip(), "%s has no documentation" % where)
            check(not prop.IsA("vtkSMIdTypeVectorProperty"),
                  "%s is an IdTypeVectorProperty: ParaView 5.11's panel shows no widget for it" % where)
            if prop.IsA("vtkSMStringVectorProperty") and prop.GetRepeatCommand() and \
                    prop.FindDomain("vtkSMArrayListDomain") is None and \
                    prop.FindDomain("vtkSMArraySelectionDomain") is None:
                # pqScalarValueListPropertyWidget hides the property's label unless asked
                check(hint(prop, "ShowLabel"), "%s is a list without a ShowLabel hint" % where)
            if (name, key) in opened_files:
                found_files.add((name, key))
                check(prop.FindDomain("vtkSMFileListDomain") is not None, "%s has no file button" % where)
                for bad in ("AcceptAnyFile", "UseDirectoryName"):
                    check(not hint(prop, bad), "%s has the %s hint: its dialog would not open files" % (where, bad))
        proxy.UnRegister(None)

check(found_files == opened_files, "file properties not found: %s" % (opened_files - found_files))
reader = servermanager.ProxyManager().SMProxyManager.NewProxy("sources", "ImageDatasetReader")
check(reader.GetProperty("MaxSamples").GetPanelVisibility() == "default", "MaxSamples is not on the panel by default")
check(hint(reader.GetProperty("ClassNames"), "ShowLabel"), "ClassNames has no label")
reader.UnRegister(None)
check(len(checked) > 40, "only %d properties checked" % len(checked))
print("panel hints test passed (%d properties)" % len(checked))
