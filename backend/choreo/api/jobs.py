"""What a worker does with each kind of job, and where a job's files live.

DATA_DIR/jobs/<id>/ holds `song.<ext>` (the upload, under a name of our own) and, once the job is done,
`files/` with every output. Outputs are written into `work/` first and the folder is renamed to `files/` in one
step, so a client never sees half a set and a crash leaves nothing that looks finished.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from choreo.api.settings import ServiceSettings
from choreo.api.store import Job, JobStore
from choreo.errors import ChoreoError

FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SONG_NAME = re.compile(r"^song\.[a-z0-9]{1,5}$")
# Overall percent per stage of a dance (with and without the preview video).
_DANCE_SPANS = {True: {"analysis": (0, 4), "material": (4, 36), "points": (36, 40), "transitions": (40, 70),
                       "outputs": (70, 76), "video": (76, 99)},
                False: {"analysis": (0, 5), "material": (5, 50), "points": (50, 55), "transitions": (55, 92),
                        "outputs": (92, 99)}}


class JobStopped(Exception):
    """The job was cancelled, deleted or taken back while it ran: stop without writing a result."""


def job_dir(settings: ServiceSettings, job_id: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", job_id):
        raise ValueError("not a job id")
    return settings.jobs_dir / job_id


def song_file(folder: Path) -> Path | None:
    return next((p for p in sorted(folder.glob("song.*")) if SONG_NAME.match(p.name)), None)


def output_file(settings: ServiceSettings, job: Job, name: str) -> Path | None:
    """The file `name` of a job if it is one of its outputs (or its song); None for anything else, so no
    name a client sends can reach outside the job's folder."""
    if not FILE_NAME.match(name) or ".." in name:
        return None
    folder = job_dir(settings, job.id)
    if SONG_NAME.match(name):
        path = folder / name
    elif name in job.files:
        path = folder / "files" / name
    else:
        return None
    return path if path.is_file() else None


def public_files(settings: ServiceSettings, job: Job) -> list[str]:
    song = song_file(job_dir(settings, job.id))
    return list(job.files) + ([song.name] if song else [])


@dataclass
class JobContext:
    """A running job as its worker sees it: report progress (which also tells it to stop)."""

    job: Job
    store: JobStore
    owner: str
    folder: Path
    stop: threading.Event
    _last: float = 0.0
    _percent: float = 0.0

    def report(self, stage: str, percent: float, force: bool = False) -> None:
        if self.stop.is_set():
            raise JobStopped()
        percent = self._percent = max(percent, self._percent)  # a stage's estimate may shrink: never go back
        now = time.monotonic()
        if not force and now - self._last < 0.4:
            return
        self._last = now
        if not self.store.progress(self.job.id, self.owner, stage, percent):
            self.stop.set()
            raise JobStopped()

    def staged(self, spans: dict[str, tuple[float, float]]) -> Callable[[str, int, int], None]:
        """A pipeline progress callback (stage, done, total) mapped onto the job's overall percent."""
        def progress(stage: str, done: int, total: int) -> None:
            lo, hi = spans.get(stage, (0.0, 99.0))
            self.report(stage, lo + (hi - lo) * (done / total if total else 1.0), force=done >= total)
        return progress


class Models:
    """The generators a worker has loaded (the service's model first, at start; others on demand)."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._loaded: dict[Path, object] = {}

    def get(self, path: Path | None = None):  # noqa: ANN201 - a choreo.generate.Generator
        from choreo.bundle import load_bundle
        from choreo.config import load_settings, resolve_model_file
        from choreo.generate import Generator

        path = resolve_model_file(path or self.settings.model)
        if path not in self._loaded:
            mdm = load_settings(None)
            clip = str(mdm.clip_path) if mdm.clip_path else None
            # auto: the ONNX export when it is up to date (as `choreo generate` and `choreo dance`), else torch
            self._loaded[path] = Generator(load_bundle(path, data_path=mdm.data_path, backend="auto"), clip_path=clip)
        return self._loaded[path]


def run_job(ctx: JobContext, settings: ServiceSettings, models: Models) -> list[str]:
    """Do the job into ctx.folder/work; returns the output names (ChoreoError: a failure to report)."""
    work = ctx.folder / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    kind = ctx.job.kind
    if kind == "dance":
        _dance(ctx, settings, models, work)
    elif kind == "regenerate":
        _regenerate(ctx, settings, models, work)
    elif kind == "motion":
        _motion(ctx, models, work)
    else:
        raise ChoreoError(f"unknown job kind {kind!r}")
    return sorted(p.name for p in work.iterdir() if p.is_file())


def _song(ctx: JobContext) -> Path:
    song = song_file(ctx.folder)
    if song is None:
        raise ChoreoError("the job's song is missing from its folder")
    return song


def _dance(ctx: JobContext, settings: ServiceSettings, models: Models, work: Path) -> None:
    from choreo.choreography.pipeline import DanceWishes, dance, plan_dance
    from choreo.choreography.plan import Plan

    p = ctx.job.params
    spans = _DANCE_SPANS[settings.video]
    ctx.report("analysis", 1, force=True)
    plan = Plan.from_dict(p["plan"]) if p.get("plan") else None
    wishes = DanceWishes(members=p.get("members", 5), style=p.get("style", "kpop"), prompt=p.get("prompt"),
                         section_prompts=p.get("section_prompts"), formations=p.get("formations"),
                         seed=p.get("seed", 0), point_move=p.get("point_move"))
    planned = plan_dance(_song(ctx), wishes, plan=plan, max_minutes=settings.max_song_minutes)
    planned.plan.save(work / "plan.json")
    generator = models.get(Path(p["model"]) if p.get("model") else None)
    ctx.report("material", spans["material"][0], force=True)
    dance(generator, planned, work, _song(ctx), candidates=settings.candidates, video=settings.video,
          progress=ctx.staged(spans))


def edit_section(plan, index: int, prompt: str | None, formation: str | None,  # noqa: ANN001, ANN201
                 points: list[dict] | None = None):
    """The plan with section `index` danced on its own (its prompt/formation/point moves changed if given;
    `points` as plan.json writes them). Sections that repeated it keep their motion: the earliest of them
    becomes the one the others repeat."""
    import copy

    from choreo.choreography.plan import PointPlan

    plan = copy.deepcopy(plan)
    sec = plan.sections[index]
    followers = [s for s in plan.sections if s.repeat_of == index]
    if followers:
        lead = followers[0]
        lead.repeat_of = None
        for s in followers[1:]:
            s.repeat_of = lead.index
    sec.repeat_of = None
    if prompt is not None:
        sec.prompt = prompt
    if formation is not None:
        sec.formation = formation
    if points is not None:
        sec.points = [PointPlan(move=p["move"], bars=list(p.get("bars") or []), beats=list(p.get("beats") or []),
                                members=None if p.get("members") is None else list(p["members"])) for p in points]
    return plan


def _regenerate(ctx: JobContext, settings: ServiceSettings, models: Models, work: Path) -> None:
    from choreo.choreography.choreography import Choreography
    from choreo.choreography.pipeline import dance, plan_dance
    from choreo.choreography.plan import Plan

    p = ctx.job.params
    spans = _DANCE_SPANS[settings.video]
    ctx.report("analysis", 1, force=True)
    parent_files = job_dir(settings, ctx.job.parent or "") / "files"
    if not (parent_files / "choreography.json").is_file():
        raise ChoreoError("the choreography this job regenerates no longer exists (deleted?)")
    previous = Choreography.load(parent_files / "choreography.json")
    plan = edit_section(Plan.load(parent_files / "plan.json"), p["section"], p.get("prompt"), p.get("formation"),
                        p.get("points"))
    planned = plan_dance(_song(ctx), plan=plan, regenerate=p["section"], previous=previous,
                         max_minutes=settings.max_song_minutes)
    planned.plan.save(work / "plan.json")
    generator = models.get(Path(p["model"]) if p.get("model") else None)
    ctx.report("material", spans["material"][0], force=True)
    dance(generator, planned, work, _song(ctx), candidates=settings.candidates, video=settings.video,
          progress=ctx.staged(spans), seed=p.get("seed"))


def _motion(ctx: JobContext, models: Models, work: Path) -> None:
    from choreo.export import write_outputs
    from choreo.generate import GenerationRequest

    p = ctx.job.params
    generator = models.get(Path(p["model"]) if p.get("model") else None)
    bundle = generator.bundle
    request = GenerationRequest(text=p["text"], seconds=float(p["seconds"]), samples=int(p["samples"]),
                                seed=p.get("seed"))
    request.steps, request.guidance = bundle.sampling.fill(request.steps, request.guidance)
    request.validate(bundle.diffusion_steps, bundle.window_frames)
    ctx.report("sampling", 1, force=True)
    motions = generator.generate(request, lambda done, total: ctx.report("sampling", 1 + 89 * done / max(total, 1)))
    ctx.report("outputs", 92, force=True)
    write_outputs(motions, work, text=p["text"], video=bool(p.get("video", False)))
