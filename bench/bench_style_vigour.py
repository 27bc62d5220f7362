"""How vigorously the shipped model dances each prompt of the dance styles: the mean joint speed (m/s) of
material sampled as `choreo dance` samples it (no frame given, the root held by the composer's
`material_root_weight`), over several samples per prompt, and the share of its kinematic beats the beat warp
puts on the demo song's 132-bpm beats (faster words land fewer). A style's energy only follows the song when its big
sections' prompts are danced faster than its calm ones, and the model's speed comes from its movement words, not
from the intensity words (measured: "small relaxed steps" vs "fast powerful moves" after the same movement words
differ by less than the sample spread), so each style table is checked against these numbers
(bench/style_vigour.json, read by backend/tests/test_plan.py).

    cd backend && CHOREO_THREADS=2 ../.venv/bin/python ../bench/bench_style_vigour.py --write
    cd backend && ../.venv/bin/python ../bench/bench_style_vigour.py --extra "dance - turn step" "salsa dance"
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from choreo.bundle import load_bundle
from choreo.choreography.compose import Composer
from choreo.choreography.styles import STYLES
from choreo.generate import Generator
from choreo.music.analyze import analyze
from choreo.music.demo_song import synthesize, write_demo_song
from choreo.music.song import Song
from choreo.skeleton import FPS

from machine import machine_info

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "bench/style_vigour.json"


def style_prompts() -> list[str]:
    """Every movement description the styles use, once."""
    seen: dict[str, None] = {}
    for style in STYLES.values():
        for levels in style.moves.values():
            for text in levels.values():
                seen.setdefault(text, None)
    return list(seen)


def vigour(composer: Composer, prompt: str, samples: int, frames: int, seed: int, song: Song) -> dict[str, float]:
    """Mean and spread over samples of the mean joint speed of material danced to `prompt`, and the mean share
    of its kinematic beats the warp puts on `song`'s beats."""
    fits = composer.prompt_fit(prompt, frames, samples, seed, song=song, start=song.downbeats[2])
    speeds, hits = np.array([f[0] for f in fits]), np.array([f[1] for f in fits], dtype=float)
    return {"mean_joint_speed": round(float(speeds.mean()), 3), "spread": round(float(speeds.std()), 3),
            "beat_hit_rate": round(float(np.nanmean(hits)), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--extra", nargs="*", default=[], help="more prompts to measure beside the styles'")
    ap.add_argument("--write", action="store_true", help=f"write the styles' numbers to {TABLE.relative_to(ROOT)}")
    args = ap.parse_args()
    composer = Composer(Generator(load_bundle(ROOT / "backend/choreo/default_model")))
    frames = int(round(args.seconds * FPS))
    print(json.dumps({"machine": machine_info(), "samples": args.samples, "seconds": args.seconds}), flush=True)
    table: dict[str, dict[str, float]] = {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:  # the demo song's tempo (132 bpm), for the beat fit
        song = analyze(write_demo_song(Path(tmp) / "demo.wav", synthesize())[0])
    for prompt in style_prompts() + args.extra:
        table[prompt] = row = vigour(composer, prompt, args.samples, frames, args.seed, song)
        print(f"{row['mean_joint_speed']:6.3f} ± {row['spread']:5.3f} m/s  beats {row['beat_hit_rate']:4.0%}  {prompt}",
              flush=True)
    print(f"{len(table)} prompts in {time.perf_counter() - t0:.0f} s")
    if args.write:
        measured = {p: v for p, v in table.items() if p in set(style_prompts())}
        TABLE.write_text(json.dumps({"model": "choreo/default_model", "samples": args.samples,
                                     "seconds": args.seconds, "seed": args.seed, "prompts": measured},
                                    indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {TABLE}")


if __name__ == "__main__":
    main()
