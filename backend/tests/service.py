"""A real service for tests: `python -m uvicorn main:app` from backend/ on 127.0.0.1 (a free port), with its
own data folder, as the setup guide starts it. Used by test_service.py and the studio's browser tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Service:
    url: str
    port: int
    data_dir: Path
    proc: subprocess.Popen
    log: Path

    def kill(self) -> None:
        """kill -9: no shutdown of any kind."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.is_file() else ""


def _wait_healthy(svc: Service, timeout: float, workers: int) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if svc.proc.poll() is not None:
            raise RuntimeError(f"the service exited with {svc.proc.returncode}:\n{svc.log_text()[-3000:]}")
        try:
            with urllib.request.urlopen(svc.url + "/health", timeout=2) as r:
                health = json.loads(r.read())
            if health["workers"] >= min(workers, 1):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the service did not come up in {timeout} s:\n{svc.log_text()[-3000:]}")


@contextmanager
def running_service(data_dir: Path, *, workers: int = 1, port: int | None = None, **env: str):
    """Yields a `Service`; stops it (SIGTERM, then SIGKILL) at the end. `env`: extra CHOREO_* settings."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / f"server-{port}-{time.time_ns()}.log"
    full_env = {**os.environ, "CHOREO_DATA_DIR": str(data_dir), "CHOREO_WORKERS": str(workers),
                "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), **env}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "main:app", "--host", "127.0.0.1",
                                 "--port", str(port)], cwd=BACKEND, env=full_env, stdout=out,
                                stderr=subprocess.STDOUT)
    svc = Service(f"http://127.0.0.1:{port}", port, data_dir, proc, log)
    try:
        _wait_healthy(svc, 120.0, workers)
        yield svc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def body_error(a, b, own_floor: bool = False) -> float:
    """Largest joint distance (m) in the body's own frame; `own_floor`: up to one height offset (a file's floor
    is its own)."""
    import numpy as np

    from choreo.choreography.report import body_frame

    d = body_frame(np.asarray(a)) - body_frame(np.asarray(b))
    if own_floor:
        d[..., 1] -= np.median(d[..., 1])
    return float(np.linalg.norm(d, axis=-1).max())


def assert_move_danced(before: dict, after: dict, rows: list[dict], move, section: int) -> None:
    """In the regenerated `after` choreography.json: every placement row dances `move` (re-timed onto the song's
    beats) within 1 cm in the body frame, and every frame outside `section` is the `before` one exactly."""
    import numpy as np

    from choreo.choreography.moves import retime
    from choreo.music.song import Song

    song = Song.from_dict(after["song"])
    for p in rows:
        _, offsets, expected = retime(move, song.beats, p["beat"], song.tempo)
        got = np.asarray(after["members"][p["member"]]["joints"])[p["start_frame"] + offsets]
        assert body_error(got, expected) < 0.01, p
    a, b = after["sections"][section]["start_frame"], after["sections"][section]["end_frame"]
    for old, new in zip(before["members"], after["members"], strict=True):
        x, y = np.asarray(old["joints"]), np.asarray(new["joints"])
        assert np.array_equal(x[:a], y[:a]) and np.array_equal(x[b:], y[b:])  # every other frame
