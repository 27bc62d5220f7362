"""Kinetic features, jitter and geometric predicates on constructed motions with known answers."""

import numpy as np
import pytest

from choreo.metrics import geometric, kinetic, smoothness
from choreo.metrics.geometric import HUMERUS, PREDICATE_NAMES, J

FPS = 20.0


def rest_pose() -> np.ndarray:
    """Canonical rest pose [22,3] standing with the lowest joint on the floor."""
    pose = geometric._REST.copy()
    pose[:, 1] -= pose[:, 1].min()
    return pose


def still(frames: int = 40) -> np.ndarray:
    return np.repeat(rest_pose()[None], frames, axis=0)


def moving(velocity: np.ndarray, frames: int = 40) -> np.ndarray:
    t = np.arange(frames)[:, None, None] / FPS
    return still(frames) + t * np.asarray(velocity)[None, None, :]


def test_frozen_pose_has_zero_kinetic_energy_and_jitter():
    joints = still()
    assert np.all(kinetic.kinetic_features(joints, FPS) == 0.0)
    assert smoothness.jitter(joints, FPS) == 0.0
    assert np.all(kinetic.mean_joint_speed(joints, FPS) == 0.0)


def test_constant_velocity_gives_known_kinetic_features():
    feats = kinetic.kinetic_features(moving([1.5, 0.0, 2.0]), FPS).reshape(22, 3)
    np.testing.assert_allclose(feats[:, 0], 1.5**2 + 2.0**2)  # horizontal |v_xz|²
    np.testing.assert_allclose(feats[:, 1], 0.0, atol=1e-12)  # vertical
    np.testing.assert_allclose(feats[:, 2], 0.0, atol=1e-9)  # no acceleration
    vertical = kinetic.kinetic_features(moving([0.0, -0.5, 0.0]), FPS).reshape(22, 3)
    np.testing.assert_allclose(vertical[:, 1], 0.25)
    assert kinetic.kinetic_features(still(), FPS).shape == (66,)


def test_jitter_of_a_cubic_is_its_constant_jerk_and_noise_raises_it():
    frames = 60
    t = np.arange(frames) / FPS
    joints = still(frames).astype(np.float64)
    joints[:, :, 0] += (4.0 * t**3 / 6.0)[:, None]  # jerk 4 m/s³ on every joint
    assert smoothness.jitter(joints, FPS) == pytest.approx(4.0, rel=1e-6)
    noisy = joints + np.random.default_rng(0).normal(0.0, 0.005, joints.shape)
    assert smoothness.jitter(noisy, FPS) > 10 * smoothness.jitter(joints, FPS)


def test_rest_pose_satisfies_no_predicate():
    assert len(PREDICATE_NAMES) == 32
    assert np.all(geometric.geometric_features(still(), FPS) == 0.0)


def raised_right_arm(pose: np.ndarray) -> np.ndarray:
    """Right arm straight up above the shoulder."""
    pose = pose.copy()
    sh = pose[J["right_shoulder"]]
    pose[J["right_elbow"]] = sh + [0.0, 0.26, 0.0]
    pose[J["right_wrist"]] = sh + [0.0, 0.53, 0.0]
    return pose


def features_of(pose: np.ndarray) -> dict[str, float]:
    joints = np.repeat(pose[None], 10, axis=0)
    return dict(zip(PREDICATE_NAMES, geometric.geometric_features(joints, FPS), strict=True))


def test_raised_arm_predicates_and_heading_invariance():
    feats = features_of(raised_right_arm(rest_pose()))
    on = {k for k, v in feats.items() if v}
    assert on == {"right_hand_above_neck", "right_arm_raised"}
    # Turning the dancer 90° about the vertical axis changes nothing.
    turn = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    turned = features_of(raised_right_arm(rest_pose()) @ turn.T)
    assert turned == feats


def test_fast_travel_turns_on_exactly_the_speed_predicates():
    speed = 1.0  # m/s, above 2.5 humerus/s ≈ 0.65 m/s
    assert speed > 2.5 * HUMERUS
    feats = dict(zip(PREDICATE_NAMES, geometric.geometric_features(moving([speed, 0, 0]), FPS), strict=True))
    on = {k for k, v in feats.items() if v}
    assert on == {"left_hand_fast", "right_hand_fast", "left_foot_fast", "right_foot_fast", "root_fast"}
    assert all(feats[k] == 1.0 for k in on)


def test_crouch_and_lifted_foot():
    pose = rest_pose()
    crouch = pose.copy()
    upper = [i for i in range(22) if i not in (J["left_ankle"], J["right_ankle"], J["left_foot"],
                                                J["right_foot"], J["left_knee"], J["right_knee"])]
    crouch[upper, 1] -= 0.3
    assert features_of(crouch)["crouched"] == 1.0
    lifted = pose.copy()
    lifted[[J["left_ankle"], J["left_foot"]], 1] += 0.2  # 0.2 m > 0.5·humerus
    feats = features_of(lifted)
    assert feats["left_foot_lifted"] == 1.0 and feats["right_foot_lifted"] == 0.0
