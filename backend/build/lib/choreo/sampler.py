"""Sampling loops over any x0-predicting network: DDPM (ancestral) and DDIM with respacing,
classifier-free guidance in one batched forward, and in-painting of given frames or features.

The sampler holds no weights: it calls `model(x_t, t, text_emb, uncond)`, so a network can be swapped
(eager torch, exported ONNX) without touching it. Every sample in a batch has its own text, guidance
scale and in-painting mask, so many windows of a song are generated together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from choreo.diffusion import GaussianDiffusion

Denoiser = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class Inpainting:
    """Keep `values` [B,F,1,T] (normalised features) wherever `mask` [B,F,1,T] (bool) is True."""

    values: torch.Tensor
    mask: torch.Tensor

    def apply(self, x0: torch.Tensor) -> torch.Tensor:
        return torch.where(self.mask, self.values.to(x0.dtype), x0)


def frame_mask(num_frames: int, keep: list[tuple[int, int]], num_feats: int = 263) -> torch.Tensor:
    """Bool [F,1,T] that keeps the given half-open frame ranges (prefix, suffix, in-between...)."""
    m = torch.zeros(num_feats, 1, num_frames, dtype=torch.bool)
    for start, stop in keep:
        m[..., max(start, 0) : min(stop, num_frames)] = True
    return m


def feature_mask(features: np.ndarray, num_frames: int) -> torch.Tensor:
    """Bool [F,1,T] that keeps the given features (e.g. the lower body) on every frame."""
    return torch.as_tensor(np.asarray(features, dtype=bool))[:, None, None].expand(-1, 1, num_frames).clone()


class Sampler:
    """Draws motions from `model` with a diffusion schedule trained for `diffusion.num_steps` steps."""

    def __init__(self, model: Denoiser, diffusion: GaussianDiffusion) -> None:
        self.model = model
        self.diffusion = diffusion

    def guided_x0(
        self,
        xt: torch.Tensor,
        t_orig: torch.Tensor,
        text_emb: torch.Tensor,
        guidance: torch.Tensor,
    ) -> torch.Tensor:
        """x0 = x0_uncond + s (x0_cond - x0_uncond); both passes in one batched forward. s == 1 everywhere
        means plain conditional prediction (one pass)."""
        b = xt.shape[0]
        if torch.all(guidance == 1.0):
            return self.model(xt, t_orig, text_emb, torch.zeros(b, dtype=torch.bool, device=xt.device))
        uncond = torch.cat([torch.zeros(b, dtype=torch.bool), torch.ones(b, dtype=torch.bool)]).to(xt.device)
        out = self.model(torch.cat([xt, xt]), torch.cat([t_orig, t_orig]), torch.cat([text_emb, text_emb]), uncond)
        cond, unc = out[:b], out[b:]
        s = guidance.to(xt.dtype).reshape(-1, *([1] * (xt.dim() - 1)))
        return unc + s * (cond - unc)

    @torch.inference_mode()
    def sample(
        self,
        shape: tuple[int, int, int, int],
        text_emb: torch.Tensor,
        *,
        guidance: float | torch.Tensor = 2.5,
        steps: int | None = 50,
        method: str = "ddim",
        eta: float = 0.0,
        inpaint: Inpainting | None = None,
        seed: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> torch.Tensor:
        """Return x0 [B,F,1,T] in normalised feature space.

        steps: number of sampling steps (respaced from the trained schedule); None = all of them.
        method: "ddim" (eta controls stochasticity) or "ddpm" (ancestral).
        """
        if method not in ("ddim", "ddpm"):
            raise ValueError(f"unknown sampling method {method!r}")
        device = text_emb.device
        diffusion = self.diffusion if steps in (None, self.diffusion.num_steps) else self.diffusion.respaced(steps)
        b = shape[0]
        guidance_t = torch.as_tensor(guidance, dtype=torch.float32).expand(b).to(device)
        gen = torch.Generator().manual_seed(seed) if seed is not None else None

        def noise() -> torch.Tensor:  # drawn on the CPU so a seed gives the same motion on any device
            return torch.randn(shape, generator=gen).to(device)

        x = noise()
        n = diffusion.num_steps
        for k, i in enumerate(reversed(range(n))):
            t = torch.full((b,), i, dtype=torch.long)
            t_orig = torch.as_tensor(diffusion.timestep_map[t.numpy()], dtype=torch.long, device=device)
            x0 = self.guided_x0(x, t_orig, text_emb, guidance_t)
            if inpaint is not None:
                x0 = inpaint.apply(x0)
            z = noise() if (method == "ddpm" or eta > 0) and i > 0 else torch.zeros_like(x)
            if method == "ddpm":
                x = diffusion.ddpm_step(x0, x, t, z)
            else:
                x = diffusion.ddim_step(x0, x, t, z, eta)
            if progress is not None:
                progress(k + 1, n)
        # The last step returns x0 up to rounding; make the kept frames exact.
        return inpaint.apply(x) if inpaint is not None else x
