"""`choreo export-onnx [--model PATH]`: write final_model.onnx beside a bundle, so `choreo generate` samples
through onnxruntime without importing torch."""

from __future__ import annotations

import argparse
import time


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export-onnx", help="export a model's network to ONNX beside it (fast `choreo generate`)")
    p.add_argument("--model", help="model file or folder (default: model_path of mdm_config.json, else the "
                                   "shipped default model)")
    p.add_argument("--config", help="path of an mdm_config.json")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from choreo.bundle import load_bundle, write_onnx
    from choreo.config import load_settings

    started = time.perf_counter()
    path = write_onnx(args.model or load_settings(args.config).model_path)
    bundle = load_bundle(path.with_suffix(".pt"), backend="onnx")  # read back through onnxruntime: it works
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, {bundle.parameters:,} parameters) in "
          f"{time.perf_counter() - started:.1f} s")
    return 0
