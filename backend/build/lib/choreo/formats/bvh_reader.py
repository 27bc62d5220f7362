"""BVH files of any rig: parse HIERARCHY/MOTION and compute world positions of every joint and End Site.

Joints keep the rig's own names; End Sites are named "<parent joint>/End". Units and axes are the file's
own: `choreo.importers` maps names to our 22 joints, converts units and puts the body on the floor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError

END_SUFFIX = "/End"
_AXIS_INDEX = {"X": 0, "Y": 1, "Z": 2}


@dataclass
class BvhFile:
    """A parsed BVH: one entry per joint (End Sites included, they have no channels)."""

    path: str
    names: list[str]
    parents: list[int]
    offsets: np.ndarray  # [J,3] rest offset from the parent, file units
    channels: list[list[str]]  # per joint, e.g. ["Xposition", ..., "Zrotation"]
    frame_time: float
    values: np.ndarray  # [T, total channels]
    channel_start: list[int] = field(default_factory=list)  # first column of each joint in `values`

    @property
    def num_frames(self) -> int:
        return int(self.values.shape[0])


def axis_rotations(angles_rad: np.ndarray, axis: str) -> np.ndarray:
    """Rotation matrices [...,3,3] about one axis ("X", "Y" or "Z")."""
    c, s = np.cos(angles_rad), np.sin(angles_rad)
    one, zero = np.ones_like(c), np.zeros_like(c)
    if axis == "X":
        rows = ((one, zero, zero), (zero, c, -s), (zero, s, c))
    elif axis == "Y":
        rows = ((c, zero, s), (zero, one, zero), (-s, zero, c))
    else:
        rows = ((c, -s, zero), (s, c, zero), (zero, zero, one))
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def euler_to_matrices(angles_deg: np.ndarray, order: str) -> np.ndarray:
    """Intrinsic Euler rotation: angles_deg [...,k] about the axes in `order` (e.g. "ZXY"), left to right.

    R = R_order[0] @ R_order[1] @ ... — the BVH convention (first listed channel is the outermost).
    """
    out = None
    for k, axis in enumerate(order):
        r = axis_rotations(np.deg2rad(angles_deg[..., k]), axis)
        out = r if out is None else out @ r
    return out


def _fail(path: str | Path, problem: str) -> ChoreoError:
    return ChoreoError(f"{path}: {problem}")


def parse_bvh(path: str | Path) -> BvhFile:
    """Read a BVH file; raises ChoreoError naming the file for anything malformed or truncated."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise _fail(path, f"cannot read BVH file ({exc.strerror or exc})") from exc
    head, sep, motion = text.partition("MOTION")
    if not sep or "HIERARCHY" not in head:
        raise _fail(path, "not a BVH file (needs a HIERARCHY and a MOTION section)")

    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[list[str]] = []
    stack: list[int] = []
    pending: int | None = None  # joint declared, waiting for its "{"
    for lineno, raw in enumerate(head.splitlines(), start=1):
        line = raw.strip()
        if not line or line == "HIERARCHY":
            continue
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        try:
            if word in ("ROOT", "JOINT") or line.startswith("End Site"):
                if word == "ROOT" and stack:
                    raise ValueError("ROOT inside another joint")
                parent = stack[-1] if stack else -1
                name = names[parent] + END_SUFFIX if line.startswith("End") else rest.rstrip("{").strip()
                if not name:
                    raise ValueError("joint without a name")
                names.append(name)
                parents.append(parent)
                offsets.append([0.0, 0.0, 0.0])
                channels.append([])
                pending = len(names) - 1
                if line.endswith("{"):
                    stack.append(pending)
                    pending = None
            elif line == "{":
                if pending is None:
                    raise ValueError("unexpected '{'")
                stack.append(pending)
                pending = None
            elif line == "}":
                if not stack:
                    raise ValueError("unbalanced '}'")
                stack.pop()
            elif word == "OFFSET":
                offsets[stack[-1]] = [float(v) for v in rest.split()[:3]]
                if len(rest.split()) < 3:
                    raise ValueError("OFFSET needs 3 numbers")
            elif word == "CHANNELS":
                parts = rest.split()
                n = int(parts[0])
                if len(parts) != n + 1:
                    raise ValueError(f"CHANNELS says {n} but lists {len(parts) - 1}")
                for ch in parts[1:]:
                    if ch[0].upper() not in _AXIS_INDEX or ch[1:].lower() not in ("position", "rotation"):
                        raise ValueError(f"unknown channel {ch!r}")
                channels[stack[-1]] = parts[1:]
            else:
                raise ValueError(f"unexpected {line[:40]!r}")
        except (ValueError, IndexError) as exc:
            raise _fail(path, f"bad HIERARCHY at line {lineno}: {exc}") from exc
    if not names or stack:
        raise _fail(path, "HIERARCHY is empty or its braces are not balanced (truncated file?)")

    lines = motion.strip().splitlines()
    try:
        num_frames = int(lines[0].split(":")[1])
        frame_time = float(lines[1].split(":")[1])
    except (IndexError, ValueError) as exc:
        raise _fail(path, "MOTION section lacks 'Frames:' and 'Frame Time:' lines") from exc
    if frame_time <= 0:
        raise _fail(path, f"Frame Time must be positive, got {frame_time}")
    starts, total = [], 0
    for ch in channels:
        starts.append(total)
        total += len(ch)
    try:
        flat = np.array(" ".join(lines[2:]).split(), dtype=np.float64)
    except ValueError as exc:
        raise _fail(path, f"MOTION data holds a non-number ({exc})") from exc
    if flat.size != num_frames * total:
        have = flat.size / total if total else 0
        raise _fail(
            path,
            f"MOTION data has {have:.1f} frames of {total} channels, header says {num_frames} "
            "(truncated or corrupt file)",
        )
    if num_frames < 1:
        raise _fail(path, "BVH has no frames")
    values = flat.reshape(num_frames, total)
    if not np.all(np.isfinite(values)):
        raise _fail(path, "MOTION data contains NaN or infinite values")
    return BvhFile(
        str(path), names, parents, np.array(offsets, dtype=np.float64), channels, frame_time, values, starts
    )


def world_positions(bvh: BvhFile) -> np.ndarray:
    """World positions [T, J, 3] of every joint and End Site by forward kinematics (file units/axes)."""
    t = bvh.num_frames
    num = len(bvh.names)
    pos = np.zeros((t, num, 3))
    rot = np.zeros((t, num, 3, 3))
    for j in range(num):
        ch = bvh.channels[j]
        cols = bvh.values[:, bvh.channel_start[j] : bvh.channel_start[j] + len(ch)]
        local_t = np.broadcast_to(bvh.offsets[j], (t, 3)).copy()
        pos_idx = [k for k, c in enumerate(ch) if c.lower().endswith("position")]
        if pos_idx:
            trans = np.zeros((t, 3))
            for k in pos_idx:
                trans[:, _AXIS_INDEX[ch[k][0].upper()]] = cols[:, k]
            # Exporters differ: some write positions relative to the rest offset (Reallusion root), some
            # absolute (then the values sit near the offset). Treat values near the offset as absolute.
            off = bvh.offsets[j]
            absolute = bvh.parents[j] >= 0 and np.linalg.norm(
                np.median(trans, 0) - off
            ) < 0.1 * np.linalg.norm(off)
            local_t = trans if absolute else local_t + trans
        rot_idx = [k for k, c in enumerate(ch) if c.lower().endswith("rotation")]
        if rot_idx:
            local_r = euler_to_matrices(cols[:, rot_idx], "".join(ch[k][0].upper() for k in rot_idx))
        else:
            local_r = np.broadcast_to(np.eye(3), (t, 3, 3))
        p = bvh.parents[j]
        if p < 0:
            pos[:, j] = local_t
            rot[:, j] = local_r
        else:
            pos[:, j] = pos[:, p] + np.einsum("tij,tj->ti", rot[:, p], local_t)
            rot[:, j] = rot[:, p] @ local_r
    return pos
