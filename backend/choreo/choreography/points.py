"""Point moves on a song: the plan's placements (`SectionPlan.points`) resolved to frames, and the default
placement of `choreo dance --point-move NAME` (bar 1, 5, 9 ... of every chorus, where the move fits).

`resolve_points(song, plan, moves)` -> one `Placement` per (section, member, start): the move re-timed onto
the song's beats from its start beat (`moves.retime`) and the frames it fixes. A placement names a move the
library holds, starts on a beat inside its section and ends by the section's end (so by the song's end);
one member's moves in a section do not overlap. Every mistake is one line naming section and placement.

`section_frames` and `transition_half` are the frame grid the composer dances on (numpy only, so the service can
check a placement before it queues a job); `check_regenerate_room` refuses a placement that a section danced
anew on its own (`Composer.regenerate`) could not keep, because it lies where the section joins its neighbours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from choreo.choreography.moves import Move, move_span, retime
from choreo.choreography.plan import Plan, PointPlan
from choreo.errors import ChoreoError
from choreo.infill import RAMP
from choreo.music.song import Song
from choreo.skeleton import FPS

TIME_TOL = 1e-3  # s, as plan.TIME_TOL
DEFAULT_EVERY_BARS = 4  # --point-move: bar 1, then every 4 bars (a K-pop chorus phrase is 4 or 8 bars)
DEFAULT_KINDS = ("chorus",)


@dataclass
class Placement:
    section: int  # plan section index
    point: int  # index in the section's points
    move: Move
    member: int  # 0-based
    beat: int  # song beat index of the move's start
    first: int  # song frame of its first frame (the start beat's frame)
    offsets: np.ndarray  # [n] frames after `first` the move fixes (all for a motion, the poses' for key poses)
    joints: np.ndarray  # [n,22,3] those frames in the move's own frame (root over the origin, facing +Z)
    length: int  # frames from `first` to the move's end beat
    at_beat: int = 0  # its start beat counted from the section's first beat (0)
    delay_beats: int = 0  # in a canon section: how many beats later this member enters it (the section's delay)

    def to_dict(self, tempo: float, fps: float = FPS) -> dict:
        """As danced: a canon member's entry `delay_beats` later (the composer's delay at the song's `tempo`)."""
        first = self.first + int(round(self.delay_beats * 60.0 / tempo * fps))
        return {"section": self.section, "move": self.move.name, "kind": self.move.kind, "member": self.member,
                "beat": self.beat, "delay_beats": self.delay_beats, "start_frame": first,
                "end_frame": first + self.length, "fixed_frames": [int(f) for f in first + self.offsets]}


def section_frames(song: Song, plan: Plan, fps: float = FPS) -> list[tuple[int, int]]:
    """Frame span [a, b) of every section on the song's frame grid."""
    total = int(round(song.duration * fps))
    spans = []
    for s in plan.sections:
        a, b = int(round(s.start * fps)), min(total, int(round(s.end * fps)))
        spans.append((a, b))
    return spans


def transition_half(song: Song, spans: Sequence[tuple[int, int]], i: int, fps: float = FPS,
                    transition_bars: float = 0.5, window: int | None = None) -> int:
    """Frames regenerated on each side of boundary i (between sections i-1 and i): `transition_bars` bars, less
    than a bar by the soft edge, at most a third of the shorter section and (with the model's `window`) what one
    window holds beside its context."""
    bar = song.meter * 60.0 / max(song.tempo, 1e-6) * fps
    h = min(int(round(transition_bars * bar)), int(bar) - RAMP)
    shortest = min(spans[i - 1][1] - spans[i - 1][0], spans[i][1] - spans[i][0])
    if window is not None:
        h = min(h, (window - 2 * 8) // 2 - 1)
    return max(2, min(h, shortest // 3))


def regenerate_edges(song: Song, plan: Plan, index: int, fps: float = FPS, transition_bars: float = 0.5,
                     window: int | None = None) -> dict[str, tuple[int, int]]:
    """The frames [lo, hi) at the "start" and "end" of section `index` that join it to its neighbours when it
    is danced anew on its own (two transition halves each; none at the song's ends): no point move may lie there."""
    spans = section_frames(song, plan, fps)
    a, b = spans[index]
    out = {}
    if index > 0:
        out["start"] = (a, a + 2 * transition_half(song, spans, index, fps, transition_bars, window))
    if index + 1 < len(spans):
        out["end"] = (b - 2 * transition_half(song, spans, index + 1, fps, transition_bars, window), b)
    return out


def check_regenerate_room(song: Song, plan: Plan, index: int, placements: Sequence[Placement], fps: float = FPS,
                          transition_bars: float = 0.5, window: int | None = None) -> None:
    """ChoreoError when a placement of section `index` lies where the section, danced anew on its own, joins its
    neighbours (`regenerate_edges`), naming the first beat a move may start on."""
    edges = regenerate_edges(song, plan, index, fps, transition_bars, window)
    sec = plan.sections[index]
    starts = [int(round(song.beats[k] * fps)) for k in _section_beats(song, sec.start, sec.end)]
    for p in placements:
        if p.section != index:
            continue
        frames = np.asarray(p.to_dict(song.tempo, fps)["fixed_frames"])
        for side, (lo, hi) in edges.items():
            if not np.any((frames >= lo) & (frames < hi)):
                continue
            if side == "start":
                ok = next((k + 1 for k, f in enumerate(starts) if f >= hi), None)
                hint = f"start it on beat {ok} of the section or later" if ok else "the section is too short for it"
            else:
                hint = "start it earlier"
            where = "first" if side == "start" else "last"
            raise ChoreoError(f"section {index}: move {p.move.name!r} on beat {p.at_beat + 1} of the section lies in "
                              f"its {where} {(hi - lo) / fps:.1f} s, where a section danced again on its own joins its "
                              f"neighbour; {hint} (or dance the whole plan anew)")


def _section_beats(song: Song, start: float, end: float) -> np.ndarray:
    """Indices of the song's beats in [start, end) (with the plan's time tolerance)."""
    return np.flatnonzero((song.beats >= start - TIME_TOL) & (song.beats < end - TIME_TOL))


def move_names(plan: Plan) -> list[str]:
    return sorted({p.move for s in plan.sections for p in s.points})


def resolve_points(song: Song, plan: Plan, moves: Mapping[str, Move], fps: float = FPS) -> list[Placement]:
    """Every placement of the plan on the song (module docstring); ChoreoError on the first mistake."""
    out: list[Placement] = []
    if not any(s.points for s in plan.sections):
        return out
    for sec in plan.sections:
        idx = _section_beats(song, sec.start, sec.end)
        for i, p in enumerate(sec.points):
            w = f"section {sec.index} points[{i}]"
            move = moves.get(p.move)
            if move is None:
                raise ChoreoError(f"{w}: unknown move {p.move!r} (known: {', '.join(sorted(moves)) or 'none'}); "
                                  "add it with `choreo moves add`")
            if move.beats > len(idx) + TIME_TOL:
                raise ChoreoError(f"{w}: move {p.move!r} is {move.beats:g} beats long, longer than section "
                                  f"{sec.index} ({len(idx)} beats)")
            unit = "bar" if p.bars else "beat"
            for value, start in zip(p.bars or p.beats, p.starts(song.meter), strict=True):
                where = f"{w} {unit} {value}"
                if start >= len(idx):
                    raise ChoreoError(f"{where} is past the section's end: section {sec.index} has {len(idx)} beats "
                                      f"({sec.bars} bars)")
                k = int(idx[start])
                _, end = move_span(move, song.beats, k, song.tempo)
                if end > song.duration + TIME_TOL:
                    raise ChoreoError(f"{where}: move {p.move!r} ends at {end:.2f} s, past the song's end "
                                      f"({song.duration:.2f} s)")
                if end > sec.end + TIME_TOL:
                    raise ChoreoError(f"{where}: move {p.move!r} ({move.beats:g} beats) ends at {end:.2f} s, past "
                                      f"the section's end ({sec.end:.2f} s); start it earlier")
                first, offsets, joints = retime(move, song.beats, k, song.tempo, fps)
                length = int(round(end * fps)) - first
                members = range(plan.members) if p.members is None else [m - 1 for m in p.members]
                for m in members:
                    delay = m * sec.canon_beats if sec.move == "canon" and plan.members > 1 else 0
                    if delay and end + delay * 60.0 / song.tempo > sec.end + TIME_TOL:
                        raise ChoreoError(f"{where}: section {sec.index} is a canon, so member {m + 1} enters move "
                                          f"{p.move!r} {delay} beats late and it would run past the section's end; "
                                          "start it earlier, or give the section another move (unison, mirror, "
                                          "individual)")
                    out.append(Placement(sec.index, i, move, m, k, first, offsets, joints, length, start, delay))
    _check_overlaps(out)
    return out


def _check_overlaps(placements: Sequence[Placement]) -> None:
    by: dict[tuple[int, int], list[Placement]] = {}
    for p in placements:
        by.setdefault((p.section, p.member), []).append(p)
    for (section, member), ps in by.items():
        ps = sorted(ps, key=lambda p: p.first)
        for a, b in zip(ps, ps[1:], strict=False):
            if b.first < a.first + a.length:
                raise ChoreoError(f"section {section}: member {member + 1} has move {a.move.name!r} and move "
                                  f"{b.move.name!r} overlapping (beats {a.beat} and {b.beat} of the song); "
                                  "place them further apart")


def check_plan_moves(plan: Plan, moves: Mapping[str, Move], song: Song | None = None) -> None:
    """The plan's moves exist and fit their sections (exactly on `song`; without it from the plan's tempo)."""
    if song is not None:
        resolve_points(song, plan, moves)
        return
    tempo = float(plan.song.get("tempo", 0.0)) or 120.0
    for sec in plan.sections:
        beats = (sec.end - sec.start) * tempo / 60.0
        for i, p in enumerate(sec.points):
            move = moves.get(p.move)
            if move is None:
                raise ChoreoError(f"section {sec.index} points[{i}]: unknown move {p.move!r} (known: "
                                  f"{', '.join(sorted(moves)) or 'none'})")
            if move.beats > beats + 0.5:
                raise ChoreoError(f"section {sec.index} points[{i}]: move {p.move!r} is {move.beats:g} beats long, "
                                  f"longer than section {sec.index} (about {beats:.0f} beats)")


def place_point_move(plan: Plan, move: Move, song: Song, kinds: Sequence[str] = DEFAULT_KINDS,
                     every_bars: int = DEFAULT_EVERY_BARS) -> Plan:
    """`plan` with `move` on bar 1 of every section of `kinds` (first occurrences and repeats alike, so repeats
    stay repeats), and again every `every_bars` bars (or the move's own length, if longer) where it still ends
    inside the section. ChoreoError when there is no such section or the move fits none."""
    targets = [s for s in plan.sections if s.kind in kinds]
    if not targets:
        raise ChoreoError(f"the song has no {' or '.join(kinds)} to place the point move on; place it in plan.json "
                          "(a section's \"points\")")
    move_bars = int(np.ceil(move.beats / song.meter - 1e-6))
    step = max(every_bars, move_bars)
    def fitting(sec) -> set[int]:  # noqa: ANN001 - a SectionPlan
        idx = _section_beats(song, sec.start, sec.end)
        bars = set()
        for bar in range(1, sec.bars + 1, step):
            start = (bar - 1) * song.meter
            if start < len(idx) and move_span(move, song.beats, int(idx[start]), song.tempo)[1] <= sec.end + TIME_TOL:
                bars.add(bar)
        return bars

    groups: dict[int, list] = {}  # a first occurrence and its repeats dance the same: the same bars for all
    for sec in targets:
        groups.setdefault(sec.index if sec.repeat_of is None else sec.repeat_of, []).append(sec)
    placed = 0
    for group in groups.values():
        bars = sorted(set.intersection(*(fitting(s) for s in group)))
        for sec in group:
            sec.points = [p for p in sec.points if p.move != move.name]
            if bars:
                sec.points.append(PointPlan(move=move.name, bars=list(bars)))
                placed += 1
    if not placed:
        longest = max(len(_section_beats(song, s.start, s.end)) for s in targets)
        raise ChoreoError(f"move {move.name!r} is {move.beats:g} beats long, longer than every {kinds[0]} "
                          f"(the longest has {longest} beats)")
    return plan
