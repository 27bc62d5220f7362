"""The 22-joint SMPL-body skeleton used throughout (HumanML3D joint order, metres, Y up, +Z forward).

Holds the joint names, the parent of each joint, the rest-pose bone directions of HumanML3D
(`t2m_raw_offsets`), the canonical bone lengths every clip is retargeted to, and forward kinematics.
"""

from __future__ import annotations

import numpy as np

from choreo.quaternion import qbetween, qinv, qmul, qrot

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)
NUM_JOINTS = 22
FPS = 20.0

PARENTS: tuple[int, ...] = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)

# The five chains of HumanML3D: they define IK/FK order and the stick-figure polylines.
KINEMATIC_CHAINS: tuple[tuple[int, ...], ...] = (
    (0, 2, 5, 8, 11),
    (0, 1, 4, 7, 10),
    (0, 3, 6, 9, 12, 15),
    (9, 14, 17, 19, 21),
    (9, 13, 16, 18, 20),
)

# Rest-pose direction of each bone (from its parent). SMPL's left side is +X.
RAW_OFFSETS = np.array(
    [
        [0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, -1, 0], [0, 1, 0], [0, -1, 0],
        [0, -1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0], [1, 0, 0], [-1, 0, 0], [0, 0, 1],
        [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0],
    ],
    dtype=np.float64,
)

# Canonical bone lengths (metres) of HumanML3D's target skeleton (first frame of AMASS clip 000021),
# measured to 1e-6 m: at 4 digits the retargeting step alone moves joints by ~1e-4 m.
CANONICAL_BONE_LENGTHS = np.array(
    [0.0, 0.103074, 0.109883, 0.131568, 0.393623, 0.390188, 0.14319, 0.432433, 0.425643, 0.057365,
     0.143382, 0.149419, 0.21936, 0.137487, 0.143383, 0.103039, 0.131614, 0.122984, 0.25684, 0.263092,
     0.266012, 0.269876]
)

LEFT_JOINTS = tuple(i for i, n in enumerate(JOINT_NAMES) if n.startswith("left_"))
RIGHT_JOINTS = tuple(JOINT_NAMES.index(JOINT_NAMES[i].replace("left_", "right_")) for i in LEFT_JOINTS)
# Index permutation that swaps left and right joints (for mirroring).
MIRROR_PERMUTATION = np.arange(NUM_JOINTS)
MIRROR_PERMUTATION[list(LEFT_JOINTS)] = RIGHT_JOINTS
MIRROR_PERMUTATION[list(RIGHT_JOINTS)] = LEFT_JOINTS

FOOT_JOINTS = (7, 10, 8, 11)  # left ankle, left foot, right ankle, right foot
FACE_JOINTS = (2, 1, 17, 16)  # right hip, left hip, right shoulder, left shoulder
LOWER_BODY_JOINTS = (0, 1, 2, 4, 5, 7, 8, 10, 11)


def canonical_offsets(lengths: np.ndarray = CANONICAL_BONE_LENGTHS) -> np.ndarray:
    """Rest offsets [22,3]: each bone's raw direction scaled by its length."""
    return RAW_OFFSETS * np.asarray(lengths)[:, None]


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """Per-frame bone lengths [...,22] (entry 0, the root, is 0)."""
    parents = np.array(PARENTS)
    diff = joints[..., 1:, :] - joints[..., parents[1:], :]
    return np.concatenate([np.zeros(joints.shape[:-2] + (1,)), np.linalg.norm(diff, axis=-1)], axis=-1)


def forward_kinematics(
    local_quats: np.ndarray, root_pos: np.ndarray, offsets: np.ndarray | None = None
) -> np.ndarray:
    """Joint positions [T,22,3] from HumanML3D-style local rotations.

    local_quats [T,22,4]: entry 0 is the root (facing) rotation; entry j>0 rotates bone parent->j
    relative to the chain's running rotation, where every chain (the arms too) starts from the root
    rotation (HumanML3D convention). root_pos [T,3].
    """
    offsets = canonical_offsets() if offsets is None else offsets
    t = local_quats.shape[0]
    joints = np.zeros((t, NUM_JOINTS, 3))
    joints[:, 0] = root_pos
    for chain in KINEMATIC_CHAINS:
        rot = local_quats[:, 0]
        for i in range(1, len(chain)):
            rot = qmul(rot, local_quats[:, chain[i]])
            joints[:, chain[i]] = qrot(rot, np.broadcast_to(offsets[chain[i]], (t, 3))) + joints[:, chain[i - 1]]
    return joints


_PARENT_INDEX = np.array(PARENTS)


def _root_paths() -> np.ndarray:
    """[22, 21] 1 where bone k (joint k + 1 and its parent) lies on the way from the root to joint j."""
    paths = np.zeros((NUM_JOINTS, NUM_JOINTS - 1))
    for j in range(1, NUM_JOINTS):
        k = j
        while k:
            paths[j, k - 1] = 1.0
            k = PARENTS[k]
    return paths


_ROOT_PATHS = _root_paths()

# Every bone of the chains once: its child joint, the joint before it in its chain, and whether it opens a chain
# (HumanML3D's IK starts every chain, the arms too, from the root rotation).
_IK_CHILD = np.array([c for chain in KINEMATIC_CHAINS for c in chain[1:]])
_IK_FROM = np.array([chain[i] for chain in KINEMATIC_CHAINS for i in range(len(chain) - 1)])
_IK_OPENS = np.array([i == 0 for chain in KINEMATIC_CHAINS for i in range(len(chain) - 1)])


def inverse_kinematics(joints: np.ndarray, root_quat: np.ndarray) -> np.ndarray:
    """Swing-only local rotations [T,22,4] that reproduce `joints`' bone directions under FK."""
    t = joints.shape[0]
    quats = np.zeros((t, NUM_JOINTS, 4))
    quats[..., 0] = 1.0
    quats[:, 0] = root_quat
    direction = joints[:, _IK_CHILD] - joints[:, _IK_FROM]
    direction = direction / np.maximum(np.linalg.norm(direction, axis=-1, keepdims=True), 1e-12)
    swing = qbetween(np.broadcast_to(RAW_OFFSETS[_IK_CHILD], direction.shape), direction)  # world swing per bone
    swings = np.zeros((t, NUM_JOINTS, 4))
    swings[:, _IK_CHILD] = swing
    before = np.where(_IK_OPENS[None, :, None], np.asarray(root_quat)[:, None], swings[:, _IK_FROM])
    quats[:, _IK_CHILD] = qmul(qinv(before), swing)
    return quats


def enforce_bone_lengths(joints: np.ndarray, lengths: np.ndarray = CANONICAL_BONE_LENGTHS) -> np.ndarray:
    """Keep each bone's direction, set its length exactly: every joint is the root plus its chain's bones."""
    lengths = np.asarray(lengths)
    d = joints[..., 1:, :] - joints[..., _PARENT_INDEX[1:], :]
    n = np.sqrt(np.einsum("...c,...c->...", d, d))[..., None]
    step = np.where(n > 1e-9, d / np.maximum(n, 1e-12), RAW_OFFSETS[1:]) * lengths[1:, None]
    out = joints[..., :1, :] + np.matmul(_ROOT_PATHS, step)  # each joint: the root plus the bones leading to it
    return out.astype(joints.dtype, copy=False) if np.issubdtype(joints.dtype, np.floating) else out


def mirror_joints(joints: np.ndarray) -> np.ndarray:
    """Mirror left/right: negate X and swap left and right joints."""
    out = joints[..., MIRROR_PERMUTATION, :].copy()
    out[..., 0] *= -1
    return out
