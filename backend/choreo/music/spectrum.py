"""The few spectral transforms the analysis needs, in numpy and scipy: a centred STFT, Slaney mel and chroma
filter banks, dB scaling, spectral-flux onset strength, MFCCs and autocorrelation.

They follow librosa 0.11's definitions (defaults as `features.compute_features` calls them; equal to librosa
to float32 rounding, tests/test_music_spectrum.py) without importing it: librosa with numba took 2 s to import
in every `choreo dance`, longer than the transforms themselves.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

FRAMES_PER_BLOCK = 2048  # STFT frames transformed at once (bounds the memory of the framed signal)


def stft_power(samples: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """|STFT|² [1 + n_fft/2, frames] of a mono signal: periodic Hann window, frames centred on k * hop (the
    signal padded with n_fft/2 zeros on both sides), float32 as librosa's `np.abs(stft(y)) ** 2`."""
    y = np.asarray(samples, dtype=np.float32)
    padded = np.pad(y, n_fft // 2)
    frames = 1 + (len(padded) - n_fft) // hop
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    view = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:frames]
    out = np.empty((n_fft // 2 + 1, frames), dtype=np.float32)
    for a in range(0, frames, FRAMES_PER_BLOCK):
        spec = scipy.fft.rfft(view[a:a + FRAMES_PER_BLOCK] * window, axis=-1, workers=-1)
        out[:, a:a + FRAMES_PER_BLOCK] = (spec.real ** 2 + spec.imag ** 2).T
    return out


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above."""
    hz = np.asanyarray(hz, dtype=np.float64)
    mels = hz / (200.0 / 3)
    log_step = np.log(6.4) / 27.0
    return np.where(hz >= 1000.0, 15.0 + np.log(np.maximum(hz, 1e-12) / 1000.0) / log_step, mels)


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    mels = np.asanyarray(mels, dtype=np.float64)
    log_step = np.log(6.4) / 27.0
    return np.where(mels >= 15.0, 1000.0 * np.exp(log_step * (mels - 15.0)), mels * (200.0 / 3))


def mel_frequencies(n_mels: int, fmax: float, fmin: float = 0.0) -> np.ndarray:
    """Centre frequencies (Hz) of `n_mels` bands evenly spaced on the mel scale from fmin to fmax."""
    return _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels))


def mel_filters(rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """[n_mels, 1 + n_fft/2] triangular filters from 0 Hz to Nyquist, each of unit area (Slaney's norm)."""
    fft_hz = np.linspace(0.0, rate / 2, n_fft // 2 + 1)
    edges = mel_frequencies(n_mels + 2, fmax=rate / 2)
    width = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / width[:-1, None]
    falling = ramps[2:] / width[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def _normalize_columns(x: np.ndarray, order: float, axis: int) -> np.ndarray:
    """x scaled to unit `order`-norm along `axis`; all-zero slices left as they are."""
    mag = np.abs(x)
    length = mag.max(axis=axis, keepdims=True) if order == np.inf else \
        np.sum(mag ** order, axis=axis, keepdims=True) ** (1.0 / order)
    length = np.where(length < np.finfo(x.dtype).tiny, 1.0, length)
    return x / length


def chroma_filters(rate: int, n_fft: int, n_chroma: int = 12) -> np.ndarray:
    """[n_chroma, 1 + n_fft/2] Gaussian bumps per pitch class at A440, weighted around octave 5 (two octaves
    wide), rows starting at C (Ellis's chromagram filters)."""
    hz = np.linspace(0, rate, n_fft, endpoint=False)[1:]
    bins = n_chroma * np.log2(hz / (440.0 / 16))
    bins = np.concatenate(([bins[0] - 1.5 * n_chroma], bins))
    bin_width = np.concatenate((np.maximum(bins[1:] - bins[:-1], 1.0), [1.0]))
    d = np.subtract.outer(bins, np.arange(n_chroma, dtype=np.float64)).T
    half = np.round(n_chroma / 2)
    d = np.remainder(d + half + 10 * n_chroma, n_chroma) - half
    weights = np.exp(-0.5 * (2 * d / bin_width[None, :]) ** 2)
    weights = _normalize_columns(weights, 2.0, axis=0)
    weights *= np.exp(-0.5 * ((bins / n_chroma - 5.0) / 2.0) ** 2)[None, :]
    weights = np.roll(weights, -3 * (n_chroma // 12), axis=0)
    return np.ascontiguousarray(weights[:, : n_fft // 2 + 1], dtype=np.float32)


def chroma(power: np.ndarray, rate: int, n_fft: int) -> np.ndarray:
    """[12, frames] pitch-class energy of a power spectrogram, each frame scaled to a maximum of 1."""
    return _normalize_columns(chroma_filters(rate, n_fft) @ power, np.inf, axis=0)


def power_to_db(power: np.ndarray, top_db: float = 80.0, amin: float = 1e-10) -> np.ndarray:
    """10 log10(power / its maximum), floored `top_db` below the maximum."""
    db = 10.0 * np.log10(np.maximum(amin, power))
    db -= 10.0 * np.log10(np.maximum(amin, power.max()))
    return np.maximum(db, db.max() - top_db)


def onset_strength(log_spec: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """[frames] spectral flux: the mean over bands of each band's rise since the previous frame, shifted so
    that frame k of the flux lines up with frame k of the centred STFT."""
    flux = np.maximum(0.0, log_spec[:, 1:] - log_spec[:, :-1]).mean(axis=0)
    lead = 1 + n_fft // (2 * hop)
    return np.pad(flux, (lead, 0))[: log_spec.shape[1]]


def mfcc(log_spec: np.ndarray, n_mfcc: int = 13) -> np.ndarray:
    """[n_mfcc, frames] the first coefficients of the orthonormal DCT-II over bands."""
    return scipy.fft.dct(log_spec, type=2, norm="ortho", axis=0)[:n_mfcc]


def autocorrelate(x: np.ndarray, max_size: int) -> np.ndarray:
    """x's autocorrelation at lags 0 .. max_size - 1 (through the FFT, without wrap-around)."""
    n = scipy.fft.next_fast_len(2 * len(x) - 1, real=True)
    spec = scipy.fft.rfft(x, n=n)
    return scipy.fft.irfft(spec.real ** 2 + spec.imag ** 2, n=n)[: min(max_size, len(x))]
