"""Foot metrics (PFC, two skating ratios, floor penetration) on constructed motions."""

import numpy as np
import pytest

from choreo.metrics import foot
from choreo.metrics.geometric import _REST

FPS = 20.0
FEET = list(foot.FOOT_JOINTS)


def standing(frames: int = 60) -> np.ndarray:
    joints = np.repeat(_REST[None], frames, axis=0).astype(np.float64)
    joints[..., 1] -= joints[..., 1].min()  # ankle and toe on the floor
    return joints


def sliding(speed: float, frames: int = 60) -> np.ndarray:
    """The whole standing body glides along x at `speed` m/s, feet on the floor."""
    joints = standing(frames)
    joints[..., 0] += (np.arange(frames) / FPS * speed)[:, None]
    return joints


def test_sliding_feet_skate_on_every_frame():
    joints = sliding(1.0)
    assert foot.skating_ratio_lodge(joints, FPS) == 1.0
    assert foot.skating_ratio_motionlcm(joints, FPS) == 1.0


def test_planted_feet_never_skate():
    assert foot.skating_ratio_lodge(standing(), FPS) == 0.0
    assert foot.skating_ratio_motionlcm(standing(), FPS) == 0.0


def test_slow_drift_below_the_thresholds_is_not_skating():
    joints = sliding(0.2)  # below 0.3 m/s (Lodge: |mean(vx,vz)| = 0.1) and 0.5 m/s (MotionLCM)
    assert foot.skating_ratio_lodge(joints, FPS) == 0.0
    assert foot.skating_ratio_motionlcm(joints, FPS) == 0.0


def test_airborne_feet_are_not_counted():
    joints = sliding(1.0)
    joints[..., 1] += 0.2  # MotionLCM uses absolute height: nothing is in contact
    assert foot.skating_ratio_motionlcm(joints, FPS) == 0.0
    joints[:, foot.L_ANKLE, 1] += 0.3  # Lodge grounds the clip: only the right foot touches
    joints[:, foot.L_TOE, 1] += 0.3
    assert foot.skating_ratio_lodge(joints, FPS) == 1.0


def test_floor_penetration_measures_a_known_depth():
    joints = standing()
    joints[..., 1] -= 0.03
    pen = foot.floor_penetration(joints)
    assert pen["mean_m"] == pytest.approx(0.03) and pen["max_m"] == pytest.approx(0.03)
    assert pen["frame_ratio"] == 1.0
    joints[:30, :, 1] += 0.03  # half the frames back on the floor
    assert foot.floor_penetration(joints)["mean_m"] == pytest.approx(0.015)
    assert foot.floor_penetration(standing())["max_m"] == 0.0


def accelerating_root(frames: int = 60) -> np.ndarray:
    joints = standing(frames)
    t = np.arange(frames) / FPS
    joints[:, 0, 0] += 0.5 * 2.0 * t**2  # constant 2 m/s² along x: â_root = 1 on every frame
    return joints


def test_pfc_known_value_when_both_feet_slide_under_an_accelerating_root():
    joints = accelerating_root()
    t = np.arange(len(joints)) / FPS
    joints[:, FEET, 0] += 0.3 * t[:, None]  # feet at 0.3 m/s = 0.01 m per 30-fps frame
    assert foot.pfc(joints, FPS) == pytest.approx(1e4 * 0.01 * 0.01, rel=1e-6)


def test_pfc_zero_when_one_foot_is_planted():
    joints = accelerating_root()
    t = np.arange(len(joints)) / FPS
    joints[:, [foot.R_ANKLE, foot.R_TOE], 0] += 0.3 * t[:, None]  # right foot slides, left stays put
    assert foot.pfc(joints, FPS) == 0.0


def test_pfc_uses_the_slower_of_ankle_and_toe():
    joints = accelerating_root()
    t = np.arange(len(joints)) / FPS
    joints[:, FEET, 0] += 0.3 * t[:, None]
    joints[:, [foot.L_TOE, foot.R_TOE], 2] += 0.6 * t[:, None]  # toes faster than ankles
    assert foot.pfc(joints, FPS) == pytest.approx(1.0, rel=1e-6)


def test_grounded_as_generated_counts_the_low_sliding_steps_floating_feet_hide():
    # A captured body standing 5.5 cm too high on its left foot while its right foot glides low along x: as
    # stored, both toes are above MotionLCM's 5-cm line and nothing skates; on the floor the generated motion
    # stands on (planted toes at 2 cm), the gliding toe skates on every frame.
    joints = standing() + np.array([0.0, 0.055, 0.0])
    r_ankle, r_toe = foot.R_ANKLE, foot.R_TOE
    joints[:, [r_ankle, r_toe], 0] += (np.arange(len(joints)) / FPS * 1.0)[:, None]
    assert foot.skating_ratio_motionlcm(joints, FPS) == 0.0
    grounded = foot.grounded_as_generated(joints, FPS)
    assert grounded[:, foot.L_TOE, 1] == pytest.approx(np.full(len(joints), 0.02))
    assert foot.skating_ratio_motionlcm(grounded, FPS) == 1.0
    assert np.allclose(np.diff(grounded - joints, axis=0), 0.0)  # one vertical shift, nothing else moves
