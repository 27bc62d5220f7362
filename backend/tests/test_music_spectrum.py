"""The analysis's spectral transforms (choreo.music.spectrum) against librosa 0.11, whose definitions they follow,
on a synthesized song and on noise; and their own properties where librosa is not installed."""

from __future__ import annotations

import numpy as np
import pytest

from choreo.music import spectrum
from choreo.music.audio import SAMPLE_RATE
from choreo.music.demo_song import synthesize
from choreo.music.features import FPS, N_FFT, N_MELS

HOP = SAMPLE_RATE // FPS


@pytest.fixture(scope="module")
def signal() -> np.ndarray:
    song = synthesize(structure=(("verse", 4), ("chorus", 4)), rate=SAMPLE_RATE)
    noise = np.random.default_rng(0).standard_normal(SAMPLE_RATE).astype(np.float32) * 0.1
    return np.concatenate([song.samples.astype(np.float32), noise])


def _close(ours: np.ndarray, theirs: np.ndarray, rel: float) -> None:
    """Equal to `rel` of the larger one's scale (float32 sums in a different order)."""
    assert ours.shape == theirs.shape
    scale = float(np.abs(theirs).max())
    assert np.abs(ours - theirs).max() <= rel * scale, (np.abs(ours - theirs).max(), scale)


def test_the_transforms_equal_librosas(signal: np.ndarray) -> None:
    librosa = pytest.importorskip("librosa", reason="librosa (the test extra) is the reference")
    power = spectrum.stft_power(signal, N_FFT, HOP)
    theirs_power = np.abs(librosa.stft(signal, n_fft=N_FFT, hop_length=HOP)) ** 2
    _close(power, theirs_power, 1e-5)
    mel_fb = spectrum.mel_filters(SAMPLE_RATE, N_FFT, N_MELS)
    _close(mel_fb, librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS), 1e-6)
    np.testing.assert_allclose(spectrum.mel_frequencies(N_MELS, fmax=SAMPLE_RATE / 2),
                               librosa.mel_frequencies(n_mels=N_MELS, fmax=SAMPLE_RATE / 2), rtol=1e-9)
    _close(spectrum.chroma_filters(SAMPLE_RATE, N_FFT), librosa.filters.chroma(sr=SAMPLE_RATE, n_fft=N_FFT), 1e-6)
    # From here on both start from librosa's spectrogram, so each step is compared alone.
    mel = librosa.feature.melspectrogram(S=theirs_power, sr=SAMPLE_RATE, n_mels=N_MELS)
    log_mel = librosa.power_to_db(mel, ref=np.max)
    np.testing.assert_allclose(spectrum.power_to_db(mel), log_mel, atol=1e-3)
    _close(spectrum.onset_strength(log_mel, N_FFT, HOP),
           librosa.onset.onset_strength(S=log_mel, sr=SAMPLE_RATE, hop_length=HOP), 1e-5)
    _close(spectrum.chroma(theirs_power, SAMPLE_RATE, N_FFT),
           librosa.feature.chroma_stft(S=theirs_power, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP, tuning=0.0), 1e-5)
    _close(spectrum.mfcc(log_mel, 13), librosa.feature.mfcc(S=log_mel, n_mfcc=13), 1e-5)
    x = spectrum.onset_strength(log_mel, N_FFT, HOP).astype(np.float64)
    _close(spectrum.autocorrelate(x, 300), librosa.autocorrelate(x, max_size=300), 1e-9)


def test_a_sine_lands_in_its_bin_and_its_pitch_class() -> None:
    """Without librosa: a 440-Hz sine peaks in the STFT bin of 440 Hz, in chroma's A row, and its power
    (Parseval, periodic Hann window: sum w² = 3N/8) is the sine's."""
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    power = spectrum.stft_power(np.sin(2 * np.pi * 440.0 * t), N_FFT, HOP)
    assert power.shape == (N_FFT // 2 + 1, 1 + SAMPLE_RATE // HOP)
    middle = power[:, power.shape[1] // 2]
    assert np.argmax(middle) == round(440.0 * N_FFT / SAMPLE_RATE)
    # one-sided spectrum of a unit sine: total power over all bins = N * sum(w²) / 2
    assert middle.sum() * 2 / N_FFT == pytest.approx(0.5 * 3 * N_FFT / 8, rel=0.01)
    chroma = spectrum.chroma(power, SAMPLE_RATE, N_FFT)
    assert np.argmax(chroma[:, power.shape[1] // 2]) == 9  # C C# D D# E F F# G G# A
    mel = spectrum.mel_filters(SAMPLE_RATE, N_FFT, N_MELS)
    assert mel.shape == (N_MELS, N_FFT // 2 + 1) and np.all(mel.max(axis=1) > 0)  # no empty band


def test_onset_strength_rises_at_a_note_and_only_there() -> None:
    """A click train: the flux peaks within a frame of each click, lined up with the centred STFT's frames."""
    y = np.zeros(2 * SAMPLE_RATE, np.float32)
    clicks = [0.5, 1.0, 1.5]
    for c in clicks:
        k = int(c * SAMPLE_RATE)
        y[k:k + 200] = np.hanning(200)
    power = spectrum.stft_power(y, N_FFT, HOP)
    log_mel = spectrum.power_to_db(spectrum.mel_filters(SAMPLE_RATE, N_FFT, N_MELS) @ power)
    onset = spectrum.onset_strength(log_mel, N_FFT, HOP)
    peaks = [int(np.argmax(onset[int(c * FPS) - 10:int(c * FPS) + 10])) + int(c * FPS) - 10 for c in clicks]
    assert all(abs(p - c * FPS) <= 6 for p, c in zip(peaks, clicks, strict=True)), peaks  # the window's half-width
