"""`choreo eval-model --model PATH --data DATASET`: a model's numbers on its held-out split, with baselines,
overall and style by style (each style's generated clips against that style's real clips)."""

from __future__ import annotations

import argparse
from pathlib import Path

from choreo.errors import ChoreoError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval-model", help="generate for the validation clips of a training set and score them")
    p.add_argument("--model", required=True, help="model file or folder")
    p.add_argument("--data", required=True, help="training set folder (choreo prepare-data) with a val split")
    p.add_argument("--out", default="eval_model_out", help="folder for metrics.json and report.html")
    p.add_argument("--samples", type=int, default=2, help="generated motions per validation clip")
    p.add_argument("--steps", type=int, help="DDIM steps (default: the model's recommended)")
    p.add_argument("--guidance", type=float, help="guidance scale (default: the model's recommended)")
    p.add_argument("--max-seconds", type=float, default=20.0, help="cap on each generated motion's length")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON instead of the tables")
    p.add_argument("--update-card", action="store_true",
                   help="also write holdout_metrics.json and refresh the held-out evaluation section of "
                        "MODEL_CARD.md in the model's folder (a published model evaluated again)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from choreo.bundle import load_bundle
    from choreo.cli.eval import write_outputs
    from choreo.dataset import TrainingSet
    from choreo.generate import Generator
    from choreo.holdout import evaluate_holdout, split_motions
    from choreo.metrics.per_style import format_style_table
    from choreo.model_card import refresh_card

    ts = TrainingSet.load(args.data)
    if not split_motions(ts, "val"):
        raise ChoreoError(f"{args.data} has no validation clips (prepare it with --val-fraction > 0)")
    bundle = load_bundle(args.model)
    if args.update_card and not (bundle.path.parent / "MODEL_CARD.md").is_file():
        raise ChoreoError(f"{bundle.path.parent}: no MODEL_CARD.md to update (publish the model first)")
    steps, guidance = bundle.sampling.fill(args.steps, args.guidance)
    result, generated = evaluate_holdout(Generator(bundle), ts, samples=args.samples, steps=steps,
                                         guidance=guidance, seed=args.seed, max_seconds=args.max_seconds)
    result["model"] = {"path": str(bundle.path), **{k: v for k, v in bundle.summary().items() if k != "card"}}
    write_outputs(Path(args.out), result, generated, split_motions(ts, "val"), None, as_json=args.json)
    if not args.json:
        print("\nPer style (each style's generated clips against the real clips of that style):")
        print(format_style_table(result["per_style"]))
    if args.update_card:
        card = refresh_card(bundle.path.parent, result)
        if not args.json:
            print(f"updated {card} and {card.parent / 'holdout_metrics.json'}")
    return 0
