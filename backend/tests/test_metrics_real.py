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
