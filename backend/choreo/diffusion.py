"""Gaussian diffusion for MDM: cosine schedule, x0 prediction, masked MSE loss, respacing.

The sampler (DDPM / DDIM loops, guidance, in-painting) is in `choreo.sampler`; this module holds only
the schedule and the per-step maths, independent of any network. The step maths take numpy arrays (sampling,
which imports no torch) or torch tensors (training's `q_sample` and loss) alike: every per-timestep
coefficient is computed in float64 numpy and cast to the input's type, then only + - * / touch the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


def cosine_betas(num_steps: int, max_beta: float = 0.999) -> np.ndarray:
    """β_i = min(1 - ᾱ((i+1)/T) / ᾱ(i/T), max_beta) with ᾱ(s) = cos²(((s + 0.008) / 1.008) π/2)."""

    def alpha_bar(s: float) -> float:
        return math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2

    return np.array(
        [min(1 - alpha_bar((i + 1) / num_steps) / alpha_bar(i / num_steps), max_beta) for i in range(num_steps)],
        dtype=np.float64,
    )


def ddim_timesteps(num_steps: int, count: int) -> list[int]:
    """The kept original timesteps for `count` sampling steps: an even stride when one exists
    (guided-diffusion's 'ddimK'), else evenly rounded positions."""
    if not 1 <= count <= num_steps:
        raise ValueError(f"sampling steps must be in 1..{num_steps}, got {count}")
    for stride in range(1, num_steps + 1):
        if len(range(0, num_steps, stride)) == count:
            return list(range(0, num_steps, stride))
    return sorted({int(round(x)) for x in np.linspace(0, num_steps - 1, count)})


@dataclass
class GaussianDiffusion:
    """A (possibly respaced) schedule. `timestep_map[i]` is the original timestep of step i, which is
    what the network was trained on."""

    betas: np.ndarray
    timestep_map: np.ndarray

    @classmethod
    def cosine(cls, num_steps: int) -> GaussianDiffusion:
        return cls(cosine_betas(num_steps), np.arange(num_steps))

    def __post_init__(self) -> None:
        b = self.betas
        self.num_steps = len(b)
        self.alphas_cumprod = np.cumprod(1.0 - b)
        self.alphas_cumprod_prev = np.append(1.0, self.alphas_cumprod[:-1])
        ac, acp = self.alphas_cumprod, self.alphas_cumprod_prev
        self.posterior_variance = b * (1.0 - acp) / (1.0 - ac)
        # Log clipped: index 0 has zero variance, so it borrows index 1 (FIXED_SMALL in MDM).
        pv = self.posterior_variance
        self.posterior_log_variance_clipped = np.log(np.append(pv[1], pv[1:]) if len(pv) > 1 else pv + 1e-20)
        self.posterior_mean_coef1 = b * np.sqrt(acp) / (1.0 - ac)
        self.posterior_mean_coef2 = (1.0 - acp) * np.sqrt(1.0 - b) / (1.0 - ac)

    def respaced(self, count: int) -> GaussianDiffusion:
        """A schedule over `count` of this one's steps, betas recomputed from the kept ᾱ values."""
        kept = ddim_timesteps(self.num_steps, count)
        betas, last = [], 1.0
        for i in kept:
            betas.append(1.0 - self.alphas_cumprod[i] / last)
            last = self.alphas_cumprod[i]
        return GaussianDiffusion(np.array(betas), self.timestep_map[kept])

    @staticmethod
    def _at(arr: np.ndarray, t: Any, like: Any) -> Any:
        """arr[t] (float64 numpy) broadcast to like's shape, as like's type: a numpy array in like's dtype, or a
        torch tensor on like's device and in its dtype."""
        idx = np.asarray(t.cpu() if hasattr(t, "cpu") else t, dtype=np.int64)
        vals = np.asarray(arr, dtype=np.float64)[idx].reshape(-1, *([1] * (like.ndim - 1)))
        if isinstance(like, np.ndarray):
            return vals.astype(like.dtype)
        import torch  # like is a tensor, so torch is already loaded

        return torch.as_tensor(vals, device=like.device).to(like.dtype)

    def q_sample(self, x0: Any, t: Any, noise: Any) -> Any:
        """Draw x_t ~ q(x_t | x0) = N(√ᾱ_t x0, (1-ᾱ_t) I)."""
        ac = self.alphas_cumprod
        return self._at(np.sqrt(ac), t, x0) * x0 + self._at(np.sqrt(1.0 - ac), t, x0) * noise

    def posterior_mean(self, x0: Any, xt: Any, t: Any) -> Any:
        return self._at(self.posterior_mean_coef1, t, xt) * x0 + self._at(self.posterior_mean_coef2, t, xt) * xt

    def ddpm_step(self, x0: Any, xt: Any, t: Any, noise: Any) -> Any:
        """Ancestral step x_t -> x_{t-1} given the predicted x0 (no noise at t == 0)."""
        std = np.exp(0.5 * self.posterior_log_variance_clipped) * (np.arange(self.num_steps) != 0)
        return self.posterior_mean(x0, xt, t) + self._at(std, t, xt) * noise

    def ddim_step(self, x0: Any, xt: Any, t: Any, noise: Any, eta: float = 0.0) -> Any:
        """DDIM step x_t -> x_{t-1} given the predicted x0; eta=0 is deterministic.

        x_{t-1} = √ᾱ' x0 + √(1-ᾱ'-σ²) ε + σ z with ε = (x_t - √ᾱ x0)/√(1-ᾱ), written as one linear combination."""
        ac, ac_prev = self.alphas_cumprod, self.alphas_cumprod_prev
        sigma = eta * np.sqrt((1 - ac_prev) / (1 - ac)) * np.sqrt(1 - ac / ac_prev)
        c_eps = np.sqrt(np.clip(1 - ac_prev - sigma**2, 0, None)) / np.sqrt(1 - ac)
        c_z = sigma * (np.arange(self.num_steps) != 0)
        return (self._at(np.sqrt(ac_prev) - c_eps * np.sqrt(ac), t, xt) * x0 + self._at(c_eps, t, xt) * xt
                + self._at(c_z, t, xt) * noise)


def masked_mse(target: Any, pred: Any, frame_mask: Any) -> Any:
    """MDM's loss: squared error summed over valid frames and features, divided by (valid frames × features),
    averaged over the batch. target/pred [B,F,1,T], frame_mask [B,T] (1 = real frame); torch tensors."""
    m = frame_mask[:, None, None, :].to(pred.dtype)
    per_sample = ((target - pred) ** 2 * m).sum(dim=(1, 2, 3))
    denom = m.sum(dim=(1, 2, 3)) * target.shape[1]
    return (per_sample / (denom + 1e-8)).mean()
