"""Beat alignment scores (BAS), both published variants, each with its chance level.

Times are in seconds throughout, so the 60-fps frame constants of the papers become durations:
- Bailando (`utils/beat_align_score.py`): speed averaged over joints, Gaussian-smoothed with σ = 5 frames
  at 60 fps (83 ms → 1.67 frames at 20 fps), motion beats = local minima; the score averages over MUSIC
  beats exp(−d²/2σ²), d = distance to the nearest motion beat, σ = 3 frames at 60 fps = 50 ms.
- FACT / POPDG (`calculate_beat_scores.py`): speed summed over joints, no smoothing, motion beats = minima
  over ±10 frames at 60 fps (±167 ms → ±3 frames at 20 fps); the score averages over MOTION beats.
Speeds are central differences, so a beat lands on a frame (the published forward difference shifts it
by half a frame, 25 ms at 20 fps).

Chance level: the same score with the music beats replaced by as many beats placed uniformly at random
over the clip (mean over many draws, fixed seed). "Offset" baseline: the real beat grid shifted by a
random offset in [0, one beat interval), wrapped around the clip — same tempo, wrong phase.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import argrelextrema

SCORE_SIGMA_S = 3.0 / 60.0  # 3 frames at 60 fps
BAILANDO_SMOOTH_S = 5.0 / 60.0  # gaussian_filter σ = 5 frames at 60 fps
FACT_ORDER_S = 10.0 / 60.0  # argrelextrema order = 10 frames at 60 fps
CHANCE_DRAWS = 1000
SEED = 0


def joint_speeds(joints: np.ndarray, fps: float) -> np.ndarray:
    """Per-frame, per-joint speed [T,J] in m/s (central differences; the end frames repeat)."""
    joints = np.asarray(joints, dtype=np.float64)
    if joints.shape[0] < 3:
        return np.zeros(joints.shape[:2])
    speed = np.linalg.norm(joints[2:] - joints[:-2], axis=-1) * (fps / 2.0)
    return np.concatenate([speed[:1], speed, speed[-1:]])


def bailando_velocity(joints: np.ndarray, fps: float) -> np.ndarray:
    """Mean joint speed, Gaussian-smoothed [T] (m/s): the curve Bailando takes minima of."""
    return gaussian_filter1d(joint_speeds(joints, fps).mean(axis=1), sigma=BAILANDO_SMOOTH_S * fps)


def fact_envelope(joints: np.ndarray, fps: float) -> np.ndarray:
    """Summed joint speed [T] (m/s), unsmoothed: the curve FACT takes minima of."""
    return joint_speeds(joints, fps).sum(axis=1)


def bailando_motion_beats(joints: np.ndarray, fps: float) -> np.ndarray:
    """Motion beat times (s): strict local minima of the smoothed mean speed."""
    return argrelextrema(bailando_velocity(joints, fps), np.less)[0] / fps


def fact_motion_beats(joints: np.ndarray, fps: float) -> np.ndarray:
    """Motion beat times (s): minima of the speed envelope over ±(10 frames at 60 fps)."""
    order = max(1, int(round(FACT_ORDER_S * fps)))
    return argrelextrema(fact_envelope(joints, fps), np.less, order=order)[0] / fps


def nearest_distance(points: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """|p − t| from each of `points` (any shape) to its nearest time in `targets` (sorted, 1-D, not empty)."""
    last = len(targets) - 1
    pos = np.searchsorted(targets, points)
    left, right = targets[np.clip(pos - 1, 0, last)], targets[np.clip(pos, 0, last)]
    return np.minimum(np.abs(points - left), np.abs(right - points))


def nearest_distance_per_row(points: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """[G,n]: distance from each of `points` [n] to its nearest time in each row of `rows` [G,m] (rows sorted,
    m ≥ 1), in one search: the rows are laid end to end, each shifted past the one before, and every point is
    looked up in every row at once (a thousand chance draws cost one call, not a thousand)."""
    g, m = rows.shape
    if points.size == 0:
        return np.zeros((g, 0))
    gap = np.ptp(rows) + np.ptp(points) + 1.0 + np.abs(rows).max() + np.abs(points).max(initial=0.0)
    shift = (np.arange(g) * gap)[:, None]
    pos = np.searchsorted((rows + shift).ravel(), (points[None, :] + shift).ravel()).reshape(g, -1)
    pos -= np.arange(g)[:, None] * m  # each search's place within its own row
    at = np.arange(g)[:, None]
    left, right = rows[at, np.clip(pos - 1, 0, m - 1)], rows[at, np.clip(pos, 0, m - 1)]
    return np.minimum(np.abs(points[None, :] - left), np.abs(right - points[None, :]))  # unshifted times


def _gaussian(d: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-(d**2) / (2.0 * sigma**2))


def bas_bailando(music_beats: np.ndarray, motion_beats: np.ndarray, sigma: float = SCORE_SIGMA_S) -> float:
    """Mean over music beats of the Gaussian of the distance to the nearest motion beat (NaN: no beats)."""
    music_beats = np.asarray(music_beats, float)
    if len(music_beats) == 0:
        return float("nan")
    return float(bas_bailando_rows(music_beats[None, :], motion_beats, sigma)[0])


def bas_bailando_rows(music_rows: np.ndarray, motion_beats: np.ndarray, sigma: float = SCORE_SIGMA_S
                      ) -> np.ndarray:
    """`bas_bailando` of each row of music beats [G,n] (n ≥ 1) against the same motion beats: [G]."""
    motion_beats = np.sort(np.asarray(motion_beats, float))
    if len(motion_beats) == 0:
        return np.zeros(len(music_rows))
    return _gaussian(nearest_distance(music_rows, motion_beats), sigma).mean(axis=1)


def bas_fact(music_beats: np.ndarray, motion_beats: np.ndarray, sigma: float = SCORE_SIGMA_S) -> float:
    """Mean over motion beats of the Gaussian of the distance to the nearest music beat (NaN: no beats)."""
    music_beats = np.asarray(music_beats, float)
    return float(bas_fact_rows(np.sort(music_beats)[None, :], motion_beats, sigma)[0])


def bas_fact_rows(music_rows: np.ndarray, motion_beats: np.ndarray, sigma: float = SCORE_SIGMA_S) -> np.ndarray:
    """`bas_fact` of each row of music beats [G,n] (rows sorted) against the same motion beats: [G]."""
    motion_beats = np.asarray(motion_beats, float)
    if len(motion_beats) == 0:
        return np.full(len(music_rows), np.nan)
    if music_rows.shape[1] == 0:
        return np.zeros(len(music_rows))
    return _gaussian(nearest_distance_per_row(motion_beats, music_rows), sigma).mean(axis=1)


Score = Callable[[np.ndarray, np.ndarray], float]
_ROWS = {bas_bailando: bas_bailando_rows, bas_fact: bas_fact_rows}  # each score over many grids at once


def _mean_score(score: Score, grids: np.ndarray, motion_beats: np.ndarray) -> float:
    """Mean of `score` over the rows of `grids` [G,n] (sorted rows), NaN if every row is undefined."""
    rows = _ROWS.get(score)
    values = rows(grids, motion_beats) if rows else np.array([score(g, motion_beats) for g in grids], float)
    return float(np.nanmean(values)) if not np.all(np.isnan(values)) else float("nan")


def chance_level(
    score: Score, music_beats: np.ndarray, motion_beats: np.ndarray, duration: float,
    draws: int = CHANCE_DRAWS, seed: int = SEED,
) -> float:
    """Mean score when the music beats are replaced by as many uniformly random times in [0, duration]."""
    n = len(music_beats)
    if n == 0 or draws < 1:
        return float("nan")
    grids = np.sort(np.random.default_rng(seed).uniform(0.0, duration, (draws, n)), axis=1)
    return _mean_score(score, grids, motion_beats)


def offset_level(
    score: Score, music_beats: np.ndarray, motion_beats: np.ndarray, duration: float,
    draws: int = CHANCE_DRAWS, seed: int = SEED,
) -> float:
    """Mean score with the beat grid shifted by a random offset in [0, median beat interval), wrapped."""
    music_beats = np.asarray(music_beats, float)
    if len(music_beats) < 2 or duration <= 0 or draws < 1:
        return float("nan")
    period = float(np.median(np.diff(music_beats)))
    offsets = np.random.default_rng(seed).uniform(0.0, period, draws)
    grids = np.sort((music_beats[None, :] + offsets[:, None]) % duration, axis=1)
    return _mean_score(score, grids, motion_beats)


def beat_alignment(
    joints: np.ndarray, fps: float, music_beats: np.ndarray, draws: int = CHANCE_DRAWS, seed: int = SEED,
    with_offset: bool = True,
) -> dict[str, float]:
    """Both BAS variants of one clip against music beats (s, clip starts at t=0), with chance levels.

    Music beats outside the clip's time span are dropped first.
    """
    duration = (np.asarray(joints).shape[0] - 1) / fps
    music = np.asarray(music_beats, float)
    music = music[(music >= 0.0) & (music <= duration)]
    beats_b = bailando_motion_beats(joints, fps)
    beats_f = fact_motion_beats(joints, fps)
    out = {
        "bas_bailando": bas_bailando(music, beats_b),
        "bas_bailando_chance": chance_level(bas_bailando, music, beats_b, duration, draws, seed),
        "bas_fact": bas_fact(music, beats_f),
        "bas_fact_chance": chance_level(bas_fact, music, beats_f, duration, draws, seed),
        "music_beats": float(len(music)),
        "motion_beats_bailando": float(len(beats_b)),
        "motion_beats_fact": float(len(beats_f)),
    }
    if with_offset:
        out["bas_bailando_offset"] = offset_level(bas_bailando, music, beats_b, duration, draws, seed)
        out["bas_fact_offset"] = offset_level(bas_fact, music, beats_f, duration, draws, seed)
    return out
