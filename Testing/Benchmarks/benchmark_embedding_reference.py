#!/usr/bin/env python3
"""PyTorch reference figures for BenchmarkImageEmbedding (not a test).

    benchmark_embedding_reference.py [--batch 24] [--images 96] [--warmup 1]
        [--device cpu|cuda] [--precision float32|bfloat16] [--threads N]
        [--hf-folder DIR] [--no-torchvision] [--no-sgemm] [--arch vit_b_16|swin_b]

- torchvision.models.vit_b_16 (or --arch swin_b: Swin-B/4-w7; random init, eval, torch.inference_mode) on
  random [B,3,224,224] input made on the device beforehand: images/s, with
  torch.set_num_threads(threads, default nproc).
- sgemm peak: torch.mm on 4096x4096 float32 (GFLOP/s = 2 n^3 / s); on CUDA
  with TF32 off, plus bf16 for reference.
- when `transformers` imports and --hf-folder is given: transformers'
  ViTModel.from_pretrained(folder, attn_implementation="eager") on the same
  device/precision. bfloat16 = model and input cast to torch.bfloat16
  (`.to(torch.bfloat16)`, no autocast), as the engine does.
Lines starting with "RESULT" are for scripts. Use Debian's /usr/bin/python3
here (python3-torch 1.13, python3-torchvision 0.14).
"""

import argparse
import os
import sys
import time

import torch


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_model(fn, x, batches, warmup, device):
    """images/s and per-batch ms of fn(x) over `batches` batches."""
    with torch.inference_mode():
        for _ in range(warmup):
            fn(x)
        sync(device)
        ms = []
        c0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(batches):
            s = time.perf_counter()
            fn(x)
            sync(device)
            ms.append(1e3 * (time.perf_counter() - s))
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
    ms.sort()
    return batches * x.shape[0] / wall, 1e3 * wall / batches, ms[len(ms) // 2], cpu / (batches * x.shape[0])


def sgemm_peak(device, dtype=torch.float32, n=4096, reps=None):
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    reps = reps or (3 if device.type == "cpu" else 50)
    torch.mm(a, b)
    sync(device)
    best = float("inf")
    if device.type == "cpu":
        for _ in range(reps):
            t = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - t)
    else:
        t = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b)
        sync(device)
        best = (time.perf_counter() - t) / reps
    return 2.0 * n ** 3 / best / 1e9


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--images", type=int, default=96)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--precision", choices=["float32", "bfloat16"], default="float32")
    ap.add_argument("--threads", type=int, default=0, help="0 = nproc")
    ap.add_argument("--image", type=int, default=224)
    ap.add_argument("--hf-folder", default=None)
    ap.add_argument("--no-torchvision", action="store_true")
    ap.add_argument("--no-sgemm", action="store_true")
    ap.add_argument("--arch", choices=["vit_b_16", "swin_b"], default="vit_b_16")
    args = ap.parse_args(argv)

    threads = args.threads or os.cpu_count()
    torch.set_num_threads(threads)
    device = torch.device(args.device)
    dtype = torch.bfloat16 if args.precision == "bfloat16" else torch.float32
    if device.type == "cuda":
        # float32 means float32, as in the engine
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    print("torch %s on %s, %s" % (torch.__version__, device, args.precision))
    print(torch.__config__.parallel_info())
    if device.type == "cuda":
        print("GPU: %s" % torch.cuda.get_device_name(0))

    b = args.batch
    batches = (args.images + b - 1) // b
    torch.manual_seed(0)
    x = torch.randn(b, 3, args.image, args.image, device=device).to(dtype)

    if not args.no_torchvision:
        import torchvision
        if args.arch == "swin_b":
            m = torchvision.models.swin_b(weights=None).eval().to(device, dtype)
        else:
            m = torchvision.models.vit_b_16(weights=None, image_size=args.image).eval().to(device, dtype)
        rate, mean_ms, med_ms, cpu = time_model(m, x, batches, args.warmup, device)
        print("torchvision %s %s: %.2f images/s, ms/batch mean %.1f median %.1f (batch %d, %d images); "
              "process CPU time %.3f s/image" % (torchvision.__version__, args.arch, rate, mean_ms, med_ms, b, batches * b, cpu))
        print("RESULT torchvision images_per_s=%.3f ms_per_batch=%.2f cpu_s_per_image=%.4f" % (rate, mean_ms, cpu))
        del m

    if args.hf_folder and args.arch == "vit_b_16":
        try:
            import transformers
            from transformers import ViTModel
        except ImportError:
            print("transformers not importable: HF ViTModel comparison skipped")
        else:
            m = ViTModel.from_pretrained(args.hf_folder, attn_implementation="eager").eval().to(device, dtype)
            rate, mean_ms, med_ms, cpu = time_model(lambda t: m(pixel_values=t), x, batches, args.warmup, device)
            how = "model and input .to(bfloat16)" if dtype == torch.bfloat16 else "float32"
            print("transformers %s ViTModel eager (%s): %.2f images/s, ms/batch mean %.1f median %.1f"
                  % (transformers.__version__, how, rate, mean_ms, med_ms))
            print("RESULT hf images_per_s=%.3f ms_per_batch=%.2f precision=%s"
                  % (rate, mean_ms, args.precision))
            del m

    if not args.no_sgemm:
        peak = sgemm_peak(device)
        print("sgemm peak (torch.mm 4096^2 float32%s): %.1f GFLOP/s"
              % (", TF32 off" if device.type == "cuda" else "", peak))
        print("RESULT sgemm gflops=%.1f" % peak)
        if device.type == "cuda":
            bpeak = sgemm_peak(device, torch.bfloat16)
            print("bf16 gemm peak (torch.mm 4096^2): %.1f GFLOP/s" % bpeak)
            print("RESULT bf16gemm gflops=%.1f" % bpeak)
    return 0


if __name__ == "__main__":
    sys.exit(main())
