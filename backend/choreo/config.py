"""`mdm_config.json`: the setup guide's config file. `model_path` chooses the model.

Keys: mdm_repo_path (accepted and ignored: this project implements MDM itself), model_path, data_path,
dataset, and optionally clip_path (a local CLIP ViT-B/32 folder for the official checkpoints).
Relative paths are relative to the config file's folder.

The file used: --config, else $CHOREO_CONFIG, else mdm_config.json in the current folder (the setup guide
runs its commands from backend/), else backend/mdm_config.json of a source checkout. Without one, the
default model shipped inside the package (choreo/default_model, also in a wheel) is used.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from choreo.errors import ChoreoError
from choreo.json_file import read_json_object

BACKEND_DIR = Path(__file__).resolve().parents[1]  # backend/ in a source checkout; site-packages when installed
CONFIG_NAME = "mdm_config.json"
CONFIG_FILE = BACKEND_DIR / CONFIG_NAME
# Package data (a link to backend/models/default in the source tree, the files themselves in a wheel).
DEFAULT_MODEL = (Path(__file__).resolve().parent / "default_model").resolve() / "final_model.pt"
OFFICIAL_MODEL = BACKEND_DIR / "models" / "mdm" / "humanml_trans_enc_512" / "model000475000.pt"


@dataclass
class MDMSettings:
    model_path: Path
    data_path: Path | None
    dataset: str
    clip_path: Path | None
    source: Path | None  # the config file these came from, if any


def load_settings(path: str | Path | None = None) -> MDMSettings:
    """Read mdm_config.json (see the module's docstring for which one); no file means the shipped model."""
    given = path or os.environ.get("CHOREO_CONFIG")
    here = Path.cwd() / CONFIG_NAME
    file = Path(given) if given else (here if here.is_file() else CONFIG_FILE)
    if not file.is_file():
        if path:
            raise ChoreoError(f"config file not found: {file}")
        return MDMSettings(DEFAULT_MODEL, None, "humanml", None, None)
    data = read_json_object(file)

    def as_path(key: str) -> Path | None:
        value = data.get(key)
        if not value:
            return None
        p = Path(os.path.expanduser(str(value)))
        return p if p.is_absolute() else (file.parent / p).resolve()

    return MDMSettings(
        model_path=as_path("model_path") or DEFAULT_MODEL,
        data_path=as_path("data_path"),
        dataset=str(data.get("dataset", "humanml")),
        clip_path=as_path("clip_path"),
        source=file,
    )


def write_settings(file: Path, model_path: Path, data_path: Path, clip_path: Path | None = None) -> None:
    data = {
        "mdm_repo_path": str(BACKEND_DIR / "external" / "motion-diffusion-model"),
        "model_path": str(model_path),
        "data_path": str(data_path),
        "dataset": "humanml",
    }
    if clip_path:
        data["clip_path"] = str(clip_path)
    file.write_text(json.dumps(data, indent=2) + "\n")


def data_dir() -> Path:
    """Where the service keeps jobs and the move library lives: $CHOREO_DATA_DIR, else $XDG_DATA_HOME/choreo
    (~/.local/share/choreo). Created on first use by whoever writes there."""
    given = os.environ.get("CHOREO_DATA_DIR")
    if given:
        return Path(os.path.expanduser(given)).resolve()
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base).resolve() / "choreo"


def resolve_model_file(path: str | Path) -> Path:
    """A model path may name the .pt itself or its folder (final_model.pt, else the newest model*.pt);
    the existing file it names, or a one-line error (cheap: callers check a model before any long work)."""
    p = Path(path).expanduser()
    if p.is_dir():
        if (p / "final_model.pt").is_file():
            return p / "final_model.pt"
        found = sorted(p.glob("model*.pt"))
        if not found:
            raise ChoreoError(f"no model file in {p} (expected final_model.pt or model*.pt)")
        return found[-1]
    if not p.is_file():
        raise ChoreoError(f"model file not found: {p}")
    return p
