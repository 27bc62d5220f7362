"""Training: a tiny model overfits four clips, resume continues from its step (also after kill -9),
and the final bundle loads and generates."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from choreo.bundle import load_bundle
from choreo.dataset import TrainingSet, mirror_text
from choreo.errors import ChoreoError
from choreo.formats.cleanup import put_on_floor
from choreo.motion import Motion
from choreo.train import TrainConfig, Trainer

from synthetic_motion import rigid_dance

TINY = dict(latent_dim=64, layers=2, heads=4, ff_size=128, window_frames=40, diffusion_steps=100, dropout=0.0)


def four_clips() -> list[Motion]:
    texts = ["a person spins", "a person jumps", "a person sways left", "a person waves"]
    return [
        Motion(put_on_floor(rigid_dance(frames=41, seed=i, turn_rad=0.5 * i, amplitude=0.3 + 0.1 * i)),
               text=t, style="test", source=f"clip{i}", performance=f"p{i}")
        for i, t in enumerate(texts)
    ]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    TrainingSet.build(four_clips(), val_fraction=0.0, mirror=False).save(folder)
    return folder


def test_mirror_text_swaps_sides():
    assert mirror_text("raise the left arm, then the Right leg") == "raise the right arm, then the Left leg"
    assert mirror_text("leftover") == "leftover"


def test_training_set_round_trip_and_split_by_performance(tmp_path):
    clips = four_clips()
    ts = TrainingSet.build(clips, val_performances={"p1"}, mirror=True)
    assert len(ts.info) == 8  # each clip and its mirror
    assert {i.split for i in ts.info if i.performance == "p1"} == {"val"}
    assert {i.split for i in ts.info if i.performance != "p1"} == {"train"}
    ts.save(tmp_path)
    back = TrainingSet.load(tmp_path)
    assert [i.text for i in back.info] == [i.text for i in ts.info]
    np.testing.assert_array_equal(back.clips[3], ts.clips[3])
    x, lengths, owners = back.windows("train", 40)
    assert x.shape == (6, 40, 263) and set(lengths) == {40}
    assert all(back.info[o].split == "train" for o in owners)


def test_load_rejects_a_folder_that_is_no_training_set(tmp_path):
    with pytest.raises(ChoreoError, match="not a training set"):
        TrainingSet.load(tmp_path)


def test_tiny_model_overfits_four_clips(dataset, tmp_path):
    cfg = TrainConfig(data=str(dataset), output=str(tmp_path / "run"), max_steps=600, batch_size=8, lr=2e-3,
                      ema_decay=0.9, log_every=25, val_every=10_000, checkpoint_every=10_000, bf16="off",
                      seed=0, **TINY)
    trainer = Trainer(cfg)
    bundle_path = trainer.run()
    losses = [r["loss"] for r in trainer.log_rows]
    assert losses[-1] < losses[0] / 10, f"loss fell only from {losses[0]:.3f} to {losses[-1]:.3f}"
    for name in ("final_model.pt", "args.json", "mean.npy", "std.npy", "log.csv", "log.json", "loss_curve.png"):
        assert (tmp_path / "run" / name).is_file(), name
    bundle = load_bundle(bundle_path)
    assert bundle.window_frames == 40 and bundle.diffusion_steps == 100
    assert bundle.card["training_steps"] == 600


def test_resume_continues_from_its_step(dataset, tmp_path):
    base = dict(data=str(dataset), output=str(tmp_path / "run"), batch_size=4, log_every=5, val_every=10_000,
                checkpoint_every=10, bf16="off", **TINY)
    first = Trainer(TrainConfig(max_steps=20, **base))
    first.run()
    second = Trainer(TrainConfig(max_steps=30, lr=3e-4, **base))
    second.run(resume=True)
    assert [g["lr"] for g in second.opt.param_groups] == [3e-4]  # the new --lr wins over the saved one
    steps = [r["step"] for r in second.log_rows]
    assert steps == [5, 10, 15, 20, 25, 30]  # the first run's rows kept, the new ones continue from 20
    assert json.loads((tmp_path / "run" / "log.json").read_text())["log"][-1]["step"] == 30


def test_resume_without_checkpoint_is_a_clear_error(dataset, tmp_path):
    trainer = Trainer(TrainConfig(data=str(dataset), output=str(tmp_path / "new"), max_steps=5, bf16="off", **TINY))
    with pytest.raises(ChoreoError, match="nothing to resume"):
        trainer.run(resume=True)


def test_checkpoint_survives_kill_9(dataset, tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "choreo", "train", "--data", str(dataset), "--output", str(out),
           "--batch_size", "4", "--latent_dim", "64", "--layers", "2", "--ff_size", "128", "--window", "40",
           "--diffusion_steps", "100", "--checkpoint_every", "5", "--log_every", "5", "--bf16", "off"]
    proc = subprocess.Popen([*cmd, "--max_steps", "100000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "CHOREO_TEST": "1"})
    try:
        deadline = time.time() + 240
        while not (out / "checkpoint.pt").is_file():
            assert proc.poll() is None, "training exited early"
            assert time.time() < deadline, "no checkpoint written"
            time.sleep(0.5)
        time.sleep(1.0)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    saved = torch.load(out / "checkpoint.pt", weights_only=True)["step"]  # the last complete checkpoint
    target = saved + 20
    done = subprocess.run([*cmd, "--max_steps", str(target), "--resume"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    steps = [r["step"] for r in json.loads((out / "log.json").read_text())["log"]]
    assert steps == list(range(5, target + 1, 5))  # continued from the checkpoint, no gap, no repeat
    assert load_bundle(out / "final_model.pt").card["training_steps"] == target


def test_train_model_script_accepts_the_guides_json(tmp_path):
    data = [{"motion": m.joints.tolist(), "text": m.text, "style": "test"} for m in four_clips()]
    (tmp_path / "training_data.json").write_text(json.dumps(data))
    script = Path(__file__).resolve().parents[1] / "scripts" / "train_model.py"
    done = subprocess.run(
        [sys.executable, str(script), "--data", str(tmp_path / "training_data.json"), "--output",
         str(tmp_path / "kpop_model"), "--epochs", "2", "--batch_size", "4", "--lr", "1e-4", "--latent_dim", "64",
         "--layers", "2", "--ff_size", "128", "--window", "40", "--bf16", "off"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "kpop_model" / "final_model.pt").is_file()
    assert load_bundle(tmp_path / "kpop_model").text_encoder == "minilm"
