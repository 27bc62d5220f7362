"""AIST++ motion pickles (`smpl_poses` [T,72] axis-angle, `smpl_trans` [T,3], `smpl_scaling` [1]) -> joints.

Positions come from forward kinematics with SMPL rest offsets that the user provides as JSON
({"names": [...], "parents": [...], "offsets": [[x,y,z], ...]}, 24 SMPL joints, metres, Y up): this
project ships no SMPL numbers. Pickles run code when loaded, so they are read only with allow_pickle=True.
AIST++ is 60 fps, Y up; translation is divided by the scaling.
"""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from choreo.errors import ChoreoError
from choreo.formats import cleanup
from choreo.motion import Motion
from choreo.skeleton import JOINT_NAMES, NUM_JOINTS

AIST_FPS = 60.0
OFFSETS_FORMAT = (
    'a JSON file {"names": [24 SMPL joint names], "parents": [24 ints, -1 for the root], '
    '"offsets": [24 [x, y, z] rest offsets from the parent, metres, Y up]} (e.g. the SMPL neutral offsets '
    "published with the EDGE dance model)"
)
# AIST++ genre codes in file names (gBR_sBM_cAll_d04_mBR0_ch01).
GENRES = {
    "gBR": "break",
    "gPO": "pop",
    "gLO": "lock",
    "gMH": "middle hip-hop",
    "gLH": "LA hip-hop",
    "gHO": "house",
    "gWA": "waack",
    "gKR": "krump",
    "gJS": "street jazz",
    "gJB": "ballet jazz",
}
SITUATIONS = {"sBM": "basic", "sFM": "advanced"}
_AIST_NAME = re.compile(r"^(g[A-Z]{2})_(s[A-Z]{2})_c\w+?_(d\d+)_(m\w+?)_(ch\d+)")


def read_offsets(path: str | Path | None, source: Path) -> tuple[np.ndarray, np.ndarray]:
    """Rest offsets [22,3] and parents [22] in our joint order, from the user's SMPL offsets JSON."""
    if path is None:
        raise ChoreoError(
            f"{source}: AIST++ poses need SMPL rest offsets: pass --smpl-offsets FILE, {OFFSETS_FORMAT}"
        )
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        names = [str(n) for n in data.get("names", JOINT_NAMES)]
        parents = [int(p) for p in data["parents"]]
        offsets = np.asarray(data["offsets"], dtype=np.float64)
    except OSError as exc:
        raise ChoreoError(
            f"{path}: cannot read SMPL offsets ({exc.strerror or exc}); expected {OFFSETS_FORMAT}"
        ) from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ChoreoError(f"{path}: not an SMPL offsets file ({exc}); expected {OFFSETS_FORMAT}") from exc
    if (
        offsets.ndim != 2
        or offsets.shape[1] != 3
        or len(offsets) < NUM_JOINTS
        or len(parents) != len(offsets)
    ):
        raise ChoreoError(
            f"{path}: need at least {NUM_JOINTS} offsets [x,y,z] with parents; {OFFSETS_FORMAT}"
        )
    missing = [n for n in JOINT_NAMES if n not in names[:NUM_JOINTS]]
    if missing:
        raise ChoreoError(f"{path}: first {NUM_JOINTS} names lack {', '.join(missing)}; {OFFSETS_FORMAT}")
    if names[:NUM_JOINTS] != list(JOINT_NAMES) or any(p >= j for j, p in enumerate(parents[:NUM_JOINTS])):
        raise ChoreoError(
            f"{path}: joints must be in SMPL order with parents before children; {OFFSETS_FORMAT}"
        )
    return offsets[:NUM_JOINTS], np.asarray(parents[:NUM_JOINTS])


def smpl_forward_kinematics(
    poses: np.ndarray, trans: np.ndarray, offsets: np.ndarray, parents: np.ndarray
) -> np.ndarray:
    """Joints [T,22,3] from axis-angle poses [T,>=22*3], root translation [T,3], rest offsets [22,3]."""
    t = poses.shape[0]
    local = (
        Rotation.from_rotvec(poses[:, : NUM_JOINTS * 3].reshape(-1, 3))
        .as_matrix()
        .reshape(t, NUM_JOINTS, 3, 3)
    )
    rot = np.zeros_like(local)
    pos = np.zeros((t, NUM_JOINTS, 3))
    for j in range(NUM_JOINTS):
        p = parents[j]
        if p < 0:
            rot[:, j] = local[:, j]
            pos[:, j] = trans + offsets[j]
        else:
            rot[:, j] = rot[:, p] @ local[:, j]
            pos[:, j] = pos[:, p] + np.einsum("tij,j->ti", rot[:, p], offsets[j])
    return pos


def labels(path: Path) -> dict[str, str]:
    """Style, text and performance from an AIST++ file name (same dancer, music and choreography)."""
    m = _AIST_NAME.match(path.stem)
    if not m:
        return {"performance": path.stem}
    genre, situation, dancer, music, choreo = m.groups()
    style = GENRES.get(genre, genre)
    text = f"{style} dance, {SITUATIONS.get(situation, situation)}"
    return {"style": style, "text": text, "performance": f"aist_{genre}_{dancer}_{music}_{choreo}"}


def load(
    path: Path, allow_pickle: bool = False, smpl_offsets: str | Path | None = None, fps: float | None = None
) -> Motion:
    if not allow_pickle:
        raise ChoreoError(
            f"{path}: AIST++ motion files are Python pickles, and unpickling runs code from the file; "
            "pass --allow-pickle (CLI) / allow_pickle=True only for files you trust"
        )
    offsets, parents = read_offsets(smpl_offsets, path)
    try:
        with path.open("rb") as fh:
            data = pickle.load(fh)  # noqa: S301 - explicit user opt-in above
        poses = np.asarray(data["smpl_poses"], dtype=np.float64)
        trans = np.asarray(data["smpl_trans"], dtype=np.float64)
        scaling = float(np.asarray(data.get("smpl_scaling", [1.0]), dtype=np.float64).reshape(-1)[0])
    except (
        OSError,
        pickle.UnpicklingError,
        EOFError,
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
    ) as exc:
        raise ChoreoError(
            f"{path}: not an AIST++ motion pickle with smpl_poses/smpl_trans/smpl_scaling ({exc})"
        ) from exc
    if poses.ndim != 2 or poses.shape[1] < NUM_JOINTS * 3 or trans.shape != (poses.shape[0], 3):
        raise ChoreoError(
            f"{path}: smpl_poses {list(poses.shape)} / smpl_trans {list(trans.shape)} "
            "should be [T,72] / [T,3]"
        )
    if scaling <= 0 or not np.isfinite(scaling):
        raise ChoreoError(f"{path}: smpl_scaling must be positive, got {scaling}")
    if not (np.all(np.isfinite(poses)) and np.all(np.isfinite(trans))):
        raise ChoreoError(f"{path}: motion contains NaN or infinite values")
    joints = smpl_forward_kinematics(poses, trans / scaling, offsets, parents)
    joints, info = cleanup.finish(joints, fps or AIST_FPS, str(path))
    info.update(smpl_scaling=scaling, smpl_offsets=str(smpl_offsets))
    lab = labels(path)
    return Motion(
        joints,
        text=lab.get("text", ""),
        style=lab.get("style", ""),
        source=str(path),
        performance=lab["performance"],
        meta=info,
    )
