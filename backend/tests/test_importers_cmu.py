"""Importers on the real CMU data beside the project (skipped when ../shared/data is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from choreo.formats.cleanup import standing_height
from choreo.importers import load_motions
from choreo.skeleton import FOOT_JOINTS, JOINT_NAMES, bone_lengths

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
J = {n: i for i, n in enumerate(JOINT_NAMES)}
# Bones that are one rig bone in every CMU rig (legs and arms): their length must not change.
LIMB_BONES = [J[f"{s}_{b}"] for s in ("left", "right") for b in ("knee", "ankle", "elbow", "wrist", "foot")]


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared CMU data not found at {path} (it lives beside the project, not in it)")
    return path


def _check_physical(m, speed_range: tuple[float, float]) -> None:
    j = m.joints
    bl = bone_lengths(j)
    assert bl[:, LIMB_BONES].std(axis=0).max() < 1e-4
    assert bl.std(axis=0).max() < 0.02  # trunk chains of the CC rig bend a little
    assert 1.4 <= standing_height(j) <= 2.0
    assert abs(j[:, list(FOOT_JOINTS), 1].min()) < 1e-6
    # Feet are mostly near the floor: median lowest-foot height under 10 cm.
    assert np.median(j[:, list(FOOT_JOINTS), 1].min(axis=1)) < 0.1
    speed = np.median(np.linalg.norm(np.diff(j[:, J["pelvis"], [0, 2]], axis=0), axis=-1)) * m.fps
    assert speed_range[0] <= speed <= speed_range[1]
    # Our left is the performer's left: toes point along cross(left - right, up) (facing direction).
    across = j[:, J["left_hip"]] - j[:, J["right_hip"]]
    facing = np.cross(across, [0.0, 1.0, 0.0])
    toes = j[:, J["left_foot"]] - j[:, J["left_ankle"]] + j[:, J["right_foot"]] - j[:, J["right_ankle"]]
    assert np.mean(np.sum(facing * toes, axis=-1) > 0) > 0.9


def test_salsa_bvh():
    (m,) = load_motions(_need(DATA / "cmu" / "salsa" / "60_01_scaled.bvh"))
    assert m.meta["source_fps"] == 60.0 and m.meta["dropped_tpose_frames"] >= 1
    assert (m.style, m.performance, m.text) == ("salsa", "salsa_01", "salsa dance")
    _check_physical(m, (0.2, 0.8))


def test_modern_bvh():
    (m,) = load_motions(_need(DATA / "cmu" / "modern" / "005_02.bvh"))
    assert m.meta["rig"] == "reallusion_cc" and m.meta["unit"] == "cm"
    assert m.style == "modern" and m.performance == "cmu_5_2" and m.text.startswith("dance")
    _check_physical(m, (0.02, 0.8))


def test_charleston_amc():
    (m,) = load_motions(_need(DATA / "cmu" / "charleston" / "93_04.amc"))
    assert m.meta["rig"] == "cmu_asf" and m.meta["source_fps"] == 120.0
    assert m.style == "charleston" and m.text == "charleston_side_by_side_female"
    _check_physical(m, (0.1, 0.8))
