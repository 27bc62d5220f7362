"""Pops, instant turns, hovering and the largest one-frame joint move in generated clips, with the generator's
repair off and on (`GenerationRequest.repairs`), on the shipped default model. Four prompts (salsa, modern,
charleston, sharp arm moves), `--samples` clips each, the same seeds for both settings.

    cd backend && ../.venv/bin/python ../bench/bench_plausibility.py --seconds 6 --samples 10    # 40 6-s clips
    cd backend && ../.venv/bin/python ../bench/bench_plausibility.py --seconds 30 --samples 2   # 8 chained 30-s
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from choreo.bundle import load_bundle
from choreo.config import DEFAULT_MODEL
from choreo.generate import GenerationRequest, Generator
from choreo.metrics.plausibility import hovering, instant_turns, largest_joint_step, pops

from machine import machine_info

PROMPTS = ("a person dances salsa", "a person dances energetically, modern dance", "a person dances the charleston",
           "a person dances with sharp arm moves")


def measure(gen: Generator, seconds: float, samples: int, repairs: int) -> dict:
    bad, n_pops, n_turns, steps, hover = 0, 0, 0, [], []
    t0 = time.perf_counter()
    for i, text in enumerate(PROMPTS):
        for m in gen.generate(GenerationRequest(text=text, seconds=seconds, samples=samples, seed=100 + i,
                                                repairs=repairs)):
            p, t = len(pops(m.joints, 20)), len(instant_turns(m.joints))
            n_pops, n_turns, bad = n_pops + p, n_turns + t, bad + ((p + t) > 0)
            steps.append(largest_joint_step(m.joints))
            hover.append(hovering(m.joints))
    return {"repairs": repairs, "clips": len(steps), "clips_with_pop_or_turn": bad, "pops": n_pops,
            "instant_turns": n_turns, "largest_joint_step_m": round(max(steps), 3),
            "clips_with_step_over_0.3m": sum(s > 0.3 for s in steps), "hovering_worst_cm": round(100 * max(hover), 1),
            "seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--samples", type=int, default=10, help="clips per prompt")
    ap.add_argument("--json")
    args = ap.parse_args()
    result = {"machine": machine_info(), "rows": []}
    gen = Generator(load_bundle(DEFAULT_MODEL))
    for repairs in (0, 3):
        row = measure(gen, args.seconds, args.samples, repairs)
        print(row)
        result["rows"].append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
