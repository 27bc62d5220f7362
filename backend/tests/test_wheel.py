"""A built wheel is the whole product: installed into a fresh venv, away from the repository, it knows its
version, carries the default model and generates with it.

No network in a test, so the fresh venv borrows the *dependencies* (torch, numpy, ...) from the test
environment through a path file; choreo itself comes only from the wheel (the borrowed folder's editable
hook is not run, and the check below asserts where choreo was imported from).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

BACKEND = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("wheel")
    # Build from a copy: setuptools leaves build/ beside the sources, which must not appear in a checkout.
    src = tmp / "src"
    shutil.copytree(BACKEND, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "tests",
                                                              "out", "trained_models", "external", "mdm", "runs"))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            "-w", str(tmp / "dist"), str(src)], capture_output=True, text=True, timeout=600)
    if build.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{build.stdout}\n{build.stderr}")
    wheel = next((tmp / "dist").glob("choreo-*.whl"))
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # Unpack the wheel into the fresh site-packages (what pip does, without pip in the new venv).
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "-q",
                              "--target", str(site), str(wheel)], capture_output=True, text=True, timeout=600)
    if install.returncode != 0:
        pytest.fail(f"installing the wheel failed:\n{install.stdout}\n{install.stderr}")
    return py, site


def run(py: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHOREO_", "PYTHON"))}
    return subprocess.run([str(py), "-m", "choreo", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def test_wheel_carries_the_model_and_generates(fresh_env, tmp_path):
    py, site = fresh_env
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHOREO_", "PYTHON"))}
    where = subprocess.check_output([str(py), "-c", "import choreo; print(choreo.__file__)"], cwd=tmp_path,
                                    env=env, text=True).strip()
    assert Path(where).is_relative_to(site), f"choreo came from {where}, not from the wheel"
    assert (site / "choreo" / "default_model" / "final_model.pt").is_file()
    assert (site / "choreo" / "default_model" / "final_model.onnx").is_file()  # generate runs it without torch
    version = run(py, "--version", cwd=tmp_path)
    assert version.returncode == 0 and "0." in version.stdout + version.stderr
    out = tmp_path / "salsa"
    gen = run(py, "generate", "--text", "a person dances salsa", "--seconds", "3", "--seed", "1", "--no-video",
              "--out", str(out), cwd=tmp_path)
    assert gen.returncode == 0, gen.stdout + gen.stderr
    assert "on onnx" in gen.stdout and "note:" not in gen.stderr  # the installed export matches the installed .pt
    motion = json.loads((out / "motion.json").read_text())
    assert len(motion["motion"]) == 60 and len(motion["motion"][0]) == 22
    assert (out / "motion.bvh").read_text().startswith("HIERARCHY")
