"""The service's settings: environment variables over an optional settings file over defaults.

| variable | default | what |
|---|---|---|
| CHOREO_SETTINGS | – | a TOML file with the keys below in lower case (data_dir = "...", workers = 2) |
| CHOREO_DATA_DIR | ~/.local/share/choreo | jobs (songs, outputs) and the job database live here |
| CHOREO_DATABASE_URL | sqlite:///DATA_DIR/jobs.db | any SQLAlchemy URL (postgresql+psycopg://... works unchanged) |
| CHOREO_MODEL | mdm_config.json's model_path | the model every job uses unless a request names one |
| CHOREO_WORKERS | 1 | worker processes, each loading the model once: at most this many jobs run at a time (0: none) |
| CHOREO_MAX_UPLOAD_MB | 50 | request bodies larger than this are refused with 413 while they arrive |
| CHOREO_MAX_SONG_MINUTES | 10 | longer songs are refused with 422 |
| CHOREO_VIDEO | 1 | write preview.mp4 for dances (0: skip it, the slowest output) |
| CHOREO_CANDIDATES | 3 | samples per distinct section (the best fitting beat and energy is kept) |
| CHOREO_MAX_ATTEMPTS | 2 | a job whose worker died (server killed, crash) is run again until this many attempts |
| CHOREO_STUDIO_DIR | frontend/dist of the checkout | the studio's built files, served at / |
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from choreo.config import BACKEND_DIR, data_dir, load_settings
from choreo.errors import ChoreoError

STUDIO_DIR = BACKEND_DIR.parent / "frontend" / "dist"


@dataclass
class ServiceSettings:
    data_dir: Path
    database_url: str
    model: Path
    workers: int = 1
    max_upload_mb: float = 50.0
    max_song_minutes: float = 10.0
    video: bool = True
    candidates: int = 3
    max_attempts: int = 2
    studio_dir: Path = STUDIO_DIR
    max_motion_seconds: float = 60.0
    motion_wait_seconds: float = 30.0  # POST /motions answers with the motion if it is ready by then
    lease_seconds: float = 30.0  # a running job whose worker is silent this long is recovered

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    def to_env(self) -> dict[str, str]:
        """The same settings as environment variables (what worker processes are started with)."""
        return {f"CHOREO_{f.name.upper()}": str(int(v) if isinstance(v, bool) else v)
                for f in fields(self) for v in [getattr(self, f.name)]}


def _convert(name: str, raw: object, kind: type) -> object:
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError(text)
            return text in ("1", "true", "yes")
        if kind is Path:
            return Path(os.path.expanduser(str(raw))).resolve()
        return kind(raw)
    except (TypeError, ValueError):
        raise ChoreoError(f"setting {name}: {raw!r} is not a valid {kind.__name__}") from None


def load_service_settings() -> ServiceSettings:
    """Read the settings (module docstring); ChoreoError names a bad value."""
    file_values: dict[str, object] = {}
    file = os.environ.get("CHOREO_SETTINGS")
    if file:
        try:
            file_values = tomllib.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ChoreoError(f"settings file {file}: {exc}") from None
    kinds = {"data_dir": Path, "database_url": str, "model": Path, "workers": int, "max_upload_mb": float,
             "max_song_minutes": float, "video": bool, "candidates": int, "max_attempts": int, "studio_dir": Path,
             "max_motion_seconds": float, "motion_wait_seconds": float, "lease_seconds": float}
    unknown = sorted(set(file_values) - set(kinds))
    if unknown:
        raise ChoreoError(f"settings file {file}: unknown keys {', '.join(unknown)}; known: {', '.join(kinds)}")
    values: dict[str, object] = {}
    for name, kind in kinds.items():
        raw = os.environ.get(f"CHOREO_{name.upper()}", file_values.get(name))
        if raw is not None and raw != "":
            values[name] = _convert(name, raw, kind)
    base = values.setdefault("data_dir", data_dir())
    values.setdefault("database_url", f"sqlite:///{Path(base) / 'jobs.db'}")
    values.setdefault("model", load_settings(None).model_path)
    s = ServiceSettings(**values)  # type: ignore[arg-type]
    if not 0 <= s.workers <= 64:  # 0: this server only takes requests; workers run elsewhere on the database
        raise ChoreoError(f"setting workers: must be between 0 and 64, got {s.workers}")
    if not s.max_upload_mb > 0 or not s.max_song_minutes > 0:
        raise ChoreoError("settings max_upload_mb and max_song_minutes must be positive")
    if not 1 <= s.candidates <= 8 or not 1 <= s.max_attempts <= 10:
        raise ChoreoError("setting candidates must be 1-8 and max_attempts 1-10")
    return s
