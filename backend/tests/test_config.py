"""mdm_config.json: parsing, relative paths, defaults, errors; the committed file matches the setup guide."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from choreo.config import BACKEND_DIR, CONFIG_FILE, DEFAULT_MODEL, load_settings, write_settings
from choreo.errors import ChoreoError


def test_parse_relative_and_absolute_paths(tmp_path: Path) -> None:
    cfg = tmp_path / "conf" / "mdm_config.json"
    cfg.parent.mkdir()
    cfg.write_text(json.dumps({
        "mdm_repo_path": "/nowhere/motion-diffusion-model",
        "model_path": "models/kpop/final_model.pt",
        "data_path": str(tmp_path / "data"),
        "dataset": "humanml",
        "clip_path": "~/clip",
    }))
    s = load_settings(cfg)
    assert s.model_path == (cfg.parent / "models" / "kpop" / "final_model.pt").resolve()
    assert s.data_path == tmp_path / "data"
    assert s.dataset == "humanml" and s.source == cfg
    assert s.clip_path == Path("~/clip").expanduser()


def test_missing_keys_fall_back(tmp_path: Path) -> None:
    cfg = tmp_path / "mdm_config.json"
    cfg.write_text(json.dumps({"mdm_repo_path": "ignored"}))
    s = load_settings(cfg)
    assert s.model_path == DEFAULT_MODEL and s.data_path is None and s.clip_path is None
    assert s.dataset == "humanml"


def test_no_file_means_default_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHOREO_CONFIG", str(tmp_path / "absent.json"))
    s = load_settings()
    assert s.model_path == DEFAULT_MODEL == BACKEND_DIR / "models" / "default" / "final_model.pt"
    assert s.source is None
    with pytest.raises(ChoreoError, match="not found"):  # an explicitly named file must exist
        load_settings(tmp_path / "absent.json")


def test_env_variable_chooses_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "other.json"
    cfg.write_text(json.dumps({"model_path": str(tmp_path / "m.pt")}))
    monkeypatch.setenv("CHOREO_CONFIG", str(cfg))
    assert load_settings().model_path == tmp_path / "m.pt"


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "\xff\xfe"])
def test_bad_json_is_a_choreo_error(tmp_path: Path, text: str) -> None:
    cfg = tmp_path / "mdm_config.json"
    cfg.write_bytes(text.encode("latin-1"))
    with pytest.raises(ChoreoError) as info:
        load_settings(cfg)
    assert str(cfg) in str(info.value)


def test_write_settings_round_trip(tmp_path: Path) -> None:
    cfg = tmp_path / "mdm_config.json"
    write_settings(cfg, tmp_path / "model.pt", tmp_path / "data")
    data = json.loads(cfg.read_text())
    assert set(data) == {"mdm_repo_path", "model_path", "data_path", "dataset"}
    s = load_settings(cfg)
    assert s.model_path == tmp_path / "model.pt" and s.data_path == tmp_path / "data"


def test_committed_config_matches_the_setup_guide() -> None:
    if not CONFIG_FILE.is_file():
        pytest.skip("backend/mdm_config.json not present")
    data = json.loads(CONFIG_FILE.read_text())
    assert {"mdm_repo_path", "model_path", "data_path", "dataset"} <= set(data)
    assert data["model_path"] == "models/default/final_model.pt" and data["data_path"] == "data"
    assert data["dataset"] == "humanml"
    s = load_settings(CONFIG_FILE)
    assert s.model_path == DEFAULT_MODEL and s.data_path == BACKEND_DIR / "data"
