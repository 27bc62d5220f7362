"""motion.json, results.npy (MDM layout) and write_outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from choreo.errors import ChoreoError
from choreo.export import write_outputs
from choreo.formats.motion_json import read_motion_json, write_motion_json
from choreo.formats.results_npy import read_results_npy, write_results_npy
from choreo.motion import Motion
from choreo.skeleton import JOINT_NAMES, PARENTS

from synthetic_motion import rigid_dance


def test_motion_json_round_trip_and_guide_layout(tmp_path):
    joints = rigid_dance(frames=25, seed=4)
    path = write_motion_json(Motion(joints, fps=20.0, text="a cute wave", style="kpop"), tmp_path / "m.json")
    raw = json.loads(path.read_text())
    assert raw["format"] == "choreo.motion/1" and raw["units"] == "m" and raw["up"] == "y"
    assert raw["skeleton"] == {"joints": list(JOINT_NAMES), "parents": list(PARENTS)}
    assert np.array(raw["motion"]).shape == (25, 22, 3)  # the guide's [frames][joints][3]
    (back,) = read_motion_json(path)
    assert back.fps == 20.0 and back.text == "a cute wave" and back.style == "kpop"
    np.testing.assert_allclose(back.joints, joints, atol=1e-5)


def test_motion_json_reader_accepts_the_guide_training_list(tmp_path):
    path = tmp_path / "train.json"
    clips = [{"motion": rigid_dance(frames=n).tolist(), "text": f"t{n}", "style": "s"} for n in (3, 4)]
    path.write_text(json.dumps(clips))
    motions = read_motion_json(path)
    assert [m.num_frames for m in motions] == [3, 4] and [m.text for m in motions] == ["t3", "t4"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"motion": np.zeros((5, 21, 3)).tolist()}, r"\[frames\]\[22\]\[3\]"),
        ({"motion": [[[0.0, 0.0]] * 22]}, r"\[frames\]\[22\]\[3\]"),
        ({"motion": "x"}, "motion"),
        ({"fps": 0}, "fps"),
        ({"fps": "20"}, "fps"),
        ({"units": "cm"}, "units"),
        ({"format": "something/2"}, "format"),
    ],
)
def test_motion_json_reader_rejects_bad_input(tmp_path, change, message):
    obj = {"format": "choreo.motion/1", "fps": 20, "motion": rigid_dance(frames=3).tolist()} | change
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(obj))
    with pytest.raises(ChoreoError, match=message):
        read_motion_json(path)


def test_motion_json_reader_rejects_nan_and_broken_json(tmp_path):
    nan = tmp_path / "nan.json"
    arr = rigid_dance(frames=2)
    arr[1, 3, 0] = np.nan
    nan.write_text(json.dumps({"motion": arr.tolist()}))  # json writes NaN literals
    with pytest.raises(ChoreoError, match="NaN"):
        read_motion_json(nan)
    broken = tmp_path / "broken.json"
    broken.write_text('{"motion": [')
    with pytest.raises(ChoreoError, match="not valid JSON"):
        read_motion_json(broken)


def test_results_npy_has_the_mdm_layout(tmp_path):
    motions = [Motion(rigid_dance(frames=n, seed=n)) for n in (30, 20, 30, 25)]
    texts = ["a", "b", "a", "b"]
    npy, txt, lens = write_results_npy(motions, texts, tmp_path / "results.npy", num_repetitions=2)
    data = np.load(npy, allow_pickle=True).item()
    assert set(data) == {"motion", "text", "lengths", "num_samples", "num_repetitions"}
    assert data["motion"].dtype == np.float32 and data["motion"].shape == (4, 22, 3, 30)
    assert data["text"] == texts and data["lengths"].tolist() == [30, 20, 30, 25]
    assert np.issubdtype(data["lengths"].dtype, np.integer)
    assert data["num_samples"] == 2 and data["num_repetitions"] == 2
    np.testing.assert_allclose(data["motion"][1, :, :, 7], motions[1].joints[7])
    np.testing.assert_allclose(data["motion"][1, :, :, 25], motions[1].joints[-1])  # padding holds the pose
    assert txt.name == "results.txt" and txt.read_text().splitlines() == texts
    assert lens.name == "results_len.txt" and lens.read_text().split() == ["30", "20", "30", "25"]


def test_results_npy_reader_needs_opt_in_and_round_trips(tmp_path):
    motions = [Motion(rigid_dance(frames=n, seed=n)) for n in (12, 9)]
    path = write_results_npy(motions, ["x", "y"], tmp_path / "results.npy")[0]
    with pytest.raises(ChoreoError, match="allow_pickle"):
        read_results_npy(path)
    back = read_results_npy(path, allow_pickle=True)
    assert [m.num_frames for m in back] == [12, 9] and [m.text for m in back] == ["x", "y"]
    np.testing.assert_allclose(back[1].joints, motions[1].joints)


def test_results_npy_reader_rejects_a_wrong_layout(tmp_path):
    path = tmp_path / "results.npy"
    np.save(path, {"motion": np.zeros((2, 21, 3, 10), np.float32), "text": ["a", "b"], "lengths": [10, 10]})
    with pytest.raises(ChoreoError, match=r"\[N, 22, 3, frames\]"):
        read_results_npy(path, allow_pickle=True)


def test_write_outputs_writes_every_file_per_sample(tmp_path):
    motions = [Motion(rigid_dance(frames=12, seed=s)) for s in range(2)]
    paths = write_outputs(motions, tmp_path / "out", text="powerful hip-hop dance")
    assert set(paths) == {"motion.bvh", "motion_01.bvh", "motion.json", "motion_01.json", "results.npy",
                          "results.txt", "results_len.txt", "preview.mp4"}
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths.values())
    (second,) = read_motion_json(paths["motion_01.json"])
    assert second.text == "powerful hip-hop dance"
    np.testing.assert_allclose(second.joints, motions[1].joints, atol=1e-5)


def test_write_outputs_rejects_no_motions_and_mismatched_prompts(tmp_path):
    with pytest.raises(ChoreoError, match="no motions"):
        write_outputs([], tmp_path, text="x")
    with pytest.raises(ChoreoError, match="prompts"):
        write_outputs([Motion(rigid_dance(frames=3))], tmp_path, text=["a", "b"], video=False)
