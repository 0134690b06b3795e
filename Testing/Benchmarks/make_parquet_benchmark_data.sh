#!/usr/bin/env bash
# Data of the Hugging Face Parquet benchmark (issue 25; see BenchmarkHuggingFace.py):
# a CIFAR-10-sized dataset, 50 000 PNG 32x32 RGB images, as an image folder and
# as a Parquet file with cifar10's Hugging Face schema, and the DuckDB scan.
#
#   Testing/Benchmarks/make_parquet_benchmark_data.sh [WORK]     (default /tmp/dualembed-hf-bench)
#
# Reuses what WORK already holds (delete WORK to start again). Needs /usr/bin/python3
# with PIL + numpy, node >= 18, and npm with access to the npm registry (once: the
# pinned packages of Testing/Data/huggingface/tools/package-lock.json go to WORK/node).
#
# Images: the first 50 000 Fashion-MNIST training images (there is no CIFAR on the
# machine), padded 28 -> 32 and tinted per class into RGB (deterministic), PNG-encoded
# once by PIL (compress_level 6, its default); the folder and the Parquet hold the
# same bytes. Class k is named after CIFAR-10's class k (already in sorted order, so
# the image folder's labels equal the Parquet labels).
#
# WORK/folder/<class_name>/<i>.png                      the image folder
# WORK/parquet/plain_text/train-00000-of-00001.parquet  img struct<bytes, path> (path
#     null), label int64, footer key "huggingface" (cifar10's features); written by
#     parquet-wasm (arrow-rs) with SNAPPY, dictionary encoding on (pyarrow's and
#     arrow-rs' default: a binary column falls back to plain pages once the dictionary
#     page reaches 1 MB) and row groups of 1000 rows: ~1.5 MB row groups, about what a
#     Hub file of CIFAR-size images holds per row group (datasets' writer caps image
#     datasets at 100 rows per row group, PARQUET_ROW_GROUP_SIZE_FOR_IMAGE_DATASETS,
#     and converters write larger ones).
# WORK/parquet-rg100/plain_text/train-00000-of-00001.parquet  the same with row groups
#     of 100 rows (datasets' own cap), for page reading only.
# WORK/raw/  the PNG bytes, offsets and labels the Parquet writer reads, and pixels.npy
#     (the pixels that were encoded), which BenchmarkHuggingFace.py compares with the readers'.
# WORK/node/duckdb_scan.mjs  node duckdb_scan.mjs <file.parquet> [repeats] [threads]:
#     SELECT sum(octet_length(img.bytes)) FROM read_parquet(...), best of `repeats` in one
#     DuckDB instance (start-up excluded), threads = the machine's cores; prints one JSON line.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS="$HERE/../Data/huggingface/tools"
WORK="${1:-/tmp/dualembed-hf-bench}"
N=50000
FASHION=/usr/share/datasets/fashion-mnist
mkdir -p "$WORK/node" "$WORK/raw"
WORK="$(cd "$WORK" && pwd)"

# 1. the pinned npm packages (apache-arrow, parquet-wasm, @duckdb/node-api)
cp "$TOOLS/package.json" "$TOOLS/package-lock.json" "$WORK/node/"
if ! cmp -s "$TOOLS/package-lock.json" "$WORK/node/node_modules/.package-lock.json.src" 2>/dev/null; then
  echo "installing the pinned npm packages into $WORK/node"
  (cd "$WORK/node" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$TOOLS/package-lock.json" "$WORK/node/node_modules/.package-lock.json.src"
fi

# 2. the node scripts (rewritten every run: cheap, and they follow this file)
cat > "$WORK/node/write_parquet.mjs" <<'JS'
// node write_parquet.mjs <raw dir> <out.parquet> <row group size>
import * as A from 'apache-arrow';
import * as PW from 'parquet-wasm';
import fs from 'node:fs';
import path from 'node:path';

const [raw, outFile, rowGroup] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const blob = new Uint8Array(fs.readFileSync(path.join(raw, 'images.bin')));
const offsets = new BigInt64Array(new Uint8Array(fs.readFileSync(path.join(raw, 'offsets.i64'))).buffer);
const labels = new BigInt64Array(new Uint8Array(fs.readFileSync(path.join(raw, 'labels.i64'))).buffer);
const hf = fs.readFileSync(path.join(raw, 'huggingface.json'), 'utf8');
const n = labels.length;

// cifar10's schema as datasets writes it (pyarrow: every field nullable)
const IMG = new A.Struct([new A.Field('bytes', new A.Binary(), true), new A.Field('path', new A.Utf8(), true)]);
const fields = [new A.Field('img', IMG, true), new A.Field('label', new A.Int64(), true)];
const schema = new A.Schema(fields, new Map([['huggingface', hf]]));
const batches = [];
const BATCH = 10000; // Arrow batches only; the Parquet row groups are set below
for (let lo = 0; lo < n; lo += BATCH) {
  const hi = Math.min(n, lo + BATCH);
  const img = A.makeBuilder({ type: IMG, nullValues: [null, undefined] });
  const lab = A.makeBuilder({ type: new A.Int64(), nullValues: [null, undefined] });
  for (let i = lo; i < hi; ++i) {
    img.append({ bytes: blob.subarray(Number(offsets[i]), Number(offsets[i + 1])), path: null });
    lab.append(labels[i]);
  }
  const children = [img.finish().toVector().data[0], lab.finish().toVector().data[0]];
  const data = A.makeData({ type: new A.Struct(fields), length: hi - lo, nullCount: 0, children });
  batches.push(new A.RecordBatch(schema, data));
}
const table = new A.Table(schema, batches);
const props = new PW.WriterPropertiesBuilder()
  .setCompression(PW.Compression.SNAPPY)
  .setDictionaryEnabled(true)
  .setMaxRowGroupSize(rowGroup)
  .setKeyValueMetadata(new Map([['huggingface', hf]]))
  .build();
const bytes = PW.writeParquet(PW.Table.fromIPCStream(A.tableToIPC(table, 'stream')), props);
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile + '.tmp', bytes);
fs.renameSync(outFile + '.tmp', outFile);
console.log(`wrote ${outFile}: ${n} rows, row groups of ${rowGroup}, ${bytes.length} bytes`);
JS

cat > "$WORK/node/duckdb_scan.mjs" <<'JS'
// node duckdb_scan.mjs <file.parquet> [repeats=3] [threads=cores] [--check]
// The image bytes scan of issue 25, timed inside node without DuckDB's start-up.
// --check: also the rows, row groups and label sum (not timed).
import { DuckDBInstance } from '@duckdb/node-api';
import os from 'node:os';

const file = process.argv[2];
const repeats = Number(process.argv[3] ?? 3);
const threads = Number(process.argv[4] ?? os.cpus().length);
const check = process.argv.includes('--check');
const inst = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const con = await inst.connect();
const one = async (sql) => Object.values((await con.runAndReadAll(sql)).getRowObjectsJson()[0])[0];
const version = await one('SELECT version()');
const quoted = `'${file.replace(/'/g, "''")}'`;
const sql = `SELECT sum(octet_length(img.bytes)) FROM read_parquet(${quoted})`;
const times = [];
let bytes = null;
for (let r = 0; r < repeats; ++r) {
  const start = process.hrtime.bigint();
  const reader = await con.runAndReadAll(sql);
  times.push(Number(process.hrtime.bigint() - start) / 1e9);
  bytes = Number(reader.getRows()[0][0]);
}
const result = { duckdb: version, threads, repeats, seconds: Math.min(...times), times, image_bytes: bytes };
if (check) {
  result.rows = Number(await one(`SELECT count(*) FROM read_parquet(${quoted})`));
  result.label_sum = Number(await one(`SELECT sum(label) FROM read_parquet(${quoted})`));
  result.row_groups = Number(await one(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata(${quoted})`));
  result.null_paths = Number(await one(`SELECT count(*) FROM read_parquet(${quoted}) WHERE img.path IS NULL`));
}
console.log(JSON.stringify(result));
JS

# 3. images: PNG bytes once, into WORK/raw (for the Parquet writer) and WORK/folder;
#    WORK/raw/pixels.npy keeps the pixels encoded (N x 32 x 32 x 3), for the driver's check
if [ ! -f "$WORK/raw/done" ] || [ ! -f "$WORK/raw/pixels.npy" ]; then
  echo "encoding $N PNG images into $WORK/folder and $WORK/raw"
  rm -rf "$WORK/folder" "$WORK/raw"
  mkdir -p "$WORK/raw"
  /usr/bin/python3 - "$FASHION" "$WORK" "$N" <<'PY'
import gzip, io, json, os, sys
import numpy as np
from PIL import Image

fashion, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
with gzip.open(os.path.join(fashion, "train-images-idx3-ubyte.gz")) as f:
    gray = np.frombuffer(f.read(), np.uint8)[16:].reshape(-1, 28, 28)[:n]
with gzip.open(os.path.join(fashion, "train-labels-idx1-ubyte.gz")) as f:
    labels = np.frombuffer(f.read(), np.uint8)[8:][:n].astype(np.int64)
assert len(gray) == n and len(labels) == n
# per class: a foreground colour (scaled by the pixel's grey) over a dark background colour
fg = np.array([[255, 80, 80], [80, 255, 80], [80, 80, 255], [255, 255, 80], [255, 80, 255],
               [80, 255, 255], [255, 160, 40], [160, 40, 255], [40, 160, 255], [200, 200, 200]], np.float32)
bg = np.array([[16 + 8 * k, 40 - 3 * k, 24 + 5 * k] for k in range(10)], np.float32)
for name in names:
    os.makedirs(os.path.join(work, "folder", name), exist_ok=True)
offsets = [0]
pixels = np.lib.format.open_memmap(os.path.join(work, "raw", "pixels.npy"), "w+", np.uint8, (n, 32, 32, 3))
with open(os.path.join(work, "raw", "images.bin"), "wb") as blob:
    for i in range(n):
        k = int(labels[i])
        g = np.zeros((32, 32), np.float32)
        g[2:30, 2:30] = gray[i] / 255.0
        rgb = np.rint(g[..., None] * fg[k] + (1.0 - g[..., None]) * bg[k]).astype(np.uint8)
        pixels[i] = rgb
        buffer = io.BytesIO()
        Image.fromarray(rgb, "RGB").save(buffer, format="PNG")
        data = buffer.getvalue()
        with open(os.path.join(work, "folder", names[k], "%d.png" % i), "wb") as f:
            f.write(data)
        blob.write(data)
        offsets.append(offsets[-1] + len(data))
pixels.flush()
del pixels
np.asarray(offsets, np.int64).tofile(os.path.join(work, "raw", "offsets.i64"))
labels.tofile(os.path.join(work, "raw", "labels.i64"))
features = {"img": {"_type": "Image"}, "label": {"names": names, "_type": "ClassLabel"}}
with open(os.path.join(work, "raw", "huggingface.json"), "w") as f:
    f.write(json.dumps({"info": {"features": features}}))
print("%d images, %d bytes of PNG (%.0f bytes per image)" % (n, offsets[-1], offsets[-1] / n))
PY
  touch "$WORK/raw/done"
fi

# 4. the Parquet files (parquet-wasm), checked by DuckDB against the raw bytes
write_parquet() { # <relative path> <row group size>
  local out="$WORK/$1"
  if [ ! -f "$out" ] || [ "$out" -ot "$WORK/raw/done" ]; then
    (cd "$WORK/node" && node write_parquet.mjs "$WORK/raw" "$out" "$2")
    local expect check
    expect="$(/usr/bin/python3 -c "import numpy as np, sys; o = np.fromfile(sys.argv[1], np.int64); print(o[-1])" "$WORK/raw/offsets.i64")"
    check="$(cd "$WORK/node" && node duckdb_scan.mjs "$out" 1 1 --check)"
    echo "  DuckDB reads it back: $check"
    /usr/bin/python3 - "$check" "$expect" "$N" "$2" <<'PY'
import json, sys
c, expect, n, rg = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
assert c["image_bytes"] == expect, ("image bytes", c["image_bytes"], expect)
assert c["rows"] == n and c["null_paths"] == n, c
assert c["row_groups"] == -(-n // rg), c
PY
  fi
}
write_parquet parquet/plain_text/train-00000-of-00001.parquet 1000
write_parquet parquet-rg100/plain_text/train-00000-of-00001.parquet 100
echo "benchmark data ready in $WORK"
