"""Putting a dance on the beat: measure how well its kinematic beats hit the music's, and time-warp it so they do.

Kinematic beats are the motion beats of `choreo eval` (Bailando's: strict local minima of the Gaussian-smoothed
mean joint speed, `choreo.metrics.beat_alignment.bailando_motion_beats`), with one addition applied everywhere
in this module: minima shallower than `MIN_BEAT_PROMINENCE` (0.01 m/s of mean joint speed) are dropped. Such
minima are numerical noise on a body that is (nearly) still, not beats anyone would see; a still body has none.

- `beat_score(joints, fps, beats, tolerance, span)` -> `BeatScore`: the hit rate (fraction of kinematic beats
  within `tolerance` of a music beat) and Bailando's BAS, each next to two controls: the same score against as
  many beats placed uniformly at random (mean over `CHANCE_DRAWS` draws, fixed seed) and against the grid
  shifted by half a beat (each beat moved to the midpoint of its interval). A dance is on the beat only when
  the score is far above both.
- `beat_warp(joints, fps, beats, downbeats)` -> (warped joints, source time of each output frame). A smooth,
  monotone time warp s(t) (output frame at time t shows the source at s(t)) with s(0) = 0 and s(D) = D, D the
  clip's duration, so the length stays and sections still stitch; the local speed ds/dt stays within
  [min_rate, max_rate]. Dynamic programming matches source kinematic beats to music beats monotonically such
  that every piece of the warp between matched anchors keeps the bounds, maximising the matched beats (a
  downbeat, the "1" of a bar, counts `DOWNBEAT_WEIGHT` times) minus a small penalty for warping at all; the
  piecewise-linear warp through the anchors is then smoothed (its per-frame rates are averaged, which keeps
  them within the bounds). Positions are resampled by cubic splines in time and the bone lengths restored.
  Two refinements, each measured on the shipped model's dances (hit rate of the material 0.68 -> 0.76):
  where the bounds allow no exact landing (two beats 0.57-0.73 s apart under [0.8, 1.25]), a beat may land up
  to `LANDING_SPREAD` beside its music beat for less credit, one beat per music beat; and since the speed seen
  after the warp is the source speed times the warp's rate, a minimum moves where the rate changes, so the
  anchors are moved back by how far the warped motion's beats missed (`REFINE_PASSES`). Of the exact-only
  matching, the one with landings beside the beat and their refinements, the warp landing the most
  (downbeat-weighted) beats is kept — the identity when none beats it.

Limits, measured on the tests' motions: the warp aims at exact landings, so on a grid denser than the
tolerance (every time within 0.1 s of a beat: hit rate 1 by chance alone, as the controls show) it still
moves beats, by up to a second over 12 s; a tempo the bounds cannot bridge (stops every 0.5 s, beats every
0.9 s) stays below 60 % hits, as it must; and a very shallow minimum (prominence ~0.01-0.02 m/s) can vanish
when its neighbourhood is sped up, so compare `motion_beats` before and after.

Times are seconds, frame k at k/fps; the clip spans [0, D] with D = (T-1)/fps (beats outside it are ignored).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.ndimage import gaussian_filter1d
from scipy.signal import argrelextrema, peak_prominences

from choreo.errors import ChoreoError
from choreo.metrics.beat_alignment import (
    CHANCE_DRAWS,
    SEED,
    bailando_velocity,
    bas_bailando,
    chance_level,
    nearest_distance,
    nearest_distance_per_row,
)
from choreo.skeleton import NUM_JOINTS, bone_lengths, enforce_bone_lengths

MIN_BEAT_PROMINENCE = 0.01  # m/s of smoothed mean joint speed: shallower minima are noise, not beats
DEFAULT_TOLERANCE = 0.1  # s: a kinematic beat this close to a music beat hits it
DOWNBEAT_WEIGHT = 2.0  # a matched bar start counts this many ordinary beats
DOWNBEAT_SNAP = 0.06  # s: a music beat this close to a downbeat is that downbeat
WARP_PENALTY = 0.5  # per second of warp, times (rate - 1)²: breaks ties towards the least warping
WARP_SMOOTH_S = 0.05  # s: σ of the Gaussian averaging the warp's per-frame rates
MAX_SKIP = 6  # between two matched anchors at most this many beats of either kind go unmatched
LANDING_SPREAD = 0.08  # s: where no exact landing fits the rate bounds, a beat may land this far beside its beat
LANDING_STEPS = 4  # landing places on each side of a beat (every 20 ms)
LANDING_DECAY = 0.5  # credit lost at the spread's edge, against an exact landing
REFINE_PASSES = 3  # times the knots are moved by how far the warped motion's beats missed
_EPS = 1e-9


@dataclass
class BeatScore:
    """One alignment measurement, always with its controls. NaN marks a score that is undefined (see `beat_score`)."""

    hit_rate: float  # fraction of kinematic beats within `tolerance` s of a music beat
    hit_rate_chance: float  # same with the music beats placed uniformly at random (mean over draws, fixed seed)
    hit_rate_half_beat: float  # same against the music beat grid shifted by half a beat
    bas: float  # Bailando BAS (`bas_bailando`) against the real grid
    bas_chance: float
    bas_half_beat: float
    motion_beats: int
    music_beats: int

    def to_dict(self) -> dict:
        """Plain JSON-ready values; an undefined (NaN) score becomes None."""
        return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in asdict(self).items()}


def _checked(joints: np.ndarray, fps: float) -> np.ndarray:
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3):
        raise ChoreoError(f"beat sync needs joints shaped [frames, {NUM_JOINTS}, 3], got {list(joints.shape)}")
    if not fps > 0:
        raise ChoreoError(f"beat sync needs a positive frame rate, got {fps}")
    return joints


def _times(x: np.ndarray | None) -> np.ndarray:
    """Sorted finite times from a beat list (None: none)."""
    x = np.zeros(0) if x is None else np.asarray(x, dtype=np.float64).ravel()
    return np.sort(x[np.isfinite(x)])


def _beat_frames(joints: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices of the kinematic beats and the smoothed speed curve they are minima of."""
    joints = _checked(joints, fps)
    if joints.shape[0] < 3:
        return np.zeros(0, dtype=int), np.zeros(joints.shape[0])
    v = bailando_velocity(joints, fps)
    idx = argrelextrema(v, np.less)[0]
    if len(idx):
        idx = idx[peak_prominences(-v, idx)[0] >= MIN_BEAT_PROMINENCE]
    return idx, v


def kinematic_beats(joints: np.ndarray, fps: float) -> np.ndarray:
    """Kinematic beat times (s): `choreo eval`'s Bailando motion beats without the negligible minima."""
    return _beat_frames(joints, fps)[0] / fps


def _refined_beats(joints: np.ndarray, fps: float) -> np.ndarray:
    """Kinematic beats to a fraction of a frame (parabola through each minimum and its neighbours)."""
    idx, v = _beat_frames(joints, fps)
    if len(idx) == 0:
        return np.zeros(0)
    left, mid, right = v[idx - 1], v[idx], v[idx + 1]
    curv = left - 2.0 * mid + right
    shift = np.where(curv > _EPS, 0.5 * (left - right) / np.maximum(curv, _EPS), 0.0)
    return (idx + np.clip(shift, -0.5, 0.5)) / fps


def half_beat_grid(beats: np.ndarray) -> np.ndarray:
    """Each beat moved forward by half its local interval (the last by half the one before): the off-beats."""
    beats = np.sort(np.asarray(beats, dtype=np.float64))
    if len(beats) < 2:
        return np.zeros(0)
    gaps = np.diff(beats)
    return beats + 0.5 * np.append(gaps, gaps[-1])


def _hits(motion: np.ndarray, music: np.ndarray, tolerance: float) -> float:
    """Fraction of `motion` times within `tolerance` of a `music` time (both sorted); 0 with no music beats."""
    if len(music) == 0:
        return 0.0
    return float(np.mean(nearest_distance(motion, music) <= tolerance + _EPS))


def _hits_per_grid(motion: np.ndarray, grids: np.ndarray, tolerance: float) -> np.ndarray:
    """`_hits` of `motion` against each row of `grids` [G,n] (rows sorted)."""
    return np.mean(nearest_distance_per_row(motion, grids) <= tolerance + _EPS, axis=1)


def beat_score(
    joints: np.ndarray, fps: float, beats: np.ndarray, tolerance: float = DEFAULT_TOLERANCE,
    span: tuple[float, float] | None = None, draws: int = CHANCE_DRAWS, seed: int = SEED,
) -> BeatScore:
    """How well the motion's kinematic beats sit on `beats` (music beat times, s, frame k at k/fps).

    Only beats of both kinds in `span` = [start, end) count (default: the whole clip, [0, D]). Undefined scores
    are NaN: the hit rates when the span holds no kinematic beat, the BAS values when it holds no music beat
    (a span with kinematic but no music beats has hit rate 0: there is nothing to hit), both half-beat
    controls when `beats` has fewer than 2 beats (no interval to shift by), and both chance levels with
    `draws` 0 (a hit rate alone costs a hundredth of the controls).
    """
    joints = _checked(joints, fps)
    duration = max(joints.shape[0] - 1, 0) / fps
    start, end = (0.0, duration + _EPS) if span is None else (max(0.0, span[0]), min(span[1], duration + _EPS))
    beats = _times(beats)

    def inside(x: np.ndarray) -> np.ndarray:
        return x[(x >= start) & (x < end)] - start  # times from the span's start

    motion = inside(kinematic_beats(joints, fps)) if end > start else np.zeros(0)
    music = inside(beats) if end > start else np.zeros(0)
    half = inside(half_beat_grid(beats)) if len(beats) >= 2 and end > start else None
    length = max(end - start, 0.0)
    nan = float("nan")

    def hit_rate(grid: np.ndarray | None) -> float:
        return nan if grid is None or len(motion) == 0 else _hits(motion, grid, tolerance)

    def bas(grid: np.ndarray | None) -> float:
        return nan if grid is None or len(grid) == 0 else bas_bailando(grid, motion)

    if not draws:  # no controls asked for (ranking candidates needs the hit rate alone)
        chance_hit = nan
    elif len(motion) and len(music):
        grids = np.sort(np.random.default_rng(seed).uniform(0.0, length, (draws, len(music))), axis=1)
        chance_hit = float(_hits_per_grid(motion, grids, tolerance).mean())
    else:
        chance_hit = hit_rate(music)  # NaN without kinematic beats, 0 without music beats
    return BeatScore(
        hit_rate=hit_rate(music), hit_rate_chance=chance_hit, hit_rate_half_beat=hit_rate(half),
        bas=bas(music), bas_chance=chance_level(bas_bailando, music, motion, length, draws, seed)
        if len(music) and draws else nan, bas_half_beat=bas(half), motion_beats=len(motion), music_beats=len(music),
    )


def warp_is_valid(source_times: np.ndarray, fps: float, min_rate: float = 0.8, max_rate: float = 1.25,
                  atol: float = 1e-6) -> bool:
    """True if `source_times` [T] is a warp `beat_warp` may return: endpoints fixed, every rate in the bounds."""
    s = np.asarray(source_times, dtype=np.float64)
    if s.ndim != 1 or len(s) == 0 or not np.all(np.isfinite(s)):
        return False
    duration = (len(s) - 1) / fps
    if abs(s[0]) > atol or abs(s[-1] - duration) > atol:
        return False
    rates = np.diff(s) * fps
    return bool(np.all(rates >= min_rate - atol) and np.all(rates <= max_rate + atol))


def _feasible(dt: np.ndarray, ds: np.ndarray, min_rate: float, max_rate: float) -> np.ndarray:
    return (dt > _EPS) & (ds >= min_rate * dt - _EPS) & (ds <= max_rate * dt + _EPS)


def _cost(dt: np.ndarray, ds: np.ndarray) -> np.ndarray:
    return WARP_PENALTY * dt * (ds / np.maximum(dt, _EPS) - 1.0) ** 2


def match_beats(
    source: np.ndarray, music: np.ndarray, weights: np.ndarray, duration: float,
    min_rate: float = 0.8, max_rate: float = 1.25, groups: np.ndarray | None = None,
) -> list[tuple[int, int]]:
    """Monotone matching (source beat j, target k) maximising Σ weight[k] − warp penalty, every piece of
    the piecewise-linear warp through (0,0), (music[k], source[j])..., (D,D) keeping the rate bounds.

    `music` are sorted target times. `groups` (default: every target its own) ties targets together — the
    landing times around one music beat: a matching uses at most one target of a group, and between two
    matched anchors at most `MAX_SKIP` groups and `MAX_SKIP` source beats go unmatched.
    """
    m, b = np.asarray(source, float), np.asarray(music, float)
    if len(m) == 0 or len(b) == 0:
        return []
    g = np.arange(len(b)) if groups is None else np.asarray(groups)
    w = np.asarray(weights, float)
    mm, bb = m[:, None], b[None, :]
    # Anchors reachable from the start and to the end within the bounds.
    ok = (_feasible(bb, mm, min_rate, max_rate) & _feasible(duration - bb, duration - mm, min_rate, max_rate))
    dt = b[None, :] - b[:, None]  # [previous target, target]
    step = g[None, :] - g[:, None]
    reach = (step >= 1) & (step <= MAX_SKIP + 1)
    best = np.full((len(m), len(b)), -np.inf)
    back = np.full((len(m), len(b), 2), -1, dtype=int)
    for j in range(len(m)):
        score = np.where(ok[j], -_cost(b, np.full(len(b), m[j])), -np.inf)  # first anchor, from (0, 0)
        prev = np.full((len(b), 2), -1, dtype=int)
        for jp in range(max(0, j - MAX_SKIP - 1), j):
            if not np.isfinite(best[jp]).any():
                continue
            ds = m[j] - m[jp]
            cand = np.where(reach & _feasible(dt, ds, min_rate, max_rate), best[jp][:, None] - _cost(dt, ds), -np.inf)
            kp = np.argmax(cand, axis=0)
            value = cand[kp, np.arange(len(b))]
            better = value > score
            score = np.where(better, value, score)
            prev[better] = np.stack([np.full(better.sum(), jp), kp[better]], axis=1)
        best[j] = np.where(ok[j], score + w, -np.inf)
        back[j] = prev
    final = best - _cost(duration - bb, duration - mm)
    if not np.any(np.isfinite(final)) or final.max() <= 0.0:
        return []
    j, k = np.unravel_index(int(np.argmax(final)), final.shape)
    pairs = []
    while j >= 0:
        pairs.append((int(j), int(k)))
        j, k = back[j, k]
    return pairs[::-1]


def _smooth_rates(rates: np.ndarray, fps: float, duration: float, min_rate: float, max_rate: float) -> np.ndarray:
    """Gaussian-averaged per-frame rates (convex combinations: bounds kept), then nudged so they sum to D."""
    smooth = gaussian_filter1d(rates, sigma=WARP_SMOOTH_S * fps, mode="nearest") if len(rates) > 1 else rates
    smooth = np.clip(smooth, min_rate, max_rate)
    err = duration - smooth.sum() / fps
    room = (max_rate - smooth) if err > 0 else (smooth - min_rate)
    if abs(err) > 0 and room.sum() > 0:
        smooth = smooth + np.sign(err) * room * min(1.0, abs(err) * fps / room.sum())
    return smooth


def _landing_targets(music: np.ndarray, weights: np.ndarray, duration: float, spread: float
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times, weights, music beat index) of the places a kinematic beat may land: on each music beat, or up
    to `spread` s beside it for less credit (where the rate bounds allow no exact landing)."""
    offsets = np.linspace(-spread, spread, 2 * LANDING_STEPS + 1) if spread > 0 else np.zeros(1)
    times = (music[:, None] + offsets[None, :]).ravel()
    credit = (weights[:, None] * (1.0 - LANDING_DECAY * (offsets[None, :] / max(spread, _EPS)) ** 2)).ravel()
    group = np.repeat(np.arange(len(music)), len(offsets))
    keep = (times > 0.0) & (times < duration)
    order = np.argsort(times[keep], kind="stable")
    return times[keep][order], credit[keep][order], group[keep][order]


def _warp_through(joints: CubicSpline, frames: int, fps: float, knots_t: np.ndarray, knots_s: np.ndarray,
                  min_rate: float, max_rate: float, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The motion (its spline over `frames` frames) resampled along the smoothed piecewise-linear warp through the
    knots (output t -> source s)."""
    t = np.arange(frames) / fps
    duration = (frames - 1) / fps
    rates = np.diff(np.interp(t, knots_t, knots_s)) * fps
    s = np.concatenate([[0.0], np.cumsum(_smooth_rates(rates, fps, duration, min_rate, max_rate)) / fps])
    s = np.clip(s, 0.0, duration)
    s[-1] = duration
    return enforce_bone_lengths(joints(s), lengths), s


def _landing_quality(warped: np.ndarray, fps: float, music: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """(weighted hits within `DEFAULT_TOLERANCE`, −mean distance of the hits) of the motion's beats: larger is
    better. A beat hitting a downbeat counts its weight."""
    beats = _refined_beats(warped, fps)
    if len(beats) == 0 or len(music) == 0:
        return 0.0, 0.0
    gap = np.abs(beats[:, None] - music[None, :])
    nearest = np.argmin(gap, axis=1)
    d = gap[np.arange(len(beats)), nearest]
    hit = d <= DEFAULT_TOLERANCE + _EPS
    return float(weights[nearest][hit].sum()), -float(d[hit].mean()) if hit.any() else 0.0


def _refine_knots(warped: np.ndarray, fps: float, knots_t: np.ndarray, knots_s: np.ndarray, aims: np.ndarray,
                  min_rate: float, max_rate: float) -> np.ndarray:
    """Output times of the knots moved by how far each anchored beat missed its aim in `warped`.

    A minimum of the speed is not where the source's minimum went: the warp's rate changes at the anchor, and the
    speed seen is the source speed times that rate. Each inner knot moves back by its miss (half of it, or not
    at all, where the whole move would break the rate bounds of the pieces beside it)."""
    beats = _refined_beats(warped, fps)
    new = knots_t.copy()
    if len(beats) == 0:
        return new
    for i in range(1, len(new) - 1):
        landed = beats[np.argmin(np.abs(beats - new[i]))]
        miss = landed - aims[i - 1]
        if abs(landed - new[i]) > DEFAULT_TOLERANCE:
            continue  # that beat is gone or is another one
        for part in (1.0, 0.5):
            ti = new[i] - part * miss
            left, right = (ti - new[i - 1], knots_s[i] - knots_s[i - 1]), (new[i + 1] - ti, knots_s[i + 1] - knots_s[i])
            if all(_feasible(np.array(dt), np.array(ds), min_rate, max_rate) for dt, ds in (left, right)):
                new[i] = ti
                break
    return new


def resample(joints: np.ndarray, fps: float, source: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
    """The motion [T,22,3] read at the source times `source` [T'] s (a warp's second result), bone lengths
    restored to `lengths` (default: each bone's median): a warp found on one motion applied to another of the same
    length, e.g. to the same motion after a local repair."""
    joints = _checked(joints, fps)
    if lengths is None:
        lengths = np.median(bone_lengths(joints), axis=0)
    spline = CubicSpline(np.arange(len(joints)) / fps, joints, axis=0)
    return enforce_bone_lengths(spline(np.clip(source, 0.0, (len(joints) - 1) / fps)), lengths)


def beat_warp(
    joints: np.ndarray, fps: float, beats: np.ndarray, downbeats: np.ndarray | None = None,
    min_rate: float = 0.8, max_rate: float = 1.25, lengths: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(warped joints [T,22,3], source time of each output frame [T] s): the motion time-warped onto `beats`.

    Bone lengths are restored to `lengths` (default: each bone's median over the source). With no kinematic or
    music beat in the clip, fewer than 3 frames, or no match the bounds allow, the warp is the identity and the
    joints come back unchanged (a copy).
    """
    if not (0.0 < min_rate <= 1.0 <= max_rate):
        raise ChoreoError(f"beat warp rates must satisfy 0 < min_rate <= 1 <= max_rate (got {min_rate}, {max_rate})")
    joints = _checked(joints, fps)
    frames = joints.shape[0]
    t = np.arange(frames) / fps
    duration = max(frames - 1, 0) / fps
    if frames < 3:
        return joints.copy(), t
    music, accents = np.unique(_times(beats)), _times(downbeats)
    # A downbeat is a beat too: add any that no beat stands near.
    if len(accents):
        far = np.array([len(music) == 0 or np.min(np.abs(music - a)) > DOWNBEAT_SNAP for a in accents])
        music = np.unique(np.concatenate([music, accents[far]]))
    music = music[(music > 0.0) & (music < duration)]
    weights = np.ones(len(music))
    if len(accents) and len(music):
        weights[np.min(np.abs(music[:, None] - accents[None, :]), axis=1) <= DOWNBEAT_SNAP] = DOWNBEAT_WEIGHT
    source = _refined_beats(joints, fps)
    source = source[(source > 0.0) & (source < duration)]
    if lengths is None:
        lengths = np.median(bone_lengths(joints), axis=0)
    # Exact landings only, then landings beside the beat allowed: each warp refined, the best measured one
    # kept (the identity unless a warp lands more beats).
    best = (_landing_quality(joints, fps, music, weights), joints.copy(), t)
    spline = CubicSpline(t, joints, axis=0)  # one fit, resampled along every warp tried
    for spread in (0.0, LANDING_SPREAD):
        targets, credit, group = _landing_targets(music, weights, duration, spread)
        pairs = match_beats(source, targets, credit, duration, min_rate, max_rate, groups=group)
        if not pairs:
            continue
        knots_t = np.concatenate([[0.0], targets[[k for _, k in pairs]], [duration]])
        knots_s = np.concatenate([[0.0], source[[j for j, _ in pairs]], [duration]])
        aims = music[group[[k for _, k in pairs]]]
        warped, s = _warp_through(spline, frames, fps, knots_t, knots_s, min_rate, max_rate, lengths)
        for attempt in range(REFINE_PASSES + 1):
            if attempt:
                knots_t = _refine_knots(warped, fps, knots_t, knots_s, aims, min_rate, max_rate)
                warped, s = _warp_through(spline, frames, fps, knots_t, knots_s, min_rate, max_rate, lengths)
            quality = _landing_quality(warped, fps, music, weights)
            if quality > best[0]:
                best = (quality, warped, s)
    return best[1], best[2]
