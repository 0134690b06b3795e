# Playback of a fine-tuning run in the real paraview GUI: the seconds per frame from the VCR
# toolbar's Play until the last checkpoint is drawn, in the layout Compare Embeddings makes for
# the run (two maps, spreadsheet, histogram, data map, Sample Inspector).
#
#   DUALEMBED_PLUGIN=build/lib/paraview-5.11/plugins/DualEmbed/DualEmbed.so \
#   DUALEMBED_MODELS_DIR=Data/models DUALEMBED_SAMPLES=2000 OMP_WAIT_POLICY=PASSIVE \
#     xvfb-run -a -s "-screen 0 1920x1080x24" paraview --dr \
#       --script=Testing/Benchmarks/BenchmarkGuiPlayback.py
#
# Runs inside paraview (gui_steps from Testing/Python): the demo's run on DUALEMBED_SAMPLES
# Fashion-MNIST images (Testing/Python/TrainingRunPipeline.py), Compare Embeddings with its
# shortcut (X key events), then Play (a click on the VCR toolbar's Play button) twice: the first
# pass draws every checkpoint for the first time, the second is what a user sees when playing
# again. Prints the per-frame times (from the scene's tick events) and, per filter, how often it
# executed and how long it took during the play (vtkTimerLog's event log is not kept by
# ParaView's filters; the time between StartEvent and EndEvent of each algorithm is).
import os
import sys
import time

from paraview import servermanager, simple

here = os.path.abspath(os.path.join("Testing", "Benchmarks"))  # paraview --script sets no __file__: run from the repository
sys.path.insert(0, os.path.join(here, "..", "Python"))
import gui_steps  # noqa: E402
from gui_steps import NotYet, check, click, main_window, toolbar_button, xdotool  # noqa: E402

simple.LoadPlugin(os.environ["DUALEMBED_PLUGIN"], remote=False)
SAMPLES = int(os.environ.setdefault("DUALEMBED_SAMPLES", "2000"))
steps = gui_steps.Steps("BenchmarkGuiPlayback")
step = steps.add
state = {"ticks": [], "filters": {}}


def cpu():
    with open("/proc/cpuinfo") as f:
        names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    return "%s, %d logical cores" % (names[0] if names else "unknown CPU", len(names))


@step(2000)
def build_run():
    main_window().resize(1920, 1050)
    start = time.time()
    with open(os.path.join(here, "..", "Python", "TrainingRunPipeline.py")) as f:
        exec(compile(f.read(), "TrainingRunPipeline.py", "exec"), {})
    print("CPU: %s; load average %.2f %.2f %.2f" % ((cpu(),) + os.getloadavg()))
    print("[%d samples] the run (Checkpoint Embedding, Training Dynamics) in %.1f s" % (SAMPLES, time.time() - start))


@step(1000)
def compare():
    state["compare"] = time.time()
    xdotool("windowfocus", "--sync", int(main_window().winId()))
    xdotool("key", "ctrl+shift+e")


@step(1000, patience_s=300)
def layout_ready():
    layout = simple.GetLayoutByName("DualEmbed")
    if layout is None or len(simple.GetViewsInLayout(layout)) < 5:
        raise NotYet("Compare Embeddings made no layout")
    print("[%d samples] Compare Embeddings in %.1f s" % (SAMPLES, time.time() - state["compare"]))
    scene = simple.GetAnimationScene()
    state["times"] = list(simple.GetTimeKeeper().TimestepValues)
    check(len(state["times"]) >= 2, "the run has %d time steps" % len(state["times"]))
    scene.AnimationTime = state["times"][0]
    scene.PlayMode = "Snap To TimeSteps"
    scene.GetClientSideObject().AddObserver("AnimationCueTickEvent", lambda *args: state["ticks"].append(time.time()))
    watch_filters()


def watch_filters():
    """Times every pipeline source's executions (StartEvent to EndEvent of its algorithm), and
    the layout's selection highlights'."""
    from dualembed import layout
    parts = servermanager.ProxyManager().GetProxiesInGroup(layout.HIGHLIGHTS_GROUP)  # the selection drawn on top
    for (name, _), proxy in list(simple.GetSources().items()) + list(parts.items()):
        algorithm = proxy.GetClientSideObject()
        record = state["filters"].setdefault(name, {"runs": 0, "seconds": 0.0, "start": 0.0})

        def started(*args, record=record):
            record["start"] = time.time()

        def ended(*args, record=record):
            record["runs"] += 1
            record["seconds"] += time.time() - record["start"]
        algorithm.AddObserver("StartEvent", started)
        algorithm.AddObserver("EndEvent", ended)


def play(label):
    def start():
        state["ticks"].clear()
        for record in state["filters"].values():
            record.update(runs=0, seconds=0.0)
        state["play"] = time.time()
        click(toolbar_button("actionVCRPlay"))

    def finished():
        if simple.GetAnimationScene().AnimationTime != state["times"][-1] or len(state["ticks"]) < len(state["times"]):
            raise NotYet("still playing")
        end = time.time()
        ticks = state["ticks"]
        frames = [b - a for a, b in zip(ticks, ticks[1:])]
        print("[%d samples] %s: %d frames, %.2f s per frame (mean of the %d after the first; slowest %.2f s); "
              "the first frame %.1f s after the click, the last drawn %.1f s after it"
              % (SAMPLES, label, len(ticks), sum(frames) / len(frames), len(frames), max(frames),
                 ticks[0] - state["play"], end - state["play"]))
        print("    frames: " + " ".join("%.2f" % f for f in frames))
        busy = sorted(((r["seconds"], name, r["runs"]) for name, r in state["filters"].items() if r["runs"]), reverse=True)
        print("    executed: " + "; ".join("%s %d× %.2f s" % (name, runs, seconds) for seconds, name, runs in busy))
        click(toolbar_button("actionVCRFirstFrame"))  # as a user does before playing again
    return start, finished


for label in ("first play", "second play"):
    start, finished = play(label)
    step(1500)(start)
    step(2000, patience_s=300)(finished)

steps.run(timeout_s=1200, passed="done")
