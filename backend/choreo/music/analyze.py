"""A song file → `Song`: decode, features, beats, downbeats, energy, sections."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError
from choreo.music.audio import MAX_SECONDS, MIN_SECONDS, Audio, load_audio
from choreo.music.beats import track_beats
from choreo.music.downbeats import find_downbeats
from choreo.music.energy import beat_energy, energy_between, energy_curve
from choreo.music.features import compute_features
from choreo.music.sections import find_sections
from choreo.music.song import Song

MIN_BEATS = 8


@dataclass
class Analysis:
    """The `Song` plus what its picture needs (the samples and the frame-rate energy curve)."""

    song: Song
    audio: Audio
    energy_curve: np.ndarray
    fps: int


def analyze_audio(audio: Audio) -> Analysis:
    features = compute_features(audio.samples, audio.rate)
    beats, tempo = track_beats(features.onset, features.fps)
    if len(beats) < MIN_BEATS or not np.isfinite(tempo):
        raise ChoreoError(f"{audio.source}: no steady beat found (is this music with a pulse?)")
    bars = find_downbeats(features, beats)
    curve = energy_curve(features)
    duration = audio.duration

    def energy_of(a: float, b: float) -> float:
        return float(energy_between(curve, np.array([a, b]), features.fps)[0])

    sections = find_sections(features, beats, bars.times, bars.meter, duration, energy_of)
    song = Song(duration=round(duration, 4), sample_rate=audio.rate, tempo=round(tempo, 3),
                beats=np.round(beats, 4), downbeats=np.round(bars.times, 4), meter=bars.meter,
                sections=sections, energy=np.round(beat_energy(curve, beats, duration, features.fps), 4),
                source=audio.source)
    return Analysis(song=song, audio=audio, energy_curve=curve, fps=features.fps)


def analyze_file(path: str | Path, min_seconds: float = MIN_SECONDS, max_seconds: float = MAX_SECONDS) -> Analysis:
    return analyze_audio(load_audio(path, min_seconds=min_seconds, max_seconds=max_seconds))


def analyze(path: str | Path, max_seconds: float = MAX_SECONDS) -> Song:
    """The `Song` of the file at `path`."""
    return analyze_file(path, max_seconds=max_seconds).song
