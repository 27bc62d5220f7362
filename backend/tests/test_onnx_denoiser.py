"""The onnxruntime backend: the exported network matches eager torch and drives the Sampler (numpy in and out)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from choreo.diffusion import GaussianDiffusion
from choreo.errors import ChoreoError
from choreo.model import MDM, MDMConfig, TorchDenoiser
from choreo.sampler import Sampler

pytest.importorskip("onnxruntime", reason="optional dependency onnxruntime not installed")
pytest.importorskip("onnxscript", reason="optional dependency onnxscript not installed")

from choreo.onnx_denoiser import OnnxDenoiser, export_onnx  # noqa: E402

TINY = MDMConfig(latent_dim=32, ff_size=64, num_layers=2, num_heads=4, text_dim=16, max_len=1000)



@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[MDM, OnnxDenoiser]:
    torch.manual_seed(0)
    model = MDM(TINY).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        den = OnnxDenoiser.from_model(model, threads=1, cache_dir=tmp_path_factory.mktemp("onnx"))
    return model, den


def _inputs(batch: int, frames: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((batch, 263, 1, frames), dtype=np.float32), rng.integers(0, 1000, batch),
            rng.standard_normal((batch, TINY.text_dim), dtype=np.float32), np.arange(batch) % 2 == 1)


@pytest.mark.parametrize("batch,frames", [(2, 196), (5, 40), (1, 3)])
def test_matches_eager(pair: tuple[MDM, OnnxDenoiser], batch: int, frames: int) -> None:
    model, den = pair
    x, t, text, uncond = _inputs(batch, frames, batch)
    ref = TorchDenoiser(model)(x, t, text, uncond)
    out = den(x, t, text, uncond)
    assert isinstance(out, np.ndarray) and out.shape == ref.shape and out.dtype == np.float32
    assert np.abs(out - ref).max() < 1e-5


def test_drives_the_sampler(pair: tuple[MDM, OnnxDenoiser]) -> None:
    model, den = pair
    text = np.random.default_rng(1).standard_normal((2, TINY.text_dim), dtype=np.float32)
    shape = (2, 263, 1, 20)
    a = Sampler(TorchDenoiser(model), GaussianDiffusion.cosine(1000)).sample(shape, text, steps=5, seed=0)
    b = Sampler(den, GaussianDiffusion.cosine(1000)).sample(shape, text, steps=5, seed=0)
    assert np.abs(a - b).max() < 1e-4


def test_short_position_table_and_metadata(pair: tuple[MDM, OnnxDenoiser], tmp_path: Path) -> None:
    """An export keeping 300 of the 1000 rows of the sinusoid table computes the same (it is the same table)
    and is smaller; its metadata comes back through onnxruntime; the model itself is left unchanged."""
    model, den = pair
    full = export_onnx(model, tmp_path / "full.onnx", frames=40)
    short = export_onnx(model, tmp_path / "short.onnx", frames=40, max_positions=300, metadata={"k": "v"})
    assert model.sequence_pos_encoder.pe.shape[0] == TINY.max_len
    assert short.stat().st_size < full.stat().st_size - 600 * TINY.latent_dim * 4
    s = OnnxDenoiser(short)
    assert s.metadata == {"k": "v"}
    x, t, text, uncond = _inputs(3, 120, 4)
    t = np.minimum(t, 299)
    assert np.abs(s(x, t, text, uncond) - den(x, t, text, uncond)).max() < 1e-5
    with pytest.raises(ValueError, match="cannot hold"):
        export_onnx(model, tmp_path / "x.onnx", frames=40, max_positions=30)


def test_bad_onnx_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"nope")
    with pytest.raises(ChoreoError, match="cannot load ONNX model"):
        OnnxDenoiser(bad)


def test_missing_onnxruntime_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(ChoreoError, match="pip install onnxruntime"):
        OnnxDenoiser(tmp_path / "any.onnx")
