"""Music beats for evaluation: read a song and return its beat times (seconds) and tempo.

librosa + soundfile (WAV/FLAC/OGG/MP3 without ffmpeg). librosa's default hop (512 at 22.05 kHz, 43 fps)
quantises tempo (117.45 BPM for a 120-BPM song), so the onset envelope is taken at 100 fps
(24 kHz, hop 240) and the tempo is regressed over the tracked beat times.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError

SAMPLE_RATE = 24000
ONSET_FPS = 100
HOP_LENGTH = SAMPLE_RATE // ONSET_FPS


@dataclass
class MusicBeats:
    """Beat times (s, from the start of the song), tempo (BPM) and song length (s)."""

    times: np.ndarray
    tempo_bpm: float
    duration: float
    source: str = ""


def load_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples at SAMPLE_RATE; ChoreoError for a missing, unreadable or empty file."""
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise ChoreoError(f"{path}: no such audio file")
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, OSError, ValueError, TypeError) as exc:  # LibsndfileError is a RuntimeError
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ChoreoError(f"{path}: cannot read audio ({reason}); use WAV, FLAC, OGG or MP3") from None
    if data.size == 0:
        raise ChoreoError(f"{path}: audio file holds no samples")
    mono = data.mean(axis=1)
    if rate != SAMPLE_RATE:
        import librosa

        mono = librosa.resample(mono, orig_sr=rate, target_sr=SAMPLE_RATE)
    return mono.astype(np.float32), SAMPLE_RATE


def regress_tempo(times: np.ndarray) -> float:
    """Tempo (BPM) from the least-squares slope of beat time against beat index (NaN for < 2 beats)."""
    if len(times) < 2:
        return float("nan")
    slope = np.polyfit(np.arange(len(times)), times, 1)[0]
    return float(60.0 / slope) if slope > 0 else float("nan")


def detect_beats(samples: np.ndarray, rate: int = SAMPLE_RATE) -> MusicBeats:
    """Beat times from librosa's beat tracker on a 100-fps onset-strength envelope."""
    import librosa

    hop = int(round(rate / ONSET_FPS))
    envelope = librosa.onset.onset_strength(y=samples, sr=rate, hop_length=hop)
    _, times = librosa.beat.beat_track(onset_envelope=envelope, sr=rate, hop_length=hop, units="time")
    times = np.asarray(times, dtype=np.float64)
    return MusicBeats(times=times, tempo_bpm=regress_tempo(times), duration=len(samples) / rate)


def beat_times(path: str | Path) -> MusicBeats:
    """Read the song at `path` and track its beats."""
    samples, rate = load_audio(path)
    beats = detect_beats(samples, rate)
    beats.source = str(path)
    return beats
