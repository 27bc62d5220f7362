"""plan.json: make_plan's rules on a hand-built song with the demo song's structure, exact round trips,
what an edit regenerates, and every rejection as one line naming the section and field."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest

from choreo.choreography.formations import formation_names, formation_spots
from choreo.choreography.plan import (
    FORMAT,
    MOVES,
    TRANSITIONS,
    Plan,
    changed_sections,
    describe,
    load_section_prompts,
    make_plan,
    validate_plan,
)
from choreo.choreography.styles import INTENSITY, STYLES, level, section_prompt
from choreo.errors import ChoreoError
from choreo.music.demo_song import DEFAULT_STRUCTURE
from choreo.music.song import KINDS, Section, Song

BAR = 2.0  # seconds: 120 BPM in 4/4
LABELS = {"intro": "A", "verse": "B", "pre-chorus": "C", "chorus": "D", "dance-break": "E", "outro": "F"}
ENERGY = {"intro": 0.2, "verse": 0.4, "pre-chorus": 0.6, "chorus": 1.0, "dance-break": 0.9, "outro": 0.1}
# The demo song: A B C D B C D E D F (indices 0-9); repeats of B, C, D.
DEMO = [(LABELS[k], k, n, ENERGY[k]) for k, n in DEFAULT_STRUCTURE]
# Words of the CMU training descriptions (the only dance texts the model knows).
TRAINING_WORDS = ("salsa", "charleston", "dance - ")


def make_song(structure=DEMO, source: str = "demo.wav") -> Song:
    """A Song with bars of BAR seconds and the given (label, kind, bars, energy) sections."""
    sections, bar = [], 0
    for label, kind, bars, energy in structure:
        sections.append(Section(bar * BAR, (bar + bars) * BAR, label, kind, energy))
        bar += bars
    duration = bar * BAR
    return Song(duration=duration, sample_rate=24000, tempo=120.0, beats=np.arange(0.0, duration, BAR / 4),
                downbeats=np.arange(0.0, duration, BAR), meter=4, sections=sections, source=source)


@pytest.fixture(scope="module")
def song() -> Song:
    return make_song()


@pytest.fixture(scope="module")
def plan(song) -> Plan:
    return make_plan(song)


def _dict(plan: Plan) -> dict:
    return copy.deepcopy(plan.to_dict())


# ---------------------------------------------------------------- styles


def test_every_style_has_short_training_vocabulary_prompts_for_every_kind_and_level():
    assert {"kpop", "hiphop", "girl-crush", "cute", "ballad"} <= set(STYLES)
    for style in STYLES.values():
        for kind in KINDS:
            for lv in ("calm", "big"):
                words = style.moves[kind][lv]
                assert any(w in words for w in TRAINING_WORDS), (style.name, kind, words)
                assert len(section_prompt(style.name, kind, 0.0 if lv == "calm" else 1.0)) <= 90


VIGOUR = Path(__file__).resolve().parents[2] / "bench" / "style_vigour.json"


def test_every_style_dances_its_chorus_and_dance_break_fastest_as_measured():
    """Against the shipped model's measured speed per prompt (bench/bench_style_vigour.py): the energy of a
    dance follows the song only if the big sections' words are danced faster than the calm ones'."""
    speed = {p: v["mean_joint_speed"] for p, v in json.loads(VIGOUR.read_text())["prompts"].items()}
    for style in STYLES.values():
        moves = style.moves
        unmeasured = {t for lv in moves.values() for t in lv.values()} - set(speed)
        assert not unmeasured, f"{style.name}: run bench_style_vigour.py --write for {sorted(unmeasured)}"
        for kind in KINDS:
            assert speed[moves[kind]["big"]] >= speed[moves[kind]["calm"]], (style.name, kind)
        others = [speed[t] for kind in KINDS if kind not in ("chorus", "dance-break") for t in moves[kind].values()]
        for top in ("chorus", "dance-break"):
            assert speed[moves[top]["big"]] >= max(others), (style.name, top)
        calm = max(speed[moves[k]["calm"]] for k in ("intro", "outro", "verse"))
        assert speed[moves["chorus"]["big"]] >= calm + 0.1, style.name


def test_prompt_level_follows_kind_and_energy():
    assert section_prompt("kpop", "verse", 0.2) != section_prompt("kpop", "verse", 0.9)
    assert section_prompt("kpop", "verse", 0.2).endswith(INTENSITY["verse"]["calm"])
    assert section_prompt("kpop", "verse", 0.9).endswith(INTENSITY["verse"]["big"])
    assert level("intro", 1.0) == level("outro", 1.0) == "calm"  # intro/outro calm however loud
    assert level("chorus", 0.0) == level("dance-break", 0.0) == "big"  # chorus/break big however soft


def test_global_prompt_replaces_the_style_words_and_keeps_the_intensity():
    assert section_prompt("kpop", "chorus", 1.0, "a person dances salsa.") == \
        f"a person dances salsa, {INTENSITY['chorus']['big']}"
    assert section_prompt("kpop", "intro", 1.0, "a person dances salsa") == \
        f"a person dances salsa, {INTENSITY['intro']['calm']}"
    with pytest.raises(ChoreoError, match="unknown style 'tango'; valid styles: kpop"):
        section_prompt("tango", "chorus", 1.0)


# ---------------------------------------------------------------- make_plan


def test_demo_structure_repeats_share_prompt_formation_and_move(plan, song):
    assert [s.repeat_of for s in plan.sections] == [None, None, None, None, 1, 2, 3, None, 3, None]
    for s in plan.sections:
        if s.repeat_of is not None:
            first = plan.sections[s.repeat_of]
            assert (s.label, s.prompt, s.formation, s.move) == (first.label, first.prompt, first.formation, first.move)
    assert [s.index for s in plan.distinct()] == [0, 1, 2, 3, 7, 9]
    bar = 0
    for s, sec in zip(plan.sections, song.sections, strict=True):  # copied from the analysis, on bar lines
        assert (s.start, s.end, s.label, s.kind, s.energy) == (sec.start, sec.end, sec.label, sec.kind, sec.energy)
        assert (s.start_bar, s.bars) == (bar, song.section_bars(sec))
        bar += s.bars
    assert plan.song == {"source": "demo.wav", "duration": song.duration, "tempo": 120.0, "bars": 48, "sha256": ""}
    assert plan.names == [f"Member {i}" for i in range(1, 6)] and plan.format == FORMAT


def test_default_formations_moves_and_transitions(plan):
    by_kind = {s.kind: s for s in plan.sections}
    assert by_kind["chorus"].formation in ("v", "inverted_v", "pyramid")
    assert by_kind["verse"].formation in ("two_rows", "line")
    assert by_kind["dance-break"].formation in ("diamond", "arc")
    assert {k: s.move for k, s in by_kind.items()} == {
        "intro": "unison", "verse": "canon", "pre-chorus": "mirror", "chorus": "unison",
        "dance-break": "individual", "outro": "unison"}
    for a, b in zip(plan.sections, plan.sections[1:], strict=False):  # 5 members: every change is possible
        assert not np.allclose(formation_spots(a.formation, 5), formation_spots(b.formation, 5)), (a.index, b.index)
        assert a.transition == "walk"
    assert plan.sections[-1].transition == "hold"
    # Prompts: calm intro/outro, big chorus, and the style's training vocabulary everywhere.
    assert by_kind["intro"].prompt.endswith(INTENSITY["intro"]["calm"])
    assert by_kind["chorus"].prompt.endswith(INTENSITY["chorus"]["big"])
    assert all(any(w in s.prompt for w in TRAINING_WORDS) for s in plan.sections)


def test_low_and_high_energy_verses_get_different_prompts():
    song = make_song([("A", "intro", 2, 0.1), ("B", "verse", 4, 0.2), ("C", "verse", 4, 0.9), ("D", "outro", 2, 0.1)])
    plan = make_plan(song)
    assert plan.sections[1].prompt != plan.sections[2].prompt
    assert "relaxed" in plan.sections[1].prompt and "quick" in plan.sections[2].prompt


def test_global_prompt_and_style_in_the_plan(song):
    plan = make_plan(song, prompt="a person dances salsa", style="ballad", seed=7)
    assert (plan.style, plan.seed) == ("ballad", 7)
    assert all(s.prompt.startswith("a person dances salsa, ") for s in plan.sections)
    assert plan.sections[0].prompt != plan.sections[3].prompt  # intensity words still differ per kind
    assert make_plan(song, style="hiphop").sections[3].prompt != make_plan(song, style="cute").sections[3].prompt


def test_section_prompts_precedence_index_over_label_over_kind(song):
    plan = make_plan(song, section_prompts={"chorus": "salsa dance", "D": "charleston", "8": "dance - pirouette",
                                            "verse": "dance - turn step"})
    s = plan.sections
    assert [s[i].prompt for i in (3, 6, 8)] == ["charleston", "charleston", "dance - pirouette"]
    assert (s[6].repeat_of, s[8].repeat_of) == (3, None)  # its own prompt: danced anew
    assert s[1].prompt == s[4].prompt == "dance - turn step" and s[4].repeat_of == 1
    # An index key on a first occurrence carries to its repeats (they dance the same).
    plan = make_plan(song, section_prompts={"3": "salsa dance"})
    assert [plan.sections[i].prompt for i in (3, 6, 8)] == ["salsa dance"] * 3
    with pytest.raises(ChoreoError, match=r"section prompt key 'Z' matches no section; .*index \(0-9\)"):
        make_plan(song, section_prompts={"Z": "salsa dance"})


def test_load_section_prompts(tmp_path):
    path = tmp_path / "prompts.json"
    path.write_text(json.dumps({"chorus": " salsa dance ", "3": "charleston"}))
    assert load_section_prompts(path) == {"chorus": "salsa dance", "3": "charleston"}
    path.write_text(json.dumps({"chorus": 3}))
    with pytest.raises(ChoreoError, match=r"prompts.json: the prompt for 'chorus' must be a non-empty string, got 3"):
        load_section_prompts(path)
    path.write_text("[1]")
    with pytest.raises(ChoreoError, match="must hold a JSON object"):
        load_section_prompts(path)
    with pytest.raises(ChoreoError, match="not found"):
        load_section_prompts(tmp_path / "nope.json")


def test_user_formations_cycle_over_distinct_sections(song):
    plan = make_plan(song, formations=["circle", "columns"])
    assert {s.index: s.formation for s in plan.distinct()} == {0: "circle", 1: "columns", 2: "circle", 3: "columns",
                                                                7: "circle", 9: "columns"}
    assert [plan.sections[i].formation for i in (4, 5, 6, 8)] == ["columns", "circle", "columns", "columns"]
    with pytest.raises(ChoreoError, match="formations: unknown formation 'star'; valid names: line"):
        make_plan(song, formations=["v", "star"])


@pytest.mark.parametrize("members", [1, 12])
def test_one_and_twelve_members(song, members):
    plan = make_plan(song, members=members)
    assert len(plan.names) == members and len(set(plan.names)) == members
    if members == 1:
        assert {s.move for s in plan.sections} == {"unison"}
        assert {s.formation for s in plan.sections} == {"line"}
    else:
        assert len({s.move for s in plan.sections}) > 1
    assert Plan.from_json(plan.to_json()) == plan


def test_consecutive_sections_stand_differently_for_every_group_size(song):
    for members in range(2, 13):
        plan = make_plan(song, members=members)
        for a, b in zip(plan.sections, plan.sections[1:], strict=False):
            assert not np.allclose(formation_spots(a.formation, members), formation_spots(b.formation, members)), \
                (members, a.index)


@pytest.mark.parametrize("members", [0, 13, True, 2.5])
def test_member_count_out_of_range(song, members):
    with pytest.raises(ChoreoError, match=f"members must be 1-12, got {members}"):
        make_plan(song, members=members)


def test_make_plan_rejects_unknown_style_and_an_empty_analysis(song):
    with pytest.raises(ChoreoError, match="unknown style 'kpopp'"):
        make_plan(song, style="kpopp")
    empty = make_song()
    empty.sections = []
    with pytest.raises(ChoreoError, match="no sections"):
        make_plan(empty)
    with pytest.raises(ChoreoError, match="seed must be an integer, got '1'"):
        make_plan(song, seed="1")


def test_a_shorter_later_chorus_repeats_a_longer_one_does_not():
    shorter = make_song([("A", "intro", 2, 0.1), ("D", "chorus", 8, 1.0), ("B", "verse", 4, 0.4),
                         ("D", "chorus", 6, 1.0), ("D", "chorus", 10, 1.0)])
    plan = make_plan(shorter)
    assert [s.repeat_of for s in plan.sections] == [None, None, None, 1, None]
    data = _dict(plan)
    data["sections"][4]["repeat_of"] = 1
    with pytest.raises(ChoreoError, match="section 4 has 10 bars but repeats section 1 with 8: a repeat may be at "
                                          "most as long as its first"):
        Plan.from_dict(data)


def test_a_later_occurrence_repeats_the_earliest_one_long_enough():
    # A short first verse, then two long ones: the third repeats the second (danced anew, as long as it), not
    # the first (too short), and is not danced a third time. A still longer one is danced anew.
    song = make_song([("B", "verse", 2, 0.4), ("E", "chorus", 8, 1.0), ("B", "verse", 4, 0.4),
                      ("E", "chorus", 8, 1.0), ("B", "verse", 4, 0.4), ("B", "verse", 3, 0.4), ("B", "verse", 6, 0.4)])
    plan = make_plan(song, members=3)
    assert [s.repeat_of for s in plan.sections] == [None, None, None, 1, 2, 2, None]
    assert plan.sections[4].prompt == plan.sections[2].prompt
    assert plan.sections[4].formation == plan.sections[2].formation
    validate_plan(Plan.from_json(plan.to_json()), song)


# ---------------------------------------------------------------- round trips and edits


def test_json_and_file_round_trip(plan, tmp_path):
    again = Plan.from_json(plan.to_json())
    assert again == plan and again.to_json() == plan.to_json()
    path = plan.save(tmp_path / "plan.json")
    assert Plan.load(path) == plan
    assert json.loads(path.read_text())["sections"][4]["repeat_of"] == 1


def test_one_edited_prompt_regenerates_only_that_section(plan):
    data = _dict(plan)
    data["sections"][7]["prompt"] = "salsa dance with quick steps and spins"
    edited = Plan.from_dict(data)
    assert changed_sections(plan, edited) == [7]
    assert changed_sections(plan, Plan.from_dict(_dict(plan))) == []


def test_edits_of_a_first_occurrence_reach_its_repeats(plan):
    data = _dict(plan)
    for i in (3, 6, 8):  # the chorus and its repeats, edited together
        data["sections"][i]["move"] = "canon"
        data["sections"][i]["canon_beats"] = 2
    assert changed_sections(plan, Plan.from_dict(data)) == [3, 6, 8]
    data = _dict(plan)
    data["sections"][3]["formation"] = "pyramid"  # placement only: the repeats keep their own place
    assert changed_sections(plan, Plan.from_dict(data)) == [3]
    data = _dict(plan)
    data["names"][0] = "Jisoo"
    assert changed_sections(plan, Plan.from_dict(data)) == []
    data["seed"] = 1
    assert changed_sections(plan, Plan.from_dict(data)) == list(range(10))


# ---------------------------------------------------------------- rejections


def _set(path, value):
    def edit(d):
        *keys, last = path
        for k in keys:
            d = d[k]
        if value is _DELETE:
            del d[last]
        else:
            d[last] = value
    return edit


_DELETE = object()


def _shift_boundary(d):  # section 1 starts late, section 0 ends late: contiguous but off the bar line
    d["sections"][0]["end"] = d["sections"][1]["start"] = 4.3


ERRORS = [
    (_set(["colour"], "red"), "plan: unknown key 'colour'; allowed keys: format, members, style, seed, sections, names,"
                              " song"),
    (_set(["sections", 2, "tempo"], 1), "section 2: unknown key 'tempo'; allowed keys: index, label, kind"),
    (_set(["song", "artist"], "x"), "plan song: unknown key 'artist'; allowed keys: source, duration"),
    (_set(["sections", 2, "move"], _DELETE), "section 2: missing key 'move'"),
    (_set(["format"], "choreo-plan/9"), "plan: format must be 'choreo-plan/1', got \"choreo-plan/9\""),
    (_set(["members"], "5"), "plan members must be an integer, got \"5\""),
    (_set(["members"], 0), "members must be 1-12, got 0"),
    (_set(["members"], 13), "members must be 1-12, got 13"),
    (_set(["sections", 1, "start"], "4"), "section 1 start must be a number, got \"4\""),
    (_set(["sections", 1, "bars"], 4.0), "section 1 bars must be an integer, got 4.0"),
    (_set(["sections", 1, "canon_beats"], True), "section 1 canon_beats must be an integer, got true"),
    (_set(["sections"], {}), "plan sections must be a list"),
    (_set(["names"], ["a", "b"]), "plan names: 2 names for 5 members"),
    (_set(["names"], ["a", "a", "b", "c", "d"]), "plan names must be non-empty and different"),
    (_set(["style"], "tango"), "plan style 'tango' is not one of kpop, hiphop"),
    (_set(["sections", 3, "formation"], "star"), "section 3 formation 'star' is not one of line, two_rows"),
    (_set(["sections", 3, "move"], "wave"), "section 3 move 'wave' is not one of unison, canon, mirror, individual"),
    (_set(["sections", 9, "transition"], "jump"), "section 9 transition 'jump' is not one of walk, hold"),
    (_set(["sections", 9, "facing"], "back"), "section 9 facing 'back' is not one of audience, free"),
    (_set(["sections", 7, "kind"], "rap"), "section 7 kind 'rap' is not one of intro, verse"),
    (_set(["sections", 7, "index"], 8), "section 7 index is 8: indices must count 0, 1, 2"),
    (_set(["sections", 7, "energy"], 1.5), "section 7 energy is 1.5: must be between 0 and 1"),
    (_set(["sections", 7, "prompt"], " "), "section 7 prompt is empty"),
    (_set(["sections", 2, "start"], 14.0), "section 2 start 14.0 s is not section 1's end 12.0 s"),
    (_set(["sections", 9, "end"], 95.0), "section 9 end is 95.0: the last section must end at the song's end (96.0 s)"),
    (_set(["sections", 9, "end"], 90.0), "section 9 ends (90.0 s) before it starts (92.0 s)"),
    (_set(["sections", 0, "start"], 1.0), "section 0 start is 1.0: the first section must start at 0 s"),
    (_set(["sections", 7, "bars"], 0), "section 7 bars is 0: a section needs at least 1 bar"),
    (_set(["sections", 7, "start_bar"], 39),
     "section 7 start_bar is 39, but section 6 starts at bar 26 with 8 bars: expected 34"),
    (_set(["sections", 1, "canon_beats"], 0), "section 1 canon_beats is 0: must be 1-8"),
    (_set(["sections", 1, "canon_beats"], 9), "section 1 canon_beats is 9: must be 1-8"),
    (_set(["sections", 3, "repeat_of"], 6), "section 3 repeat_of is 6: a repeat must point to an earlier section"),
    (_set(["sections", 3, "repeat_of"], 3), "section 3 repeat_of is 3: a section cannot repeat itself"),
    (_set(["sections", 3, "repeat_of"], 1), "section 3 repeat_of is 1, but section 1 has label 'B' and this one 'D'"),
    (_set(["sections", 8, "repeat_of"], 6), "section 8 repeat_of is 6, which itself repeats section 3: point to 3"),
    (_set(["sections", 8, "prompt"], "charleston"), "section 8 prompt differs from section 3's, which it repeats"),
    (_set(["sections", 8, "repeat_of"], "3"), "section 8 repeat_of must be an integer, got \"3\""),
]


@pytest.mark.parametrize(("edit", "message"), ERRORS, ids=[m[:40] for _, m in ERRORS])
def test_invalid_plans_are_one_line_errors(plan, edit, message):
    data = _dict(plan)
    edit(data)
    with pytest.raises(ChoreoError) as info:
        Plan.from_dict(data)
    text = str(info.value)
    assert message in text and "\n" not in text


def test_top_level_must_be_an_object_and_json():
    with pytest.raises(ChoreoError, match="plan must be a JSON object, got list"):
        Plan.from_dict([])
    with pytest.raises(ChoreoError, match="plan is not valid JSON"):
        Plan.from_json("{")


def test_load_names_the_file(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"members": 5}))
    with pytest.raises(ChoreoError, match=r"plan.json: plan: missing key 'style'"):
        Plan.load(path)
    with pytest.raises(ChoreoError, match=r"nope.json not found"):
        Plan.load(tmp_path / "nope.json")


def test_a_repeat_may_stand_elsewhere_on_the_stage(plan):
    data = _dict(plan)
    data["sections"][8]["formation"] = "circle"
    assert Plan.from_dict(data).sections[8].formation == "circle"


def test_mirror_needs_two_members(song):
    data = _dict(make_plan(song, members=1))
    data["sections"][2]["move"] = "mirror"
    with pytest.raises(ChoreoError, match="section 2 move 'mirror' needs at least 2 members"):
        Plan.from_dict(data)


def test_plan_of_another_song(plan, song):
    validate_plan(plan, song)
    other = make_song(DEMO[:-1], source="other.wav")
    with pytest.raises(ChoreoError, match=r"this plan was made for another song \(demo.wav: 96.00 s, 48 bars; this "
                                          r"song: other.wav: 92.00 s, 46 bars\); make a new plan"):
        validate_plan(plan, other)
    hashed = make_plan(song, song_sha256="ab" * 32)
    validate_plan(hashed, song, song_sha256="ab" * 32)
    with pytest.raises(ChoreoError, match="made for another audio file"):
        validate_plan(hashed, song, song_sha256="cd" * 32)


def test_boundaries_must_lie_on_the_songs_bar_lines(plan, song):
    data = _dict(plan)
    _shift_boundary(data)
    edited = Plan.from_dict(data)  # consistent on its own
    with pytest.raises(ChoreoError, match=r"section 1 start 4.3 s is not on a bar line of the song"):
        validate_plan(edited, song)
    data = _dict(plan)
    data["sections"][9]["bars"] = 1
    with pytest.raises(ChoreoError, match=r"section 9 bars is 1, but the song has 2 bars from 92.0 s to 96.0 s"):
        validate_plan(Plan.from_dict(data), song)


def test_every_formation_and_move_is_accepted(plan):
    data = _dict(plan)
    for k, name in enumerate(formation_names()):
        data["sections"][k % 10]["formation"] = name
        Plan.from_dict(data)
    for move in MOVES:
        for i in (7,):
            data["sections"][i]["move"] = move
        assert Plan.from_dict(data).sections[7].move == move
    assert TRANSITIONS == ("walk", "hold")


def test_a_pickup_before_the_first_downbeat():
    # Bars start at 0.5 s; the first section holds the pickup and bars 0-1, the next starts on bar 2.
    downbeats = 0.5 + BAR * np.arange(8)
    song = Song(duration=16.5, sample_rate=24000, tempo=120.0, beats=np.arange(0.0, 16.5, 0.5),
                downbeats=downbeats, sections=[Section(0.0, 4.5, "A", "intro", 0.2),
                                               Section(4.5, 12.5, "B", "chorus", 1.0),
                                               Section(12.5, 16.5, "C", "outro", 0.1)])
    plan = make_plan(song, members=3)
    assert [(s.start_bar, s.bars) for s in plan.sections] == [(-1, 2), (2, 4), (6, 2)]
    assert [(s.start_bar, s.bars) for s in plan.sections] == [
        (song.bar_index(sec.start), song.section_bars(sec)) for sec in song.sections]
    validate_plan(Plan.from_json(plan.to_json()), song)


def test_describe_has_one_line_per_section(plan):
    lines = describe(plan)
    assert len(lines) == 10
    assert "chorus" in lines[6] and "= 3" in lines[6] and plan.sections[6].prompt in lines[6]
    assert "canon/1" in lines[1]


def test_plan_of_the_analysed_demo_song():
    """The analyser's real output (a pickup bar, boundaries on detected downbeats) makes a valid plan."""
    soxr = pytest.importorskip("soxr")
    from choreo.music.analyze import analyze_audio
    from choreo.music.audio import SAMPLE_RATE, Audio
    from choreo.music.demo_song import synthesize

    demo = synthesize(pickup_beats=1)
    audio = Audio(soxr.resample(demo.samples, demo.rate, SAMPLE_RATE).astype(np.float32), SAMPLE_RATE, "demo")
    song = analyze_audio(audio).song
    plan = make_plan(song, members=7)
    validate_plan(Plan.from_json(plan.to_json()), song)
    assert [s.label for s in plan.sections] == [s.label for s in song.sections]
    by_label: dict[str, int] = {}
    for s in plan.sections:  # every later occurrence of a label repeats its first (or is longer than it)
        first = by_label.setdefault(s.label, s.index)
        if first != s.index and s.bars <= plan.sections[first].bars:
            assert s.repeat_of == first
    assert sum(s.bars for s in plan.sections) <= song.bars


def test_the_documented_example_is_a_valid_plan():
    doc = Path(__file__).resolve().parents[2] / "docs" / "CHOREOGRAPHY.md"
    blocks = re.findall(r"```json\n(.*?)```", doc.read_text(), flags=re.S)
    example = Plan.from_json(next(b for b in blocks if '"format"' in b))
    assert example.members == 3 and example.sections[3].repeat_of == 1
    assert example.to_dict()["sections"] == make_plan(Song(
        duration=48.0, sample_rate=24000, tempo=120.0, beats=np.arange(0.0, 48.0, 0.5),
        downbeats=np.arange(0.0, 48.0, 2.0), sections=[
            Section(0, 4, "A", "intro", 0.2), Section(4, 20, "D", "chorus", 1.0), Section(20, 28, "B", "verse", 0.4),
            Section(28, 44, "D", "chorus", 0.95), Section(44, 48, "F", "outro", 0.1)],
        source="songs/demo.wav"), members=3).to_dict()["sections"]
