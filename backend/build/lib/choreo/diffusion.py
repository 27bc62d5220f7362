"""Gaussian diffusion for MDM: cosine schedule, x0 prediction, masked MSE loss, respacing.

The sampler (DDPM / DDIM loops, guidance, in-painting) is in `choreo.sampler`; this module holds only
the schedule and the per-step maths, independent of any network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch


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
    def _at(arr: np.ndarray, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """arr[t] broadcast to like's shape, in like's dtype and device."""
        vals = torch.as_tensor(arr, dtype=torch.float64)[t.cpu()].to(device=like.device, dtype=like.dtype)
        return vals.reshape(-1, *([1] * (like.dim() - 1)))

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Draw x_t ~ q(x_t | x0) = N(√ᾱ_t x0, (1-ᾱ_t) I)."""
        ac = self._at(self.alphas_cumprod, t, x0)
        return ac.sqrt() * x0 + (1.0 - ac).sqrt() * noise

    def posterior_mean(self, x0: torch.Tensor, xt: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self._at(self.posterior_mean_coef1, t, xt) * x0 + self._at(self.posterior_mean_coef2, t, xt) * xt

    def ddpm_step(self, x0: torch.Tensor, xt: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Ancestral step x_t -> x_{t-1} given the predicted x0 (no noise at t == 0)."""
        std = torch.exp(0.5 * self._at(self.posterior_log_variance_clipped, t, xt))
        nonzero = (t != 0).to(xt.dtype).reshape(-1, *([1] * (xt.dim() - 1)))
        return self.posterior_mean(x0, xt, t) + nonzero * std * noise

    def ddim_step(
        self, x0: torch.Tensor, xt: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, eta: float = 0.0
    ) -> torch.Tensor:
        """DDIM step x_t -> x_{t-1} given the predicted x0; eta=0 is deterministic."""
        ac = self._at(self.alphas_cumprod, t, xt)
        ac_prev = self._at(self.alphas_cumprod_prev, t, xt)
        eps = (xt - ac.sqrt() * x0) / (1.0 - ac).sqrt()
        sigma = eta * ((1 - ac_prev) / (1 - ac)).sqrt() * (1 - ac / ac_prev).sqrt()
        mean = ac_prev.sqrt() * x0 + (1 - ac_prev - sigma**2).clamp(min=0).sqrt() * eps
        nonzero = (t != 0).to(xt.dtype).reshape(-1, *([1] * (xt.dim() - 1)))
        return mean + nonzero * sigma * noise


def masked_mse(target: torch.Tensor, pred: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
    """MDM's loss: squared error summed over valid frames and features, divided by (valid frames × features),
    averaged over the batch. target/pred [B,F,1,T], frame_mask [B,T] (1 = real frame)."""
    m = frame_mask[:, None, None, :].to(pred.dtype)
    per_sample = ((target - pred) ** 2 * m).sum(dim=(1, 2, 3))
    denom = m.sum(dim=(1, 2, 3)) * target.shape[1]
    return (per_sample / (denom + 1e-8)).mean()
