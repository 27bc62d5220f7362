"""Training JSON/NPZ, AIST++ pickles and HumanML3D importers on files written here (plus shared refs)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from choreo.errors import ChoreoError
from choreo.importers import load_motions
from choreo.representation import joints_to_features
from choreo.skeleton import (
    FOOT_JOINTS,
    JOINT_NAMES,
    PARENTS,
    bone_lengths,
    canonical_offsets,
    forward_kinematics,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
J = {n: i for i, n in enumerate(JOINT_NAMES)}


def walking_clip(frames: int, fps: float = 20.0, lift: float = 0.3) -> np.ndarray:
    """Canonical-skeleton joints [T,22,3] walking +Z at 1 m/s, knees swinging, lifted `lift` off the floor."""
    t = np.arange(frames) / fps
    quats = np.zeros((frames, 22, 4))
    quats[..., 0] = 1.0
    for joint, sign in (("left_hip", 1), ("right_hip", -1)):
        angle = np.deg2rad(25) * np.sin(2 * np.pi * t) * sign
        quats[:, J[joint.replace("hip", "knee")]] = np.stack(
            [np.cos(angle / 2), np.sin(angle / 2), 0 * t, 0 * t], -1
        )
    root = np.stack([0 * t, 0.95 + lift + 0 * t, t], -1)
    return forward_kinematics(quats, root)


def assert_physical(m, frames: int) -> None:
    assert m.fps == 20 and m.num_frames == frames
    assert bone_lengths(m.joints).std(axis=0).max() < 1e-4
    assert abs(m.joints[:, list(FOOT_JOINTS), 1].min()) < 1e-6
    assert np.all(m.joints[:, J["left_hip"], 0] > m.joints[:, J["right_hip"], 0])


# ------------------------------------------------------------------ training JSON / NPZ


def test_json_list_round_trip(tmp_path):
    a, b = walking_clip(30), walking_clip(24)
    path = tmp_path / "train.json"
    path.write_text(
        json.dumps(
            [
                {"motion": a.tolist(), "text": "walk", "style": "pop"},
                {"motion": b.tolist(), "text": "walk 2", "style": "hiphop"},
            ]
        )
    )
    ms = load_motions(path)
    assert [m.text for m in ms] == ["walk", "walk 2"] and [m.style for m in ms] == ["pop", "hiphop"]
    assert_physical(ms[0], 30)
    # Only shifted down onto the floor: everything else is the input.
    np.testing.assert_allclose(
        ms[0].joints, a - [0, 0.3 + a[:, list(FOOT_JOINTS), 1].min() - 0.3, 0], atol=1e-5
    )
    assert ms[0].performance != ms[1].performance


def test_json_fps_argument_resamples(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps([{"motion": walking_clip(61, fps=60.0).tolist()}]))
    (m,) = load_motions(path, fps=60)
    assert_physical(m, 21)
    np.testing.assert_allclose(np.diff(m.joints[:, 0, 2]), 0.05, atol=1e-5)


def test_json_ragged_frames_name_the_clip(tmp_path):
    clip = walking_clip(10).tolist()
    clip[4] = clip[4][:21]  # one frame with 21 joints
    path = tmp_path / "ragged.json"
    path.write_text(json.dumps([{"motion": walking_clip(10).tolist()}, {"motion": clip}]))
    with pytest.raises(ChoreoError, match=r"ragged\.json: clip 1"):
        load_motions(path)


def test_json_wrong_joint_count_and_nan(tmp_path):
    path = tmp_path / "j24.json"
    path.write_text(json.dumps([{"motion": np.zeros((10, 24, 3)).tolist()}]))
    with pytest.raises(ChoreoError, match=r"j24\.json: clip 0: 24 joints, expected 22"):
        load_motions(path)
    clip = walking_clip(10)
    clip[3, 5, 1] = np.nan
    path = tmp_path / "nan.json"
    path.write_text(json.dumps([{"motion": clip.tolist()}]))  # json writes NaN literally
    with pytest.raises(ChoreoError, match=r"nan\.json.*NaN"):
        load_motions(path)


def test_npz_arrays_and_ragged_lengths(tmp_path):
    clips = np.stack([walking_clip(20), walking_clip(20, lift=0.1)])
    path = tmp_path / "train.npz"
    np.savez(path, motions=clips, texts=np.array(["a", "b"]), styles=np.array(["pop", "jazz"]))
    ms = load_motions(path)
    assert [m.text for m in ms] == ["a", "b"] and ms[1].style == "jazz"
    assert_physical(ms[1], 20)
    ragged = tmp_path / "ragged.npz"
    np.savez(ragged, motions=np.concatenate([walking_clip(12), walking_clip(7)]), lengths=np.array([12, 7]))
    assert [m.num_frames for m in load_motions(ragged)] == [12, 7]
    numbered = tmp_path / "numbered.npz"
    np.savez(numbered, motion_0=walking_clip(5), motion_1=walking_clip(9), texts=np.array(["x", "y"]))
    assert [(m.num_frames, m.text) for m in load_motions(numbered)] == [(5, "x"), (9, "y")]


def test_npz_pickled_guide_layout_needs_opt_in(tmp_path):
    path = tmp_path / "guide.npz"
    np.savez(path, data={"motions": np.stack([walking_clip(8)]), "texts": ["kpop"], "styles": ["pop"]})
    with pytest.raises(ChoreoError, match=r"guide\.npz.*pickled.*allow-pickle.*runs code"):
        load_motions(path)
    (m,) = load_motions(path, allow_pickle=True)
    assert (m.text, m.style, m.num_frames) == ("kpop", "pop", 8)


def test_npz_wrong_joint_count(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, motions=np.zeros((2, 10, 17, 3)))
    with pytest.raises(ChoreoError, match=r"bad\.npz: clip 0: 17 joints"):
        load_motions(path)


def test_implausible_size_is_rejected(tmp_path):
    path = tmp_path / "cm.json"
    path.write_text(json.dumps([{"motion": (walking_clip(10) * 100).tolist()}]))
    with pytest.raises(ChoreoError, match=r"cm\.json.*m tall"):
        load_motions(path)


# ------------------------------------------------------------------ AIST++


def made_up_offsets(path: Path) -> Path:
    """A small made-up 24-joint skeleton (not SMPL's numbers): canonical directions, round lengths."""
    offsets = canonical_offsets(np.r_[0.0, np.full(21, 0.2)]).tolist() + [[0.1, 0, 0], [-0.1, 0, 0]]
    names = list(JOINT_NAMES) + ["left_hand", "right_hand"]
    path.write_text(
        json.dumps(
            {
                "about": "test skeleton",
                "names": names,
                "parents": list(PARENTS) + [20, 21],
                "offsets": offsets,
            }
        )
    )
    return path


def write_aist(path: Path, frames: int, scaling: float = 2.0) -> Path:
    poses = np.zeros((frames, 72))
    poses[:, J["left_knee"] * 3] = np.deg2rad(90.0)  # bend the left knee: shin swings back (-Z)
    trans = np.zeros((frames, 3))
    trans[:, 1] = 2.0 * scaling
    trans[:, 2] = np.arange(frames) / 60.0 * scaling  # 1 m/s after dividing by the scaling
    with path.open("wb") as fh:
        pickle.dump({"smpl_poses": poses, "smpl_trans": trans, "smpl_scaling": np.array([scaling])}, fh)
    return path


def test_aist_pickle_with_made_up_offsets(tmp_path):
    pkl = write_aist(tmp_path / "gBR_sBM_cAll_d04_mBR0_ch01.pkl", 120)
    offsets = made_up_offsets(tmp_path / "offsets.json")
    (m,) = load_motions(pkl, allow_pickle=True, smpl_offsets=offsets)
    assert_physical(m, 40)  # 60 -> 20 fps
    np.testing.assert_allclose(bone_lengths(m.joints)[0, 1:], 0.2, atol=1e-6)
    np.testing.assert_allclose(
        m.joints[0, J["left_ankle"]] - m.joints[0, J["left_knee"]], [0, 0, -0.2], atol=1e-6
    )
    np.testing.assert_allclose(np.diff(m.joints[:, 0, 2]), 0.05, atol=1e-6)
    assert (m.style, m.performance) == ("break", "aist_gBR_d04_mBR0_ch01")


def test_aist_needs_opt_in_and_offsets(tmp_path):
    pkl = write_aist(tmp_path / "clip.pkl", 6)
    with pytest.raises(ChoreoError, match=r"clip\.pkl.*pickle.*runs code"):
        load_motions(pkl)
    with pytest.raises(ChoreoError, match=r"clip\.pkl.*--smpl-offsets.*offsets"):
        load_motions(pkl, allow_pickle=True)


def test_aist_with_shared_smpl_offsets(tmp_path):
    offsets = DATA / "smpl" / "smpl_neutral_offsets.json"
    if not offsets.exists():
        pytest.skip(f"shared SMPL offsets not found at {offsets}")
    (m,) = load_motions(write_aist(tmp_path / "clip.pkl", 60), allow_pickle=True, smpl_offsets=offsets)
    assert_physical(m, 20)
    rest = json.loads(offsets.read_text())["offsets"]
    np.testing.assert_allclose(bone_lengths(m.joints)[0, J["left_knee"]], np.linalg.norm(rest[4]), atol=1e-5)


# ------------------------------------------------------------------ HumanML3D


def test_humanml3d_folder_with_vecs_joints_and_texts(tmp_path):
    clip = walking_clip(40)
    feats = joints_to_features(clip)
    for sub in ("new_joint_vecs", "new_joints", "texts"):
        (tmp_path / sub).mkdir()
    np.save(tmp_path / "new_joint_vecs" / "000001.npy", feats)
    np.save(tmp_path / "new_joints" / "M000002.npy", clip)
    (tmp_path / "texts" / "000001.txt").write_text(
        "a person walks forward#a/DET#0.0#0.0\nsomeone walks#x#0#0\n"
    )
    ms = load_motions(tmp_path)
    assert [m.text for m in ms] == ["a person walks forward", ""]
    assert ms[1].performance == "humanml3d_000002"
    assert_physical(ms[1], 40)
    assert bone_lengths(ms[0].joints).std(axis=0).max() < 1e-4
    (single,) = load_motions(tmp_path / "new_joint_vecs" / "000001.npy")
    assert single.text == "a person walks forward"


def test_npy_of_wrong_shape_names_file(tmp_path):
    path = tmp_path / "odd.npy"
    np.save(path, np.zeros((10, 100)))
    with pytest.raises(ChoreoError, match=r"odd\.npy.*263"):
        load_motions(path)


def test_humanml3d_reference_vectors_match_joints():
    ref = DATA / "humanml3d_ref"
    if not (ref / "vec_012314.npy").exists():
        pytest.skip(f"HumanML3D reference vectors not found at {ref}")
    (from_vec,) = load_motions(ref / "vec_012314.npy")
    (from_joints,) = load_motions(ref / "joints_012314.npy")
    n = min(from_vec.num_frames, from_joints.num_frames)
    np.testing.assert_allclose(from_vec.joints[:n], from_joints.joints[:n], atol=1e-5)


# ------------------------------------------------------------------ dispatch


def test_unsupported_and_missing_paths(tmp_path):
    (tmp_path / "x.fbx").write_text("")
    with pytest.raises(ChoreoError, match=r"x\.fbx.*unsupported.*BVH"):
        load_motions(tmp_path / "x.fbx")
    with pytest.raises(ChoreoError, match="nothing.bvh"):
        load_motions(tmp_path / "nothing.bvh")
