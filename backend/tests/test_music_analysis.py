"""Music analysis scored with mir_eval against songs the tests synthesize (known tempo, beats, bars,
sections): several tempos 80-160 BPM with timing jitter, lead-in silence, pickups, a tempo-free intro,
a 3/4 song, and the full demo song through `choreo analyze --out`."""

import json

import numpy as np
import pytest

from choreo.cli import main
from choreo.music.analyze import analyze_audio
from choreo.music.audio import SAMPLE_RATE, Audio
from choreo.music.demo_song import synthesize, write_demo_song
from choreo.music.song import Song

mir_eval = pytest.importorskip("mir_eval", reason="mir_eval scores the analysis (pip install -e '.[test]')")
soxr = pytest.importorskip("soxr")

SHORT = (("intro", 2), ("verse", 4), ("chorus", 4), ("verse", 4), ("chorus", 4), ("outro", 2))
CASES = {
    "80bpm": dict(bpm=80),
    "100bpm-silent-lead-in": dict(bpm=100, lead_in=2.5),
    "120bpm-pickup": dict(bpm=120, pickup_beats=1),
    "140bpm-free-intro": dict(bpm=140, free_intro=6.0),
    "160bpm-3-beat-pickup": dict(bpm=160, pickup_beats=3),
    "96bpm-3/4": dict(bpm=96, meter=3),
}


@pytest.fixture(scope="module")
def analysed():
    """{case: (truth, Song)}, each short song synthesized (10 ms timing jitter) and analysed once."""
    out = {}
    for name, kw in CASES.items():
        demo = synthesize(structure=SHORT, jitter_ms=10.0, seed=7, **kw)
        audio = Audio(soxr.resample(demo.samples, demo.rate, SAMPLE_RATE).astype(np.float32), SAMPLE_RATE, name)
        out[name] = (demo.truth, analyze_audio(audio).song)
    return out


@pytest.fixture(scope="module")
def demo_analysis(tmp_path_factory):
    """The default demo song written to WAV and analysed by the CLI with --out."""
    folder = tmp_path_factory.mktemp("demo")
    wav, truth = write_demo_song(folder / "demo.wav", synthesize())
    assert main(["analyze", str(wav), "--out", str(folder / "out")]) == 0
    return json.loads(truth.read_text()), Song.load(folder / "out" / "analysis.json"), folder / "out"


def intervals(sections):
    return np.array([[s["start"], s["end"]] for s in sections]), [s["label"] for s in sections]


def section_scores(truth: dict, song: Song) -> tuple[float, float]:
    """(boundary hit rate at ±0.5 s over inner boundaries, pairwise label F)."""
    ref, ref_labels = intervals(truth["sections"])
    est = np.array([[s.start, s.end] for s in song.sections])
    est[-1, 1] = ref[-1, 1]
    _, recall, _ = mir_eval.segment.detection(ref, est, window=0.5, trim=True)
    _, _, pair_f = mir_eval.segment.pairwise(ref, ref_labels, est, [s.label for s in song.sections])
    return recall, pair_f


@pytest.mark.parametrize("case", list(CASES))
def test_tempo_beats_and_downbeats(analysed, case):
    truth, song = analysed[case]
    assert song.tempo == pytest.approx(truth["tempo"], abs=0.5)  # no octave errors, no 43-fps quantisation
    assert song.meter == truth["meter"]
    ref, est = np.array(truth["beats"]), song.beats
    assert mir_eval.beat.f_measure(ref, est, f_measure_threshold=0.07) >= 0.95
    assert mir_eval.beat.f_measure(np.array(truth["downbeats"]), song.downbeats, f_measure_threshold=0.07) >= 0.9
    assert len(song.energy) == len(song.beats) and song.energy.min() >= 0 and song.energy.max() <= 1


@pytest.mark.parametrize("case", list(CASES))
def test_sections_boundaries_and_repeats(analysed, case):
    truth, song = analysed[case]
    recall, pair_f = section_scores(truth, song)
    assert recall >= 0.8 and pair_f >= 0.8
    # Inner boundaries on bar lines, sections cover the song.
    assert song.sections[0].start == 0.0 and song.sections[-1].end == pytest.approx(song.duration)
    for s in song.sections[1:]:
        assert np.min(np.abs(song.downbeats - s.start)) < 1e-6 or s.start == song.downbeats[0]
    chorus = [s for s in song.sections if s.kind == "chorus"]
    verse = [s for s in song.sections if s.kind == "verse"]
    assert len(chorus) == 2 and len({s.label for s in chorus}) == 1
    assert verse and chorus[0].label not in {s.label for s in verse}
    assert chorus[0].energy > max(s.energy for s in verse)


def test_silence_and_free_intro_carry_no_beats(analysed):
    """Documented behaviour: beats start where the pulse starts; the stretch before bar 1 (silence or a
    tempo-free intro, > 2 s) is a section of its own, kind intro."""
    for case, start in (("100bpm-silent-lead-in", 2.5), ("140bpm-free-intro", 6.0)):
        truth, song = analysed[case]
        assert song.beats[0] == pytest.approx(start, abs=0.07)
        assert song.downbeats[0] == pytest.approx(truth["downbeats"][0], abs=0.07)
        assert song.sections[0].kind == "intro" and song.sections[0].end == pytest.approx(start, abs=0.07)


def test_pickup_beats_come_before_bar_one(analysed):
    for case, pickup in (("120bpm-pickup", 1), ("160bpm-3-beat-pickup", 3)):
        truth, song = analysed[case]
        assert song.bar_index(song.beats[0]) == -1
        assert len(song.beats_in(0.0, song.downbeats[0])) == pickup


def test_demo_song_full_structure(demo_analysis):
    truth, song, out = demo_analysis
    assert song.tempo == pytest.approx(132.0, abs=0.5)
    assert mir_eval.beat.f_measure(np.array(truth["beats"]), song.beats) >= 0.95
    assert mir_eval.beat.f_measure(np.array(truth["downbeats"]), song.downbeats) >= 0.9
    recall, pair_f = section_scores(truth, song)
    assert recall >= 0.8 and pair_f >= 0.8
    kinds = [s.kind for s in song.sections]
    assert kinds[0] == "intro" and kinds[-1] == "outro" and kinds.count("chorus") == 3
    assert "pre-chorus" in kinds and ("dance-break" in kinds or "bridge" in kinds)
    png = (out / "analysis.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000


def _pulses(frames: int, period: float, first: int, jitter: int = 0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """An onset envelope of unit pulses every `period` frames from `first` (each moved by up to ±jitter), on noise."""
    rng = np.random.default_rng(seed)
    where = np.round(np.arange(first, frames - 1, period)).astype(int)
    where = np.clip(where + rng.integers(-jitter, jitter + 1, len(where)), 0, frames - 1)
    onset = 0.05 * rng.random(frames)
    onset[where] = 1.0
    return onset, where


@pytest.mark.parametrize("bpm, jitter", [(90.0, 0), (128.0, 2), (171.0, 1)])
def test_beat_tracker_finds_every_pulse(bpm, jitter):
    from choreo.music.beats import dp_beats

    period = 100 * 60.0 / bpm
    onset, pulses = _pulses(3000, period, first=37, jitter=jitter, seed=int(bpm))
    found = dp_beats(onset, 100.0, bpm)
    miss = np.abs(found[None, :] - pulses[:, None]).min(axis=1)  # each pulse to its nearest beat
    # On the pulse; the first beat has no predecessor to pull it there and may sit on the rising edge of the
    # smoothed envelope a few frames early (as librosa's; `track_beats` snaps beats to the onset peaks).
    assert miss[1:].max() <= 1 and miss[0] <= 0.1 * period
    assert len(pulses) <= len(found) <= len(pulses) + 1  # at most one beat on the noise before the first pulse
    assert np.all(np.diff(found) >= 0.5 * period)


def test_beat_tracker_keeps_silence_free_of_beats_and_follows_the_given_tempo():
    from choreo.music.beats import dp_beats

    onset, pulses = _pulses(2000, 50.0, first=10)
    onset[:400] = 0.0  # a silent lead-in
    onset[1700:] = 0.0  # and end
    found = dp_beats(onset, 100.0, 120.0)
    # No beat deep in the silence: only the smoothing's tail (under a period) reaches into it.
    assert found.min() > 400 - 50 and found.max() < 1700 + 50
    assert np.median(np.diff(found)) == 50
    # Told a tempo twice as fast, the tracker puts a beat between the pulses too (its spacing is the period).
    assert np.median(np.diff(dp_beats(onset, 100.0, 240.0))) == 25


def test_a_dance_break_that_comes_back_is_danced_as_one_not_as_a_verse():
    """A repeated section as loud as the chorus (here a dance break played twice) is a dance break; the quieter
    repeated verse stays a verse. Before, every repeated label but the chorus was called a verse."""
    structure = (("intro", 2), ("verse", 4), ("chorus", 8), ("dance-break", 4), ("verse", 4), ("chorus", 8),
                 ("dance-break", 4), ("chorus", 8), ("outro", 2))
    demo = synthesize(structure=structure, seed=3)
    audio = Audio(soxr.resample(demo.samples, demo.rate, SAMPLE_RATE).astype(np.float32), SAMPLE_RATE, "two breaks")
    song = analyze_audio(audio).song
    for true in demo.truth["sections"]:
        middle = 0.5 * (true["start"] + true["end"])
        found = next(s for s in song.sections if s.start <= middle < s.end)
        assert found.kind == true["kind"], (true, found)


def test_kinds_by_repetition_position_and_energy():
    from choreo.music.sections import assign_kinds

    #        intro verse pre  chorus verse pre  chorus break chorus break chorus outro
    labels = [0, 1, 2, 3, 1, 2, 3, 4, 3, 4, 3, 5]
    energy = [0.2, 0.45, 0.5, 0.75, 0.45, 0.5, 0.75, 0.78, 0.75, 0.78, 0.75, 0.1]
    kinds, _ = assign_kinds(labels, energy)  # the chorus closes the repeats: it stays the chorus
    assert kinds == ["intro", "verse", "pre-chorus", "chorus", "verse", "pre-chorus", "chorus", "dance-break",
                     "chorus", "dance-break", "chorus", "outro"]
    quieter = [0.73 if lab == 4 else e for lab, e in zip(labels, energy, strict=True)]  # below the chorus
    assert assign_kinds(labels, quieter)[0][7] == "verse"
    # A verse measured as loud as its chorus (synthesized songs above ~170 BPM) is still a verse: it does not
    # come out of a chorus every time.
    short = [0, 1, 2, 1, 2, 3]  # intro verse chorus verse chorus outro
    assert assign_kinds(short, [0.74, 0.80, 0.80, 0.80, 0.80, 0.42])[0] == ["intro", "verse", "chorus", "verse",
                                                                         "chorus", "outro"]
