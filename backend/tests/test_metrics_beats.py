"""Beat alignment scores (both variants) and their chance levels on motions with known beats."""

import numpy as np
import pytest
from scipy.special import erf

from choreo.metrics import beat_alignment as ba
from choreo.metrics.geometric import _REST

FPS = 20.0
PERIOD = 0.5  # s: 120 BPM, 10 frames
SIGMA = ba.SCORE_SIGMA_S


def pulsing(seconds: float = 10.0) -> np.ndarray:
    """Every joint moves along x with speed A(1 − cos 2πt/P): it stops exactly at t = kP."""
    t = np.arange(int(seconds * FPS))[:, None, None] / FPS
    x = 0.4 * (t - PERIOD / (2 * np.pi) * np.sin(2 * np.pi * t / PERIOD))
    joints = np.repeat(_REST[None], len(t), axis=0).astype(np.float64)
    joints[..., 0] += x[..., 0]
    return joints


# The music beats the clip can show (the first and last frame cannot be a local minimum).
BEATS = PERIOD * np.arange(1, 20)
# Expected score for a beat at a uniformly random phase: mean of exp(−d²/2σ²), d ~ U(0, P/2).
RANDOM_PHASE = SIGMA * np.sqrt(np.pi / 2) * erf(PERIOD / 2 / (SIGMA * np.sqrt(2))) / (PERIOD / 2)


def test_motion_beats_land_on_the_velocity_minima():
    joints = pulsing()
    np.testing.assert_allclose(ba.bailando_motion_beats(joints, FPS), BEATS, atol=1e-9)
    np.testing.assert_allclose(ba.fact_motion_beats(joints, FPS), BEATS, atol=1e-9)


def test_aligned_motion_scores_one_and_far_above_chance():
    scores = ba.beat_alignment(pulsing(), FPS, BEATS, draws=400)
    assert scores["bas_bailando"] == pytest.approx(1.0)
    assert scores["bas_fact"] == pytest.approx(1.0)
    for variant in ("bas_bailando", "bas_fact"):
        assert scores[f"{variant}_chance"] == pytest.approx(RANDOM_PHASE, abs=0.05)  # ≈ 0.25
        assert scores[f"{variant}_offset"] == pytest.approx(RANDOM_PHASE, abs=0.05)
        assert scores[variant] - scores[f"{variant}_chance"] > 0.6


def test_half_beat_offset_scores_near_zero():
    assert ba.beat_alignment(pulsing(), FPS, BEATS[:-1] + PERIOD / 2, draws=10)["bas_bailando"] < 1e-4


def test_random_beats_score_near_chance():
    joints = pulsing()
    motion_beats = ba.bailando_motion_beats(joints, FPS)
    rng = np.random.default_rng(123)
    duration = (len(joints) - 1) / FPS
    random_scores = [ba.bas_bailando(np.sort(rng.uniform(0, duration, len(BEATS))), motion_beats)
                     for _ in range(200)]
    chance = ba.chance_level(ba.bas_bailando, BEATS, motion_beats, duration)
    assert np.mean(random_scores) == pytest.approx(chance, abs=0.03)


def test_the_two_variants_average_over_different_beats():
    # Bailando averages over music beats: one of two music beats is hit.
    assert ba.bas_bailando(np.array([1.0, 2.0]), np.array([1.0])) == pytest.approx(0.5, abs=1e-9)
    # FACT averages over motion beats: one motion beat on the music beat, one 50 ms (= σ) off.
    assert ba.bas_fact(np.array([1.0]), np.array([1.0, 1.05])) == pytest.approx((1 + np.exp(-0.5)) / 2)
    assert np.isnan(ba.bas_bailando(np.array([]), np.array([1.0])))
    assert ba.bas_bailando(np.array([1.0]), np.array([])) == 0.0


def test_frozen_motion_has_no_motion_beats_and_scores_zero():
    joints = np.repeat(_REST[None], 100, axis=0)
    scores = ba.beat_alignment(joints, FPS, BEATS[:9], draws=10)
    assert scores["motion_beats_bailando"] == 0 and scores["bas_bailando"] == 0.0


def test_chance_level_is_reproducible_with_the_seed():
    mb = ba.bailando_motion_beats(pulsing(), FPS)
    a = ba.chance_level(ba.bas_bailando, BEATS, mb, 9.95, draws=50, seed=7)
    assert a == ba.chance_level(ba.bas_bailando, BEATS, mb, 9.95, draws=50, seed=7)


def test_nearest_distance_per_row_matches_brute_force_and_keeps_the_chance_levels():
    rng = np.random.default_rng(4)
    rows = np.sort(rng.uniform(0.0, 10.0, (200, 7)), axis=1)
    points = rng.uniform(-1.0, 11.0, 9)  # some outside every row's span
    brute = np.abs(points[None, :, None] - rows[:, None, :]).min(axis=-1)
    assert np.array_equal(ba.nearest_distance_per_row(points, rows), brute)
    assert np.array_equal(ba.nearest_distance(points, rows[0]), brute[0])
    # the chance level over all draws at once equals the mean of the draws one by one (same random stream)
    draws = np.random.default_rng(7)
    motion = np.sort(rng.uniform(0.0, 9.95, 12))
    one_by_one = [ba.bas_fact(np.sort(draws.uniform(0.0, 9.95, len(BEATS))), motion) for _ in range(50)]
    assert ba.chance_level(ba.bas_fact, BEATS, motion, 9.95, draws=50, seed=7) == pytest.approx(np.mean(one_by_one))
