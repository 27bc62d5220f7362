"""What a person looks at to judge a capture: the quality report in a few printed lines, and an overlay
sheet — sampled source frames with the detected skeleton drawn over them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from choreo.video.landmarks import PoseTrack

# MediaPipe landmark connections drawn on the overlay: (a, b, side) with side 0 centre, 1 left, 2 right.
OVERLAY_EDGES: tuple[tuple[int, int, int], ...] = (
    (11, 12, 0), (23, 24, 0), (11, 23, 1), (12, 24, 2), (11, 13, 1), (13, 15, 1), (12, 14, 2), (14, 16, 2),
    (23, 25, 1), (25, 27, 1), (27, 29, 1), (29, 31, 1), (27, 31, 1), (24, 26, 2), (26, 28, 2), (28, 30, 2),
    (30, 32, 2), (28, 32, 2), (7, 0, 1), (8, 0, 2),
)
SIDE_COLORS = ("#ffffff", "#17becf", "#ff7f0e")  # left cool, right warm, as in the stick-figure videos
COLUMNS = 4


def summary_lines(report: dict) -> list[str]:
    """The report in a few lines for the terminal."""
    vis = report["visibility"]
    lines = [
        f"  tracked {report['tracked_fraction']:.0%} of {report['frames']} frames at {report['fps']:g} fps; "
        f"visibility: trunk {vis['mean']:.2f} (10th percentile {vis['p10']:.2f}), limbs {vis['limbs_mean']:.2f}; "
        f"left/right swaps fixed: {report['left_right_swaps_fixed']}",
    ]
    for cut in report["cuts"]:
        lines.append(f"  cut: {cut['start_s']:.2f}-{cut['end_s']:.2f} s (person lost or stretch too short)")
    for c in report["clips"]:
        lines.append(
            f"  clip {c['part']}: {c['start_s']:.2f}-{c['end_s']:.2f} s, {c['frames_20fps']} frames at 20 fps, "
            f"{c['filled_frames']} filled; detector bone-length variation {c['bone_cv_median']:.1%} median "
            f"({c['bone_cv_max']:.1%} worst bone); foot skating {c['skating_before_lock']:.2f} -> {c['skating']:.2f} "
            f"after locking; root path {c['root_path_m']:.1f} m, floor tilt {c['floor_tilt_deg']:.1f}°"
        )
    lines.append("  verdict: " + ("usable" if report["usable"] else
                                  "check the overlay: little tracking, low confidence or an unstable body"))
    return lines


def write_overlay(track: PoseTrack, frames: dict[int, np.ndarray], path: str | Path, start_s: float = 0.0) -> Path:
    """A PNG grid of the kept source frames with the detected 2-D skeleton drawn over each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    path = Path(path)
    keys = sorted(k for k in frames if k < track.num_frames)
    cols = min(COLUMNS, max(len(keys), 1))
    rows = max(1, int(np.ceil(len(keys) / cols)))
    aspect = track.height / max(track.width, 1)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * aspect * rows + 0.3), dpi=80, squeeze=False)
    tracked = track.tracked()
    try:
        for ax in axes.flat:
            ax.set_axis_off()
        for ax, k in zip(axes.flat, keys, strict=False):
            ax.imshow(frames[k])
            if tracked[k]:
                pts, vis = track.image[k], track.visibility[k]
                segs = [pts[[a, b]] for a, b, _ in OVERLAY_EDGES]
                colors = [SIDE_COLORS[s] for _, _, s in OVERLAY_EDGES]
                alpha = [float(np.clip(min(vis[a], vis[b]), 0.2, 1.0)) for a, b, _ in OVERLAY_EDGES]
                ax.add_collection(LineCollection(segs, colors=colors, linewidths=2.0, alpha=alpha))
                ax.set_title(f"{start_s + k / track.fps:.2f} s  vis {vis[[11, 12, 23, 24]].mean():.2f}", fontsize=8)
            else:
                ax.set_title(f"{start_s + k / track.fps:.2f} s  not tracked", fontsize=8, color="#d62728")
            ax.set_xlim(0, track.width)
            ax.set_ylim(track.height, 0)
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)
    return path
