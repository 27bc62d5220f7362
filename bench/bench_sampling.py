"""Sampling speed of the full-size MDM network on this machine (not a test).

Seconds per 196-frame sample with classifier-free guidance (one batched cond+uncond forward per step):
DDIM 50 and 20 steps, and 1000-step DDPM extrapolated from a timed run of fewer steps, at batch 1 and
batch 8, for torch eager (fp32), torch eager with bf16 autocast, onnxruntime (fp32) and onnxruntime with int8
dynamic quantisation (`ort-int8`, not the default list). Also reports the machine's measured fp32 matrix-multiply
throughput and the FLOPs of one guided step, i.e. the fastest any fp32 backend could possibly sample here.

    cd backend && ../.venv/bin/python ../bench/bench_sampling.py --threads 2 --json ../bench/sampling.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time

import numpy as np
import torch

from choreo.diffusion import GaussianDiffusion
from choreo.model import MDM, MDMConfig, TorchDenoiser
from choreo.sampler import Denoiser, Sampler

from machine import machine_info


def machine_info_with_runtimes(threads: int) -> dict:
    try:
        import onnxruntime

        ort_version = onnxruntime.__version__
    except ImportError:
        ort_version = "not installed"
    return {**machine_info(), "torch_threads": threads, "torch": torch.__version__, "onnxruntime": ort_version,
            "python": platform.python_version()}


def sgemm_gflops(size: int = 2048, repeats: int = 10) -> float:
    """Measured fp32 matrix-multiply throughput of this machine at the current thread count (its roofline)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def gflop_per_guided_step(c: MDMConfig, frames: int, batch: int) -> float:
    """Multiply-adds of one guided forward (2 x batch sequences of frames + 1 tokens), as GFLOP."""
    tokens = frames + 1
    per_token = c.num_layers * (4 * c.latent_dim**2 + 2 * c.latent_dim * c.ff_size)  # q,k,v,out + feed-forward
    attention = c.num_layers * 2 * tokens * tokens * c.latent_dim  # scores and weighted sum, per sequence
    io = frames * 2 * c.input_feats * c.latent_dim  # pose embedding in, pose out
    return 2 * 2 * batch * (tokens * per_token + attention + io) / 1e9


def int8_denoiser(model: MDM, threads: int) -> Denoiser:
    """onnxruntime with int8 dynamic quantisation of every MatMul (uint8 weights: the int8-weight variant
    saturates on AVX2 without VNNI and was measured 15x less accurate)."""
    import tempfile
    from pathlib import Path

    from onnxruntime.quantization import QuantType, quantize_dynamic

    from choreo.onnx_denoiser import OnnxDenoiser, export_onnx

    folder = Path(tempfile.mkdtemp(prefix="choreo-int8-"))
    export_onnx(model, folder / "fp32.onnx")
    quantize_dynamic(folder / "fp32.onnx", folder / "int8.onnx", weight_type=QuantType.QUInt8,
                     op_types_to_quantize=["MatMul", "Gemm"])
    return OnnxDenoiser(folder / "int8.onnx", threads)


def bf16_denoiser(model: MDM) -> Denoiser:
    eager = TorchDenoiser(model)

    def run(x: np.ndarray, t: np.ndarray, text: np.ndarray, uncond: np.ndarray) -> np.ndarray:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return eager(x, t, text, uncond)

    return run


def bench_backend(name: str, den: Denoiser, args: argparse.Namespace, text_dim: int) -> list[dict]:
    sampler = Sampler(den, GaussianDiffusion.cosine(1000))
    rows = []
    for batch in args.batches:
        shape = (batch, 263, 1, args.frames)
        text = np.random.default_rng(0).standard_normal((batch, text_dim), dtype=np.float32)
        sampler.sample(shape, text, steps=2, guidance=2.5, seed=0)  # warm-up
        for label, method, steps, factor in (
            ("DDIM 50", "ddim", 50, 1.0),
            ("DDIM 20", "ddim", 20, 1.0),
            (f"DDPM 1000 (from {args.ddpm_timed_steps} timed)", "ddpm", args.ddpm_timed_steps,
             1000 / args.ddpm_timed_steps),
        ):
            start = time.perf_counter()
            sampler.sample(shape, text, steps=steps, method=method, guidance=2.5, seed=0)
            secs = time.perf_counter() - start
            total = secs * factor
            row = {"backend": name, "batch": batch, "sampling": label, "seconds_total": round(total, 3),
                   "seconds_per_sample": round(total / batch, 3),
                   "ms_per_step": round(1000 * secs / steps, 1)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def accuracy(model: MDM, others: dict[str, Denoiser], text_dim: int, frames: int) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 263, 1, frames), dtype=np.float32)
    t = np.array([0, 250, 600, 999])
    text = rng.standard_normal((4, text_dim), dtype=np.float32)
    uncond = np.array([False, True, False, True])
    ref = TorchDenoiser(model)(x, t, text, uncond)
    return {k: float(np.abs(d(x, t, text, uncond) - ref).max()) for k, d in others.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--frames", type=int, default=196)
    p.add_argument("--text-dim", type=int, default=384, help="384 = MiniLM (ours), 512 = CLIP (official)")
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    p.add_argument("--ddpm-timed-steps", type=int, default=20)
    p.add_argument("--backends", nargs="+", default=["eager", "bf16", "ort"])
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = MDM(MDMConfig(text_dim=args.text_dim)).eval()
    info = machine_info_with_runtimes(args.threads)
    info["parameters"] = model.num_parameters()
    info["sgemm_gflops"] = round(sgemm_gflops(), 1)
    step = gflop_per_guided_step(model.config, args.frames, 1)
    info["gflop_per_guided_step_batch1"] = round(step, 2)
    # What no fp32 backend can beat here: 50 guided steps at the measured matrix-multiply peak.
    info["roofline_seconds_ddim50_per_sample"] = round(50 * step / info["sgemm_gflops"], 2)
    print(json.dumps(info), flush=True)
    dens: dict[str, Denoiser] = {}
    if "eager" in args.backends:
        dens["eager"] = TorchDenoiser(model)
    if "bf16" in args.backends:
        dens["bf16"] = bf16_denoiser(model)
    if "ort" in args.backends:
        from choreo.onnx_denoiser import OnnxDenoiser

        start = time.perf_counter()
        dens["ort"] = OnnxDenoiser.from_model(model, threads=args.threads)
        info["onnx_export_seconds"] = round(time.perf_counter() - start, 1)
    if "ort-int8" in args.backends:
        dens["ort-int8"] = int8_denoiser(model, args.threads)
    info["max_abs_diff_vs_eager"] = accuracy(model, {k: v for k, v in dens.items() if k != "eager"},
                                             args.text_dim, args.frames)
    print(json.dumps(info["max_abs_diff_vs_eager"]), flush=True)
    rows = []
    for name, den in dens.items():
        rows += bench_backend(name, den, args, args.text_dim)
    info["load_after"] = os.getloadavg()
    try:
        info["top"] = subprocess.run(["top", "-bn1"], capture_output=True, text=True).stdout.splitlines()[:12]
    except OSError:
        pass
    print("\n| backend | batch | sampling | s / sample | ms / step (batch) |\n|---|---|---|---|---|")
    for r in rows:
        cells = [r["backend"], r["batch"], r["sampling"], f"{r['seconds_per_sample']:.2f}", r["ms_per_step"]]
        print("| " + " | ".join(str(c) for c in cells) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "results": rows, "args": vars(args)}, f, indent=2)


if __name__ == "__main__":
    main()
