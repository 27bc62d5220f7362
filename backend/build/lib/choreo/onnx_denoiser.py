"""Optional onnxruntime backend for the MDM network: export once, then sample through an ORT session.

`OnnxDenoiser` has the sampler's Denoiser signature `(x_t, t, text_emb, uncond) -> x0`, so
`Sampler(OnnxDenoiser.from_model(model), diffusion)` samples exactly as with the eager network.
Needs the optional dependencies onnx, onnxscript and onnxruntime (`pip install -e .[onnx]`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from choreo.errors import ChoreoError
from choreo.model import MDM

INPUT_NAMES = ("x", "timesteps", "text_emb", "uncond")


def _require_ort():  # noqa: ANN202 - returns the onnxruntime module
    try:
        import onnxruntime
    except ImportError as exc:
        raise ChoreoError(
            "the ONNX backend needs onnxruntime (pip install onnxruntime onnx onnxscript, "
            "or `pip install -e .[onnx]` in backend/); use the default torch backend otherwise"
        ) from exc
    return onnxruntime


def export_onnx(model: MDM, path: str | Path, frames: int = 196) -> Path:
    """Write `model` (eval mode) as ONNX with dynamic batch and frame count."""
    path = Path(path)
    try:
        import onnxscript  # noqa: F401 - the dynamo exporter needs it
    except ImportError as exc:
        raise ChoreoError("exporting to ONNX needs the packages onnx and onnxscript") from exc
    model = model.eval()
    c = model.config
    example = (
        torch.randn(2, c.input_feats, 1, frames),
        torch.tensor([10, 500], dtype=torch.long),
        torch.randn(2, c.text_dim),
        torch.tensor([False, True]),
    )
    batch = torch.export.Dim("batch", min=1, max=1024)
    time = torch.export.Dim("frames", min=2, max=c.max_len - 1)
    dynamic = {"x": {0: batch, 3: time}, "timesteps": {0: batch}, "text_emb": {0: batch},
               "uncond": {0: batch}}
    with torch.no_grad():
        torch.onnx.export(
            model, example, str(path), input_names=list(INPUT_NAMES), output_names=["x0"],
            dynamic_shapes=dynamic, dynamo=True, external_data=False, verbose=False,
        )
    return path


class OnnxDenoiser:
    """An onnxruntime session with the Denoiser call signature (CPU tensors in, CPU tensor out)."""

    def __init__(self, onnx_path: str | Path, threads: int | None = None) -> None:
        ort = _require_ort()
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise ChoreoError(f"cannot load ONNX model {onnx_path}: {first}") from exc

    @classmethod
    def from_model(
        cls, model: MDM, threads: int | None = None, cache_dir: str | Path | None = None
    ) -> OnnxDenoiser:
        """Export `model` to a temporary (or cache_dir) file and open it."""
        _require_ort()
        folder = Path(cache_dir) if cache_dir else Path(tempfile.mkdtemp(prefix="choreo-onnx-"))
        folder.mkdir(parents=True, exist_ok=True)
        path = export_onnx(model, folder / "mdm.onnx")
        den = cls(path, threads)
        if not cache_dir:
            os.unlink(path)  # the session holds the graph in memory
        return den

    def __call__(
        self, x: torch.Tensor, timesteps: torch.Tensor, text_emb: torch.Tensor, uncond: torch.Tensor
    ) -> torch.Tensor:
        feeds = {
            "x": x.detach().cpu().float().numpy(),
            "timesteps": timesteps.detach().cpu().long().numpy(),
            "text_emb": text_emb.detach().cpu().float().numpy(),
            "uncond": uncond.detach().cpu().bool().numpy(),
        }
        (out,) = self.session.run(["x0"], feeds)
        return torch.from_numpy(np.ascontiguousarray(out)).to(x.device)
