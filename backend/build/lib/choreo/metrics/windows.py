"""Cutting clips into the fixed-length windows the set-level metrics (FID, Div) compare.

Published protocols differ (EDGE: 5-s clips; Bailando: 20-s clips at 60 fps). Ours: non-overlapping
5-s windows, translation-relative (frame 0's root moved to the origin), at the clip's own fps.
"""

from __future__ import annotations

import numpy as np

WINDOW_SECONDS = 5.0
# A clip shorter than one window still counts (as one shorter window) if it lasts this long.
MIN_WINDOW_SECONDS = 2.0


def root_relative(joints: np.ndarray) -> np.ndarray:
    """Subtract frame 0's root position from every joint (Bailando/FACT `zero_start` normalisation)."""
    return joints - joints[:1, :1, :]


def cut_windows(
    joints: np.ndarray, fps: float, seconds: float = WINDOW_SECONDS, min_seconds: float = MIN_WINDOW_SECONDS,
    relative: bool = True,
) -> list[np.ndarray]:
    """Non-overlapping windows of `seconds` (remainder dropped), root-relative unless `relative` is False.

    A clip shorter than one window becomes one window if it lasts at least `min_seconds`, else nothing.
    World-coordinate windows (relative=False) are for the metrics that need the floor at y = 0.
    """
    size = int(round(seconds * fps))
    frames = joints.shape[0]
    if frames < size:
        pieces = [joints] if frames >= max(3, int(round(min_seconds * fps))) else []
    else:
        pieces = [joints[s : s + size] for s in range(0, frames - size + 1, size)]
    return [root_relative(p) if relative else p.copy() for p in pieces]
