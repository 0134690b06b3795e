#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: install, build, then run the demo or the tests.
#   Scripts/setup.sh demo   install, build, run the demo on Fashion-MNIST
#   Scripts/setup.sh test   install, build, run every test (CTest)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DUALEMBED_BUILD_DIR:-$here/build}"
what="${1:-demo}"

"$here/Scripts/install-dependencies.sh"

jobs="$(nproc)"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" --parallel "$jobs"

case "$what" in
  demo)
    "$here/Scripts/run-demo.sh" "$build"
    ;;
  test)
    cd "$build"
    # One virtual X display for every test that renders (views, GUI smoke test).
    # -noreset: by default Xvfb resets when its last client leaves, and a test
    # connecting during the reset failed ("bad X server connection").
    xvfb-run -a -s "-screen 0 1920x1080x24 -noreset" \
      ctest --output-on-failure --parallel "$jobs" --timeout 900
    # Then the clang ASan+UBSan build in build-fuzz/ (README, "Fuzzing and
    # sanitizers"): the unit tests of Formats and Engine under the sanitizers
    # (less the long Projection / FlannKnn ones: 3 of 7.5 min), and every
    # parser's libFuzzer harness for 20 s.
    DUALEMBED_SANITIZE_EXCLUDE='^(Projection|FlannKnn)\.' DUALEMBED_FUZZ_BUILD_DIR="$build-fuzz" \
      "$here/Testing/Fuzz/run.sh" 20
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
