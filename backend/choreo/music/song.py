"""`Song`: one reading of a song — tempo, beats, bars, sections with repeats, energy — as plain data.

Everything song-level (the group-choreography planner, the API, the studio) builds on this. Times are
seconds from the start of the file. `to_json`/`from_json` round-trip exactly (floats as written).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError

KINDS = ("intro", "verse", "pre-chorus", "chorus", "bridge", "dance-break", "outro")
FORMAT = "choreo-song/1"


@dataclass
class Section:
    """A stretch of the song. Inner boundaries lie on bar lines (downbeats); the first section starts
    at 0 and the last ends at the song's end. Repeats share `label`; `kind` is one of KINDS;
    `energy` 0–1 (per song); `confidence` 0–1 says how sure the label and kind are."""

    start: float
    end: float
    label: str
    kind: str
    energy: float = 0.0
    confidence: float = 0.0

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Song:
    """The analysis of one song. `beats`/`downbeats` are times (s); `energy` has one value per beat
    (0–1, normalised per song); `meter` is beats per bar (4 or 3)."""

    duration: float
    sample_rate: int
    tempo: float
    beats: np.ndarray
    downbeats: np.ndarray
    meter: int = 4
    sections: list[Section] = field(default_factory=list)
    energy: np.ndarray = field(default_factory=lambda: np.zeros(0))
    source: str = ""

    def __post_init__(self) -> None:
        self.beats = np.asarray(self.beats, dtype=np.float64)
        self.downbeats = np.asarray(self.downbeats, dtype=np.float64)
        self.energy = np.asarray(self.energy, dtype=np.float64)

    # ---- queries -------------------------------------------------------------------------------
    @property
    def bars(self) -> int:
        return int(len(self.downbeats))

    def bar_index(self, t: float) -> int:
        """Index of the bar holding time `t` (0 = the first bar); -1 before the first downbeat."""
        return int(np.searchsorted(self.downbeats, t, side="right")) - 1

    def beat_index(self, t: float) -> int:
        """Index of the last beat at or before `t`; -1 before the first beat."""
        return int(np.searchsorted(self.beats, t, side="right")) - 1

    def beats_in(self, start: float, end: float) -> np.ndarray:
        """Beat times in [start, end)."""
        return self.beats[(self.beats >= start) & (self.beats < end)]

    def downbeats_in(self, start: float, end: float) -> np.ndarray:
        """Bar starts in [start, end)."""
        return self.downbeats[(self.downbeats >= start) & (self.downbeats < end)]

    def section_at(self, t: float) -> Section | None:
        for s in self.sections:
            if s.start <= t < s.end:
                return s
        return self.sections[-1] if self.sections and t == self.sections[-1].end else None

    def section_bars(self, section: Section) -> int:
        return int(len(self.downbeats_in(section.start, section.end)))

    def repeats_of(self, section: Section) -> list[Section]:
        """All sections that share `section`'s label (itself included), in order."""
        return [s for s in self.sections if s.label == section.label]

    # ---- JSON ----------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "format": FORMAT, "source": self.source, "duration": self.duration, "sample_rate": self.sample_rate,
            "tempo": self.tempo, "meter": self.meter, "bars": self.bars,
            "beats": [float(x) for x in self.beats], "downbeats": [float(x) for x in self.downbeats],
            "energy": [float(x) for x in self.energy],
            "sections": [{**asdict(s), "bars": self.section_bars(s)} for s in self.sections],
        }

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict) -> Song:
        try:
            sections = [Section(start=float(s["start"]), end=float(s["end"]), label=str(s["label"]),
                                kind=str(s["kind"]), energy=float(s.get("energy", 0.0)),
                                confidence=float(s.get("confidence", 0.0))) for s in data.get("sections", [])]
            return cls(duration=float(data["duration"]), sample_rate=int(data["sample_rate"]),
                       tempo=float(data["tempo"]), beats=np.asarray(data["beats"], float),
                       downbeats=np.asarray(data["downbeats"], float), meter=int(data.get("meter", 4)),
                       sections=sections, energy=np.asarray(data.get("energy", []), float),
                       source=str(data.get("source", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ChoreoError(f"not a song analysis ({type(exc).__name__}: {exc})") from None

    @classmethod
    def from_json(cls, text: str) -> Song:
        from choreo.json_file import parse_json

        data = parse_json(text, "song analysis")
        if not isinstance(data, dict):
            raise ChoreoError("song analysis must be a JSON object")
        return cls.from_dict(data)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_json())
        return path

    @classmethod
    def load(cls, path: str | Path) -> Song:
        from choreo.json_file import read_json_object

        return cls.from_dict(read_json_object(Path(path)))
