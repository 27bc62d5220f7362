"""A K-pop-shaped demo song made with numpy, with its ground truth (tempo, beats, bars, sections).

Every section's audio depends only on its label, length and tempo (its random generator is seeded by
the song seed and the label), so repeated sections are identical material. Sections differ in chords
(chroma), instruments (timbre) and density (energy): the intro and bridge are sparse, the chorus is
full. No recorded audio is involved, so the repository holds no copyrighted sound.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATE = 22050
A_MINOR = (0, 2, 3, 5, 7, 8, 10)  # natural minor scale, semitones above A
ROOT_MIDI = 57  # A3

# K-pop form: (kind, bars). Chorus, verse and pre-chorus repeat; the dance break is unique.
DEFAULT_STRUCTURE: tuple[tuple[str, int], ...] = (
    ("intro", 2), ("verse", 4), ("pre-chorus", 4), ("chorus", 8), ("verse", 4), ("pre-chorus", 4),
    ("chorus", 8), ("dance-break", 4), ("chorus", 8), ("outro", 2),
)
# Chord roots per bar as scale degrees (0 = Am, 2 = C, 3 = Dm, 4 = Em, 5 = F, 6 = G).
PROGRESSIONS = {
    "intro": (0, 5), "verse": (0, 5, 2, 6), "pre-chorus": (3, 4, 5, 6), "chorus": (5, 6, 4, 0),
    "dance-break": (0, 0, 3, 4), "bridge": (3, 0, 5, 4), "outro": (0, 5),
}
# Loudness of each kind (the chorus is the loudest; the intro, bridge and outro the softest).
GAIN = {"intro": 0.35, "verse": 0.55, "pre-chorus": 0.7, "chorus": 1.0, "dance-break": 0.9, "bridge": 0.4,
        "outro": 0.3}


@dataclass
class DemoSong:
    """Mono samples in [-1, 1], their rate, and the ground truth (a JSON-ready dict)."""

    samples: np.ndarray
    rate: int
    truth: dict = field(default_factory=dict)


def _midi_hz(m: float) -> float:
    return 440.0 * 2.0 ** ((m - 69) / 12)


def _scale_midi(degree: int, octave: int = 0) -> int:
    o, d = divmod(degree, 7)
    return ROOT_MIDI + 12 * (o + octave) + A_MINOR[d]


def _triad(root_degree: int, octave: int = 0) -> list[int]:
    return [_scale_midi(root_degree + k, octave) for k in (0, 2, 4)]


def _tone(freq: float, seconds: float, rate: int, harmonics: tuple[float, ...], attack: float, decay: float,
          vibrato: float = 0.0) -> np.ndarray:
    """Additive tone (band-limited) with a linear attack and an exponential decay (decay in s)."""
    t = np.arange(int(seconds * rate)) / rate
    phase = 2 * np.pi * freq * t
    if vibrato:
        phase += vibrato * np.sin(2 * np.pi * 5.5 * t)
    wave = np.zeros_like(t)
    nyquist = rate / 2
    for k, w in enumerate(harmonics, start=1):
        if w and k * freq < nyquist:
            wave += w * np.sin(k * phase)
    env = np.minimum(1.0, t / max(attack, 1e-4)) * np.exp(-t / decay)
    release = min(len(t), int(0.02 * rate))  # no click at the note's end
    if release:
        env[-release:] *= np.linspace(1, 0, release)
    return wave * env


def _noise(seconds: float, rate: int, rng: np.random.Generator, decay: float, highpass: int) -> np.ndarray:
    n = int(seconds * rate)
    x = rng.standard_normal(n + highpass)
    for _ in range(highpass):  # repeated differencing: a crude high-pass that brightens the noise
        x = np.diff(x)
    x = x[:n] / (2.0 ** highpass) ** 0.5
    return x * np.exp(-np.arange(n) / rate / decay)


def _kick(rate: int) -> np.ndarray:
    t = np.arange(int(0.35 * rate)) / rate
    freq = 45 + 110 * np.exp(-t / 0.04)
    return np.sin(2 * np.pi * np.cumsum(freq) / rate) * np.exp(-t / 0.12)


def _snare(rate: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.25 * rate)) / rate
    return 0.6 * _noise(0.25, rate, rng, 0.07, 1) + 0.4 * np.sin(2 * np.pi * 185 * t) * np.exp(-t / 0.05)


class _Track:
    """A buffer that notes are added into at times in seconds."""

    def __init__(self, seconds: float, rate: int):
        self.rate = rate
        self.buf = np.zeros(int(seconds * rate) + rate)

    def add(self, t: float, wave: np.ndarray, gain: float = 1.0) -> None:
        s = int(round(t * self.rate))
        if s < 0:
            wave, s = wave[-s:], 0
        n = min(len(wave), len(self.buf) - s)
        if n > 0:
            self.buf[s : s + n] += gain * wave[:n]


def _render_section(kind: str, bars: int, meter: int, beat: float, rate: int, rng: np.random.Generator,
                    jitter: float) -> np.ndarray:
    """One section's audio: drums, bass, chords and a lead line chosen for its kind."""
    seconds = bars * meter * beat
    tr = _Track(seconds + 2.0, rate)  # 2 s of tail rings into the next section
    g = GAIN[kind]
    kick, snare = _kick(rate), _snare(rate, rng)
    prog = PROGRESSIONS[kind]

    def j() -> float:
        return float(np.clip(rng.normal(0, jitter), -2.5 * jitter, 2.5 * jitter)) if jitter else 0.0

    # Lead melody: one bar-long rhythm/pitch pattern per chord, fixed for the section (seeded per label).
    lead_patterns = {}
    for d in set(prog):
        steps = meter * 2
        hits = rng.random(steps) < {"chorus": 0.75, "pre-chorus": 0.6, "verse": 0.5}.get(kind, 0.3)
        hits[0] = True
        lead_patterns[d] = [(k, int(rng.integers(0, 5))) for k in range(steps) if hits[k]]

    for b in range(bars):
        bar_t = b * meter * beat
        degree = prog[b % len(prog)]
        triad = _triad(degree)
        root_hz = _midi_hz(_scale_midi(degree, -2))
        for k in range(meter):
            t = bar_t + k * beat
            # Drums. Downbeats carry the kick in every kind; the chorus and the break add a four-on-the-floor.
            if kind in ("chorus", "dance-break", "pre-chorus") or k == 0 or (meter == 4 and k == 2
                                                                              and kind != "intro"):
                tr.add(t + j(), kick, 0.9 * (1.0 if k == 0 else 0.75) * max(g, 0.5))
            if kind not in ("intro", "outro") and ((meter == 4 and k in (1, 3)) or (meter == 3 and k in (1, 2))):
                tr.add(t + j(), snare, 0.5 * g * (1.0 if kind != "bridge" else 0.5))
            hat_steps = 4 if kind in ("chorus", "dance-break") else 2
            for h in range(hat_steps):
                tr.add(t + h * beat / hat_steps + j(), _noise(0.05, rate, rng, 0.015, 3),
                       0.25 * g * (0.6 if h % 2 else 1.0))
            # Bass: the chord root, on the beat (on eighths in the chorus and the break).
            if kind not in ("intro",):
                subs = 2 if kind in ("chorus", "dance-break", "pre-chorus") else 1
                for s in range(subs):
                    octave = 2.0 if (kind == "dance-break" and s == 1) else 1.0
                    note = _tone(root_hz * octave, beat / subs * 0.9, rate, (1, 0.5, 0.25, 0.12), 0.005, 0.25)
                    tr.add(t + s * beat / subs + j(), np.tanh(2 * note), 0.45 * g)
        # Chords: a pad through the bar (soft kinds) or stabs on the beat (the rest).
        if kind in ("intro", "bridge", "outro", "verse"):
            for m in triad:
                tr.add(bar_t, _tone(_midi_hz(m), meter * beat, rate, (1, 0.3, 0.1), 0.15, 2.5), 0.18 * g / 0.5)
        if kind in ("verse", "pre-chorus", "chorus"):
            for k in range(meter):
                for m in triad:
                    tr.add(bar_t + k * beat + j(), _tone(_midi_hz(m + 12), beat * 0.8, rate,
                                                          (1, 0.5, 0.33, 0.25, 0.2, 0.16), 0.003, 0.18),
                           0.12 * g)
        # Lead: a different instrument per kind, on the section's own melody.
        if kind in ("verse", "pre-chorus", "chorus", "bridge"):
            harmonics = {"verse": (1, 0, 0.11, 0, 0.04), "pre-chorus": (1, 0, 0.33, 0, 0.2, 0, 0.14),
                         "chorus": (1, 0.5, 0.33, 0.25, 0.2, 0.16, 0.14, 0.12), "bridge": (1,)}[kind]
            octave = 2 if kind == "chorus" else 1
            for step, idx in lead_patterns[degree]:
                m = _scale_midi(degree + [0, 2, 4, 5, 7][idx], octave)
                dur = beat * (1.0 if kind in ("chorus", "bridge") else 0.5)
                tr.add(bar_t + step * beat / 2 + j(),
                       _tone(_midi_hz(m), dur, rate, harmonics, 0.01, 0.4 if kind != "verse" else 0.15,
                             vibrato=0.3 if kind == "chorus" else 0.0), 0.22 * g)
    if kind == "chorus":  # a crash on the chorus's first beat
        tr.add(0.0, _noise(1.5, rate, rng, 0.5, 2), 0.35)
    return tr.buf


def _free_intro(seconds: float, rate: int, rng: np.random.Generator) -> np.ndarray:
    """A tempo-free intro: pad notes at irregular times, no percussion."""
    tr = _Track(seconds + 2.0, rate)
    t = 0.0
    while t < seconds - 0.5:
        dur = float(rng.uniform(0.9, 2.3))
        for m in _triad(int(rng.choice([0, 3, 5]))):
            tr.add(t, _tone(_midi_hz(m), min(dur + 0.6, seconds - t + 0.5), rate, (1, 0.2), 0.3, 3.0), 0.12)
        t += dur
    return tr.buf


def synthesize(bpm: float = 132.0, seed: int = 0, structure: tuple[tuple[str, int], ...] = DEFAULT_STRUCTURE,
               meter: int = 4, lead_in: float = 0.0, pickup_beats: int = 0, free_intro: float = 0.0,
               jitter_ms: float = 0.0, rate: int = RATE) -> DemoSong:
    """The song and its ground truth. `lead_in` s of silence, then `free_intro` s without a pulse, then
    `pickup_beats` beats of snare pickup before bar 1; `jitter_ms` is the s.d. of every note's timing."""
    if meter not in (3, 4):
        raise ValueError("meter must be 3 or 4")
    beat = 60.0 / bpm
    bar = meter * beat
    first_bar = lead_in + free_intro + pickup_beats * beat
    total_bars = sum(b for _, b in structure)
    duration = first_bar + total_bars * bar + 2.0  # 2 s for the last notes to ring out
    out = _Track(duration, rate)
    kinds = list(dict.fromkeys(k for k, _ in structure))
    labels = {k: chr(ord("A") + i) for i, k in enumerate(kinds)}
    if free_intro > 0:
        out.add(lead_in, _free_intro(free_intro, rate, np.random.default_rng([seed, 99])))
    for p in range(pickup_beats):  # a snare pickup leading into bar 1
        out.add(lead_in + free_intro + p * beat, _snare(rate, np.random.default_rng([seed, 98, p])), 0.5)
    sections, t = [], first_bar
    for kind, bars in structure:
        rng = np.random.default_rng([seed, kinds.index(kind)])
        out.add(t, _render_section(kind, bars, meter, beat, rate, rng, jitter_ms / 1000.0))
        sections.append({"start": t, "end": t + bars * bar, "label": labels[kind], "kind": kind, "bars": bars})
        t += bars * bar
    samples = out.buf[: int(duration * rate)]
    samples = (0.9 * samples / max(np.abs(samples).max(), 1e-9)).astype(np.float32)
    # The first section takes in the silence, the free intro and the pickup; the last runs to the end.
    if lead_in + free_intro > 0 and free_intro > 0:
        sections.insert(0, {"start": 0.0, "end": lead_in + free_intro, "label": "Z", "kind": "intro", "bars": 0})
        sections[1]["start"] = lead_in + free_intro
    sections[0]["start"] = 0.0
    sections[-1]["end"] = duration
    beats = first_bar - pickup_beats * beat + np.arange(pickup_beats + total_bars * meter) * beat
    truth = {
        "tempo": float(bpm), "meter": meter, "duration": duration, "sample_rate": rate, "seed": seed,
        "beats": [round(float(x), 6) for x in beats],
        "downbeats": [round(float(x), 6) for x in first_bar + np.arange(total_bars) * bar],
        "sections": [{**s, "start": round(s["start"], 6), "end": round(s["end"], 6)} for s in sections],
        "lead_in": lead_in, "free_intro": free_intro, "pickup_beats": pickup_beats, "jitter_ms": jitter_ms,
    }
    return DemoSong(samples=samples, rate=rate, truth=truth)


def truth_path(audio_path: str | Path) -> Path:
    """Where the ground truth of a demo song is written: beside it, `NAME.truth.json`."""
    p = Path(audio_path)
    return p.with_name(p.stem + ".truth.json")


def write_demo_song(path: str | Path, song: DemoSong) -> tuple[Path, Path]:
    """Write the song (16-bit WAV, or any format soundfile writes by suffix) and its ground truth."""
    import soundfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), song.samples, song.rate, subtype="PCM_16" if path.suffix.lower() == ".wav" else None)
    tp = truth_path(path)
    tp.write_text(json.dumps(song.truth, indent=1))
    return path, tp
