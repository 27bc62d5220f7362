"""Worker processes and their supervisor.

Each worker is a process of its own (the server's event loop never runs a model): it loads the model once,
then takes jobs from the store one at a time, so the number of workers is the concurrency limit and every
other job waits queued. A worker dies with the server (Linux: the parent-death signal; elsewhere it notices
its parent is gone), so a killed server leaves no orphan writing into its jobs.

The supervisor, a thread in the server, keeps the pool full and recovers jobs whose worker is gone: at start
(the server was killed mid-job), when a worker process died, when a worker stops sending heartbeats (another
host's, sharing the database), and when a cancelled job is not stopped within a grace period (its worker is
killed). Recovered jobs run again while attempts remain, else they fail with the reason.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing as mp
import os
import shutil
import signal
import sys
import threading
import time
import traceback

from choreo.api.jobs import JobContext, JobStopped, Models, job_dir, run_job
from choreo.api.settings import ServiceSettings, load_service_settings
from choreo.api.store import Job, JobStore, owner_is_dead, this_owner
from choreo.errors import ChoreoError

log = logging.getLogger("choreo.api")
CANCEL_GRACE_SECONDS = 15.0
IDLE_POLL_SECONDS = 0.25


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass


class _Shutdown(BaseException):
    """SIGTERM from the supervisor: put the current job back in the queue and exit."""


def worker_main(env: dict[str, str], parent_pid: int, wake=None) -> None:  # noqa: ANN001 - an mp.Event
    """A worker process: model loaded once, then jobs until the server goes away."""
    _die_with_parent()
    os.environ.update(env)

    def on_term(_signum, _frame) -> None:  # noqa: ANN001
        raise _Shutdown()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the server stops us in order
    settings = load_service_settings()
    store = JobStore(settings.database_url)
    owner = this_owner()
    models = Models(settings)
    try:
        models.get()  # load the model before the first job, not during it
    except ChoreoError as exc:
        log.error("worker cannot load the model: %s", exc)  # jobs then fail with this message, one by one
    except _Shutdown:
        return
    try:
        while os.getppid() == parent_pid:
            job = store.claim(owner)
            if job is None:
                if wake is None:
                    time.sleep(IDLE_POLL_SECONDS)
                elif wake.wait(IDLE_POLL_SECONDS * 4):  # the server rings when it queues a job
                    wake.clear()
                continue
            _run_one(job, settings, store, owner, models)
    except _Shutdown:
        pass


def _run_one(job: Job, settings: ServiceSettings, store: JobStore, owner: str, models: Models) -> None:
    folder = job_dir(settings, job.id)
    stop = threading.Event()
    ctx = JobContext(job, store, owner, folder, stop)
    beating = threading.Event()

    def heartbeat() -> None:  # keeps the lease while a stage reports no progress (writing files)
        while not beating.wait(2.0):
            if not store.heartbeat(job.id, owner):
                stop.set()

    beat = threading.Thread(target=heartbeat, daemon=True)
    beat.start()
    try:
        names = run_job(ctx, settings, models)
        final = folder / "files"
        if final.exists():  # a result an earlier attempt renamed but never recorded
            shutil.rmtree(final)
        os.replace(folder / "work", final)  # all outputs appear at once
        if not store.finish(job.id, owner, names):
            shutil.rmtree(final, ignore_errors=True)  # cancelled or deleted at the last moment
            _cleanup_if_deleted(store, job, folder)
    except JobStopped:
        shutil.rmtree(folder / "work", ignore_errors=True)
        store.mark_cancelled(job.id, owner)
        _cleanup_if_deleted(store, job, folder)
    except _Shutdown:
        store.requeue_interrupted(job, "the server was stopped")
        raise
    except ChoreoError as exc:
        store.fail(job.id, owner, str(exc))
    except MemoryError:
        store.fail(job.id, owner, "the job ran out of memory; try a shorter song or fewer members")
    except Exception as exc:  # a bug: say what, keep the worker alive for the next job
        log.error("job %s failed:\n%s", job.id, traceback.format_exc())
        store.fail(job.id, owner, f"internal error ({type(exc).__name__}: {exc}); see the server log")
    finally:
        beating.set()
        shutil.rmtree(folder / "work", ignore_errors=True)


def _cleanup_if_deleted(store: JobStore, job: Job, folder) -> None:  # noqa: ANN001
    if store.get(job.id) is None:
        shutil.rmtree(folder, ignore_errors=True)


class WorkerPool:
    """The supervisor of `settings.workers` worker processes (see the module docstring)."""

    def __init__(self, settings: ServiceSettings, store: JobStore) -> None:
        self.settings = settings
        self.store = store
        self.ctx = mp.get_context("spawn")  # a fresh interpreter: no threads or event loop inherited
        self.procs: list[mp.process.BaseProcess] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cancel_seen: dict[str, float] = {}
        self.wake = self.ctx.Event()

    def notify(self) -> None:
        """A job was queued: idle workers look now instead of at their next poll."""
        self.wake.set()

    def start(self) -> None:
        self.recover_orphans()
        self.procs = [self._spawn() for _ in range(self.settings.workers)]
        self._thread = threading.Thread(target=self._watch, name="choreo-supervisor", daemon=True)
        self._thread.start()

    def _spawn(self) -> mp.process.BaseProcess:
        env = self.settings.to_env()
        if self.settings.workers > 1:  # share the cores instead of every worker taking them all
            threads = max(1, (os.cpu_count() or 1) // self.settings.workers)
            env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        p = self.ctx.Process(target=worker_main, args=(env, os.getpid(), self.wake), name="choreo-worker", daemon=False)
        p.start()
        return p

    def pids(self) -> set[int]:
        return {p.pid for p in self.procs if p.pid is not None and p.is_alive()}

    def recover_orphans(self) -> None:
        """Running jobs whose worker is gone (dead process on this host, or silent past the lease)."""
        now = time.time()
        for job in self.store.running():
            silent = job.heartbeat is None or now - job.heartbeat > self.settings.lease_seconds
            if owner_is_dead(job.owner) or silent:
                why = "its worker stopped (server restarted or crashed)" if owner_is_dead(job.owner) else \
                    f"its worker sent no heartbeat for {self.settings.lease_seconds:g} s"
                status = self.store.recover(job, why, self.settings.max_attempts)
                if status:
                    log.warning("job %s: %s -> %s", job.id, why, status)

    def _enforce_cancels(self) -> None:
        now = time.monotonic()
        running = {j.id: j for j in self.store.running() if j.cancel_requested}
        for jid in list(self._cancel_seen):
            if jid not in running:
                del self._cancel_seen[jid]
        for jid, job in running.items():
            first = self._cancel_seen.setdefault(jid, now)
            if now - first < CANCEL_GRACE_SECONDS:
                continue
            pid = int(job.owner.rpartition(":")[2]) if job.owner else None
            for p in self.procs:
                if p.pid == pid and p.is_alive():
                    log.warning("job %s: not stopped %g s after cancel; stopping its worker", jid,
                                CANCEL_GRACE_SECONDS)
                    p.kill()
                    p.join(5)
            self.store.mark_cancelled(jid)

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            try:
                for i, p in enumerate(self.procs):
                    if not p.is_alive() and not self._stop.is_set():
                        log.warning("worker %s exited (code %s); starting another", p.pid, p.exitcode)
                        self.procs[i] = self._spawn()
                self._enforce_cancels()
                self.recover_orphans()
            except Exception:  # the database may be briefly locked; try again next round
                log.exception("supervisor round failed")

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for p in self.procs:
            if p.is_alive():
                p.terminate()  # SIGTERM: the worker puts its job back in the queue
        deadline = time.monotonic() + timeout
        for p in self.procs:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(2)
        if self._thread:
            self._thread.join(2)
        self.recover_orphans()  # a worker killed before it could put its job back
