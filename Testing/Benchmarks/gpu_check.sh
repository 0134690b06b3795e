#!/bin/bash
# One-shot check of the engine on a GPU machine (PyTorch 2.x with CUDA,
# transformers, CMake, Ninja; no nlohmann-json, GoogleTest or ParaView, no
# network). Run from the repository root with the git-ignored .device/ folder
# carried along (nlohmann and xxhash.h headers in include/, GoogleTest sources; see .device/README.txt):
#
#   Testing/Benchmarks/gpu_check.sh              # on the GPU machine, ~8 min max
#   Testing/Benchmarks/gpu_check.sh --cpu-dry-run   # here: CPU, tiny model, few images
#
# Steps (each bounded by what is left of the time budget, $GPU_CHECK_BUDGET_S,
# default 450 s; a step that fails does not stop the next ones):
#  1. builds the engine on its own (Filters/Engine, Release, Ninja) against the
#     Python torch's LibTorch, with -DDUALEMBED_THIRD_PARTY_DIR=$PWD/.device
#     and find_package of nlohmann_json/GTest disabled, so the fallback is used
#     the same way on both machines;
#  2. fixture check: BenchmarkImageEmbedding --check-fixtures on cuda float32
#     (tolerance 1e-4 against transformers' expected.json), and bfloat16 for
#     information (tolerance 5e-2);
#  3. random ViT-B/16 (in21k geometry): ours on cuda float32 and bfloat16 at
#     batch 256 (2560 images after 2 warm-up batches), then transformers
#     ViTModel eager on the same folder (float32; bfloat16 = model and input
#     .to(torch.bfloat16)), plus torchvision vit_b_16 and gemm peaks;
#  4. the engine's CTest tests (CPU tests as they are) with the time left.
# Everything goes to $OUT/gpu_check.log (OUT defaults to /tmp/gpu-check-out).
set -uo pipefail

dry=0
[ "${1:-}" = "--cpu-dry-run" ] && dry=1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
OUT="${OUT:-/tmp/gpu-check-out}"
mkdir -p "$OUT"
log="$OUT/gpu_check.log"
: > "$log"
exec > >(tee -a "$log") 2>&1
start=$(date +%s)
budget="${GPU_CHECK_BUDGET_S:-450}"
PY="${PYTHON:-python3}"

if [ "$dry" = 1 ]; then
  # Debian here: Debian's python3-torch, LibTorch 1.13 from libtorch-dev.
  [ -z "${PYTHON:-}" ] && PY=/usr/bin/python3
  device=cpu; jobs=2; build="$root/build-gpucheck-dry"
  batch=4; images=8; warmup=1
  vitargs=(--hidden 64 --layers 2 --heads 2 --intermediate 128)
  prefix=""   # system LibTorch
  export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
else
  device=cuda; jobs=16; build="$root/build-gpu"
  batch=256; images=2560; warmup=2
  vitargs=()
  prefix="$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
fi

elapsed() { echo $(( $(date +%s) - start )); }
left() { echo $(( budget - $(date +%s) + start )); }
# run_step NAME WANT_SECONDS CMD...: runs CMD with timeout min(WANT, time left - 5).
failures=()
run_step() {
  local name="$1" want="$2"; shift 2
  local t=$(( $(left) - 5 ))
  [ "$t" -gt "$want" ] && t="$want"
  if [ "$t" -lt 10 ]; then
    echo "### SKIPPED $name (time budget spent, $(elapsed) s elapsed)"
    failures+=("$name: skipped")
    return 1
  fi
  echo "### $name (limit ${t} s, $(elapsed) s elapsed)"
  timeout --kill-after=5 "$t" "$@"
  local rc=$?
  [ "$rc" = 124 ] && echo "### $name: TIMED OUT after ${t} s"
  [ "$rc" != 0 ] && failures+=("$name: exit $rc")
  echo "### $name: exit $rc ($(elapsed) s elapsed)"
  return "$rc"
}

echo "### gpu_check.sh $([ "$dry" = 1 ] && echo --cpu-dry-run) at $(date -u +%FT%TZ), $(nproc) cores, repo $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
"$PY" - <<'EOF'
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(),
      "cxx11abi", int(torch._C._GLIBCXX_USE_CXX11_ABI))
if torch.cuda.is_available():
    print("device", torch.cuda.get_device_name(0))
try:
    import transformers; print("transformers", transformers.__version__)
except ImportError:
    print("transformers: not importable")
EOF
cmake --version | head -1; ninja --version

# ---- 1. build ------------------------------------------------------------------
abi="$("$PY" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')"
cmake_args=(-S Filters/Engine -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
  -DDUALEMBED_THIRD_PARTY_DIR="$root/.device"
  -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON
  # the Python torch's ABI for everything, GoogleTest included (TorchConfig
  # sets it on the torch target only)
  -DCMAKE_CXX_FLAGS="-D_GLIBCXX_USE_CXX11_ABI=$abi"
  # googletest 1.12 declares cmake_minimum_required(3.5): CMake 4 needs this
  -DCMAKE_POLICY_VERSION_MINIMUM=3.5)
[ -n "$prefix" ] && cmake_args+=(-DCMAKE_PREFIX_PATH="$prefix")
# keep going past a failing target: the benchmark alone is worth having
run_step "configure" 120 cmake "${cmake_args[@]}" &&
  run_step "build" 300 cmake --build "$build" -j "$jobs" -- -k 0
bin="$build/Benchmarks/BenchmarkImageEmbedding"
built=0
[ -x "$bin" ] && built=1

# ---- 2. fixture check on the device -------------------------------------------
if [ "$built" = 1 ]; then
  run_step "fixtures $device float32" 90 "$bin" --check-fixtures Testing/Data/hf-reference \
    --device "$device" --precision float32 --tolerance 1e-4
  if [ "$device" = cuda ]; then
    run_step "fixtures cuda bfloat16 (information)" 60 "$bin" --check-fixtures Testing/Data/hf-reference \
      --device cuda --precision bfloat16 --tolerance 5e-2 || true
  fi
fi

# ---- 3. benchmarks -----------------------------------------------------------
vit="$(mktemp -d /tmp/dualembed-vit-XXXXXX)"
trap 'rm -rf "$vit"' EXIT
run_step "random ViT folder" 60 "$PY" Testing/Benchmarks/make_random_vit.py "$vit" ${vitargs[@]+"${vitargs[@]}"}
precisions=(float32)
[ "$device" = cuda ] && precisions+=(bfloat16)
if [ "$built" = 1 ]; then
  for p in "${precisions[@]}"; do
    pre=0; [ "$p" = float32 ] && pre=$(( dry == 1 ? 8 : 256 ))
    run_step "ours $device $p batch $batch" 90 "$bin" "$vit" --device "$device" --precision "$p" \
      --batch "$batch" --images "$images" --warmup "$warmup" --preprocess-images "$pre"
  done
fi
for p in "${precisions[@]}"; do
  ref=(--device "$device" --precision "$p" --batch "$batch" --images "$images" --warmup "$warmup" --hf-folder "$vit")
  # the dry run checks the script's code path only (torchvision ViT-B/16 is slow on 2 cores)
  [ "$dry" = 1 ] && ref+=(--no-torchvision --no-sgemm)
  [ "$p" = bfloat16 ] && ref+=(--no-sgemm)
  run_step "reference (transformers eager, torchvision) $device $p batch $batch" 120 \
    "$PY" Testing/Benchmarks/benchmark_embedding_reference.py "${ref[@]}"
done

# ---- 4. CTest (the engine's unit tests, as they are) --------------------------
if [ -f "$build/CTestTestfile.cmake" ]; then
  run_step "ctest" 200 ctest --test-dir "$build" -j "$(( jobs > 8 ? 8 : jobs ))" --timeout 120 --output-on-failure
  cp "$build/Testing/Temporary/LastTest.log" "$OUT/ctest-LastTest.log" 2>/dev/null || true
fi

# ---- summary ---------------------------------------------------------------------
echo
echo "### summary ($(elapsed) s)"
grep -h '^RESULT' "$log" | grep -v '^RESULT preprocess' | sed 's/^/  /'
"$PY" - "$log" <<'EOF'
import re, sys
rows = []
prec = None
for line in open(sys.argv[1]):
    m = re.match(r"### reference .* (float32|bfloat16) batch", line)
    if m:
        prec = m.group(1)
    if line.startswith("RESULT engine"):
        kv = dict(re.findall(r"(\w+)=(\S+)", line))
        rows.append(("ours (engine, %s)" % kv["precision"], float(kv["images_per_s"])))
    elif line.startswith("RESULT hf"):
        kv = dict(re.findall(r"(\w+)=(\S+)", line))
        rows.append(("transformers ViTModel eager (%s)" % kv["precision"], float(kv["images_per_s"])))
    elif line.startswith("RESULT torchvision"):
        kv = dict(re.findall(r"(\w+)=(\S+)", line))
        rows.append(("torchvision vit_b_16 (%s)" % prec, float(kv["images_per_s"])))
for name, v in rows:
    print("  %-42s %10.1f images/s" % (name, v))
EOF
if [ "${#failures[@]}" = 0 ]; then
  echo "### all steps passed"
else
  echo "### failed or skipped steps:"; printf '  %s\n' "${failures[@]}"
fi
echo "### log: $log"
