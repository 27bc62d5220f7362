"""Speed of `choreo import-video` on a 720p, 30-fps video (not a test).

Writes a video of scikit-image's `astronaut` photograph moving and breathing in size over a 1280x720 frame
(the only person-photo that ships in a package), then times: decoding alone (ffmpeg of imageio-ffmpeg,
scaled to the 640-pixel detection size), decoding + MediaPipe pose detection, and the whole import
(+ retargeting, root, foot locking, report). Frames per second are video frames; above 30 is faster than
real time.

    cd backend && ../.venv/bin/python ../bench/bench_import_video.py --seconds 20 --json /tmp/bench_video.json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from machine import machine_info


def write_video(path: Path, seconds: float, width: int = 1280, height: int = 720, fps: int = 30) -> None:
    import imageio_ffmpeg
    from skimage import data
    from skimage.transform import resize

    photo = data.astronaut()
    cache: dict[int, np.ndarray] = {}
    n = int(seconds * fps)
    writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=fps, quality=7, macro_block_size=8)
    writer.send(None)
    for i in range(n):
        t = i / n
        size = int(420 + 60 * np.sin(2 * np.pi * 3 * t)) // 8 * 8
        if size not in cache:
            cache[size] = (resize(photo, (size, size), anti_aliasing=True) * 255).astype(np.uint8)
        x = int(100 + 600 * (0.5 - 0.5 * np.cos(2 * np.pi * t)))
        y = int(60 + 40 * np.sin(2 * np.pi * 4 * t))
        frame = np.full((height, width, 3), 90, np.uint8)
        frame[y: y + size, x: x + size] = cache[size][: height - y, : width - x]
        writer.send(frame)
    writer.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--json", help="write the numbers here")
    args = p.parse_args()

    from choreo.video.decode import open_video
    from choreo.video.detector import detect_track
    from choreo.video.pipeline import import_video

    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "bench_720p30.mp4"
        write_video(video, args.seconds)
        out: dict = {"machine": machine_info(), "video": {"size": [1280, 720], "fps": 30, "seconds": args.seconds}}

        t0 = time.perf_counter()
        info, frames = open_video(video)
        n = sum(1 for _ in frames)
        decode = time.perf_counter() - t0
        t0 = time.perf_counter()
        info, frames = open_video(video)
        track, _ = detect_track(frames, info)
        detect = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = import_video(video, overlay_frames=8)
        full = time.perf_counter() - t0
        out["frames"] = n
        out["fps"] = {"decode": n / decode, "decode_detect": n / detect, "import_video": n / full}
        out["tracked_fraction"] = result.report["tracked_fraction"]
        out["load_average_after"] = os.getloadavg()
    for k, v in out["fps"].items():
        print(f"{k:>14}: {v:6.1f} frames/s ({v / 30:.2f}x real time)")
    print(json.dumps({k: out[k] for k in ("machine", "frames", "tracked_fraction", "load_average_after")}))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
