"""Real vs real on two CMU salsa performances (skipped where the shared data is not present)."""

from pathlib import Path

import pytest

from choreo.metrics.baselines import real_vs_real

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SALSA = [DATA / "cmu" / "salsa" / name for name in ("60_01_scaled.bvh", "60_02_scaled.bvh")]


@pytest.fixture(scope="module")
def salsa():
    if not all(p.is_file() for p in SALSA):
        pytest.skip(f"CMU salsa files not found under {DATA} (shared data is not shipped with the project)")
    importers = pytest.importorskip("choreo.importers", reason="choreo.importers is not available")
    return [m for p in SALSA for m in importers.load_motions(p)]


def test_two_salsa_performances_score_as_real_dance(salsa):
    assert len({m.performance for m in salsa}) == 2
    out = real_vs_real(salsa)
    assert out["available"] and out["counts"]["generated"]["windows"] >= 5
    values = out["values"]
    assert 0.0 < values["fid_k"] < 200.0 and 0.0 < values["fid_g"] < 200.0
    assert 0.2 < values["mean_speed"] < 1.5  # m/s: salsa at the documented 60-fps source rate
    assert values["bone_max_rel_dev"] < 1e-3  # imported clips are retargeted to fixed bone lengths
    assert values["penetration_frames"] == 0.0  # imported clips stand on the floor
    assert values["skating_motionlcm"] < 0.2
    # Captured salsa feet stand above MotionLCM's 5-cm line; on the generated motion's floor they count (0.18).
    assert values["skating_motionlcm_grounded"] > 3 * values["skating_motionlcm"]


MIXED = ([DATA / "cmu" / "salsa" / n for n in ("60_01_scaled.bvh", "61_01_scaled.bvh")]  # one couple
         + [DATA / "cmu" / "modern" / f"005_0{i}.bvh" for i in range(2, 6)]
         + [DATA / "cmu" / "charleston"])


@pytest.fixture(scope="module")
def mixed():
    if not all(p.exists() for p in MIXED):
        pytest.skip(f"CMU salsa/modern/Charleston files not found under {DATA} (shared data is not shipped)")
    importers = pytest.importorskip("choreo.importers", reason="choreo.importers is not available")
    return [m for p in MIXED for m in importers.load_motions(p)]


def test_real_vs_real_on_three_cmu_styles_splits_within_each_style(mixed):
    from choreo.metrics.per_style import style_rows

    out = real_vs_real(mixed)
    assert out["available"] and out["styles"] == ["charleston", "modern"]
    assert list(out["omitted"]) == ["salsa"] and "salsa_01" in out["omitted"]["salsa"]
    assert {p.split("_")[1] for p in out["halves"]["a"]} == {p.split("_")[1] for p in out["halves"]["b"]} == {"5", "93"}
    rows = style_rows([m for m in mixed if m.style == "modern"][:2], mixed)
    assert rows["modern"]["available"] and not rows["salsa"]["available"]
    assert not rows["salsa"]["real_vs_real"]["available"] and "salsa_01" in rows["salsa"]["real_vs_real"]["reason"]
    assert rows["modern"]["real_vs_real"]["available"] and rows["charleston"]["real_vs_real"]["available"]
    assert rows["modern"]["reference"]["pops"] == 0 and rows["modern"]["reference"]["hovering_m"] < 0.1
