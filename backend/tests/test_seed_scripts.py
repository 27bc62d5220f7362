"""The setup guide's scripts: scripts/setup_ai_model.sh and scripts/download_mdm_model.py, run offline."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from choreo.bundle import save_bundle
from choreo.model import MDM, MDMConfig
from choreo.representation import FEATURE_DIM, Normalizer

BACKEND = Path(__file__).resolve().parents[1]
SCRIPTS = BACKEND / "scripts"
PY312 = Path("/root/.pyenv/versions/3.12.1/bin/python3.12")
PY311_SYSTEM = Path("/root/.pyenv/versions/3.11.7/bin/python3.11")
# A small official-layout checkpoint: args.json says 1 layer of width 64 (ff 1024 and 4 heads, as official).
SMALL_ARGS = {"arch": "trans_enc", "dataset": "humanml", "layers": 1, "latent_dim": 64, "cond_mask_prob": 0.1,
              "diffusion_steps": 1000, "noise_schedule": "cosine", "sigma_small": True}
SMALL = MDMConfig(latent_dim=64, ff_size=1024, num_layers=1, num_heads=4, text_dim=512)


def _load_download_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("download_mdm_model", SCRIPTS / "download_mdm_model.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dl = _load_download_module()


def official_checkpoint(folder: Path, with_args: bool = True) -> Path:
    """model000475000.pt in the official layout (flat state dict + `*.pe` + fp16 `clip_model.*` keys)."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    sd = dict(MDM(SMALL).state_dict())
    sd["sequence_pos_encoder.pe"] = torch.zeros(5000, 1, 64)
    sd["embed_timestep.sequence_pos_encoder.pe"] = sd["sequence_pos_encoder.pe"]
    sd["clip_model.positional_embedding"] = torch.zeros(77, 512, dtype=torch.float16)
    path = folder / "model000475000.pt"
    torch.save(sd, path)
    if with_args:
        (folder / "args.json").write_text(json.dumps(SMALL_ARGS))
    return path


def release_zip(tmp: Path) -> Path:
    src = official_checkpoint(tmp / "src")
    z = tmp / "humanml_trans_enc_512.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(src, "humanml_trans_enc_512/model000475000.pt")
        zf.write(src.parent / "args.json", "humanml_trans_enc_512/args.json")
        zf.writestr("humanml_trans_enc_512/eval_humanml_000475000_wo_mm_1000.log", "log")
    return z


def _placed(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.iterdir()) if dest.is_dir() else []


# --- download_mdm_model.py ------------------------------------------------------------------------------


def test_from_release_zip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "models" / "mdm" / "humanml_trans_enc_512"
    assert dl.main(["--from", str(release_zip(tmp_path)), "--dest", str(dest)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: ") and "1000 diffusion steps" in out and "Mean.npy" in out
    assert _placed(dest) == ["args.json", "model000475000.pt"]
    assert json.loads((dest / "args.json").read_text()) == SMALL_ARGS
    assert not list(dest.parent.glob(".incoming-*"))  # staging folder cleaned up
    # Already in place: a run without --from validates and keeps it; --from without --force refuses.
    assert dl.main(["--dest", str(dest)]) == 0
    assert "already in place" in capsys.readouterr().out
    assert dl.main(["--from", str(tmp_path / "humanml_trans_enc_512.zip"), "--dest", str(dest)]) == 2
    assert "--force" in capsys.readouterr().err
    again = ["--from", str(tmp_path / "humanml_trans_enc_512.zip"), "--dest", str(dest), "--force"]
    assert dl.main(again) == 0


def test_from_pt_file_with_args_beside(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = official_checkpoint(tmp_path / "download")
    dest = tmp_path / "dest"
    assert dl.main(["--from", str(src), "--dest", str(dest)]) == 0
    assert _placed(dest) == ["args.json", "model000475000.pt"]
    assert (dest / "model000475000.pt").read_bytes() == src.read_bytes()


def test_validation_failure_places_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Without args.json the release's args (8 layers, 512 wide) are assumed: the small weights do not fit.
    src = official_checkpoint(tmp_path / "download", with_args=False)
    dest = tmp_path / "dest"
    assert dl.main(["--from", str(src), "--dest", str(dest)]) == 2
    err = capsys.readouterr().err
    assert "did not validate" in err and "Traceback" not in err
    assert _placed(dest) == [] and not list(tmp_path.glob(".incoming-*"))


@pytest.mark.parametrize("kind", ["truncated", "pickle", "zip-without-model", "missing"])
def test_bad_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    src = tmp_path / "model000475000.pt"
    if kind == "truncated":
        data = official_checkpoint(tmp_path / "full").read_bytes()
        src.write_bytes(data[: len(data) // 3])
        (tmp_path / "args.json").write_text(json.dumps(SMALL_ARGS))
    elif kind == "pickle":
        torch.save({"model": Path("/etc/passwd")}, src)  # a non-tensor object weights_only refuses
    elif kind == "zip-without-model":
        src = tmp_path / "humanml_trans_enc_512.zip"
        with zipfile.ZipFile(src, "w") as zf:
            zf.writestr("humanml_trans_enc_512/args.json", "{}")
    dest = tmp_path / "dest"
    assert dl.main(["--from", str(src), "--dest", str(dest)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("download_mdm_model: ") and "Traceback" not in err
    assert _placed(dest) == []


def _run(python: Path | str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "CHOREO_OFFLINE": "1", **(env or {})}
    return subprocess.run([str(python), "scripts/download_mdm_model.py", *args], cwd=BACKEND, env=full_env,
                          capture_output=True, text=True, timeout=300)


def test_offline_without_from_prints_manual_steps(tmp_path: Path) -> None:
    proc = _run(sys.executable, "--dest", str(tmp_path / "dest"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "cannot download" in proc.stderr
    assert "https://github.com/GuyTevet/motion-diffusion-model#pretrained-models" in proc.stderr
    assert "--from" in proc.stderr and "--force" in proc.stderr
    assert _placed(tmp_path / "dest") == []


def test_subprocess_from_zip(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    proc = _run(sys.executable, "--from", str(release_zip(tmp_path)), "--dest", str(dest))
    assert proc.returncode == 0, proc.stderr
    assert _placed(dest) == ["args.json", "model000475000.pt"]


@pytest.mark.parametrize("python", [PY312, PY311_SYSTEM], ids=["python3.12", "python3.11-system"])
def test_interpreter_without_dependencies(tmp_path: Path, python: Path) -> None:
    if not python.is_file():
        pytest.skip(f"{python} not on this machine")
    if subprocess.run([str(python), "-c", "import torch"], capture_output=True).returncode == 0:
        pytest.skip(f"{python} has torch installed")
    proc = _run(python, "--from", str(release_zip(tmp_path)), "--dest", str(tmp_path / "dest"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "lacks the project's dependencies" in proc.stderr and "setup_ai_model.sh" in proc.stderr


# --- setup_ai_model.sh ----------------------------------------------------------------------------------


@pytest.fixture
def backend_copy(tmp_path: Path) -> Path:
    """A backend/ folder holding only the setup script (the project itself is imported from this venv)."""
    root = tmp_path / "backend"
    (root / "scripts").mkdir(parents=True)
    shutil.copy2(SCRIPTS / "setup_ai_model.sh", root / "scripts" / "setup_ai_model.sh")
    return root


def _setup(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run(["./scripts/setup_ai_model.sh", *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)


def test_setup_script_is_executable() -> None:
    script = SCRIPTS / "setup_ai_model.sh"
    assert os.access(script, os.X_OK)
    assert script.read_text().startswith("#!/usr/bin/env bash")


def test_setup_without_model_writes_config_and_fails_clearly(backend_copy: Path) -> None:
    proc = _setup(backend_copy)
    assert proc.returncode == 1
    config = json.loads((backend_copy / "mdm_config.json").read_text())
    assert config["model_path"] == "models/default/final_model.pt" and config["data_path"] == "data"
    assert set(config) == {"mdm_repo_path", "model_path", "data_path", "dataset"}
    assert "not needed" in proc.stdout  # no MDM clone
    assert "no model at" in proc.stderr and "download_mdm_model.py" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_setup_with_model_succeeds(backend_copy: Path) -> None:
    rng = np.random.default_rng(0)
    norm = Normalizer(rng.normal(size=FEATURE_DIM).astype(np.float32), np.ones(FEATURE_DIM, dtype=np.float32))
    tiny = MDMConfig(latent_dim=32, ff_size=64, num_layers=1, num_heads=4, text_dim=384)
    save_bundle(backend_copy / "models" / "default", MDM(tiny), norm, diffusion_steps=50)
    proc = _setup(backend_copy)
    assert proc.returncode == 0, proc.stderr
    assert "already installed" in proc.stdout
    assert "parameters:" in proc.stdout and "Setup complete" in proc.stdout
    # The config is kept unless --force; a custom model_path is honoured.
    custom = {"mdm_repo_path": "x", "model_path": "models/default", "data_path": "data", "dataset": "humanml"}
    (backend_copy / "mdm_config.json").write_text(json.dumps(custom))
    proc = _setup(backend_copy)
    assert proc.returncode == 0 and "keeping the existing" in proc.stdout
    assert json.loads((backend_copy / "mdm_config.json").read_text()) == custom
    proc = _setup(backend_copy, "--force")
    assert proc.returncode == 0 and "wrote" in proc.stdout
    assert json.loads((backend_copy / "mdm_config.json").read_text())["mdm_repo_path"] != "x"


def test_setup_with_broken_model_or_config(backend_copy: Path) -> None:
    (backend_copy / "models" / "default").mkdir(parents=True)
    (backend_copy / "models" / "default" / "final_model.pt").write_bytes(b"not a model")
    proc = _setup(backend_copy)
    assert proc.returncode == 1
    assert "did not load" in proc.stderr and "not a readable PyTorch checkpoint" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    (backend_copy / "mdm_config.json").write_text("{broken")
    proc = _setup(backend_copy)
    assert proc.returncode == 1 and "not valid JSON" in proc.stderr and "--force" in proc.stderr
    assert "Traceback" not in proc.stderr


def _python_without_project() -> Path:
    """A system Python >= 3.11 without torch (what a fresh clone's user has), or skip."""
    for python in (PY312, PY311_SYSTEM):
        if python.is_file() and subprocess.run([str(python), "-c", "import torch"], capture_output=True).returncode:
            return python
    pytest.skip(f"no Python >= 3.11 without torch on this machine ({PY312}, {PY311_SYSTEM})")


def test_setup_makes_the_project_venv_and_never_installs_into_a_system_python(backend_copy: Path) -> None:
    """A fresh clone: the script makes .venv at the repository root with the system Python, says where, and
    installs only there. Offline: --no-install says what is missing; with PIP_NO_INDEX pip fails at once
    (this backend/ has no pyproject.toml) and the script says so. A second run reuses the venv."""
    python = _python_without_project()
    repo = backend_copy.parent
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    run = lambda *args, **extra: subprocess.run(  # noqa: E731
        ["./scripts/setup_ai_model.sh", *args], cwd=backend_copy, env={**env, **extra}, capture_output=True,
        text=True, timeout=300)
    proc = run("--no-install", PYTHON=str(python))
    venv = repo / ".venv"
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (venv / "bin" / "python").is_file()
    assert f"making the project's environment {venv} with {python}" in proc.stdout
    assert f"using {venv}/bin/python (the project's environment, made now" in proc.stdout
    assert f"missing in {venv}: torch" in proc.stderr and "without --no-install" in proc.stderr
    assert "../.venv/bin/python -m pip install -e ." in proc.stderr  # typed from backend/
    assert "Traceback" not in proc.stderr
    proc = run(PYTHON=str(python), PIP_NO_INDEX="1")
    assert proc.returncode == 1
    assert "made now" not in proc.stdout and f"using {venv}/bin/python (the project's environment" in proc.stdout
    assert "missing: torch" in proc.stdout and f"installing the project into {venv}" in proc.stdout
    assert f"SETUP FAILED: pip install -e {backend_copy} into {venv} failed" in proc.stderr
    # The system Python is untouched: still no torch.
    assert subprocess.run([str(python), "-c", "import torch"], env=env, cwd=repo, capture_output=True).returncode


def test_setup_uses_an_existing_project_venv_without_python_set(backend_copy: Path) -> None:
    """No PYTHON and no active venv: <repo>/.venv is found and used (a stand-in made without pip that sees
    this environment's packages), and the summary says how to run the guide's commands with it."""
    save_bundle(backend_copy / "models" / "default", MDM(MDMConfig(latent_dim=32, ff_size=64, num_layers=1,
                                                                   num_heads=4, text_dim=384)),
                Normalizer(np.zeros(FEATURE_DIM, np.float32), np.ones(FEATURE_DIM, np.float32)), diffusion_steps=50)
    venv = backend_copy.parent / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # The stand-in venv sees this environment's packages through a .pth file (no install, no network).
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = subprocess.run([str(venv / "bin" / "python"), "-c", purelib],
                          capture_output=True, text=True, check=True).stdout.strip()
    here = [p for p in sys.path if p.endswith("site-packages")] + [str(BACKEND)]
    Path(site, "outer.pth").write_text("\n".join(here) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHON", "PYTHONPATH")}
    proc = subprocess.run(["./scripts/setup_ai_model.sh"], cwd=backend_copy, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"using {venv}/bin/python (the project's environment;" in proc.stdout
    assert f"Environment:  {venv}" in proc.stdout
    assert "source ../.venv/bin/activate" in proc.stdout
    assert "../.venv/bin/python scripts/download_mdm_model.py" in proc.stdout
    assert "Setup complete. Try: ../.venv/bin/python -m choreo generate" in proc.stdout  # no bin/choreo here


def test_setup_with_an_official_checkpoint_without_clip_says_what_is_missing(backend_copy: Path) -> None:
    """The official checkpoint loads without CLIP, but generating needs CLIP's text weights: no "Setup
    complete", exit code 1 and what to put where."""
    folder = backend_copy / "models" / "mdm" / "humanml_trans_enc_512"
    official_checkpoint(folder)
    np.save(folder.parent / "Mean.npy", np.zeros(FEATURE_DIM, np.float32))  # in the folder above: found
    np.save(folder.parent / "Std.npy", np.ones(FEATURE_DIM, np.float32))
    (backend_copy / "mdm_config.json").write_text(json.dumps(
        {"model_path": "models/mdm/humanml_trans_enc_512/model000475000.pt", "data_path": "data"}))
    env = {k: v for k, v in os.environ.items() if k != "CHOREO_CLIP_PATH"}
    proc = subprocess.run(["./scripts/setup_ai_model.sh"], cwd=backend_copy, env={**env, "PYTHON": sys.executable},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "clip-vit-b32" in proc.stdout and "Setup complete" not in proc.stdout
    assert "loads, but cannot generate yet" in proc.stdout
    assert "SETUP FAILED: setup not complete: the model loads but cannot generate" in proc.stderr
    assert "openai/clip-vit-base-patch32" in proc.stderr and "clip_path" in proc.stderr
    assert "Traceback" not in proc.stderr
    # Without the statistics anywhere, the load itself fails and names every folder searched.
    (folder.parent / "Mean.npy").unlink()
    proc = subprocess.run(["./scripts/setup_ai_model.sh"], cwd=backend_copy, env={**env, "PYTHON": sys.executable},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "did not load" in proc.stderr
    assert f"only Std.npy in {folder.parent}" in proc.stdout + proc.stderr
