"""A model's numbers on the held-out split of its training set, beside baselines computed by the same code.

For every validation clip the model generates `samples` motions from the clip's own text, as long as the
clip (capped at `max_seconds`); the suite scores them against the validation clips. Baselines:
- real vs real: the validation clips split in halves by performance within each style (a style with one
  validation performance is left out, with the reason);
- retrieval: random real windows of the TRAINING clips scored against the validation clips — a "model"
  that replays its training data;
- the training clips themselves against the validation clips (how far apart the two splits are).
Per style (result["per_style"]): the generated clips of each style against the validation clips of that
style ("validation") and against every real clip of that style, training clips included ("all_real": the
only reference with more than a few windows for the small styles), each with the style's own real-vs-real
baseline; and the style's training clips against its validation clips ("train_vs_val").
"""

from __future__ import annotations

from pathlib import Path

from choreo.dataset import TrainingSet
from choreo.generate import GenerationRequest, Generator
from choreo.metrics.baselines import random_windows, real_vs_real
from choreo.metrics.per_style import style_rows
from choreo.metrics.suite import evaluate
from choreo.motion import Motion


def split_motions(ts: TrainingSet, split: str) -> list[Motion]:
    """The original (not mirrored) clips of one split."""
    return [Motion(c, text=i.text, style=i.style, source=Path(i.source).name, performance=i.performance)
            for c, i in zip(ts.clips, ts.info, strict=True) if i.split == split and not i.mirrored]


def generate_like(generator: Generator, clips: list[Motion], *, samples: int, steps: int, guidance: float,
                  seed: int, max_seconds: float) -> list[Motion]:
    out: list[Motion] = []
    for k, clip in enumerate(clips):
        req = GenerationRequest(text=clip.text, seconds=min(clip.seconds, max_seconds), samples=samples,
                                steps=steps, guidance=guidance, seed=seed + k)
        for m in generator.generate(req):
            m.style, m.performance = clip.style, f"generated_{clip.performance}"
            out.append(m)
    return out


def _values(result: dict) -> dict:
    return {key: v["generated"] for key, v in result["metrics"].items()}


def evaluate_holdout(generator: Generator, ts: TrainingSet, *, samples: int = 2, steps: int = 50,
                     guidance: float = 2.5, seed: int = 0, max_seconds: float = 20.0) -> tuple[dict, list[Motion]]:
    """Suite result for the model on the validation split, with baselines under result["baselines"]."""
    val, train = split_motions(ts, "val"), split_motions(ts, "train")
    generated = generate_like(generator, val, samples=samples, steps=steps, guidance=guidance, seed=seed,
                              max_seconds=max_seconds)
    result = evaluate(generated, val, draws=0)
    drawn = random_windows(train, max(2, result["counts"]["generated"]["windows"]), seed=seed)
    retrieval = evaluate(drawn, val, draws=0)
    train_vs_val = evaluate(train, val, draws=0)
    result["baselines"] = {
        "real_vs_real": real_vs_real(val, seed),
        "retrieval": {"available": True, "counts": retrieval["counts"], "values": _values(retrieval),
                      "windows": len(drawn), "drawn_from": "training split"},
        "train_vs_val": {"available": True, "counts": train_vs_val["counts"], "values": _values(train_vs_val)},
    }
    result["per_style"] = {
        "validation": style_rows(generated, val, seed),
        "all_real": style_rows(generated, train + val, seed),
        "train_vs_val": style_rows(train, val, seed, baseline=False, gaps=False),
    }
    result["holdout"] = {
        "validation_performances": sorted({m.performance for m in val}),
        "samples_per_clip": samples, "steps": steps, "guidance": guidance, "seed": seed,
        "max_seconds": max_seconds,
    }
    return result, generated
