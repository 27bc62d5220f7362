"""Bone-length consistency check."""

import numpy as np
import pytest

from choreo.metrics import skeleton_checks
from choreo.metrics.geometric import _REST, J


def test_rigid_skeleton_passes():
    report = skeleton_checks.bone_length_report(np.repeat(_REST[None], 10, axis=0))
    assert report["flagged"] == [] and report["worst_rel_dev"] == pytest.approx(0.0, abs=1e-12)
    assert report["worst_canonical_dev"] == pytest.approx(0.0, abs=1e-9)


def test_stretched_forearm_is_flagged_with_its_deviation():
    joints = np.repeat(_REST[None], 10, axis=0).astype(np.float64)
    elbow, wrist = J["right_elbow"], J["right_wrist"]
    joints[:3, wrist] = joints[:3, elbow] + 1.2 * (joints[:3, wrist] - joints[:3, elbow])  # +20 % on 3 frames
    report = skeleton_checks.bone_length_report(joints)
    assert report["flagged"] == ["right_wrist"]  # bone right_elbow → right_wrist
    assert report["worst_bone"] == "right_wrist"
    assert report["max_rel_dev"]["right_wrist"] == pytest.approx(0.2, rel=1e-6)
    forearm = np.linalg.norm(_REST[wrist] - _REST[elbow])
    assert report["std_m"]["right_wrist"] == pytest.approx(0.2 * forearm * np.sqrt(0.3 * 0.7), rel=1e-4)
    assert report["std_m"]["left_wrist"] == 0.0
