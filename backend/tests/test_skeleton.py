"""The 22-joint skeleton: FK keeps bones rigid, IK -> FK reproduces positions, bone-length projection."""

from __future__ import annotations

import numpy as np

from choreo.quaternion import qnormalize
from choreo.skeleton import (
    CANONICAL_BONE_LENGTHS,
    KINEMATIC_CHAINS,
    MIRROR_PERMUTATION,
    NUM_JOINTS,
    PARENTS,
    RAW_OFFSETS,
    bone_lengths,
    canonical_offsets,
    enforce_bone_lengths,
    forward_kinematics,
    inverse_kinematics,
)


def random_pose(frames: int = 30, seed: int = 0, scale: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    q = np.concatenate([np.ones((frames, NUM_JOINTS, 1)), rng.normal(0, scale, (frames, NUM_JOINTS, 3))], -1)
    root = rng.normal(0, 1, (frames, 3))
    return qnormalize(q), root


def test_tables_are_consistent() -> None:
    assert len(PARENTS) == NUM_JOINTS == len(RAW_OFFSETS) == len(CANONICAL_BONE_LENGTHS)
    for chain in KINEMATIC_CHAINS:
        for parent, child in zip(chain[:-1], chain[1:], strict=True):
            assert PARENTS[child] == parent
    assert sorted(j for c in KINEMATIC_CHAINS for j in c[1:]) == list(range(1, NUM_JOINTS))
    assert np.array_equal(MIRROR_PERMUTATION[MIRROR_PERMUTATION], np.arange(NUM_JOINTS))
    assert np.allclose(np.linalg.norm(canonical_offsets()[1:], axis=-1), CANONICAL_BONE_LENGTHS[1:])


def test_fk_keeps_bone_lengths_constant() -> None:
    q, root = random_pose()
    joints = forward_kinematics(q, root)
    lengths = bone_lengths(joints)
    assert joints.shape == (30, NUM_JOINTS, 3)
    assert np.allclose(joints[:, 0], root)
    assert np.abs(lengths - CANONICAL_BONE_LENGTHS[None]).max() < 1e-9
    # Identity rotations give the rest pose.
    rest = forward_kinematics(qnormalize(np.tile([1.0, 0, 0, 0], (1, NUM_JOINTS, 1))), np.zeros((1, 3)))
    assert np.allclose(rest[0, 4] - rest[0, 1], canonical_offsets()[4])
    assert rest[0, 12, 1] > rest[0, 0, 1] > rest[0, 10, 1]  # neck up, feet down
    assert rest[0, 15, 2] > rest[0, 12, 2] and rest[0, 1, 0] > 0 > rest[0, 2, 0]  # head forward, left is +X


def test_ik_then_fk_reproduces_positions() -> None:
    q, root = random_pose(seed=1)
    joints = forward_kinematics(q, root)
    local = inverse_kinematics(joints, q[:, 0])
    assert np.allclose(np.linalg.norm(local, axis=-1), 1.0, atol=1e-9)
    again = forward_kinematics(local, root)
    assert np.abs(again - joints).max() < 1e-9


def test_enforce_bone_lengths_keeps_directions() -> None:
    q, root = random_pose(seed=2)
    joints = forward_kinematics(q, root)
    stretched = joints + np.random.default_rng(3).normal(0, 0.02, joints.shape)
    fixed = enforce_bone_lengths(stretched)
    assert np.abs(bone_lengths(fixed) - CANONICAL_BONE_LENGTHS).max() < 1e-9
    parents = np.array(PARENTS[1:])
    d_in = stretched[:, 1:] - stretched[:, parents]
    d_out = fixed[:, 1:] - fixed[:, parents]
    cos = (d_in * d_out).sum(-1) / np.linalg.norm(d_in, axis=-1) / np.linalg.norm(d_out, axis=-1)
    assert cos.min() > 1 - 1e-9
    assert np.array_equal(fixed[:, 0], stretched[:, 0])
    # Exact skeletons pass through unchanged, and float32 motion stays float32.
    assert np.abs(enforce_bone_lengths(joints) - joints).max() < 1e-9
    single = enforce_bone_lengths(stretched.astype(np.float32))
    assert single.dtype == np.float32 and np.abs(single - fixed).max() < 1e-5
