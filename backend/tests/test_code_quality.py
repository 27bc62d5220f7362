"""The code base stays ruff-clean (style, imports, common bugs) with the project's configuration."""

import shutil
import subprocess
from pathlib import Path

import pytest

BACKEND = Path(__file__).resolve().parents[1]


def test_ruff_clean():
    ruff = shutil.which("ruff") or str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    paths = [str(BACKEND / "choreo"), str(BACKEND / "tests"), str(BACKEND / "scripts"), str(BACKEND.parent / "bench")]
    done = subprocess.run([ruff, "check", "--config", str(BACKEND / "pyproject.toml"), *paths],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:]
