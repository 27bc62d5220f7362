"""A synthesized song written to disk with its ground-truth `Song` (beats, bars, sections from the synthesizer,
energies given per section kind), for tests that dance a song without trusting the analysis."""

from __future__ import annotations

from pathlib import Path

from choreo.music.demo_song import synthesize, write_demo_song
from choreo.music.song import Section, Song


def truth_song(folder: Path, structure: tuple, energy: dict[str, float], seed: int = 3) -> tuple[Song, Path]:
    demo = synthesize(structure=structure, seed=seed)
    audio, _ = write_demo_song(folder / "song.wav", demo)
    t = demo.truth
    song = Song(duration=t["duration"], sample_rate=t["sample_rate"], tempo=t["tempo"], beats=t["beats"],
                downbeats=t["downbeats"], meter=t["meter"], source=str(audio),
                sections=[Section(s["start"], s["end"], s["label"], s["kind"], energy[s["kind"]], 1.0)
                          for s in t["sections"]])
    return song, Path(audio)
