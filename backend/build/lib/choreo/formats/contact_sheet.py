"""A contact-sheet PNG: one row per clip, a few evenly spaced frames as small stick figures, the clip's
name as the row label — so a broken import (exploded skeleton, lying body, wrong units) shows at a glance.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError
from choreo.formats.preview_video import CHAIN_COLORS, centred_joints, chain_points, project
from choreo.motion import Motion

ROW_INCHES = 1.1
FRAME_INCHES = 0.9
LABEL_INCHES = 2.2
DPI = 72
FRAME_SPACING_M = 1.4  # horizontal distance between the sampled figures of a row (in metres)
MAX_CLIPS = 400  # keeps the image under matplotlib's size limit; the rest are counted in the title


PLAUSIBLE_HEIGHT_M = (0.8, 2.5)  # a body's vertical extent outside this is flagged in red


def body_height(motion: Motion) -> float:
    """Median over frames of the vertical extent of the body (metres)."""
    y = motion.joints[..., 1]
    return float(np.median(y.max(axis=1) - y.min(axis=1)))


def clip_label(motion: Motion, index: int) -> str:
    name = Path(motion.source).name if motion.source else f"clip {index}"
    label = f"{name}\n{motion.num_frames} fr, {motion.seconds:.1f} s, {body_height(motion):.2f} m tall"
    return label + (f"\n{motion.text}" if motion.text else "")


def sampled_frames(num_frames: int, count: int) -> np.ndarray:
    """`count` evenly spaced frame indices from first to last (fewer if the clip is shorter)."""
    return np.unique(np.linspace(0, num_frames - 1, max(count, 1)).round().astype(int))


def write_contact_sheet(motions: Sequence[Motion], path: str | Path, frames_per_clip: int = 6) -> Path:
    """Draw the contact sheet of `motions` into a PNG at `path`; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    if not motions:
        raise ChoreoError("contact sheet: no clips to draw")
    if frames_per_clip < 1:
        raise ChoreoError(f"contact sheet: frames_per_clip must be at least 1, got {frames_per_clip}")
    path = Path(path)
    shown = list(motions)[:MAX_CLIPS]
    width = LABEL_INCHES + FRAME_INCHES * frames_per_clip
    height = ROW_INCHES * len(shown) + 0.4
    fig = plt.figure(figsize=(width, height), dpi=DPI)
    try:
        extra = len(motions) - len(shown)
        fig.suptitle(f"{len(motions)} clips" + (f" ({extra} not shown)" if extra else ""), fontsize=9)
        top = 1 - 0.4 / height
        for i, motion in enumerate(shown):
            bottom = top - (i + 1) * ROW_INCHES / height
            label = fig.add_axes((0, bottom, LABEL_INCHES / width, ROW_INCHES / height))
            label.set_axis_off()
            low, high = PLAUSIBLE_HEIGHT_M
            suspicious = not low <= body_height(motion) <= high
            lines = [textwrap.shorten(s, 36) for s in clip_label(motion, i).split("\n")]
            label.text(0.03, 0.5, "\n".join(lines),
                       va="center", ha="left", fontsize=7, family="monospace",
                       color="#d62728" if suspicious else "black")
            ax = fig.add_axes((LABEL_INCHES / width, bottom, 1 - LABEL_INCHES / width, ROW_INCHES / height))
            ax.set_axis_off()
            centred, floor = centred_joints(motion.joints)
            segments, colors = [], []
            for k, f in enumerate(sampled_frames(motion.num_frames, frames_per_clip)):
                pose = centred[f].copy()
                pose[:, 1] -= floor
                for chain_pts, color in zip(chain_points(pose), CHAIN_COLORS, strict=True):
                    xy = project(chain_pts) + np.array([k * FRAME_SPACING_M, 0.0])
                    segments += [xy[n : n + 2] for n in range(len(xy) - 1)]
                    colors += [color] * (len(xy) - 1)
            ax.add_collection(LineCollection(segments, colors=colors, linewidths=1.4))
            ax.axhline(0.0, color="#bbbbbb", lw=0.6)
            # Fixed scale (a 1.8 m body fills a row) so a clip in the wrong units stands out.
            ax.set_xlim(-FRAME_SPACING_M / 2, FRAME_SPACING_M * (frames_per_clip - 0.5))
            ax.set_ylim(-0.2, 2.0)
        fig.savefig(path, dpi=DPI)
    finally:
        plt.close(fig)
    return path
