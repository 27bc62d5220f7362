"""The MDM network exported to ONNX and run by onnxruntime as the sampler's denoiser: sampling without torch.

`export_onnx` (needs torch, onnx and onnxscript: `pip install -e .[onnx]`) writes the network of
`choreo.model` — the one definition — as an ONNX graph; `OnnxDenoiser` (needs only onnxruntime, which imports
in 0.08 s where torch takes 1.2 s) runs it with the sampler's Denoiser signature
`(x_t, t, text_emb, uncond) -> x0` on numpy arrays, equal to the torch network to ~1e-5.
A bundle keeps its export beside it (`choreo.bundle.write_onnx`), so `choreo generate` never imports torch.
"""

from __future__ import annotations

import copy
import os
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from choreo.errors import ChoreoError

if TYPE_CHECKING:
    from choreo.model import MDM

INPUT_NAMES = ("x", "timesteps", "text_emb", "uncond")


def _require_ort():  # noqa: ANN202 - returns the onnxruntime module
    try:
        import onnxruntime
    except ImportError as exc:
        raise ChoreoError(
            "the ONNX backend needs onnxruntime (pip install onnxruntime); use --backend torch otherwise"
        ) from exc
    return onnxruntime


def export_onnx(model: MDM, path: str | Path, frames: int = 196, max_positions: int | None = None,
                metadata: dict[str, str] | None = None) -> Path:
    """Write `model` (eval mode) as ONNX with dynamic batch and frame count.

    max_positions: rows of the sinusoid table kept in the graph (it must cover every timestep and every frame
    + 1); None keeps all `max_len` (5000 × latent floats, 5 MB for the default model). metadata: string
    key-value pairs stored in the file (`OnnxDenoiser.metadata`)."""
    path = Path(path)
    try:
        import onnx
        import onnxscript  # noqa: F401 - the dynamo exporter needs it
        import torch
    except ImportError as exc:
        raise ChoreoError("exporting to ONNX needs the packages torch, onnx and onnxscript "
                          "(`pip install -e .[onnx]` in backend/)") from exc
    model = model.eval()
    c = model.config
    positions = c.max_len if max_positions is None else min(int(max_positions), c.max_len)
    if positions < frames + 1:
        raise ValueError(f"max_positions {positions} cannot hold {frames} frames and the condition token")
    if positions < c.max_len:  # the same network over a shorter table of the same values
        model = copy.deepcopy(model)
        pos = model.sequence_pos_encoder
        pos.pe = pos.pe[:positions].clone()
    example = (
        torch.randn(2, c.input_feats, 1, frames),
        torch.tensor([10, min(500, positions - 1)], dtype=torch.long),
        torch.randn(2, c.text_dim),
        torch.tensor([False, True]),
    )
    batch = torch.export.Dim("batch", min=1, max=1024)
    time = torch.export.Dim("frames", min=2, max=positions - 1)
    dynamic = {"x": {0: batch, 3: time}, "timesteps": {0: batch}, "text_emb": {0: batch},
               "uncond": {0: batch}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation notes are not the user's business
        torch.onnx.export(
            model, example, str(path), input_names=list(INPUT_NAMES), output_names=["x0"],
            dynamic_shapes=dynamic, dynamo=True, external_data=False, verbose=False,
        )
    if metadata:
        proto = onnx.load(str(path))
        for key, value in metadata.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(proto, str(path))
    return path


def free_cores() -> int:
    """Cores not busy with other processes (cores minus the 1-minute load average, at least 1). One thread
    per free core: on this project's shared 2-core machine a second thread waiting for a busy core made a
    guided step 2x slower (docs/BENCHMARKS.md), while on an idle machine 2 threads are 1.4x faster than 1.
    The environment variable CHOREO_THREADS=N sets it."""
    cores = os.cpu_count() or 1
    asked = os.environ.get("CHOREO_THREADS", "").strip()
    if asked.isdigit() and int(asked) > 0:  # the user's (or a benchmark's) choice wins
        return int(asked)
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this platform
        return cores
    return max(1, min(cores, int(cores - load + 0.5)))


# Windows per onnxruntime run: a song's batches of 40-90 windows ran 1.15x slower per window than runs of 8 (their
# activations no longer fit the caches; docs/BENCHMARKS.md), so larger batches are run 8 at a time.
MAX_BATCH = 8


class OnnxDenoiser:
    """An onnxruntime session with the Denoiser call signature (numpy arrays in and out).
    threads: intra-op threads (default: `free_cores()` when the session is made)."""

    def __init__(self, onnx_path: str | Path, threads: int | None = None) -> None:
        ort = _require_ort()
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3  # errors only: no warnings about unused initializers on stderr
        opts.intra_op_num_threads = threads or free_cores()
        opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise ChoreoError(f"cannot load ONNX model {onnx_path}: {first}") from exc

    @property
    def metadata(self) -> dict[str, str]:
        """The key-value pairs `export_onnx` stored in the file."""
        return dict(self.session.get_modelmeta().custom_metadata_map)

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

    def __call__(self, x: np.ndarray, timesteps: np.ndarray, text_emb: np.ndarray, uncond: np.ndarray
                 ) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        timesteps = np.ascontiguousarray(timesteps, dtype=np.int64)
        text_emb = np.ascontiguousarray(text_emb, dtype=np.float32)
        uncond = np.ascontiguousarray(uncond, dtype=bool)
        if len(x) <= MAX_BATCH:
            return self._run(x, timesteps, text_emb, uncond)
        out = np.empty_like(x)
        for a in range(0, len(x), MAX_BATCH):
            b = slice(a, a + MAX_BATCH)
            out[b] = self._run(x[b], timesteps[b], text_emb[b], uncond[b])
        return out

    def _run(self, x: np.ndarray, timesteps: np.ndarray, text_emb: np.ndarray, uncond: np.ndarray) -> np.ndarray:
        (out,) = self.session.run(["x0"], {"x": x, "timesteps": timesteps, "text_emb": text_emb, "uncond": uncond})
        return out
