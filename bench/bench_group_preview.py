"""Speed of the group preview video (`choreo.formats.group_preview`, not a test).

Five members dance (smooth joint swings by forward kinematics, travelling across the stage) for N frames
at 20 fps; times, at each size: drawing alone (`GroupView.frame` + the raw bytes ffmpeg gets, one Python
thread), the whole silent `write_group_preview` (drawing + piping to libx264, which runs in its own
process and threads), and the same with a synthesized song muxed in as AAC. Above 20 frames/s is faster
than real time; a 3-minute song is 3600 frames.

    cd backend && ../.venv/bin/python ../bench/bench_group_preview.py --frames 600 --json /tmp/bench_gp.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from machine import machine_info

FPS = 20.0


def dancers(count: int, frames: int) -> list[np.ndarray]:
    from choreo.skeleton import NUM_JOINTS, forward_kinematics

    rng = np.random.default_rng(0)
    t = np.arange(frames)[:, None, None] / FPS
    out = []
    for i in range(count):
        axis = rng.normal(size=(NUM_JOINTS, 3))
        axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
        freq, phase = rng.uniform(0.5, 2.0, (NUM_JOINTS, 1)), rng.uniform(0, 6, (NUM_JOINTS, 1))
        angle = 0.5 * np.sin(2 * np.pi * freq * t + phase)
        quats = np.concatenate([np.cos(angle / 2), np.sin(angle / 2) * axis], axis=-1)
        quats[:, 0] = [1.0, 0.0, 0.0, 0.0]  # facing the audience
        x = (i - (count - 1) / 2) * 1.4 + 0.6 * np.sin(2 * np.pi * t[:, 0, 0] / 8 + i)
        z = -abs(i - (count - 1) / 2) * 0.8 + 0.5 * np.cos(2 * np.pi * t[:, 0, 0] / 8 + i)
        joints = forward_kinematics(quats, np.stack([x, np.full_like(x, 0.95), z], -1))
        joints[..., 1] -= joints[..., 1].min()
        out.append(joints)
    return out


def marks(seconds: float):
    from choreo.formats.group_preview import StageMarks

    beats = np.arange(0.3, seconds, 60 / 124)
    third = seconds / 3
    return StageMarks([(0, third, "intro"), (third, 2 * third, "verse 1 (A)"), (2 * third, seconds, "chorus (B)")],
                      beats, beats[::4])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=600)
    p.add_argument("--members", type=int, default=5)
    p.add_argument("--json", help="write the numbers here")
    args = p.parse_args()
    from choreo.formats.group_preview import GroupView, write_group_preview

    members = dancers(args.members, args.frames)
    seconds = args.frames / FPS
    stage = marks(seconds)
    names = [f"member {i + 1}" for i in range(args.members)]
    out: dict = {"machine": machine_info(), "members": args.members, "frames": args.frames, "fps": FPS,
                 "results": {}}
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "song.wav"
        rate = 44100
        tt = np.arange(int((seconds + 1) * rate)) / rate
        sf.write(wav, (0.2 * np.sin(2 * np.pi * 220 * tt)).astype(np.float32), rate)
        for size in ((640, 360), (960, 540)):
            key = f"{size[0]}x{size[1]}"
            t0 = time.perf_counter()
            view = GroupView(members, FPS, stage, names, None, "benchmark song", size)
            setup = time.perf_counter() - t0
            t0 = time.perf_counter()
            for t in range(args.frames):
                view.frame(t).tobytes()
            draw = args.frames / (time.perf_counter() - t0)
            t0 = time.perf_counter()
            write_group_preview(Path(tmp) / "silent.mp4", members, FPS, audio=None, marks=stage, names=names,
                                title="benchmark song", size=size)
            silent = args.frames / (time.perf_counter() - t0)
            t0 = time.perf_counter()
            write_group_preview(Path(tmp) / "song.mp4", members, FPS, audio=wav, marks=stage, names=names,
                                title="benchmark song", size=size)
            with_song = args.frames / (time.perf_counter() - t0)
            out["results"][key] = {"setup_s": round(setup, 3), "draw_fps": round(draw, 1),
                                   "write_silent_fps": round(silent, 1), "write_with_song_fps": round(with_song, 1)}
            print(f"{key}: setup {setup:.2f} s, drawing {draw:6.1f} frames/s, whole write {silent:6.1f} frames/s "
                  f"silent, {with_song:6.1f} with the song ({with_song / FPS:.1f}x real time)")
    out["load_average_after"] = machine_info()["load_average"]
    print(json.dumps(out))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
