"""BVH and ASF/AMC importers on small files written here (known rotations, units, rates, errors)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from choreo.errors import ChoreoError
from choreo.formats.bvh_reader import euler_to_matrices
from choreo.importers import load_motions
from choreo.skeleton import CANONICAL_BONE_LENGTHS, FOOT_JOINTS, JOINT_NAMES, bone_lengths

J = {n: i for i, n in enumerate(JOINT_NAMES)}

# A cgspeed-named rig (CMU salsa style), metres, Y up, facing +Z, left = +X, T-pose at rest.
# (name, parent, offset); End Sites are added to leaf joints.
CGSPEED_RIG = [
    ("hip", None, (0, 0.95, 0)),
    ("abdomen", "hip", (0, 0.12, 0)),
    ("chest", "abdomen", (0, 0.14, 0)),
    ("neck", "chest", (0, 0.22, 0)),
    ("head", "neck", (0, 0.10, 0)),
    ("lCollar", "chest", (0.03, 0.18, 0)),
    ("lShldr", "lCollar", (0.12, 0, 0)),
    ("lForeArm", "lShldr", (0.26, 0, 0)),
    ("lHand", "lForeArm", (0.25, 0, 0)),
    ("rCollar", "chest", (-0.03, 0.18, 0)),
    ("rShldr", "rCollar", (-0.12, 0, 0)),
    ("rForeArm", "rShldr", (-0.26, 0, 0)),
    ("rHand", "rForeArm", (-0.25, 0, 0)),
    ("lButtock", "hip", (0.09, -0.02, 0)),
    ("lThigh", "lButtock", (0, -0.06, 0)),
    ("lShin", "lThigh", (0, -0.40, 0)),
    ("lFoot", "lShin", (0, -0.42, 0)),
    ("rButtock", "hip", (-0.09, -0.02, 0)),
    ("rThigh", "rButtock", (0, -0.06, 0)),
    ("rShin", "rThigh", (0, -0.40, 0)),
    ("rFoot", "rShin", (0, -0.42, 0)),
]
END_SITES = {
    "head": (0, 0.1, 0),
    "lHand": (0.08, 0, 0),
    "rHand": (-0.08, 0, 0),
    "lFoot": (0, -0.05, 0.14),
    "rFoot": (0, -0.05, 0.14),
}
ROT_ORDER = "Zrotation Xrotation Yrotation"


def write_bvh(
    path: Path,
    frames: np.ndarray,
    frame_time: float,
    rig=CGSPEED_RIG,
    scale: float = 1.0,
    rot_order: str = ROT_ORDER,
    truncate: int = 0,
) -> Path:
    """frames: [T, 3 + 3*len(rig)] = root position then each joint's rotation in `rot_order` (degrees)."""
    children: dict[str | None, list[int]] = {}
    for i, (_, parent, _) in enumerate(rig):
        children.setdefault(parent, []).append(i)
    lines = ["HIERARCHY"]

    def emit(i: int, depth: int) -> None:
        name, parent, off = rig[i]
        pad = "\t" * depth
        lines.append(f"{pad}{'ROOT' if parent is None else 'JOINT'} {name}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}\tOFFSET {' '.join(f'{v * scale:.6f}' for v in off)}")
        chans = ("Xposition Yposition Zposition " if parent is None else "") + rot_order
        lines.append(f"{pad}\tCHANNELS {len(chans.split())} {chans}")
        for c in children.get(name, []):
            emit(c, depth + 1)
        if name in END_SITES:
            lines.extend(
                [
                    f"{pad}\tEnd Site",
                    f"{pad}\t{{",
                    f"{pad}\t\tOFFSET {' '.join(f'{v * scale:.6f}' for v in END_SITES[name])}",
                    f"{pad}\t}}",
                ]
            )
        lines.append(f"{pad}}}")

    emit(0, 0)
    lines += ["MOTION", f"Frames: {len(frames)}", f"Frame Time: {frame_time:.6f}"]
    lines += [" ".join(f"{v:.6f}" for v in row) for row in frames]
    text = "\n".join(lines) + "\n"
    if truncate:
        text = text[:-truncate]
    path.write_text(text)
    return path


def zero_frames(n: int) -> np.ndarray:
    frames = np.zeros((n, 3 + 3 * len(CGSPEED_RIG)))
    return frames


def rot_col(joint: str, axis: str, order: str = ROT_ORDER) -> int:
    """Column of one joint's rotation channel about `axis`."""
    idx = [n for n, _, _ in CGSPEED_RIG].index(joint)
    return 3 + 3 * idx + [c[0] for c in order.split()].index(axis)


def walking_frames(n: int, fps: float) -> np.ndarray:
    """Arms down (not a T-pose), knees swinging, root moving forward at 1 m/s."""
    frames = zero_frames(n)
    t = np.arange(n) / fps
    frames[:, 2] = t * 1.0
    frames[:, rot_col("lShldr", "Z")] = -80.0
    frames[:, rot_col("rShldr", "Z")] = 80.0
    frames[:, rot_col("lThigh", "X")] = 20 * np.sin(2 * np.pi * t)
    frames[:, rot_col("rThigh", "X")] = -20 * np.sin(2 * np.pi * t)
    frames[:, rot_col("lShin", "X")] = 30 + 20 * np.sin(2 * np.pi * t)
    return frames


def test_euler_order_matches_scipy_intrinsic():
    angles = np.array([[30.0, -50.0, 75.0], [10.0, 120.0, -20.0]])
    for order in ("ZXY", "XYZ", "YZX"):
        ours = euler_to_matrices(angles, order)
        ref = Rotation.from_euler(order, angles, degrees=True).as_matrix()  # uppercase = intrinsic
        np.testing.assert_allclose(ours, ref, atol=1e-12)


def test_bvh_walk_rate_bones_floor_and_sides(tmp_path):
    frames = walking_frames(120, 60.0)  # 2 s at 60 fps
    path = write_bvh(tmp_path / "walk.bvh", frames, 1 / 60)
    (m,) = load_motions(path)
    assert m.fps == 20 and m.num_frames == 40  # decimated 60 -> 20
    assert m.meta["rig"] == "cmu_cgspeed" and m.meta["unit"] == "m"
    bl = bone_lengths(m.joints)
    assert bl.std(axis=0).max() < 1e-4
    assert abs(m.joints[:, list(FOOT_JOINTS), 1].min()) < 1e-6
    # Performer's left is our left: +X when facing +Z.
    assert np.all(m.joints[:, J["left_hip"], 0] > m.joints[:, J["right_hip"], 0])
    assert np.all(m.joints[:, J["left_wrist"], 0] > m.joints[:, J["right_wrist"], 0])
    # Toes (the foot End Site) point forward, +Z.
    assert np.all(m.joints[:, J["left_foot"], 2] > m.joints[:, J["left_ankle"], 2])
    # Root speed 1 m/s survives resampling: 1/20 m per output frame.
    np.testing.assert_allclose(np.diff(m.joints[:, J["pelvis"], 2]), 0.05, atol=1e-5)
    # Shldr bone known: 0.26 m (lShldr -> lForeArm).
    np.testing.assert_allclose(bl[:, J["left_elbow"]], 0.26, atol=1e-5)


def test_bvh_known_rotations_knee_and_root(tmp_path):
    frames = walking_frames(3, 30.0)
    frames[:, rot_col("lThigh", "X")] = 0.0
    frames[:, rot_col("lShin", "X")] = 90.0  # knee bent: shin swings backwards (-Z)
    frames[1, rot_col("hip", "Y")] = 180.0  # whole body turned round: left is now -X
    (m,) = load_motions(write_bvh(tmp_path / "bend.bvh", frames, 1 / 20))
    ankle_from_knee = m.joints[0, J["left_ankle"]] - m.joints[0, J["left_knee"]]
    np.testing.assert_allclose(ankle_from_knee, [0, 0, -0.42], atol=1e-5)
    assert m.joints[1, J["left_hip"], 0] < m.joints[1, J["right_hip"], 0]


def test_bvh_channel_order_other_than_zxy(tmp_path):
    """Same pose written with XZY channels gives the same joints."""
    frames = walking_frames(30, 20.0)
    frames[:, rot_col("chest", "X")] = 25.0
    frames[:, rot_col("chest", "Y")] = 40.0
    frames[:, rot_col("chest", "Z")] = -15.0
    (a,) = load_motions(write_bvh(tmp_path / "a.bvh", frames, 1 / 20))
    # Euler angles for the XZY order that give the same rotation matrices as ZXY ones.
    other = frames.copy()
    for i in range(len(CGSPEED_RIG)):
        zxy = frames[:, 3 + 3 * i : 6 + 3 * i]
        xzy = Rotation.from_euler("ZXY", zxy, degrees=True).as_euler("XZY", degrees=True)
        other[:, 3 + 3 * i : 6 + 3 * i] = xzy
    (b,) = load_motions(
        write_bvh(tmp_path / "b.bvh", other, 1 / 20, rot_order="Xrotation Zrotation Yrotation")
    )
    np.testing.assert_allclose(a.joints, b.joints, atol=1e-4)


def test_bvh_centimetres_are_converted(tmp_path):
    frames = walking_frames(40, 20.0)
    frames[:, :3] *= 100
    (m,) = load_motions(write_bvh(tmp_path / "cm.bvh", frames, 1 / 20, scale=100.0))
    assert m.meta["unit"] == "cm"
    np.testing.assert_allclose(bone_lengths(m.joints)[0, J["left_knee"]], 0.40, atol=1e-5)


def test_bvh_unitless_scaled_file_gets_canonical_leg_and_known_rate(tmp_path):
    frames = walking_frames(240, 60.0)
    # Named like the salsa files: header claims 120 fps, the rate table says 60; no metric scale.
    path = write_bvh(tmp_path / "60_01_scaled.bvh", frames, 1 / 120, scale=0.77)
    (m,) = load_motions(path)
    assert m.meta["source_fps"] == 60.0 and m.num_frames == 80
    assert m.meta["unit"] == "canonical_leg"
    leg = bone_lengths(m.joints)[0, [J["left_knee"], J["left_ankle"]]].sum()
    canonical = (CANONICAL_BONE_LENGTHS[[4, 7]].sum() + CANONICAL_BONE_LENGTHS[[5, 8]].sum()) / 2
    np.testing.assert_allclose(leg, canonical, atol=1e-5)
    (m2,) = load_motions(path, fps=30.0)  # caller's fps wins
    assert m2.meta["source_fps"] == 30.0


def test_bvh_zup_file_is_turned_y_up(tmp_path):
    zup = [(n, p, (o[0], -o[2], o[1])) for n, p, o in CGSPEED_RIG]  # Y-up -> Z-up: (x, y, z) -> (x, -z, y)
    frames = walking_frames(20, 20.0)
    frames[:, 1:3] = 0.0
    (m,) = load_motions(write_bvh(tmp_path / "zup.bvh", frames, 1 / 20, rig=zup))
    assert m.meta["up_axis"] == "+Z"
    assert np.all(m.joints[:, J["head"], 1] > m.joints[:, J["pelvis"], 1] + 0.3)
    assert np.all(m.joints[:, J["left_hip"], 0] > m.joints[:, J["right_hip"], 0])


def test_bvh_leading_tpose_frame_is_dropped(tmp_path):
    frames = walking_frames(61, 60.0)
    frames[0] = 0.0  # rest pose of this rig is a T-pose
    frames[0, 1] = 0.0
    (m,) = load_motions(write_bvh(tmp_path / "t.bvh", frames, 1 / 60))
    assert m.meta["dropped_tpose_frames"] == 1
    assert m.num_frames == 20


def test_bvh_truncated_names_file(tmp_path):
    path = write_bvh(tmp_path / "cut.bvh", walking_frames(10, 20.0), 1 / 20, truncate=200)
    with pytest.raises(ChoreoError, match="cut.bvh.*truncated"):
        load_motions(path)


def test_bvh_unknown_rig_lists_missing_joints_and_joint_map_fixes_it(tmp_path):
    rig = [
        ("Bone_" + n if n == "lShin" else n, "Bone_lShin" if p == "lShin" else p, o)
        for n, p, o in CGSPEED_RIG
    ]
    path = write_bvh(tmp_path / "odd.bvh", walking_frames(20, 20.0), 1 / 20, rig=rig)
    with pytest.raises(ChoreoError, match=r"odd\.bvh.*left_knee"):
        load_motions(path)
    jmap = tmp_path / "map.json"
    jmap.write_text(json.dumps({"left_knee": "Bone_lShin"}))
    (m,) = load_motions(path, joint_map=jmap)
    np.testing.assert_allclose(bone_lengths(m.joints)[:, J["left_knee"]], 0.40, atol=1e-5)


def test_mixamo_names_are_matched(tmp_path):
    names = {"hip": "Hips", "abdomen": "Spine", "chest": "Spine1", "neck": "Neck", "head": "Head"}
    side = {
        "Collar": "Shoulder",
        "Shldr": "Arm",
        "ForeArm": "ForeArm",
        "Hand": "Hand",
        "Thigh": "UpLeg",
        "Shin": "Leg",
        "Foot": "Foot",
        "Buttock": "Buttock",
    }
    for s, full in (("l", "Left"), ("r", "Right")):
        for k, v in side.items():
            names[s + k] = full + v
    rig = [
        ("mixamorig:" + names[n], None if p is None else "mixamorig:" + names[p], o)
        for n, p, o in CGSPEED_RIG
    ]
    # mixamo needs Spine2 and toe joints: insert Spine2 between Spine1 and the neck, toes under the feet.
    rig.insert(3, ("mixamorig:Spine2", "mixamorig:Spine1", (0, 0.05, 0)))
    rig = [
        (n, "mixamorig:Spine2" if n == "mixamorig:Neck" else p, (0, 0.17, 0) if n == "mixamorig:Neck" else o)
        for n, p, o in rig
    ]
    rig += [
        ("mixamorig:LeftToeBase", "mixamorig:LeftFoot", (0, -0.05, 0.14)),
        ("mixamorig:RightToeBase", "mixamorig:RightFoot", (0, -0.05, 0.14)),
    ]
    frames = np.zeros((20, 3 + 3 * len(rig)))
    (m,) = load_motions(write_bvh(tmp_path / "mixamo.bvh", frames, 1 / 20, rig=rig))
    assert m.meta["rig"] == "mixamo"
    assert m.joints[0, J["left_hip"], 0] > 0 > m.joints[0, J["right_hip"], 0]
    np.testing.assert_allclose(
        m.joints[0, J["left_foot"]] - m.joints[0, J["left_ankle"]], [0, -0.05, 0.14], atol=1e-5
    )


def test_cmu_labels_from_descriptions_csv(tmp_path):
    folder = tmp_path / "cmu" / "salsa"
    folder.mkdir(parents=True)
    (tmp_path / "cmu" / "descriptions.csv").write_text(
        'subject,trial,description,capture_fps\n60,2,salsa dance,60\n61,2,"salsa, follow",60\n'
    )
    frames = walking_frames(60, 60.0)
    lead = load_motions(write_bvh(folder / "60_02_scaled.bvh", frames, 1 / 120))[0]
    follow = load_motions(write_bvh(folder / "61_02_scaled.bvh", frames, 1 / 120))[0]
    assert (lead.text, lead.style, lead.performance) == ("salsa dance", "salsa", "salsa_02")
    assert follow.text == "salsa, follow" and follow.performance == lead.performance


# ---------------------------------------------------------------- ASF / AMC

ASF_BONES = [
    # name, direction, length (units of 1/0.45 in), axis, dof
    ("lhipjoint", (1, -1, 0), 1.5, (0, 0, 0), ""),
    ("lfemur", (0, -1, 0), 7.0, (0, 0, 0), "rx ry rz"),
    ("ltibia", (0, -1, 0), 7.5, (0, 0, 0), "rx"),
    ("lfoot", (0, -0.3, 1), 2.5, (0, 0, 0), "rx rz"),
    ("rhipjoint", (-1, -1, 0), 1.5, (0, 0, 0), ""),
    ("rfemur", (0, -1, 0), 7.0, (0, 0, 0), "rx ry rz"),
    ("rtibia", (0, -1, 0), 7.5, (0, 0, 0), "rx"),
    ("rfoot", (0, -0.3, 1), 2.5, (0, 0, 0), "rx rz"),
    ("lowerback", (0, 1, 0), 2.0, (0, 0, 0), "rx ry rz"),
    ("upperback", (0, 1, 0), 2.0, (0, 0, 0), "rx ry rz"),
    ("thorax", (0, 1, 0), 2.0, (0, 0, 0), "rx ry rz"),
    ("lowerneck", (0, 1, 0), 1.6, (0, 0, 0), "rx ry rz"),
    ("upperneck", (0, 1, 0), 1.6, (0, 0, 0), "rx ry rz"),
    ("head", (0, 1, 0), 1.6, (0, 0, 0), "rx ry rz"),
    ("lclavicle", (1, 0.2, 0), 3.0, (0, 0, 0), "ry rz"),
    ("lhumerus", (1, 0, 0), 5.0, (0, 0, 90), "rx ry rz"),
    ("lradius", (1, 0, 0), 4.5, (0, 0, 90), "rx"),
    ("rclavicle", (-1, 0.2, 0), 3.0, (0, 0, 0), "ry rz"),
    ("rhumerus", (-1, 0, 0), 5.0, (0, 0, -90), "rx ry rz"),
    ("rradius", (-1, 0, 0), 4.5, (0, 0, -90), "rx"),
]
ASF_HIERARCHY = """root lhipjoint rhipjoint lowerback
lhipjoint lfemur
lfemur ltibia
ltibia lfoot
rhipjoint rfemur
rfemur rtibia
rtibia rfoot
lowerback upperback
upperback thorax
thorax lowerneck lclavicle rclavicle
lowerneck upperneck
upperneck head
lclavicle lhumerus
lhumerus lradius
rclavicle rhumerus
rhumerus rradius"""
UNIT_M = 0.0254 / 0.45


def write_asf(path: Path) -> Path:
    out = [
        ":version 1.10",
        ":name test",
        ":units",
        "  mass 1.0",
        "  length 0.45",
        "  angle deg",
        ":root",
        "   order TX TY TZ RX RY RZ",
        "   axis XYZ",
        "   position 0 0 0",
        "   orientation 0 0 0",
        ":bonedata",
    ]
    for i, (name, d, length, axis, dof) in enumerate(ASF_BONES, start=1):
        d = np.array(d, float) / np.linalg.norm(d)
        out += [
            "  begin",
            f"     id {i}",
            f"     name {name}",
            f"     direction {d[0]} {d[1]} {d[2]}",
            f"     length {length}",
            f"     axis {axis[0]} {axis[1]} {axis[2]}  XYZ",
        ]
        if dof:
            out.append(f"    dof {dof}")
        out.append("  end")
    out += [":hierarchy", "  begin", *("    " + h for h in ASF_HIERARCHY.splitlines()), "  end"]
    path.write_text("\n".join(out) + "\n")
    return path


def write_amc(path: Path, n: int, values: dict[str, np.ndarray]) -> Path:
    out = ["#!OML:ASF test", ":FULLY-SPECIFIED", ":DEGREES"]
    for t in range(n):
        out.append(str(t + 1))
        for name, arr in values.items():
            out.append(name + " " + " ".join(f"{v:.6f}" for v in np.atleast_1d(arr[t])))
    path.write_text("\n".join(out) + "\n")
    return path


def amc_values(n: int) -> dict[str, np.ndarray]:
    root = np.zeros((n, 6))
    root[:, 1] = 17.0
    root[:, 2] = np.arange(n) / 120 / UNIT_M * 0.5  # 0.5 m/s forward
    vals = {"root": root}
    for name, _, _, _, dof in ASF_BONES:
        if dof:
            vals[name] = np.zeros((n, len(dof.split())))
    vals["ltibia"][:, 0] = 90.0  # knee bent: shin swings back (-Z)
    vals["lhumerus"][:, 2] = 60.0
    return vals


def test_asf_amc_units_rate_bones_and_known_rotation(tmp_path):
    write_asf(tmp_path / "07.asf")
    amc = write_amc(tmp_path / "07_01.amc", 240, amc_values(240))
    (m,) = load_motions(amc)
    assert m.num_frames == 40  # 120 -> 20 fps
    bl = bone_lengths(m.joints)
    assert bl.std(axis=0).max() < 1e-4
    # femur: 7.0 units of 1/0.45 inch = 0.395 m (the CMU unit rule).
    np.testing.assert_allclose(bl[0, J["left_knee"]], 7.0 * UNIT_M, atol=1e-5)
    np.testing.assert_allclose(
        m.joints[0, J["left_ankle"]] - m.joints[0, J["left_knee"]], [0, 0, -7.5 * UNIT_M], atol=1e-5
    )
    assert abs(m.joints[:, list(FOOT_JOINTS), 1].min()) < 1e-6
    assert np.all(m.joints[:, J["left_hip"], 0] > m.joints[:, J["right_hip"], 0])
    np.testing.assert_allclose(np.diff(m.joints[:, J["pelvis"], 2]), 0.5 / 20, atol=1e-5)


def test_asf_bone_axis_frame_is_respected(tmp_path):
    """lhumerus has axis (0,0,90): its local X is world Y, so rx turns the arm about the vertical."""
    write_asf(tmp_path / "07.asf")
    vals = amc_values(6)
    vals["lhumerus"][:] = [90.0, 0.0, 0.0]
    (m,) = load_motions(write_amc(tmp_path / "07_02.amc", 6, vals), fps=20.0)
    upper = m.joints[0, J["left_elbow"]] - m.joints[0, J["left_shoulder"]]
    # +90 deg about +Y takes the arm from +X to -Z.
    np.testing.assert_allclose(upper / np.linalg.norm(upper), [0, 0, -1], atol=1e-6)


def test_amc_without_asf_names_file(tmp_path):
    amc = write_amc(tmp_path / "08_01.amc", 4, amc_values(4))
    with pytest.raises(ChoreoError, match=r"08_01\.amc.*ASF"):
        load_motions(amc)


def test_amc_with_wrong_dof_count_names_file(tmp_path):
    write_asf(tmp_path / "09.asf")
    vals = amc_values(4)
    vals["ltibia"] = np.zeros((4, 2))
    with pytest.raises(ChoreoError, match=r"09_01\.amc.*ltibia"):
        load_motions(write_amc(tmp_path / "09_01.amc", 4, vals))
