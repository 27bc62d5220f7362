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


def test_toggling_contact_on_a_sliding_planted_foot_makes_no_jump():
    """A foot on the floor that slides 20 cm while its contact channel flickers on and off (as the model's
    does): the lock must not snap it between anchors. The lock before (anchor per 2-frame run, a 3-frame fade
    to zero across each 1-frame gap) moved the toe up to ~10 cm in one frame; now every step stays small."""
    t = 60
    joints = standing(t)
    joints[:, [4, 7, 10], 2] += np.linspace(0.0, 0.2, t)[:, None]  # the left leg's foot slides forward 20 cm
    contacts = np.zeros((t, 4))
    contacts[:, :2] = np.tile([1.0, 1.0, 1.0, 0.2], t // 4)[:, None]  # on 3 frames, off 1, and so on
    before = np.linalg.norm(np.diff(joints, axis=0), axis=-1).max()
    locked = lock_feet(joints, contacts)
    steps = np.linalg.norm(np.diff(locked, axis=0), axis=-1)
    assert steps[:, [4, 7, 10]].max() < before + 0.03
    assert np.ptp(locked[5:55, 10][:, [0, 2]], axis=0).max() < 0.25  # still pinned: it slides less than before


def test_a_large_correction_eases_in_and_out_at_most_a_few_cm_per_frame():
    """A plant whose toe drifts 30 cm: pinning it needs ~15 cm of correction at its ends, released over as many
    frames as MAX_CORRECTION_STEP asks for, not over 3."""
    from choreo.foot_contact import MAX_CORRECTION_STEP, correction_curve

    t = 80
    toe = np.zeros((t, 3))
    toe[:, 1] = 0.02
    toe[:, 2] = np.linspace(0.0, 0.6, t)
    flags = np.zeros(t, bool)
    flags[30:50] = True
    offset, weight = correction_curve(toe, flags)
    assert np.abs(offset[30:50, 2] + toe[30:50, 2] - np.median(toe[30:50, 2])).max() < 1e-9  # pinned
    assert np.linalg.norm(np.diff(offset, axis=0), axis=-1).max() < MAX_CORRECTION_STEP + 0.01
    assert weight[:20].max() == 0.0 and weight[60:].max() == 0.0  # and let go
