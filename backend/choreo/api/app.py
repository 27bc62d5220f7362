"""The FastAPI app: routes, errors as JSON, the body-size cap, the worker pool for the app's lifetime, the
studio at /. `create_app()` reads the settings (choreo.api.settings) unless given them."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

import choreo
from choreo.api.moves import router as moves_router
from choreo.api.routes import router
from choreo.api.settings import ServiceSettings, load_service_settings
from choreo.api.store import JobStore
from choreo.api.uploads import BodyLimit
from choreo.api.workers import WorkerPool
from choreo.errors import ChoreoError

log = logging.getLogger("choreo.api")
ANALYSIS_SLOTS = 2

NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>choreo</title>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>choreo service</h1><p>The service runs, but the studio has not been built. From the repository root:</p>
<pre>npm ci --prefix frontend &amp;&amp; npm run build --prefix frontend</pre>
<p>The API and its documentation: <a href="/docs">/docs</a>.</p></body>"""


def _readable(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path", "form"))
        msg = str(err.get("msg", "invalid value"))
        got = err.get("input")
        shown = "" if isinstance(got, dict | list) or got is None else f" (got {str(got)[:40]!r})"
        parts.append(f"{loc or 'request'}: {msg}{shown}")
    return "; ".join(parts) or "the request is not valid"


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or load_service_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        settings.jobs_dir.mkdir(parents=True, exist_ok=True)
        store = JobStore(settings.database_url)
        app.state.store = store
        app.state.analysis_slots = asyncio.Semaphore(ANALYSIS_SLOTS)
        pool = WorkerPool(settings, store)
        app.state.pool = pool
        if settings.workers > 0:
            pool.start()
        try:
            yield
        finally:
            pool.stop()
            store.dispose()

    app = FastAPI(title="choreo", version=choreo.__version__, lifespan=lifespan,
                  summary="K-pop choreography generator: songs in, group dances out",
                  description="Upload a song, follow the job's progress, download the dance (BVH per member, "
                              "glTF, JSON, MP4). Every job survives a server restart. See docs/API.md.")
    app.state.settings = settings
    app.include_router(router)
    app.include_router(moves_router)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such address; the API is under /api/v1 (see /docs)"
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _readable(exc)}, status_code=422)

    @app.exception_handler(ChoreoError)
    async def choreo_error(_request: Request, exc: ChoreoError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.get("/health", summary="Is the service up, how many workers, how many jobs")
    def health(request: Request) -> dict:
        pool: WorkerPool = request.app.state.pool
        return {"status": "ok", "version": choreo.__version__, "workers": len(pool.pids()),
                "workers_wanted": settings.workers, "jobs": request.app.state.store.counts()}

    studio = Path(settings.studio_dir)
    if (studio / "index.html").is_file():
        app.mount("/", StaticFiles(directory=studio, html=True), name="studio")
    else:
        @app.get("/", include_in_schema=False)
        def not_built() -> HTMLResponse:
            return HTMLResponse(NOT_BUILT)

    # Around every route: a too-large body is refused before the multipart parser reads it.
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)
    return app
