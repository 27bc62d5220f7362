"""The suite, the baselines and the HTML report on synthetic dance clips."""

import json

import numpy as np
import pytest

from choreo.metrics import baselines, suite
from choreo.metrics.geometric import _REST, J
from choreo.metrics.report import write_report
from choreo.motion import Motion

FPS = 20.0


def dance(seconds: float, seed: int, energy: float = 1.0, performance: str = "") -> Motion:
    """Standing body with swinging arms and a swaying pelvis: random frequencies and phases."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FPS)) / FPS
    joints = np.repeat(_REST[None], len(t), axis=0).astype(np.float64)
    joints[..., 1] -= joints[..., 1].min()
    sway = 0.05 * energy * np.sin(2 * np.pi * rng.uniform(0.3, 1.0) * t + rng.uniform(0, 6))
    joints[..., 0] += sway[:, None]
    for name in ("left_elbow", "right_elbow", "left_wrist", "right_wrist"):
        f, ph = rng.uniform(0.5, 2.0), rng.uniform(0, 6)
        joints[:, J[name], 2] += 0.15 * energy * np.sin(2 * np.pi * f * t + ph)
        joints[:, J[name], 1] += 0.1 * energy * np.sin(2 * np.pi * f * t + ph + 1)
    return Motion(joints=joints, fps=FPS, source=f"dance{seed}", performance=performance or f"p{seed}")


def test_counts_windows_and_reports_every_metric_with_its_protocol():
    gen = [dance(12, 1), dance(6, 2), dance(3, 3), dance(1, 4)]  # 2 + 1 + 1 (short) + 0 (too short)
    ref = [dance(10, s) for s in range(10, 14)]
    result = suite.evaluate(gen, ref)
    assert result["counts"]["generated"] == {"clips": 4, "windows": 4, "seconds": 22.0}
    assert result["counts"]["reference"]["windows"] == 8
    assert set(result["metrics"]) == {k for k in suite.PROTOCOLS if not k.startswith("bas_")}
    for row in result["metrics"].values():
        assert set(row) == {"generated", "reference", "unit", "protocol"} and row["protocol"]
    assert "NOT comparable" in result["metrics"]["fid_k"]["protocol"]
    assert result["metrics"]["fid_k"]["reference"] is None
    json.dumps(result, allow_nan=False)  # plain, JSON-ready
    # The swinging forearms of these clips change length; a still rest pose keeps the canonical bones.
    assert result["metrics"]["bone_canonical_dev"]["reference"] > 0.05
    still = Motion(joints=np.repeat(_REST[None], 100, axis=0))
    rest = suite.evaluate([still, still], [still, still])["metrics"]
    assert rest["bone_canonical_dev"]["generated"] == pytest.approx(0.0, abs=1e-6)  # float32 joints


def test_reference_against_itself_has_zero_fid_and_equal_div():
    ref = [dance(10, s) for s in range(4)]
    m = suite.evaluate(ref, ref)["metrics"]
    assert m["fid_k"]["generated"] == pytest.approx(0.0, abs=1e-5)
    assert m["fid_g"]["generated"] == pytest.approx(0.0, abs=1e-5)
    assert m["div_k"]["generated"] == pytest.approx(m["div_k"]["reference"])
    assert m["jitter"]["generated"] == pytest.approx(m["jitter"]["reference"])


def test_lower_energy_shows_in_speed_and_fid():
    ref = [dance(10, s) for s in range(6)]
    same = suite.evaluate([dance(10, s) for s in range(20, 26)], ref)["metrics"]
    calm = suite.evaluate([dance(10, s, energy=0.3) for s in range(20, 26)], ref)["metrics"]
    assert calm["mean_speed"]["generated"] < 0.5 * calm["mean_speed"]["reference"]
    assert calm["fid_k"]["generated"] > same["fid_k"]["generated"]


def test_music_adds_both_bas_variants_with_chance_and_offset():
    beats = np.arange(0.5, 10.0, 0.5)
    result = suite.evaluate([dance(10, 1), dance(10, 2)], [dance(10, 3), dance(10, 4)], music_beats=beats,
                            draws=50)
    for key in ("bas_bailando", "bas_bailando_chance", "bas_bailando_offset", "bas_fact", "bas_fact_chance",
                "bas_fact_offset"):
        assert 0.0 <= result["metrics"][key]["generated"] <= 1.0
    assert len(result["beats"]["clips"]) == 2 and result["beats"]["music_beats"] == len(beats)


def test_split_by_performance_keeps_performances_together():
    ref = [dance(10, s, performance=f"perf{s // 2}") for s in range(8)]  # four performances of two clips
    a, b = baselines.split_by_performance(ref)
    perf_a = {m.performance for m in a}
    perf_b = {m.performance for m in b}
    assert perf_a and perf_b and not perf_a & perf_b and len(a) + len(b) == 8
    assert baselines.split_by_performance(ref) == (a, b)  # fixed seed
    assert baselines.split_by_performance([dance(10, 0, performance="x")]) == ([], [])


def test_baselines_real_vs_real_and_retrieval():
    ref = [dance(10, s, performance=f"perf{s // 2}") for s in range(8)]
    out = baselines.baselines(ref, generated_windows=6)
    assert out["real_vs_real"]["available"] and out["retrieval"]["windows"] == 6
    assert out["real_vs_real"]["values"]["fid_k"] >= 0.0
    drawn = baselines.random_windows(ref, 3, seed=1)
    assert [m.num_frames for m in drawn] == [100, 100, 100]
    assert [m.source for m in drawn] == [m.source for m in baselines.random_windows(ref, 3, seed=1)]
    single = baselines.baselines([dance(10, 0)], generated_windows=2)
    assert not single["real_vs_real"]["available"] and single["real_vs_real"]["reason"]


def test_report_writes_html_with_embedded_plots(tmp_path):
    gen, ref = [dance(10, 1), dance(10, 2)], [dance(10, 3), dance(10, 4)]
    beats = np.arange(0.5, 10.0, 0.5)
    result = suite.evaluate(gen, ref, music_beats=beats, draws=20)
    result["baselines"] = baselines.baselines(ref, 4)
    page = write_report(tmp_path, result, gen, ref, beats)
    text = page.read_text()
    for png in ("speed_curves.png", "beat_alignment.png", "foot_contacts.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert text.count("data:image/png;base64,") == 3
    assert "fid_k" in text and "Baselines" in text and "NOT comparable" in text
