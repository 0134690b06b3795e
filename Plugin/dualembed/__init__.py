"""DualEmbed's Python helpers, shipped inside the plugin.

After ``LoadPlugin(".../DualEmbed.so")`` in pvpython, pvbatch or the GUI's Python shell:

    import dualembed.layout   # the linked before/after-fine-tuning comparison layout
    import dualembed.report   # the batch report (pvbatch)
"""
__all__ = ["layout", "report"]
