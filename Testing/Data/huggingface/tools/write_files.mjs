// Write the Parquet and Arrow files described by <root>/manifest.json.
// Usage: node write_files.mjs <root> <tmp_dir>   (run from the folder holding node_modules)
// Writers: apache-arrow (Arrow IPC streams), parquet-wasm (arrow-rs Parquet), @duckdb/node-api (DuckDB Parquet).
import * as A from 'apache-arrow';
import * as PW from 'parquet-wasm';
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(process.argv[2]);
const TMP = path.resolve(process.argv[3]);
const M = JSON.parse(fs.readFileSync(path.join(ROOT, 'manifest.json'), 'utf8'));
const D = M.datasets;
const out = (rel) => { const p = path.join(ROOT, rel); fs.mkdirSync(path.dirname(p), { recursive: true }); return p; };
const rd = (rel) => new Uint8Array(fs.readFileSync(path.join(ROOT, rel)));

const IMG = new A.Struct([new A.Field('bytes', new A.Binary(), true), new A.Field('path', new A.Utf8(), true)]);

// manifest image cell -> {bytes, path} | null
function imgValue(cell) {
  if (cell === null) return null;
  return { bytes: cell.bytes_null ? null : rd(cell.file), path: cell.path ?? null };
}
function vec(type, values) {
  const b = A.makeBuilder({ type, nullValues: [null, undefined] });
  for (const v of values) b.append(v);
  return b.finish().toVector();
}
// Build an Arrow table with an explicit (all-nullable, like pyarrow) schema, split into batches.
// cols: [[name, type, values(rows)], ...]
function table(cols, meta, batchSizes) {
  const fields = cols.map(([n, t]) => new A.Field(n, t, true));
  const schema = new A.Schema(fields, new Map(Object.entries(meta)));
  const n = cols[0][2].length;
  const sizes = batchSizes ?? [n];
  const batches = [];
  let off = 0;
  for (const s of sizes) {
    const children = cols.map(([, t, vals]) => vec(t, vals.slice(off, off + s)).data[0]);
    const data = A.makeData({ type: new A.Struct(fields), length: s, nullCount: 0, children });
    batches.push(new A.RecordBatch(schema, data));
    off += s;
  }
  if (off !== n) throw new Error('batch sizes do not add up');
  return new A.Table(schema, batches);
}
const I64 = (xs) => xs.map((x) => BigInt(x));

function writeArrowStream(rel, t) {
  fs.writeFileSync(out(rel), A.tableToIPC(t, 'stream'));
  console.log('wrote', rel);
}
function writeParquetWasm(rel, t, configure) {
  const wt = PW.Table.fromIPCStream(A.tableToIPC(t, 'stream'));
  let b = new PW.WriterPropertiesBuilder();
  b = configure(b);
  const bytes = PW.writeParquet(wt, b.build());
  fs.writeFileSync(out(rel), bytes);
  console.log('wrote', rel);
}
const hfKV = (ds) => new Map([['huggingface', ds.huggingface]]);

// ---- 1. cifar10, parquet-wasm, SNAPPY, dictionary, row groups of 10 ----------------------
{
  const ds = D.cifar10;
  const t = table([['img', IMG, ds.rows.map((r) => imgValue(r.img))],
                   ['label', new A.Int64(), I64(ds.rows.map((r) => r.label))]],
                  { huggingface: ds.huggingface });
  writeParquetWasm('parquet/cifar10-arrowrs-snappy/plain_text/train-00000-of-00001.parquet', t, (b) => b
    .setCompression(PW.Compression.SNAPPY).setDictionaryEnabled(true).setMaxRowGroupSize(10)
    .setKeyValueMetadata(hfKV(ds)));
}
// ---- 8. null image row (row 2), parquet-wasm, SNAPPY ----------------------------------------
{
  const ds = D.cifar10_null_image;
  const t = table([['img', IMG, ds.rows.map((r) => imgValue(r.img))],
                   ['label', new A.Int64(), I64(ds.rows.map((r) => r.label))]],
                  { huggingface: ds.huggingface });
  writeParquetWasm('parquet/cifar10-null-image/train-00000-of-00001.parquet', t, (b) => b
    .setCompression(PW.Compression.SNAPPY).setKeyValueMetadata(hfKV(ds)));
}
// ---- 3. mnist shards, parquet-wasm, ZSTD + data page v2 / UNCOMPRESSED + v1 plain -----------
{
  const mk = (ds, rows) => table([['image', IMG, rows.map((r) => imgValue(r.image))],
                                  ['label', new A.Int64(), I64(rows.map((r) => r.label))]],
                                 { huggingface: ds.huggingface });
  const tr = D.mnist_train;
  const half = tr.rows.length / 2;
  [tr.rows.slice(0, half), tr.rows.slice(half)].forEach((rows, k) => {
    writeParquetWasm(`parquet/mnist-sharded/train-0000${k}-of-00002.parquet`, mk(tr, rows), (b) => b
      .setCompression(PW.Compression.ZSTD).setWriterVersion(PW.WriterVersion.V2).setDictionaryEnabled(true)
      .setKeyValueMetadata(hfKV(tr)));
  });
  const te = D.mnist_test;
  writeParquetWasm('parquet/mnist-sharded/test-00000-of-00001.parquet', mk(te, te.rows), (b) => b
    .setCompression(PW.Compression.UNCOMPRESSED).setWriterVersion(PW.WriterVersion.V1)
    .setDictionaryEnabled(false).setKeyValueMetadata(hfKV(te)));
}
// ---- 7. embeddings: parquet-wasm FixedSizeList<float32>[64]; apache-arrow List<float32> -------
{
  const ds = D.embeddings;
  const dim = ds.dim;
  const load = (name) => new Float32Array(fs.readFileSync(path.join(TMP, name + '.f32')).buffer.slice(0));
  const fnd = load('embedding_foundation'), fin = load('embedding_finetuned');
  const rowsOf = (arr) => ds.rows.map((_, i) => Array.from(arr.subarray(i * dim, (i + 1) * dim)));
  const f32 = () => new A.Field('item', new A.Float32(), true);
  const base = [['id', new A.Utf8(), ds.rows.map((r) => r.id)],
                ['split', new A.Utf8(), ds.rows.map((r) => r.split)],
                ['label', new A.Int64(), I64(ds.rows.map((r) => r.label))]];
  const fsl = table([...base,
    ['embedding_foundation', new A.FixedSizeList(dim, f32()), rowsOf(fnd)],
    ['embedding_finetuned', new A.FixedSizeList(dim, f32()), rowsOf(fin)]], { huggingface: ds.huggingface });
  writeParquetWasm('parquet/embeddings/embeddings.parquet', fsl, (b) => b
    .setCompression(PW.Compression.SNAPPY).setKeyValueMetadata(hfKV(ds)));
  const lst = table([...base,
    ['embedding_foundation', new A.List(f32()), rowsOf(fnd)],
    ['embedding_finetuned', new A.List(f32()), rowsOf(fin)]], { huggingface: ds.huggingface_list }, [25, 15]);
  writeArrowStream('arrow/embeddings/embeddings-list.arrow', lst);
}
// ---- 4. datasets cache layout, Arrow IPC stream, 2 record batches ----------------------------
const cifarDesc = 'Synthetic stand-in for CIFAR-10 (DualEmbed test data).';
function splitInfo(name, ds, numBytes, dsName) {
  return { name, num_bytes: numBytes, num_examples: ds.rows.length, dataset_name: dsName };
}
function rowBytes(ds, col) {
  let n = 0;
  for (const r of ds.rows) { if (r[col] && !r[col].bytes_null) n += fs.statSync(path.join(ROOT, r[col].file)).size; n += 8; }
  return n;
}
{
  const ds = D.cifar10_cache;
  const t = table([['img', IMG, ds.rows.map((r) => imgValue(r.img))],
                   ['label', new A.Int64(), I64(ds.rows.map((r) => r.label))]],
                  { huggingface: ds.huggingface }, [7, 5]);
  const dir = 'arrow/cache/cifar10/plain_text/0.0.0/abc123';
  writeArrowStream(`${dir}/cifar10-train.arrow`, t);
  const nb = rowBytes(ds, 'img');
  // DatasetInfo._dump_info: json.dumps(asdict(info)) on one line
  const info = { description: cifarDesc, citation: '', homepage: 'https://www.cs.toronto.edu/~kriz/cifar.html',
    license: '', features: ds.features, builder_name: 'cifar10', dataset_name: 'cifar10', config_name: 'plain_text',
    version: { version_str: '0.0.0', major: 0, minor: 0, patch: 0 },
    splits: { train: splitInfo('train', ds, nb, 'cifar10') }, download_checksums: {}, download_size: 0,
    dataset_size: nb, size_in_bytes: nb };
  fs.writeFileSync(out(`${dir}/dataset_info.json`), pyDumps(info));
}
// ---- 5. save_to_disk DatasetDict (beans) ------------------------------------------------------
{
  const dir = 'arrow/save_to_disk/beans';
  const splits = ['train', 'validation'];
  const infos = {};
  for (const s of splits) infos[s] = splitInfo(s, D[`beans_${s}`], rowBytes(D[`beans_${s}`], 'image'), 'beans');
  for (const [k, s] of splits.entries()) {
    const ds = D[`beans_${s}`];
    const t = table([['image_file_path', new A.Utf8(), ds.rows.map((r) => r.image_file_path)],
                     ['image', IMG, ds.rows.map((r) => imgValue(r.image))],
                     ['labels', new A.Int64(), I64(ds.rows.map((r) => r.labels))]],
                    { huggingface: ds.huggingface });
    writeArrowStream(`${dir}/${s}/data-00000-of-00001.arrow`, t);
    const size = Object.values(infos).reduce((a, x) => a + x.num_bytes, 0);
    const info = { builder_name: 'beans', citation: '', config_name: 'default', dataset_name: 'beans',
      dataset_size: size, description: 'Synthetic stand-in for the beans dataset (DualEmbed test data).',
      download_checksums: {}, download_size: 0, features: ds.features, homepage: 'https://github.com/AI-Lab-Makerere/ibean/',
      license: '', size_in_bytes: size, splits: infos,
      version: { major: 1, minor: 0, patch: 0, version_str: '1.0.0' } };
    fs.writeFileSync(out(`${dir}/${s}/dataset_info.json`), pyDumps(info, 2, true));
    const state = { _data_files: [{ filename: 'data-00000-of-00001.arrow' }],
      _fingerprint: ['5a1c0e2f7b3d9e41', 'c83f2a9d6e1b0f57'][k], _format_columns: null, _format_kwargs: {},
      _format_type: null, _output_all_columns: false, _split: s };
    fs.writeFileSync(out(`${dir}/${s}/state.json`), pyDumps(state, 2, true));
  }
  fs.writeFileSync(out(`${dir}/dataset_dict.json`), pyDumps({ splits }));
}
// ---- 6. image folder kept by path (bytes null, path relative to the arrow file's folder) -------
{
  const ds = D.imagefolder;
  const t = table([['image', IMG, ds.rows.map((r) => imgValue(r.image))],
                   ['label', new A.Int64(), I64(ds.rows.map((r) => r.label))]],
                  { huggingface: ds.huggingface });
  const dir = 'arrow/imagefolder-by-path';
  writeArrowStream(`${dir}/imagefolder-train.arrow`, t);
  const info = { description: '', citation: '', homepage: '', license: '', features: ds.features,
    builder_name: 'imagefolder', dataset_name: 'imagefolder', config_name: 'default',
    version: { version_str: '0.0.0', major: 0, minor: 0, patch: 0 },
    splits: { train: splitInfo('train', ds, ds.rows.length * 40, 'imagefolder') },
    download_checksums: {}, download_size: 0, dataset_size: ds.rows.length * 40, size_in_bytes: ds.rows.length * 40 };
  fs.writeFileSync(out(`${dir}/dataset_info.json`), pyDumps(info));
}
// ---- 2. cifar100 by DuckDB: ZSTD, ROW_GROUP_SIZE 8, KV_METADATA -------------------------------
{
  const ds = D.cifar100;
  const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await inst.connect();
  await con.run('CREATE TABLE t (idx BIGINT, img STRUCT(bytes BLOB, path VARCHAR), fine_label BIGINT, coarse_label BIGINT)');
  const esc = (s) => s.replace(/'/g, "''");
  for (const [i, r] of ds.rows.entries()) {
    const file = path.join(ROOT, r.img.file);
    await con.run(`INSERT INTO t SELECT ${i}, {'bytes': content, 'path': NULL::VARCHAR}, ${r.fine_label}, ${r.coarse_label}
                   FROM read_blob('${esc(file)}')`);
  }
  const rel = 'parquet/cifar100-duckdb-zstd/train-00000-of-00001.parquet';
  // ROW_GROUP_SIZE is only checked between the chunks DuckDB's pipeline produces: with one thread a
  // single 16-row SELECT arrives as one chunk (one row group), so feed it as a UNION ALL of 8-row parts.
  const parts = [];
  for (let lo = 0; lo < ds.rows.length; lo += 8)
    parts.push(`SELECT * FROM (SELECT img, fine_label, coarse_label FROM t WHERE idx >= ${lo} AND idx < ${lo + 8} ORDER BY idx)`);
  await con.run('SET preserve_insertion_order = true');
  await con.run(`COPY (${parts.join(' UNION ALL ')}) TO '${esc(out(rel))}'
    (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 8, KV_METADATA {huggingface: '${esc(ds.huggingface)}'})`);
  console.log('wrote', rel);
  con.closeSync?.(); inst.closeSync?.();
}

// Python json.dumps formatting (", " / ": " separators; indent => "," + newline; ensure_ascii on BMP)
function pyDumps(v, indent = null, sortKeys = false) {
  const ser = (x, lvl) => {
    if (x === null) return 'null';
    if (typeof x === 'boolean') return x ? 'true' : 'false';
    if (typeof x === 'number') return String(x);
    if (typeof x === 'string') return JSON.stringify(x).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
    const pad = indent === null ? '' : '\n' + ' '.repeat(indent * (lvl + 1));
    const end = indent === null ? '' : '\n' + ' '.repeat(indent * lvl);
    const sep = indent === null ? ', ' : ',';
    if (Array.isArray(x)) return x.length ? '[' + x.map((e) => pad + ser(e, lvl + 1)).join(sep) + end + ']' : '[]';
    let keys = Object.keys(x); if (sortKeys) keys = keys.sort();
    return keys.length ? '{' + keys.map((k) => pad + ser(k, lvl + 1) + ': ' + ser(x[k], lvl + 1)).join(sep) + end + '}' : '{}';
  };
  return ser(v, 0);
}
