"""Jitter: mean jerk magnitude (third finite difference of joint positions × fps³), in m/s³.

Averaged over joints and frames. HMR papers report it in units of 10 m/s³; we print m/s³.
"""

from __future__ import annotations

import numpy as np


def jitter(joints: np.ndarray, fps: float) -> float:
    """Mean ‖d³x/dt³‖ over frames and joints (m/s³); NaN for fewer than 4 frames."""
    joints = np.asarray(joints, dtype=np.float64)
    if joints.shape[0] < 4:
        return float("nan")
    return float(np.linalg.norm(np.diff(joints, n=3, axis=0), axis=-1).mean() * fps**3)


def mean_acceleration(joints: np.ndarray, fps: float) -> float:
    """Mean ‖d²x/dt²‖ over frames and joints (m/s²)."""
    joints = np.asarray(joints, dtype=np.float64)
    if joints.shape[0] < 3:
        return float("nan")
    return float(np.linalg.norm(np.diff(joints, n=2, axis=0), axis=-1).mean() * fps**2)
