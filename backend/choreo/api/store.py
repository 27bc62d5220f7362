"""Job records, through SQLAlchemy Core: SQLite by default (WAL, so the server and its workers write side by
side), any other database by URL. Every state change is one transaction; a job moves
queued → running → done | failed | cancelled, and back to queued only when its worker died (`recover`).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINAL = (DONE, FAILED, CANCELLED)
KINDS = ("dance", "regenerate", "motion")

metadata = MetaData()
jobs = Table(
    "jobs", metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("stage", String(64), nullable=False, default=""),
    Column("progress", Float, nullable=False, default=0.0),
    Column("error", Text),
    Column("params", Text, nullable=False),  # JSON: what the job was asked
    Column("song_name", String(255)),  # the uploaded file's own name, for people only (never a path)
    Column("parent", String(32)),
    Column("priority", Integer, nullable=False, default=0),  # short motions go before dances
    Column("created", Float, nullable=False),
    Column("started", Float),
    Column("finished", Float),
    Column("attempts", Integer, nullable=False, default=0),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("owner", String(128)),  # "host:pid" of the worker running it
    Column("heartbeat", Float),
    Column("files", Text),  # JSON list of output names, set when done
)


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    id: str
    kind: str
    status: str
    stage: str
    progress: float
    error: str | None
    params: dict
    song_name: str | None
    parent: str | None
    created: float
    started: float | None = None
    finished: float | None = None
    attempts: int = 0
    cancel_requested: bool = False
    owner: str | None = None
    heartbeat: float | None = None
    files: list[str] = field(default_factory=list)

    def public(self) -> dict:
        """What a client sees (GET /choreographies/{id})."""
        return {"id": self.id, "kind": self.kind, "status": self.status, "stage": self.stage,
                "progress": round(self.progress, 1), "error": self.error, "created": _iso(self.created),
                "started": _iso(self.started), "finished": _iso(self.finished), "parent": self.parent,
                "song_name": self.song_name, "params": self.params, "attempts": self.attempts,
                "files": self.files}


def _row_to_job(row) -> Job:  # noqa: ANN001
    m = row._mapping
    return Job(id=m["id"], kind=m["kind"], status=m["status"], stage=m["stage"] or "",
               progress=float(m["progress"] or 0.0), error=m["error"], params=json.loads(m["params"]),
               song_name=m["song_name"], parent=m["parent"], created=m["created"], started=m["started"],
               finished=m["finished"], attempts=int(m["attempts"] or 0),
               cancel_requested=bool(m["cancel_requested"]), owner=m["owner"], heartbeat=m["heartbeat"],
               files=json.loads(m["files"]) if m["files"] else [])


def this_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_is_dead(owner: str | None) -> bool:
    """True when `owner` ran on this host and its process is gone (another host's owner: unknown, False)."""
    if not owner or ":" not in owner:
        return True
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a killed worker whose parent died too may linger as a zombie nobody reaps: that is dead
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


class JobStore:
    def __init__(self, url: str) -> None:
        self.url = url
        sqlite = url.startswith("sqlite")
        self.engine: Engine = create_engine(url, connect_args={"timeout": 30} if sqlite else {},
                                            pool_pre_ping=not sqlite)
        if sqlite:
            @event.listens_for(self.engine, "connect")
            def _pragmas(conn, _record) -> None:  # noqa: ANN001
                cur = conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as c:
            rows = c.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status)).all()
        return {status: int(n) for status, n in rows}

    # -- records -------------------------------------------------------------------------------------------
    def create(self, kind: str, params: dict, *, song_name: str | None = None, parent: str | None = None,
               priority: int = 0, job_id: str | None = None) -> Job:
        if kind not in KINDS:
            raise ValueError(f"unknown job kind {kind!r}")
        job = Job(id=job_id or uuid.uuid4().hex, kind=kind, status=QUEUED, stage="queued", progress=0.0,
                  error=None, params=params, song_name=song_name, parent=parent, created=time.time())
        with self.engine.begin() as c:
            c.execute(jobs.insert().values(id=job.id, kind=kind, status=QUEUED, stage=job.stage, progress=0.0,
                                           params=json.dumps(params), song_name=song_name, parent=parent,
                                           priority=priority, created=job.created, attempts=0,
                                           cancel_requested=False))
        return job

    def get(self, job_id: str) -> Job | None:
        with self.engine.connect() as c:
            row = c.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return None if row is None else _row_to_job(row)

    def list(self, page: int = 1, per_page: int = 20, kinds: tuple[str, ...] = KINDS) -> tuple[list[Job], int]:
        q = select(jobs).where(jobs.c.kind.in_(kinds))
        n = select(func.count()).select_from(jobs).where(jobs.c.kind.in_(kinds))
        with self.engine.connect() as c:
            rows = c.execute(q.order_by(jobs.c.created.desc()).offset((page - 1) * per_page).limit(per_page)).all()
            total = int(c.execute(n).scalar_one())
        return [_row_to_job(r) for r in rows], total

    def delete(self, job_id: str) -> bool:
        with self.engine.begin() as c:
            return c.execute(jobs.delete().where(jobs.c.id == job_id)).rowcount == 1

    def _set(self, job_id: str, *where, **values) -> bool:  # noqa: ANN002, ANN003
        with self.engine.begin() as c:
            res = c.execute(update(jobs).where(jobs.c.id == job_id, *where).values(**values))
        return res.rowcount == 1

    # -- the worker's side ---------------------------------------------------------------------------------
    def claim(self, owner: str) -> Job | None:
        """The next queued job (short motions first, then oldest), now running under `owner`; None if none."""
        while True:
            with self.engine.connect() as c:
                row = c.execute(select(jobs.c.id, jobs.c.attempts).where(jobs.c.status == QUEUED)
                                .order_by(jobs.c.priority.desc(), jobs.c.created).limit(1)).first()
            if row is None:
                return None
            now = time.time()
            if self._set(row.id, jobs.c.status == QUEUED, status=RUNNING, owner=owner, heartbeat=now, started=now,
                         attempts=row.attempts + 1, stage="starting", progress=0.0, error=None):
                return self.get(row.id)
            # another worker took it first: look again

    def progress(self, job_id: str, owner: str, stage: str, percent: float) -> bool:
        """Record progress (and that the worker lives); False when the job is no longer this worker's
        (deleted, or taken back by recovery) or its cancel was requested: then stop working on it."""
        with self.engine.begin() as c:
            res = c.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.owner == owner, jobs.c.status == RUNNING)
                            .values(stage=stage, progress=min(max(percent, 0.0), 100.0), heartbeat=time.time()))
            if res.rowcount != 1:
                return False
            flag = c.execute(select(jobs.c.cancel_requested).where(jobs.c.id == job_id)).scalar_one()
        return not flag

    def heartbeat(self, job_id: str, owner: str) -> bool:
        """As `progress` without changing it."""
        with self.engine.begin() as c:
            res = c.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.owner == owner, jobs.c.status == RUNNING)
                            .values(heartbeat=time.time()))
            if res.rowcount != 1:
                return False
            flag = c.execute(select(jobs.c.cancel_requested).where(jobs.c.id == job_id)).scalar_one()
        return not flag

    def finish(self, job_id: str, owner: str, files: list[str]) -> bool:
        return self._set(job_id, jobs.c.owner == owner, jobs.c.status == RUNNING, status=DONE, stage="done",
                         progress=100.0, finished=time.time(), files=json.dumps(files))

    def fail(self, job_id: str, owner: str | None, error: str) -> bool:
        where = [jobs.c.status == RUNNING] + ([jobs.c.owner == owner] if owner else [])
        return self._set(job_id, *where, status=FAILED, stage="failed", error=error[:2000], finished=time.time())

    def mark_cancelled(self, job_id: str, owner: str | None = None) -> bool:
        where = [jobs.c.status.in_((QUEUED, RUNNING))] + ([jobs.c.owner == owner] if owner else [])
        return self._set(job_id, *where, status=CANCELLED, stage="cancelled", finished=time.time())

    # -- the client's side ---------------------------------------------------------------------------------
    def request_cancel(self, job_id: str) -> Job | None:
        """A queued job is cancelled at once; a running one is asked to stop (its worker ends it)."""
        self._set(job_id, jobs.c.status == QUEUED, status=CANCELLED, stage="cancelled", finished=time.time(),
                  cancel_requested=True)
        self._set(job_id, jobs.c.status == RUNNING, cancel_requested=True)
        return self.get(job_id)

    # -- the supervisor's side -----------------------------------------------------------------------------
    def running(self) -> list[Job]:
        with self.engine.connect() as c:
            rows = c.execute(select(jobs).where(jobs.c.status == RUNNING)).all()
        return [_row_to_job(r) for r in rows]

    def recover(self, job: Job, why: str, max_attempts: int) -> str:
        """A running job whose worker is gone: queued again while attempts remain, else failed with `why`.
        A job whose cancel was asked for ends cancelled. Returns the new status (or "" if it moved on)."""
        if job.cancel_requested:
            return CANCELLED if self.mark_cancelled(job.id, job.owner) else ""
        if job.attempts < max_attempts:
            ok = self._set(job.id, jobs.c.status == RUNNING, jobs.c.owner == job.owner, status=QUEUED, owner=None,
                           stage=f"queued again: {why}", progress=0.0)
            return QUEUED if ok else ""
        ok = self._set(job.id, jobs.c.status == RUNNING, jobs.c.owner == job.owner, status=FAILED, stage="failed",
                       finished=time.time(), error=f"{why} (attempt {job.attempts} of {max_attempts}); "
                                                   "submit the job again")
        return FAILED if ok else ""

    def requeue_interrupted(self, job: Job, why: str) -> bool:
        """A job stopped by an orderly shutdown: queued again without counting the attempt."""
        return self._set(job.id, jobs.c.status == RUNNING, jobs.c.owner == job.owner, status=QUEUED, owner=None,
                         stage=f"queued again: {why}", progress=0.0, attempts=max(job.attempts - 1, 0))
