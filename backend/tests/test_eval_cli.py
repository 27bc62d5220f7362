"""`choreo eval` run in-process on small files written by the test."""

import json

import numpy as np
import pytest

from choreo.cli import main
from choreo.formats.motion_json import write_motion_json
from choreo.formats.results_npy import write_results_npy
from choreo.metrics.geometric import _REST, J
from choreo.motion import Motion

FPS = 20.0


def dance_joints(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FPS)) / FPS
    joints = np.repeat(_REST[None], len(t), axis=0).astype(np.float64)
    joints[..., 1] -= joints[..., 1].min()
    for name in ("left_wrist", "right_wrist", "left_elbow", "right_elbow"):
        joints[:, J[name], 2] += 0.15 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t + rng.uniform(0, 6))
    joints[..., 0] += (0.05 * np.sin(2 * np.pi * rng.uniform(0.3, 1) * t))[:, None]
    return joints


def write_training_json(path, seeds, seconds=6.0):
    """The setup guide's training format: [{"motion": [frames][22][3], "text", "style"}]."""
    clips = [{"motion": dance_joints(seconds, s).round(5).tolist(), "text": f"clip {s}", "style": "test"}
             for s in seeds]
    path.write_text(json.dumps(clips))
    return path


@pytest.fixture
def files(tmp_path):
    return (write_training_json(tmp_path / "gen.json", [1, 2, 3]),
            write_training_json(tmp_path / "ref.json", [10, 11, 12, 13], seconds=11.0))


def test_json_output_and_report_files(tmp_path, files, capsys):
    gen, ref = files
    out = tmp_path / "out"
    rc = main(["eval", "--generated", str(gen), "--reference", str(ref), "--json", "--out", str(out)])
    assert rc == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((out / "metrics.json").read_text())
    assert printed["counts"]["generated"] == {"clips": 3, "windows": 3, "seconds": 18.0}
    assert printed["counts"]["reference"]["windows"] == 8
    assert printed["metrics"]["fid_k"]["generated"] > 0 and printed["metrics"]["fid_k"]["reference"] is None
    # Elbows and wrists swing independently in these clips, so every window stretches a forearm.
    assert printed["metrics"]["bone_stretched_windows"]["generated"] == 1.0
    assert "bas_bailando" not in printed["metrics"]  # no --music
    assert printed["baselines"]["real_vs_real"]["available"]  # each reference clip is its own performance
    assert printed["baselines"]["retrieval"]["windows"] == 3
    html = (out / "report.html").read_text()
    assert "fid_k" in html and html.count("data:image/png;base64,") == 2
    assert (out / "speed_curves.png").is_file() and (out / "foot_contacts.png").is_file()


def test_table_output_reads_a_generate_output_folder(tmp_path, files, capsys):
    _, ref = files
    folder = tmp_path / "generated"
    folder.mkdir()
    write_motion_json(Motion(joints=dance_joints(6, 5), text="a"), folder / "motion.json")
    write_motion_json(Motion(joints=dance_joints(6, 6), text="b"), folder / "motion_01.json")
    rc = main(["eval", "--generated", str(folder), "--reference", str(ref), "--out", str(tmp_path / "o"),
               "--no-baselines"])
    assert rc == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].split()[:4] == ["metric", "generated", "reference", "protocol"]
    assert "fid_k" in text and "generated: 2 clips" in text and "NOT comparable" in text


def test_results_npy_needs_allow_pickle(tmp_path, files, capsys):
    _, ref = files
    folder = tmp_path / "gen"
    folder.mkdir()
    motions = [Motion(joints=dance_joints(6, s)) for s in (7, 8)]
    write_results_npy(motions, ["x", "y"], folder / "results.npy")
    args = ["eval", "--generated", str(folder), "--reference", str(ref), "--out", str(tmp_path / "o"),
            "--no-baselines", "--json"]
    assert main(args) == 2
    assert "allow_pickle" in capsys.readouterr().err
    assert main(args + ["--allow-pickle"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["generated"]["clips"] == 2


def test_bad_paths_and_files_exit_2_with_one_line(tmp_path, files, capsys):
    gen, ref = files
    missing = tmp_path / "nope.json"
    assert main(["eval", "--generated", str(missing), "--reference", str(ref), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nope.json" in err and err.startswith("choreo eval: error:")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert main(["eval", "--generated", str(gen), "--reference", str(broken), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "broken.json" in err
    assert main(["eval", "--generated", str(gen), "--reference", str(ref), "--music",
                 str(tmp_path / "missing.wav"), "--out", str(tmp_path)]) == 2
    assert "missing.wav" in capsys.readouterr().err


def test_music_adds_bas_rows(tmp_path, files, capsys):
    soundfile = pytest.importorskip("soundfile")
    from test_metrics_music import click_track

    gen, ref = files
    song = click_track(tmp_path / "song.wav", seconds=8.0)
    rc = main(["eval", "--generated", str(gen), "--reference", str(ref), "--music", str(song), "--json",
               "--out", str(tmp_path / "o"), "--no-baselines"])
    assert rc == 0 and soundfile
    result = json.loads(capsys.readouterr().out)
    assert result["music"]["tempo_bpm"] == pytest.approx(120.0, abs=0.5)
    for key in ("bas_bailando", "bas_bailando_chance", "bas_bailando_offset", "bas_fact", "bas_fact_chance"):
        assert 0.0 <= result["metrics"][key]["generated"] <= 1.0
    assert len(result["beats"]["clips"]) == 3
    assert (tmp_path / "o" / "beat_alignment.png").is_file()
