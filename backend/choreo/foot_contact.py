"""Foot-contact clean-up for generated motion: a foot the model says is planted stays where it is.

The model predicts foot-contact flags with every frame (the last 4 features). Where a foot is in contact
and near the floor, its toe is pinned to the mean position of that contact, the ankle moves with it
(the foot bone is unchanged), and the knee is re-solved by two-bone IK toward its original bend, so every
bone keeps its length exactly. Offsets fade out over a few frames at both ends of each contact.
"""

from __future__ import annotations

import numpy as np

# (hip, knee, ankle, toe, contact columns) per leg; contacts are (L ankle, L foot, R ankle, R foot).
LEGS = ((1, 4, 7, 10, (0, 1)), (2, 5, 8, 11, (2, 3)))
CONTACT_HEIGHT = 0.08  # m: a toe higher than this is not planted, whatever the flag says
BLEND_FRAMES = 3
PLANTED_TOE_HEIGHT = 0.02  # m: height of the toe joint of a planted foot (cleanest CMU capture: 1.6 cm)
PLANTED_SPEED = 0.5  # m/s: a flagged foot moving faster than this is not planted


def floor_height(joints: np.ndarray, contacts: np.ndarray, fps: float = 20.0) -> float:
    """Where the floor is, from the frames where a foot is planted (the model's contact flag and a slow
    toe): the median planted-toe height minus PLANTED_TOE_HEIGHT. One glitch frame cannot move it, unlike
    the clip's lowest foot frame. Without planted frames (a clip in the air), the 5th percentile of the
    lowest foot joint."""
    heights = []
    for _, _, _, toe, cols in LEGS:
        speed = np.zeros(len(joints))
        speed[1:] = np.linalg.norm(np.diff(joints[:, toe], axis=0), axis=-1) * fps
        planted = (contacts[: len(joints), list(cols)].max(axis=1) > 0.5) & (speed < PLANTED_SPEED)
        heights.append(joints[planted, toe, 1])
    planted_heights = np.concatenate(heights)
    if planted_heights.size >= 3:
        return float(np.median(planted_heights)) - PLANTED_TOE_HEIGHT
    return float(np.percentile(joints[:, [7, 8, 10, 11], 1].min(axis=1), 5))


def ground(joints: np.ndarray, contacts: np.ndarray, fps: float = 20.0) -> np.ndarray:
    """Joints shifted vertically so planted feet stand on y = 0 (see `floor_height`)."""
    return joints - np.array([0.0, floor_height(joints, contacts, fps), 0.0], dtype=joints.dtype)


def contact_segments(flags: np.ndarray, min_frames: int = 2) -> list[tuple[int, int]]:
    """Half-open [start, stop) runs of True at least `min_frames` long."""
    padded = np.concatenate([[False], flags.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2], strict=True) if e - s >= min_frames]


def two_bone_ik(hip: np.ndarray, knee: np.ndarray, ankle_target: np.ndarray, thigh: float, shin: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Knee [T,3] and reachable ankle [T,3] for hip→ankle targets, bending toward the original knee."""
    to_target = ankle_target - hip
    dist = np.linalg.norm(to_target, axis=-1, keepdims=True)
    reach = np.clip(dist, abs(thigh - shin) + 1e-6, thigh + shin - 1e-6)
    u = to_target / np.maximum(dist, 1e-9)
    ankle = hip + u * reach
    along = (thigh**2 - shin**2 + reach**2) / (2 * reach)
    height = np.sqrt(np.maximum(thigh**2 - along**2, 0.0))
    pole = knee - hip
    pole = pole - (pole * u).sum(-1, keepdims=True) * u
    pole = pole / np.maximum(np.linalg.norm(pole, axis=-1, keepdims=True), 1e-9)
    return hip + u * along + pole * height, ankle


def lock_feet(joints: np.ndarray, contacts: np.ndarray, height: float = CONTACT_HEIGHT,
              blend: int = BLEND_FRAMES) -> np.ndarray:
    """Joints [T,22,3] (feet on the floor) with planted feet pinned; contacts [T,4] in [0,1]."""
    out = np.array(joints, dtype=np.float64, copy=True)
    t = len(out)
    for hip, knee, ankle, toe, cols in LEGS:
        flags = (contacts[:, list(cols)].max(axis=1) > 0.5) & (out[:, toe, 1] < height)
        offset = np.zeros((t, 3))
        weight = np.zeros(t)
        for s, e in contact_segments(flags):
            anchor = out[s:e, toe][:, [0, 2]].mean(axis=0)
            shift = np.zeros((e - s, 3))
            shift[:, [0, 2]] = anchor - out[s:e, toe][:, [0, 2]]
            shift[:, 1] = PLANTED_TOE_HEIGHT - out[s:e, toe, 1]  # planted toes stand on the floor
            offset[s:e], weight[s:e] = shift, 1.0
            for k in range(1, blend + 1):  # fade the correction in before and out after the contact
                w = 1.0 - k / (blend + 1)
                for frame, edge in ((s - k, shift[0]), (e - 1 + k, shift[-1])):
                    if 0 <= frame < t and w > weight[frame]:
                        offset[frame], weight[frame] = edge * w, w
        # Anywhere else, a foot below the floor is lifted onto it.
        below = np.minimum(out[:, ankle, 1] + offset[:, 1], out[:, toe, 1] + offset[:, 1])
        lift = np.where(below < 0.0, -below, 0.0)
        offset[:, 1] += lift
        weight = np.maximum(weight, (lift > 0).astype(float))
        if not weight.any():
            continue
        thigh = float(np.median(np.linalg.norm(out[:, knee] - out[:, hip], axis=-1)))
        shin = float(np.median(np.linalg.norm(out[:, ankle] - out[:, knee], axis=-1)))
        foot = out[:, toe] - out[:, ankle]
        new_knee, new_ankle = two_bone_ik(out[:, hip], out[:, knee], out[:, ankle] + offset, thigh, shin)
        moved = weight > 0
        out[moved, knee], out[moved, ankle] = new_knee[moved], new_ankle[moved]
        out[moved, toe] = new_ankle[moved] + foot[moved]
    return out.astype(np.float32)
