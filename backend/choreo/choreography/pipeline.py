"""One dance, song to files, the same for every face (`choreo dance`, the service).

`plan_dance` does everything that can fail fast (decoding and analysing the song, the plan, an earlier
choreography to regenerate from); `dance` then makes the motion and writes the outputs. Progress is reported as
`progress(stage, done, total)` with the stages "material", "points" (only with point moves), "transitions",
"outputs" and "video", so each face shows it its own way (tqdm bars, a job's percent) and may stop the work by
raising from the callback.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from choreo.choreography.choreography import Choreography
from choreo.choreography.compose import Composer, ComposeSettings, Progress
from choreo.choreography.moves import Move, MoveLibrary
from choreo.choreography.outputs import write_dance_outputs
from choreo.choreography.plan import Plan, load_section_prompts, make_plan, validate_plan
from choreo.choreography.points import move_names, place_point_move
from choreo.choreography.report import measure
from choreo.errors import ChoreoError
from choreo.generate import Generator
from choreo.music.analyze import Analysis, analyze_file

MAX_MINUTES = 10.0
STAGES = ("material", "points", "transitions", "outputs", "video")


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class DanceWishes:
    """What a user asks of a new plan (ignored when an edited plan is danced)."""

    members: int = 5
    style: str = "kpop"
    prompt: str | None = None
    section_prompts: dict[str, str] | str | Path | None = None  # a mapping or a JSON file of one
    formations: list[str] | None = None
    seed: int = 0
    point_move: str | None = None  # a move of the library, placed on bar 1 (5, 9 ...) of every chorus


@dataclass
class PlannedDance:
    analysis: Analysis
    plan: Plan
    previous: Choreography | None = None  # set when one section is regenerated
    regenerate: int | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    moves: dict[str, Move] = field(default_factory=dict)  # the point moves the plan places, read at planning


def plan_dance(song_path: str | Path, wishes: DanceWishes | None = None, *, plan: Plan | None = None,
               regenerate: int | None = None, previous: str | Path | Choreography | None = None,
               max_minutes: float = MAX_MINUTES, library: MoveLibrary | None = None) -> PlannedDance:
    """Analyse the song and make (or check) the plan; with `regenerate`, load the choreography it redoes. The
    plan's point moves are read from `library` (default: the data directory's) and checked against the song."""
    started = time.perf_counter()
    if not max_minutes > 0:
        raise ChoreoError("the longest song allowed (max minutes) must be positive")
    if regenerate is not None and plan is None:
        raise ChoreoError("regenerating a section needs the plan of the choreography it belongs to")
    song_path = Path(song_path)
    analysis = analyze_file(song_path, max_seconds=max_minutes * 60.0)  # a bad song fails here, first
    sha = file_sha256(song_path)
    old = None
    if plan is not None:
        validate_plan(plan, analysis.song, song_sha256=sha)
        if regenerate is not None:
            old = _previous(plan, regenerate, previous)
    else:
        w = wishes or DanceWishes()
        prompts = w.section_prompts
        if isinstance(prompts, str | Path):
            prompts = load_section_prompts(prompts)
        plan = make_plan(analysis.song, members=w.members, style=w.style, prompt=w.prompt,
                         section_prompts=prompts, formations=w.formations, seed=w.seed, song_sha256=sha)
        if w.point_move:
            place_point_move(plan, (library or MoveLibrary()).get(w.point_move), analysis.song)
    names = move_names(plan)
    moves = {n: (library or MoveLibrary()).get(n) for n in names}
    if moves:
        validate_plan(plan, analysis.song, song_sha256=sha, moves=moves)
    return PlannedDance(analysis, plan, old, regenerate, {"analysis": time.perf_counter() - started}, moves)


def _previous(plan: Plan, index: int, previous: str | Path | Choreography | None) -> Choreography:
    if not 0 <= index < len(plan.sections):
        raise ChoreoError(f"regenerate {index}: the plan has sections 0..{len(plan.sections) - 1}")
    if previous is None:
        raise ChoreoError("regenerating a section needs the choreography.json it belongs to")
    if not isinstance(previous, Choreography):
        if not Path(previous).is_file():
            raise ChoreoError(f"regenerate: no {previous} beside the plan (dance the plan once without "
                              "regenerating first)")
        previous = Choreography.load(previous)
    if previous.plan.members != plan.members or len(previous.plan.sections) != len(plan.sections):
        raise ChoreoError("regenerate: the plan's members or sections differ from its choreography.json; "
                          "dance the edited plan as a whole instead")
    return previous


@dataclass
class DanceResult:
    choreography: Choreography
    paths: dict[str, Path]
    seconds: dict[str, float]


def dance(generator: Generator, planned: PlannedDance, out: Path, song_path: str | Path, *, candidates: int = 3,
          steps: int | None = None, video: bool = True, progress: Progress | None = None,
          seed: int | None = None) -> DanceResult:
    """Make the motion of `planned` and write every output into the prepared folder `out`. `seed` (default:
    the plan's) varies a regenerated section without changing the plan."""
    from choreo.music.plot import plot_analysis

    composer = Composer(generator, ComposeSettings(candidates=candidates, steps=steps,
                                                   seed=planned.plan.seed if seed is None else seed))
    if planned.previous is None:
        ch = composer.compose(planned.analysis.song, planned.plan, progress, moves=planned.moves)
    else:
        ch = composer.regenerate(planned.previous, planned.plan, planned.regenerate, progress, moves=planned.moves)
    ch.report = measure(ch)
    ch.report["timings_s"]["analysis"] = round(planned.seconds.get("analysis", 0.0), 2)
    t0 = time.perf_counter()
    if progress is not None:
        progress("outputs", 0, 1)
    video_progress: Callable[[int, int], None] | None = None
    if progress is not None:
        def video_progress(done: int, total: int) -> None:
            progress("video", done, total)
    paths = write_dance_outputs(out, ch, song_path, video=video,
                                analysis_png=lambda p: plot_analysis(planned.analysis, p), progress=video_progress)
    seconds = {**ch.report["timings_s"], "outputs": time.perf_counter() - t0}
    return DanceResult(ch, paths, seconds)
