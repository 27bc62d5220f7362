"""Spectral features shared by every step, from ONE short-time Fourier transform at 100 frames a second.

One power spectrogram (n_fft 2048, hop 240 at 24 kHz) gives the onset envelope (beats), a low-band
onset envelope (kick and bass, for downbeats), chroma (harmony), MFCCs (timbre) and RMS (loudness).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from choreo.music import spectrum
from choreo.music.audio import SAMPLE_RATE

FPS = 100
N_FFT = 2048
N_MELS = 96
LOW_HZ = 200.0  # below: kick drum and bass
LEAD_FRAMES = 10


@dataclass
class Features:
    """Frame-rate features (frame k is at time k / fps)."""

    fps: int
    onset: np.ndarray  # [T] spectral flux of the log-mel spectrogram (spectrum.onset_strength)
    onset_low: np.ndarray  # [T] same, below LOW_HZ
    chroma: np.ndarray  # [12, T]
    mfcc: np.ndarray  # [13, T]
    rms_db: np.ndarray  # [T]

    @property
    def frames(self) -> int:
        return len(self.onset)

    def frame(self, t: np.ndarray | float) -> np.ndarray:
        return np.clip(np.round(np.asarray(t) * self.fps).astype(int), 0, self.frames - 1)


def compute_features(samples: np.ndarray, rate: int = SAMPLE_RATE) -> Features:
    hop = int(round(rate / FPS))
    # Silence before the first sample, so an attack at 0.0 s still rises out of something (dropped below).
    samples = np.concatenate([np.zeros(LEAD_FRAMES * hop, dtype=samples.dtype), samples])
    power = spectrum.stft_power(samples, N_FFT, hop)
    log_mel = spectrum.power_to_db(spectrum.mel_filters(rate, N_FFT, N_MELS) @ power)
    onset = spectrum.onset_strength(log_mel, N_FFT, hop)
    low = spectrum.mel_frequencies(N_MELS, fmax=rate / 2) < LOW_HZ
    onset_low = spectrum.onset_strength(log_mel[low], N_FFT, hop)
    # At A440: estimating the tuning cost more than the rest of the analysis.
    chroma = spectrum.chroma(power, rate, N_FFT)
    mfcc = spectrum.mfcc(log_mel, 13)
    rms = np.sqrt(power.sum(axis=0) * 2 / N_FFT ** 2)
    rms_db = 20 * np.log10(np.maximum(rms, 1e-5))
    cut = slice(LEAD_FRAMES, None)
    return Features(fps=FPS, onset=onset[cut].astype(np.float64), onset_low=onset_low[cut].astype(np.float64),
                    chroma=chroma[:, cut], mfcc=mfcc[:, cut], rms_db=rms_db[cut].astype(np.float64))


def segment_mean(x: np.ndarray, bounds: np.ndarray, fps: int) -> np.ndarray:
    """Mean of frame features `x` ([..., T]) over each interval [bounds[i], bounds[i+1]) (s) → [..., N]."""
    frames = np.clip(np.round(np.asarray(bounds) * fps).astype(int), 0, x.shape[-1])
    out = []
    for a, b in zip(frames[:-1], frames[1:], strict=True):
        b = max(b, a + 1)
        out.append(x[..., a:b].mean(axis=-1) if a < x.shape[-1] else x[..., -1])
    return np.stack(out, axis=-1) if out else np.zeros(x.shape[:-1] + (0,))
