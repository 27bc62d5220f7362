"""Bone-length consistency: a rigid body keeps every bone's length in every frame.

Generated positions can stretch bones (an earlier position-space model stretched some by ~30 %), so we
report, per clip, each bone's std over frames and the largest relative deviation from its median length,
and flag the bones that deviate by more than `STRETCH_TOLERANCE`.
"""

from __future__ import annotations

import numpy as np

from choreo.skeleton import CANONICAL_BONE_LENGTHS, JOINT_NAMES, bone_lengths

STRETCH_TOLERANCE = 0.05  # 5 % of the bone's median length


def bone_length_report(joints: np.ndarray, tolerance: float = STRETCH_TOLERANCE) -> dict:
    """Per-bone std (m) and max relative deviation from the median; bone j = the bone parent(j) → j.

    Also the worst relative deviation of the median lengths from the canonical skeleton's.
    """
    lengths = bone_lengths(np.asarray(joints, dtype=np.float64))[:, 1:]  # [T,21], root has no bone
    median = np.median(lengths, axis=0)
    safe = np.maximum(median, 1e-9)
    rel_dev = np.abs(lengths - median).max(axis=0) / safe
    names = JOINT_NAMES[1:]
    canonical_dev = np.abs(median - CANONICAL_BONE_LENGTHS[1:]) / CANONICAL_BONE_LENGTHS[1:]
    return {
        "std_m": dict(zip(names, lengths.std(axis=0).round(6).tolist(), strict=True)),
        "max_rel_dev": dict(zip(names, rel_dev.round(6).tolist(), strict=True)),
        "mean_std_m": float(lengths.std(axis=0).mean()),
        "worst_rel_dev": float(rel_dev.max()),
        "worst_bone": names[int(rel_dev.argmax())],
        "flagged": [n for n, d in zip(names, rel_dev, strict=True) if d > tolerance],
        "worst_canonical_dev": float(canonical_dev.max()),
    }
