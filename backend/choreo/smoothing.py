"""Gaussian smoothing over time on numpy arrays, equal to `scipy.ndimage.gaussian_filter1d(..., mode="nearest")`
(same kernel: radius int(4σ + 0.5), weights exp(-x²/2σ²) normalised; ends extended with their edge values).
Our own few lines because importing scipy.ndimage cost `choreo generate` 0.25 s of its start-up."""

from __future__ import annotations

import numpy as np

TRUNCATE = 4.0  # kernel radius in standard deviations, as scipy's default


def gaussian_smooth(x: np.ndarray, sigma: float, axis: int = 0) -> np.ndarray:
    """`x` smoothed along `axis` by a Gaussian of `sigma` samples (float64 out, as scipy for float input)."""
    x = np.asarray(x, dtype=np.float64)
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    radius = int(TRUNCATE * float(sigma) + 0.5)
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 / float(sigma) ** 2 * offsets.astype(np.float64) ** 2)
    kernel /= kernel.sum()
    moved = np.moveaxis(x, axis, 0)
    n = moved.shape[0]
    padded = np.pad(moved, [(radius, radius)] + [(0, 0)] * (moved.ndim - 1), mode="edge")
    out = np.zeros_like(moved)
    for k, w in enumerate(kernel):
        out += w * padded[k : k + n]
    return np.moveaxis(out, 0, axis)
