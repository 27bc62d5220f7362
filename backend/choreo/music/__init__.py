"""Music analysis: a song → `Song` (tempo, beats, downbeats, sections with repeats, energy).

The bottom layer: imports nothing of the model. librosa's numba kernels are compiled on first use
(≈ 20 s); numba's on-disk cache keeps them between processes. When the user has not chosen a cache
folder, it goes to the user's cache dir (site-packages may be read-only).
"""

from __future__ import annotations

import os
from pathlib import Path

if "NUMBA_CACHE_DIR" not in os.environ:  # must be set before numba is first imported
    _cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "choreo" / "numba"
    os.environ["NUMBA_CACHE_DIR"] = str(_cache)

from choreo.music.beats import MusicBeats, beat_times, detect_beats, regress_tempo  # noqa: E402
from choreo.music.song import Section, Song  # noqa: E402

__all__ = ["MusicBeats", "Section", "Song", "beat_times", "detect_beats", "regress_tempo"]
