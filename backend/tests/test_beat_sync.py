"""Beat sync on motions whose kinematic beats the test places: arms and legs swing and stop at chosen times."""

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.interpolate import PchipInterpolator

from choreo.choreography import beat_sync as bs
from choreo.errors import ChoreoError
from choreo.metrics.beat_alignment import bailando_motion_beats
from choreo.skeleton import CANONICAL_BONE_LENGTHS, bone_lengths, forward_kinematics

FPS = 20.0
FRAMES = 240  # 12 s
DURATION = (FRAMES - 1) / FPS
BEATS = np.arange(0.5, DURATION, 0.5)  # 120 BPM; the beat at t = 0 is the fixed first frame
TIMES = np.arange(FRAMES) / FPS
DRAWS = 200
SALSA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cmu" / "salsa" / "60_01_scaled.bvh"


def _rot_x(angle: np.ndarray) -> np.ndarray:
    return np.stack([np.cos(angle / 2), np.sin(angle / 2), 0 * angle, 0 * angle], axis=-1)


def swinging(stops: np.ndarray, frames: int = FRAMES, amplitude: float = 0.8) -> np.ndarray:
    """Joints [frames,22,3]: arms and thighs swing as A cos φ(t), φ passing iπ at stops[i] (monotone cubic), so
    every moving joint stops exactly at each stop and the mean joint speed has its minima there."""
    stops = np.asarray(stops, dtype=np.float64)
    gap = float(np.mean(np.diff(stops)))
    knots = np.concatenate([[stops[0] - gap], stops, [stops[-1] + gap]])
    phase = PchipInterpolator(knots, np.pi * np.arange(len(knots)))(np.arange(frames) / FPS)
    theta = amplitude * np.cos(phase)
    quats = np.zeros((frames, 22, 4))
    quats[..., 0] = 1.0
    quats[:, 18], quats[:, 19] = _rot_x(theta), _rot_x(-theta)  # upper arms
    quats[:, 4], quats[:, 5] = _rot_x(-0.5 * theta), _rot_x(0.5 * theta)  # thighs
    root = np.zeros((frames, 3))
    root[:, 1] = 0.9
    return forward_kinematics(quats, root)


def late_stops(seed: int = 0) -> np.ndarray:
    """One stop per beat (and one for the beat at t = 0), 0.15 s late with ±0.04 s jitter: off the beat."""
    rng = np.random.default_rng(seed)
    grid = np.arange(0.0, DURATION, 0.5)
    return grid + 0.15 + rng.uniform(-0.04, 0.04, len(grid))


def drifting_stops(seed: int = 1) -> np.ndarray:
    """Stops every 0.46 s (130 BPM against the music's 120) with ±0.03 s jitter: the phase drifts through."""
    rng = np.random.default_rng(seed)
    grid = np.arange(0.4, DURATION, 0.46)
    return grid + rng.uniform(-0.03, 0.03, len(grid))


def score(joints: np.ndarray, beats: np.ndarray = BEATS, **kw: object) -> bs.BeatScore:
    return bs.beat_score(joints, FPS, beats, draws=DRAWS, **kw)


def assert_valid_warp(warped: np.ndarray, source_times: np.ndarray, min_rate: float = 0.8,
                      max_rate: float = 1.25) -> None:
    assert warped.shape == (FRAMES, 22, 3) and source_times.shape == (FRAMES,)
    assert bs.warp_is_valid(source_times, FPS, min_rate, max_rate)
    assert source_times[0] == 0.0 and source_times[-1] == pytest.approx(DURATION, abs=1e-12)
    rates = np.diff(source_times) * FPS
    assert rates.min() >= min_rate - 1e-9 and rates.max() <= max_rate + 1e-9
    np.testing.assert_allclose(bone_lengths(warped)[:, 1:], np.broadcast_to(CANONICAL_BONE_LENGTHS[1:],
                               (FRAMES, 21)), atol=1e-12)


def test_the_synthetic_motion_has_its_kinematic_beats_where_the_test_put_them():
    stops = late_stops()
    beats = bs.kinematic_beats(swinging(stops), FPS)
    assert len(beats) == len(stops)
    # Within a frame: the speed is smoothed (σ = 83 ms), which pulls a minimum between uneven intervals.
    np.testing.assert_allclose(beats, stops, atol=1.0 / FPS + 1e-9)
    # The eval definition, without negligible minima: the same beats here.
    np.testing.assert_allclose(beats, bailando_motion_beats(swinging(stops), FPS))


@pytest.mark.parametrize("stops", [late_stops(), drifting_stops()], ids=["late", "drifting"])
def test_warp_puts_off_beat_motion_on_the_beat(stops):
    joints = swinging(stops)
    before = score(joints)
    assert before.hit_rate < 0.6  # the drifting phase passes the beat now and then
    warped, source_times = bs.beat_warp(joints, FPS, BEATS)
    assert_valid_warp(warped, source_times)
    after = score(warped)
    assert after.motion_beats == before.motion_beats  # the warp neither adds nor loses beats
    assert after.hit_rate >= 0.75 and after.hit_rate - before.hit_rate > 0.25
    assert after.hit_rate - after.hit_rate_chance > 0.35
    assert after.hit_rate - after.hit_rate_half_beat > 0.6
    assert after.bas > 0.7 and after.bas - max(after.bas_chance, after.bas_half_beat) > 0.4
    # The output shows the source's motion: frame t is the source interpolated at s(t).
    source_at = np.array([np.interp(source_times, TIMES, joints[:, j, 0]) for j in (20, 21)]).T
    np.testing.assert_allclose(warped[:, (20, 21), 0], source_at, atol=0.02)


def test_a_warp_found_on_one_motion_applies_to_another_of_the_same_length():
    """`resample` along a warp's source times gives the warp's own output on the motion it was found on, and on
    a motion changed in one stretch (as a repair changes it) it leaves the other frames on the beat."""
    joints = swinging(late_stops())
    warped, source = bs.beat_warp(joints, FPS, BEATS)
    np.testing.assert_allclose(bs.resample(joints, FPS, source), warped, atol=1e-9)
    changed = joints.copy()
    changed[100:112] = changed[100:101]  # held still for 12 frames
    again = bs.resample(changed, FPS, source)
    assert score(again).hit_rate >= 0.75 > score(changed).hit_rate
    assert np.abs(bone_lengths(again) - bone_lengths(joints)[0]).max() < 1e-6


def test_motion_already_on_the_beat_is_left_unchanged():
    joints = swinging(np.arange(0.0, DURATION, 0.5))
    assert score(joints).hit_rate == 1.0
    warped, source_times = bs.beat_warp(joints, FPS, BEATS)
    np.testing.assert_allclose(source_times, TIMES, atol=1e-6)
    np.testing.assert_allclose(warped, joints, atol=1e-6)


@pytest.mark.parametrize("accent", [0, 1], ids=["even", "odd"])
def test_downbeats_win_when_not_every_beat_can_be_hit(accent):
    # Stops every 0.5 s; the music beats alternate 0.15 s after and 0.15 s before them. Under rates [0.9, 1.1]
    # two neighbouring beats can never both be hit, not even landing 0.08 s beside them (0.5 s of source in
    # 0.2-0.36 or 0.64-0.8 s), so the warp takes every other one, and the downbeats decide which half.
    stops = np.arange(0.5, 11.1, 0.5)
    grid = stops + np.where(np.arange(len(stops)) % 2 == 0, 0.15, -0.15)
    downbeats = grid[accent::2]
    warped, source_times = bs.beat_warp(swinging(stops), FPS, grid, downbeats, min_rate=0.9, max_rate=1.1)
    assert bs.warp_is_valid(source_times, FPS, 0.9, 1.1)
    kinematic = bs.kinematic_beats(warped, FPS)
    hit_down = np.min(np.abs(downbeats[:, None] - kinematic[None, :]), axis=1) <= 0.05 + 1e-9
    others = grid[1 - accent::2]
    hit_other = np.min(np.abs(others[:, None] - kinematic[None, :]), axis=1) <= 0.05 + 1e-9
    assert hit_down.mean() >= 0.75 and hit_other.mean() <= 0.25


def test_a_grid_the_bounds_cannot_reach_stays_below_75_percent_and_the_bounds_hold():
    # Stops every 0.5 s against beats every 0.9 s: a 1.8x tempo change, far outside [0.8, 1.25]. Each beat's
    # ±0.1 s window can catch at most one stop, so at most 13 of 23 stops can hit (57 %).
    joints = swinging(np.arange(0.5, DURATION, 0.5))
    slow = np.arange(0.5, DURATION, 0.9)
    warped, source_times = bs.beat_warp(joints, FPS, slow)
    assert_valid_warp(warped, source_times)
    after = score(warped, slow)
    assert after.hit_rate < 0.6
    assert after.hit_rate >= score(joints, slow).hit_rate  # it still does what it can


def _matching_value(pairs, source, music, weights, duration, lo, hi):
    """Σ weights − warp penalty of a matching, or None if a piece of its warp breaks the rate bounds."""
    ts = [0.0] + [music[k] for _, k in pairs] + [duration]
    ss = [0.0] + [source[j] for j, _ in pairs] + [duration]
    value = sum(weights[k] for _, k in pairs)
    for i in range(len(ts) - 1):
        dt, ds = ts[i + 1] - ts[i], ss[i + 1] - ss[i]
        if dt <= 0 or not lo * dt - 1e-9 <= ds <= hi * dt + 1e-9:
            return None
        value -= bs.WARP_PENALTY * dt * (ds / dt - 1.0) ** 2
    return value


@pytest.mark.parametrize("seed", range(4))
def test_beat_matching_is_optimal_against_exhaustive_search(seed):
    rng = np.random.default_rng(seed)
    duration = 4.0
    source, music = np.sort(rng.uniform(0.2, 3.8, 5)), np.sort(rng.uniform(0.2, 3.8, 6))
    weights = rng.choice([1.0, bs.DOWNBEAT_WEIGHT], len(music))
    best = 0.0
    for r in range(1, 6):
        for js in itertools.combinations(range(5), r):
            for ks in itertools.combinations(range(6), r):
                value = _matching_value(list(zip(js, ks, strict=True)), source, music, weights, duration, 0.8, 1.25)
                best = max(best, value if value is not None else best)
    pairs = bs.match_beats(source, music, weights, duration, 0.8, 1.25)
    found = _matching_value(pairs, source, music, weights, duration, 0.8, 1.25) if pairs else 0.0
    assert found is not None and found == pytest.approx(best, abs=1e-9)


def test_half_beat_grid_is_the_midpoints():
    np.testing.assert_allclose(bs.half_beat_grid(np.array([1.0, 2.0, 2.5])), [1.5, 2.25, 2.75])
    assert len(bs.half_beat_grid(np.array([1.0]))) == 0


def test_span_restricts_both_kinds_of_beat():
    # Late stops in the first half, on-beat stops in the second: the halves score apart.
    stops = np.concatenate([np.arange(0.0, 6.0, 0.5) + 0.2, np.arange(6.5, DURATION, 0.5)])
    joints = swinging(stops)
    first, second = score(joints, span=(0.0, 6.0)), score(joints, span=(6.0, DURATION + 1.0))
    assert first.hit_rate == 0.0 and second.hit_rate == 1.0
    assert first.music_beats + second.music_beats == len(BEATS)
    assert first.motion_beats + second.motion_beats == len(stops)


def test_degenerate_inputs_give_the_documented_results():
    still = np.repeat(swinging(late_stops())[:1], FRAMES, axis=0)
    still = still + np.random.default_rng(0).normal(0.0, 1e-4, still.shape)  # sensor-noise still
    assert len(bs.kinematic_beats(still, FPS)) == 0
    s = score(still)
    assert s.motion_beats == 0 and np.isnan(s.hit_rate) and np.isnan(s.hit_rate_chance)
    assert s.bas == 0.0  # music beats, but no motion beat near any
    warped, source_times = bs.beat_warp(still, FPS, BEATS)
    np.testing.assert_array_equal(warped, still)
    np.testing.assert_array_equal(source_times, TIMES)

    joints = swinging(late_stops())
    empty = score(joints, span=(3.26, 3.49))  # no music beat and no kinematic beat inside
    assert empty.music_beats == 0 and np.isnan(empty.hit_rate) and np.isnan(empty.bas)
    no_music = score(joints, np.zeros(0))
    assert no_music.hit_rate == 0.0 and np.isnan(no_music.bas) and np.isnan(no_music.hit_rate_half_beat)
    json.dumps(no_music.to_dict())  # NaN becomes null
    assert no_music.to_dict()["bas"] is None
    warped, source_times = bs.beat_warp(joints, FPS, np.array([-1.0, 50.0]))  # beats outside the clip
    np.testing.assert_array_equal(source_times, TIMES)

    for frames in (1, 2):
        short = joints[:frames]
        warped, source_times = bs.beat_warp(short, FPS, BEATS)
        assert warped.shape == short.shape and np.array_equal(source_times, TIMES[:frames])
        assert np.isnan(bs.beat_score(short, FPS, BEATS, draws=10).hit_rate)


def test_bad_arguments_are_refused_in_one_line():
    joints = swinging(late_stops())
    with pytest.raises(ChoreoError, match="min_rate"):
        bs.beat_warp(joints, FPS, BEATS, min_rate=1.1, max_rate=1.3)
    with pytest.raises(ChoreoError, match=r"\[frames, 22, 3\]"):
        bs.beat_warp(joints[:, :10], FPS, BEATS)
    with pytest.raises(ChoreoError, match="frame rate"):
        bs.beat_score(joints, 0.0, BEATS)
    # Non-finite beat times are ignored, not propagated.
    assert score(joints, np.append(BEATS, [np.nan, np.inf])) == score(joints)


def test_warp_is_valid_rejects_bad_warps():
    assert bs.warp_is_valid(TIMES, FPS)
    assert not bs.warp_is_valid(TIMES * 1.01, FPS)  # end moved
    bent = TIMES.copy()
    bent[100:110] = bent[100]  # stops: rate 0
    assert not bs.warp_is_valid(bent, FPS)


def test_real_salsa_lands_on_an_arbitrary_grid_without_speeding_up_more_than_the_bound():
    if not SALSA.is_file():
        pytest.skip(f"CMU salsa file not found at {SALSA} (shared data is not shipped with the project)")
    from choreo.importers import load_motions

    motion = load_motions(SALSA)[0]
    joints, fps = motion.joints[: int(20 * motion.fps)], motion.fps
    grid = np.arange(0.3, (len(joints) - 1) / fps, 0.5)  # 120 BPM the dancer never heard
    before = bs.beat_score(joints, fps, grid, draws=DRAWS)
    warped, source_times = bs.beat_warp(joints, fps, grid)
    assert bs.warp_is_valid(source_times, fps)
    after = bs.beat_score(warped, fps, grid, draws=DRAWS)
    assert after.hit_rate >= 0.75 and after.hit_rate > before.hit_rate + 0.2
    assert after.hit_rate - after.hit_rate_chance > 0.3 and after.hit_rate - after.hit_rate_half_beat > 0.4
    assert abs(after.motion_beats - before.motion_beats) <= 2
    speed = np.linalg.norm(np.diff(joints, axis=0), axis=-1).max(axis=0)
    warped_speed = np.linalg.norm(np.diff(warped, axis=0), axis=-1).max(axis=0)
    assert np.all(warped_speed <= 1.25 * speed * 1.1 + 1e-3)  # a time warp only rescales speeds


def test_beats_land_beside_the_beat_where_no_exact_landing_fits_the_bounds(monkeypatch):
    # Stops every 0.65 s against beats every 0.4545 s (132 BPM): 1.43 beats apart, so two neighbouring stops can
    # never both land exactly under [0.8, 1.25] (0.65 s of source in 0.45 or 0.91 s). Landing up to 80 ms beside
    # the beat, most of them hit; with exact landings only, the warp finds nothing better than the motion as is.
    rng = np.random.default_rng(3)
    stops = np.arange(0.4, DURATION - 0.2, 0.65)
    joints = swinging(stops + rng.uniform(-0.02, 0.02, len(stops)))
    grid = np.arange(60 / 132, DURATION, 60 / 132)
    warped, source_times = bs.beat_warp(joints, FPS, grid)
    assert_valid_warp(warped, source_times)
    after = score(warped, grid)
    assert after.hit_rate >= 0.75 and after.hit_rate - after.hit_rate_half_beat > 0.5
    assert after.motion_beats == score(joints, grid).motion_beats
    monkeypatch.setattr(bs, "LANDING_SPREAD", 0.0)
    monkeypatch.setattr(bs, "REFINE_PASSES", 0)
    exact_only, _ = bs.beat_warp(joints, FPS, grid)
    assert score(exact_only, grid).hit_rate < 0.6
