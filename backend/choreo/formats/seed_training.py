"""The setup guide's training data: a JSON list of {"motion": [frames][22][3], "text", "style"}, or an NPZ.

NPZ layouts, safest first (all read with allow_pickle=False):
  - `motions` [N, frames, 22, 3] (equal lengths), optional `texts` [N], `styles` [N] (string arrays);
  - ragged, object-free: `motions` [sum of frames, 22, 3] with `lengths` [N], or `motion_0`, `motion_1`, ...;
  - the guide's own example, `np.savez(f, data={"motions": ..., "texts": ..., "styles": ...})`, is a
    pickled dict and is read only with allow_pickle=True (unpickling runs code from the file).
Joints are ours (22, HumanML3D order), metres, Y up; 20 fps unless `fps` is given.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from choreo.errors import ChoreoError
from choreo.formats import cleanup
from choreo.motion import Motion
from choreo.skeleton import FPS, NUM_JOINTS

PICKLE_HINT = (
    "add --allow-pickle to the command (prepare-data, train, scripts/train_model.py; allow_pickle=True in "
    "Python) to load it, but unpickling runs code from the file: use it only for files you trust, or re-save "
    "as separate arrays: np.savez(f, motions=..., texts=np.array(texts), styles=np.array(styles))"
)
NPY_MAGIC = b"\x93NUMPY"


def _clip_joints(motion: Any, path: Path, index: int) -> np.ndarray:
    try:
        arr = np.asarray(motion, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise ChoreoError(
            f"{path}: clip {index}: motion is not a regular [frames][joints][3] array "
            "(frames of different length?)"
        ) from exc
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ChoreoError(
            f"{path}: clip {index}: motion has shape {list(arr.shape)}, expected [frames, 22, 3]"
        )
    if arr.shape[1] != NUM_JOINTS:
        raise ChoreoError(
            f"{path}: clip {index}: {arr.shape[1]} joints, expected {NUM_JOINTS} "
            "(our SMPL-body order; convert other skeletons with BVH import and a joint map)"
        )
    if not np.all(np.isfinite(arr)):
        raise ChoreoError(f"{path}: clip {index}: motion contains NaN or infinite values")
    if len(arr) < 2:
        raise ChoreoError(f"{path}: clip {index}: {len(arr)} frame(s); a motion needs at least 2")
    return _y_up(arr, path, index)


def _y_up(arr: np.ndarray, path: Path, index: int) -> np.ndarray:
    """The guide's joints are Y up; Z-up exports (Blender, many mocap tools) would lie on the floor, so a
    body standing along Z is turned upright, and one with no clear up axis is refused."""
    turned, up = cleanup.to_y_up(arr)
    if up == "?":
        raise ChoreoError(f"{path}: clip {index}: cannot tell which axis is up (head above pelvis along neither "
                          "Y nor Z); give joints in metres with Y up (or Z up), in our 22-joint order")
    return turned


def _labels(values: Any, n: int, name: str, path: Path) -> list[str]:
    if values is None:
        return [""] * n
    items = [str(v) for v in np.asarray(values).reshape(-1).tolist()]
    if len(items) != n:
        raise ChoreoError(f"{path}: {len(items)} {name} for {n} motions")
    return items


def _motions(
    clips: list[np.ndarray], texts: list[str], styles: list[str], path: Path, fps: float | None
) -> list[Motion]:
    out = []
    for i, (joints, text, style) in enumerate(zip(clips, texts, styles, strict=True)):
        joints, info = cleanup.finish(joints, fps or FPS, f"{path} clip {i}")
        out.append(
            Motion(
                joints,
                text=text,
                style=style,
                source=f"{path}#{i}",
                performance=f"{path.stem}_{i}",
                meta=info,
            )
        )
    if not out:
        raise ChoreoError(f"{path}: holds no motions")
    return out


def _from_columns(motions: Any, texts: Any, styles: Any, path: Path, fps: float | None) -> list[Motion]:
    """motions as [N,F,22,3] or a list of [F,22,3]."""
    if isinstance(motions, np.ndarray) and motions.dtype != object and motions.ndim == 4:
        seq = list(motions)
    elif isinstance(motions, (list, tuple)) or (isinstance(motions, np.ndarray) and motions.dtype == object):
        seq = list(motions)
    else:
        shape = list(np.shape(motions))
        raise ChoreoError(f"{path}: motions have shape {shape}, expected [clips, frames, 22, 3]")
    clips = [_clip_joints(m, path, i) for i, m in enumerate(seq)]
    return _motions(
        clips,
        _labels(texts, len(clips), "texts", path),
        _labels(styles, len(clips), "styles", path),
        path,
        fps,
    )


def load_json(path: Path, fps: float | None = None) -> list[Motion]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ChoreoError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    except json.JSONDecodeError as exc:
        raise ChoreoError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    except UnicodeDecodeError as exc:
        raise ChoreoError(f"{path}: not a JSON text file (byte {exc.start} is not UTF-8)") from None
    except RecursionError:
        raise ChoreoError(f"{path}: JSON nested too deeply to be motion data") from None
    if isinstance(data, dict) and "motions" in data:
        return _from_columns(data["motions"], data.get("texts"), data.get("styles"), path, fps)
    if not isinstance(data, list):
        raise ChoreoError(f'{path}: expected a JSON list of {{"motion": ..., "text": ..., "style": ...}}')
    clips, texts, styles = [], [], []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or "motion" not in item:
            raise ChoreoError(f'{path}: clip {i} is not an object with a "motion" field')
        clips.append(_clip_joints(item["motion"], path, i))
        texts.append(str(item.get("text", "")))
        styles.append(str(item.get("style", "")))
    return _motions(clips, texts, styles, path, fps)


def load_npz(path: Path, allow_pickle: bool = False, fps: float | None = None) -> list[Motion]:
    # np.load takes anything that is not a zip or .npy for a pickle (and then advises allow_pickle):
    # recognise the file first so a random or empty file is called what it is.
    if not zipfile.is_zipfile(path):
        raise ChoreoError(f"{path}: not an NPZ file (np.savez writes a zip archive; this file is "
                          f"{'empty' if path.stat().st_size == 0 else 'something else'})")
    try:
        npz = np.load(path, allow_pickle=allow_pickle)
    except Exception as exc:  # a damaged zip raises many types (BadZipFile, OSError, EOFError, ...)
        raise ChoreoError(f"{path}: cannot read NPZ, damaged archive ({type(exc).__name__})") from None
    with npz:
        arrays: dict[str, Any] = {}
        for key in npz.files:
            try:
                arrays[key] = npz[key]
            except ValueError as exc:
                if "allow_pickle" in str(exc):  # object arrays refuse to load without allow_pickle
                    raise ChoreoError(
                        f"{path}: array {key!r} holds a pickled Python object; {PICKLE_HINT}"
                    ) from None
                raise ChoreoError(f"{path}: array {key!r} is damaged ({str(exc).splitlines()[0][:120]})") from None
            except Exception as exc:  # damaged members: zlib.error, BadZipFile, EOFError, UnpicklingError, ...
                raise ChoreoError(f"{path}: array {key!r} is damaged ({type(exc).__name__})") from None
    if "data" in arrays and arrays["data"].dtype == object:
        data = arrays["data"].item() if arrays["data"].shape == () else arrays["data"]
        if not isinstance(data, dict) or "motions" not in data:
            raise ChoreoError(f"{path}: pickled 'data' must be a dict with 'motions', 'texts', 'styles'")
        return _from_columns(data["motions"], data.get("texts"), data.get("styles"), path, fps)
    if "motions" in arrays and "lengths" in arrays:
        try:
            lengths = np.asarray(arrays["lengths"], dtype=np.int64).reshape(-1)
        except (ValueError, TypeError):
            raise ChoreoError(f"{path}: 'lengths' must be whole numbers of frames") from None
        flat = arrays["motions"]
        if flat.ndim != 3 or len(lengths) == 0 or (lengths < 1).any():
            raise ChoreoError(f"{path}: with 'lengths', 'motions' must be [sum of frames, 22, 3] and every length "
                              f">= 1 (found motions {list(flat.shape)}, lengths {lengths.tolist()[:5]})")
        if lengths.sum() != len(flat):
            raise ChoreoError(
                f"{path}: lengths add up to {lengths.sum()} frames but motions hold {len(flat)}"
            )
        motions = np.split(flat, np.cumsum(lengths)[:-1])
    elif "motions" in arrays:
        motions = arrays["motions"]
    else:
        keys = sorted((k for k in arrays if k.startswith("motion_")), key=lambda k: int(k.split("_")[1]))
        if not keys:
            raise ChoreoError(f"{path}: NPZ has no 'motions' array (keys: {', '.join(arrays) or 'none'})")
        motions = [arrays[k] for k in keys]
    return _from_columns(motions, arrays.get("texts"), arrays.get("styles"), path, fps)


def load(path: Path, allow_pickle: bool = False, fps: float | None = None) -> list[Motion]:
    if path.suffix.lower() == ".json":
        return load_json(path, fps)
    return load_npz(path, allow_pickle, fps)
