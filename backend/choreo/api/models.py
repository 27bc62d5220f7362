"""The models a service can use (GET /models): the service's own (CHOREO_MODEL / mdm_config.json), the one
shipped in the package, and every model folder under backend/models/ (ours or the official layout). Found by
looking at files only: listing models loads none."""

from __future__ import annotations

import json
from pathlib import Path

from choreo.api.settings import ServiceSettings
from choreo.config import BACKEND_DIR, DEFAULT_MODEL, resolve_model_file
from choreo.errors import ChoreoError

MODELS_DIR = BACKEND_DIR / "models"


def _describe(path: Path, model_id: str, default: bool) -> dict:
    folder = path.parent
    card = folder / "MODEL_CARD.md"
    args_file = folder / "args.json"
    args: dict = {}
    try:
        args = json.loads(args_file.read_text(encoding="utf-8")) if args_file.is_file() else {}
    except (OSError, ValueError):
        args = {}
    keep = ("arch", "latent_dim", "layers", "heads", "text_encoder", "root_facing", "window_frames",
            "diffusion_steps", "sampling", "dataset", "cond_mode")
    return {"id": model_id, "path": str(path), "default": default, "size_mb": round(path.stat().st_size / 1e6, 1),
            "args": {k: args[k] for k in keep if k in args},
            "card": card.read_text(encoding="utf-8") if card.is_file() else None}


def _model_id(file: Path) -> str:
    """A model's id: its folder under backend/models/ ("default", "mdm/humanml_trans_enc_512"), else the folder's
    name."""
    folder = file.parent
    try:
        return folder.relative_to(MODELS_DIR.resolve()).as_posix()
    except ValueError:
        return "default" if file == DEFAULT_MODEL.resolve() else folder.name


def find_models(settings: ServiceSettings) -> list[dict]:
    found: dict[Path, str] = {}
    try:
        service = resolve_model_file(settings.model).resolve()
        found[service] = _model_id(service)
    except ChoreoError:
        pass  # a missing service model shows in every job's error, not here
    if DEFAULT_MODEL.is_file():
        found.setdefault(DEFAULT_MODEL.resolve(), "default")
    if MODELS_DIR.is_dir():
        for folder in sorted(p for p in MODELS_DIR.rglob("*") if p.is_dir()):
            try:
                file = resolve_model_file(folder).resolve()
            except ChoreoError:
                continue
            found.setdefault(file, _model_id(file))
    service = next(iter(found), None)
    return [_describe(path, model_id, path == service) for path, model_id in found.items()]


def model_by_id(settings: ServiceSettings, model_id: str) -> dict | None:
    return next((m for m in find_models(settings) if m["id"] == model_id), None)
