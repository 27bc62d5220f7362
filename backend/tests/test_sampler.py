"""Sampler: DDIM/DDPM loops on numpy arrays, classifier-free guidance in one batched forward, exact in-painting;
the torch network drives it through TorchDenoiser."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from choreo.diffusion import GaussianDiffusion
from choreo.model import MDM, MDMConfig, TorchDenoiser
from choreo.representation import lower_body_feature_mask
from choreo.sampler import Inpainting, Sampler, feature_mask, frame_mask

TINY = MDMConfig(latent_dim=32, ff_size=64, num_layers=2, num_heads=4, text_dim=16, max_len=1000)
B, T = 2, 12
SHAPE = (B, 263, 1, T)



@pytest.fixture(scope="module")
def model() -> TorchDenoiser:
    torch.manual_seed(0)
    return TorchDenoiser(MDM(TINY).eval())


@pytest.fixture(scope="module")
def text() -> np.ndarray:
    return np.random.default_rng(1).standard_normal((B, TINY.text_dim), dtype=np.float32)


def randn(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(SHAPE, dtype=np.float32)


class CountingDenoiser:
    """Wraps a model and records the batch size of every forward."""

    def __init__(self, model: TorchDenoiser) -> None:
        self.model = model
        self.batches: list[int] = []
        self.timesteps: list[int] = []

    def __call__(self, x: np.ndarray, t: np.ndarray, text_emb: np.ndarray, uncond: np.ndarray) -> np.ndarray:
        self.batches.append(x.shape[0])
        self.timesteps.append(int(t[0]))
        return self.model(x, t, text_emb, uncond)


def sampler(model: TorchDenoiser, steps: int = 1000) -> Sampler:
    return Sampler(model, GaussianDiffusion.cosine(steps))


def test_ddim_eta0_is_deterministic_per_seed(model: TorchDenoiser, text: np.ndarray) -> None:
    s = sampler(model)
    a = s.sample(SHAPE, text, steps=10, seed=3)
    b = s.sample(SHAPE, text, steps=10, seed=3)
    c = s.sample(SHAPE, text, steps=10, seed=4)
    assert a.shape == SHAPE and a.dtype == np.float32 and np.isfinite(a).all()
    assert np.array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3


def test_guidance_batched_forward_and_original_timesteps(model: TorchDenoiser, text: np.ndarray) -> None:
    counting = CountingDenoiser(model)
    Sampler(counting, GaussianDiffusion.cosine(1000)).sample(SHAPE, text, steps=5, guidance=2.5, seed=0)
    assert counting.batches == [2 * B] * 5  # cond + uncond in one forward per step
    assert counting.timesteps == [800, 600, 400, 200, 0]  # respaced steps reach the net as original steps
    counting.batches.clear()
    Sampler(counting, GaussianDiffusion.cosine(1000)).sample(SHAPE, text, steps=5, guidance=1.0, seed=0)
    assert counting.batches == [B] * 5  # s == 1: conditional pass only


def test_guidance_scale_one_is_the_conditional_prediction(model: TorchDenoiser, text: np.ndarray) -> None:
    x = randn(5)
    t = np.array([700, 700])
    got = sampler(model).guided_x0(x, t, text, np.ones(B))
    direct = model(x, t, text, np.zeros(B, dtype=bool))
    assert np.allclose(got, direct, atol=1e-6)


@pytest.mark.parametrize("scale", [2.5, 0.0, [2.5, 7.5]])
def test_guidance_equals_two_separate_calls(model: TorchDenoiser, text: np.ndarray, scale: float | list) -> None:
    x = randn(6)
    t = np.array([420, 420])
    s = np.broadcast_to(np.asarray(scale, dtype=np.float32), (B,))
    got = sampler(model).guided_x0(x, t, text, s)
    cond = model(x, t, text, np.zeros(B, dtype=bool))
    unc = model(x, t, text, np.ones(B, dtype=bool))
    want = unc + s.reshape(-1, 1, 1, 1) * (cond - unc)
    assert np.allclose(got, want, atol=1e-5)
    assert not np.allclose(cond, unc, atol=1e-4)  # the check would be empty otherwise


def _given(seed: int = 9) -> np.ndarray:
    return randn(seed)


@pytest.mark.parametrize(
    "keep",
    [[(0, 4)], [(8, T)], [(0, 3), (9, T)]],
    ids=["prefix", "suffix", "in-between"],
)
def test_inpainted_frames_are_exact(model: TorchDenoiser, text: np.ndarray, keep: list[tuple[int, int]]) -> None:
    given = _given()
    mask = np.broadcast_to(frame_mask(T, keep), SHAPE)
    out = sampler(model).sample(SHAPE, text, steps=8, seed=1, inpaint=Inpainting(given, mask))
    assert np.array_equal(out[mask], given[mask])
    assert not np.array_equal(out[~mask], given[~mask])
    free = ~mask[0, 0, 0]
    assert np.abs(out[..., free] - given[..., free]).mean() > 0.1  # generated, not copied


def test_inpainted_lower_body_is_exact(model: TorchDenoiser, text: np.ndarray) -> None:
    given = _given(10)
    lower = lower_body_feature_mask()
    mask = feature_mask(lower, T)
    assert mask.shape == (263, 1, T) and mask[:, 0, 0].tolist() == lower.tolist()
    inpaint = Inpainting(given, np.broadcast_to(mask, SHAPE))
    out = sampler(model).sample(SHAPE, text, steps=8, seed=2, inpaint=inpaint, method="ddpm")
    assert np.array_equal(out[:, lower], given[:, lower])
    assert np.abs(out[:, ~lower] - given[:, ~lower]).mean() > 0.1


def test_frame_mask_clips_ranges() -> None:
    m = frame_mask(10, [(-3, 2), (8, 50)], num_feats=5)
    assert m.shape == (5, 1, 10)
    assert m[0, 0].tolist() == [True, True] + [False] * 6 + [True, True]


def test_ddpm_path(model: TorchDenoiser, text: np.ndarray) -> None:
    s = Sampler(model, GaussianDiffusion.cosine(20))
    calls: list[tuple[int, int]] = []
    a = s.sample(SHAPE, text, steps=None, method="ddpm", seed=0, progress=lambda k, n: calls.append((k, n)))
    assert calls[0] == (1, 20) and calls[-1] == (20, 20) and len(calls) == 20
    assert a.shape == SHAPE and np.isfinite(a).all()
    assert np.array_equal(a, s.sample(SHAPE, text, steps=None, method="ddpm", seed=0))
    assert not np.allclose(a, s.sample(SHAPE, text, steps=None, method="ddpm", seed=1))
    # DDPM with respacing and stochastic DDIM run too and differ from deterministic DDIM.
    d = s.sample(SHAPE, text, steps=10, method="ddpm", seed=0)
    e = s.sample(SHAPE, text, steps=10, method="ddim", eta=1.0, seed=0)
    f = s.sample(SHAPE, text, steps=10, method="ddim", seed=0)
    assert np.isfinite(d).all() and np.isfinite(e).all()
    assert not np.allclose(e, f)
    with pytest.raises(ValueError):
        s.sample(SHAPE, text, method="plms")


def test_samples_are_independent_of_batch_neighbours(model: TorchDenoiser, text: np.ndarray) -> None:
    """Per-sample guidance: a batch with scales [2.5, 7.5] equals the first sample run alone at 2.5."""
    s = sampler(model)
    both = s.sample(SHAPE, text, steps=6, seed=0, guidance=np.array([2.5, 7.5]))
    same = s.sample(SHAPE, text, steps=6, seed=0, guidance=2.5)
    assert np.allclose(both[0], same[0], atol=1e-5)
    assert not np.allclose(both[1], same[1], atol=1e-4)
    assert np.isfinite(both).all()


def test_sampling_imports_no_torch() -> None:
    """The sampler, the schedule and the ONNX denoiser import without torch (what `choreo generate` relies on)."""
    import subprocess
    import sys

    code = ("import sys; import choreo.sampler, choreo.diffusion, choreo.onnx_denoiser, choreo.bundle, "
            "choreo.generate, choreo.text; bad = [m for m in ('torch', 'scipy') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_eager_and_stepwise_maths_agree_with_float64_reference(model: TorchDenoiser, text: np.ndarray) -> None:
    """The float32 DDIM loop equals the same loop in float64 (written out here from the DDIM formula)."""
    from choreo.diffusion import GaussianDiffusion as GD

    d = GD.cosine(1000).respaced(5)
    got = Sampler(model, GD.cosine(1000)).sample(SHAPE, text, steps=5, guidance=1.0, seed=7)
    from choreo.sampler import TorchNoise

    x = TorchNoise(7).standard_normal(SHAPE).astype(np.float64)
    for i in reversed(range(5)):
        t = np.full(B, d.timestep_map[i])
        x0 = model(x.astype(np.float32), t, text, np.zeros(B, dtype=bool)).astype(np.float64)
        ac, acp = d.alphas_cumprod[i], d.alphas_cumprod_prev[i]
        eps = (x - np.sqrt(ac) * x0) / np.sqrt(1 - ac)
        x = np.sqrt(acp) * x0 + np.sqrt(1 - acp) * eps
    assert np.abs(got - x).max() < 1e-4


@pytest.mark.parametrize("shape", [(2, 263, 1, 120), (1, 263, 1, 120), (3, 16), (5, 7)])
def test_noise_is_torchs_randn_stream(shape: tuple[int, ...]) -> None:
    """The sampler's numpy noise continues torch.randn's CPU stream for the same seed (what sampling drew
    when it ran on torch), so a seed keeps giving the motion it gave before the sampler left torch."""
    from choreo.sampler import TorchNoise

    ours, gen = TorchNoise(123), torch.Generator().manual_seed(123)
    for _ in range(3):  # successive draws continue the stream, tails of counts not divisible by 16 included
        a, b = ours.standard_normal(shape), torch.randn(shape, generator=gen).numpy()
        assert a.shape == shape and a.dtype == np.float32
        if np.prod(shape) >= 16:
            assert np.abs(a - b).max() < 1e-5
    assert abs(TorchNoise(1).standard_normal((100000,)).std() - 1.0) < 0.01
    assert not np.array_equal(TorchNoise(None).standard_normal((16,)), TorchNoise(None).standard_normal((16,)))
