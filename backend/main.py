"""The setup guide's entry point: from backend/, `python -m uvicorn main:app --host 0.0.0.0 --port 8000`
starts the service (the same as `choreo serve`). Settings: choreo/api/settings.py, docs/API.md."""

import sys

from choreo.api.app import create_app
from choreo.errors import ChoreoError

try:
    app = create_app()
except ChoreoError as exc:  # a bad setting: one line, not a traceback
    print(f"choreo: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
