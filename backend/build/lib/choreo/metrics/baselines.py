"""Baselines measured with the same suite code as any model: what "good" and "copying" look like.

- real vs real: the reference clips split into two halves BY PERFORMANCE (clips of one performance, e.g.
  the two dancers of a salsa couple, stay on one side), one half scored as if generated against the
  other. The floor a model can hope for on FID with this much data.
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


def split_by_performance(
    motions: Sequence[Motion], seed: int = SEED
) -> tuple[list[Motion], list[Motion]]:
    """Two halves with no performance in both: shuffled performances (fixed seed) fill half A until it
    holds about half of all frames; the rest go to half B."""
    groups: dict[str, list[Motion]] = {}
    for m in motions:
        groups.setdefault(performance_key(m), []).append(m)
    keys = sorted(groups)
    if len(keys) < 2:
        return [], []
    order = np.random.default_rng(seed).permutation(len(keys))
    total = sum(m.num_frames for m in motions)
    half_a, half_b, frames_a = [], [], 0
    for i, idx in enumerate(order):
        clips = groups[keys[idx]]
        # Keep at least one performance on each side.
        if i == 0 or (frames_a < total / 2 and i < len(order) - 1):
            half_a.extend(clips)
            frames_a += sum(m.num_frames for m in clips)
        else:
            half_b.extend(clips)
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


def real_vs_real(reference: Sequence[Motion], seed: int = SEED) -> dict:
    """Suite numbers of one half of the reference (by performance) scored against the other half."""
    half_a, half_b = split_by_performance(reference, seed)
    if not half_a or not half_b:
        return {"available": False, "reason": "the reference holds fewer than two performances"}
    result = evaluate(half_a, half_b, draws=0)
    return {"available": True, "counts": result["counts"], "values": _rows(result),
            "halves": {"a": sorted({performance_key(m) for m in half_a}),
                       "b": sorted({performance_key(m) for m in half_b})}}


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
