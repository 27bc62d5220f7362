"""Video frames as RGB arrays, decoded by the ffmpeg binary that imageio-ffmpeg ships."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError

# Longest stretch of video imported in one go; longer videos need --start/--end (a practice video of a
# whole routine is 3-5 minutes; 20 minutes at 30 fps is already ~40 minutes of pose detection here).
MAX_SECONDS = 20 * 60.0
# Frames are decoded at most this many pixels on the long side: the pose model looks at 256x256 crops,
# so bigger frames only cost decoding and resizing time.
DETECT_MAX_SIDE = 640
# Pose is detected at up to this rate: 60-fps videos are decimated by an integer factor (no jitter).
MAX_DETECT_FPS = 30.0


class _ScaledOnPurpose(logging.Filter):
    """imageio-ffmpeg warns when frames are read smaller than the source: we scale down on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "is different from the source frame size" not in record.getMessage()


logging.getLogger("imageio_ffmpeg").addFilter(_ScaledOnPurpose())


@dataclass
class VideoInfo:
    """What ffmpeg says about the part of a video being read."""

    path: str
    fps: float  # rate of the frames we get (after decimation)
    width: int  # size of the decoded frames (after down-scaling)
    height: int
    source_size: tuple[int, int]
    source_fps: float
    duration: float  # seconds of the whole file
    start: float
    end: float  # end of the part being read (seconds)

    @property
    def expected_frames(self) -> int:
        return max(int(round((self.end - self.start) * self.fps)), 1)


def _ffmpeg_message(exc: Exception) -> str:
    """The line of ffmpeg's error output that says what is wrong (without its "[in#0 @ 0x...]" tag)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    for ln in lines:
        if "Invalid data" in ln or "Error opening input:" in ln or "does not contain any stream" in ln:
            return ln.split("] ", 1)[-1]
    return lines[-1] if lines else "no message"


def _scaled_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    # Even sizes: some pixel formats need them.
    return max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2)


def open_video(
    path: str | Path,
    *,
    start: float | None = None,
    end: float | None = None,
    mirror: bool = False,
    max_side: int = DETECT_MAX_SIDE,
    max_seconds: float = MAX_SECONDS,
) -> tuple[VideoInfo, Iterator[np.ndarray]]:
    """Probe `path` and return its info and an iterator of RGB frames [H,W,3] uint8 over [start, end).

    `mirror` flips every frame left-right (a video filmed in a mirror). ChoreoError for a missing file,
    a file ffmpeg cannot read, a file without a video stream, or a part longer than `max_seconds`.
    """
    import imageio_ffmpeg

    path = Path(path)
    if not path.is_file():
        raise ChoreoError(f"{path}: no such file")
    start = float(start or 0.0)
    if start < 0 or (end is not None and end <= start):
        raise ChoreoError(f"{path}: --start must be >= 0 and below --end (got {start:g}, {end})")
    try:
        probe = imageio_ffmpeg.read_frames(str(path))
        meta = next(probe)
        probe.close()
    except (OSError, RuntimeError, StopIteration) as exc:
        msg = _ffmpeg_message(exc)
        if "does not contain any stream" in msg or "no video stream" in str(exc).lower():
            raise ChoreoError(f"{path}: has no video stream (an audio-only file?)") from exc
        raise ChoreoError(f"{path}: ffmpeg cannot read this file as video ({msg})") from exc
    source_fps = float(meta.get("fps") or 0.0)
    duration = float(meta.get("duration") or 0.0)
    if not source_fps > 0 or not math.isfinite(source_fps):
        raise ChoreoError(f"{path}: the video has no frame rate (a still image?)")
    if duration > 0:
        stop = min(float(end), duration) if end is not None else duration
    else:  # a stream without a duration in its header: read up to the limit
        stop = float(end) if end is not None else start + max_seconds
    if not stop or stop <= start:
        raise ChoreoError(f"{path}: nothing to read between {start:g} s and {stop or 0:g} s (video is {duration:g} s)")
    if stop - start > max_seconds:
        raise ChoreoError(
            f"{path}: {stop - start:.0f} s of video is more than the {max_seconds:.0f} s one import handles; "
            "import it in parts with --start S --end S"
        )
    step = max(1, int(math.ceil(source_fps / MAX_DETECT_FPS - 1e-6)))
    width, height = _scaled_size(*meta["source_size"], max_side)
    filters = [f"scale={width}:{height}"] + (["hflip"] if mirror else [])
    if step > 1:
        filters.insert(0, f"select=not(mod(n\\,{step}))")
    info = VideoInfo(str(path), source_fps / step, width, height, tuple(meta["source_size"]), source_fps,
                     duration, start, stop)
    out_params = ["-vf", ",".join(filters), "-fps_mode", "passthrough", "-t", f"{stop - start:.6f}"]
    in_params = ["-ss", f"{start:.6f}"] if start > 0 else []
    return info, _frames(path, in_params, out_params, width, height)


def _frames(path: Path, in_params: list[str], out_params: list[str], width: int, height: int
            ) -> Iterator[np.ndarray]:
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path), input_params=in_params, output_params=out_params)
    try:
        next(gen)
        for raw in gen:
            yield np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3)
    except (OSError, RuntimeError) as exc:
        raise ChoreoError(f"{path}: ffmpeg failed while decoding ({_ffmpeg_message(exc)})") from exc
    finally:
        gen.close()
