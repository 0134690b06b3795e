"""What the benchmark scripts share: the CPU they ran on, and pipeline stages timed one after the
other with each stage's peak RSS."""
import time


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def memory(field="VmHWM"):
    """This process's peak (VmHWM) or current (VmRSS) resident memory, GiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0 ** 2
    return float("nan")


class Stages:
    """Stages run in order; each is timed with its own peak RSS (VmHWM, reset before it)."""

    def __init__(self):
        self.rows = []

    def run(self, name, proxy, action=None):
        """Runs `action` (default: the proxy's UpdatePipeline) as the stage `name`; returns `proxy`."""
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        start = time.perf_counter()
        print("--- %s" % name, flush=True)
        (action or proxy.UpdatePipeline)()
        self.rows.append((name, time.perf_counter() - start, memory()))
        print("--- %s: %.1f s, peak RSS %.2f GiB" % self.rows[-1], flush=True)
        return proxy

    def total(self):
        return sum(seconds for _, seconds, _ in self.rows)

    def print_table(self, width=44):
        print("\n%-*s %9s %14s" % (width, "stage", "seconds", "peak RSS GiB"))
        for name, seconds, peak in self.rows:
            print("%-*s %9.1f %14.2f" % (width, name, seconds, peak))
        print("%-*s %9.1f   (%.1f min)" % (width, "total", self.total(), self.total() / 60))


def neighbour_filters(stages, samples, probabilities="None", umap=True):
    """Every neighbour filter on embedding_foundation and embedding_ft, in the order a user adds
    them (outlier score and nearest neighbour of each, Embedding Change, Data Issues with the
    labels and `probabilities`, then the UMAP of each), each a stage; returns the last filter."""
    from paraview import simple
    for tag in ("foundation", "ft"):
        embedding = ["POINTS", "embedding_" + tag]
        samples = stages.run("Embedding Outlier Score " + tag,
                             simple.EmbeddingOutlierScore(Input=samples, Embedding=embedding))
        samples = stages.run("Embedding Nearest Neighbor " + tag,
                             simple.EmbeddingNearestNeighbor(Input=samples, Embedding=embedding))
    pair = {"EmbeddingA": ["POINTS", "embedding_foundation"], "EmbeddingB": ["POINTS", "embedding_ft"]}
    samples = stages.run("Embedding Change", simple.EmbeddingChange(Input=samples, **pair))
    samples = stages.run("Data Issues", simple.DataIssues(
        Input=samples, Probabilities=["POINTS", probabilities], Labels=["POINTS", "label"], **pair))
    for tag in ("foundation", "ft") if umap else ():
        samples = stages.run("UMAP " + tag, simple.EmbeddingProjection(
            Input=samples, Embedding=["POINTS", "embedding_" + tag], Method="UMAP"))
    return samples
