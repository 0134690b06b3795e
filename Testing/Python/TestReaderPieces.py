"""The reader serves contiguous pieces: each piece is its share, sample_id global (for MPI ranks)."""
import numpy as np
from paraview import simple

from dualembed_testing import check, load_plugin, point_array

load_plugin()
path = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
reader = simple.ImageDatasetReader(FileName=path, MaxSamples=1001)
vtk_reader = reader.GetClientSideObject()

whole = None
parts = []
for piece in range(3):
    vtk_reader.UpdatePiece(piece, 3, 0)
    out = vtk_reader.GetOutput()
    parts.append((point_array(out, "sample_id").copy(), point_array(out, "image").copy()))
vtk_reader.UpdatePiece(0, 1, 0)
whole = vtk_reader.GetOutput()

ids = np.concatenate([p[0] for p in parts])
check(np.array_equal(ids, np.arange(1001)), "pieces do not tile the samples in order")
check([len(p[0]) for p in parts] == [333, 334, 334], "piece sizes %s" % [len(p[0]) for p in parts])
check(np.array_equal(np.concatenate([p[1] for p in parts]), point_array(whole, "image")),
      "pieces' pixels differ from the whole read")
print("Pieces tile the dataset: 333 + 334 + 334 samples with global sample ids.")
