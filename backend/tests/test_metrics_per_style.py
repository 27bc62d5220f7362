"""Per-style rows and the stratified real-vs-real baseline, on synthetic clips the tests make."""

import json

import numpy as np
import pytest

from choreo.metrics import baselines, per_style
from choreo.metrics.geometric import _REST, J
from choreo.motion import Motion

FPS = 20.0


def dance(seconds: float, seed: int, style: str, performance: str, energy: float = 1.0,
          arms_out: bool = False) -> Motion:
    """Standing body with swinging arms and a swaying pelvis; `arms_out` holds both arms out sideways."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FPS)) / FPS
    joints = np.repeat(_REST[None], len(t), axis=0).astype(np.float64)
    if arms_out:
        for side, sign in (("left", 1.0), ("right", -1.0)):
            shoulder = joints[:, J[f"{side}_shoulder"]]
            joints[:, J[f"{side}_elbow"]] = shoulder + [sign * 0.28, 0.0, 0.0]
            joints[:, J[f"{side}_wrist"]] = shoulder + [sign * 0.53, 0.0, 0.0]
    joints[..., 1] -= joints[..., 1].min()
    joints[..., 0] += (0.05 * energy * np.sin(2 * np.pi * rng.uniform(0.3, 1.0) * t + rng.uniform(0, 6)))[:, None]
    for name in ("left_elbow", "right_elbow", "left_wrist", "right_wrist"):
        f, ph = rng.uniform(0.5, 2.0), rng.uniform(0, 6)
        joints[:, J[name], 2] += 0.15 * energy * np.sin(2 * np.pi * f * t + ph)
    return Motion(joints=joints, fps=FPS, style=style, source=f"{style}{seed}", performance=performance)


def with_pop(m: Motion, frame: int) -> Motion:
    """The same clip with the whole body jumping 0.5 m sideways from `frame` on (one pop)."""
    joints = m.joints.copy()
    joints[frame:, :, 0] += 0.5
    return Motion(joints=joints, fps=m.fps, style=m.style, source=m.source, performance=m.performance)


def mixed_reference() -> list[Motion]:
    """The shape of the CMU validation split: one salsa performance of two clips (a couple), two modern
    performances, one Charleston performance."""
    return ([dance(12, s, "salsa", "salsa_04") for s in (0, 1)]
            + [dance(11, 10 + s, "modern", f"modern_{s}", energy=2.0) for s in range(2)]
            + [dance(6, 20, "charleston", "charleston_4", energy=3.0)])


def test_stratified_split_keeps_styles_on_both_sides_and_drops_one_performance_styles():
    ref = ([dance(10, s, "a", f"a{s // 2}") for s in range(8)]  # four performances of two clips
           + [dance(10, 10 + s, "b", f"b{s}") for s in range(3)]
           + [dance(10, 20, "c", "c0"), dance(10, 21, "c", "c0")])  # one performance (two dancers)
    half_a, half_b, omitted = baselines.stratified_split(ref)
    assert {m.style for m in half_a} == {m.style for m in half_b} == {"a", "b"}
    assert not {m.performance for m in half_a} & {m.performance for m in half_b}
    assert len(half_a) + len(half_b) == 11
    assert set(omitted) == {"c"} and "c0" in omitted["c"] and "1 performance" in omitted["c"]
    assert baselines.stratified_split(ref) == (half_a, half_b, omitted)  # fixed seed
    # One style: the same halves as splitting that style alone.
    only_a = [m for m in ref if m.style == "a"]
    assert baselines.split_by_performance(only_a) == tuple(
        [m for m in h if m.style == "a"] for h in (half_a, half_b))


def test_real_vs_real_no_longer_scores_one_style_against_another():
    ref = mixed_reference()
    base = baselines.real_vs_real(ref)
    assert base["available"] and base["styles"] == ["modern"]
    assert base["halves"] == {"a": ["modern_0"], "b": ["modern_1"]}
    assert set(base["omitted"]) == {"charleston", "salsa"} and "salsa_04" in base["omitted"]["salsa"]
    modern_only = baselines.real_vs_real([m for m in ref if m.style == "modern"])
    assert base["values"] == modern_only["values"]
    assert base["values"]["fid_k"] is not None  # 2 windows per half
    # Splitting the performances regardless of style (the old baseline) scores styles against each other.
    mixed = baselines._split_one_style(ref, baselines.SEED)
    assert {m.style for m in mixed[0]} != {m.style for m in mixed[1]}


def test_real_vs_real_unavailable_when_no_style_has_two_performances():
    ref = [dance(10, 0, "salsa", "s1"), dance(10, 1, "modern", "m1")]
    base = baselines.real_vs_real(ref)
    assert not base["available"]
    assert "no style has two performances" in base["reason"] and "s1" in base["reason"] and "m1" in base["reason"]


def test_style_rows_score_each_style_against_its_own_reference():
    ref = mixed_reference()
    gen = ([dance(12, 30 + s, "salsa", "g_salsa", arms_out=True) for s in range(2)]
           + [with_pop(dance(11, 40, "modern", "g_modern", energy=2.0), 100), dance(11, 41, "modern", "g_m", 2.0)]
           + [dance(1, 50, "hiphop", "g_hiphop")])
    rows = per_style.style_rows(gen, ref)
    assert list(rows) == ["charleston", "hiphop", "modern", "salsa"]
    json.dumps(rows, allow_nan=False)
    assert not rows["charleston"]["available"] and "no generated clips of charleston" in rows["charleston"]["reason"]
    assert not rows["hiphop"]["available"] and "no reference clips of hiphop" in rows["hiphop"]["reason"]
    assert "real_vs_real" not in rows["hiphop"]  # no real clips: nothing to split
    for style in ("modern", "salsa"):
        assert set(rows[style]["generated"]) == set(per_style.ROW_KEYS) == set(rows[style]["reference"])
        assert rows[style]["counts"]["reference"]["clips"] == 2
    # The pop is counted in the modern row only, per minute of that style's generated motion.
    assert rows["modern"]["generated"]["pops"] == 1 and rows["salsa"]["generated"]["pops"] == 0
    assert rows["modern"]["generated"]["pops_per_min"] == pytest.approx(1 / (22 / 60))
    assert rows["modern"]["reference"]["pops"] == 0
    assert rows["salsa"]["generated"]["hovering_m"] < 0.05
    # Salsa's arms held out sideways show as its largest pose gap; modern (same poses as its reference) has none.
    top = rows["salsa"]["geometric_gaps"][0]
    assert top["predicate"] == "hands_apart" and top["generated"] == 1.0 and top["reference"] == 0.0
    assert rows["salsa"]["generated"]["fid_g"] > 10 * max(rows["modern"]["generated"]["fid_g"], 1.0)
    # Baselines per style: modern has two performances, salsa (a couple) and charleston one.
    assert rows["modern"]["real_vs_real"]["available"]
    assert rows["modern"]["real_vs_real"]["halves"] == {"a": ["modern_0"], "b": ["modern_1"]}
    for style, perf in (("salsa", "salsa_04"), ("charleston", "charleston_4")):
        assert not rows[style]["real_vs_real"]["available"] and perf in rows[style]["real_vs_real"]["reason"]


def test_fid_needs_two_windows_per_style_and_says_so():
    ref = [dance(6, 0, "modern", "m0"), dance(6, 1, "modern", "m1")]  # one window per performance
    rows = per_style.style_rows([dance(6, 2, "modern", "g")], ref)
    assert rows["modern"]["generated"]["fid_k"] is None and "at least 2 windows" in rows["modern"]["note"]
    base = rows["modern"]["real_vs_real"]
    assert base["available"] and base["generated"]["fid_k"] is None and "(here 1 and 1)" in base["note"]
    assert base["generated"]["jitter"] is not None  # per-window metrics still apply


def test_table_prints_each_style_and_the_reason_a_baseline_is_omitted():
    ref, gen = mixed_reference(), [dance(12, 30, "salsa", "g"), dance(11, 31, "modern", "g", energy=2.0)]
    result = {"validation": per_style.style_rows(gen, ref), "all_real": per_style.style_rows(gen, ref),
              "train_vs_val": per_style.style_rows(ref, ref, baseline=False, gaps=False)}
    rows = per_style.table_rows(result)
    labels = {(style, label) for style, label, _, _ in rows}
    assert ("modern", "model vs validation") in labels and ("salsa", "real vs real (all real)") in labels
    omitted = [note for style, label, values, note in rows if style == "salsa" and label.startswith("real vs real")]
    assert omitted and all(n.startswith("omitted: ") and "salsa_04" in n for n in omitted)
    text = per_style.format_style_table(result)
    assert "omitted: salsa has 1 performance (salsa_04)" in text and "FID_k" in text
    assert "modern_0 vs modern_1" in text
    assert "salsa, largest pose gaps" in text
