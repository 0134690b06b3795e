"""DualEmbed's Python helpers, shipped inside the plugin.

After ``LoadPlugin(".../DualEmbed.so")`` in pvpython, pvbatch or the GUI's Python shell:

    import dualembed.layout   # the linked before/after-fine-tuning comparison layout
    import dualembed.report   # the batch report (pvbatch)
"""
__all__ = ["layout", "report"]

# LoadPlugin(path, ns=globals()), as a script that did `from paraview.simple
# import *` must call it, adds the plugin's proxy constructors to the script's
# namespace only; the helpers here call them through paraview.simple.
from paraview import simple as _simple

if not hasattr(_simple, "SampleGallery") and hasattr(_simple, "_add_functions"):
    _simple._add_functions(vars(_simple))
