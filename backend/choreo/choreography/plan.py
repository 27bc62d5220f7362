"""The editable plan of `choreo dance`: per section of the song what is danced, where and how (`plan.json`).

`make_plan(song, ...)` turns a song's analysis and the user's wishes into a `Plan`; a choreographer edits
`plan.json` and feeds it back (`choreo dance SONG --plan plan.json`). `Plan.from_dict` and
`validate_plan` reject anything the composer could not dance with one line naming the section and field.
docs/CHOREOGRAPHY.md describes the schema.

Rules of `make_plan`:
- Prompts: `styles.section_prompt` (the style's words for the kind and level, then intensity words; a
  global `prompt` replaces the style's words and keeps the intensity words). `section_prompts` override
  per section; a key is an index ("3"), a label ("D") or a kind ("chorus"); index > label > kind. A prompt
  is used as given.
- Repeats (the same label as an earlier section) get `repeat_of` = the first occurrence at least as long (of
  those danced anew) and the same prompt, formation and move; one longer than every earlier occurrence is
  danced anew. An index key that gives a later occurrence a different prompt makes it a section
  of its own (`repeat_of` None).
- Formations: one per distinct section (repeats keep their first's), the user's list in order (cycling)
  or a default by kind (chorus V/pyramid, verse two rows/line, dance break diamond/arc, ...), consecutive
  sections on different spots where the member count allows.
- Moves by kind (chorus, intro, outro unison; verse canon; pre-chorus mirror; bridge, dance break
  individual); one member is always unison, and mirror needs two.
- Transition "hold" when the next section stands on the same spots (and for the last section), else "walk".
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from choreo.choreography.formations import MAX_MEMBERS, MIN_MEMBERS, formation_names, formation_spots
from choreo.choreography.styles import DEFAULT_STYLE, STYLES, section_prompt
from choreo.errors import ChoreoError
from choreo.music.song import KINDS, Song

FORMAT = "choreo-plan/1"
MOVES = ("unison", "canon", "mirror", "individual")
TRANSITIONS = ("walk", "hold")
FACINGS = ("audience", "free")
CANON_BEATS = (1, 8)  # allowed range of canon_beats, inclusive
TIME_TOL = 1e-3  # seconds: boundaries closer than this are the same time
DURATION_TOL = 0.05  # seconds: a plan's song duration may differ this much from the song's

DEFAULT_FORMATIONS: dict[str, tuple[str, ...]] = {  # preference per kind, first that fits wins
    "intro": ("line", "arc", "two_rows"),
    "verse": ("two_rows", "line", "w", "columns"),
    "pre-chorus": ("w", "inverted_v", "arc", "two_rows"),
    "chorus": ("v", "pyramid", "inverted_v", "centre_wings"),
    "bridge": ("arc", "circle", "line"),
    "dance-break": ("diamond", "arc", "centre_wings", "w"),
    "outro": ("line", "arc", "v"),
}
DEFAULT_MOVES = {"intro": "unison", "verse": "canon", "pre-chorus": "mirror", "chorus": "unison",
                 "bridge": "individual", "dance-break": "individual", "outro": "unison"}
# Fields whose change alters a section's motion (a repeat copies its first's motion, so it follows them),
# and fields that only move it on the stage. `index` and `label` name the section.
_MOTION = ("kind", "start", "end", "start_bar", "bars", "energy", "prompt", "repeat_of", "move", "canon_beats",
           "facing", "points")
_PLACEMENT = ("formation", "transition")
_SHARED_BY_REPEATS = ("prompt", "move", "canon_beats", "facing", "points")


@dataclass
class PointPlan:
    """A point move placed in a section: a move of the library on bars or beats of the section (1 = its first
    bar or beat), for some members (numbers from 1) or all (None). Exactly one of bars and beats is given."""

    move: str
    bars: list[int] = field(default_factory=list)
    beats: list[int] = field(default_factory=list)
    members: list[int] | None = None

    def starts(self, meter: int) -> list[int]:
        """The beats (from 0, within the section) where the move starts."""
        return [(b - 1) * meter for b in self.bars] if self.bars else [b - 1 for b in self.beats]


@dataclass
class SectionPlan:
    index: int  # 0-based, in song order
    label: str  # from the analysis; repeats share it
    kind: str  # one of KINDS
    start: float  # seconds, on a bar line (the first section starts at 0)
    end: float
    start_bar: int  # Song.bar_index(start); -1 for a pickup before the first downbeat
    bars: int  # bars (downbeats) in [start, end): Song.section_bars
    energy: float  # 0..1
    prompt: str  # text for the model
    repeat_of: int | None  # index of the section this one repeats (same label, earlier, itself no repeat)
    formation: str  # one of formation_names()
    move: str  # one of MOVES
    canon_beats: int = 1  # delay between consecutive members when move == "canon" (1..8)
    transition: str = "walk"  # into the next section: walk to its formation / keep positions
    facing: str = "audience"  # "audience" or "free"
    points: list[PointPlan] = field(default_factory=list)  # point moves placed in this section


@dataclass
class Plan:
    members: int
    style: str
    seed: int
    sections: list[SectionPlan]
    names: list[str]
    song: dict = field(default_factory=dict)  # source, duration, tempo, bars, sha256
    format: str = FORMAT

    def to_dict(self) -> dict:
        return {"format": self.format, "members": self.members, "style": self.style, "seed": self.seed,
                "names": list(self.names), "song": dict(self.song),
                "sections": [asdict(s) for s in self.sections]}

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_json() + "\n")
        return path

    @classmethod
    def from_dict(cls, data: Any) -> Plan:  # noqa: ANN401 - any parsed JSON value
        plan = _plan_from_dict(data)
        validate_plan(plan)
        return plan

    @classmethod
    def from_json(cls, text: str) -> Plan:
        from choreo.json_file import parse_json

        data = parse_json(text, "plan")
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> Plan:
        from choreo.json_file import read_json

        path = Path(path)
        try:
            return cls.from_dict(read_json(path, "write one with `choreo dance SONG --out DIR`"))
        except ChoreoError as exc:
            if str(exc).startswith(str(path)):
                raise
            raise ChoreoError(f"{path}: {exc}") from None

    def distinct(self) -> list[SectionPlan]:
        """The sections danced anew (first occurrences: repeat_of is None)."""
        return [s for s in self.sections if s.repeat_of is None]


# ---------------------------------------------------------------- reading


SONG_KEYS = {"source": str, "duration": float, "tempo": float, "bars": int, "sha256": str}
_PLAN_REQUIRED = ("members", "style", "seed", "sections", "names", "song")
_PLAN_KEYS = ("format",) + _PLAN_REQUIRED
_SECTION_FIELDS = {f.name: f for f in fields(SectionPlan)}
_SECTION_TYPES = {"index": int, "label": str, "kind": str, "start": float, "end": float, "start_bar": int,
                  "bars": int, "energy": float, "prompt": str, "repeat_of": "index", "formation": str,
                  "move": str, "canon_beats": int, "transition": str, "facing": str, "points": "points"}
_SECTION_REQUIRED = tuple(n for n, f in _SECTION_FIELDS.items()
                          if f.default is MISSING and f.default_factory is MISSING)  # no default


def _check_keys(data: Any, allowed: Sequence[str], required: Sequence[str], where: str) -> None:  # noqa: ANN401
    if not isinstance(data, dict):
        raise ChoreoError(f"{where} must be a JSON object, got {type(data).__name__}")
    unknown = [k for k in data if k not in allowed]
    if unknown:
        raise ChoreoError(f"{where}: unknown key {unknown[0]!r}; allowed keys: {', '.join(allowed)}")
    missing = [k for k in required if k not in data]
    if missing:
        raise ChoreoError(f"{where}: missing key {missing[0]!r} (required: {', '.join(required)})")


def _typed(value: Any, kind: Any, where: str) -> Any:  # noqa: ANN401 - JSON value in, checked value out
    """`value` as `kind` (int, float, str, or "index" = int or null); ChoreoError naming `where` otherwise."""
    if kind == "index":
        if value is None:
            return None
        kind = int
    if kind == "points":
        return _points(value, where)
    ok = {int: lambda v: isinstance(v, int) and not isinstance(v, bool),
          float: lambda v: isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v),
          str: lambda v: isinstance(v, str)}[kind](value)
    if not ok:
        want = {int: "an integer", float: "a number", str: "a string"}[kind]
        raise ChoreoError(f"{where} must be {want}, got {json.dumps(value)}")
    return float(value) if kind is float else value


def _int_list(value: Any, where: str) -> list[int]:  # noqa: ANN401
    if not isinstance(value, list):
        raise ChoreoError(f"{where} must be a list of integers, got {json.dumps(value)}")
    return [_typed(v, int, where) for v in value]


def _points(value: Any, where: str) -> list[PointPlan]:  # noqa: ANN401
    if not isinstance(value, list):
        raise ChoreoError(f"{where} must be a list of placements, got {json.dumps(value)}")
    out = []
    for i, p in enumerate(value):
        w = f"{where}[{i}]"
        _check_keys(p, ("move", "bars", "beats", "members"), ("move",), w)
        members = p.get("members")
        out.append(PointPlan(move=_typed(p["move"], str, f"{w} move"), bars=_int_list(p.get("bars", []), f"{w} bars"),
                             beats=_int_list(p.get("beats", []), f"{w} beats"),
                             members=None if members is None else _int_list(members, f"{w} members")))
    return out


def _plan_from_dict(data: Any) -> Plan:  # noqa: ANN401
    _check_keys(data, _PLAN_KEYS, _PLAN_REQUIRED, "plan")
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        raise ChoreoError(f"plan: format must be {FORMAT!r}, got {json.dumps(fmt)}")
    song = data["song"]
    _check_keys(song, tuple(SONG_KEYS), tuple(SONG_KEYS), "plan song")
    song = {k: _typed(song[k], t, f"plan song {k}") for k, t in SONG_KEYS.items()}
    names = data["names"]
    if not isinstance(names, list):
        raise ChoreoError(f"plan names must be a list of strings, got {json.dumps(names)}")
    names = [_typed(n, str, f"plan names[{i}]") for i, n in enumerate(names)]
    sections_data = data["sections"]
    if not isinstance(sections_data, list):
        raise ChoreoError(f"plan sections must be a list, got {type(sections_data).__name__}")
    sections = []
    for i, sd in enumerate(sections_data):
        where = f"section {i}"
        _check_keys(sd, tuple(_SECTION_FIELDS), _SECTION_REQUIRED, where)
        values = {k: _typed(v, _SECTION_TYPES[k], f"{where} {k}") for k, v in sd.items()}
        sections.append(SectionPlan(**values))
    return Plan(members=_typed(data["members"], int, "plan members"), style=_typed(data["style"], str, "plan style"),
                seed=_typed(data["seed"], int, "plan seed"), sections=sections, names=names, song=song, format=fmt)


# ---------------------------------------------------------------- validation


def _check_members(members: Any) -> None:  # noqa: ANN401
    if isinstance(members, bool) or not isinstance(members, int) or not MIN_MEMBERS <= members <= MAX_MEMBERS:
        raise ChoreoError(f"members must be {MIN_MEMBERS}-{MAX_MEMBERS}, got {members}")


def _check_formation(name: str, members: int, where: str) -> None:
    try:
        formation_spots(name, members)
    except ChoreoError as exc:
        raise ChoreoError(f"{where}: {exc}") from None


def _one_of(value: str, allowed: Sequence[str], where: str) -> None:
    if value not in allowed:
        raise ChoreoError(f"{where} {value!r} is not one of {', '.join(allowed)}")


def validate_plan(plan: Plan, song: Song | None = None, song_sha256: str = "", moves: Mapping | None = None) -> None:
    """ChoreoError (one line naming the section and field) unless `plan` can be danced — on `song` if given
    (its duration and bar count must be the plan's; with `song_sha256` and a plan that records one, the
    audio's hash too). With `moves` (name -> choreography.moves.Move) its point moves must exist and fit their
    sections (`points.check_plan_moves`)."""
    _check_members(plan.members)
    if plan.style not in STYLES:
        raise ChoreoError(f"plan style {plan.style!r} is not one of {', '.join(STYLES)}")
    if len(plan.names) != plan.members:
        raise ChoreoError(f"plan names: {len(plan.names)} names for {plan.members} members; give one name per member")
    if any(not n.strip() for n in plan.names) or len(set(plan.names)) != len(plan.names):
        raise ChoreoError(f"plan names must be non-empty and different, got {plan.names}")
    _check_song_info(plan, song, song_sha256)
    if not plan.sections:
        raise ChoreoError("plan has no sections")
    duration = float(plan.song["duration"])
    for k, s in enumerate(plan.sections):
        _check_section(plan, k, s)
    first, last = plan.sections[0], plan.sections[-1]
    if abs(first.start) > TIME_TOL:
        raise ChoreoError(f"section 0 start is {first.start}: the first section must start at 0 s")
    if abs(last.end - duration) > TIME_TOL:
        raise ChoreoError(f"section {last.index} end is {last.end}: the last section must end at the song's end "
                          f"({duration} s)")
    for a, b in zip(plan.sections, plan.sections[1:], strict=False):
        if abs(b.start - a.end) > TIME_TOL:
            raise ChoreoError(f"section {b.index} start {b.start} s is not section {a.index}'s end {a.end} s: "
                              "sections must follow each other without gaps or overlaps")
        expected = max(a.start_bar, 0) + a.bars  # a pickup (bar -1) holds no bar of its own
        if b.start_bar != expected:
            raise ChoreoError(f"section {b.index} start_bar is {b.start_bar}, but section {a.index} starts at bar "
                              f"{a.start_bar} with {a.bars} bars: expected {expected}")
    if song is not None:
        _check_bar_lines(plan, song)
    if moves is not None:
        from choreo.choreography.points import check_plan_moves

        check_plan_moves(plan, moves, song)


def _check_song_info(plan: Plan, song: Song | None, song_sha256: str) -> None:
    info = plan.song
    if set(info) != set(SONG_KEYS):
        raise ChoreoError(f"plan song must have the keys {', '.join(SONG_KEYS)}")
    if not (info["duration"] > 0 and info["bars"] > 0):
        raise ChoreoError(f"plan song duration and bars must be positive, got {info['duration']} s, {info['bars']}")
    if song is None:
        return
    other = (f"this plan was made for another song ({info['source'] or 'unnamed'}: {info['duration']:.2f} s, "
             f"{info['bars']} bars; this song: {song.source or 'unnamed'}: {song.duration:.2f} s, {song.bars} bars)"
             "; make a new plan for this song")
    if abs(info["duration"] - song.duration) > DURATION_TOL or info["bars"] != song.bars:
        raise ChoreoError(other)
    if song_sha256 and info["sha256"] and song_sha256 != info["sha256"]:
        raise ChoreoError(f"this plan was made for another audio file (sha256 {info['sha256'][:12]}…, this file "
                          f"{song_sha256[:12]}…); make a new plan for this song")


def _check_section(plan: Plan, k: int, s: SectionPlan) -> None:
    w = f"section {k}"
    if s.index != k:
        raise ChoreoError(f"{w} index is {s.index}: indices must count 0, 1, 2, ... in song order")
    if not s.label.strip():
        raise ChoreoError(f"{w} label is empty")
    _one_of(s.kind, KINDS, f"{w} kind")
    if not s.end > s.start:
        raise ChoreoError(f"{w} ends ({s.end} s) before it starts ({s.start} s)")
    if s.bars <= 0:
        raise ChoreoError(f"{w} bars is {s.bars}: a section needs at least 1 bar")
    if s.start_bar < (-1 if k == 0 else 0):
        raise ChoreoError(f"{w} start_bar is {s.start_bar}: bars count from 0 (-1 only for a pickup in section 0)")
    if not 0.0 <= s.energy <= 1.0:
        raise ChoreoError(f"{w} energy is {s.energy}: must be between 0 and 1")
    if not s.prompt.strip():
        raise ChoreoError(f"{w} prompt is empty: say what to dance, e.g. 'salsa dance with quick steps and spins'")
    _one_of(s.formation, formation_names(), f"{w} formation")
    _check_formation(s.formation, plan.members, f"{w} formation")
    _one_of(s.move, MOVES, f"{w} move")
    if s.move == "mirror" and plan.members < 2:
        raise ChoreoError(f"{w} move 'mirror' needs at least 2 members; use 'unison'")
    if not CANON_BEATS[0] <= s.canon_beats <= CANON_BEATS[1]:
        raise ChoreoError(f"{w} canon_beats is {s.canon_beats}: must be {CANON_BEATS[0]}-{CANON_BEATS[1]}")
    _one_of(s.transition, TRANSITIONS, f"{w} transition")
    _one_of(s.facing, FACINGS, f"{w} facing")
    for i, p in enumerate(s.points):
        _check_point(plan, s, p, f"{w} points[{i}]")
    if s.repeat_of is not None:
        _check_repeat(plan, k, s)


def _check_point(plan: Plan, s: SectionPlan, p: PointPlan, w: str) -> None:
    from choreo.choreography.moves import NAME_RE

    if not NAME_RE.match(p.move):
        raise ChoreoError(f"{w} move {p.move!r} is not a move name (see `choreo moves list`)")
    if bool(p.bars) == bool(p.beats):
        raise ChoreoError(f"{w}: give the move's place as bars (e.g. \"bars\": [1, 5]) or as beats (\"beats\": "
                          "[1, 9]), one of the two")
    unit, values = ("bars", p.bars) if p.bars else ("beats", p.beats)
    if len(set(values)) != len(values) or values != sorted(values):
        raise ChoreoError(f"{w} {unit} must increase without repeats, got {values}")
    if values[0] < 1:
        raise ChoreoError(f"{w} {unit} count from 1 (the section's first {unit[:-1]}), got {values[0]}")
    if p.bars and values[-1] > s.bars:
        raise ChoreoError(f"{w} bar {values[-1]} is past the section's end: section {s.index} has {s.bars} bars")
    if p.members is not None:
        if not p.members or len(set(p.members)) != len(p.members):
            raise ChoreoError(f"{w} members must be a non-empty list of different member numbers, or null for all")
        bad = [m for m in p.members if not 1 <= m <= plan.members]
        if bad:
            raise ChoreoError(f"{w} member {bad[0]} does not exist: members count 1-{plan.members}")


def _check_repeat(plan: Plan, k: int, s: SectionPlan) -> None:
    w = f"section {k} repeat_of"
    r = s.repeat_of
    if r == k:
        raise ChoreoError(f"{w} is {r}: a section cannot repeat itself; use null")
    if not 0 <= r < k:
        raise ChoreoError(f"{w} is {r}: a repeat must point to an earlier section (0-{k - 1}), or be null")
    first = plan.sections[r]
    if first.label != s.label:
        raise ChoreoError(f"{w} is {r}, but section {r} has label {first.label!r} and this one {s.label!r}: "
                          "only sections with the same label repeat each other")
    if first.repeat_of is not None:
        raise ChoreoError(f"{w} is {r}, which itself repeats section {first.repeat_of}: point to "
                          f"{first.repeat_of}")
    if s.bars > first.bars:
        raise ChoreoError(f"section {k} has {s.bars} bars but repeats section {r} with {first.bars}: a repeat may "
                          "be at most as long as its first (the composer crops it); set repeat_of to null to dance "
                          "it anew")
    for name in _SHARED_BY_REPEATS:
        if getattr(s, name) != getattr(first, name):
            raise ChoreoError(f"section {k} {name} differs from section {r}'s, which it repeats: make them equal, "
                              "or set repeat_of to null to dance it anew")


def _bar_of(song: Song, t: float) -> int:
    """Song.bar_index, tolerant of a boundary written a hair before its downbeat."""
    return song.bar_index(t + TIME_TOL)


def _bars_in(song: Song, start: float, end: float) -> int:
    """Bars starting in [start, end) (Song.section_bars), with the same tolerance."""
    db = song.downbeats
    return int(np.count_nonzero((db >= start - TIME_TOL) & (db < end - TIME_TOL)))


def _check_bar_lines(plan: Plan, song: Song) -> None:
    db = song.downbeats
    for s in plan.sections[1:]:
        if len(db) == 0 or np.abs(db - s.start).min() > TIME_TOL:
            raise ChoreoError(f"section {s.index} start {s.start} s is not on a bar line of the song; use a downbeat "
                              "time from the analysis (song.json)")
    for s in plan.sections:
        w = f"section {s.index}"
        start_bar = _bar_of(song, s.start)
        if s.start_bar != start_bar:
            raise ChoreoError(f"{w} start_bar is {s.start_bar}, but {s.start} s is in bar {start_bar} of the song")
        bars = _bars_in(song, s.start, s.end)
        if s.bars != bars:
            raise ChoreoError(f"{w} bars is {s.bars}, but the song has {bars} bars from {s.start} s to {s.end} s")


# ---------------------------------------------------------------- making


def default_names(members: int) -> list[str]:
    return [f"Member {i + 1}" for i in range(members)]


def load_section_prompts(path: str | Path) -> dict[str, str]:
    """Per-section prompts from a JSON object: keys a kind ("chorus"), a label ("D") or an index ("3")."""
    from choreo.json_file import read_json_object

    path = Path(path)
    data = read_json_object(path)
    for key, value in data.items():
        if not isinstance(value, str) or not value.strip():
            raise ChoreoError(f"{path}: the prompt for {key!r} must be a non-empty string, got {json.dumps(value)}")
    return {str(k): v.strip() for k, v in data.items()}


def _shape(name: str, members: int) -> tuple:
    return tuple(sorted(map(tuple, np.round(formation_spots(name, members), 3).tolist())))


def _pick_formation(kind: str, members: int, avoid: Sequence[str]) -> str:
    """The kind's first preferred formation whose spots differ from every formation in `avoid`."""
    if members == 1:
        return "line"
    avoid_shapes = {_shape(a, members) for a in avoid}
    prefs = DEFAULT_FORMATIONS[kind] + tuple(n for n in formation_names() if n not in DEFAULT_FORMATIONS[kind])
    for name in prefs:
        if _shape(name, members) not in avoid_shapes:
            return name
    return prefs[0]  # too few members for any change (e.g. 2 members have few distinct shapes)


def _section_prompt_for(sp: dict[str, str], index: int, label: str, kind: str) -> str | None:
    for key in (str(index), label, kind):
        if key in sp:
            return sp[key]
    return None


def make_plan(song: Song, *, members: int = 5, style: str = DEFAULT_STYLE, prompt: str | None = None,
              section_prompts: dict[str, str] | None = None, formations: Sequence[str] | None = None,
              seed: int = 0, song_sha256: str = "") -> Plan:
    """A plan for `song` (module docstring: the rules)."""
    _check_members(members)
    if style not in STYLES:
        raise ChoreoError(f"unknown style {style!r}; valid styles: {', '.join(STYLES)}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ChoreoError(f"seed must be an integer, got {seed!r}")
    if not song.sections:
        raise ChoreoError("the song analysis has no sections; analyze the song first (choreo analyze)")
    user_formations = list(formations or [])
    for name in user_formations:
        _check_formation(name, members, "formations")
    sp = dict(section_prompts or {})
    labels = {s.label for s in song.sections}
    for key in sp:
        if not (key in KINDS or key in labels or (key.isdigit() and int(key) < len(song.sections))):
            raise ChoreoError(f"section prompt key {key!r} matches no section; use a kind ({', '.join(KINDS)}), "
                              f"a label ({', '.join(sorted(labels))}) or an index (0-{len(song.sections) - 1})")

    sections: list[SectionPlan] = []
    danced: dict[str, list[int]] = {}  # label -> its occurrences danced anew, in order
    distinct_count = 0
    for i, sec in enumerate(song.sections):
        if sec.kind not in KINDS:
            raise ChoreoError(f"song section {i} kind {sec.kind!r} is not one of {', '.join(KINDS)}")
        own = _section_prompt_for(sp, i, sec.label, sec.kind)
        text = own if own is not None else section_prompt(style, sec.kind, sec.energy, prompt)
        bars = _bars_in(song, sec.start, sec.end)
        # The earliest occurrence danced anew that is long enough (a repeat is cropped, never stretched): a third
        # verse as long as the second repeats the second when the first was shorter.
        r = next((k for k in danced.get(sec.label, []) if sections[k].bars >= bars), None)
        if r is not None and str(i) in sp and text != sections[r].prompt:
            r = None  # an index key gave this occurrence its own prompt: danced anew
        if r is not None:
            text = sections[r].prompt  # the same dance as its first, whatever its own energy says
        if r is not None:
            first = sections[r]
            formation, move, canon = first.formation, first.move, first.canon_beats
        else:
            danced.setdefault(sec.label, []).append(i)
            if user_formations:
                formation = user_formations[distinct_count % len(user_formations)]
            else:
                avoid = [sections[-1].formation] if sections else []
                nxt = danced.get(song.sections[i + 1].label, [None])[0] if i + 1 < len(song.sections) else None
                if nxt is not None and nxt != i:
                    avoid.append(sections[nxt].formation)
                formation = _pick_formation(sec.kind, members, avoid)
            distinct_count += 1
            move = DEFAULT_MOVES[sec.kind]
            if members == 1 or (move == "mirror" and members < 2):
                move = "unison"
            canon = 1
        sections.append(SectionPlan(
            index=i, label=sec.label, kind=sec.kind, start=float(sec.start), end=float(sec.end),
            start_bar=_bar_of(song, sec.start), bars=bars, energy=float(sec.energy),
            prompt=text, repeat_of=r, formation=formation, move=move, canon_beats=canon))
    for a, b in zip(sections, sections[1:], strict=False):
        a.transition = "hold" if _shape(a.formation, members) == _shape(b.formation, members) else "walk"
    sections[-1].transition = "hold"
    plan = Plan(members=members, style=style, seed=int(seed), sections=sections, names=default_names(members),
                song={"source": song.source, "duration": float(song.duration), "tempo": float(song.tempo),
                      "bars": song.bars, "sha256": song_sha256})
    validate_plan(plan, song)
    return plan


# ---------------------------------------------------------------- editing


def changed_sections(old: Plan, new: Plan) -> list[int]:
    """Indices of `new`'s sections that must be danced again after editing `old` into `new`: every section
    when members, style, seed or the section count changed; else those whose own fields differ (prompt,
    move, formation, times, ...), and the repeats of a first occurrence whose motion changed (not when only
    its formation or transition did: a repeat keeps its own place on the stage). Names are not danced."""
    if (old.members, old.style, old.seed, len(old.sections)) != (new.members, new.style, new.seed,
                                                                   len(new.sections)):
        return [s.index for s in new.sections]
    changed: set[int] = set()
    motion_changed: set[int] = set()
    for a, b in zip(old.sections, new.sections, strict=True):
        if any(getattr(a, f) != getattr(b, f) for f in _MOTION):
            motion_changed.add(b.index)
        if b.index in motion_changed or any(getattr(a, f) != getattr(b, f) for f in _PLACEMENT):
            changed.add(b.index)
    for b in new.sections:  # a repeat copies its first's motion: it changes with it
        if b.repeat_of is not None and b.repeat_of in motion_changed:
            changed.add(b.index)
    return sorted(changed)


def describe(plan: Plan) -> list[str]:
    """One line per section for a terminal: index, label, kind, time, bars, formation, move, prompt."""
    lines = []
    for s in plan.sections:
        rep = f"= {s.repeat_of}" if s.repeat_of is not None else "new"
        move = f"canon/{s.canon_beats}" if s.move == "canon" else s.move
        lines.append(f"{s.index:>2} {s.label:<3} {s.kind:<11} {s.start:7.2f}-{s.end:7.2f} s {s.bars:>3} bars "
                     f"{rep:<4} {s.formation:<12} {move:<10} {s.transition:<4} {s.prompt}")
    return lines
