"""The boundary: request bodies capped while they arrive, songs checked before a job is accepted.

`BodyLimit` is plain ASGI middleware. A declared Content-Length over the cap is answered with 413 before a byte
of the body is read (with `connection: close`, so the server drops the rest of the upload); a chunked body is
counted as it streams and cut off at the cap. Uploaded songs are stored under a name of our own
(`song.<ext>`), decoded, and their length checked; the client's file name is kept for display only.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import soundfile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from choreo.errors import ChoreoError

AUDIO_SUFFIXES = ("wav", "flac", "ogg", "oga", "mp3", "m4a", "aac", "opus", "aif", "aiff", "webm", "mp4")
CONTENT_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg", "oga": "audio/ogg",
                 "mp3": "audio/mpeg", "m4a": "audio/mp4", "aac": "audio/aac", "opus": "audio/ogg",
                 "aif": "audio/aiff", "aiff": "audio/aiff", "webm": "audio/webm", "mp4": "audio/mp4"}


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send) -> None:
        mb = self.max_bytes / (1024 * 1024)
        body = json.dumps({"detail": f"the upload is larger than the service's limit of {mb:g} MB"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"connection", b"close"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = False
            if too_big:
                await self._refuse(send)
                return
        seen = 0
        refused = False
        started = False

        async def counted_receive() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    if not started:
                        await self._refuse(send)
                    return {"type": "http.disconnect"}  # the app stops reading; its own answer is dropped
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted_receive, guarded_send)


def display_name(name: str | None) -> str:
    """A client's file name for people to read: the last path part, printable, at most 120 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:120] or "song"


def song_suffix(name: str | None, path: Path) -> str:
    """Our suffix for the stored song: the client's if it is an audio one, else what the content says."""
    ext = Path(display_name(name)).suffix.lower().lstrip(".")
    if ext in AUDIO_SUFFIXES:
        return ext
    try:
        fmt = soundfile.info(str(path)).format.lower()
    except (RuntimeError, OSError, ValueError, TypeError):
        return "bin"
    return {"wav": "wav", "flac": "flac", "ogg": "ogg", "mpeg": "mp3", "aiff": "aiff"}.get(fmt, "bin")


def check_song(path: Path, shown_as: str, max_minutes: float) -> float:
    """Decode the stored song; returns its duration. ChoreoError (naming the client's file, never ours)."""
    from choreo.music.audio import MIN_SECONDS, load_audio

    try:
        audio = load_audio(path, min_seconds=MIN_SECONDS, max_seconds=max_minutes * 60.0)
    except ChoreoError as exc:
        message = str(exc).replace(str(path), shown_as)
        raise ChoreoError(message) from None
    return audio.duration


def store_upload(src, folder: Path, name: str | None) -> Path:  # noqa: ANN001 - a binary file object
    """Copy an uploaded file into `folder` as song.<ext> (the suffix decided from name or content)."""
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / "upload.part"
    with open(part, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)
    final = folder / f"song.{song_suffix(name, part)}"
    part.replace(final)
    return final
