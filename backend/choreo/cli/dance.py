"""`choreo dance SONG --out DIR`: a song and a few wishes in, a whole-song group choreography out.

First the song is analysed and a plan written (DIR/plan.json: per section its bars, prompt, repeat, formation,
how the members move); then the plan is danced and every output written (see choreography.outputs).
`--plan FILE` dances an edited plan; with `--regenerate K` only section K is danced anew and every other frame
is kept from the choreography.json next to that plan. The work itself is choreography.pipeline's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from choreo.cli._args import SEED, bounded, positive_int
from choreo.errors import ChoreoError

MAX_MINUTES = 10.0  # the same default as choreography.pipeline (imported late: it pulls in torch)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dance", help="a whole song danced by a group: plan, motion, BVH/glTF/MP4")
    p.add_argument("song", help="audio file: WAV, FLAC, OGG, MP3, M4A/AAC or anything ffmpeg reads")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--members", type=int, default=5, help="group size, 1-12 (default 5)")
    p.add_argument("--style", default="kpop", help="style of the default prompts (kpop, hiphop, girl-crush, cute, "
                                                 "ballad; default kpop)")
    p.add_argument("--prompt", help="your own wording for every section (the style's intensity words are kept)")
    p.add_argument("--section-prompts", "--section_prompts", dest="section_prompts",
                   help="JSON file of prompts per section kind ('chorus'), label ('D') or index ('3')")
    p.add_argument("--formations", help="comma-separated formation names used in order over the distinct "
                                        "sections (see docs/CHOREOGRAPHY.md), e.g. 'v,two_rows,diamond'")
    p.add_argument("--point-move", "--point_move", dest="point_move", metavar="NAME",
                   help="a move of the library (choreo moves list) danced on bar 1 (and 5, 9 ... where it fits) of "
                        "every chorus")
    p.add_argument("--seed", type=SEED, default=0, help="random seed (default 0): the same inputs give the same dance")
    p.add_argument("--plan", help="dance this (edited) plan.json instead of making one")
    p.add_argument("--regenerate", type=int, metavar="K",
                   help="with --plan: dance section K anew, keep every other frame of the plan's choreography.json")
    p.add_argument("--candidates", type=bounded(int, 1, 8), default=3,
                   help="samples per distinct section, the best fitting beat and energy is kept (1-8, default 3)")
    p.add_argument("--model", help="model file or folder (default: the shipped default model)")
    p.add_argument("--steps", type=positive_int, help="sampling steps (default: the model's)")
    p.add_argument("--no-video", action="store_true", help="skip preview.mp4 (the slowest output to write)")
    p.add_argument("--force", action="store_true", help="replace the files of an earlier run in --out")
    p.add_argument("--max-minutes", type=float, default=MAX_MINUTES,
                   help=f"refuse longer songs (default {MAX_MINUTES:g})")
    p.set_defaults(func=run)


def _check_args(args: argparse.Namespace) -> None:
    from choreo.choreography.formations import formation_names

    if not 1 <= args.members <= 12:
        raise ChoreoError(f"--members must be between 1 and 12, got {args.members}")
    if args.regenerate is not None and not args.plan:
        raise ChoreoError("--regenerate K needs --plan DIR/plan.json (the choreography whose section K is redone)")
    if args.plan and (args.prompt or args.section_prompts or args.formations or args.point_move):
        raise ChoreoError("--plan is danced as written: edit its prompts, formations and points instead of passing "
                          "--prompt/--section-prompts/--formations/--point-move")
    if args.point_move:
        from choreo.choreography.moves import check_name

        check_name(args.point_move)
    if args.formations:
        for name in (n.strip() for n in args.formations.split(",")):
            if name not in formation_names():
                raise ChoreoError(f"--formations: unknown formation {name!r}; known: {', '.join(formation_names())}")
    if not args.max_minutes > 0:
        raise ChoreoError("--max-minutes must be positive")


def run(args: argparse.Namespace) -> int:
    from choreo.choreography.outputs import OUTPUT_NAMES
    from choreo.choreography.pipeline import DanceWishes, plan_dance
    from choreo.choreography.plan import Plan
    from choreo.config import load_settings, resolve_model_file
    from choreo.export import prepare_output_folder

    started = time.perf_counter()
    _check_args(args)
    formations = [n.strip() for n in args.formations.split(",")] if args.formations else None
    wishes = DanceWishes(members=args.members, style=args.style, prompt=args.prompt,
                         section_prompts=args.section_prompts, formations=formations, seed=args.seed,
                         point_move=args.point_move)
    plan = Plan.load(args.plan) if args.plan else None
    previous = Path(args.plan).with_name("choreography.json") if args.plan else None
    planned = plan_dance(args.song, wishes, plan=plan, regenerate=args.regenerate, previous=previous,
                         max_minutes=args.max_minutes)
    settings = load_settings(None)
    resolve_model_file(args.model or settings.model_path)  # a missing model fails before any file is written
    out = prepare_output_folder(args.out, force=args.force, names=OUTPUT_NAMES)
    planned.plan.save(out / "plan.json")  # first, so it can be edited even if the dance is interrupted
    return _dance(args, settings, planned, out, started)


def _dance(args: argparse.Namespace, settings, planned, out: Path, started: float) -> int:  # noqa: ANN001
    from tqdm import tqdm

    from choreo.bundle import load_bundle
    from choreo.choreography.pipeline import dance
    from choreo.choreography.report import summary_text
    from choreo.generate import Generator

    bundle = load_bundle(args.model or settings.model_path, data_path=settings.data_path, backend="auto")
    if bundle.backend_note:
        print(f"note: sampling with torch (slower): {bundle.backend_note}", file=sys.stderr)
    bars: dict[str, tqdm] = {}

    def progress(what: str, done: int, total: int) -> None:
        if what == "outputs":  # quick files before the video: no bar of their own
            return
        bar = bars.get(what)
        if bar is None:
            unit = "frame" if what == "video" else "step"
            bar = bars[what] = tqdm(total=total, desc="preview video" if what == "video" else what, unit=unit,
                                    dynamic_ncols=True, leave=True)
        bar.total = max(total, done)
        bar.n = done
        bar.refresh()

    result = dance(Generator(bundle), planned, out, args.song, candidates=args.candidates, steps=args.steps,
                   video=not args.no_video, progress=progress)
    for bar in bars.values():
        bar.close()
    print(summary_text(result.choreography.report, planned.plan, time.perf_counter() - started))
    print("      " + ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items()))
    print(f"wrote {len(result.paths)} files to {out}:")
    for name, path in result.paths.items():
        print(f"  {name:<14} {path.name}")
    return 0
