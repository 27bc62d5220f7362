"""`preview.mp4`: a stick-figure video of one or more clips, cheap enough to write after every generation.

Each clip is drawn in its own panel, side by side (at most `MAX_COLUMNS` a row, more rows below), all in
one video: the five kinematic chains as coloured polylines in a fixed oblique orthographic view (seen
from the front-right, slightly above), a floor grid, the prompt as the title and a frame counter. As in
MDM's videos the body stays centred: the root's horizontal position is subtracted every frame and the
floor grid moves instead, so travel shows as a moving floor. Clips shorter than the longest hold their
last pose. Frames are drawn by matplotlib (Agg, blitting only the moving lines) and piped to the ffmpeg
binary of imageio-ffmpeg as H.264 yuv420p, which browsers play.
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

from choreo import fonts  # noqa: E402
from choreo.errors import ChoreoError  # noqa: E402
from choreo.motion import Motion  # noqa: E402
from choreo.skeleton import KINEMATIC_CHAINS  # noqa: E402

# One colour per chain: right leg, left leg, spine+head, right arm, left arm (right = warm, left = cool).
CHAIN_COLORS = ("#d62728", "#1f77b4", "#333333", "#ff7f0e", "#17becf")
VIEW_YAW_DEG = 30.0
VIEW_PITCH_DEG = 15.0
MAX_COLUMNS = 4
PANEL_INCHES = (2.4, 3.0)
DPI = 100
GRID_STEP_M = 0.5
GRID_HALF_EXTENT_M = 1.0


def view_matrix(yaw_deg: float = VIEW_YAW_DEG, pitch_deg: float = VIEW_PITCH_DEG) -> np.ndarray:
    """World -> view rotation: turn about Y (yaw), then tilt about X (pitch); screen = view x, y."""
    yaw, pitch = np.deg2rad(yaw_deg), np.deg2rad(pitch_deg)
    ry = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    rx = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
    return rx @ ry


def project(points: np.ndarray, view: np.ndarray | None = None) -> np.ndarray:
    """Orthographic screen coordinates [...,2] of world points [...,3] (metres)."""
    view = view_matrix() if view is None else view
    return (points @ view.T)[..., :2]


def centred_joints(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Joints with each frame's root x,z removed, and the floor height (lowest joint of the clip)."""
    out = joints.astype(np.float64).copy()
    out[..., [0, 2]] -= out[:, :1, [0, 2]]
    return out, float(joints[..., 1].min())


def chain_points(frame_joints: np.ndarray) -> list[np.ndarray]:
    """The five chain polylines [len(chain), 3] of one frame [22,3]."""
    return [frame_joints[list(chain)] for chain in KINEMATIC_CHAINS]


def floor_segments(root_xz: np.ndarray, floor_y: float) -> np.ndarray:
    """Grid lines [K,2,3] on the floor around the origin, shifted against the root so the floor moves."""
    ticks = np.arange(-GRID_HALF_EXTENT_M, GRID_HALF_EXTENT_M + 1e-9, GRID_STEP_M)
    # Lines snap to the grid so they slide under the body instead of travelling with it.
    shift = root_xz - np.round(root_xz / GRID_STEP_M) * GRID_STEP_M
    segs = []
    for v in ticks:
        segs.append([[v, floor_y, -GRID_HALF_EXTENT_M], [v, floor_y, GRID_HALF_EXTENT_M]])
        segs.append([[-GRID_HALF_EXTENT_M, floor_y, v], [GRID_HALF_EXTENT_M, floor_y, v]])
    segs = np.array(segs)
    segs[..., 0] -= shift[0]
    segs[..., 2] -= shift[1]
    return segs


def _panel_limits(centred: list[np.ndarray], floors: list[float]) -> tuple[tuple, tuple]:
    """Axis limits that fit every body (the floor grid is clipped at the panel edges), in panel aspect."""
    pts = np.concatenate([project(c.reshape(-1, 3)) for c in centred])
    pts = np.concatenate([pts, project(np.array([[0.0, min(floors), 0.0]]))])
    lo, hi = pts.min(0), pts.max(0)
    aspect = PANEL_INCHES[1] / PANEL_INCHES[0]
    half = max(hi[0] - lo[0], (hi[1] - lo[1]) / aspect, 1.2) / 2 * 1.15  # at least 1.2 m wide, a margin
    centre = (lo + hi) / 2
    return (centre[0] - half, centre[0] + half), (centre[1] - half * aspect, centre[1] + half * aspect)


def _ffmpeg_command(path: Path, width: int, height: int, fps: float) -> list[str]:
    import imageio_ffmpeg

    return [
        imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error",
        "-f", "rawvideo", "-pix_fmt", "rgba", "-s", f"{width}x{height}", "-r", f"{fps:g}", "-i", "-",
        "-an", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-preset", "veryfast",
        "-crf", "23", "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path),
    ]


def write_preview_video(
    motions: Sequence[Motion], path: str | Path, title: str = "", labels: Sequence[str] | None = None
) -> Path:
    """Render the clips side by side into one H.264 MP4 at the first clip's fps; returns the path."""
    if not motions:
        raise ChoreoError("preview video: no motions to draw")
    path = Path(path)
    fps = motions[0].fps
    frames = max(m.num_frames for m in motions)
    labels = list(labels) if labels is not None else ([f"sample {i}" for i in range(len(motions))]
                                                      if len(motions) > 1 else [""])
    cols = min(len(motions), MAX_COLUMNS)
    rows = -(-len(motions) // cols)
    title_inches = 0.5
    # Korean prompts and labels: drawn with the CJK font as fallback, or without what no font has (fonts.py).
    title, labels = fonts.drawable(title), [fonts.drawable(x) for x in labels]
    with fonts.matplotlib_text(title, *labels):
        fig = plt.figure(figsize=(PANEL_INCHES[0] * cols, PANEL_INCHES[1] * rows + title_inches), dpi=DPI)
        try:
            fig.suptitle("\n".join(textwrap.wrap(title, 60)[:2]), fontsize=9)
            counter = fig.text(0.99, 0.005, "", ha="right", va="bottom", fontsize=8, animated=True)
            centred, floors = zip(*(centred_joints(m.joints) for m in motions), strict=True)
            xlim, ylim = _panel_limits(list(centred), list(floors))
            panels = []
            top = 1 - title_inches / (PANEL_INCHES[1] * rows + title_inches)
            for i, m in enumerate(motions):
                r, c = divmod(i, cols)
                ax = fig.add_axes((c / cols, top - (r + 1) * top / rows, 1 / cols, top / rows))
                ax.set_xlim(*xlim)
                ax.set_ylim(*ylim)
                ax.set_axis_off()
                ax.text(0.5, 0.98, labels[i] if i < len(labels) else "", transform=ax.transAxes,
                        ha="center", va="top", fontsize=8)
                grid = LineCollection([], colors="#bbbbbb", linewidths=0.8, animated=True)
                ax.add_collection(grid)
                lines = [ax.plot([], [], color=col, lw=2.5, solid_capstyle="round", animated=True)[0]
                         for col in CHAIN_COLORS]
                panels.append((ax, grid, lines, m.joints[:, 0, [0, 2]].astype(np.float64)))
            fig.canvas.draw()
            background = fig.canvas.copy_from_bbox(fig.bbox)
            width, height = fig.canvas.get_width_height()
            proc = subprocess.Popen(_ffmpeg_command(path, width, height, fps), stdin=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            try:
                for t in range(frames):
                    fig.canvas.restore_region(background)
                    for (ax, grid, lines, root_xz), joints, floor in zip(panels, centred, floors, strict=True):
                        k = min(t, len(joints) - 1)  # short clips hold their last pose
                        grid.set_segments(list(project(floor_segments(root_xz[k], floor))))
                        ax.draw_artist(grid)
                        for line, pts in zip(lines, chain_points(joints[k]), strict=True):
                            xy = project(pts)
                            line.set_data(xy[:, 0], xy[:, 1])
                            ax.draw_artist(line)
                    counter.set_text(f"frame {t + 1}/{frames}")
                    fig.draw_artist(counter)
                    proc.stdin.write(np.asarray(fig.canvas.buffer_rgba()).tobytes())
            except BrokenPipeError:
                pass  # ffmpeg died; its message is reported below
            finally:
                proc.stdin.close()
                err = proc.stderr.read().decode(errors="replace")
                proc.stderr.close()
                proc.wait()
        finally:
            plt.close(fig)
    if proc.returncode != 0:
        raise ChoreoError(f"preview video: ffmpeg failed: {err.strip().splitlines()[-1:] or 'no message'}")
    return path
