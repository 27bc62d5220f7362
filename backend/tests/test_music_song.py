"""The `Song` contract: JSON round-trip and the bar/beat queries the planner builds on."""

import numpy as np
import pytest

from choreo.errors import ChoreoError
from choreo.music import Section, Song


def song() -> Song:
    beats = 0.25 + np.arange(32) * 0.5  # 120 BPM, first beat a pickup
    return Song(duration=17.0, sample_rate=24000, tempo=120.0, beats=beats, downbeats=beats[1::4], meter=4,
                sections=[Section(0.0, 8.75, "A", "verse", 0.4, 0.7), Section(8.75, 17.0, "B", "chorus", 0.9, 0.9)],
                energy=np.linspace(0, 1, 32), source="x.wav")


def test_json_round_trip_is_exact():
    s = song()
    back = Song.from_json(s.to_json())
    assert back.sections == s.sections and back.meter == 4 and back.source == "x.wav"
    np.testing.assert_array_equal(back.beats, s.beats)
    np.testing.assert_array_equal(back.downbeats, s.downbeats)
    np.testing.assert_array_equal(back.energy, s.energy)
    d = s.to_dict()
    assert d["bars"] == 8 and [x["bars"] for x in d["sections"]] == [4, 4]


def test_bar_and_beat_queries():
    s = song()
    assert s.bar_index(0.5) == -1  # the pickup beat is before bar 1
    assert s.bar_index(0.75) == 0 and s.bar_index(2.74) == 0 and s.bar_index(2.75) == 1
    assert s.beat_index(0.1) == -1 and s.beat_index(0.25) == 0
    np.testing.assert_allclose(s.beats_in(0.75, 2.75), [0.75, 1.25, 1.75, 2.25])
    assert s.section_at(9.0).label == "B" and s.section_at(17.0).label == "B"
    assert [x.start for x in s.repeats_of(s.sections[0])] == [0.0]


def test_bad_json_is_a_user_error(tmp_path):
    with pytest.raises(ChoreoError, match="not valid JSON"):
        Song.from_json("{")
    with pytest.raises(ChoreoError, match="not a song analysis"):
        Song.from_json('{"tempo": 120}')
    with pytest.raises(ChoreoError, match="not found"):
        Song.load(tmp_path / "missing.json")
