"""The demo song: deterministic, K-pop-shaped, repeats are identical material, truth written beside it."""

import json

import numpy as np
import pytest

from choreo.cli import main
from choreo.music.demo_song import DEFAULT_STRUCTURE, synthesize, truth_path

soundfile = pytest.importorskip("soundfile")

SHORT = (("intro", 2), ("verse", 2), ("chorus", 2), ("verse", 2), ("chorus", 2), ("outro", 1))


def test_default_song_shape_and_truth():
    song = synthesize()
    t = song.truth
    assert 60.0 <= t["duration"] <= 90.0
    assert [s["kind"] for s in t["sections"]] == [k for k, _ in DEFAULT_STRUCTURE]
    assert len(t["downbeats"]) == sum(b for _, b in DEFAULT_STRUCTURE) and len(t["beats"]) == 4 * len(t["downbeats"])
    np.testing.assert_allclose(np.diff(t["beats"]), 60.0 / 132.0, atol=1e-5)
    labels = {s["kind"]: s["label"] for s in t["sections"]}
    assert len(set(labels.values())) == len(labels)  # one label per kind, repeats share it
    assert abs(len(song.samples) / song.rate - t["duration"]) < 1e-3 and np.abs(song.samples).max() <= 0.91


def test_deterministic_and_chorus_repeats_are_identical():
    a, b = synthesize(bpm=150, seed=3, structure=SHORT), synthesize(bpm=150, seed=3, structure=SHORT)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, synthesize(bpm=150, seed=4, structure=SHORT).samples)
    ch = [s for s in a.truth["sections"] if s["kind"] == "chorus"]
    n = int((ch[0]["end"] - ch[0]["start"]) * a.rate) - 2 * a.rate  # the bars minus the tails that ring in
    x0, x1 = (int(round(s["start"] * a.rate)) + a.rate for s in ch)
    # Same material; only the previous section's ringing tail (first second, skipped) differs.
    np.testing.assert_allclose(a.samples[x0 : x0 + n], a.samples[x1 : x1 + n], atol=2e-3)
    verse, chorus = (next(s for s in a.truth["sections"] if s["kind"] == k) for k in ("verse", "chorus"))
    rms = [float(np.sqrt(np.mean(a.samples[int(s["start"] * a.rate) : int(s["end"] * a.rate)] ** 2)))
           for s in (verse, chorus)]
    assert rms[1] > 1.2 * rms[0]  # the chorus is louder than the verse


def test_cli_writes_song_and_truth(tmp_path, capsys):
    out = tmp_path / "demo.wav"
    assert main(["demo-song", "--out", str(out), "--bpm", "120", "--seed", "1"]) == 0
    truth = json.loads(truth_path(out).read_text())
    info = soundfile.info(str(out))
    assert truth["tempo"] == 120.0 and abs(info.duration - truth["duration"]) < 0.01
    assert "demo.truth.json" in capsys.readouterr().out
    assert main(["demo-song", "--out", str(tmp_path / "x.wav"), "--bpm", "300"]) == 2
    assert "choose a tempo" in capsys.readouterr().err and not (tmp_path / "x.wav").exists()
