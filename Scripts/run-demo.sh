#!/usr/bin/env bash
# Runs the DualEmbed demo with pvbatch on the built plugin (Scripts/setup.sh demo builds it first).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
shift || true
plugin="$(find "$build" -name 'DualEmbed.so' -path '*plugins*' | head -n 1)"
if [ -z "$plugin" ]; then
  echo "DualEmbed plugin not found under $build: build it first (Scripts/setup.sh demo)." >&2
  exit 1
fi
export DUALEMBED_PLUGIN="$plugin"
# LibTorch's OpenMP threads otherwise spin between the small layers of the demo
# models; on a busy machine a descheduled spinning thread made the embeddings
# up to 20x slower (measured: 3 000 images 20 s instead of 1 s).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
# pvbatch renders the report's pictures: without a display, use a virtual one.
if [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1920x1080x24 -noreset" pvbatch "$here/Scripts/demo.py" "$@"
fi
exec pvbatch "$here/Scripts/demo.py" "$@"
