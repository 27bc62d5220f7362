"""Geometric features (the FID_g / Div_g feature): 32 boolean pose predicates in the style of Müller,
Röder & Clausen (2005), evaluated on every frame and averaged over frames (fraction of time true).

Our own predicate set for the 22-joint skeleton (the published AIST++ set uses SMPL's 24 joints, hand
joints included, and a 120-fps time base). Distance thresholds are multiples of body dimensions of the
canonical skeleton (`HUMERUS`, `SHOULDER_WIDTH`, `HIP_WIDTH`, `LEG_LENGTH`); speed thresholds are
humerus lengths per second. Body directions come from the pose itself, so the predicates do not depend
on where the dancer faces. Frames 1..T-2 are scored (speeds use central differences).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from choreo.skeleton import CANONICAL_BONE_LENGTHS, JOINT_NAMES, PARENTS, canonical_offsets

J = {name: i for i, name in enumerate(JOINT_NAMES)}


def _rest_positions() -> np.ndarray:
    """Joint positions of the canonical skeleton's rest pose (standing, arms down)."""
    offsets = canonical_offsets()
    pos = np.zeros_like(offsets)
    for j in range(1, len(PARENTS)):
        pos[j] = pos[PARENTS[j]] + offsets[j]
    return pos


_REST = _rest_positions()
# Body dimensions of OUR canonical skeleton (metres): the unit every threshold is scaled by.
HUMERUS = float(CANONICAL_BONE_LENGTHS[[J["left_elbow"], J["right_elbow"]]].mean())  # shoulder→elbow
SHOULDER_WIDTH = float(np.linalg.norm(_REST[J["left_shoulder"]] - _REST[J["right_shoulder"]]))
HIP_WIDTH = float(np.linalg.norm(_REST[J["left_hip"]] - _REST[J["right_hip"]]))
LEG_LENGTH = float(_REST[J["pelvis"], 1] - _REST[J["left_ankle"], 1])  # pelvis to ankle, standing

UP = np.array([0.0, 1.0, 0.0])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cos = np.sum(_unit(a) * _unit(b), axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


class _Pose:
    """Per-frame quantities the predicates share (frames 1..T-2 of one window)."""

    def __init__(self, joints: np.ndarray, fps: float) -> None:
        self.p = joints[1:-1]
        self.v = (joints[2:] - joints[:-2]) * (fps / 2.0)
        # Floor: the lowest ankle/toe height of the window (windows are root-relative, not floor-relative).
        feet = [J["left_ankle"], J["left_foot"], J["right_ankle"], J["right_foot"]]
        self.floor = joints[:, feet, 1].min()
        hips_mid = 0.5 * (self.p[:, J["left_hip"]] + self.p[:, J["right_hip"]])
        self.body_up = _unit(self.p[:, J["neck"]] - hips_mid)
        across = self.p[:, J["left_hip"]] - self.p[:, J["right_hip"]]  # right → left (+X at rest)
        self.forward = _unit(np.cross(across, self.body_up))  # +Z at rest

    def pos(self, name: str) -> np.ndarray:
        return self.p[:, J[name]]

    def vel(self, name: str) -> np.ndarray:
        return self.v[:, J[name]]

    def height(self, name: str) -> np.ndarray:
        return self.p[:, J[name], 1] - self.floor


def _side_predicates(s: str) -> list[tuple[str, str, Callable[[_Pose], np.ndarray]]]:
    """The predicates that come in left/right pairs; s = "left" or "right"."""
    wrist, elbow, shoulder = f"{s}_wrist", f"{s}_elbow", f"{s}_shoulder"
    hip, knee, ankle = f"{s}_hip", f"{s}_knee", f"{s}_ankle"
    return [
        (f"{s}_hand_forward", "wrist > 0.5·humerus in front of the hip-level frontal plane",
         lambda q: np.sum((q.pos(wrist) - q.pos("pelvis")) * q.forward, -1) > 0.5 * HUMERUS),
        (f"{s}_hand_above_neck", "wrist above the neck by > 0.2·humerus along the body's up axis",
         lambda q: np.sum((q.pos(wrist) - q.pos("neck")) * q.body_up, -1) > 0.2 * HUMERUS),
        (f"{s}_hand_moving_up", "wrist rises relative to spine3 along body-up faster than 1.8·humerus/s",
         lambda q: np.sum((q.vel(wrist) - q.vel("spine3")) * q.body_up, -1) > 1.8 * HUMERUS),
        (f"{s}_elbow_bent", "angle elbow→shoulder vs elbow→wrist in [0°, 110°]",
         lambda q: _angle_deg(q.pos(shoulder) - q.pos(elbow), q.pos(wrist) - q.pos(elbow)) <= 110.0),
        (f"{s}_hand_moving_out", "wrist moves away from the pelvis faster than 1.4·humerus/s",
         lambda q: np.sum((q.vel(wrist) - q.vel("pelvis")) * _unit(q.pos(wrist) - q.pos("pelvis")), -1)
         > 1.4 * HUMERUS),
        (f"{s}_hand_fast", "wrist speed > 2.5·humerus/s",
         lambda q: np.linalg.norm(q.vel(wrist), axis=-1) > 2.5 * HUMERUS),
        (f"{s}_arm_raised", "upper arm (shoulder→elbow) ≥ 25° away from body-down",
         lambda q: _angle_deg(-q.body_up, q.pos(elbow) - q.pos(shoulder)) >= 25.0),
        (f"{s}_knee_bent", "angle knee→hip vs knee→ankle in [0°, 110°]",
         lambda q: _angle_deg(q.pos(hip) - q.pos(knee), q.pos(ankle) - q.pos(knee)) <= 110.0),
        (f"{s}_foot_lifted", "ankle > 0.5·humerus above the window's floor (lowest foot point)",
         lambda q: q.height(ankle) > 0.5 * HUMERUS),
        (f"{s}_foot_forward", "ankle > 0.5·humerus in front of the pelvis along body-forward",
         lambda q: np.sum((q.pos(ankle) - q.pos("pelvis")) * q.forward, -1) > 0.5 * HUMERUS),
        (f"{s}_foot_fast", "ankle speed > 2.5·humerus/s",
         lambda q: np.linalg.norm(q.vel(ankle), axis=-1) > 2.5 * HUMERUS),
        (f"{s}_thigh_raised", "thigh (hip→knee) ≥ 50° away from body-down",
         lambda q: _angle_deg(-q.body_up, q.pos(knee) - q.pos(hip)) >= 50.0),
        (f"{s}_hand_low", "wrist < 1.2·humerus above the floor",
         lambda q: q.height(wrist) < 1.2 * HUMERUS),
    ]


def _whole_body_predicates() -> list[tuple[str, str, Callable[[_Pose], np.ndarray]]]:
    def across(q: _Pose, a: str, b: str) -> np.ndarray:
        axis = _unit(q.pos("left_shoulder") - q.pos("right_shoulder"))
        return np.sum((q.pos(a) - q.pos(b)) * axis, -1)

    return [
        ("hands_apart", "left−right wrist along the shoulder axis > 2.5·shoulder width",
         lambda q: across(q, "left_wrist", "right_wrist") > 2.5 * SHOULDER_WIDTH),
        ("hands_approaching", "wrists close in on each other faster than 1.4·humerus/s",
         lambda q: -np.sum((q.vel("left_wrist") - q.vel("right_wrist"))
                           * _unit(q.pos("left_wrist") - q.pos("right_wrist")), -1) > 1.4 * HUMERUS),
        ("feet_apart", "left−right ankle along the hip axis > 2.1·hip width",
         lambda q: np.sum((q.pos("left_ankle") - q.pos("right_ankle"))
                          * _unit(q.pos("left_hip") - q.pos("right_hip")), -1) > 2.1 * HIP_WIDTH),
        ("root_fast", "pelvis speed > 2.3·humerus/s (travelling)",
         lambda q: np.linalg.norm(q.vel("pelvis"), axis=-1) > 2.3 * HUMERUS),
        ("torso_tilted", "hips-mid→neck ≥ 30° away from world up (lean, bow)",
         lambda q: _angle_deg(q.body_up, np.broadcast_to(UP, q.body_up.shape)) >= 30.0),
        ("crouched", "pelvis < 0.8·leg length (pelvis→ankle, standing) above the floor",
         lambda q: q.height("pelvis") < 0.8 * LEG_LENGTH),
    ]


PREDICATES: list[tuple[str, str, Callable[[_Pose], np.ndarray]]] = (
    _side_predicates("left") + _side_predicates("right") + _whole_body_predicates()
)
PREDICATE_NAMES: tuple[str, ...] = tuple(name for name, _, _ in PREDICATES)
PREDICATE_DOCS: dict[str, str] = {name: doc for name, doc, _ in PREDICATES}
assert len(PREDICATES) == 32


def predicate_frames(joints: np.ndarray, fps: float) -> np.ndarray:
    """Boolean [T-2, 32]: each predicate on frames 1..T-2."""
    joints = np.asarray(joints, dtype=np.float64)
    if joints.shape[0] < 3:
        raise ValueError("geometric features need at least 3 frames")
    pose = _Pose(joints, fps)
    return np.stack([np.asarray(fn(pose), dtype=bool) for _, _, fn in PREDICATES], axis=-1)


def geometric_features(joints: np.ndarray, fps: float) -> np.ndarray:
    """Feature [32]: fraction of frames on which each predicate holds (order = PREDICATE_NAMES)."""
    return predicate_frames(joints, fps).mean(axis=0)
