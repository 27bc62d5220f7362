"""BVH export: readers (pybvh, bvhio) reproduce the joint positions; Euler angles are continuous."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from choreo.errors import ChoreoError
from choreo.formats.bvh_writer import (
    BVH_UNITS_PER_METRE,
    bvh_forward_kinematics,
    continuous_euler_zxy,
    euler_zxy_to_matrix,
    solve_bvh,
    write_bvh,
)
from choreo.motion import Motion
from choreo.quaternion import quat_to_matrix, qyaw
from choreo.skeleton import JOINT_NAMES, bone_lengths, canonical_offsets, forward_kinematics

from synthetic_motion import axis_angle_to_quat, rigid_dance

TOLERANCE_M = 1e-3


@pytest.fixture(scope="module")
def dance_bvh(tmp_path_factory):
    joints = rigid_dance(frames=60, seed=1)
    path = write_bvh(Motion(joints, fps=20.0), tmp_path_factory.mktemp("bvh") / "dance.bvh")
    return joints, path


def _pybvh_positions(path) -> np.ndarray:
    pybvh = pytest.importorskip("pybvh")
    bvh = pybvh.read_bvh_file(path, world_up="+y")
    names = [n.name for n in bvh.nodes if not n.is_end_site()]
    order = [names.index(n) for n in JOINT_NAMES]
    return bvh.joint_positions()[:, order] / BVH_UNITS_PER_METRE, bvh


def test_pybvh_reads_back_the_joint_positions(dance_bvh):
    joints, path = dance_bvh
    positions, bvh = _pybvh_positions(path)
    assert bvh.frame_count == len(joints)
    assert bvh.fps == pytest.approx(20.0)
    assert np.abs(positions - joints).max() < TOLERANCE_M


def test_bvhio_reads_back_the_joint_positions(dance_bvh):
    bvhio = pytest.importorskip("bvhio")
    joints, path = dance_bvh
    root = bvhio.readAsHierarchy(str(path))
    by_name = {joint.Name: joint for joint, _, _ in root.layout()}
    assert set(by_name) >= set(JOINT_NAMES)
    worst = 0.0
    for frame in range(0, len(joints), 3):
        root.loadPose(frame)
        pos = np.array([list(by_name[n].PositionWorld) for n in JOINT_NAMES]) / BVH_UNITS_PER_METRE
        worst = max(worst, float(np.abs(pos - joints[frame]).max()))
    assert worst < TOLERANCE_M


def test_header_has_our_joints_channels_end_sites_and_frame_time(dance_bvh):
    joints, path = dance_bvh
    text = path.read_text()
    assert sorted(re.findall(r"(?:ROOT|JOINT) (\w+)", text)) == sorted(JOINT_NAMES)
    assert "ROOT pelvis" in text
    assert text.count("CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation") == 1
    assert text.count("CHANNELS 3 Zrotation Xrotation Yrotation") == 21
    assert text.count("End Site") == 5
    assert f"Frames: {len(joints)}" in text
    assert re.search(r"Frame Time: 0\.050*\n", text)
    motion_rows = text.split("Frame Time:")[1].strip().splitlines()[1:]
    assert len(motion_rows) == len(joints) and all(len(r.split()) == 6 + 21 * 3 for r in motion_rows)


def test_offsets_are_the_clip_bone_lengths_in_centimetres(dance_bvh):
    joints, path = dance_bvh
    text = path.read_text()
    knee_offset = re.search(r"JOINT left_knee\s*\{\s*OFFSET ([-\d. ]+)", text).group(1).split()
    length_cm = bone_lengths(joints)[0, JOINT_NAMES.index("left_knee")] * 100
    np.testing.assert_allclose([float(v) for v in knee_offset], [0.0, -length_cm, 0.0], atol=1e-4)


def test_own_fk_reproduces_input_with_stretchy_bones_up_to_the_stretch():
    joints = rigid_dance(frames=30, seed=2)
    rng = np.random.default_rng(0)
    noisy = joints + rng.normal(0, 0.005, joints.shape)  # bones now change length by about a centimetre
    err = np.abs(bvh_forward_kinematics(solve_bvh(noisy, 20.0)) - noisy).max()
    assert 1e-4 < err < 0.06


def test_euler_channels_never_jump_more_than_180_degrees_and_root_spin_accumulates():
    frames = 80
    yaw = np.linspace(0.0, 4 * np.pi, frames)  # two full turns
    q = np.zeros((frames, 22, 4))
    q[..., 0] = 1.0
    q[:, 0] = qyaw(yaw)
    q[:, 16] = axis_angle_to_quat(np.stack([np.zeros(frames), np.zeros(frames), yaw], axis=-1))  # arm spins
    joints = forward_kinematics(q, np.tile([0.0, 0.9, 0.0], (frames, 1)), canonical_offsets())
    anim = solve_bvh(joints, 20.0)
    jumps = np.rad2deg(np.abs(np.diff(anim.euler_zxy, axis=0)))
    assert jumps.max() < 180.0
    # The root's Y channel carries the whole 720° turn instead of wrapping back to ±180°.
    root_y = np.rad2deg(anim.euler_zxy[:, 0, 2])
    assert abs(root_y[-1] - root_y[0]) == pytest.approx(720.0, abs=1.0)
    assert np.abs(bvh_forward_kinematics(anim) - joints).max() < 1e-6


def test_continuous_euler_survives_gimbal_lock_and_matches_the_rotation():
    frames = 51
    # Pitch through +90° (the middle frame is exactly the gimbal lock of ZXY) while yawing and rolling.
    pitch = np.linspace(0.5, np.pi - 0.5, frames)
    angles = np.stack([np.linspace(-1, 1, frames), pitch, np.linspace(0, 3, frames)], axis=-1)
    mats = euler_zxy_to_matrix(angles)[:, None]
    euler = continuous_euler_zxy(mats)
    np.testing.assert_allclose(euler_zxy_to_matrix(euler), mats, atol=1e-6)
    assert np.rad2deg(np.abs(np.diff(euler, axis=0))).max() < 180.0


def test_limbs_do_not_twist_when_the_whole_body_turns():
    frames = 40
    base = rigid_dance(frames=1, seed=3, turn_rad=0.0)[0]
    turn = quat_to_matrix(qyaw(np.linspace(0, 2 * np.pi, frames)))  # rigid turn about the vertical axis
    joints = np.einsum("tij,kj->tki", turn, base - base[0]) + base[0]
    anim = solve_bvh(joints, 20.0)
    local = euler_zxy_to_matrix(anim.euler_zxy[:, 1:])  # every joint but the root
    # A rigid turn is all in the root: no joint's local rotation may change (no twist creeping in).
    assert np.abs(local - local[:1]).max() < 1e-6


def test_wrong_shaped_or_invalid_motion_is_a_choreo_error():
    with pytest.raises(ChoreoError, match=r"\[frames, 22, 3\]"):
        solve_bvh(np.zeros((10, 21, 3)), 20.0)
    bad = rigid_dance(frames=5)
    bad[2, 4, 1] = np.nan
    with pytest.raises(ChoreoError, match="NaN"):
        solve_bvh(bad, 20.0)
    with pytest.raises(ChoreoError, match="frame rate"):
        solve_bvh(rigid_dance(frames=5), 0.0)


THREE_CHECK_JS = """
import fs from 'fs';
import * as THREE from '%(three)s/build/three.module.js';
import { BVHLoader } from '%(three)s/examples/jsm/loaders/BVHLoader.js';
const [,, bvhPath, expPath, fps] = process.argv;
const result = new BVHLoader().parse(fs.readFileSync(bvhPath, 'utf8'));
const expected = JSON.parse(fs.readFileSync(expPath, 'utf8'));
const bones = result.skeleton.bones, root = bones[0];
const mixer = new THREE.AnimationMixer(root);
mixer.clipAction(result.clip).play();
const byName = Object.fromEntries(bones.map(b => [b.name, b]));
let worst = 0;
for (let f = 0; f < expected.positions.length; f++) {
  mixer.setTime(f / Number(fps));
  root.updateMatrixWorld(true);
  expected.names.forEach((n, j) => {
    const p = new THREE.Vector3().setFromMatrixPosition(byName[n].matrixWorld), e = expected.positions[f][j];
    worst = Math.max(worst, Math.abs(p.x - e[0]), Math.abs(p.y - e[1]), Math.abs(p.z - e[2]));
  });
}
console.log(worst);
"""


def _three_package_dir():
    """three.js from $CHOREO_THREE_DIR (a folder holding node_modules/three) or a node_modules in the repo."""
    repo = Path(__file__).resolve().parents[2]
    candidates = [Path(os.environ["CHOREO_THREE_DIR"])] if os.environ.get("CHOREO_THREE_DIR") else []
    candidates += [repo, *sorted(p for p in repo.iterdir() if p.is_dir() and not p.name.startswith("."))]
    for folder in candidates:
        loader = folder / "node_modules" / "three" / "examples" / "jsm" / "loaders" / "BVHLoader.js"
        if loader.is_file():
            return loader.parents[3]
    return None


def test_threejs_bvhloader_reads_back_the_joint_positions(dance_bvh, tmp_path):
    node, three = shutil.which("node"), _three_package_dir()
    if node is None or three is None:
        pytest.skip("needs node and three.js (set CHOREO_THREE_DIR to a folder with node_modules/three)")
    joints, path = dance_bvh
    expected = tmp_path / "expected.json"
    expected.write_text(json.dumps({"names": list(JOINT_NAMES), "positions": (joints * 100).tolist()}))
    script = tmp_path / "check.mjs"
    script.write_text(THREE_CHECK_JS % {"three": three.as_posix()})
    run = subprocess.run([node, str(script), str(path), str(expected), "20"], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert float(run.stdout.strip()) / BVH_UNITS_PER_METRE < TOLERANCE_M
