#!/usr/bin/env bash
# Fuzzing and sanitizer run, one command (README, "Fuzzing and sanitizers"):
#   Testing/Fuzz/run.sh [SECONDS] [HARNESS...]
# Builds the DUALEMBED_FUZZ=ON build with clang (ASan + UBSan) in
# ${DUALEMBED_FUZZ_BUILD_DIR:-build-fuzz}, runs the sanitized unit tests
# (GoogleTest of Formats and Engine; skipped with DUALEMBED_FUZZ_SKIP_TESTS=1,
# some left out with DUALEMBED_SANITIZE_EXCLUDE=<ctest -E regex>),
# then every harness (or those named) for SECONDS each (default 20; 0: none) from the
# seed corpus, and prints runs, seconds and the outcome of each. A crash leaves
# its input in <build>/fuzz-artifacts/ and makes the script fail; turn it into a
# regression test of the normal suite (README).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${DUALEMBED_FUZZ_BUILD_DIR:-$here/build-fuzz}"
seconds="${1:-20}"
shift || true
jobs="${DUALEMBED_FUZZ_JOBS:-$(nproc)}"

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$here" -B "$build" -G Ninja -DDUALEMBED_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" >/dev/null
if [ "${DUALEMBED_FUZZ_SKIP_TESTS:-0}" = 1 ]; then
  # Only the harnesses and the seed generator, not the unit tests.
  cmake --build "$build" --parallel "$jobs" --target MakeFuzzSeeds $(sed 's/^/fuzz_/' "$build/fuzzers.txt")
else
  cmake --build "$build" --parallel "$jobs"
fi

# Leaks and UB fail; an allocation over 1 GiB fails as std::bad_alloc (the
# regression tests of oversized inputs rely on it, see Testing/MemoryCap.h).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=1024}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$here/Testing/Fuzz/lsan.supp:print_suppressions=0}"

if [ "${DUALEMBED_FUZZ_SKIP_TESTS:-0}" != 1 ]; then
  start=$(date +%s)
  # DUALEMBED_SANITIZE_EXCLUDE: a ctest -E regex of tests to leave out (CI leaves
  # out the long numeric Projection / FlannKnn tests, which parse no input).
  (cd "$build" && ctest --output-on-failure --parallel "$jobs" --timeout 900 \
    ${DUALEMBED_SANITIZE_EXCLUDE:+-E "$DUALEMBED_SANITIZE_EXCLUDE"})
  echo "Sanitized unit tests: $(( $(date +%s) - start )) s"
fi

if [ "$seconds" = 0 ]; then
  exit 0 # the sanitized unit tests only
fi

corpus="$build/fuzz-corpus"
artifacts="$build/fuzz-artifacts"
rm -rf "$corpus/seeds"
mkdir -p "$corpus" "$artifacts"
"$build/Testing/Fuzz/MakeFuzzSeeds" "$corpus/seeds" "$here/Testing/Data"

if [ $# -gt 0 ]; then harnesses=("$@"); else mapfile -t harnesses < "$build/fuzzers.txt"; fi
# Where a finding comes from: the first stack frame outside the sanitizers,
# libFuzzer, libc and the allocator.
origin() {
  grep -a -E '^ +#[0-9]+ 0x' "$1" |
    grep -a -v -E '__sanitizer|fuzzer::|libc\.so|sysdeps|__interceptor|in (malloc|calloc|realloc|free|operator new|memcpy|memmove|memset)|libstdc\+\+' |
    head -1
}

# libhdf5 1.10 is not safe on hostile files (README, "Trusted inputs"): the HDF5
# harnesses keep going after a crash or hang (fork mode), and a finding whose
# origin is inside libhdf5 is listed, not failed. Anything else fails.
hdf5_harnesses=" hdf5_images sample_store "
failed=0
summary=""
for name in "${harnesses[@]}"; do
  mkdir -p "$corpus/$name" "$corpus/seeds/$name"
  log="$build/fuzz-$name.log"
  rm -f "$artifacts/$name-"*
  extra=()
  if [[ "$hdf5_harnesses" == *" $name "* ]]; then
    extra=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  fi
  # The harnesses' own limits: no input may take 2 GiB or 10 s.
  set +e
  "$build/Testing/Fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/$name-" "${extra[@]}" \
    "$corpus/$name" "$corpus/seeds/$name" >"$log" 2>&1
  status=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9]*\): cov.*/\1/p' "$log" | tail -1)
  outcome="ok"
  libhdf5=0
  for artifact in "$artifacts/$name-"*; do
    [ -e "$artifact" ] || continue
    replay="$artifact.log"
    timeout 60 "$build/Testing/Fuzz/fuzz_$name" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
      "$artifact" >"$replay" 2>&1 || true
    if [[ "$hdf5_harnesses" == *" $name "* ]] && origin "$replay" | grep -q libhdf5; then
      libhdf5=$((libhdf5 + 1))
    else
      outcome="FAILED: $artifact ($(origin "$replay" | sed 's/ (BuildId.*//;s/^ *//'))"
      failed=1
    fi
  done
  if [ "$status" -ne 0 ] && [ "$outcome" = ok ] && [ "$libhdf5" -eq 0 ]; then
    outcome="FAILED (exit $status, see $log)"
    failed=1
  fi
  [ "$libhdf5" -eq 0 ] || outcome+=" ($libhdf5 inputs crash or hang inside libhdf5; kept in $artifacts)"
  [ "$outcome" = "${outcome#FAILED}" ] || tail -40 "$log"
  summary+=$(printf '%-20s %10s runs  %s' "$name" "${runs:-?}" "$outcome")$'\n'
done
echo "Fuzzing, ${seconds} s per harness:"
printf '%s' "$summary"
exit "$failed"
