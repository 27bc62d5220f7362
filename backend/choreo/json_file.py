"""Reading JSON from a file the user gave us, with one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from choreo.errors import ChoreoError


def parse_json(text: str, what: str) -> Any:  # noqa: ANN401 - any JSON value
    """The JSON value in `text`; ChoreoError naming `what` ("plan", "song analysis") if it is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ChoreoError(f"{what} is not valid JSON: {exc}") from None


def read_json(path: Path, missing_hint: str = "") -> Any:  # noqa: ANN401 - any JSON value
    """The JSON value in `path`; ChoreoError if the file is missing or not JSON."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ChoreoError(f"{path} not found{f' ({missing_hint})' if missing_hint else ''}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ChoreoError(f"{path} is not valid JSON: {exc}") from exc


def read_json_object(path: Path, missing_hint: str = "") -> dict:
    """The JSON object in `path`; ChoreoError if it is missing, not JSON, or not an object."""
    data = read_json(path, missing_hint)
    if not isinstance(data, dict):
        raise ChoreoError(f"{path} must hold a JSON object")
    return data
