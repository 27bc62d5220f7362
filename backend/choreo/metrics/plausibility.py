"""Plausibility checks a viewer notices at once: one-frame pops, instant turns, hovering, seam jumps.

Each takes joints [T,22,3] (metres, Y up, floor at y = 0) at `fps`. Thresholds follow the defects seen
in generated clips (docs/EVALUATION.md, "Plausibility"): real dance capture has no pops and no instant
turns, and its lowest foot sits a few centimetres above the floor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from choreo.skeleton import FACE_JOINTS

POP_SPEED = 1.5  # m/s: mean joint speed of a transition, at least this...
POP_RATIO = 3.0  # ...and this many times the median of its neighbours
POP_NEIGHBOURS = 5  # transitions on each side
TURN_DEGREES = 60.0  # pelvis yaw change between two frames
FOOT_JOINTS = (7, 8, 10, 11)  # ankles and toes
JUMP_METRES = 0.30  # no joint moves this far between two frames


def transition_speed(joints: np.ndarray, fps: float) -> np.ndarray:
    """Mean joint speed of each frame-to-frame transition [T-1] (m/s)."""
    return np.linalg.norm(np.diff(np.asarray(joints, dtype=np.float64), axis=0), axis=-1).mean(-1) * fps


def transition_accel(joints: np.ndarray, fps: float) -> np.ndarray:
    """Mean joint acceleration [T-2] (m/s²), entry t centred at frame t+1."""
    return np.linalg.norm(np.diff(np.asarray(joints, dtype=np.float64), n=2, axis=0), axis=-1).mean(-1) * fps**2


def pops(joints: np.ndarray, fps: float) -> list[int]:
    """Transitions t (frame t -> t+1) where the whole pose jumps: mean joint speed > POP_SPEED and
    > POP_RATIO × the median of the POP_NEIGHBOURS transitions on each side."""
    speed = transition_speed(joints, fps)
    out = []
    for t, s in enumerate(speed):
        if s <= POP_SPEED:
            continue
        around = np.concatenate([speed[max(0, t - POP_NEIGHBOURS) : t], speed[t + 1 : t + 1 + POP_NEIGHBOURS]])
        if around.size and s > POP_RATIO * np.median(around):
            out.append(t)
    return out


def pelvis_yaw(joints: np.ndarray) -> np.ndarray:
    """Facing angle of the hips about +Y per frame [T] (degrees; 0 = facing +Z)."""
    r_hip, l_hip = FACE_JOINTS[0], FACE_JOINTS[1]
    across = joints[:, r_hip] - joints[:, l_hip]
    forward = np.cross(np.array([0.0, 1.0, 0.0]), across)
    return np.degrees(np.arctan2(forward[:, 0], forward[:, 2]))


def instant_turns(joints: np.ndarray, degrees: float = TURN_DEGREES) -> list[int]:
    """Transitions where the pelvis turns more than `degrees` about the vertical in one frame."""
    step = np.diff(pelvis_yaw(np.asarray(joints, dtype=np.float64)))
    step = (step + 180.0) % 360.0 - 180.0
    return [int(t) for t in np.flatnonzero(np.abs(step) > degrees)]


def hovering(joints: np.ndarray) -> float:
    """Median over frames of the lowest foot joint's height (m): a few cm when the feet are on the floor."""
    return float(np.median(np.asarray(joints)[:, list(FOOT_JOINTS), 1].min(axis=1)))


def largest_joint_step(joints: np.ndarray) -> float:
    """The largest distance any joint moves between two frames (m)."""
    return float(np.linalg.norm(np.diff(np.asarray(joints, dtype=np.float64), axis=0), axis=-1).max())


def seam_report(joints: np.ndarray, fps: float, seams: Sequence[int]) -> dict:
    """Speed and acceleration at each seam (the transition from frame s-1 to s) against the clip's own
    distribution of transitions away from the seams: percentile ranks and ratios to the median."""
    joints = np.asarray(joints, dtype=np.float64)
    speed = transition_speed(joints, fps)
    accel = transition_accel(joints, fps)
    seams = [int(s) for s in seams if 1 <= s < len(joints) - 1]
    away = np.ones(len(speed), dtype=bool)
    for s in seams:
        away[max(0, s - 3) : s + 2] = False
    ref_speed = speed[away] if away.any() else speed
    ref_accel = accel[away[: len(accel)]] if away[: len(accel)].any() else accel
    rows = []
    for s in seams:
        v, a = float(speed[s - 1]), float(max(accel[s - 2] if s >= 2 else 0.0, accel[s - 1]))
        rows.append({
            "frame": s,
            "speed": v,
            "speed_percentile": float((ref_speed < v).mean() * 100.0),
            "speed_ratio": v / max(float(np.median(ref_speed)), 1e-9),
            "accel": a,
            "accel_percentile": float((ref_accel < a).mean() * 100.0),
            "accel_ratio": a / max(float(np.median(ref_accel)), 1e-9),
            "largest_joint_step_m": float(np.linalg.norm(joints[s] - joints[s - 1], axis=-1).max()),
        })
    p99 = float(np.percentile(ref_speed, 99)) if ref_speed.size else float("nan")
    return {
        "seams": rows,
        "clip_speed_p99": p99,
        "seams_above_p99": sum(r["speed"] > p99 for r in rows),
        "worst_speed_ratio": max((r["speed_ratio"] for r in rows), default=None),
        "worst_accel_ratio": max((r["accel_ratio"] for r in rows), default=None),
    }


def plausibility(joints: np.ndarray, fps: float) -> dict:
    """Every check for one clip (seams need the window layout: see `seam_report`)."""
    p, t = pops(joints, fps), instant_turns(joints)
    return {"pops": len(p), "pop_frames": p, "instant_turns": len(t), "turn_frames": t,
            "hovering_m": hovering(joints), "largest_joint_step_m": largest_joint_step(joints),
            "flicks": len(flicks(joints))}


def flicks(joints: np.ndarray, metres: float = JUMP_METRES) -> list[tuple[int, int]]:
    """(transition, joint) pairs where one joint moves more than `metres` between two frames (a wrist or a
    foot flicking away and back reads as two of them)."""
    step = np.linalg.norm(np.diff(np.asarray(joints, dtype=np.float64), axis=0), axis=-1)
    return [(int(t), int(j)) for t, j in zip(*np.nonzero(step > metres), strict=True)]
