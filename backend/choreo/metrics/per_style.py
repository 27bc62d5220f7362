"""The suite style by style: generated clips of each style against the real clips of that style.

A set mixing styles hides what happens to the small ones: 20 of the 77 s of the CMU validation clips are
modern dance and Charleston, so an overall FID says little about them. Here every style gets its own row
(FID, Div, speed, jitter, foot skating under both definitions, and the plausibility counts of
`metrics/plausibility.py`), beside the style's own real-vs-real baseline (split by performance; omitted,
with the reason, when the style has a single performance) and the pose predicates whose frequency
differs most from the style's real clips (what the FID_g gap is made of).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from choreo.metrics import geometric, plausibility
from choreo.metrics.baselines import (
    SEED,
    performance_key,
    single_performance_reason,
    stratified_split,
    style_key,
    window_note,
)
from choreo.metrics.suite import evaluate
from choreo.metrics.windows import WINDOW_SECONDS, cut_windows
from choreo.motion import Motion

SUITE_KEYS = ("fid_k", "fid_g", "div_k", "div_g", "mean_speed", "jitter", "skating_lodge", "skating_motionlcm")
PLAUSIBILITY_KEYS = ("pops", "pops_per_min", "instant_turns", "instant_turns_per_min", "hovering_m")
ROW_KEYS = SUITE_KEYS + PLAUSIBILITY_KEYS
GAPS = 5  # pose predicates listed per style


def by_style(motions: Sequence[Motion]) -> dict[str, list[Motion]]:
    """Clips grouped by style (`baselines.style_key`), styles sorted."""
    groups: dict[str, list[Motion]] = {}
    for m in motions:
        groups.setdefault(style_key(m), []).append(m)
    return dict(sorted(groups.items()))


def plausibility_summary(motions: Sequence[Motion]) -> dict[str, float | int | None]:
    """Pops and instant turns (totals and per minute of motion) and the median over clips of each clip's
    hovering (median height of its lowest foot joint), on whole clips in world coordinates."""
    if not motions:
        return dict.fromkeys(PLAUSIBILITY_KEYS)
    checks = [plausibility.plausibility(m.joints, m.fps) for m in motions]
    minutes = sum(m.seconds for m in motions) / 60.0
    pops = sum(c["pops"] for c in checks)
    turns = sum(c["instant_turns"] for c in checks)
    return {"pops": pops, "pops_per_min": pops / minutes if minutes else None,
            "instant_turns": turns, "instant_turns_per_min": turns / minutes if minutes else None,
            "hovering_m": float(np.median([c["hovering_m"] for c in checks]))}


def _predicate_rates(motions: Sequence[Motion], seconds: float) -> np.ndarray | None:
    feats = [geometric.geometric_features(w, m.fps) for m in motions for w in cut_windows(m.joints, m.fps, seconds)]
    return np.mean(feats, axis=0) if feats else None


def geometric_gaps(generated: Sequence[Motion], reference: Sequence[Motion], top: int = GAPS,
                   seconds: float = WINDOW_SECONDS) -> list[dict]:
    """The `top` pose predicates whose mean frame fraction over windows differs most between the sets."""
    gen, ref = _predicate_rates(generated, seconds), _predicate_rates(reference, seconds)
    if gen is None or ref is None:
        return []
    order = np.argsort(-np.abs(gen - ref), kind="stable")[:top]
    return [{"predicate": geometric.PREDICATE_NAMES[i], "generated": float(gen[i]), "reference": float(ref[i]),
             "meaning": geometric.PREDICATE_DOCS[geometric.PREDICATE_NAMES[i]]} for i in order]


def compare(generated: Sequence[Motion], reference: Sequence[Motion], seconds: float = WINDOW_SECONDS) -> dict:
    """One row pair: ROW_KEYS of `generated` scored against `reference` (FID/Div with the reference's stats)
    and of the reference itself (its own Div; FID does not apply)."""
    result = evaluate(generated, reference, window_seconds=seconds, draws=0)
    metrics = result["metrics"]
    out = {
        "counts": result["counts"],
        "generated": {**{k: metrics[k]["generated"] for k in SUITE_KEYS}, **plausibility_summary(generated)},
        "reference": {**{k: metrics[k]["reference"] for k in SUITE_KEYS}, **plausibility_summary(reference)},
    }
    note = window_note(result)
    if note:
        out["note"] = note
    return out


def style_real_vs_real(reference: Sequence[Motion], seed: int = SEED, seconds: float = WINDOW_SECONDS) -> dict:
    """Real vs real for the clips of ONE style: halves by performance, or the reason it is omitted."""
    half_a, half_b, omitted = stratified_split(reference, seed)
    if not half_a or not half_b:
        reason = next(iter(omitted.values()), None) or single_performance_reason(
            "this style", sorted({performance_key(m) for m in reference}))
        return {"available": False, "reason": reason}
    row = compare(half_a, half_b, seconds)
    return {"available": True, **row,
            "halves": {"a": sorted({performance_key(m) for m in half_a}),
                       "b": sorted({performance_key(m) for m in half_b})}}


def style_rows(generated: Sequence[Motion], reference: Sequence[Motion], seed: int = SEED,
               baseline: bool = True, gaps: bool = True, seconds: float = WINDOW_SECONDS) -> dict[str, dict]:
    """{style: row} for every style in either set. A row: "available" (False with "reason" when one side
    has no clip of the style), "performances" of the reference, "counts", "generated" and "reference"
    values (ROW_KEYS), "note" when FID cannot be computed, "real_vs_real" (with `baseline`) and
    "geometric_gaps" (with `gaps`)."""
    gen_by, ref_by = by_style(generated), by_style(reference)
    rows: dict[str, dict] = {}
    for style in sorted(set(gen_by) | set(ref_by)):
        gen, ref = gen_by.get(style, []), ref_by.get(style, [])
        row: dict = {"performances": sorted({performance_key(m) for m in ref})}
        if not ref or not gen:
            missing = "reference" if not ref else "generated"
            row.update(available=False, reason=f"no {missing} clips of {style}")
        else:
            row.update(available=True, **compare(gen, ref, seconds))
            if gaps:
                row["geometric_gaps"] = geometric_gaps(gen, ref, seconds=seconds)
        if baseline and ref:
            row["real_vs_real"] = style_real_vs_real(ref, seed, seconds)
        rows[style] = row
    return rows


TABLE_KEYS = ("fid_k", "fid_g", "div_k", "div_g", "mean_speed", "jitter", "skating_lodge", "skating_motionlcm",
              "pops_per_min", "instant_turns_per_min", "hovering_m")
TABLE_HEADERS = ("FID_k", "FID_g", "Div_k", "Div_g", "speed m/s", "jitter m/s³", "skate Lodge", "skate MLCM",
                 "pops/min", "turns/min", "hover m")
# (section of result["per_style"], side of its row, label)
_TABLE_SETS = (
    ("validation", "generated", "model vs validation"),
    ("validation", "reference", "validation data"),
    ("validation", "real_vs_real", "real vs real (validation)"),
    ("train_vs_val", "generated", "train vs validation"),
    ("all_real", "generated", "model vs all real"),
    ("all_real", "reference", "all real data"),
    ("all_real", "real_vs_real", "real vs real (all real)"),
)


def _windows(row: dict, side: str) -> str:
    c = row.get("counts", {})
    if not c:
        return ""
    if side == "reference":
        n = c["reference"]["windows"]
        return f"{n} window{'s' if n != 1 else ''}"
    return f"{c['generated']['windows']} vs {c['reference']['windows']} windows"


def _halves(base: dict) -> str:
    a, b = base["halves"]["a"], base["halves"]["b"]
    if len(a) + len(b) > 4:
        return f"{len(a)} vs {len(b)} performances"
    return f"{', '.join(a)} vs {', '.join(b)}"


def table_rows(per_style: dict) -> list[tuple[str, str, dict[str, float | None] | None, str]]:
    """(style, set, values or None, note) for every style and set of `result["per_style"]` (the rows the CLI
    and the model card print): values None with the reason as the note where a row does not apply."""
    styles = sorted({s for section in per_style.values() for s in section})
    rows: list[tuple[str, str, dict[str, float | None] | None, str]] = []
    for style in styles:
        for section, side, label in _TABLE_SETS:
            row = per_style.get(section, {}).get(style)
            if row is None:
                continue
            if side == "real_vs_real":
                base = row.get("real_vs_real")
                if base is None:
                    continue
                if not base.get("available"):
                    rows.append((style, label, None, f"omitted: {base['reason']}"))
                    continue
                note = "; ".join(x for x in (_halves(base), _windows(base, "generated"), base.get("note")) if x)
                rows.append((style, label, base["generated"], note))
            elif not row.get("available"):
                rows.append((style, label, None, row.get("reason", "")))
            else:
                note = "; ".join(x for x in (_windows(row, side), row.get("note") if side == "generated" else None)
                                 if x)
                rows.append((style, label, row[side], note))
    return rows


def fmt(value: float | int | None) -> str:
    """A table cell: 3 significant digits, integers above 1000, — for missing."""
    if value is None:
        return "—"
    value = float(value)
    if not np.isfinite(value):
        return "—"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def format_style_table(per_style: dict) -> str:
    """Fixed-width text table of `table_rows`, one line per style and set, then each style's pose gaps."""
    head = ("style", "set", *TABLE_HEADERS, "note")
    lines = [head] + [(style, label, *(fmt(v.get(k)) if v else "—" for k in TABLE_KEYS), note)
                      for style, label, v, note in table_rows(per_style)]
    widths = [max(len(r[i]) for r in lines) for i in range(len(head) - 1)]
    out = ["  ".join(f"{c:<{w}}" if i < 2 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(r, widths, strict=False)))
           + "  " + r[-1] for r in lines]
    out.insert(1, "-" * (sum(widths) + 2 * len(widths) + 4))
    for style, row in per_style.get("all_real", {}).items():
        gaps = row.get("geometric_gaps") or []
        if gaps:
            out.append(f"{style}, largest pose gaps vs all real {style} (fraction of frames, model/real): "
                       + "; ".join(f"{g['predicate']} {g['generated']:.2f}/{g['reference']:.2f}" for g in gaps))
    return "\n".join(out)
