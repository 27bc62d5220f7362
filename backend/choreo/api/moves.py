"""The point-move endpoints: the library (a move from a span of a finished dance or from an uploaded file; delete)
and a dance's placements (a section's plan `points`), each edit danced as a new "regenerate" job of that one
section, as `POST .../sections/{k}/regenerate` does: every other frame stays identical.

Handlers read the job's files, check everything a placement can get wrong (unknown move, past the section's or
song's end, longer than its section, overlapping, where the section joins its neighbours) and answer 4xx with
one sentence; the dancing runs in the workers. Imports only numpy-side choreography modules (no torch here).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from choreo.api.jobs import edit_section, job_dir
from choreo.api.routes import DANCE_KINDS, MAX_SEED, NOT_FOUND, _job, _library, _settings, queue_regenerate
from choreo.api.store import DONE, Job
from choreo.api.uploads import display_name
from choreo.errors import ChoreoError

router = APIRouter(prefix="/api/v1")
MOVE_SUFFIXES = ("bvh", "json", "npz", "npy")  # what move_from_file reads without unpickling
MAX_MOVE_MB = 16.0
_FLAGS = re.compile(r"--(start|end|bpm|member|section|clip)\b")
EDIT_ERRORS = {**NOT_FOUND, 409: {"description": "the job is not done (or its files are gone)"},
               422: {"description": "a placement that cannot be danced: unknown move, past the section's or the "
                                    "song's end, longer than its section, overlapping, at the section's edge"}}


def _api_words(message: str) -> str:
    """The library's messages name command-line flags (--start); here they are fields (start)."""
    return _FLAGS.sub(r"\1", message)


def _summary(move) -> dict:  # noqa: ANN001 - a Move
    return {"name": move.name, "kind": move.kind, "beats": move.beats, "bpm": move.bpm, "source": move.source,
            "frames": len(move.joints)}


def _finished(request: Request, job_id: str) -> tuple[Job, Path]:
    job = _job(request, job_id, DANCE_KINDS)
    if job.status != DONE:
        raise HTTPException(409, f"job {job_id} is {job.status}: only a finished choreography can be edited")
    files = job_dir(_settings(request), job_id) / "files"
    if not (files / "choreography.json").is_file() or not (files / "plan.json").is_file():
        raise HTTPException(409, f"job {job_id} has lost its files (choreography.json, plan.json)")
    return job, files


def _new_name(request: Request, name: str, force: bool) -> None:
    from choreo.choreography.moves import check_name

    try:
        check_name(name)
    except ChoreoError as exc:
        raise HTTPException(422, str(exc)) from None
    if name in _library(request) and not force:
        raise HTTPException(409, f"a move named {name!r} exists already; send force to replace it, or choose "
                                 "another name")


def _store_move(request: Request, move, force: bool) -> JSONResponse:  # noqa: ANN001 - a Move
    try:
        _library(request).add(move, force=force)
    except ChoreoError as exc:
        raise HTTPException(500, str(exc)) from None
    return JSONResponse(_summary(move), status_code=201, headers={"location": f"/api/v1/moves/{move.name}"})


# ---------------------------------------------------------------- the library


class SpanMoveRequest(BaseModel):
    name: str = Field(..., description="the new move's name: a letter or digit, then letters, digits, - or _ "
                                       "(at most 48)")
    member: int | str = Field(1, description="whose motion: a member number from 1, or a name")
    start: float | None = Field(None, ge=0, description="the span's start, seconds from the song's start (put it "
                                                        "on a beat: it is the move's beat 1)")
    end: float | None = Field(None, gt=0, description="the span's end, seconds")
    start_bar: int | None = Field(None, ge=1, description="or: the span's first bar of the song (from 1, as the "
                                                          "studio's timeline numbers them)")
    end_bar: int | None = Field(None, ge=1, description="and its last bar (included)")
    bpm: float | None = Field(None, description="the move's tempo; default: the song's")
    force: bool = Field(False, description="replace a move of the same name")


@router.post("/choreographies/{job_id}/moves", status_code=201,
             summary="Add a move to the library: one member's span of this dance",
             responses={201: {"description": "the move: `{name, kind, beats, bpm, source, frames}`"}, **NOT_FOUND,
                        409: {"description": "the name is taken (without force), or the job is not done"},
                        422: {"description": "a bad name, member or span"}})
async def create_move_from_dance(request: Request, job_id: str, body: SpanMoveRequest) -> JSONResponse:
    from choreo.choreography.moves import move_from_file
    from choreo.music.song import Song

    _, files = _finished(request, job_id)
    _new_name(request, body.name, body.force)
    seconds = body.start is not None or body.end is not None
    bars = body.start_bar is not None or body.end_bar is not None
    if seconds == bars:
        raise HTTPException(422, "give the span as start and end (seconds) or as start_bar and end_bar, one of "
                                 "the two")
    start, end = body.start, body.end
    if bars:
        if body.start_bar is None or body.end_bar is None or body.end_bar < body.start_bar:
            raise HTTPException(422, "start_bar and end_bar: both, the end not before the start")
        song = Song.load(files / "analysis.json")
        downs = [float(d) for d in song.downbeats]
        if body.start_bar > len(downs):
            raise HTTPException(422, f"start_bar {body.start_bar}: the song has {len(downs)} bars")
        if body.end_bar > len(downs):
            raise HTTPException(422, f"end_bar {body.end_bar}: the song has {len(downs)} bars")
        start = downs[body.start_bar - 1]
        end = downs[body.end_bar] if body.end_bar < len(downs) else song.duration
    try:
        move = await run_in_threadpool(move_from_file, body.name, files / "choreography.json",
                                       member=str(body.member), start=start, end=end, bpm=body.bpm)
    except ChoreoError as exc:
        raise HTTPException(422, _api_words(str(exc))) from None
    span = f"{start or 0.0:.2f}-{end:.2f} s" if end is not None else f"from {start or 0.0:.2f} s"
    move.source = f"job {job_id}, member {body.member}, {span}"
    return await run_in_threadpool(_store_move, request, move, body.force)


async def _save_capped(upload: UploadFile, path: Path, limit: int) -> None:
    size = 0
    with open(path, "wb") as out:
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise HTTPException(413, f"the move file is larger than {limit / (1024 * 1024):g} MB; a move is a "
                                         "few seconds of motion")
            out.write(chunk)


@router.post("/moves", status_code=201, summary="Add a move to the library from a motion file",
             responses={201: {"description": "the move: `{name, kind, beats, bpm, source, frames}`"},
                        409: {"description": "the name is taken (without force)"},
                        413: {"description": f"the file is over {MAX_MOVE_MB:g} MB"},
                        422: {"description": "a bad name, a file that is no motion, a bad span or tempo"}})
async def create_move(
    request: Request,
    name: Annotated[str, Form(description="the new move's name (letters, digits, - or _)")],
    file: Annotated[UploadFile, File(description="BVH, motion JSON (motion.json, a choreography.json, key poses "
                                                 "choreo-key-poses/1) or NPZ/NPY joints; never unpickled")],
    start: Annotated[float | None, Form(ge=0, description="crop: start, seconds")] = None,
    end: Annotated[float | None, Form(gt=0, description="crop: end, seconds")] = None,
    bpm: Annotated[float | None, Form(description="the move's tempo (default: detected from the motion)")] = None,
    member: Annotated[str | None, Form(description="a choreography.json's member (number from 1 or name)")] = None,
    section: Annotated[int | None, Form(ge=0, description="a choreography.json's section index")] = None,
    clip: Annotated[int, Form(ge=0, description="which clip of a file that holds several")] = 0,
    force: Annotated[bool, Form(description="replace a move of the same name")] = False,
) -> JSONResponse:
    from choreo.choreography.moves import move_from_file

    _new_name(request, name, force)
    shown = display_name(file.filename)
    suffix = Path(shown).suffix.lower().lstrip(".")
    if suffix not in MOVE_SUFFIXES:
        raise HTTPException(422, f"{shown}: a move file is {', '.join('.' + s for s in MOVE_SUFFIXES)}")
    scratch = _settings(request).data_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=scratch))
    try:
        path = folder / f"move.{suffix}"  # our own name: the client's is for messages only
        await _save_capped(file, path, int(MAX_MOVE_MB * 1024 * 1024))
        try:
            move = await run_in_threadpool(move_from_file, name, path, start=start, end=end, bpm=bpm,
                                           member=member, section=section, clip=clip, allow_pickle=False)
        except ChoreoError as exc:
            raise HTTPException(422, _api_words(str(exc).replace(str(path), shown).replace(path.name, shown))) \
                from None
        move.source = shown
        return await run_in_threadpool(_store_move, request, move, force)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _library_holding(request: Request, name: str):  # noqa: ANN202 - the MoveLibrary
    """The library, or 404 naming what it holds when it has no move `name`."""
    library = _library(request)
    if name not in library:
        raise HTTPException(404, f"no move named {name!r}; the library holds: "
                                 f"{', '.join(library.names()) or 'nothing yet'}")
    return library


@router.get("/moves/{name}", summary="One move of the library, joints included (its choreo-move/1 file)",
            responses={404: {"description": "no such move"}})
def get_move(request: Request, name: str) -> dict:
    library = _library_holding(request, name)
    return library.get(name).to_dict()


@router.delete("/moves/{name}", summary="Remove a move from the library",
               responses={404: {"description": "no such move"}})
def delete_move(request: Request, name: str) -> dict:
    library = _library_holding(request, name)
    library.remove(name)
    return {"name": name, "deleted": True}


# ---------------------------------------------------------------- placements on a dance


class Point(BaseModel):
    move: str = Field(..., description="a move of the library")
    beats: list[int] | None = Field(None, description="the section's beats it starts on, from 1")
    bars: list[int] | None = Field(None, description="or: the section's bars it starts on, from 1")
    members: list[int] | None = Field(None, description="who dances it, numbers from 1; null: everyone")

    def plan_dict(self) -> dict:
        out = {"move": self.move, "members": self.members}
        if self.bars:
            out["bars"] = list(self.bars)
        if self.beats or not self.bars:
            out["beats"] = list(self.beats or [])
        return out


class PointsRequest(BaseModel):
    points: list[Point] = Field(..., description="the section's placements after the edit ([] removes them all)")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="default: the dance's own seed (the section "
                                                                  "keeps its material; the moves are danced in)")
    dry_run: bool = Field(False, description="check only: answer 200 with the placements as they would be danced")


class AddPointRequest(Point):
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="default: the dance's own seed")
    dry_run: bool = Field(False, description="check only")


def _point_dicts(points) -> list[dict]:  # noqa: ANN001 - PointPlans
    out = []
    for p in points:
        d = {"move": p.move, "members": None if p.members is None else list(p.members)}
        d["bars" if p.bars else "beats"] = list(p.bars or p.beats)
        out.append(d)
    return out


def _edited_points(request: Request, job_id: str, index: int, change) -> tuple[Job, int, list[dict], list]:  # noqa: ANN001
    """The job's plan with section `index`'s points changed by `change(current) -> new` and checked against the
    song and the library: (parent, index, the new points, the section's placements). HTTPException on a mistake."""
    from choreo.choreography.plan import Plan, validate_plan
    from choreo.choreography.points import check_regenerate_room, move_names, resolve_points
    from choreo.music.song import Song

    parent, files = _finished(request, job_id)
    try:
        plan = Plan.load(files / "plan.json")
        song = Song.load(files / "analysis.json")
    except ChoreoError as exc:
        raise HTTPException(409, f"the choreography's plan or analysis cannot be read: {exc}") from None
    if not 0 <= index < len(plan.sections):
        raise HTTPException(422, f"section {index}: the choreography has sections 0..{len(plan.sections) - 1}")
    points = change(_point_dicts(plan.sections[index].points))
    data = edit_section(plan, index, None, None).to_dict()
    data["sections"][index]["points"] = points
    library = _library(request)
    try:
        edited = Plan.from_dict(data)
        unknown = [n for n in move_names(edited) if n not in library]
        if unknown:
            raise ChoreoError(f"unknown move {unknown[0]!r}; the library holds: "
                              f"{', '.join(library.names()) or 'nothing yet'}")
        moves = {n: library.get(n) for n in move_names(edited)}
        validate_plan(edited, song, moves=moves)
        placements = resolve_points(song, edited, moves)
        check_regenerate_room(song, edited, index, placements)
    except ChoreoError as exc:
        raise HTTPException(422, str(exc)) from None
    return parent, index, points, [p for p in placements if p.section == index]


async def _answer(request: Request, edit: tuple, seed: int | None, dry_run: bool) -> JSONResponse:
    from choreo.music.song import Song

    parent, index, points, placements = edit
    if dry_run:
        song = Song.load(job_dir(_settings(request), parent.id) / "files" / "analysis.json")
        return JSONResponse({"section": index, "points": points,
                             "placements": [p.to_dict(song.tempo) for p in placements]})
    params = {"section": index, "points": points, "seed": seed, "model": parent.params.get("model")}
    return await queue_regenerate(request, parent, params)


@router.put("/choreographies/{job_id}/sections/{index}/points", status_code=202,
            summary="Set a section's point moves and dance it again (a new job; other frames stay identical)",
            responses={202: {"description": "queued: `{\"id\", \"status\", \"parent\"}`"},
                       200: {"description": "dry_run: `{section, points, placements}`"}, **EDIT_ERRORS})
async def set_points(request: Request, job_id: str, index: int, body: PointsRequest) -> JSONResponse:
    new = [p.plan_dict() for p in body.points]
    edit = await run_in_threadpool(_edited_points, request, job_id, index, lambda _: new)
    return await _answer(request, edit, body.seed, body.dry_run)


@router.post("/choreographies/{job_id}/sections/{index}/points", status_code=202,
             summary="Place a move on a section's beats or bars and dance the section again (a new job)",
             responses={202: {"description": "queued: `{\"id\", \"status\", \"parent\"}`"},
                        200: {"description": "dry_run: `{section, points, placements}`"}, **EDIT_ERRORS})
async def add_point(request: Request, job_id: str, index: int, body: AddPointRequest) -> JSONResponse:
    new = Point(move=body.move, beats=body.beats, bars=body.bars, members=body.members).plan_dict()
    edit = await run_in_threadpool(_edited_points, request, job_id, index, lambda old: [*old, new])
    return await _answer(request, edit, body.seed, body.dry_run)


@router.delete("/choreographies/{job_id}/sections/{index}/points/{point}", status_code=202,
               summary="Remove a section's placement (its index in the section's points) and dance it again",
               responses={202: {"description": "queued: `{\"id\", \"status\", \"parent\"}`"}, **EDIT_ERRORS})
async def remove_point(request: Request, job_id: str, index: int, point: int,
                       seed: Annotated[int | None, Query(ge=0, le=MAX_SEED)] = None) -> JSONResponse:
    def change(old: list[dict]) -> list[dict]:
        if not 0 <= point < len(old):
            raise HTTPException(404, f"section {index} has {len(old)} placement{'s' if len(old) != 1 else ''}; "
                                     f"there is no placement {point}")
        return old[:point] + old[point + 1:]

    edit = await run_in_threadpool(_edited_points, request, job_id, index, change)
    return await _answer(request, edit, seed, False)
