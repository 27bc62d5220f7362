"""Point moves on the demo song: the numbers of docs/CHOREOGRAPHY.md "Point moves", with and without the move.

The move: a 2.4 s crop (0.3-2.7 s) of a 3 s clip the shipped default model dances for
"dance - expressive arms, pirouette" (seed 5), stated 100 BPM (4 beats), placed by `--point-move`'s rule
(bar 1 and 5 of every chorus) on `choreo demo-song` (seed 0), 5 members, seed 0. Prints per run: the move's
largest error in the body frame against its re-timing, the start frames' distance to their beats, how far its
beats land from the song's, the seams into and out of the move against every seam, beats, repeats, skating,
time (with the machine: bench/machine.py).

    cd backend && PYTHONPATH=$PWD ../.venv/bin/python ../bench/bench_point_moves.py --json /tmp/point_moves.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from choreo.bundle import load_bundle
from choreo.choreography.compose import Composer, ComposeSettings
from choreo.choreography.moves import move_from_motion, retime
from choreo.choreography.plan import make_plan
from choreo.choreography.points import place_point_move
from choreo.choreography.report import body_frame, measure, seam_stats
from choreo.config import DEFAULT_MODEL
from choreo.generate import GenerationRequest, Generator
from choreo.music.analyze import analyze_file
from choreo.music.demo_song import synthesize, write_demo_song

from machine import machine_info


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=5)
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp())
    audio, _ = write_demo_song(folder / "demo.wav", synthesize(seed=0))
    song = analyze_file(audio).song
    gen = Generator(load_bundle(DEFAULT_MODEL))
    clip = gen.generate(GenerationRequest(text="dance - expressive arms, pirouette", seconds=3.0, seed=5))[0].joints
    move = move_from_motion("wave", clip, start=0.3, end=2.7, bpm=100.0)
    rows = [{"machine": machine_info()}]
    for with_move in (False, True):
        plan = make_plan(song, members=args.members, seed=0)
        if with_move:
            place_point_move(plan, move, song)
        composer = Composer(gen, ComposeSettings(seed=0))
        t0 = time.perf_counter()
        ch = composer.compose(song, plan, moves={"wave": move})
        seconds = time.perf_counter() - t0
        r = measure(ch)
        row = {"with_move": with_move, "seconds": round(seconds, 1),
               "timings_s": {k: round(v, 2) for k, v in composer.timings.items()},
               "distinct_transitions": composer.distinct_transitions,
               "beats_after": r["beats"]["after"], "seams": r["seams"], "repeats_worst_m": r["repeats"]["worst_m"],
               "foot_skating_motionlcm": r["stage"]["foot_skating_motionlcm"]}
        if with_move:
            errors, starts, landing = [], [], []
            for p in ch.points:
                _, offsets, expected = retime(move, song.beats, p["beat"], song.tempo)
                got = ch.members[p["member"]][p["start_frame"] + offsets]
                errors.append(float(np.linalg.norm(body_frame(got) - body_frame(expected), axis=-1).max()))
                starts.append(abs(p["start_frame"] - song.beats[p["beat"]] * ch.fps))
                landing += [abs(p["start_frame"] / ch.fps + k * 60.0 / song.tempo - song.beats[p["beat"] + k])
                            for k in range(int(move.beats))]
            edges = sorted({f for p in ch.points for f in (p["start_frame"], p["end_frame"])})
            row.update(placements=len(ch.points), move_error_max_m=max(errors), start_offset_max_frames=max(starts),
                       beat_landing_max_s=max(landing), move_seams=seam_stats(ch.members, ch.fps, edges))
        rows.append(row)
        print(json.dumps(row))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
