"""Reading a song: mono float32 at one rate, from any file soundfile or ffmpeg reads.

soundfile (libsndfile) reads WAV, FLAC, OGG and MP3; M4A/AAC and the rest go through the ffmpeg binary
that imageio-ffmpeg ships. Every failure is a ChoreoError of one line.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError

SAMPLE_RATE = 24000  # 100 onset frames a second at hop 240
MIN_SECONDS = 5.0
MAX_SECONDS = 15 * 60.0
SILENCE_PEAK = 1e-3  # below -60 dBFS everywhere: nothing to analyse
SOUNDFILE_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif", ".au"}


@dataclass
class Audio:
    samples: np.ndarray  # mono float32
    rate: int
    source: str

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


def _check_length(path: Path, seconds: float, min_seconds: float, max_seconds: float) -> None:
    if seconds < min_seconds:
        raise ChoreoError(f"{path}: {seconds:.1f} s of audio is too short to analyse (at least {min_seconds:g} s)")
    if seconds > max_seconds:
        raise ChoreoError(f"{path}: {seconds / 60:.1f} min of audio is longer than the limit of "
                          f"{max_seconds / 60:g} min")


def _check_channels(path: Path, channels: int) -> None:
    if channels > 2:
        raise ChoreoError(f"{path}: {channels} audio channels; use a mono or stereo file")


def _read_soundfile(path: Path, rate: int, min_seconds: float, max_seconds: float) -> np.ndarray:
    import soundfile

    info = soundfile.info(str(path))  # raises for a file libsndfile does not read
    _check_channels(path, info.channels)
    if info.frames <= 0:
        raise ChoreoError(f"{path}: audio file holds no samples")
    _check_length(path, info.frames / info.samplerate, min_seconds, max_seconds)
    data, native = soundfile.read(str(path), dtype="float32", always_2d=True)
    if data.size == 0:
        raise ChoreoError(f"{path}: audio file holds no samples")
    mono = data.mean(axis=1)
    if native != rate:
        import soxr  # high-quality resampling (what librosa uses)

        mono = soxr.resample(mono, native, rate, quality="HQ")
    return mono.astype(np.float32)


_STREAM = re.compile(r"Stream #\S+.*?: Audio: [^,]+, (\d+) Hz, ([^,]+)")
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


def _ffmpeg_channels(layout: str) -> int:
    layout = layout.strip()
    if layout == "mono":
        return 1
    if layout == "stereo":
        return 2
    m = re.match(r"(\d+) channels", layout)
    if m:
        return int(m.group(1))
    m = re.match(r"(\d+)\.(\d+)", layout)  # 5.1, 7.1(wide), ...
    return int(m.group(1)) + int(m.group(2)) if m else 3


def _read_ffmpeg(path: Path, rate: int, min_seconds: float, max_seconds: float) -> np.ndarray:
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    probe = subprocess.run([exe, "-hide_banner", "-i", str(path)], capture_output=True, text=True, errors="replace")
    stream = _STREAM.search(probe.stderr)
    if stream is None:
        raise ChoreoError(f"{path}: cannot read audio (not an audio file, or damaged)")
    channels = _ffmpeg_channels(stream.group(2))
    _check_channels(path, channels)
    dur = _DURATION.search(probe.stderr)
    if dur:
        h, m, s = dur.groups()
        _check_length(path, int(h) * 3600 + int(m) * 60 + float(s), min_seconds, max_seconds)
    done = subprocess.run([exe, "-v", "error", "-nostdin", "-i", str(path), "-map", "0:a:0",
                           "-ac", str(channels), "-ar", str(rate), "-f", "f32le", "-"], capture_output=True)
    # Channels averaged here, as for soundfile (ffmpeg's own down-mix scales differently).
    data = np.frombuffer(done.stdout, dtype="<f4")
    mono = data[: len(data) // channels * channels].reshape(-1, channels).mean(axis=1)
    if done.returncode != 0 or mono.size == 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise ChoreoError(f"{path}: cannot decode audio ({reason[-1] if reason else 'no samples'})")
    return mono.astype(np.float32)


def load_audio(path: str | Path, rate: int = SAMPLE_RATE, min_seconds: float = MIN_SECONDS,
               max_seconds: float = MAX_SECONDS) -> Audio:
    """The song at `path` as mono float32 at `rate`. ChoreoError for a missing, unreadable, silent,
    too short, too long or more-than-stereo file."""
    path = Path(path)
    if not path.is_file():
        raise ChoreoError(f"{path}: no such audio file")
    samples = None
    if path.suffix.lower() in SOUNDFILE_SUFFIXES:
        try:
            samples = _read_soundfile(path, rate, min_seconds, max_seconds)
        except (RuntimeError, OSError, ValueError, TypeError, EOFError):  # LibsndfileError is a RuntimeError
            samples = None  # ffmpeg reads more variants (and says clearly what is wrong)
    if samples is None:
        samples = _read_ffmpeg(path, rate, min_seconds, max_seconds)
    _check_length(path, len(samples) / rate, min_seconds, max_seconds)  # a header can lie about length
    if not np.all(np.isfinite(samples)):
        raise ChoreoError(f"{path}: audio holds invalid (NaN/inf) samples")
    if float(np.abs(samples).max()) < SILENCE_PEAK:
        raise ChoreoError(f"{path}: the audio is silent")
    return Audio(samples=samples, rate=rate, source=str(path))
