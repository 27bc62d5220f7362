"""The /api/v1 endpoints. Handlers check what they are given and talk to the store; the work itself runs in
worker processes (`workers`), never here. Errors are JSON `{"detail": "a sentence a person understands"}`."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Body, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from choreo.api.jobs import job_dir, output_file, public_files, song_file
from choreo.api.models import find_models, model_by_id
from choreo.api.settings import ServiceSettings
from choreo.api.store import DONE, FAILED, FINAL, Job, JobStore
from choreo.api.uploads import CONTENT_TYPES, check_song, display_name, store_upload
from choreo.errors import ChoreoError

router = APIRouter(prefix="/api/v1")
MAX_SEED = 2**32 - 1
MAX_PROMPT = 500
DANCE_KINDS = ("dance", "regenerate")
NOT_FOUND = {404: {"description": "no such job (or file)"}}
ENDED = {409: {"description": "the job has already ended"}}
UPLOAD_ERRORS = {413: {"description": "the upload is over the size limit (refused while it arrives)"},
                 422: {"description": "not a song we can use, or a parameter out of range"}}
TYPES = {".json": "application/json", ".glb": "model/gltf-binary", ".bvh": "text/plain; charset=utf-8",
         ".mp4": "video/mp4", ".png": "image/png", ".npy": "application/octet-stream",
         ".txt": "text/plain; charset=utf-8"}


def _settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


def _store(request: Request) -> JobStore:
    return request.app.state.store


def _public(request: Request, job: Job) -> dict:
    data = job.public()
    data["files"] = public_files(_settings(request), job)
    return data


def _job(request: Request, job_id: str, kinds: tuple[str, ...]) -> Job:
    job = _store(request).get(job_id) if len(job_id) == 32 else None
    if job is None or job.kind not in kinds:
        what = "motion" if kinds == ("motion",) else "choreography"
        raise HTTPException(404, f"no {what} job with id {job_id!r}")
    return job


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise HTTPException(422, message)


async def _accept_song(request: Request, song: UploadFile, folder: Path) -> str:
    """Store and decode the upload into `folder` (removed again if it is no song); returns its shown name."""
    settings = _settings(request)
    shown = display_name(song.filename)
    try:
        path = await run_in_threadpool(store_upload, song.file, folder, song.filename)
        await run_in_threadpool(check_song, path, shown, settings.max_song_minutes)
    except ChoreoError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise HTTPException(422, f"not a song we can use: {exc}") from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return shown


def _parse_json_field(name: str, text: str | None) -> object:
    if text is None or not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise HTTPException(422, f"{name}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") \
            from None


def _check_dance_fields(members: int, style: str, prompt: str | None, section_prompts: object,
                        formations: str | None, plan: object) -> tuple[list[str] | None, dict | None]:
    from choreo.choreography.formations import formation_spots
    from choreo.choreography.plan import Plan
    from choreo.choreography.styles import STYLES

    _check(1 <= members <= 12, f"members must be between 1 and 12, got {members}")
    _check(style in STYLES, f"unknown style {style!r}; valid styles: {', '.join(STYLES)}")
    _check(prompt is None or len(prompt) <= MAX_PROMPT, f"prompt: at most {MAX_PROMPT} characters")
    if section_prompts is not None:
        _check(isinstance(section_prompts, dict) and all(isinstance(k, str) and isinstance(v, str) and
                                                         len(v) <= MAX_PROMPT for k, v in section_prompts.items()),
               "section_prompts must be a JSON object of section kind, label or index -> prompt text")
    names = None
    if formations:
        names = [n.strip() for n in formations.split(",") if n.strip()]
        for name in names:
            try:
                formation_spots(name, members)
            except ChoreoError as exc:
                raise HTTPException(422, f"formations: {exc}") from None
    plan_dict = None
    if plan is not None:
        try:
            Plan.from_dict(plan)
        except ChoreoError as exc:
            raise HTTPException(422, f"plan: {exc}") from None
        plan_dict = plan
    return names, plan_dict


@router.post("/choreographies", status_code=202, summary="Dance a song: upload it and a few wishes",
             responses={202: {"description": "queued: `{\"id\", \"status\"}`"}, **UPLOAD_ERRORS})
async def create_choreography(
    request: Request,
    song: Annotated[UploadFile, File(description="the song: WAV, FLAC, OGG, MP3, M4A/AAC, ...")],
    members: Annotated[int, Form(ge=1, le=12, description="group size")] = 5,
    style: Annotated[str, Form(description="kpop, hiphop, girl-crush, cute or ballad")] = "kpop",
    prompt: Annotated[str | None, Form(description="your own wording for every section")] = None,
    seed: Annotated[int, Form(ge=0, le=MAX_SEED, description="the same inputs and seed give the same dance")] = 0,
    section_prompts: Annotated[str | None, Form(description="JSON object: kind, label or index -> prompt")] = None,
    formations: Annotated[str | None, Form(description="comma-separated formation names, e.g. v,two_rows")] = None,
    plan: Annotated[str | None, Form(description="an edited plan.json to dance as written")] = None,
    model: Annotated[str | None, Form(description="a model id from GET /models (default: the service's)")] = None,
    point_move: Annotated[str | None, Form(description="a move from GET /moves, placed on bar 1 (5, 9, ...) of "
                                                       "every chorus")] = None,
) -> JSONResponse:
    """202 with the new job's id. The song is decoded (and its length checked) before the job is accepted."""
    prompts = _parse_json_field("section_prompts", section_prompts)
    plan_data = _parse_json_field("plan", plan)
    names, plan_dict = _check_dance_fields(members, style, prompt, prompts, formations, plan_data)
    model_path = _model_path(request, model)
    if point_move:
        _check(point_move in _library(request), f"unknown point move {point_move!r}; the library holds: "
                                                f"{', '.join(_library(request).names()) or 'nothing yet'}")
    store = _store(request)
    job_id = store.new_id()
    folder = job_dir(_settings(request), job_id)
    shown = await _accept_song(request, song, folder)
    params = {"members": members, "style": style, "prompt": prompt or None, "seed": seed,
              "section_prompts": prompts, "formations": names, "plan": plan_dict, "model": model_path,
              "point_move": point_move or None}
    job = _queue(request, "dance", params, song_name=shown, job_id=job_id)
    return JSONResponse({"id": job.id, "status": job.status}, status_code=202,
                        headers={"location": f"/api/v1/choreographies/{job.id}"})


def _queue(request: Request, *args, **kwargs) -> Job:  # noqa: ANN002, ANN003 - JobStore.create's
    job = _store(request).create(*args, **kwargs)
    request.app.state.pool.notify()
    return job


def _model_path(request: Request, model_id: str | None) -> str | None:
    if not model_id:
        return None
    found = model_by_id(_settings(request), model_id)
    if found is None:
        ids = ", ".join(m["id"] for m in find_models(_settings(request)))
        raise HTTPException(422, f"unknown model {model_id!r}; available: {ids}")
    return found["path"]


def _page(request: Request, kinds: tuple[str, ...], page: int, per_page: int) -> dict:
    items, total = _store(request).list(page, per_page, kinds=kinds)
    return {"items": [_public(request, j) for j in items], "page": page, "per_page": per_page, "total": total}


@router.get("/choreographies", summary="The choreography jobs, newest first")
def list_choreographies(request: Request, page: Annotated[int, Query(ge=1)] = 1,
                        per_page: Annotated[int, Query(ge=1, le=100)] = 20) -> dict:
    return _page(request, DANCE_KINDS, page, per_page)


@router.get("/choreographies/{job_id}", summary="A choreography job: status, stage, progress, files",
            responses=NOT_FOUND)
def get_choreography(request: Request, job_id: str) -> dict:
    return _public(request, _job(request, job_id, DANCE_KINDS))


def _cancel(request: Request, job_id: str, kinds: tuple[str, ...]) -> dict:
    job = _job(request, job_id, kinds)
    if job.status in FINAL:
        raise HTTPException(409, f"job {job_id} has already ended ({job.status}); nothing to cancel")
    return _public(request, _store(request).request_cancel(job_id) or job)


@router.post("/choreographies/{job_id}/cancel", summary="Stop a queued or running job",
             responses={**NOT_FOUND, **ENDED})
def cancel_choreography(request: Request, job_id: str) -> dict:
    return _cancel(request, job_id, DANCE_KINDS)


def _delete(request: Request, job_id: str, kinds: tuple[str, ...]) -> dict:
    job = _job(request, job_id, kinds)
    store = _store(request)
    if job.status not in FINAL:
        store.request_cancel(job_id)  # its worker sees the record vanish and stops
    store.delete(job_id)
    shutil.rmtree(job_dir(_settings(request), job_id), ignore_errors=True)
    return {"id": job_id, "deleted": True}


@router.delete("/choreographies/{job_id}", summary="Remove a job and its files", responses=NOT_FOUND)
def delete_choreography(request: Request, job_id: str) -> dict:
    return _delete(request, job_id, DANCE_KINDS)


class RegenerateRequest(BaseModel):
    prompt: str | None = Field(None, min_length=1, max_length=MAX_PROMPT, description="the section's new prompt")
    formation: str | None = Field(None, description="the section's new formation")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="default: a new random seed")


@router.post("/choreographies/{job_id}/sections/{index}/regenerate", status_code=202,
             summary="Dance one section anew; every other frame stays identical (a new job)",
             responses={202: {"description": "queued: `{\"id\", \"status\", \"parent\"}`"}, **NOT_FOUND,
                        409: {"description": "the job is not done (or its files are gone)"}})
async def regenerate_section(request: Request, job_id: str, index: int,
                             body: Annotated[RegenerateRequest | None, Body()] = None) -> JSONResponse:
    from choreo.choreography.formations import formation_spots
    from choreo.choreography.plan import Plan

    body = body or RegenerateRequest()
    parent = _job(request, job_id, DANCE_KINDS)
    if parent.status != DONE:
        raise HTTPException(409, f"job {job_id} is {parent.status}: only a finished choreography can be edited")
    settings = _settings(request)
    files = job_dir(settings, job_id) / "files"
    try:
        plan = Plan.load(files / "plan.json")
    except ChoreoError as exc:
        raise HTTPException(409, f"the choreography's plan cannot be read: {exc}") from None
    _check(0 <= index < len(plan.sections), f"section {index}: the choreography has sections "
                                            f"0..{len(plan.sections) - 1}")
    if body.formation is not None:
        try:
            formation_spots(body.formation, plan.members)
        except ChoreoError as exc:
            raise HTTPException(422, f"formation: {exc}") from None
    params = {"section": index, "prompt": body.prompt, "formation": body.formation,
              "seed": body.seed if body.seed is not None else random.randrange(MAX_SEED),
              "model": parent.params.get("model")}
    return await queue_regenerate(request, parent, params)


async def queue_regenerate(request: Request, parent: Job, params: dict) -> JSONResponse:
    """202: a "regenerate" job of the finished `parent` (its own copy of the song) with `params` (section, and
    what changes in it: prompt, formation, points; seed, model)."""
    settings = _settings(request)
    song = song_file(job_dir(settings, parent.id))
    if song is None:
        raise HTTPException(409, "the choreography's song is missing")
    store = _store(request)
    new_id = store.new_id()
    folder = job_dir(settings, new_id)
    folder.mkdir(parents=True)
    await run_in_threadpool(shutil.copyfile, song, folder / song.name)  # the new job owns its song
    job = _queue(request, "regenerate", params, song_name=parent.song_name, parent=parent.id, job_id=new_id)
    return JSONResponse({"id": job.id, "status": job.status, "parent": parent.id}, status_code=202,
                        headers={"location": f"/api/v1/choreographies/{job.id}"})


def _file(request: Request, job_id: str, name: str, kinds: tuple[str, ...]) -> FileResponse:
    job = _job(request, job_id, kinds)
    path = output_file(_settings(request), job, name)
    if path is None:
        have = ", ".join(public_files(_settings(request), job)) or "none yet"
        raise HTTPException(404, f"job {job_id} has no file {name!r} (files: {have})")
    ext = path.suffix.lower()
    media = CONTENT_TYPES.get(ext.lstrip(".")) if path.name.startswith("song.") else TYPES.get(ext)
    return FileResponse(path, media_type=media or "application/octet-stream", filename=path.name,
                        content_disposition_type="inline")


@router.get("/choreographies/{job_id}/files/{name}", summary="Download one output (or the song)",
            responses={**NOT_FOUND, 206: {"description": "the bytes of a range request"}})
def get_choreography_file(request: Request, job_id: str, name: str) -> FileResponse:
    return _file(request, job_id, name, DANCE_KINDS)


def _sse(event: str, data: dict, n: int) -> bytes:
    return f"id: {n}\nevent: {event}\ndata: {json.dumps(data)}\n\n".encode()


def _events(request: Request, job_id: str, kinds: tuple[str, ...]) -> StreamingResponse:
    _job(request, job_id, kinds)  # 404 before the stream starts
    store = _store(request)

    async def stream():  # noqa: ANN202
        last = None
        n = 0
        quiet_since = time.monotonic()
        while True:
            job = await run_in_threadpool(store.get, job_id)
            if job is None:
                n += 1
                yield _sse("deleted", {"id": job_id}, n)
                return
            data = _public(request, job)
            key = (job.status, job.stage, round(job.progress, 1))
            if key != last:
                last = key
                n += 1
                quiet_since = time.monotonic()
                yield _sse("progress", data, n)
            if job.status in FINAL:
                n += 1
                yield _sse(job.status, data, n)
                return
            if time.monotonic() - quiet_since > 15:
                quiet_since = time.monotonic()
                yield b": still working\n\n"  # keeps proxies from closing a quiet stream
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.25)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"cache-control": "no-cache", "x-accel-buffering": "no"})


@router.get("/choreographies/{job_id}/events", summary="Live progress as server-sent events",
            responses={200: {"description": "text/event-stream"}, **NOT_FOUND})
def choreography_events(request: Request, job_id: str) -> StreamingResponse:
    """`event: progress` with the job on every change; the last event is named after the final status
    (`done`, `failed`, `cancelled`; `deleted` if the job is removed)."""
    return _events(request, job_id, DANCE_KINDS)


class MotionRequest(BaseModel):
    text: str = Field(..., min_length=1, max_length=MAX_PROMPT, description="what the dancer does")
    seconds: float = Field(6.0, ge=0.5, le=600.0)
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    samples: int = Field(1, ge=1, le=8)
    video: bool = Field(False, description="also write preview.mp4")
    wait: bool = Field(True, description="for a short request (seconds × samples ≤ 30, no video), answer with the "
                                         "motion when it is ready")
    model: str | None = Field(None, description="a model id from GET /models")


@router.post("/motions", summary="Text to dance: a short motion (the result at once when it is quick)",
             responses={200: {"description": "done: the job with its motions"},
                        202: {"description": "queued: follow it at /motions/{id}"}})
async def create_motion(request: Request, body: MotionRequest) -> JSONResponse:
    settings = _settings(request)
    _check(bool(body.text.strip()), "text is empty: say what the dancer does, e.g. 'a person dances salsa'")
    _check(body.seconds <= settings.max_motion_seconds,
           f"seconds: at most {settings.max_motion_seconds:g} here (for a whole song, POST /choreographies)")
    params = {"text": body.text.strip(), "seconds": body.seconds, "seed": body.seed, "samples": body.samples,
              "video": body.video, "model": _model_path(request, body.model)}
    store = _store(request)
    job = _queue(request, "motion", params, priority=1)
    short = body.wait and body.seconds * body.samples <= 30 and not body.video
    deadline = time.monotonic() + settings.motion_wait_seconds
    while short and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        if await request.is_disconnected():
            break
        current = await run_in_threadpool(store.get, job.id)
        if current is None or current.status in FINAL:
            break
    current = store.get(job.id) or job
    if current.status == DONE:
        return JSONResponse({**_public(request, current), "motions": _motion_results(settings, current)})
    if current.status == FAILED:
        return JSONResponse({**_public(request, current), "detail": current.error}, status_code=422)
    return JSONResponse({"id": job.id, "status": current.status}, status_code=202,
                        headers={"location": f"/api/v1/motions/{job.id}"})


def _motion_results(settings: ServiceSettings, job: Job) -> list[dict]:
    folder = job_dir(settings, job.id) / "files"
    return [json.loads((folder / n).read_text()) for n in sorted(job.files)
            if n.startswith("motion") and n.endswith(".json")]


@router.get("/motions", summary="The text-to-dance jobs, newest first")
def list_motions(request: Request, page: Annotated[int, Query(ge=1)] = 1,
                 per_page: Annotated[int, Query(ge=1, le=100)] = 20) -> dict:
    return _page(request, ("motion",), page, per_page)


@router.get("/motions/{job_id}", summary="A text-to-dance job (with its motions once done)", responses=NOT_FOUND)
def get_motion(request: Request, job_id: str) -> dict:
    job = _job(request, job_id, ("motion",))
    data = _public(request, job)
    if job.status == DONE:
        data["motions"] = _motion_results(_settings(request), job)
    return data


@router.get("/motions/{job_id}/files/{name}", summary="Download one output of a text-to-dance job")
def get_motion_file(request: Request, job_id: str, name: str) -> FileResponse:
    return _file(request, job_id, name, ("motion",))


@router.get("/motions/{job_id}/events", summary="Live progress of a text-to-dance job (server-sent events)")
def motion_events(request: Request, job_id: str) -> StreamingResponse:
    return _events(request, job_id, ("motion",))


@router.post("/motions/{job_id}/cancel", summary="Stop a text-to-dance job")
def cancel_motion(request: Request, job_id: str) -> dict:
    return _cancel(request, job_id, ("motion",))


@router.delete("/motions/{job_id}", summary="Remove a text-to-dance job and its files")
def delete_motion(request: Request, job_id: str) -> dict:
    return _delete(request, job_id, ("motion",))


def _library(request: Request):  # noqa: ANN202 - a MoveLibrary
    from choreo.choreography.moves import MoveLibrary

    return MoveLibrary(_settings(request).data_dir / "moves")


@router.get("/moves", summary="The point-move library (add moves with `choreo moves add`)")
def list_moves(request: Request) -> dict:
    """Each move's name, kind (motion or key poses), length in beats, own tempo and source."""
    return {"moves": [{"name": m.name, "kind": m.kind, "beats": m.beats, "bpm": m.bpm, "source": m.source,
                       "frames": len(m.joints)} for m in _library(request).moves()]}


@router.get("/models", summary="The models this service can use, with their cards")
def list_models(request: Request) -> dict:
    return {"models": find_models(_settings(request))}


@router.post("/analyze", summary="A song in, its analysis out (tempo, beats, bars, sections, energy)",
             responses=UPLOAD_ERRORS)
async def analyze_song(request: Request, song: Annotated[UploadFile, File()]) -> dict:
    from choreo.music.analyze import analyze_file

    settings = _settings(request)
    scratch = settings.data_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=scratch))
    try:
        shown = await _accept_song(request, song, folder)
        path = song_file(folder)
        try:
            async with request.app.state.analysis_slots:  # analysis is CPU work: a few at a time
                analysis = await run_in_threadpool(analyze_file, path, max_seconds=settings.max_song_minutes * 60)
        except ChoreoError as exc:
            raise HTTPException(422, str(exc).replace(str(path), shown)) from None
        data = analysis.song.to_dict()
        data["source"] = shown
        return data
    finally:
        shutil.rmtree(folder, ignore_errors=True)
