"""Cosine schedule (mdm-spec §3.1), respacing back to original timesteps, DDPM/DDIM steps, masked MSE."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from choreo.diffusion import GaussianDiffusion, cosine_betas, ddim_timesteps, masked_mse


def test_cosine_schedule_sanity_values_t1000() -> None:
    d = GaussianDiffusion.cosine(1000)
    assert d.betas.dtype == np.float64 and d.num_steps == 1000
    assert d.betas[0] == pytest.approx(4.128e-5, rel=1e-3)
    assert d.betas[999] == 0.999  # clipped
    assert d.alphas_cumprod[0] == pytest.approx(0.99995872, abs=1e-8)
    assert d.alphas_cumprod[499] == pytest.approx(0.49384, abs=1e-5)
    assert d.alphas_cumprod[999] == pytest.approx(2.43e-9, rel=1e-2)
    assert np.all(np.diff(d.alphas_cumprod) < 0) and np.all(d.betas > 0)


def test_cosine_schedule_sanity_values_t50() -> None:
    b = cosine_betas(50)
    assert b[0] == pytest.approx(1.7475e-3, rel=1e-4)
    assert np.cumprod(1 - b)[49] == pytest.approx(9.7e-7, rel=1e-2)


def test_posterior_variance_log_clipped_at_zero() -> None:
    d = GaussianDiffusion.cosine(1000)
    assert d.posterior_variance[0] == 0.0
    assert d.posterior_log_variance_clipped[0] == d.posterior_log_variance_clipped[1]
    assert np.isfinite(d.posterior_log_variance_clipped).all()
    assert d.posterior_mean_coef1[0] == pytest.approx(1.0) and d.posterior_mean_coef2[0] == pytest.approx(0.0)


def test_respaced_maps_back_to_original_timesteps() -> None:
    full = GaussianDiffusion.cosine(1000)
    r = full.respaced(50)
    assert r.num_steps == 50
    assert list(r.timestep_map) == list(range(0, 1000, 20))
    assert np.allclose(r.alphas_cumprod, full.alphas_cumprod[r.timestep_map], rtol=1e-12, atol=0)
    # Respacing a respaced schedule keeps mapping to the original steps.
    rr = r.respaced(10)
    assert list(rr.timestep_map) == list(range(0, 1000, 100))
    assert np.allclose(rr.alphas_cumprod, full.alphas_cumprod[rr.timestep_map], rtol=1e-12, atol=0)
    assert full.respaced(1000).timestep_map.tolist() == list(range(1000))


def test_ddim_timesteps() -> None:
    assert ddim_timesteps(1000, 20) == list(range(0, 1000, 50))
    assert ddim_timesteps(1000, 30) == list(range(0, 1000, 34))  # guided-diffusion's 'ddim30'
    odd = ddim_timesteps(1000, 7)
    assert len(odd) == 7 and odd[0] == 0 and odd == sorted(set(odd))
    with pytest.raises(ValueError):
        ddim_timesteps(1000, 0)
    with pytest.raises(ValueError):
        ddim_timesteps(50, 51)


def test_q_sample_and_deterministic_ddim_step_are_consistent() -> None:
    d = GaussianDiffusion.cosine(1000).respaced(50)
    gen = torch.Generator().manual_seed(0)
    x0 = torch.randn(2, 263, 1, 8, generator=gen, dtype=torch.float64)
    eps = torch.randn(x0.shape, generator=gen, dtype=torch.float64)
    t = torch.tensor([30, 30])
    xt = d.q_sample(x0, t, eps)
    ac = d.alphas_cumprod[30]
    assert torch.allclose(xt, np.sqrt(ac) * x0 + np.sqrt(1 - ac) * eps)
    # With the true x0, a DDIM (eta=0) step lands exactly on q_sample at t-1 with the same noise.
    prev = d.ddim_step(x0, xt, t, torch.zeros_like(x0), eta=0.0)
    assert torch.allclose(prev, d.q_sample(x0, t - 1, eps), atol=1e-10)
    # The final steps return x0.
    t0 = torch.tensor([0, 0])
    assert torch.allclose(d.ddim_step(x0, d.q_sample(x0, t0, eps), t0, eps), x0, atol=1e-10)
    assert torch.allclose(d.ddpm_step(x0, d.q_sample(x0, t0, eps), t0, eps), x0, atol=1e-10)


def test_ddpm_step_noise_scale() -> None:
    d = GaussianDiffusion.cosine(1000)
    x0 = torch.zeros(1, 263, 1, 4, dtype=torch.float64)
    xt = torch.zeros_like(x0)
    t = torch.tensor([500])
    z = torch.ones_like(x0)
    out = d.ddpm_step(x0, xt, t, z)
    assert torch.allclose(out, torch.full_like(out, np.sqrt(d.posterior_variance[500])))


def test_masked_mse_ignores_padded_frames() -> None:
    gen = torch.Generator().manual_seed(0)
    target = torch.randn(2, 263, 1, 10, generator=gen)
    pred = target.clone()
    mask = torch.zeros(2, 10)
    mask[0, :6] = 1
    mask[1, :10] = 1
    pred[0, :, :, 6:] += 100.0  # garbage in padding only
    assert masked_mse(target, pred, mask).item() == pytest.approx(0.0, abs=1e-12)
    pred[0, :, :, :6] += 1.0  # error 1 on every valid entry of sample 0; sample 1 exact
    assert masked_mse(target, pred, mask).item() == pytest.approx(0.5, rel=1e-5)
    # Per-sample normalisation: a short clip weighs as much as a long one.
    pred2 = target.clone()
    pred2[1] += 2.0
    assert masked_mse(target, pred2, mask).item() == pytest.approx(2.0, rel=1e-5)


@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_step_maths_equal_on_numpy_and_torch(eta: float) -> None:
    """Sampling runs the step maths on numpy arrays, training's q_sample on torch tensors: the same numbers."""
    d = GaussianDiffusion.cosine(1000).respaced(20)
    rng = np.random.default_rng(0)
    x0, xt, z = (rng.standard_normal((3, 263, 1, 6), dtype=np.float32) for _ in range(3))
    t = np.array([19, 7, 0])
    tt = torch.from_numpy(t)
    as_t = [torch.from_numpy(a) for a in (x0, xt, z)]
    for got, want in [(d.ddim_step(x0, xt, t, z, eta), d.ddim_step(*as_t[:2], tt, as_t[2], eta)),
                      (d.ddpm_step(x0, xt, t, z), d.ddpm_step(*as_t[:2], tt, as_t[2])),
                      (d.q_sample(x0, t, z), d.q_sample(as_t[0], tt, as_t[2]))]:
        assert isinstance(got, np.ndarray) and got.dtype == np.float32
        assert np.allclose(got, want.numpy(), atol=1e-6)
    # float32 in, float32 out, and the deterministic DDIM step matches its float64 formula
    ac, acp = d.alphas_cumprod[t], d.alphas_cumprod_prev[t]
    r = lambda a: a.reshape(-1, 1, 1, 1)  # noqa: E731
    eps = (xt - r(np.sqrt(ac)) * x0) / r(np.sqrt(1 - ac))
    assert np.allclose(d.ddim_step(x0, xt, t, z, 0.0), r(np.sqrt(acp)) * x0 + r(np.sqrt(1 - acp)) * eps, atol=1e-5)
