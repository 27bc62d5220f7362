"""Post-processing shared by all importers: units, up axis, T-pose frames, 20 fps, floor, validation."""

from __future__ import annotations

import numpy as np

from choreo.errors import ChoreoError
from choreo.skeleton import CANONICAL_BONE_LENGTHS, FOOT_JOINTS, FPS, JOINT_NAMES

_J = {n: i for i, n in enumerate(JOINT_NAMES)}
# Hip -> knee -> ankle of the canonical skeleton, averaged over both sides (0.821 m).
CANONICAL_LEG = float((CANONICAL_BONE_LENGTHS[[4, 7]].sum() + CANONICAL_BONE_LENGTHS[[5, 8]].sum()) / 2)
# An adult's hip-to-ankle length lies in this range; it decides the unit of a file without one.
PLAUSIBLE_LEG_M = (0.65, 1.1)
UNIT_SCALES = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254, "dm": 0.1}
MIN_FRAMES = 2
HEIGHT_RANGE_M = (0.5, 2.5)


def leg_length(joints: np.ndarray) -> float:
    """Median hip->knee->ankle length over frames and both sides (file units)."""
    legs = []
    for hip, knee, ankle in (
        ("left_hip", "left_knee", "left_ankle"),
        ("right_hip", "right_knee", "right_ankle"),
    ):
        a, b, c = joints[:, _J[hip]], joints[:, _J[knee]], joints[:, _J[ankle]]
        legs.append(np.linalg.norm(b - a, axis=-1) + np.linalg.norm(c - b, axis=-1))
    return float(np.median(np.concatenate(legs)))


def metric_scale(joints: np.ndarray, unitless: bool = False) -> tuple[float, str]:
    """Factor to metres and the rule used.

    The first unit (m, cm, mm, in, dm) that makes the leg an adult's leg wins; a body that fits none,
    or a file known to have no metric scale (`unitless`), is scaled so its leg is the canonical leg.
    """
    leg = leg_length(joints)
    if leg <= 0:
        raise ValueError("legs have zero length")
    if not unitless:
        for unit, scale in UNIT_SCALES.items():
            if PLAUSIBLE_LEG_M[0] <= leg * scale <= PLAUSIBLE_LEG_M[1]:
                return scale, unit
    return CANONICAL_LEG / leg, "canonical_leg"


def to_y_up(joints: np.ndarray) -> tuple[np.ndarray, str]:
    """Rotate Z-up data to Y-up (a proper rotation, so left stays left); returns (joints, detected up)."""
    spine = np.median(joints[:, _J["head"]] - joints[:, _J["pelvis"]], axis=0)
    axis = int(np.argmax(np.abs(spine)))
    if axis == 2:
        sign = np.sign(spine[2])
        # (x, y, z) -> (x, z, -y) for +Z up; (x, -z, y) for -Z up: rotations about X.
        out = np.stack([joints[..., 0], sign * joints[..., 2], -sign * joints[..., 1]], axis=-1)
        return out, "+Z" if sign > 0 else "-Z"
    if axis == 1 and spine[1] < 0:
        return np.stack([joints[..., 0], -joints[..., 1], -joints[..., 2]], axis=-1), "-Y"
    return joints, "+Y" if axis == 1 else "?"


def is_tpose(joints: np.ndarray, tolerance_deg: float = 20.0) -> np.ndarray:
    """Per frame: are both arms straight and horizontal, pointing sideways (a T-pose)?"""
    ok = np.ones(joints.shape[0], dtype=bool)
    across = joints[:, _J["left_shoulder"]] - joints[:, _J["right_shoulder"]]
    across /= np.maximum(np.linalg.norm(across, axis=-1, keepdims=True), 1e-9)
    cos_tol = np.cos(np.deg2rad(tolerance_deg))
    for side, sign in (("left", 1.0), ("right", -1.0)):
        sh, el, wr = (joints[:, _J[f"{side}_{p}"]] for p in ("shoulder", "elbow", "wrist"))
        upper, lower = el - sh, wr - el
        upper_n = upper / np.maximum(np.linalg.norm(upper, axis=-1, keepdims=True), 1e-9)
        lower_n = lower / np.maximum(np.linalg.norm(lower, axis=-1, keepdims=True), 1e-9)
        ok &= np.sum(upper_n * lower_n, -1) > cos_tol  # elbow straight
        ok &= np.sum(upper_n * across, -1) * sign > cos_tol  # sideways, level with the shoulders
    return ok


# A leading frame whose pose jumps by more than this many times the clip's median per-frame change is
# a calibration frame or the blend out of one (salsa files: 3 frames blending from the added T-pose,
# jumps 8-14x the median), within the first half second.
LEADING_JUMP_FACTOR = 5.0
LEADING_WINDOW_S = 0.5


def drop_leading_tpose(joints: np.ndarray, fps: float) -> tuple[np.ndarray, int]:
    """Remove T-pose frames and the jumpy blend out of them at the start. Keeps >= 2 frames."""
    t = joints.shape[0]
    if t < 4:
        return joints, 0
    flags = is_tpose(joints)
    rel = joints - joints[:, :1]
    jump = np.linalg.norm(np.diff(rel, axis=0), axis=-1).max(axis=-1)
    flags[:-1] |= jump > LEADING_JUMP_FACTOR * max(float(np.median(jump)), 1e-9)
    limit = min(int(LEADING_WINDOW_S * fps) + 1, t - 2)
    n = 0
    while n < limit and flags[n]:
        n += 1
    return joints[n:], n


def resample(joints: np.ndarray, fps_in: float, fps_out: float = FPS) -> np.ndarray:
    """Resample positions: decimate for integer ratios, else linear interpolation over time."""
    if abs(fps_in - fps_out) < 1e-6:
        return joints
    ratio = fps_in / fps_out
    if abs(ratio - round(ratio)) < 1e-6 and ratio >= 1:
        return joints[:: int(round(ratio))]
    t_in = np.arange(joints.shape[0]) / fps_in
    t_out = np.arange(int(np.floor(t_in[-1] * fps_out + 1e-9)) + 1) / fps_out
    flat = joints.reshape(joints.shape[0], -1)
    out = np.stack([np.interp(t_out, t_in, flat[:, k]) for k in range(flat.shape[1])], axis=-1)
    return out.reshape((len(t_out),) + joints.shape[1:])


def put_on_floor(joints: np.ndarray) -> np.ndarray:
    """Shift vertically so the lowest foot-joint height over the clip is 0."""
    return joints - np.array([0.0, joints[:, list(FOOT_JOINTS), 1].min(), 0.0])


def validate(joints: np.ndarray, source: str) -> None:
    """ChoreoError naming `source` unless the clip is finite, long enough and of human size."""
    if not np.all(np.isfinite(joints)):
        raise ChoreoError(f"{source}: motion contains NaN or infinite values")
    if joints.shape[0] < MIN_FRAMES:
        raise ChoreoError(
            f"{source}: only {joints.shape[0]} frame(s) at {FPS:g} fps; need at least {MIN_FRAMES}"
        )
    height = standing_height(joints)
    if not HEIGHT_RANGE_M[0] <= height <= HEIGHT_RANGE_M[1]:
        raise ChoreoError(
            f"{source}: body is {height:.2f} m tall after unit conversion, expected "
            f"{HEIGHT_RANGE_M[0]}-{HEIGHT_RANGE_M[1]} m (wrong units or joint map?)"
        )


def standing_height(joints: np.ndarray) -> float:
    """Body height estimated from bone lengths (ankle->knee->hip->pelvis->spine->neck->head) plus feet.

    Pose-independent: the median over frames of the summed chain lengths, plus ~12% for the skull top
    above the head joint and the ankle height.
    """
    chain = ["left_ankle", "left_knee", "left_hip", "pelvis", "spine1", "spine2", "spine3", "neck", "head"]
    pts = joints[:, [_J[n] for n in chain]]
    length = np.linalg.norm(np.diff(pts, axis=1), axis=-1).sum(axis=1)
    return float(np.median(length) * 1.12)


def finish(
    joints: np.ndarray, fps_in: float, source: str, *, drop_tpose: bool = False
) -> tuple[np.ndarray, dict]:
    """Common tail of every importer for metric Y-up joints: T-pose frames, 20 fps, floor, checks."""
    info: dict = {"source_fps": float(fps_in)}
    if not np.all(np.isfinite(joints)):
        raise ChoreoError(f"{source}: motion contains NaN or infinite values")
    if drop_tpose:
        joints, info["dropped_tpose_frames"] = drop_leading_tpose(joints, fps_in)
    joints = resample(joints, fps_in)
    joints = put_on_floor(joints)
    validate(joints, source)
    return joints.astype(np.float32), info
