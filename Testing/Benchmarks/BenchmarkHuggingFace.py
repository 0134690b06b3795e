"""Hugging Face Parquet reading (issue 25): 50 000 PNG 32x32 RGB images (CIFAR-10's size and schema),
as a Parquet file against DuckDB and against the same images as an image folder. Not a test.

Goals: page reading without image decoding (BenchmarkParquetPages: probe + readSamples of every row
group) no slower than DuckDB's `SELECT sum(octet_length(img.bytes)) FROM read_parquet(...)`; the whole
open through ImageDatasetReader (PNG decoding included) of the Parquet file no slower than of the
image folder. The whole open is timed like BenchmarkReader.py: the VTK algorithm's Update (proxy
creation and RequestInformation included), and the proxy's UpdatePipeline + data information.
Checks (printed) that both reader paths give all samples, the pixels that were encoded and the labels,
and that the page reading counts the bytes DuckDB counts.

Usage (from anywhere; the data are made on the first run, about a minute, then reused):
  DUALEMBED_PLUGIN=build/lib/paraview-5.11/plugins/DualEmbed/DualEmbed.so \\
    pvpython Testing/Benchmarks/BenchmarkHuggingFace.py [--work /tmp/dualembed-hf-bench] [--repeats 3]
        [--binary build/Testing/Benchmarks/BenchmarkParquetPages] [--threads N]
The data: make_parquet_benchmark_data.sh (WORK). BenchmarkParquetPages: `ninja BenchmarkParquetPages`.
DuckDB: @duckdb/node-api pinned in Testing/Data/huggingface/tools/package-lock.json, run by node with
`threads` = the machine's cores (--threads), best of the repeats within one instance (start-up excluded).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchmark_stages import cpu_model  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PARQUET = "parquet/plain_text/train-00000-of-00001.parquet"
PARQUET_RG100 = "parquet-rg100/plain_text/train-00000-of-00001.parquet"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", default="/tmp/dualembed-hf-bench")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--binary", default=os.environ.get("DUALEMBED_PAGES_BIN",
                        os.path.join(ROOT, "build", "Testing", "Benchmarks", "BenchmarkParquetPages")))
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="DuckDB's threads")
    return parser.parse_args()


def best_of(repeats, function):
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def duckdb_scan(work, file, repeats, threads):
    out = subprocess.run(["node", "duckdb_scan.mjs", os.path.join(work, file), str(repeats), str(threads)],
                         cwd=os.path.join(work, "node"), check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def page_reading(binary, work, file, repeats):
    out = subprocess.run([binary, os.path.join(work, file), "--repeats", str(repeats)],
                         check=True, capture_output=True, text=True).stdout
    line = [l for l in out.splitlines() if l.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def main():
    args = parse_args()
    work = os.path.abspath(args.work)
    if not os.access(args.binary, os.X_OK):
        sys.exit("BenchmarkParquetPages not found at %s (build it: ninja BenchmarkParquetPages, "
                 "or pass --binary)" % args.binary)
    subprocess.run(["bash", os.path.join(HERE, "make_parquet_benchmark_data.sh"), work], check=True,
                   stdout=2)  # fd 2: pvpython's sys.stderr has no fileno
    parquet, folder = os.path.join(work, PARQUET), os.path.join(work, "folder")
    expected_pixels = np.load(os.path.join(work, "raw", "pixels.npy"), mmap_mode="r")
    expected_labels = np.fromfile(os.path.join(work, "raw", "labels.i64"), np.int64)
    n = len(expected_labels)

    # 1. page reading: DuckDB, then ours (row groups of 1000; of 100 for information)
    pages = {}
    for name, file in (("rg1000", PARQUET), ("rg100", PARQUET_RG100)):
        duck = duckdb_scan(work, file, args.repeats, args.threads)
        duck1 = duckdb_scan(work, file, args.repeats, 1)
        ours = page_reading(args.binary, work, file, args.repeats)
        pages[name] = (duck, duck1, ours)

    # 2. the whole open through the plugin's reader
    from paraview import simple
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkCommonCore import vtkOutputWindow, vtkStringOutputWindow
    plugin = os.environ.get("DUALEMBED_PLUGIN",
                            os.path.join(ROOT, "build/lib/paraview-5.11/plugins/DualEmbed/DualEmbed.so"))
    simple.LoadPlugin(plugin, remote=False)
    # The reader says which split it reads on every open: keep that out of the table (pvpython's
    # print goes through the output window too: the original one is back before the table).
    original_window = vtkOutputWindow.GetInstance()
    messages = vtkStringOutputWindow()
    vtkOutputWindow.SetInstance(messages)

    def reader_alone(path):
        """The VTK reader's own work: probe, read, decode, build the polydata."""
        reader = simple.ImageDatasetReader(FileName=path)
        algorithm = reader.GetClientSideObject()
        algorithm.Modified()
        algorithm.Update()
        points = algorithm.GetOutput().GetNumberOfPoints()
        simple.Delete(reader)
        return points

    def through_proxy(path):
        """What a pvpython user sees: the proxy's UpdatePipeline, ParaView's data information included."""
        reader = simple.ImageDatasetReader(FileName=path)
        reader.UpdatePipeline()
        points = reader.GetDataInformation().GetNumberOfPoints()
        simple.Delete(reader)
        return points

    opens = {}
    for name, path in (("parquet", parquet), ("folder", folder)):
        opens[name] = (best_of(args.repeats, lambda: reader_alone(path)),
                       best_of(args.repeats, lambda: through_proxy(path)))

    # 3. the check: all samples, the encoded pixels, the labels, in both paths
    def read_arrays(path):
        reader = simple.ImageDatasetReader(FileName=path)
        algorithm = reader.GetClientSideObject()
        algorithm.Update()
        pd = algorithm.GetOutput().GetPointData()
        image = vtk_to_numpy(pd.GetArray("image")).copy()
        labels = vtk_to_numpy(pd.GetArray("label")).astype(np.int64)
        files = pd.GetAbstractArray("file_name")
        names = [files.GetValue(i) for i in range(files.GetNumberOfValues())] if files else []
        simple.Delete(reader)
        return image, labels, names

    checks = []
    p_image, p_labels, _ = read_arrays(parquet)
    checks.append(("Parquet: %d samples" % len(p_labels), len(p_labels) == n))
    checks.append(("Parquet: pixels equal the encoded ones",
                   p_image.shape == (n, 32 * 32 * 3) and np.array_equal(p_image, expected_pixels.reshape(n, -1))))
    checks.append(("Parquet: labels", np.array_equal(p_labels, expected_labels)))
    f_image, f_labels, f_names = read_arrays(folder)
    checks.append(("folder: %d samples" % len(f_labels), len(f_labels) == n and len(f_names) == n))
    # the folder lists class by class, files sorted by name: <i>.png is sample i
    order = np.array([int(os.path.splitext(os.path.basename(f))[0]) for f in f_names], np.int64)
    checks.append(("folder: samples are a permutation of 0..%d" % (n - 1),
                   len(order) == n and np.array_equal(np.sort(order), np.arange(n))))
    same = len(order) == n and f_image.shape == p_image.shape
    checks.append(("folder == Parquet: image arrays (pixels equal, by file name)",
                   same and np.array_equal(f_image, p_image[order])))
    checks.append(("folder == Parquet: labels", same and np.array_equal(f_labels, p_labels[order])))
    del p_image, f_image
    for name, (duck, _, ours) in pages.items():
        checks.append(("page reading (%s) counts DuckDB's image bytes (%d)" % (name, duck["image_bytes"]),
                       ours["image_bytes"] == duck["image_bytes"] and ours["rows"] == n
                       and ours["label_sum"] == int(expected_labels.sum())))
    errors = [l for l in messages.GetOutput().splitlines() if "ERROR" in l or "Warning" in l]
    vtkOutputWindow.SetInstance(original_window)

    # 4. the table
    mb = pages["rg1000"][2]["image_bytes"] / 1e6
    duck, duck1, ours = pages["rg1000"]
    print()
    print("Hugging Face Parquet benchmark (issue 25), best of %d" % args.repeats)
    print("  CPU      : %s, %d cores" % (cpu_model(), os.cpu_count()))
    print("  data     : %d PNG 32x32 RGB (Fashion-MNIST train, padded, tinted), %.1f MB of PNG; %s" % (n, mb, work))
    print("  Parquet  : parquet-wasm 0.8.0 (arrow-rs), SNAPPY, dictionary on, row groups of 1000 (of 100: rg100)")
    print("  DuckDB   : %s (@duckdb/node-api), %d threads" % (duck["duckdb"], duck["threads"]))
    print()
    row = "  %-58s %8.3f s %8.1f MB/s  %s"
    print("Page reading, no image decoding")
    for name in ("rg1000", "rg100"):
        duck, duck1, ours = pages[name]
        tag = "" if name == "rg1000" else " [rg100]"
        print(row % ("DuckDB sum(octet_length(img.bytes)), %d threads%s" % (duck["threads"], tag),
                     duck["seconds"], mb / duck["seconds"], ""))
        print(row % ("DuckDB, 1 thread%s" % tag, duck1["seconds"], mb / duck1["seconds"], ""))
        print(row % ("ours: probe + readSamples per row group%s" % tag, ours["seconds"], mb / ours["seconds"],
                     "ours / DuckDB = %.2f (goal <= 1)" % (ours["seconds"] / duck["seconds"])))
        print(row % ("ours, warm: read again, kept open (1 thread)%s" % tag, ours["warm_seconds"],
                     mb / ours["warm_seconds"],
                     "ours / DuckDB = %.2f, / DuckDB 1 thread = %.2f" % (ours["warm_seconds"] / duck["seconds"],
                                                                       ours["warm_seconds"] / duck1["seconds"])))
    print()
    print("Whole open through ImageDatasetReader, PNG decoding included")
    (pa, _), (pp, _) = opens["parquet"]
    (fa, _), (fp, _) = opens["folder"]
    row = "  %-58s %8.3f s %8.0f images/s  %s"
    print(row % ("Parquet, vtkImageDatasetReader alone", pa, n / pa, ""))
    print(row % ("image folder, vtkImageDatasetReader alone", fa, n / fa,
                 "Parquet / folder = %.2f (goal <= 1)" % (pa / fa)))
    print(row % ("Parquet, proxy (pvpython)", pp, n / pp, ""))
    print(row % ("image folder, proxy (pvpython)", fp, n / fp, "Parquet / folder = %.2f" % (pp / fp)))
    print()
    print("Checks")
    for text, ok in checks:
        print("  %-4s %s" % ("ok" if ok else "FAIL", text))
    for line in sorted(set(errors)):
        print("  reader said: %s" % line.strip())
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
