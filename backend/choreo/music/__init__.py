"""Music analysis: a song → `Song` (tempo, beats, downbeats, sections with repeats, energy).

The bottom layer: imports nothing of the model. Spectral transforms are numpy and scipy (`spectrum`), so
analysing a song starts without librosa's and numba's start-up.
"""

from __future__ import annotations

from choreo.music.beats import MusicBeats, beat_times, detect_beats, regress_tempo
from choreo.music.song import Section, Song

__all__ = ["MusicBeats", "Section", "Song", "beat_times", "detect_beats", "regress_tempo"]
