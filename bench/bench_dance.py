"""`choreo dance` end to end on synthesized songs: how the time grows with members and song length.

Each run: analysis, plan, generation (material + transitions), beat sync, feet, exports without the MP4
(timed apart), with the shipped default model. Records the machine (bench/machine.py).

    ../.venv/bin/python ../bench/bench_dance.py --members 1 5 --minutes 1.5 3 --json /tmp/bench_dance.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from choreo.bundle import load_bundle
from choreo.choreography.compose import Composer, ComposeSettings
from choreo.choreography.outputs import write_dance_outputs
from choreo.choreography.plan import make_plan
from choreo.choreography.report import measure
from choreo.formats.group_preview import write_group_preview
from choreo.generate import Generator
from choreo.music.analyze import analyze
from choreo.music.demo_song import DEFAULT_STRUCTURE, synthesize, write_demo_song

from machine import machine_info


def song_of(minutes: float, folder: Path) -> Path:
    bars = sum(b for _, b in DEFAULT_STRUCTURE)
    seconds_per_bar = 4 * 60.0 / 132.0
    repeats = max(1, round(minutes * 60.0 / (bars * seconds_per_bar)))
    structure = DEFAULT_STRUCTURE[:-1] * repeats + DEFAULT_STRUCTURE[-1:]
    path, _ = write_demo_song(folder / f"song_{minutes:g}.wav", synthesize(structure=structure))
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, nargs="+", default=[1, 5])
    ap.add_argument("--minutes", type=float, nargs="+", default=[1.5, 3.0])
    ap.add_argument("--video", action="store_true", help="also time preview.mp4 (for the largest run)")
    ap.add_argument("--backend", default="auto", choices=["auto", "onnx", "torch"],
                    help="the network's runtime (auto, as `choreo dance`: the ONNX export when it is up to date)")
    ap.add_argument("--json")
    args = ap.parse_args()
    rows = []
    gen = Generator(load_bundle(Path(__file__).resolve().parents[1] / "backend/choreo/default_model",
                                backend=args.backend))
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            path = song_of(minutes, Path(tmp))
            for members in args.members:
                t0 = time.perf_counter()
                song = analyze(path)
                t1 = time.perf_counter()
                plan = make_plan(song, members=members)
                comp = Composer(gen, ComposeSettings())
                ch = comp.compose(song, plan)
                t2 = time.perf_counter()
                ch.report = measure(ch)
                t3 = time.perf_counter()
                out = Path(tmp) / f"out_{minutes:g}_{members}"
                out.mkdir()
                write_dance_outputs(out, ch, path, video=False)
                t4 = time.perf_counter()
                row = {"minutes": round(song.duration / 60, 2), "members": members, "analysis_s": t1 - t0,
                       "compose_s": t2 - t1, "report_s": t3 - t2, "exports_s": t4 - t3, "end_to_end_s": t4 - t0,
                       "distinct_transitions": comp.distinct_transitions,
                       **{f"{k}_s": v for k, v in comp.timings.items()},
                       "hit_rate": ch.report["beats"]["after"]["hit_rate"]}
                if args.video and minutes == max(args.minutes) and members == max(args.members):
                    t5 = time.perf_counter()
                    write_group_preview(out / "preview.mp4", ch.members, ch.fps, audio=path)
                    row["preview_mp4_s"] = time.perf_counter() - t5
                rows.append(row)
                print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    result = {"machine": machine_info(), "rows": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
