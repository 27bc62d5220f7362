"""Synthetic motions for tests: smooth random-ish dances made by forward kinematics, so bone lengths are
exactly constant and the pelvis and chest are rigid (as on a real body), with root travel and a turn."""

from __future__ import annotations

import numpy as np

from choreo.quaternion import qmul
from choreo.skeleton import NUM_JOINTS, canonical_offsets, forward_kinematics

IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


def axis_angle_to_quat(v: np.ndarray) -> np.ndarray:
    angle = np.linalg.norm(v, axis=-1, keepdims=True)
    axis = v / np.maximum(angle, 1e-12)
    return np.concatenate([np.cos(angle / 2), np.sin(angle / 2) * axis], axis=-1)


def rigid_dance(frames: int = 60, seed: int = 0, turn_rad: float = 3.8, amplitude: float = 0.7) -> np.ndarray:
    """Joint positions [frames,22,3]: every joint swings smoothly, the root travels and turns `turn_rad`."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, frames)[:, None, None]
    freq = rng.uniform(0.5, 2.0, (NUM_JOINTS, 3))
    phase = rng.uniform(0.0, 2 * np.pi, (NUM_JOINTS, 3))
    swing = amplitude * np.sin(2 * np.pi * freq * t + phase)  # [T,22,3] axis-angle
    q = axis_angle_to_quat(swing)
    yaw = np.concatenate([np.zeros_like(t[:, 0]), turn_rad * t[:, 0], np.zeros_like(t[:, 0])], axis=-1)
    q[:, 0] = qmul(axis_angle_to_quat(yaw), axis_angle_to_quat(0.2 * swing[:, 0]))
    # FK rotates each bone on its own; make the pelvis (hips + spine1) and the chest (neck + collars)
    # rigid, as a body's are, by giving the bones of each group the same world rotation.
    q[:, 2] = q[:, 1]
    q[:, 3] = q[:, 1]
    q[:, 12] = IDENTITY
    chest = qmul(qmul(q[:, 3], q[:, 6]), q[:, 9])
    q[:, 13] = chest
    q[:, 14] = chest
    # Offsets off the axis-aligned rest directions, like a real (SMPL) body's.
    offsets = canonical_offsets() + rng.normal(0.0, 0.03, (NUM_JOINTS, 3))
    root = np.concatenate([0.8 * np.sin(3 * t[:, 0]), 0.9 + 0.05 * t[:, 0], 1.5 * t[:, 0]], axis=-1)
    return forward_kinematics(q, root, offsets)


def facing_angles(joints: np.ndarray) -> np.ndarray:
    """Unwrapped yaw (radians) of the hip line per frame."""
    across = joints[:, 1] - joints[:, 2]
    return np.unwrap(np.arctan2(-across[:, 2], across[:, 0]))
