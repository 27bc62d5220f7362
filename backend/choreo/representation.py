"""HumanML3D's 263-dim motion features <-> 22 joint positions, and mean/std normalisation.

Layout of one feature row (J = 22), see docs/ARCHITECTURE.md:
  [0] root yaw velocity (half-angle), [1:3] root xz velocity, [3] root height,
  [4:67] joint positions relative to the root and its facing (RIC), [67:193] local 6D rotations,
  [193:259] joint velocities in the facing frame, [259:263] foot contacts (L ankle, L foot, R ankle, R foot).
N position frames give N-1 feature rows. The conversion follows HumanML3D's own processing, including
its quirks (IK facing direction with the hip term reversed, root rotation 0 forced to identity), so
features we compute match the official data and the official checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from choreo.quaternion import cont6d_to_quat, qbetween, qinv, qmul, qrot, quat_to_cont6d, qyaw
from choreo.skeleton import (
    CANONICAL_BONE_LENGTHS,
    FACE_JOINTS,
    LOWER_BODY_JOINTS,
    NUM_JOINTS,
    enforce_bone_lengths,
    forward_kinematics,
    inverse_kinematics,
)
from choreo.smoothing import gaussian_smooth

FEATURE_DIM = 263
FOOT_CONTACT_THRESHOLD = 0.002  # squared metres per frame, HumanML3D's value
# How the root's facing (the frame RIC positions and velocities are expressed in) is computed:
# "humanml3d" smooths the facing *vector* over 20 frames, as the official data does. During a spin that
# average passes near zero and its direction flips in one frame; the features encode the flip exactly
# (a yaw-velocity spike matched by a jump of the whole RIC pose), but a network reproduces the frequent
# RIC jump without the rare spike, which decodes as a one-frame pop or instant turn. "continuous"
# smooths the unwrapped facing *angle* instead: the same facing for steady motion, no flips in spins.
FACING_HUMANML3D = "humanml3d"
FACING_CONTINUOUS = "continuous"
ROOT_FACINGS = (FACING_HUMANML3D, FACING_CONTINUOUS)
CONTINUOUS_FACING_SIGMA = 5.0  # frames; small enough that the root follows a pirouette within ~0.25 s
_J = NUM_JOINTS

# Feature-group slices.
ROOT_ROT_VEL = slice(0, 1)
ROOT_LIN_VEL = slice(1, 3)
ROOT_Y = slice(3, 4)
RIC = slice(4, 4 + (_J - 1) * 3)
ROT6D = slice(RIC.stop, RIC.stop + (_J - 1) * 6)
LOCAL_VEL = slice(ROT6D.stop, ROT6D.stop + _J * 3)
FOOT_CONTACT = slice(LOCAL_VEL.stop, LOCAL_VEL.stop + 4)
FEATURE_GROUPS = (ROOT_ROT_VEL, ROOT_LIN_VEL, ROOT_Y, RIC, ROT6D, LOCAL_VEL, FOOT_CONTACT)
assert FOOT_CONTACT.stop == FEATURE_DIM


def _forward_from_across(joints_frame: np.ndarray, hip_sign: float) -> np.ndarray:
    r_hip, l_hip, r_sdr, l_sdr = FACE_JOINTS
    across = hip_sign * (joints_frame[..., r_hip, :] - joints_frame[..., l_hip, :]) + (
        joints_frame[..., r_sdr, :] - joints_frame[..., l_sdr, :]
    )
    across = across / np.linalg.norm(across, axis=-1, keepdims=True)
    return np.cross(np.array([0.0, 1.0, 0.0]), across)


def facing_transform(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rotation quaternion, origin) that put frame 0's root at x=z=0 facing +Z, as HumanML3D does."""
    origin = joints[0, 0] * np.array([1.0, 0.0, 1.0])
    forward = _forward_from_across(joints[0], hip_sign=1.0)
    q = qbetween(forward / np.linalg.norm(forward), np.array([0.0, 0.0, 1.0]))
    return q, origin


def facing_angles(joints: np.ndarray) -> np.ndarray:
    """Per-frame facing angle [T] in radians about +Y, unwrapped: 0 faces +Z, +pi/2 faces +X
    (the facing `facing_transform` uses: across hips and shoulders, unsmoothed)."""
    forward = _forward_from_across(np.asarray(joints, dtype=np.float64), hip_sign=1.0)
    return np.unwrap(np.arctan2(forward[..., 0], forward[..., 2]), axis=-1)


def apply_transform(joints: np.ndarray, q: np.ndarray, origin: np.ndarray) -> np.ndarray:
    return qrot(np.broadcast_to(q, joints.shape[:-1] + (4,)), joints - origin)


def undo_transform(joints: np.ndarray, q: np.ndarray, origin: np.ndarray) -> np.ndarray:
    return qrot(np.broadcast_to(qinv(q), joints.shape[:-1] + (4,)), joints) + origin


def canonicalize(joints: np.ndarray) -> np.ndarray:
    """Retarget to the canonical skeleton, put on the floor, move frame 0's root to the origin and face +Z.

    These are steps 1-4 of HumanML3D's processing; the result is its `global_positions`.
    """
    joints = np.asarray(joints, dtype=np.float64)
    src_leg = np.linalg.norm(joints[0, 5] - joints[0, 2]) + np.linalg.norm(joints[0, 8] - joints[0, 5])
    tgt_leg = CANONICAL_BONE_LENGTHS[5] + CANONICAL_BONE_LENGTHS[8]
    scaled = joints.copy()
    scaled[:, 0] = joints[:, 0] * (tgt_leg / src_leg)
    positions = enforce_bone_lengths(scaled)
    positions[..., 1] -= positions[..., 1].min()
    return apply_transform(positions, *facing_transform(positions))


def foot_contacts(positions: np.ndarray, threshold: float = FOOT_CONTACT_THRESHOLD) -> np.ndarray:
    """[N-1, 4] contact flags for (L ankle, L foot, R ankle, R foot): squared step below threshold."""
    feet = positions[:, [7, 10, 8, 11]]
    step2 = ((feet[1:] - feet[:-1]) ** 2).sum(-1)
    return (step2 < threshold).astype(np.float64)


def root_rotations(positions: np.ndarray, smooth_sigma: float = 20.0, facing: str = FACING_HUMANML3D) -> np.ndarray:
    """Per-frame facing rotation [N,4] of HumanML3D's IK (hip term reversed; frame 0 is identity).

    facing="continuous" smooths the unwrapped facing angle (CONTINUOUS_FACING_SIGMA) instead of the vector.
    """
    forward = _forward_from_across(positions, hip_sign=-1.0)
    if facing == FACING_CONTINUOUS:
        angle = np.unwrap(np.arctan2(forward[:, 0], forward[:, 2]))
        angle = gaussian_smooth(angle, CONTINUOUS_FACING_SIGMA)
        return qyaw(-(angle - angle[0]))  # turns each frame's facing to +Z; frame 0 exactly identity
    if facing != FACING_HUMANML3D:
        raise ValueError(f"unknown root facing {facing!r}; expected one of {ROOT_FACINGS}")
    forward = gaussian_smooth(forward, smooth_sigma, axis=0)
    forward = forward / np.linalg.norm(forward, axis=-1, keepdims=True)
    r = qbetween(forward, np.broadcast_to([0.0, 0.0, 1.0], forward.shape))
    r[0] = [1.0, 0.0, 0.0, 0.0]
    return r


def joints_to_features(joints: np.ndarray, canonical: bool = True, facing: str = FACING_HUMANML3D) -> np.ndarray:
    """Joint positions [N,22,3] (metres, Y up, 20 fps) -> features [N-1, 263].

    With canonical=True (default) the clip is first retargeted and placed as HumanML3D does; pass
    False for positions that already went through `canonicalize`. `facing` chooses how the root's
    facing is smoothed (see FACING_CONTINUOUS); decoding is the same for both.
    """
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3) or joints.shape[0] < 2:
        raise ValueError(f"expected joint positions [frames>=2, 22, 3], got {list(joints.shape)}")
    g = canonicalize(joints) if canonical else joints
    n = g.shape[0]
    contacts = foot_contacts(g)
    r = root_rotations(g, facing=facing)
    local_quats = inverse_kinematics(g, r)
    rot6d = quat_to_cont6d(local_quats[:, 1:]).reshape(n, -1)

    root_vel = qrot(r[1:], g[1:, 0] - g[:-1, 0])
    yaw_vel = np.arcsin(np.clip(qmul(r[1:], qinv(r[:-1]))[:, 2], -1.0, 1.0))

    ric = g.copy()
    ric[..., [0, 2]] -= g[:, :1, [0, 2]]
    ric = qrot(np.broadcast_to(r[:, None], ric.shape[:-1] + (4,)), ric)

    local_vel = qrot(np.broadcast_to(r[:-1, None], (n - 1, _J, 4)), g[1:] - g[:-1])
    feats = np.concatenate(
        [
            yaw_vel[:, None],
            root_vel[:, [0, 2]],
            ric[:-1, 0, 1:2],
            ric[:-1, 1:].reshape(n - 1, -1),
            rot6d[:-1],
            local_vel.reshape(n - 1, -1),
            contacts,
        ],
        axis=-1,
    )
    return feats.astype(np.float32)


def _root_from_features(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Root rotation quaternions [N,4] and root positions [N,3] from features [N,263]."""
    yaw = np.zeros(feats.shape[:-1])
    yaw[..., 1:] = feats[..., :-1, 0]
    yaw = np.cumsum(yaw, axis=-1)
    # r = (cos a, 0, sin a, 0): a rotation by 2a about +Y.
    r = qyaw(2.0 * yaw)
    step = np.zeros(feats.shape[:-1] + (3,))
    step[..., 1:, 0] = feats[..., :-1, 1]
    step[..., 1:, 2] = feats[..., :-1, 2]
    root = np.cumsum(qrot(qinv(r), step), axis=-2)
    root[..., 1] = feats[..., 3]
    return r, root


def features_to_joints(feats: np.ndarray) -> np.ndarray:
    """Features [...,N,263] -> joint positions [...,N,22,3] from the RIC block (HumanML3D's recover_from_ric)."""
    feats = np.asarray(feats, dtype=np.float64)
    r, root = _root_from_features(feats)
    ric = feats[..., RIC].reshape(feats.shape[:-1] + (_J - 1, 3))
    pos = qrot(np.broadcast_to(qinv(r)[..., None, :], ric.shape[:-1] + (4,)), ric)
    pos[..., 0] += root[..., None, 0]
    pos[..., 2] += root[..., None, 2]
    return np.concatenate([root[..., None, :], pos], axis=-2)


def features_to_joints_fk(feats: np.ndarray) -> np.ndarray:
    """Features [N,263] -> joints [N,22,3] by forward kinematics of the 6D rotations on the canonical
    skeleton: bone lengths are exact by construction."""
    feats = np.asarray(feats, dtype=np.float64)
    r, root = _root_from_features(feats)
    n = feats.shape[0]
    local = np.concatenate([r[:, None], cont6d_to_quat(feats[:, ROT6D].reshape(n, _J - 1, 6))], axis=1)
    return forward_kinematics(local, root)


# Decoding generated features (`features_to_skeleton_joints`): a joint's position is trusted where the model's
# RIC positions agree with its own joint-velocity channel, and replaced by the velocity-integrated path where
# they disagree (docs/EVALUATION.md, "Flicks").
FUSE_POSITION_WEIGHT = 100.0  # position term's weight against a velocity term of 1 where the two agree...
FUSE_AGREE_METRES = 0.03  # ...falling as 1 / (1 + (disagreement / this)^2): a one-frame RIC spike counts ~nothing
FUSE_RIGID_PASSES = 10  # rounds of (bone lengths exact, fuse again): the rigid pose must agree with the velocities


def joint_velocities(feats: np.ndarray) -> np.ndarray:
    """World-frame step [...,N,22,3] of every joint from row t to row t+1, from the joint-velocity block
    (LOCAL_VEL is expressed in row t's facing; the last row's step points past the motion's end)."""
    feats = np.asarray(feats, dtype=np.float64)
    r, _ = _root_from_features(feats)
    vel = feats[..., LOCAL_VEL].reshape(feats.shape[:-1] + (_J, 3))
    return qrot(np.broadcast_to(qinv(r)[..., None, :], vel.shape[:-1] + (4,)), vel)


def fuse_positions(positions: np.ndarray, steps: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Per joint, the path p [N,3] minimising Σ_t weight_t |p_t − positions_t|² + Σ_t |p_{t+1} − p_t − steps_t|²
    (positions [N,...,3] with time first, steps alike with the last row unused, weight [N,...] ≥ 0): a
    tridiagonal solve. Consistent inputs (steps = the positions' own differences) come back unchanged."""
    n = len(positions)
    if n < 2:
        return np.array(positions, dtype=np.float64)
    # The normal equations: tridiagonal, −1 off the diagonal, weight + 2 on it (+ 1 at the ends), solved for
    # every joint and axis at once by forward elimination and back substitution (diagonally dominant: stable).
    # numpy only: scipy.linalg's import alone would cost `choreo generate` 0.16 s.
    diag = np.asarray(weight, dtype=np.float64) + 2.0
    diag[[0, -1]] -= 1.0
    rhs = np.asarray(weight, dtype=np.float64)[..., None] * positions
    rhs[:-1] -= steps[:-1]
    rhs[1:] += steps[:-1]
    piv = np.empty_like(diag)
    piv[0] = diag[0]
    for t in range(1, n):
        piv[t] = diag[t] - 1.0 / piv[t - 1]
        rhs[t] += rhs[t - 1] / piv[t - 1][..., None]
    out = np.empty_like(rhs)
    out[-1] = rhs[-1] / piv[-1][..., None]
    for t in range(n - 2, -1, -1):
        out[t] = (rhs[t] + out[t + 1]) / piv[t][..., None]
    return out


def _agreement_weight(positions: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """[N,...] position weight (time first): FUSE_POSITION_WEIGHT where both transitions touching a frame match
    the velocity channel, falling where either disagrees."""
    miss = np.linalg.norm(np.diff(positions, axis=0) - steps[:-1], axis=-1)
    worst = np.zeros(positions.shape[:-1])
    worst[:-1] = miss
    worst[1:] = np.maximum(worst[1:], miss)
    return FUSE_POSITION_WEIGHT / (1.0 + (worst / FUSE_AGREE_METRES) ** 2)


def features_to_skeleton_joints(feats: np.ndarray, passes: int | None = None) -> np.ndarray:
    """Generated features [...,N,263] -> joints [...,N,22,3] on the canonical skeleton, using the redundant
    channels (a batch of windows decodes at once, faster than one by one).

    A network's RIC positions are not an exact feature vector: in single frames a wrist or a foot jumps away
    while the joint-velocity channel of the same rows says it barely moves, and where the network shrinks a
    bone (a forearm at 20-50 % of its length) fixing the length amplifies the noise of its direction into a
    one-frame flick. So positions are fused with the velocity channel (`fuse_positions`, weighted by how well
    the two agree), then bone lengths are set exactly (RIC directions, no FK error build-up) and the rigid pose
    is fused again, `passes` times (default FUSE_RIGID_PASSES). Exact features decode exactly.
    """
    passes = FUSE_RIGID_PASSES if passes is None else passes
    feats = np.asarray(feats, dtype=np.float64)
    positions = features_to_joints(feats)
    if feats.ndim < 2 or feats.shape[-2] < 2 or passes <= 0:
        return enforce_bone_lengths(positions)
    # Time first for the solve: every window of a batch and every joint are eliminated together.
    positions, steps = np.moveaxis(positions, -3, 0), np.moveaxis(joint_velocities(feats), -3, 0)
    fused = fuse_positions(positions, steps, _agreement_weight(positions, steps))
    for _ in range(passes):
        rigid = enforce_bone_lengths(fused)
        fused = fuse_positions(rigid, steps, _agreement_weight(rigid, steps))
    return np.ascontiguousarray(np.moveaxis(enforce_bone_lengths(fused), 0, -3))


def lower_body_feature_mask() -> np.ndarray:
    """Boolean [263]: True on features of the root and legs (for upper-body editing)."""
    mask = np.zeros(FEATURE_DIM, dtype=bool)
    mask[:4] = True
    for j in LOWER_BODY_JOINTS:
        if j > 0:
            mask[RIC.start + (j - 1) * 3 : RIC.start + j * 3] = True
            mask[ROT6D.start + (j - 1) * 6 : ROT6D.start + j * 6] = True
        mask[LOCAL_VEL.start + j * 3 : LOCAL_VEL.start + (j + 1) * 3] = True
    mask[FOOT_CONTACT] = True
    return mask


@dataclass(frozen=True)
class Normalizer:
    """Feature mean/std: x_norm = (x - mean) / std, as MDM does."""

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self) -> None:
        for name in ("mean", "std"):
            arr = getattr(self, name)
            if arr.shape != (FEATURE_DIM,) or not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} must be {FEATURE_DIM} finite numbers, got shape {arr.shape}")
        if np.any(self.std <= 0):
            raise ValueError("std must be positive")

    def normalize(self, feats: np.ndarray) -> np.ndarray:
        return ((feats - self.mean) / self.std).astype(np.float32)

    def denormalize(self, feats: np.ndarray) -> np.ndarray:
        return (feats * self.std + self.mean).astype(np.float32)

    @classmethod
    def fit(cls, clips: list[np.ndarray]) -> Normalizer:
        """Per-dim mean; std averaged within each feature group (HumanML3D's recipe)."""
        data = np.concatenate(clips, axis=0).astype(np.float64)
        mean = data.mean(axis=0)
        std = data.std(axis=0)
        for group in FEATURE_GROUPS:
            std[group] = std[group].mean()
        std = np.maximum(std, 1e-4)
        return cls(mean.astype(np.float32), std.astype(np.float32))
