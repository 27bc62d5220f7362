"""Kinetic features (the FID_k / Div_k feature): per joint, mean horizontal and vertical kinetic energy
and mean acceleration magnitude ("energy expenditure"), after AIST++ / Bailando.

Differences from the published extractor, all deliberate and documented in docs/EVALUATION.md:
22 joints (66-d feature, not 72), Y up, velocities in m/s and accelerations in m/s² from central
differences at the clip's own fps (the published code averages displacements over ±2 frames at 60 fps,
about ±33 ms; at 20 fps one frame either side, ±50 ms, is the nearest window).
"""

from __future__ import annotations

import numpy as np

HORIZONTAL_AXES = (0, 2)  # x and z: Y is up
VERTICAL_AXIS = 1


def joint_velocities(joints: np.ndarray, fps: float) -> np.ndarray:
    """Central-difference velocities [T-2,J,3] in m/s (frames 1..T-2)."""
    return (joints[2:] - joints[:-2]) * (fps / 2.0)


def joint_accelerations(joints: np.ndarray, fps: float) -> np.ndarray:
    """Second-difference accelerations [T-2,J,3] in m/s² (frames 1..T-2)."""
    return (joints[2:] - 2.0 * joints[1:-1] + joints[:-2]) * fps**2


def kinetic_features(joints: np.ndarray, fps: float) -> np.ndarray:
    """Feature [3·J]: for each joint (in order) mean |v_xz|² (m²/s²), mean v_y² (m²/s²), mean |a| (m/s²)."""
    joints = np.asarray(joints, dtype=np.float64)
    if joints.shape[0] < 3:
        raise ValueError("kinetic features need at least 3 frames")
    vel = joint_velocities(joints, fps)
    acc = joint_accelerations(joints, fps)
    horizontal = np.sum(vel[..., HORIZONTAL_AXES] ** 2, axis=-1).mean(axis=0)
    vertical = (vel[..., VERTICAL_AXIS] ** 2).mean(axis=0)
    expenditure = np.linalg.norm(acc, axis=-1).mean(axis=0)
    return np.stack([horizontal, vertical, expenditure], axis=-1).reshape(-1)


def mean_joint_speed(joints: np.ndarray, fps: float) -> np.ndarray:
    """Per-frame speed averaged over joints [T] in m/s (central differences, ends repeated)."""
    joints = np.asarray(joints, dtype=np.float64)
    if joints.shape[0] < 3:
        return np.zeros(joints.shape[0])
    speed = np.linalg.norm(joint_velocities(joints, fps), axis=-1).mean(axis=-1)
    return np.concatenate([speed[:1], speed, speed[-1:]])
