"""`choreo serve`: the service (the same app as `uvicorn main:app` from backend/), see docs/API.md."""

from __future__ import annotations

import argparse
import os

from choreo.cli._args import bounded


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="the HTTP service and the studio (FastAPI + uvicorn)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    p.add_argument("--port", type=bounded(int, 1, 65535), default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=bounded(int, 0, 64),
                   help="job worker processes, each with the model loaded once (default: CHOREO_WORKERS or 1)")
    p.add_argument("--data-dir", help="jobs and their files (default: CHOREO_DATA_DIR or ~/.local/share/choreo)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from choreo.api.settings import load_service_settings

    if args.workers is not None:
        os.environ["CHOREO_WORKERS"] = str(args.workers)
    if args.data_dir:
        os.environ["CHOREO_DATA_DIR"] = args.data_dir
    settings = load_service_settings()  # a bad setting fails here, in one line
    print(f"choreo service on http://{args.host}:{args.port}/ (API docs /docs), data in {settings.data_dir}, "
          f"{settings.workers} worker(s)")
    uvicorn.run("choreo.api.app:create_app", factory=True, host=args.host, port=args.port, log_level="info")
    return 0
