"""Foot-contact clean-up: a planted foot that slides is pinned, bones keep their lengths, free feet move."""

from __future__ import annotations

import numpy as np

from choreo.foot_contact import contact_segments, lock_feet, two_bone_ik
from choreo.skeleton import bone_lengths, canonical_offsets, forward_kinematics


def standing(frames: int) -> np.ndarray:
    q = np.zeros((frames, 22, 4))
    q[..., 0] = 1.0
    root = np.zeros((frames, 3))
    root[:, 1] = 0.95
    joints = forward_kinematics(q, root, canonical_offsets())
    return joints - np.array([0.0, joints[:, [7, 10, 8, 11], 1].min(), 0.0])


def test_segments():
    flags = np.array([0, 1, 1, 0, 1, 0, 1, 1, 1], dtype=bool)
    assert contact_segments(flags) == [(1, 3), (6, 9)]


def test_two_bone_ik_keeps_lengths_and_reaches():
    hip = np.array([[0.0, 1.0, 0.0]])
    knee = np.array([[0.0, 0.6, 0.1]])
    target = np.array([[0.05, 0.3, 0.05]])
    new_knee, ankle = two_bone_ik(hip, knee, target, 0.4, 0.4)
    np.testing.assert_allclose(ankle, target, atol=1e-9)
    assert abs(np.linalg.norm(new_knee - hip) - 0.4) < 1e-9 and abs(np.linalg.norm(ankle - new_knee) - 0.4) < 1e-9
    assert new_knee[0, 2] > 0  # bends the way the original knee did


def test_sliding_planted_foot_is_pinned_and_bones_kept():
    t = 40
    joints = standing(t)
    joints[:, :, 2] += np.linspace(0.0, 0.2, t)[:, None]  # the body drifts 20 cm forward, feet "planted"
    contacts = np.zeros((t, 4))
    contacts[5:35, :2] = 1.0  # left foot planted from frame 5 to 34, right foot in the air
    locked = lock_feet(joints, contacts)
    toe = locked[5:35, 10][:, [0, 2]]
    # pinned: 20 cm of drift down to the last millimetre a straight leg cannot reach
    assert np.ptp(toe, axis=0).max() < 2e-3
    before = np.ptp(joints[5:35, 10][:, [0, 2]], axis=0).max()
    assert before > 0.1
    lengths = bone_lengths(locked)
    np.testing.assert_allclose(lengths[:, [4, 7, 10]], bone_lengths(joints)[:, [4, 7, 10]], atol=1e-5)
    np.testing.assert_allclose(locked[:, 11], joints[:, 11], atol=1e-6)  # right foot untouched


def test_high_foot_is_not_pinned_even_if_flagged():
    joints = standing(20)
    joints[:, [4, 7, 10], 1] += 0.3
    joints[:, [4, 7, 10], 2] += np.linspace(0, 0.3, 20)[:, None]
    contacts = np.ones((20, 4))
    locked = lock_feet(joints, contacts)
    np.testing.assert_allclose(locked[:, 10], joints[:, 10], atol=1e-6)
