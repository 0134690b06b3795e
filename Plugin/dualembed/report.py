"""The DualEmbed batch report (pvbatch); see run()."""
