"""Energy: RMS loudness and onset density, each scaled 0–1 within the song, averaged.

The song's own 5th–95th percentiles map to 0 and 1, so "0.9" means "among the loudest, busiest parts
of this song", whatever its mastering level.
"""

from __future__ import annotations

import numpy as np

from choreo.music.features import Features, segment_mean

SMOOTH_S = 0.25


def _scaled(x: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(x, [5, 95])
    return np.clip((x - lo) / max(hi - lo, 1e-9), 0.0, 1.0)


def energy_curve(features: Features) -> np.ndarray:
    """Frame-rate energy 0–1: mean of scaled loudness (dB) and scaled onset density (smoothed flux)."""
    k = max(1, int(SMOOTH_S * features.fps))
    kernel = np.ones(k) / k
    loud = np.convolve(features.rms_db, kernel, mode="same")
    density = np.convolve(features.onset, kernel, mode="same")
    return 0.5 * _scaled(loud) + 0.5 * _scaled(density)


def energy_between(curve: np.ndarray, bounds: np.ndarray, fps: int) -> np.ndarray:
    """Mean energy over each interval [bounds[i], bounds[i+1])."""
    return segment_mean(curve[None, :], np.asarray(bounds, float), fps)[0]


def beat_energy(curve: np.ndarray, beats: np.ndarray, duration: float, fps: int) -> np.ndarray:
    """One energy value per beat (over the beat to the next one; the last beat runs one period)."""
    if len(beats) == 0:
        return np.zeros(0)
    period = float(np.median(np.diff(beats))) if len(beats) > 1 else 0.5
    return energy_between(curve, np.append(beats, min(beats[-1] + period, duration)), fps)
