"""`choreo dance SONG --out DIR`: a song and a few wishes in, a whole-song group choreography out.

First the song is analysed and a plan written (DIR/plan.json: per section its bars, prompt, repeat, formation,
how the members move); then the plan is danced and every output written (see choreography.outputs).
`--plan FILE` dances an edited plan; with `--regenerate K` only section K is danced anew and every other frame
is kept from the choreography.json next to that plan.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

from choreo.cli._args import SEED, bounded, positive_int
from choreo.errors import ChoreoError

MAX_MINUTES = 10.0


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


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check_args(args: argparse.Namespace) -> None:
    from choreo.choreography.formations import formation_names

    if not 1 <= args.members <= 12:
        raise ChoreoError(f"--members must be between 1 and 12, got {args.members}")
    if args.regenerate is not None and not args.plan:
        raise ChoreoError("--regenerate K needs --plan DIR/plan.json (the choreography whose section K is redone)")
    if args.plan and (args.prompt or args.section_prompts or args.formations):
        raise ChoreoError("--plan is danced as written: edit its prompts and formations instead of passing "
                          "--prompt/--section-prompts/--formations")
    if args.formations:
        for name in (n.strip() for n in args.formations.split(",")):
            if name not in formation_names():
                raise ChoreoError(f"--formations: unknown formation {name!r}; known: {', '.join(formation_names())}")
    if not args.max_minutes > 0:
        raise ChoreoError("--max-minutes must be positive")


def run(args: argparse.Namespace) -> int:
    from choreo.choreography.outputs import OUTPUT_NAMES
    from choreo.choreography.plan import Plan, load_section_prompts, make_plan, validate_plan
    from choreo.export import prepare_output_folder
    from choreo.music.analyze import analyze_file

    started = time.perf_counter()
    _check_args(args)
    song_path = Path(args.song)
    analysis = analyze_file(song_path, max_seconds=args.max_minutes * 60.0)  # a bad song fails here, first
    song = analysis.song
    sha = file_sha256(song_path)
    previous = None
    if args.plan:
        plan = Plan.load(args.plan)
        validate_plan(plan, song, song_sha256=sha)
        if args.regenerate is not None:
            from choreo.choreography.choreography import Choreography

            if not 0 <= args.regenerate < len(plan.sections):
                raise ChoreoError(f"--regenerate {args.regenerate}: the plan has sections 0..{len(plan.sections) - 1}")
            old = Path(args.plan).with_name("choreography.json")
            if not old.is_file():
                raise ChoreoError(f"--regenerate: no {old} beside the plan (dance the plan once without "
                                  "--regenerate first)")
            previous = Choreography.load(old)
            if previous.plan.members != plan.members or len(previous.plan.sections) != len(plan.sections):
                raise ChoreoError("--regenerate: the plan's members or sections differ from its choreography.json; "
                                  "dance the edited plan without --regenerate")
    else:
        prompts = load_section_prompts(args.section_prompts) if args.section_prompts else None
        formations = [n.strip() for n in args.formations.split(",")] if args.formations else None
        plan = make_plan(song, members=args.members, style=args.style, prompt=args.prompt,
                         section_prompts=prompts, formations=formations, seed=args.seed, song_sha256=sha)
    from choreo.bundle import resolve_model_file
    from choreo.config import load_settings

    settings = load_settings(None)
    model = resolve_model_file(args.model or settings.model_path)  # a missing model fails before any file is written
    out = prepare_output_folder(args.out, force=args.force, names=OUTPUT_NAMES)
    plan.save(out / "plan.json")  # first, so it can be edited even if the dance is interrupted
    analysis_seconds = time.perf_counter() - started
    return _dance(args, model, settings, analysis, plan, previous, out, song_path, started, analysis_seconds)


def _dance(args, model: Path, settings, analysis, plan, previous, out: Path, song_path: Path,  # noqa: ANN001
           started: float, analysis_seconds: float) -> int:
    from tqdm import tqdm

    from choreo.bundle import load_bundle
    from choreo.choreography.compose import Composer, ComposeSettings
    from choreo.choreography.outputs import write_dance_outputs
    from choreo.choreography.report import measure, summary_text
    from choreo.config import load_settings
    from choreo.generate import Generator
    from choreo.music.plot import plot_analysis

    settings = load_settings(None)
    bundle = load_bundle(args.model or settings.model_path, data_path=settings.data_path)
    composer = Composer(Generator(bundle), ComposeSettings(candidates=args.candidates, steps=args.steps,
                                                           seed=plan.seed))
    bars: dict[str, tqdm] = {}

    def progress(what: str, done: int, total: int) -> None:
        bar = bars.get(what)
        if bar is None:
            bar = bars[what] = tqdm(total=total, desc=what, unit="step", dynamic_ncols=True, leave=True)
        bar.total = max(total, done)
        bar.n = done
        bar.refresh()

    if previous is None:
        ch = composer.compose(analysis.song, plan, progress)
    else:
        ch = composer.regenerate(previous, plan, args.regenerate, progress)
    for bar in bars.values():
        bar.close()
    ch.report = measure(ch)
    ch.report["timings_s"]["analysis"] = round(analysis_seconds, 2)
    t0 = time.perf_counter()
    with tqdm(total=1, desc="preview video", unit="frame", dynamic_ncols=True, disable=args.no_video) as vbar:

        def video_progress(done: int, total: int) -> None:
            vbar.total = total
            vbar.n = done
            vbar.refresh()

        paths = write_dance_outputs(out, ch, song_path, video=not args.no_video,
                                    analysis_png=lambda p: plot_analysis(analysis, p), progress=video_progress)
    timing = {**ch.report["timings_s"], "outputs": time.perf_counter() - t0}  # after choreography.json was written
    print(summary_text(ch.report, plan, time.perf_counter() - started))
    print("      " + ", ".join(f"{k} {v:.1f} s" for k, v in timing.items()))
    print(f"wrote {len(paths)} files to {out}:")
    for name, path in paths.items():
        print(f"  {name:<14} {path.name}")
    return 0
