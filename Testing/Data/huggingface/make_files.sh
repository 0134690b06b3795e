#!/usr/bin/env bash
# Regenerate the Hugging Face layout test files in this folder (see README.md).
#   bash Testing/Data/huggingface/make_files.sh        (from anywhere)
# Needs /usr/bin/python3 with PIL + numpy, node >= 18 and npm with access to the npm registry.
# node_modules is installed from tools/package-lock.json into a temp dir that is removed afterwards;
# set HF_NODE_DIR=<dir> to install into (and reuse) a folder of your choice instead.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
NODE_DIR="${HF_NODE_DIR:-$TMP/node}"
mkdir -p "$NODE_DIR"

# 1. writers: exact versions from the committed lock file
cp "$HERE/tools/package.json" "$HERE/tools/package-lock.json" "$HERE/tools/write_files.mjs" "$HERE/tools/verify.mjs" "$NODE_DIR/"
if ! cmp -s "$HERE/tools/package-lock.json" "$NODE_DIR/node_modules/.package-lock.json.src" 2>/dev/null; then
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$HERE/tools/package-lock.json" "$NODE_DIR/node_modules/.package-lock.json.src"
fi

# 2. start clean: everything below is generated
rm -rf "$HERE/images" "$HERE/parquet" "$HERE/arrow" "$HERE/manifest.json"

# 3. images (PIL) + manifest.json + embeddings.npz, then the Parquet/Arrow files
/usr/bin/python3 "$HERE/tools/draw_images.py" "$HERE" "$TMP"
(cd "$NODE_DIR" && node write_files.mjs "$HERE" "$TMP")

# 4. read everything back; the summary table goes into README.md between the markers
(cd "$NODE_DIR" && node verify.mjs "$HERE" "$TMP") > "$TMP/summary.md"
/usr/bin/python3 - "$HERE/README.md" "$TMP/summary.md" <<'PY'
import sys
readme, summary = sys.argv[1], open(sys.argv[2]).read().strip()
text = open(readme).read()
b, e = "<!-- summary:begin -->", "<!-- summary:end -->"
i, j = text.index(b) + len(b), text.index(e)
open(readme, "w").write(text[:i] + "\n" + summary + "\n" + text[j:])
PY
echo "done: $(find "$HERE" -type f -not -path '*/tools/*' | wc -l) files, $(du -sb "$HERE" | cut -f1) bytes"
