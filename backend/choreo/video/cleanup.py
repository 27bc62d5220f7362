"""Cleaning a landmark track over time: left/right consistency, short gaps filled, long gaps cut,
zero-phase smoothing (forward and backward, so motion keeps its timing: no lag on the beat)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, filtfilt

from choreo.video.landmarks import LIMB_LANDMARKS, SWAP_PERMUTATION, PoseTrack

MAX_GAP_S = 0.5  # lost for longer than this: the clip is cut there
MIN_SEGMENT_S = 1.0  # tracked stretches shorter than this are dropped (reported)
# A frame's left/right labels are swapped when the swapped assignment moves the limbs this much less.
SWAP_MARGIN = 0.7
SMOOTH_CUTOFF_HZ = 6.0  # dance moves live below ~5 Hz; detector jitter above
SMOOTH_ORDER = 2  # per pass: filtfilt doubles it


@dataclass
class Segment:
    """A stretch of frames [start, stop) kept as one clip, and how many frames in it were filled."""

    start: int
    stop: int
    filled: int


def fix_left_right(track: PoseTrack, tracked: np.ndarray) -> tuple[PoseTrack, np.ndarray]:
    """Undo the detector's left/right label swaps; returns the fixed track and the frames swapped.

    Body-frame continuity decides: each tracked frame keeps the labelling (as detected, or swapped) whose
    limb landmarks lie closer to the previous tracked frame's (hip-centred world coordinates, so travel and
    turning speed do not matter; a real turn moves limbs gradually, a label swap jumps them across).
    """
    world, image, vis = track.world.copy(), track.image.copy(), track.visibility.copy()
    swapped = np.zeros(track.num_frames, dtype=bool)
    limbs = list(LIMB_LANDMARKS)
    prev = None
    for t in np.flatnonzero(tracked):
        cur = world[t, limbs]
        if prev is not None:
            keep = np.linalg.norm(cur - prev, axis=-1).sum()
            alt = np.linalg.norm(world[t, SWAP_PERMUTATION][limbs] - prev, axis=-1).sum()
            if alt < SWAP_MARGIN * keep:
                perm = SWAP_PERMUTATION
                world[t], image[t], vis[t] = world[t, perm], image[t, perm], vis[t, perm]
                swapped[t] = True
        prev = world[t, limbs]
    return PoseTrack(world, image, vis, track.fps, track.width, track.height), swapped


def segments(tracked: np.ndarray, fps: float, max_gap_s: float = MAX_GAP_S,
             min_segment_s: float = MIN_SEGMENT_S) -> tuple[list[Segment], list[tuple[int, int]]]:
    """Stretches to keep (gaps up to `max_gap_s` inside them are filled) and the dropped [start, stop)."""
    idx = np.flatnonzero(tracked)
    if idx.size == 0:
        return [], [(0, len(tracked))] if len(tracked) else []
    max_gap = int(np.floor(max_gap_s * fps + 1e-9))
    breaks = np.flatnonzero(np.diff(idx) - 1 > max_gap)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    stops = np.concatenate([idx[breaks] + 1, [idx[-1] + 1]])
    kept, dropped = [], []
    cursor = 0
    for s, e in zip(starts, stops, strict=True):
        if e - s >= min_segment_s * fps:
            kept.append(Segment(int(s), int(e), int((~tracked[s:e]).sum())))
            if s > cursor:
                dropped.append((cursor, int(s)))
            cursor = int(e)
    if cursor < len(tracked):
        dropped.append((cursor, len(tracked)))
    return kept, dropped


def fill_gaps(values: np.ndarray, tracked: np.ndarray) -> np.ndarray:
    """Linear interpolation over time of the untracked frames of [T,...] values (ends held)."""
    out = np.array(values, dtype=np.float64, copy=True)
    idx = np.flatnonzero(tracked)
    if idx.size == len(tracked):
        return out
    flat = out.reshape(len(out), -1)
    frames = np.arange(len(out))
    for k in range(flat.shape[1]):
        flat[:, k] = np.interp(frames, idx, flat[idx, k])
    return flat.reshape(out.shape)


def smooth(values: np.ndarray, fps: float, cutoff_hz: float = SMOOTH_CUTOFF_HZ) -> np.ndarray:
    """Zero-phase Butterworth low-pass along time of [T,...] values (unchanged if too short to filter)."""
    nyquist = fps / 2
    if cutoff_hz >= nyquist * 0.95:
        return np.asarray(values, dtype=np.float64)
    b, a = butter(SMOOTH_ORDER, cutoff_hz / nyquist)
    padlen = 3 * max(len(a), len(b))
    if len(values) <= padlen:
        return np.asarray(values, dtype=np.float64)
    # Odd extension (scipy's default) keeps the ends in place and their slope.
    return filtfilt(b, a, np.asarray(values, dtype=np.float64), axis=0)
