#!/bin/bash
# CPU benchmark of the engine against PyTorch eager (torchvision vit_b_16) on a
# random ViT-B/16 (google/vit-base-patch16-224-in21k geometry), in one run.
#
#   Testing/Benchmarks/run_embedding_benchmark.sh [--binary PATH] [--batch 24]
#       [--images 96] [--rounds 2] [--threads N] [--raw-env] [--profile]
#       [-- extra make_random_vit.py options, e.g. --hidden 64 --layers 2 --heads 2]
#
# The benchmark binary: --binary, else $DUALEMBED_BENCHMARK_BIN, else the
# first of build/Testing/Benchmarks/, build-engine/Benchmarks/,
# build-bench/Benchmarks/ (BenchmarkImageEmbedding) that exists.
# Python: $PYTHON, else /usr/bin/python3 when it imports torch and
# torchvision (Debian's python3-torch), else python3.
#
# Ours and torchvision run alternately `rounds` times (the machine may be
# shared); the summary takes each side's best round. Unless --raw-env:
#  - OMP_WAIT_POLICY=PASSIVE: OpenMP threads that spin on a busy 2-core
#    machine slow both sides down by 10-50x (measured);
#  - OPENBLAS_CORETYPE=SkylakeX/Haswell when OpenBLAS's CPU detection fell
#    back to Prescott kernels on an AVX-512/AVX2 CPU (VMs), 3-4x on sgemm.
# Both apply to ours and to torchvision alike; they are printed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
binary="${DUALEMBED_BENCHMARK_BIN:-}"
batch=24
images=96
rounds=2
threads="$(nproc)"
rawenv=0
profile=""
vitargs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --images) images="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --raw-env) rawenv=1; shift ;;
    --profile) profile="--profile"; shift ;;
    --) shift; vitargs=("$@"); break ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ -z "$binary" ]; then
  for c in build/Testing/Benchmarks build-engine/Benchmarks build-bench/Benchmarks; do
    if [ -x "$root/$c/BenchmarkImageEmbedding" ]; then binary="$root/$c/BenchmarkImageEmbedding"; break; fi
  done
fi
if [ -z "$binary" ] || [ ! -x "$binary" ]; then
  echo "BenchmarkImageEmbedding not found: build it (target BenchmarkImageEmbedding) and pass --binary PATH" >&2
  exit 2
fi
if [ -z "${PYTHON:-}" ]; then
  if /usr/bin/python3 -c "import torch, torchvision" 2>/dev/null; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi

if [ "$rawenv" = 0 ]; then
  export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
  if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    core="$("$PYTHON" - <<'EOF'
import ctypes, torch
torch.mm(torch.ones(8, 8), torch.ones(8, 8))
for line in open("/proc/self/maps"):
    path = line.split()[-1]
    if "openblas" in path and ".so" in path:
        f = ctypes.CDLL(path).openblas_get_corename
        f.restype = ctypes.c_char_p
        print(f().decode())
        break
EOF
)" || core=""
    flags="$(grep -m1 '^flags' /proc/cpuinfo || true)"
    case "$core" in
      Prescott|Core2|Nehalem|Sandybridge)
        if [[ " $flags " == *" avx512f "* ]]; then export OPENBLAS_CORETYPE=SkylakeX
        elif [[ " $flags " == *" avx2 "* ]]; then export OPENBLAS_CORETYPE=Haswell; fi
        [ -n "${OPENBLAS_CORETYPE:-}" ] && echo "OpenBLAS detected '$core' kernels on this CPU: using OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE" ;;
    esac
  fi
fi

# Full output in round 1, the non-indented lines afterwards.
show() { if [ "$1" = 1 ]; then cat; else grep -v '^[[:space:]]' || true; fi; }

tmp="$(mktemp -d /tmp/dualembed-bench-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
log="$tmp/log"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== env: OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset} OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset} OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}"
echo "== binary: $binary; python: $PYTHON"
"$PYTHON" "$here/make_random_vit.py" "$tmp/vit" ${vitargs[@]+"${vitargs[@]}"}
# torchvision's vit_b_16 is ViT-B/16 only: with another geometry it still runs ViT-B/16.

for r in $(seq 1 "$rounds"); do
  echo "== round $r/$rounds: ours (BenchmarkImageEmbedding, batch $batch, $images images, $threads threads)"
  pre=0; [ "$r" = 1 ] && pre="$batch"
  "$binary" "$tmp/vit" --device cpu --precision float32 --batch "$batch" --images "$images" --warmup 1 \
    --threads "$threads" --preprocess-images "$pre" $profile | tee -a "$log" | show "$r"
  echo "== round $r/$rounds: torchvision vit_b_16 (PyTorch eager)"
  sg="--no-sgemm"; [ "$r" = "$rounds" ] && sg=""
  "$PYTHON" "$here/benchmark_embedding_reference.py" --device cpu --batch "$batch" --images "$images" --warmup 1 \
    --threads "$threads" --hf-folder "$tmp/vit" $sg | tee -a "$log" | show "$r"
done

echo "== summary (load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
"$PYTHON" - "$log" <<'EOF'
import re, sys
ours, tv, hf, sgemm, flop, pre = [], [], [], None, None, {}
ocpu, tcpu = [], []
for line in open(sys.argv[1]):
    if not line.startswith("RESULT"):
        continue
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    kind = line.split()[1]
    if kind == "engine":
        ours.append(float(kv["images_per_s"])); flop = float(kv["gflop_per_image"])
        ocpu.append(float(kv["cpu_s_per_image"]))
    elif kind == "torchvision":
        tv.append(float(kv["images_per_s"]))
        tcpu.append(float(kv["cpu_s_per_image"]))
    elif kind == "hf":
        hf.append(float(kv["images_per_s"]))
    elif kind == "sgemm":
        sgemm = float(kv["gflops"])
    elif kind.startswith("preprocess"):
        pre.update(kv)
o, t = max(ours), max(tv)
if flop and abs(flop - 35.127) > 0.05:
    print("NOTE: the model is not ViT-B/16 at 224 (%.3f GFLOP/image): torchvision still ran ViT-B/16, "
          "so the ratio below is meaningless" % flop)
print("ours (DualEmbed engine, LibTorch C++): %.3f images/s  (rounds: %s)" % (o, ", ".join("%.3f" % v for v in ours)))
print("torchvision vit_b_16 (PyTorch eager):   %.3f images/s  (rounds: %s)" % (t, ", ".join("%.3f" % v for v in tv)))
if hf:
    print("transformers ViTModel eager:            %.3f images/s" % max(hf))
print("ratio ours / torchvision: %.3fx (best rounds; per round: %s)"
      % (o / t, ", ".join("%.3f" % (a / b) for a, b in zip(ours, tv))))
print("process CPU time per image (less sensitive to other jobs): ours %.3f s, torchvision %.3f s "
      "(best rounds) -> ratio %.3fx" % (min(ocpu), min(tcpu), min(tcpu) / min(ocpu)))
if flop:
    print("FLOPs/image %.2f GFLOP (2 per multiply-add, = %.2f GMAC); ours %.1f GFLOP/s, torchvision %.1f GFLOP/s"
          % (flop, flop / 2, o * flop, t * flop))
if sgemm:
    print("sgemm peak (torch.mm 4096^2 fp32): %.1f GFLOP/s; ours at %.0f %% of it, torchvision at %.0f %%"
          % (sgemm, 100 * o * flop / sgemm, 100 * t * flop / sgemm))
for k, v in sorted(pre.items()):
    print("%s: %s" % (k, v))
EOF
