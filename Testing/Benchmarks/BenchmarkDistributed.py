#!/usr/bin/python3
"""The batch report (the whole pipeline) serial vs. on MPI ranks: time of each stage and peak
memory of each rank.

Runs `pvbatch report` on the first N Fashion-MNIST test images with the bundled demo models,
once with serial pvbatch and once with `mpiexec -n RANKS pvbatch --mpi`, under a virtual display
(the pictures need one), and prints the stages side by side with the peak resident memory of
every process (GNU time's %M, per rank). Threads: the engine's default, i.e. the machine's cores
shared by the ranks of the host (so 2 threads serial, 1 per rank with 2 ranks on 2 cores), and
OMP_WAIT_POLICY=PASSIVE unless set, as in the demo. Needs Debian's `time` and `xvfb` packages.

Usage (after building):
  /usr/bin/python3 Testing/Benchmarks/BenchmarkDistributed.py [--samples 10000] [--ranks 2]
      [--mpiexec-args "--bind-to none"]
      [--plugin build/lib/paraview-5.11/plugins/DualEmbed/DualEmbed.so] [--json out.json]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", ".."))

REPORT = """
import sys
from paraview import simple
simple.LoadPlugin(sys.argv[1], remote=False)
from dualembed import report
models = sys.argv[2]
report.run("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", models + "/fashion-vit-foundation",
           models + "/fashion-vit-ft", sys.argv[3], max_samples=int(sys.argv[4]))
"""


def run(command, label):
    print("==", label, ":", " ".join(command), flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMPI_", "PMIX_"))}
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as Scripts/run-demo.sh: no spinning OpenMP threads
    result = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        print(result.stdout[-4000:])
        sys.exit("%s failed" % label)
    stages = {m.group(1).strip(): float(m.group(2))
              for m in re.finditer(r"\[DualEmbed\] (.{34}) +([0-9.]+) s", result.stdout)}
    memory = [int(m) / 1024.0 for m in re.findall(r"^PEAK_RSS_KB (\d+)$", result.stdout, re.M)]
    return {"stages": stages, "peak_rss_mb": memory}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--plugin", default=os.path.join(root, "build/lib/paraview-5.11/plugins/DualEmbed/DualEmbed.so"))
    parser.add_argument("--mpiexec-args", default="",
                        help='extra mpiexec options, e.g. "--bind-to none" (Open MPI binds each rank to a core '
                             'by default, so the root projects on one core)')
    parser.add_argument("--json")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="dualembed-bench-mpi-")
    script = os.path.join(work, "report.py")
    with open(script, "w") as f:
        f.write(REPORT)
    models = os.path.join(root, "Data", "models")
    timed = ["/usr/bin/time", "-f", "PEAK_RSS_KB %M"]

    def report(folder):
        return ["pvbatch", "--mpi", script, args.plugin, models, os.path.join(work, folder), str(args.samples)]

    xvfb = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24 -noreset"]
    print("load average before:", os.getloadavg())
    serial = run(xvfb + timed + report("serial"), "serial")
    parallel = run(xvfb + ["mpiexec", "-n", str(args.ranks), "--oversubscribe"] + args.mpiexec_args.split() +
                   timed + report("mpi"),
                   "%d ranks" % args.ranks)
    print("load average after:", os.getloadavg())

    print("\n%-36s %10s %10s %8s" % ("stage (%d images)" % args.samples, "serial s", "%d ranks s" % args.ranks,
                                     "speed-up"))
    total = [0.0, 0.0]
    for stage, seconds in serial["stages"].items():
        other = parallel["stages"].get(stage, float("nan"))
        total[0] += seconds
        total[1] += other
        print("%-36s %10.1f %10.1f %7.2fx" % (stage, seconds, other, seconds / other if other else float("nan")))
    print("%-36s %10.1f %10.1f %7.2fx" % ("total", total[0], total[1], total[0] / total[1]))
    print("peak RSS serial: %s MB; per rank: %s MB" % (
        ", ".join("%.0f" % m for m in serial["peak_rss_mb"]), ", ".join("%.0f" % m for m in parallel["peak_rss_mb"])))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"samples": args.samples, "ranks": args.ranks, "serial": serial, "mpi": parallel}, f, indent=1)


if __name__ == "__main__":
    main()
