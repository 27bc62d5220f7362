"""Held-out evaluation: generated motions for the validation clips, scored beside the baselines."""

from __future__ import annotations

import json

import numpy as np
import torch

from choreo.bundle import SamplingDefaults, load_bundle, save_bundle
from choreo.cli import main
from choreo.dataset import TrainingSet
from choreo.formats.cleanup import put_on_floor
from choreo.model import MDM, MDMConfig
from choreo.motion import Motion

from synthetic_motion import rigid_dance


def test_eval_model_scores_the_validation_split(tmp_path, capsys):
    clips = [Motion(put_on_floor(rigid_dance(frames=111, seed=i, amplitude=0.4)), text=f"dance {i}", style="s",
                    source=f"c{i}", performance=f"p{i}") for i in range(4)]
    ts = TrainingSet.build(clips, val_performances={"p2", "p3"}, mirror=False)
    ts.save(tmp_path / "data")
    torch.manual_seed(0)
    model = MDM(MDMConfig(latent_dim=32, num_layers=1, ff_size=64, text_dim=384, dropout=0.0))
    save_bundle(tmp_path / "model", model, ts.normalizer, diffusion_steps=50, window_frames=40)
    code = main(["eval-model", "--model", str(tmp_path / "model"), "--data", str(tmp_path / "data"), "--out",
                 str(tmp_path / "eval"), "--samples", "1", "--steps", "3", "--guidance", "1.5", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["holdout"]["steps"], result["holdout"]["guidance"]) == (3, 1.5)
    assert result["holdout"]["validation_performances"] == ["p2", "p3"]
    assert result["counts"]["generated"]["clips"] == 2 and result["counts"]["reference"]["clips"] == 2
    assert result["counts"]["generated"]["windows"] == 2  # one 5-s window per 5.5-s clip
    assert set(result["baselines"]) == {"real_vs_real", "retrieval", "train_vs_val"}
    assert result["baselines"]["real_vs_real"]["available"]
    gen_bones = result["metrics"]["bone_std_m"]["generated"]
    assert gen_bones is not None and gen_bones < 1e-5  # generated motion keeps the skeleton exactly
    assert np.isfinite(result["metrics"]["fid_k"]["generated"])
    assert (tmp_path / "eval" / "report.html").is_file() and (tmp_path / "eval" / "metrics.json").is_file()


def test_eval_model_without_validation_clips_is_exit_2(tmp_path, capsys):
    clips = [Motion(put_on_floor(rigid_dance(frames=60, seed=0)), text="x", source="c", performance="p")]
    TrainingSet.build(clips, val_fraction=0.0, mirror=False).save(tmp_path / "data")
    assert main(["eval-model", "--model", str(tmp_path / "none"), "--data", str(tmp_path / "data")]) == 2
    assert "no validation clips" in capsys.readouterr().err


def test_publish_makes_the_evaluated_sampling_settings_the_models_defaults(tmp_path, capsys):
    clips = [Motion(put_on_floor(rigid_dance(frames=111, seed=i, amplitude=0.4)), text=f"dance {i}", style="s",
                    source=f"c{i}", performance=f"p{i}") for i in range(3)]
    ts = TrainingSet.build(clips, val_performances={"p2"}, mirror=False)
    ts.save(tmp_path / "data")
    torch.manual_seed(0)
    run = tmp_path / "run"
    save_bundle(run, MDM(MDMConfig(latent_dim=32, num_layers=1, ff_size=64, text_dim=384, dropout=0.0)),
                ts.normalizer, diffusion_steps=50, window_frames=40, card={"name": "tiny", "training_steps": 10})
    assert load_bundle(run).sampling == SamplingDefaults()  # a fresh bundle: 50 steps, guidance 2.5
    (run / "log.json").write_text(json.dumps({"config": {"batch_size": 4, "lr": 1e-3, "ema_decay": 0.9},
                                              "log": [{"step": 10, "loss": 0.5, "val_loss": 0.6, "seconds": 9}]}))
    assert main(["eval-model", "--model", str(run), "--data", str(tmp_path / "data"), "--out",
                 str(tmp_path / "eval"), "--samples", "1", "--steps", "4", "--guidance", "1.25", "--json"]) == 0
    capsys.readouterr()
    assert main(["publish-model", "--run", str(run), "--data", str(tmp_path / "data"), "--eval",
                 str(tmp_path / "eval"), "--out", str(tmp_path / "published")]) == 0
    published = load_bundle(tmp_path / "published")
    assert published.sampling == SamplingDefaults(steps=4, guidance=1.25)
    assert load_bundle(run).sampling == SamplingDefaults()  # the run's own bundle is left as it was
    assert json.loads((tmp_path / "published" / "args.json").read_text())["sampling"] == {"steps": 4, "guidance": 1.25}
    card = (tmp_path / "published" / "MODEL_CARD.md").read_text()
    assert "4 DDIM steps and guidance 1.25" in card and "| fid_k |" in card
    assert (tmp_path / "published" / "holdout_metrics.json").is_file()
    capsys.readouterr()
    assert main(["model-info", str(tmp_path / "published")]) == 0
    assert "4 DDIM steps, guidance 1.25" in capsys.readouterr().out


def _two_style_set(tmp_path):
    """Style "a": four performances (two held out); style "b": two (one held out)."""
    clips = [Motion(put_on_floor(rigid_dance(frames=111, seed=i, amplitude=0.4 + 0.3 * (i >= 4))),
                    text=f"dance {i}", style="a" if i < 4 else "b", source=f"c{i}", performance=f"p{i}")
             for i in range(6)]
    ts = TrainingSet.build(clips, val_performances={"p2", "p3", "p5"}, mirror=False)
    ts.save(tmp_path / "data")
    torch.manual_seed(0)
    model = MDM(MDMConfig(latent_dim=32, num_layers=1, ff_size=64, text_dim=384, dropout=0.0))
    return ts, model


def test_eval_model_reports_rows_per_style_and_omits_a_one_performance_baseline(tmp_path, capsys):
    ts, model = _two_style_set(tmp_path)
    save_bundle(tmp_path / "model", model, ts.normalizer, diffusion_steps=50, window_frames=40)
    code = main(["eval-model", "--model", str(tmp_path / "model"), "--data", str(tmp_path / "data"), "--out",
                 str(tmp_path / "eval"), "--samples", "2", "--steps", "3"])
    assert code == 0
    printed = capsys.readouterr().out
    result = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    per_style = result["per_style"]
    assert set(per_style) == {"validation", "all_real", "train_vs_val"}
    val = per_style["validation"]
    assert set(val) == {"a", "b"}
    assert val["a"]["counts"]["generated"]["clips"] == 4 and val["a"]["counts"]["reference"]["clips"] == 2
    assert val["b"]["counts"]["generated"]["clips"] == 2 and val["b"]["counts"]["reference"]["clips"] == 1
    assert val["a"]["generated"]["fid_g"] is not None and val["a"]["generated"]["pops"] is not None
    assert val["a"]["real_vs_real"]["halves"] == {"a": ["p2"], "b": ["p3"]}
    assert not val["b"]["real_vs_real"]["available"] and "p5" in val["b"]["real_vs_real"]["reason"]
    # Against all real clips of the style both styles have two performances to split.
    assert per_style["all_real"]["b"]["counts"]["reference"]["clips"] == 2
    assert per_style["all_real"]["b"]["real_vs_real"]["halves"] == {"a": ["p4"], "b": ["p5"]}
    assert per_style["train_vs_val"]["a"]["counts"]["generated"]["clips"] == 2
    # The overall baseline splits within each style: style b (one validation performance) is left out.
    overall = result["baselines"]["real_vs_real"]
    assert overall["styles"] == ["a"] and set(overall["omitted"]) == {"b"}
    assert "Per style" in printed and "omitted: b has 1 performance (p5)" in printed
    assert "baseline real_vs_real leaves out b" in printed
    html = (tmp_path / "eval" / "report.html").read_text()
    assert "<h2>Per style" in html and "omitted: b has 1 performance (p5)" in html


def test_update_card_refreshes_only_the_evaluation_section(tmp_path, capsys):
    ts, model = _two_style_set(tmp_path)
    model_dir = tmp_path / "published"
    save_bundle(model_dir, model, ts.normalizer, diffusion_steps=50, window_frames=40)
    args = ["eval-model", "--model", str(model_dir), "--data", str(tmp_path / "data"), "--out",
            str(tmp_path / "eval"), "--samples", "1", "--steps", "2", "--update-card"]
    assert main(args) == 2
    assert "no MODEL_CARD.md to update" in capsys.readouterr().err
    card = ("# Model card: tiny\n\n## Training\n- steps: 10\n\n## Held-out evaluation\n\nold numbers\n\n"
            "## Reproduce\nrun it\n")
    (model_dir / "MODEL_CARD.md").write_text(card)
    assert main(args) == 0
    text = (model_dir / "MODEL_CARD.md").read_text()
    assert "old numbers" not in text and text.startswith("# Model card: tiny\n\n## Training\n- steps: 10\n")
    assert text.endswith("## Reproduce\nrun it\n")
    assert "### Per style" in text and "| a | model vs validation |" in text
    assert "| b | real vs real (validation) |" in text and "omitted: b has 1 performance (p5)" in text
    assert "- real vs real leaves out b:" in text
    saved = json.loads((model_dir / "holdout_metrics.json").read_text())
    assert saved["per_style"]["validation"]["a"]["available"]
