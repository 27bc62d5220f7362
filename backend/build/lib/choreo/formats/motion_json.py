"""`motion.json`: one clip as the setup guide's motion format plus metadata.

    {"format": "choreo.motion/1", "fps": 20, "skeleton": {"joints": [...22 names], "parents": [...]},
     "units": "m", "up": "y", "text": "...", "style": "...", "num_frames": T,
     "motion": [frames][22][3]}

One file holds one clip, so every consumer of the guide's format (which reads `motion` as
[frames][joints][3]) understands every file. Several samples go to several files: `motion.json` for
sample 0, then `motion_01.json`, `motion_02.json`, ... (see `sample_file_name`).

The reader also accepts a bare `{"motion": ...}` object and the guide's training list
`[{"motion": ..., "text": ..., "style": ...}, ...]`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError
from choreo.json_file import read_json
from choreo.motion import Motion
from choreo.skeleton import FPS, JOINT_NAMES, NUM_JOINTS, PARENTS

MOTION_JSON_FORMAT = "choreo.motion/1"
_DECIMALS = 5  # 0.01 mm: far below capture noise, keeps files about half the size of full floats


def sample_file_name(stem: str, index: int, suffix: str) -> str:
    """`motion.json` for sample 0, `motion_01.json` for sample 1, ... (the same scheme for .bvh)."""
    return f"{stem}{suffix}" if index == 0 else f"{stem}_{index:02d}{suffix}"


def motion_to_dict(motion: Motion) -> dict:
    """The JSON object of one clip."""
    return {
        "format": MOTION_JSON_FORMAT,
        "fps": float(motion.fps),
        "skeleton": {"joints": list(JOINT_NAMES), "parents": list(PARENTS)},
        "units": "m",
        "up": "y",
        "text": motion.text,
        "style": motion.style,
        "num_frames": motion.num_frames,
        "motion": np.round(motion.joints.astype(np.float64), _DECIMALS).tolist(),
    }


def write_motion_json(motion: Motion, path: str | Path) -> Path:
    """Write one clip as motion JSON and return its path."""
    path = Path(path)
    path.write_text(json.dumps(motion_to_dict(motion), separators=(",", ":")))
    return path


def _motion_from_object(obj: object, where: str) -> Motion:
    if not isinstance(obj, dict) or "motion" not in obj:
        raise ChoreoError(f"{where}: expected an object with a 'motion' field")
    fmt = obj.get("format", MOTION_JSON_FORMAT)
    if not str(fmt).startswith("choreo.motion/"):
        raise ChoreoError(f"{where}: unknown format {fmt!r} (expected {MOTION_JSON_FORMAT})")
    try:
        joints = np.asarray(obj["motion"], dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise ChoreoError(f"{where}: 'motion' must be a [frames][22][3] array of numbers") from exc
    if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3) or joints.shape[0] < 1:
        raise ChoreoError(f"{where}: 'motion' must be [frames][22][3], got {list(joints.shape)}")
    if not np.all(np.isfinite(joints)):
        raise ChoreoError(f"{where}: 'motion' contains NaN or infinite values")
    fps = obj.get("fps", FPS)
    if not isinstance(fps, int | float) or isinstance(fps, bool) or not math.isfinite(fps) or fps <= 0:
        raise ChoreoError(f"{where}: 'fps' must be a positive number, got {fps!r}")
    joint_names = obj.get("skeleton", {}).get("joints") if isinstance(obj.get("skeleton"), dict) else None
    if joint_names is not None and list(joint_names) != list(JOINT_NAMES):
        raise ChoreoError(f"{where}: skeleton joints differ from choreo's 22-joint skeleton")
    if obj.get("units", "m") != "m":
        raise ChoreoError(f"{where}: units {obj.get('units')!r} not supported (expected 'm')")
    return Motion(joints=joints, fps=float(fps), text=str(obj.get("text", "")),
                  style=str(obj.get("style", "")), source=where)


def read_motion_json(path: str | Path) -> list[Motion]:
    """Read a motion JSON file (one clip) or a list of clips; validates shape, values and fps."""
    path = Path(path)
    data = read_json(path)
    if isinstance(data, list):
        if not data:
            raise ChoreoError(f"{path}: the list holds no clips")
        return [_motion_from_object(item, f"{path}[{i}]") for i, item in enumerate(data)]
    return [_motion_from_object(data, str(path))]
