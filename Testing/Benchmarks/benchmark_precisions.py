#!/usr/bin/env python3
"""Engine vs torchvision eager, float32 and bfloat16, ViT-B/16 and Swin-B, in
the default environment and with OPENBLAS_CORETYPE=SkylakeX, in one run
(not a test).

    benchmark_precisions.py [--binary PATH] [--models vit,swin] [--batch 24]
        [--images 48] [--threads N] [--rounds 1] [--envs default,skylakex]
        [--precisions float32,bfloat16]

Environments: `default` sets nothing (as a user runs it); `skylakex` sets
OPENBLAS_CORETYPE=SkylakeX (OpenBLAS's CPU detection fails on this CPU);
`passive` sets OMP_WAIT_POLICY=PASSIVE (idle OpenMP threads sleep instead of
spinning: matters when the machine is shared; README "Threads").
Every measurement is its own process (OpenBLAS reads OPENBLAS_CORETYPE when
it loads), alternating ours and torchvision, `rounds` times; each side's
best round counts (the machine may be shared: the load average is printed
before every measurement; compare ratios from one run, not absolute
figures). torchvision fp32 in the default environment (OpenBLAS's slow
fallback kernels) times one batch only.
Models: random weights (make_random_vit.py), the geometry of torchvision's
vit_b_16 / swin_b. Prints a table and the ratios of the issue's criteria:
fp32 ours (default env) / torchvision fp32 with SkylakeX, bf16 ours /
torchvision bf16 (default env).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run(cmd, env):
    out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    rates = re.findall(r"^RESULT (?:engine|torchvision) images_per_s=(\S+).* cpu_s_per_image=(\S+)", out.stdout, re.M)
    if out.returncode != 0 or not rates:
        sys.stderr.write(out.stdout)
        raise SystemExit("failed: %s" % " ".join(cmd))
    return float(rates[0][0]), float(rates[0][1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=None)
    ap.add_argument("--models", default="vit,swin")
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--images", type=int, default=48)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--envs", default="default,skylakex")
    ap.add_argument("--precisions", default="float32,bfloat16")
    ap.add_argument("--python", default="/usr/bin/python3")
    args = ap.parse_args()
    binary = args.binary
    if not binary:
        for c in ("build/Testing/Benchmarks", "build-engine/Benchmarks", "build-bench/Benchmarks"):
            p = os.path.join(ROOT, c, "BenchmarkImageEmbedding")
            if os.access(p, os.X_OK):
                binary = p
                break
    if not binary:
        raise SystemExit("BenchmarkImageEmbedding not found: pass --binary")

    base = dict(os.environ)
    for tuned in ("OPENBLAS_CORETYPE", "OMP_WAIT_POLICY", "OMP_NUM_THREADS", "DNNL_MAX_CPU_ISA", "ONEDNN_MAX_CPU_ISA"):
        base.pop(tuned, None)
    envs = {"default": dict(base), "skylakex": dict(base, OPENBLAS_CORETYPE="SkylakeX"),
            "passive": dict(base, OMP_WAIT_POLICY="PASSIVE")}
    with open("/proc/cpuinfo") as f:
        model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    print("== %d cores, %s; load average %s; threads %d, batch %d, %d images per measurement"
          % (os.cpu_count(), model, load(), args.threads, args.batch, args.images))
    print("== binary %s" % binary)

    results = {}  # (model, env, side, precision) -> images/s
    cpus = {}  # -> process CPU seconds per image (depends less on other jobs than images/s)
    tmp = tempfile.mkdtemp(prefix="dualembed-precisions-")
    for name in args.models.split(","):
        folder = os.path.join(tmp, name)
        extra = ["--swin"] if name == "swin" else []
        subprocess.run([args.python, os.path.join(HERE, "make_random_vit.py"), folder] + extra, check=True,
                       stdout=subprocess.DEVNULL)
        arch = "swin_b" if name == "swin" else "vit_b_16"
        for env in args.envs.split(","):
            for precision in args.precisions.split(","):
                for r in range(args.rounds):
                    for side in ("ours", "torchvision"):
                        if side == "ours":
                            cmd = [binary, folder, "--device", "cpu", "--precision", precision, "--batch",
                                   str(args.batch), "--images", str(args.images), "--warmup", "1", "--threads",
                                   str(args.threads), "--preprocess-images", "0"]
                        else:
                            cmd = [args.python, os.path.join(HERE, "benchmark_embedding_reference.py"), "--arch",
                                   arch, "--device", "cpu", "--precision", precision, "--batch", str(args.batch),
                                   # fp32 on OpenBLAS's fallback kernels: one timed batch is enough
                                   "--images", str(args.batch if env != "skylakex" and precision == "float32"
                                                   else args.images), "--warmup", "1", "--threads", str(args.threads),
                                   "--no-sgemm"]
                        before = load()
                        rate, cpu = run(cmd, envs[env])
                        key = (name, env, side, precision)
                        results[key] = max(results.get(key, 0.0), rate)
                        cpus[key] = min(cpus.get(key, 1e9), cpu)
                        print("%-5s %-9s %-12s %-9s %7.2f images/s  %6.3f CPU s/image  (load before: %s)"
                              % (name, env, side, precision, rate, cpu, before), flush=True)

    print("\n== summary (best rounds; load average now %s)" % load())
    print("| model | environment | precision | ours img/s | torchvision img/s | ours / torchvision "
          "| CPU s/image ours / torchvision |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for (name, env, side, precision), rate in sorted(results.items()):
        if side != "ours":
            continue
        k = (name, env, "torchvision", precision)
        tv = results.get(k)
        print("| %s | %s | %s | %.2f | %.2f | %.2fx | %.3f / %.3f |"
              % (name, env, precision, rate, tv, rate / tv, cpus[(name, env, side, precision)], cpus[k]))
    for name in args.models.split(","):
        g = lambda env, side, p: results.get((name, env, side, p))
        o32, t32s, o16, t16 = g("default", "ours", "float32"), g("skylakex", "torchvision", "float32"), \
            g("default", "ours", "bfloat16"), g("default", "torchvision", "bfloat16")
        if o32 and t32s:
            print("%s: fp32 ours (default env) / torchvision fp32 (SkylakeX) = %.2fx (goal >= 0.9)" % (name, o32 / t32s))
        if o16 and t16:
            print("%s: bf16 ours / torchvision bf16 (default env) = %.2fx (goal >= 1.5); ours %.2f img/s"
                  % (name, o16 / t16, o16))
    return 0


if __name__ == "__main__":
    sys.exit(main())
