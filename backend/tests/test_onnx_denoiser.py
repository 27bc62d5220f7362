"""Optional onnxruntime backend: the exported network matches eager torch and drives the Sampler."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest
import torch

from choreo.diffusion import GaussianDiffusion
from choreo.errors import ChoreoError
from choreo.model import MDM, MDMConfig
from choreo.sampler import Sampler

pytest.importorskip("onnxruntime", reason="optional dependency onnxruntime not installed")
pytest.importorskip("onnxscript", reason="optional dependency onnxscript not installed")

from choreo.onnx_denoiser import OnnxDenoiser  # noqa: E402

TINY = MDMConfig(latent_dim=32, ff_size=64, num_layers=2, num_heads=4, text_dim=16, max_len=1000)



@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[MDM, OnnxDenoiser]:
    torch.manual_seed(0)
    model = MDM(TINY).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        den = OnnxDenoiser.from_model(model, threads=1, cache_dir=tmp_path_factory.mktemp("onnx"))
    return model, den


@pytest.mark.parametrize("batch,frames", [(2, 196), (5, 40), (1, 3)])
def test_matches_eager(pair: tuple[MDM, OnnxDenoiser], batch: int, frames: int) -> None:
    model, den = pair
    gen = torch.Generator().manual_seed(batch)
    x = torch.randn(batch, 263, 1, frames, generator=gen)
    t = torch.randint(0, 1000, (batch,), generator=gen)
    text = torch.randn(batch, TINY.text_dim, generator=gen)
    uncond = torch.arange(batch) % 2 == 1
    with torch.inference_mode():
        ref = model(x, t, text, uncond)
    out = den(x, t, text, uncond)
    assert out.shape == ref.shape and out.dtype == torch.float32
    assert (out - ref).abs().max() < 1e-5


def test_drives_the_sampler(pair: tuple[MDM, OnnxDenoiser]) -> None:
    model, den = pair
    text = torch.randn(2, TINY.text_dim, generator=torch.Generator().manual_seed(1))
    shape = (2, 263, 1, 20)
    a = Sampler(model, GaussianDiffusion.cosine(1000)).sample(shape, text, steps=5, seed=0)
    b = Sampler(den, GaussianDiffusion.cosine(1000)).sample(shape, text, steps=5, seed=0)
    assert (a - b).abs().max() < 1e-4


def test_bad_onnx_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"nope")
    with pytest.raises(ChoreoError, match="cannot load ONNX model"):
        OnnxDenoiser(bad)


def test_missing_onnxruntime_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(ChoreoError, match="pip install onnxruntime"):
        OnnxDenoiser(tmp_path / "any.onnx")
