"""Every bad input a user reported (issue 14) gives exit code 2 and one line naming their file or flag.

The table runs `choreo.cli.main` in-process (no interpreter start per case); `test_guide_script_*` runs the
setup guide's script as a user types it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from choreo.cli import main
from choreo.dataset import TrainingSet
from choreo.formats.cleanup import put_on_floor
from choreo.motion import Motion

from synthetic_motion import rigid_dance

BACKEND = Path(__file__).resolve().parents[1]
TINY = ["--latent_dim", "64", "--layers", "2", "--ff_size", "128", "--window", "40", "--diffusion_steps", "100",
        "--bf16", "off", "--batch_size", "4", "--log_every", "1", "--val_every", "1000"]


def clips() -> list[np.ndarray]:
    return [put_on_floor(rigid_dance(frames=41, seed=i, turn_rad=0.5 * i, amplitude=0.3)) for i in range(4)]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """One folder with every bad (and a few good) user file."""
    d = tmp_path_factory.mktemp("user_files")
    rng = np.random.default_rng(7)
    (d / "latin1.json").write_bytes("[{\"text\": \"caf\xe9\"}]".encode("latin-1"))
    (d / "random.json").write_bytes(rng.bytes(300))
    (d / "empty.npz").write_bytes(b"")
    (d / "random.npz").write_bytes(rng.bytes(300))
    np.savez(d / "no_arrays.npz")
    np.savez(d / "guide.npz", data={"motions": clips(), "texts": ["a person spins"] * 4, "styles": ["test"] * 4})
    (d / "a_file").write_text("not a folder")
    (d / "corrupt.pt").write_bytes(b"PK\x03\x04" + rng.bytes(400))
    torch.save({"x": torch.zeros(2), "opts": {"a": 1}, "cls": Motion}, d / "pickled_object.pt")
    (d / "no_args").mkdir()
    torch.save({"model": {"w": torch.zeros(1)}}, d / "no_args" / "model000475000.pt")  # the .pt alone
    earlier = d / "earlier_run"
    earlier.mkdir()
    (earlier / "motion_01.json").write_text("{}")
    TrainingSet.build([Motion(c, text="a person spins", style="test", source=f"c{i}", performance=f"p{i}")
                       for i, c in enumerate(clips())], val_fraction=0.0, mirror=False).save(d / "dataset")
    return d


@pytest.fixture(scope="module")
def run_dir(files, tmp_path_factory) -> Path:
    """A tiny training run (2 steps) with non-default sizes and window, to resume and to train over."""
    out = tmp_path_factory.mktemp("run") / "run"
    assert main(["train", "--data", str(files / "dataset"), "--output", str(out), "--max_steps", "2", *TINY]) == 0
    return out


def run_cli(argv: list[str], capsys) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code
    return code, capsys.readouterr().err


# (id, command line, text the one-line message must contain); {f} is the files folder, {r} the tiny run.
TRAIN = "train --data {f}/dataset --output {f}/t4 " + " ".join(TINY)
CASES: list[tuple[str, str, str]] = [
    ("prepare-data non-UTF-8 json", "prepare-data {f}/latin1.json --out {f}/o", "latin1.json"),
    ("prepare-data random-bytes json", "prepare-data {f}/random.json --out {f}/o", "random.json"),
    ("train random-bytes json", "train --data {f}/random.json --output {f}/t1", "random.json"),
    ("prepare-data empty npz", "prepare-data {f}/empty.npz --out {f}/o", "empty.npz"),
    ("train empty npz", "train --data {f}/empty.npz --output {f}/t2", "empty.npz"),
    ("eval empty npz", "eval --generated {f}/empty.npz --reference {f}/empty.npz --out {f}/e", "empty.npz"),
    ("prepare-data npz without arrays", "prepare-data {f}/no_arrays.npz --out {f}/o", "no_arrays.npz"),
    ("allow-pickle on random npz", "prepare-data {f}/random.npz --allow-pickle --out {f}/o", "random.npz"),
    ("random npz without allow-pickle", "prepare-data {f}/random.npz --out {f}/o", "random.npz"),
    ("guide npz without allow-pickle", "train --data {f}/guide.npz --output {f}/t3", "--allow-pickle"),
    ("generate --seed -1", "generate --text salsa --seed -1 --out {f}/g", "--seed"),
    ("generate --steps 0", "generate --text salsa --steps 0 --out {f}/g", "--steps"),
    ("generate --seconds nan", "generate --text salsa --seconds nan --out {f}/g", "--seconds"),
    ("generate --out is a file", "generate --text salsa --out {f}/a_file", "a_file"),
    ("generate --out holds an earlier run", "generate --text salsa --out {f}/earlier_run", "motion_01.json"),
    *[(f"train {flag} {value}", f"{TRAIN} {flag} {value}", flag)
      for flag, value in [("--batch_size", "0"), ("--lr", "-1"), ("--lr", "nan"), ("--window", "0"),
                          ("--layers", "0"), ("--heads", "3"), ("--epochs", "0"), ("--epochs", "-1"),
                          ("--max_steps", "0")]],
    ("train --output is a file", "train --data {f}/dataset --output {f}/a_file", "a_file"),
    ("train into an existing run", "train --data {f}/dataset --output {r} " + " ".join(TINY), "{r}"),
    ("resume with another window", "train --data {f}/dataset --output {r} --resume --window 196", "--window"),
    ("resume already finished", "train --data {f}/dataset --output {r} --resume --max_steps 1", "{r}"),
    ("resume nothing there", "train --data {f}/dataset --output {f}/none --resume", "checkpoint.pt"),
    ("publish over a published model", "publish-model --run {r} --data {f}/dataset --out {r}", "{r}"),
    ("model-info corrupt checkpoint", "model-info {f}/corrupt.pt", "corrupt.pt"),
    ("model-info pickled objects", "model-info {f}/pickled_object.pt", "pickled_object.pt"),
    ("official .pt without args.json", "model-info {f}/no_args/model000475000.pt", "--from"),
]


@pytest.mark.parametrize("command, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(command, expected, files, run_dir, capsys):
    argv = [word.format(f=files, r=run_dir) for word in command.split()]
    code, err = run_cli(argv, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert expected.format(f=files, r=run_dir) in lines[0], lines[0]
    assert "Traceback" not in err and "weights_only" not in err and "internal error" not in err


def test_resume_keeps_the_runs_own_window_and_sizes(files, run_dir, capsys):
    """The documented resume pair gives only --max_steps: the run's window 40 and latent 64 are kept."""
    code = main(["train", "--data", str(files / "dataset"), "--output", str(run_dir), "--max_steps", "3",
                 "--resume"])
    assert code == 0, capsys.readouterr().err
    args = json.loads((run_dir / "args.json").read_text())
    assert args["window_frames"] == 40 and args["model"]["latent_dim"] == 64
    assert [r["step"] for r in json.loads((run_dir / "log.json").read_text())["log"]] == [1, 2, 3]


def test_guides_pickled_npz_trains_with_allow_pickle(files, tmp_path, capsys):
    out = tmp_path / "kpop"
    assert main(["train", "--data", str(files / "guide.npz"), "--output", str(out), "--max_steps", "1",
                 "--allow-pickle", *TINY]) == 0, capsys.readouterr().err
    assert (out / "final_model.pt").is_file()


def test_z_up_json_is_stood_upright(tmp_path):
    from choreo.importers import load_motions

    y_up = clips()[0]
    z_up = np.stack([y_up[..., 0], -y_up[..., 2], y_up[..., 1]], axis=-1)  # a proper rotation, Z up
    (tmp_path / "zup.json").write_text(json.dumps([{"motion": z_up.tolist(), "text": "t"}]))
    joints = load_motions(tmp_path / "zup.json")[0].joints
    head_above_pelvis = np.median(joints[:, 15, 1] - joints[:, 0, 1])
    assert head_above_pelvis > 0.4  # standing along +Y, not lying on the floor


def test_generate_checks_out_before_loading_the_model(files, tmp_path, capsys):
    """A refused --out costs no model load: the error comes back with no model configured at all."""
    code, err = run_cli(["generate", "--text", "salsa", "--model", str(tmp_path / "missing.pt"), "--out",
                         str(files / "earlier_run")], capsys)
    assert code == 2 and "earlier run" in err and "missing.pt" not in err


def test_generate_force_clears_the_earlier_run(tmp_path):
    from choreo.export import earlier_outputs, prepare_output_folder

    out = tmp_path / "out"
    out.mkdir()
    for name in ("motion.json", "motion_01.bvh", "motion_03.json", "results.npy", "preview.mp4", "notes.txt"):
        (out / name).write_text("old")
    assert len(earlier_outputs(out)) == 5
    prepare_output_folder(out, force=True)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # the user's own file stays


def test_guide_script_takes_allow_pickle_and_gives_one_line(files, tmp_path):
    """scripts/train_model.py as the guide types it, on a bad flag value: no traceback, exit 2."""
    done = subprocess.run([sys.executable, str(BACKEND / "scripts" / "train_model.py"), "--data",
                           str(files / "guide.npz"), "--output", str(tmp_path / "m"), "--lr", "nan",
                           "--allow-pickle"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "--lr" in done.stderr and "Traceback" not in done.stderr


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("choreo 0.")
