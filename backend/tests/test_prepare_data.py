"""`choreo prepare-data`: import, labels CSV, split by performance, summary, contact sheet, errors."""

from __future__ import annotations

import json

from choreo.cli import main
from choreo.dataset import TrainingSet
from choreo.formats.cleanup import put_on_floor

from synthetic_motion import rigid_dance


def write_guide_json(path, n: int) -> None:
    clips = [{"motion": put_on_floor(rigid_dance(frames=80, seed=i, amplitude=0.3)).tolist(), "text": f"move {i}",
              "style": "pop"} for i in range(n)]
    path.write_text(json.dumps(clips))


def test_prepare_data_with_labels_and_split(tmp_path, capsys):
    write_guide_json(tmp_path / "a.json", 2)
    write_guide_json(tmp_path / "b.json", 2)
    (tmp_path / "labels.csv").write_text("file,text,style\nb.json,a person waves the left arm,kpop\n")
    code = main(["prepare-data", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--labels",
                 str(tmp_path / "labels.csv"), "--val-fraction", "0.5", "--out", str(tmp_path / "ds")])
    assert code == 0
    out = capsys.readouterr().out
    assert "4 clips" in out and "kpop" in out
    ts = TrainingSet.load(tmp_path / "ds")
    texts = {i.text for i in ts.info}
    assert "a person waves the left arm" in texts and "a person waves the right arm" in texts  # mirrored
    assert {i.split for i in ts.info} == {"train", "val"}
    for perf in {i.performance for i in ts.info}:  # a performance never straddles the split
        assert len({i.split for i in ts.info if i.performance == perf}) == 1
    assert (tmp_path / "ds" / "contact_sheet.png").stat().st_size > 10_000
    summary = json.loads((tmp_path / "ds" / "summary.json").read_text())
    assert summary["clips"] == 4 and set(summary["styles"]) == {"pop", "kpop"}


def test_prepare_data_bad_input_is_exit_2(tmp_path, capsys):
    (tmp_path / "bad.json").write_text('[{"motion": [[[0, 0]]], "text": "x"}]')
    assert main(["prepare-data", str(tmp_path / "bad.json"), "--out", str(tmp_path / "ds")]) == 2
    assert "bad.json" in capsys.readouterr().err
    (tmp_path / "labels.csv").write_text("name\nx\n")
    write_guide_json(tmp_path / "ok.json", 1)
    assert main(["prepare-data", str(tmp_path / "ok.json"), "--labels", str(tmp_path / "labels.csv"), "--out",
                 str(tmp_path / "ds")]) == 2
    assert "file,text" in capsys.readouterr().err
