"""HumanML3D data: a dataset root with new_joints/*.npy ([N,22,3]) and/or new_joint_vecs/*.npy ([N,263])
plus texts/<id>.txt (lines "caption#tokens#from#to"), or a single .npy of either shape. 20 fps, metres, Y up.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError
from choreo.formats import cleanup
from choreo.motion import Motion
from choreo.representation import FEATURE_DIM, features_to_joints
from choreo.skeleton import FPS, NUM_JOINTS

JOINTS_DIR = "new_joints"
VECS_DIR = "new_joint_vecs"
TEXTS_DIR = "texts"


def is_dataset_root(path: Path) -> bool:
    return (path / JOINTS_DIR).is_dir() or (path / VECS_DIR).is_dir()


def first_caption(text_file: Path) -> str:
    """The first caption of a HumanML3D text file ("caption#tokens#from#to" per line), or ""."""
    if not text_file.is_file():
        return ""
    for line in text_file.read_text(encoding="utf-8", errors="replace").splitlines():
        caption = line.split("#", 1)[0].strip()
        if caption:
            return caption
    return ""


def array_to_joints(arr: np.ndarray, source: Path) -> np.ndarray:
    """[N,22,3] joints as they are, [N,263] features through the RIC block; else ChoreoError."""
    if arr.ndim == 3 and arr.shape[1:] == (NUM_JOINTS, 3):
        return arr.astype(np.float64)
    if arr.ndim == 2 and arr.shape[1] == FEATURE_DIM:
        if not np.all(np.isfinite(arr)):
            raise ChoreoError(f"{source}: features contain NaN or infinite values")
        return features_to_joints(arr)
    raise ChoreoError(
        f"{source}: array of shape {list(arr.shape)} is neither [frames, {NUM_JOINTS}, 3] joints nor "
        f"[frames, {FEATURE_DIM}] HumanML3D features"
    )


def _read_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ChoreoError(f"{path}: .npy holds pickled objects, not a numeric array ({exc})") from exc
    except OSError as exc:
        raise ChoreoError(f"{path}: cannot read .npy ({exc})") from exc


def _clip(joints: np.ndarray, path: Path, clip_id: str, text: str, fps: float | None) -> Motion:
    joints, info = cleanup.finish(joints, fps or FPS, str(path))
    # HumanML3D's mirrored copies are "M<id>": keep them with their original in data splits.
    return Motion(
        joints, text=text, source=str(path), performance=f"humanml3d_{clip_id.lstrip('M')}", meta=info
    )


def load_npy(path: Path, fps: float | None = None) -> Motion:
    """One .npy clip; its caption comes from ../texts/<id>.txt when it sits in a HumanML3D tree."""
    joints = array_to_joints(_read_npy(path), path)
    return _clip(
        joints, path, path.stem, first_caption(path.parent.parent / TEXTS_DIR / f"{path.stem}.txt"), fps
    )


def load_dataset(root: Path, fps: float | None = None) -> list[Motion]:
    """Every clip of a HumanML3D root; joints from new_joints/ when present, else from the features."""
    files: dict[str, Path] = {}
    for sub in (VECS_DIR, JOINTS_DIR):  # later wins: joint files need no conversion
        if (root / sub).is_dir():
            files.update({p.stem: p for p in (root / sub).glob("*.npy")})
    if not files:
        raise ChoreoError(f"{root}: HumanML3D folder has no .npy clips in {JOINTS_DIR}/ or {VECS_DIR}/")
    return [
        _clip(array_to_joints(_read_npy(p), p), p, cid, first_caption(root / TEXTS_DIR / f"{cid}.txt"), fps)
        for cid, p in sorted(files.items())
    ]
