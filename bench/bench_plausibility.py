"""Pops, instant turns, flicks (a joint moving > 30 cm in one frame), hovering and skating in generated clips,
with the generator's repair off and on (`GenerationRequest.repairs`) and foot locking off and on
(`clean_feet`), on the shipped default model. Five prompts (salsa, two CMU modern-dance descriptions, modern,
charleston), `--samples` clips each, the same seeds for every setting (so "lock off" is the same motion
before `lock_feet`).

    cd backend && ../.venv/bin/python ../bench/bench_plausibility.py --seconds 6 --samples 8    # 40 6-s clips
    cd backend && ../.venv/bin/python ../bench/bench_plausibility.py --seconds 30 --samples 2   # 10 chained 30-s

Beside them, the real CMU dance clips (`--real`, default ../shared/data/cmu when it is there) cut into windows of
the same length: skating and hovering as captured and put on the floor the way generated motion is
(`metrics.foot.grounded_as_generated`), the fair reference for MotionLCM's absolute 5-cm toe height.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from choreo.bundle import load_bundle
from choreo.config import DEFAULT_MODEL
from choreo.generate import GenerationRequest, Generator
from choreo.metrics.foot import grounded_as_generated, skating_ratio_lodge, skating_ratio_motionlcm
from choreo.metrics.plausibility import flicks, hovering, instant_turns, largest_joint_step, pops, seam_report

from machine import machine_info

PROMPTS = ("a person dances salsa", "dance - expressive arms, pirouette",
           "dance - sideways arabesque, turn step, folding arms", "a person dances energetically, modern dance",
           "a person dances the charleston")


def seam_frames(gen: Generator, frames: int) -> list[int]:
    """Where chained windows meet (generate.Generator._continue): each window after the first replaces the last
    overlap + 1 frames; its rows are exact for overlap - SEAM_RAMP of them, then ramp into its own."""
    from choreo.generate import SEAM_RAMP

    overlap = min(40, gen.window // 4)
    out, length = [], gen.window
    while length < frames:
        keep = length - (overlap + 1)
        out += [keep + overlap - min(SEAM_RAMP, overlap - 1), keep + overlap]
        length = keep + gen.window
    return [f for f in out if f < frames - 1]


def measure(gen: Generator, seconds: float, samples: int, repairs: int, clean_feet: bool) -> tuple[dict, list]:
    bad, n_pops, n_turns, steps, hover, n_flicks, flicked, lodge, mlcm = 0, 0, 0, [], [], 0, 0, [], []
    clips, seams_above = [], 0
    t0 = time.perf_counter()
    for i, text in enumerate(PROMPTS):
        for m in gen.generate(GenerationRequest(text=text, seconds=seconds, samples=samples, seed=100 + i,
                                                repairs=repairs, clean_feet=clean_feet)):
            p, t, f = len(pops(m.joints, 20)), len(instant_turns(m.joints)), len(flicks(m.joints))
            n_pops, n_turns, bad = n_pops + p, n_turns + t, bad + ((p + t) > 0)
            n_flicks, flicked = n_flicks + f, flicked + (f > 0)
            steps.append(largest_joint_step(m.joints))
            hover.append(hovering(m.joints))
            lodge.append(skating_ratio_lodge(m.joints, 20))
            mlcm.append(skating_ratio_motionlcm(m.joints, 20))
            clips.append(m.joints)
            seams = seam_frames(gen, len(m.joints))
            if seams:
                seams_above += seam_report(m.joints, 20, seams)["seams_above_p99"]
    row = {"repairs": repairs, "clean_feet": clean_feet, "clips": len(steps), "clips_with_pop_or_turn": bad,
           "pops": n_pops, "instant_turns": n_turns, "clips_with_flick": flicked, "flicks": n_flicks,
           "largest_joint_step_m": round(max(steps), 3), "median_largest_step_m": round(float(np.median(steps)), 3),
           "largest_step_per_clip_m": [round(s, 3) for s in steps], "hovering_worst_cm": round(100 * max(hover), 1),
           "skating_lodge": round(float(np.nanmean(lodge)), 3), "skating_motionlcm": round(float(np.nanmean(mlcm)), 3),
           "seams_above_clip_p99": seams_above, "seconds": round(time.perf_counter() - t0, 1)}
    return row, clips


def real_row(folder: Path, seconds: float) -> dict:
    """Skating (mean, p10, p90) and median hovering of the real clips' windows, as captured and grounded as
    generated motion is."""
    from choreo.importers import load_motions

    frames = int(round(seconds * 20)) + 1
    windows = [m.joints[s:s + frames] for m in load_motions(folder) for s in range(0, len(m.joints) - frames + 1,
                                                                                  frames - 1)]
    row: dict = {"real_windows": len(windows), "seconds": seconds}
    for name, clips in (("captured", windows), ("grounded", [grounded_as_generated(w) for w in windows])):
        for metric, f in (("skating_lodge", skating_ratio_lodge), ("skating_motionlcm", skating_ratio_motionlcm)):
            v = np.array([f(w, 20) for w in clips])
            row[f"{name}_{metric}"] = [round(float(x), 3) for x in (np.nanmean(v), *np.nanpercentile(v, [10, 90]))]
        row[f"{name}_hovering_median_cm"] = round(100 * float(np.median([hovering(w) for w in clips])), 1)
    return row


def lock_made(before: list, after: list) -> int:
    """Flicks present after lock_feet that were not there before it (same motion, lock off vs on)."""
    made = 0
    for b, a in zip(before, after, strict=True):
        sb = np.linalg.norm(np.diff(b, axis=0), axis=-1)
        sa = np.linalg.norm(np.diff(a, axis=0), axis=-1)
        made += int(((sa > 0.3) & (sb <= 0.3)).sum())
    return made


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--samples", type=int, default=8, help="clips per prompt")
    ap.add_argument("--json")
    ap.add_argument("--save", help="folder: the clips of every setting as .npz (for offline metrics)")
    ap.add_argument("--real", default=str(Path(__file__).resolve().parents[2] / "shared/data/cmu"),
                    help="folder of real dance clips for the reference row (skipped when missing)")
    args = ap.parse_args()
    result = {"machine": machine_info(), "load_average": os.getloadavg(), "rows": []}
    if Path(args.real).is_dir():
        result["real"] = real_row(Path(args.real), args.seconds)
        print("real, [mean, p10, p90]:", result["real"])
    gen = Generator(load_bundle(DEFAULT_MODEL))
    for repairs in (0, 3):
        unlocked, before = measure(gen, args.seconds, args.samples, repairs, clean_feet=False)
        locked, after = measure(gen, args.seconds, args.samples, repairs, clean_feet=True)
        locked["flicks_made_by_lock"] = lock_made(before, after)
        if args.save:
            Path(args.save).mkdir(parents=True, exist_ok=True)
            for name, clips in (("unlocked", before), ("locked", after)):
                np.savez(Path(args.save) / f"{args.seconds:g}s_repairs{repairs}_{name}.npz", *clips)
        for row in (unlocked, locked):
            print({k: v for k, v in row.items() if k != "largest_step_per_clip_m"})
            result["rows"].append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
