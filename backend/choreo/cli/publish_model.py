"""`choreo publish-model --run RUN --data DATASET [--eval DIR] --out FOLDER`: bundle, its ONNX export and
MODEL_CARD.md."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("publish-model", help="copy a trained model into a model folder with its model card")
    p.add_argument("--run", required=True, help="training run folder (holds final_model.pt, log.json)")
    p.add_argument("--data", required=True, help="the training set it was trained on")
    p.add_argument("--eval", help="output folder of `choreo eval-model` for this model")
    p.add_argument("--out", required=True, help="model folder to write, e.g. backend/models/default")
    p.add_argument("--reproduce", help="command text for the card's Reproduce section")
    p.add_argument("--force", action="store_true", help="replace a model already published in --out")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from choreo.errors import ChoreoError
    from choreo.model_card import publish

    existing = Path(args.out) / "final_model.pt"
    if existing.is_file() and not args.force:
        raise ChoreoError(f"--out {args.out}: already holds a published model ({existing.name}); add --force to "
                          "replace it, or choose another folder")
    reproduce = args.reproduce or "choreo " + " ".join(sys.argv[1:])
    card = publish(args.run, args.data, args.out, args.eval, reproduce)
    print(f"model card: {card}")
    return 0
