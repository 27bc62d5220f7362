"""Music beat tracking on a synthetic click track, and clear errors for bad audio."""

import numpy as np
import pytest

from choreo.errors import ChoreoError
from choreo.music import beat_times, regress_tempo

soundfile = pytest.importorskip("soundfile", reason="soundfile is needed to read audio")


def click_track(path, bpm: float = 120.0, seconds: float = 12.0, rate: int = 22050, first: float = 0.25):
    """Short noise bursts on every beat, starting at `first` seconds."""
    rng = np.random.default_rng(0)
    y = np.zeros(int(rate * seconds), dtype=np.float32)
    n = int(0.03 * rate)
    for k in range(int((seconds - first) * bpm / 60)):
        s = int((first + k * 60 / bpm) * rate)
        y[s : s + n] += (rng.standard_normal(n) * np.exp(-np.arange(n) / (0.005 * rate))).astype(np.float32)
    soundfile.write(str(path), y, rate)
    return path


def test_regress_tempo_from_beat_times():
    assert regress_tempo(np.arange(10) * 0.5 + 0.1) == pytest.approx(120.0)
    assert np.isnan(regress_tempo(np.array([1.0])))


def test_click_track_beats_and_tempo(tmp_path):
    beats = beat_times(click_track(tmp_path / "clicks.wav"))
    assert beats.tempo_bpm == pytest.approx(120.0, abs=0.5)  # not librosa's quantised 117.45
    assert beats.duration == pytest.approx(12.0, abs=0.01)
    assert len(beats.times) >= 18
    np.testing.assert_allclose(np.diff(beats.times), 0.5, atol=0.011)
    # Every tracked beat sits on a click (onset detection lags by about one 10-ms hop).
    phase = (beats.times - 0.25) % 0.5
    assert np.all(np.minimum(phase, 0.5 - phase) < 0.03)


def test_missing_corrupt_and_empty_audio_are_user_errors(tmp_path):
    with pytest.raises(ChoreoError, match="no such audio file"):
        beat_times(tmp_path / "missing.wav")
    bad = tmp_path / "song.wav"
    bad.write_bytes(b"RIFF\x00\x00not really audio at all")
    with pytest.raises(ChoreoError, match="cannot read audio"):
        beat_times(bad)
    empty = tmp_path / "empty.wav"
    soundfile.write(str(empty), np.zeros(0, dtype=np.float32), 22050)
    with pytest.raises(ChoreoError, match="no samples"):
        beat_times(empty)
