"""Downbeats (which beat is "1") and the meter (4 or 3 beats a bar).

Evidence per beat, each z-scored over the song: the low-band onset (kick and bass land on "1"), the
harmonic change (chords change on bar lines: cosine distance between the chroma of the two beats
before and the two beats after), and the full-band accent. For every meter m and phase p the score is
how much the beats p, p+m, p+2m, ... stand out from the others; the best (m, p) wins, with 4/4 kept
unless 3/4 is clearly better (pop is mostly 4/4). One phase holds for the whole song.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from choreo.music.beats import beat_salience
from choreo.music.features import Features, segment_mean

WEIGHTS = {"low": 1.0, "harmony": 1.5, "accent": 0.5}
THREE_OVER_FOUR = 1.25  # 3/4 must score this much higher than 4/4


@dataclass
class Downbeats:
    times: np.ndarray
    meter: int
    phase: int  # index of the first downbeat among the beats (beats before it are a pickup)
    confidence: float  # 0–1: how clearly the winning phase beats the runner-up


def _z(x: np.ndarray) -> np.ndarray:
    s = x.std()
    return (x - x.mean()) / s if s > 1e-9 else np.zeros_like(x)


def beat_evidence(features: Features, beats: np.ndarray) -> dict[str, np.ndarray]:
    """Per-beat evidence that the beat starts a bar (each z-scored)."""
    n = len(beats)
    period = float(np.median(np.diff(beats))) if n > 1 else 0.5
    bounds = np.append(beats, beats[-1] + period)
    chroma = segment_mean(features.chroma, bounds, features.fps)  # [12, n]
    chroma = chroma / np.maximum(np.linalg.norm(chroma, axis=0, keepdims=True), 1e-9)
    change = np.zeros(n)
    for i in range(1, n):
        before = chroma[:, max(0, i - 2) : i].mean(axis=1)
        after = chroma[:, i : i + 2].mean(axis=1)
        change[i] = 1 - before @ after / max(np.linalg.norm(before) * np.linalg.norm(after), 1e-9)
    return {"low": _z(beat_salience(features.onset_low, beats, features.fps)), "harmony": _z(change),
            "accent": _z(beat_salience(features.onset, beats, features.fps))}


def phase_scores(evidence: np.ndarray, meter: int) -> np.ndarray:
    """For each phase: mean evidence on beats ≡ phase (mod meter) minus the mean on the others."""
    idx = np.arange(len(evidence)) % meter
    return np.array([evidence[idx == p].mean() - evidence[idx != p].mean() if np.any(idx == p) else -np.inf
                     for p in range(meter)])


def find_downbeats(features: Features, beats: np.ndarray) -> Downbeats:
    if len(beats) < 8:  # too few beats to tell the bar: every 4th beat from the first
        return Downbeats(times=beats[::4].copy(), meter=4, phase=0, confidence=0.0)
    ev = beat_evidence(features, beats)
    combined = sum(w * ev[k] for k, w in WEIGHTS.items())
    scores = {m: phase_scores(combined, m) for m in (4, 3)}
    meter = 3 if scores[3].max() > THREE_OVER_FOUR * max(scores[4].max(), 1e-9) else 4
    s = np.sort(scores[meter])[::-1]
    phase = int(np.argmax(scores[meter]))
    confidence = float(np.clip((s[0] - s[1]) / max(abs(s[0]), 1e-9), 0.0, 1.0))
    return Downbeats(times=beats[phase::meter].copy(), meter=meter, phase=phase, confidence=confidence)
