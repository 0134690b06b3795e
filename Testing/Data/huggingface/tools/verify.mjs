// Read every written file back with the same libraries and print a Markdown summary.
// Usage: node verify.mjs <root> [<tmp_dir>]   (run from the folder holding node_modules); exits 1 on a mismatch.
import * as A from 'apache-arrow';
import * as PW from 'parquet-wasm';
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(process.argv[2]);
const TMP = process.argv[3] ? path.resolve(process.argv[3]) : null; // raw float32 embeddings from draw_images.py
const M = JSON.parse(fs.readFileSync(path.join(ROOT, 'manifest.json'), 'utf8'));
let failures = 0;
const check = (ok, msg) => { if (!ok) { failures++; console.error('MISMATCH:', msg); } };
const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
const rel = (p) => path.relative(ROOT, p);
const eqBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// which manifest dataset each data file holds (and which rows)
const half = M.datasets.mnist_train.rows.length / 2;
const expect = {
  'parquet/cifar10-arrowrs-snappy/plain_text/train-00000-of-00001.parquet': ['cifar10'],
  'parquet/cifar10-null-image/train-00000-of-00001.parquet': ['cifar10_null_image'],
  'parquet/cifar100-duckdb-zstd/train-00000-of-00001.parquet': ['cifar100'],
  'parquet/mnist-sharded/train-00000-of-00002.parquet': ['mnist_train', 0, half],
  'parquet/mnist-sharded/train-00001-of-00002.parquet': ['mnist_train', half, 2 * half],
  'parquet/mnist-sharded/test-00000-of-00001.parquet': ['mnist_test'],
  'parquet/embeddings/embeddings.parquet': ['embeddings'],
  'arrow/embeddings/embeddings-list.arrow': ['embeddings'],
  'arrow/cache/cifar10/plain_text/0.0.0/abc123/cifar10-train.arrow': ['cifar10_cache'],
  'arrow/save_to_disk/beans/train/data-00000-of-00001.arrow': ['beans_train'],
  'arrow/save_to_disk/beans/validation/data-00000-of-00001.arrow': ['beans_validation'],
  'arrow/imagefolder-by-path/imagefolder-train.arrow': ['imagefolder'],
};

// compare a decoded Arrow table with the manifest rows
function compareRows(file, t) {
  const [name, lo, hi] = expect[file];
  const ds = M.datasets[name];
  const rows = ds.rows.slice(lo ?? 0, hi ?? ds.rows.length);
  check(t.numRows === rows.length, `${file}: ${t.numRows} rows, expected ${rows.length}`);
  const objs = t.toArray();
  rows.forEach((r, i) => {
    for (const [k, v] of Object.entries(r)) {
      const got = objs[i][k];
      if (v !== null && typeof v === 'object') {
        if (v === null) continue;
        const bytes = got?.bytes ?? null, p = got?.path ?? null;
        if (v.bytes_null) check(bytes === null, `${file}[${i}].${k}.bytes not null`);
        else check(bytes && eqBytes(bytes, fs.readFileSync(path.join(ROOT, v.file))), `${file}[${i}].${k}.bytes differ`);
        check(p === v.path, `${file}[${i}].${k}.path ${p} != ${v.path}`);
        if (v.bytes_null) check(fs.existsSync(path.join(path.dirname(path.join(ROOT, file)), v.path)), `${file}[${i}] path missing`);
      } else if (v === null) {
        check(got === null, `${file}[${i}].${k} should be null`);
      } else {
        check(String(got) === String(v), `${file}[${i}].${k} ${got} != ${v}`);
      }
    }
  });
  if (name === 'embeddings' && TMP) {
    for (const c of ['embedding_foundation', 'embedding_finetuned']) {
      const raw = new Float32Array(fs.readFileSync(path.join(TMP, c + '.f32')).buffer.slice(0));
      const dim = M.datasets.embeddings.dim;
      objs.forEach((o, i) => {
        const got = Array.from(o[c]);
        check(got.length === dim && got.every((x, j) => Object.is(x, raw[i * dim + j])), `${file}[${i}].${c} values differ`);
      });
    }
  }
  return ds;
}

const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await inst.connect();
const q = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();
const lines = [];
const say = (s) => { lines.push(s); };

say('| file | writer | rows | row groups / batches | codec | encodings (DuckDB) | data page type | metadata keys |');
say('|---|---|---|---|---|---|---|---|');
const files = walk(ROOT).map(rel).filter((f) => /\.(parquet|arrow)$/.test(f)).sort();
for (const f of files) {
  const abs = path.join(ROOT, f);
  check(f in expect, `${f}: not in the verify table`);
  if (f.endsWith('.parquet')) {
    const esc = abs.replace(/'/g, "''");
    const fm = (await q(`SELECT * FROM parquet_file_metadata('${esc}')`))[0];
    const md = await q(`SELECT row_group_id, row_group_num_rows, path_in_schema, type, compression, encodings,
                               data_page_offset, dictionary_page_offset FROM parquet_metadata('${esc}') ORDER BY row_group_id, column_id`);
    const kv = await q(`SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata('${esc}')`);
    const cnt = (await q(`SELECT count(*)::INT AS n FROM read_parquet('${esc}')`))[0].n;
    const rgs = [...new Set(md.map((r) => r.row_group_id))];
    const rgRows = rgs.map((g) => md.find((r) => r.row_group_id === g).row_group_num_rows);
    const codecs = [...new Set(md.map((r) => r.compression))].join(',');
    const enc = [...new Set(md.map((r) => `${r.path_in_schema.split(', ').join('.')}: ${r.encodings}`))].join('; ');
    // page type of each column chunk's first data page: PageHeader field 1 (i32, zigzag varint) at data_page_offset
    const fbuf = fs.readFileSync(abs);
    const pageType = (off) => {
      let o = Number(off);
      if (fbuf[o] !== 0x15) return '?';
      let v = 0, sh = 0, b;
      do { b = fbuf[++o]; v |= (b & 0x7f) << sh; sh += 7; } while (b & 0x80);
      return ({ 0: 'DATA_PAGE', 2: 'DICTIONARY_PAGE', 3: 'DATA_PAGE_V2' })[(v >>> 1) ^ -(v & 1)] ?? String(v);
    };
    const ptypes = [...new Set(md.map((r) => pageType(r.data_page_offset)))].join(',');
    const dict = md.some((r) => r.dictionary_page_offset !== null) ? ' + dictionary pages' : '';
    const t = PW.readParquet(new Uint8Array(fs.readFileSync(abs))).intoIPCStream();
    const at = A.tableFromIPC(t);
    const ds = compareRows(f, at);
    const hf = kv.find((r) => r.key === 'huggingface');
    check(hf && hf.value === ds.huggingface, `${f}: huggingface kv metadata missing/different`);
    check(cnt === at.numRows, `${f}: duckdb count ${cnt} != ${at.numRows}`);
    say(`| ${f} | ${fm.created_by} | ${cnt} | ${rgs.length} (${rgRows.join('+')}) | ${codecs} | ${enc} | ${ptypes}${dict} (format_version ${fm.format_version}) | ${kv.map((r) => r.key).join(', ')} |`);
    console.error(`-- ${f}\n   schema: ${at.schema.fields.map((x) => `${x.name}: ${x.type}`).join(', ')}`);
  } else {
    const buf = fs.readFileSync(abs);
    const isStream = !buf.subarray(0, 6).equals(Buffer.from('ARROW1'));
    const reader = A.RecordBatchReader.from(buf);
    const batches = [...reader];
    const at = new A.Table(batches);
    const ds = compareRows(f, at);
    const meta = at.schema.metadata;
    const key = f.endsWith('embeddings-list.arrow') ? 'huggingface_list' : 'huggingface';
    check(meta.get('huggingface') === ds[key], `${f}: schema metadata huggingface missing/different`);
    check(isStream, `${f}: not an IPC stream`);
    say(`| ${f} | apache-arrow (JS) | ${at.numRows} | ${batches.length} batches (${batches.map((b) => b.numRows).join('+')}) | none (IPC stream) | - | - | ${[...meta.keys()].join(', ')} |`);
    console.error(`-- ${f}\n   schema: ${at.schema.fields.map((x) => `${x.name}: ${x.type}`).join(', ')}`);
  }
}
console.log(lines.join('\n'));
if (failures) { console.error(`${failures} mismatches`); process.exit(1); }
console.error('verify: all files match manifest.json');
