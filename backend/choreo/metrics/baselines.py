"""Baselines measured with the same suite code as any model: what "good" and "copying" look like.

- real vs real: the reference clips split into two halves BY PERFORMANCE (clips of one performance, e.g.
  the two dancers of a salsa couple, stay on one side) WITHIN EACH STYLE (each style's performances are
  divided between the halves; a style with a single performance is left out, with the reason), one half
  scored as if generated against the other. The floor a model can hope for on FID with this much data.
  Stratifying keeps two different styles from being scored against each other (salsa vs modern dance is
  orders of magnitude apart on FID).
- retrieval: random 5-s windows of real reference clips (fixed seed) scored against the whole reference
  set: a "model" that copies its training data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from choreo.metrics.suite import evaluate
from choreo.metrics.windows import WINDOW_SECONDS
from choreo.motion import Motion

SEED = 0
SET_LEVEL = ("fid_k", "fid_g", "div_k", "div_g")


def performance_key(motion: Motion) -> str:
    """The group a clip belongs to: its performance, else its source file."""
    return motion.performance or motion.source.split("#")[0] or "unknown"


def style_key(motion: Motion) -> str:
    """The style a clip belongs to ("unlabelled" when it has none)."""
    return motion.style or "unlabelled"


def _split_one_style(motions: Sequence[Motion], seed: int) -> tuple[list[Motion], list[Motion]]:
    groups: dict[str, list[Motion]] = {}
    for m in motions:
        groups.setdefault(performance_key(m), []).append(m)
    keys = sorted(groups)
    if len(keys) < 2:
        return [], []
    order = np.random.default_rng(seed).permutation(len(keys))
    total = sum(m.num_frames for m in motions)
    half_a: list[Motion] = []
    half_b: list[Motion] = []
    frames_a = 0
    for i, idx in enumerate(order):
        clips = groups[keys[idx]]
        # Keep at least one performance on each side.
        if i == 0 or (frames_a < total / 2 and i < len(order) - 1):
            half_a.extend(clips)
            frames_a += sum(m.num_frames for m in clips)
        else:
            half_b.extend(clips)
    return half_a, half_b


def single_performance_reason(style: str, performances: Sequence[str]) -> str:
    """Why a style gets no real-vs-real baseline."""
    named = f" ({performances[0]})" if performances else ""
    return (f"{style} has {len(performances)} performance{named} in the reference: real vs real needs at "
            "least 2 to split by performance")


def stratified_split(
    motions: Sequence[Motion], seed: int = SEED
) -> tuple[list[Motion], list[Motion], dict[str, str]]:
    """Two halves with no performance in both, split style by style: within each style, shuffled
    performances (fixed seed) fill half A until it holds about half of that style's frames, the rest go
    to half B. Styles with fewer than two performances are left out: {style: reason} is the third item."""
    styles: dict[str, list[Motion]] = {}
    for m in motions:
        styles.setdefault(style_key(m), []).append(m)
    half_a: list[Motion] = []
    half_b: list[Motion] = []
    omitted: dict[str, str] = {}
    for style in sorted(styles):
        a, b = _split_one_style(styles[style], seed)
        if not a or not b:
            omitted[style] = single_performance_reason(style, sorted({performance_key(m) for m in styles[style]}))
            continue
        half_a.extend(a)
        half_b.extend(b)
    return half_a, half_b, omitted


def split_by_performance(
    motions: Sequence[Motion], seed: int = SEED
) -> tuple[list[Motion], list[Motion]]:
    """The two halves of `stratified_split` (styles with one performance dropped); ([], []) when no
    style has two performances."""
    half_a, half_b, _ = stratified_split(motions, seed)
    return half_a, half_b


def random_windows(
    motions: Sequence[Motion], count: int, seconds: float = WINDOW_SECONDS, seed: int = SEED
) -> list[Motion]:
    """`count` windows of `seconds` at random clips and start frames (clips long enough only)."""
    usable = [m for m in motions if m.num_frames >= int(round(seconds * m.fps))]
    if not usable or count < 1:
        return []
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        m = usable[int(rng.integers(len(usable)))]
        size = int(round(seconds * m.fps))
        start = int(rng.integers(m.num_frames - size + 1))
        out.append(Motion(joints=m.joints[start : start + size], fps=m.fps, text=m.text, style=m.style,
                          source=f"{m.source}#frames{start}-{start + size}", performance=m.performance))
    return out


def _rows(result: dict) -> dict[str, float | None]:
    return {key: result["metrics"][key]["generated"] for key in result["metrics"]}


def window_note(result: dict) -> str | None:
    """Why FID/Div of a suite result are missing, if they are: a set with fewer than 2 windows."""
    c = result["counts"]
    if c["generated"]["windows"] >= 2 and c["reference"]["windows"] >= 2:
        return None
    return (f"FID needs at least 2 windows on each side (here {c['generated']['windows']} and "
            f"{c['reference']['windows']})")


def real_vs_real(reference: Sequence[Motion], seed: int = SEED) -> dict:
    """Suite numbers of one half of the reference (by performance, within each style) scored against the
    other half. Styles with one performance are listed under "omitted" with the reason."""
    half_a, half_b, omitted = stratified_split(reference, seed)
    if not half_a or not half_b:
        reason = ("the reference holds fewer than two performances" if len(omitted) <= 1
                  else "no style has two performances")
        if omitted:
            reason += ": " + "; ".join(omitted.values())
        return {"available": False, "reason": reason, "omitted": omitted}
    result = evaluate(half_a, half_b, draws=0)
    out = {"available": True, "counts": result["counts"], "values": _rows(result),
           "halves": {"a": sorted({performance_key(m) for m in half_a}),
                      "b": sorted({performance_key(m) for m in half_b})},
           "styles": sorted({style_key(m) for m in half_a}), "omitted": omitted}
    note = window_note(result)
    if note:
        out["note"] = note
    return out


def retrieval(reference: Sequence[Motion], count: int, seed: int = SEED) -> dict:
    """Suite numbers of `count` random real 5-s windows scored against the whole reference."""
    drawn = random_windows(reference, count, seed=seed)
    if len(drawn) < 2:
        return {"available": False, "reason": "the reference has no clip of at least one 5-s window"}
    result = evaluate(drawn, reference, draws=0)
    return {"available": True, "counts": result["counts"], "values": _rows(result), "windows": len(drawn)}


def baselines(reference: Sequence[Motion], generated_windows: int, seed: int = SEED) -> dict:
    """Both baselines; the retrieval draws as many windows as the generated set has (at least 2)."""
    return {"real_vs_real": real_vs_real(reference, seed),
            "retrieval": retrieval(reference, max(2, generated_windows), seed)}
