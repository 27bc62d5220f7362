"""Foot-contact clean-up for generated motion: a foot the model says is planted stays where it is.

The model predicts foot-contact flags with every frame (the last 4 features). Where a foot is in contact
(with hysteresis: on above CONTACT_ON, off below CONTACT_OFF; gaps of up to MIN_GAP frames closed, plants
shorter than MIN_PLANT dropped) and near the floor, its toe is pinned to the median position of that contact,
the ankle moves with it (the foot bone is unchanged), and the knee is re-solved by two-bone IK toward its
original bend (a straight leg bends forward, not at random), so every bone keeps its length exactly.

The correction is one continuous offset curve per foot: between two plants closer than twice the blend it
eases from one plant's offset to the next; elsewhere it eases in and out over at least BLEND_FRAMES frames and
as many more as needed for it to change by at most MAX_CORRECTION_STEP per frame. Fading a 20-cm correction
over 3 frames, and fading out and in again across a 1-frame gap between two plants, made one-frame flicks and
pops out of legal motion (docs/EVALUATION.md, "Flicks").
"""

from __future__ import annotations

import numpy as np

# (hip, knee, ankle, toe, contact columns) per leg; contacts are (L ankle, L foot, R ankle, R foot).
LEGS = ((1, 4, 7, 10, (0, 1)), (2, 5, 8, 11, (2, 3)))
CONTACT_HEIGHT = 0.08  # m: a toe higher than this is not planted, whatever the flag says
BLEND_FRAMES = 4  # at least this many frames of easing on each side of a plant
MAX_CORRECTION_STEP = 0.04  # m per frame: the most the correction may change between frames while easing
CONTACT_ON = 0.5  # contact channel above this starts a plant...
CONTACT_OFF = 0.3  # ...and it lasts until the channel falls below this
MIN_GAP = 2  # frames: shorter breaks between plants are closed
MIN_PLANT = 3  # frames: shorter plants are ignored
BEND_BIAS = 0.1  # forward bend (× thigh length) added to the knee's own: decides only for a straight leg
PLANT_SPEED = 3.0  # m/s: a flagged toe moving faster than this (horizontally) is stepping, not planted
PLANT_RADIUS = 0.30  # m: frames of a plant whose toe is farther than this from the plant's anchor are let go
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


def planted_flags(contact: np.ndarray, toe: np.ndarray, height: float = CONTACT_HEIGHT, fps: float = 20.0
                  ) -> np.ndarray:
    """[T] bool plants of one foot from its contact channel [T] (the max of ankle and toe) with hysteresis, the
    toe [T,3] below `height` and slower than PLANT_SPEED, short gaps closed, short plants dropped, and every
    plant cut down to the frames within PLANT_RADIUS of its anchor (a model that flags a foot sliding a metre
    does not get it dragged back a metre)."""
    t = len(contact)
    speed = np.zeros(t)
    speed[1:] = np.linalg.norm(np.diff(toe[:, [0, 2]], axis=0), axis=-1) * fps
    speed[0] = speed[1] if t > 1 else 0.0
    slow = np.minimum(speed, np.r_[speed[1:], speed[-1:]]) < PLANT_SPEED
    toe_height = toe[:, 1]
    flags = np.zeros(t, bool)
    on = False
    for i in range(t):
        on = bool(contact[i] > (CONTACT_OFF if on else CONTACT_ON) and toe_height[i] < height and slow[i])
        flags[i] = on
    segments = contact_segments(flags, min_frames=1)
    for (_, e0), (s1, _) in zip(segments[:-1], segments[1:], strict=True):
        if s1 - e0 <= MIN_GAP and (toe_height[e0:s1] < height).all():
            flags[e0:s1] = True
    for _ in range(2):
        out = np.zeros(t, bool)
        for s0, e0 in contact_segments(flags, min_frames=MIN_PLANT):
            anchor = np.median(toe[s0:e0][:, [0, 2]], axis=0)
            out[s0:e0] = np.linalg.norm(toe[s0:e0][:, [0, 2]] - anchor, axis=-1) <= PLANT_RADIUS
        flags = out
    out = np.zeros(t, bool)
    for s0, e0 in contact_segments(flags, min_frames=MIN_PLANT):
        out[s0:e0] = True
    return out


def _ease(u: np.ndarray) -> np.ndarray:
    """Smoothstep 0 -> 1 on u in [0, 1]."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def _blend_length(shift: np.ndarray, blend: int) -> int:
    """Frames to ease a correction of size `shift` in or out: at least `blend`, and enough that smoothstep's
    steepest step (1.5 × the mean) stays within MAX_CORRECTION_STEP."""
    return max(blend, int(np.ceil(1.5 * np.linalg.norm(shift) / MAX_CORRECTION_STEP)))


def correction_curve(toe: np.ndarray, flags: np.ndarray, blend: int = BLEND_FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """Offset [T,3] that pins the toe [T,3] on each plant of `flags` (xz at the plant's median, y at
    PLANTED_TOE_HEIGHT) and eases continuously between plants; weight [T] > 0 where it acts."""
    t = len(toe)
    offset, weight = np.zeros((t, 3)), np.zeros(t)
    plants = contact_segments(flags, min_frames=1)
    shifts = []
    for s0, e0 in plants:
        shift = np.zeros((e0 - s0, 3))
        shift[:, [0, 2]] = np.median(toe[s0:e0][:, [0, 2]], axis=0) - toe[s0:e0][:, [0, 2]]
        shift[:, 1] = PLANTED_TOE_HEIGHT - toe[s0:e0, 1]
        offset[s0:e0], weight[s0:e0] = shift, 1.0
        shifts.append(shift)
    for k, (s0, e0) in enumerate(plants):
        first, last = shifts[k][0], shifts[k][-1]
        if k == 0:  # ease in before the first plant
            n = min(_blend_length(first, blend), s0)
            u = _ease((np.arange(s0 - n, s0) - (s0 - n - 1)) / (n + 1))
            offset[s0 - n:s0], weight[s0 - n:s0] = u[:, None] * first, np.maximum(u, 1e-6)
        nxt = plants[k + 1][0] if k + 1 < len(plants) else None
        out_n = _blend_length(last, blend)
        if nxt is not None:
            in_n = _blend_length(shifts[k + 1][0], blend)
            gap = nxt - e0
            if gap <= out_n + in_n:  # too close to let go in between: ease from this plant's offset to the next's
                u = _ease((np.arange(e0, nxt) - (e0 - 1)) / (gap + 1))
                offset[e0:nxt] = (1 - u)[:, None] * last + u[:, None] * shifts[k + 1][0]
                weight[e0:nxt] = 1.0
                continue
            u = _ease((np.arange(nxt - in_n, nxt) - (nxt - in_n - 1)) / (in_n + 1))
            offset[nxt - in_n:nxt], weight[nxt - in_n:nxt] = u[:, None] * shifts[k + 1][0], np.maximum(u, 1e-6)
        n = min(out_n, t - e0)
        u = 1.0 - _ease((np.arange(e0, e0 + n) - (e0 - 1)) / (out_n + 1))
        offset[e0:e0 + n], weight[e0:e0 + n] = u[:, None] * last, np.maximum(u, 1e-6)
    return offset, weight


def two_bone_ik(hip: np.ndarray, knee: np.ndarray, ankle_target: np.ndarray, thigh: float, shin: float,
                forward: np.ndarray | None = None, ankle: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Knee [T,3] and reachable ankle [T,3] for hip→ankle targets, bending toward the original knee.

    With the original `ankle` [T,3], the bend is the knee's offset from the original hip→ankle line (the
    leg's own bend, not its position relative to the new target: a nearly straight leg whose target moves
    past beneath the hip would otherwise flip its knee in one frame). forward [T,3] (the body's facing) is
    added with a weight of BEND_BIAS × thigh, so a straight leg bends forward."""
    to_target = ankle_target - hip
    dist = np.linalg.norm(to_target, axis=-1, keepdims=True)
    reach = np.clip(dist, abs(thigh - shin) + 1e-6, thigh + shin - 1e-6)
    u = to_target / np.maximum(dist, 1e-9)
    reached = hip + u * reach
    along = (thigh**2 - shin**2 + reach**2) / (2 * reach)
    height = np.sqrt(np.maximum(thigh**2 - along**2, 0.0))
    pole = knee - hip
    if ankle is not None:
        line = ankle - hip
        line = line / np.maximum(np.linalg.norm(line, axis=-1, keepdims=True), 1e-9)
        pole = pole - (pole * line).sum(-1, keepdims=True) * line
    if forward is not None:
        pole = pole + BEND_BIAS * thigh * forward
    pole = pole - (pole * u).sum(-1, keepdims=True) * u
    pole = pole / np.maximum(np.linalg.norm(pole, axis=-1, keepdims=True), 1e-9)
    return hip + u * along + pole * height, reached


def _body_forward(joints: np.ndarray) -> np.ndarray:
    """Horizontal facing [T,3] from the hips (left hip minus right hip, crossed with up)."""
    across = joints[:, 1] - joints[:, 2]
    fwd = np.cross(across, np.array([0.0, 1.0, 0.0]))
    fwd[:, 1] = 0.0
    return fwd / np.maximum(np.linalg.norm(fwd, axis=-1, keepdims=True), 1e-9)


def lock_feet(joints: np.ndarray, contacts: np.ndarray, height: float = CONTACT_HEIGHT,
              blend: int = BLEND_FRAMES) -> np.ndarray:
    """Joints [T,22,3] (feet on the floor) with planted feet pinned; contacts [T,4] in [0,1]."""
    out = np.array(joints, dtype=np.float64, copy=True)
    forward = _body_forward(out)
    for hip, knee, ankle, toe, cols in LEGS:
        flags = planted_flags(contacts[: len(out), list(cols)].max(axis=1), out[:, toe], height)
        offset, weight = correction_curve(out[:, toe], flags, blend)
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
        new_knee, new_ankle = two_bone_ik(out[:, hip], out[:, knee], out[:, ankle] + offset, thigh, shin, forward,
                                          out[:, ankle])
        moved = weight > 0
        out[moved, knee], out[moved, ankle] = new_knee[moved], new_ankle[moved]
        out[moved, toe] = new_ankle[moved] + foot[moved]
    return out.astype(np.float32)
