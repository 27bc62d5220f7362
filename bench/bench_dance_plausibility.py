"""Pops, instant turns and flicks (a joint moving > 30 cm in one frame) left in the finished members of `choreo
dance`, beside the beat hit rate and the worst seam, on synthesized songs with the demo song's structure
(bench_dance.song_of), the shipped default model, `make_plan(seed=s)` and `ComposeSettings(seed=s)` per seed.

    cd backend && ../.venv/bin/python ../bench/bench_dance_plausibility.py --minutes 1.5 --seeds 0 1 2 3
    cd backend && ../.venv/bin/python ../bench/bench_dance_plausibility.py --minutes 3 --seeds 0 1
    cd backend && ../.venv/bin/python ../bench/bench_dance_plausibility.py --style girl-crush --seeds 0 1
    cd backend && ../.venv/bin/python ../bench/bench_dance_plausibility.py --set transition_steps=4  # any field
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

from bench_dance import song_of

from choreo.bundle import load_bundle
from choreo.choreography.compose import Composer, ComposeSettings
from choreo.choreography.plan import make_plan
from choreo.choreography.report import measure
from choreo.generate import Generator
from choreo.metrics.plausibility import JUMP_METRES, flicks, instant_turns, largest_joint_step, pops
from choreo.music.analyze import analyze

from machine import machine_info


def _setting(text: str) -> tuple[str, object]:
    """"transition_steps=4" -> ("transition_steps", 4), typed as the ComposeSettings field's default."""
    name, _, value = text.partition("=")
    fields = {f.name: f for f in dataclasses.fields(ComposeSettings)}
    if name not in fields or not value:
        raise SystemExit(f"--set {text!r}: expected FIELD=VALUE with FIELD one of {', '.join(fields)}")
    default = fields[name].default
    if isinstance(default, bool):
        return name, value.lower() in ("1", "true", "yes")
    if default is None:  # int | None or float | None
        return name, int(value) if value.lstrip("-").isdigit() else float(value)
    return name, type(default)(value)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=1.5)
    ap.add_argument("--members", type=int, default=5)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("--style", default="kpop")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="a ComposeSettings field for every run, e.g. transition_steps=4 (repeatable)")
    ap.add_argument("--backend", default="auto", choices=["auto", "onnx", "torch"],
                    help="the network's runtime (auto, as `choreo dance`: the ONNX export when it is up to date)")
    ap.add_argument("--json")
    args = ap.parse_args()
    overrides = dict(_setting(text) for text in args.set)
    gen = Generator(load_bundle(Path(__file__).resolve().parents[1] / "backend/choreo/default_model",
                                backend=args.backend))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        song = analyze(song_of(args.minutes, Path(tmp)))
        for seed in args.seeds:
            comp = Composer(gen, ComposeSettings(seed=seed, **overrides))
            t0 = time.perf_counter()
            ch = comp.compose(song, make_plan(song, members=args.members, style=args.style, seed=seed))
            seconds = time.perf_counter() - t0
            report = measure(ch)
            row = {"seed": seed, **overrides, "style": args.style, "minutes": round(song.duration / 60, 2),
                   "members": args.members,
                   "pops_and_turns": sum(len(pops(j, ch.fps)) + len(instant_turns(j)) for j in ch.members),
                   "flicks": sum(len(flicks(j, JUMP_METRES)) for j in ch.members),
                   "largest_step_m": round(max(largest_joint_step(j) for j in ch.members), 3),
                   "hit_rate": round(report["beats"]["after"]["hit_rate"], 3),
                   "hit_rate_half_beat": round(report["beats"]["after"]["hit_rate_half_beat"], 3),
                   "worst_seam_accel": round(report["seams"]["seam_accel_max"], 1),
                   "energy_r": round(report["energy"]["correlation"], 3),
                   "closest_pelvises_m": round(report["stage"].get("min_pelvis_distance_m", float("nan")), 2),
                   "compose_s": round(seconds, 1), "clean_up_s": round(comp.timings.get("clean-up", 0.0), 2)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine_info(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
