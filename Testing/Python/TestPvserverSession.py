"""DualEmbed from a pvpython client connected to a 2-rank MPI pvserver.

Starts `mpiexec -n 2 pvserver`, connects, loads the plugin on client and server, runs reader ->
embedding -> outlier score -> nearest neighbour -> PCA there, and checks the fetched samples
against the same pipeline in this client's own (built-in, serial) session. CTest runs it with
one thread everywhere (DUALEMBED_NUM_THREADS, OPENBLAS_NUM_THREADS), so the arrays are identical.
"""
import os
import re
import subprocess
import time

import numpy as np
from paraview import simple, servermanager

from dualembed_testing import check, point_array

SAMPLES = 400
plugin = os.environ["DUALEMBED_PLUGIN"]
models = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Data", "models")


def pipeline():
    samples = simple.ImageDatasetReader(
        FileName="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", MaxSamples=SAMPLES)
    samples = simple.ImageEmbedding(Input=samples, ModelPath=os.path.join(models, "fashion-vit-ft"),
                                    Tag="ft", BatchSize=25)
    samples = simple.EmbeddingOutlierScore(Input=samples, Embedding=["POINTS", "embedding_ft"])
    samples = simple.EmbeddingNearestNeighbor(Input=samples, Embedding=["POINTS", "embedding_ft"])
    samples = simple.EmbeddingProjection(Input=samples, Embedding=["POINTS", "embedding_ft"], Method="PCA")
    samples.UpdatePipeline()
    return servermanager.Fetch(samples)


# pvpython started MPI as a singleton: its OMPI_/PMIX_ variables would make the server join it.
env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_", "ORTE_", "OPAL_"))}
env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")  # CI containers run as root
# `timeout`: a watchdog, should this client die without closing the connection.
server = subprocess.Popen(["timeout", "600"] + os.environ["DUALEMBED_MPIEXEC"].split() +
                          [os.environ["DUALEMBED_PVSERVER"], "--server-port=0"],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
try:
    port = None
    deadline = time.time() + 120
    while port is None and time.time() < deadline:
        line = server.stdout.readline()
        check(line or server.poll() is None, "pvserver exited before accepting connections")
        found = re.search(r"Accepting connection\(s\): [^:\s]+:(\d+)", line)
        port = int(found.group(1)) if found else None
    check(port is not None, "pvserver did not report its port")

    simple.Connect("localhost", port)
    check(servermanager.ActiveConnection.GetNumberOfDataPartitions() == 2,
          "the server has %d ranks" % servermanager.ActiveConnection.GetNumberOfDataPartitions())
    # On both sides, as any plugin with server-manager classes (the array lists' domain).
    simple.LoadPlugin(plugin, remote=False)
    simple.LoadPlugin(plugin, remote=True)
    remote = pipeline()
    simple.Disconnect()
except BaseException:
    server.terminate()
    raise
# pvserver ends when this client exits and its socket closes.

simple.Connect()  # the built-in session: serial reference
simple.LoadPlugin(plugin, remote=False)
local = pipeline()

check(remote.GetNumberOfPoints() == SAMPLES, "the server returned %d samples" % remote.GetNumberOfPoints())
for name in ("sample_id", "embedding_ft", "outlier_score_ft", "nn_id_ft", "pca_ft"):
    a, b = point_array(local, name), point_array(remote, name)
    check(np.array_equal(a, b), "%s differs between the built-in session and the 2-rank pvserver" % name)
print("pvserver session: %d samples on 2 ranks, the same arrays as the built-in session." % SAMPLES)
