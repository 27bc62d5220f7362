"""`choreo train`: train from scratch or fine-tune; the setup guide's flags plus resume and sizes.

Flags left out take the TrainConfig defaults, or, with --resume, the run's own settings from its checkpoint.
"""

from __future__ import annotations

import argparse

from choreo.cli._args import bounded, positive_float, positive_int


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True,
                   help="a training set folder (choreo prepare-data) or motion files/folders to import")
    p.add_argument("--output", required=True, help="run folder: checkpoints, logs, final_model.pt")
    p.add_argument("--base_model", "--base-model", dest="base_model",
                   help="fine-tune this model (official model000475000.pt or a choreo bundle)")
    p.add_argument("--epochs", type=positive_float, help="passes over the training windows (default 100)")
    p.add_argument("--max_steps", "--max-steps", dest="max_steps", type=positive_int,
                   help="stop after this many steps (overrides --epochs)")
    p.add_argument("--batch_size", "--batch-size", dest="batch_size", type=positive_int, help="default 32")
    p.add_argument("--lr", type=positive_float, help="learning rate (default 1e-4)")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUTPUT/checkpoint.pt with the run's own sizes and window")
    p.add_argument("--force", action="store_true", help="train a new model into an OUTPUT that holds a run")
    p.add_argument("--allow-pickle", "--allow_pickle", dest="allow_pickle", action="store_true",
                   help="allow pickled --data files (the setup guide's dict NPZ): unpickling runs code from the "
                        "file, trusted files only")
    p.add_argument("--latent_dim", "--latent-dim", dest="latent_dim", type=positive_int, help="default 256")
    p.add_argument("--layers", type=positive_int, help="transformer layers (default 4)")
    p.add_argument("--heads", type=positive_int, help="attention heads; must divide --latent_dim (default 4)")
    p.add_argument("--ff_size", "--ff-size", dest="ff_size", type=positive_int, help="default 1024")
    p.add_argument("--diffusion_steps", "--diffusion-steps", dest="diffusion_steps", type=positive_int,
                   help="default 1000")
    p.add_argument("--bf16", choices=["auto", "on", "off"],
                   help="bf16 autocast: auto (default) uses it only where the hardware computes bf16 natively")
    p.add_argument("--window", dest="window_frames", type=positive_int,
                   help="training window in frames at 20 fps (from-scratch models; default 196 = 9.8 s)")
    p.add_argument("--checkpoint_every", "--checkpoint-every", dest="checkpoint_every", type=positive_int,
                   help="default 500")
    p.add_argument("--val_every", "--val-every", dest="val_every", type=positive_int, help="default 1000")
    p.add_argument("--log_every", "--log-every", dest="log_every", type=positive_int, help="default 50")
    p.add_argument("--seed", type=bounded(int, 0, 2**32 - 1), help="default 0")
    p.add_argument("--threads", type=positive_int, help="CPU threads for torch")
    p.add_argument("--root_facing", "--root-facing", dest="root_facing", choices=["humanml3d", "continuous"],
                   help="root facing of the training features (default: the base model's; continuous from scratch)")
    p.add_argument("--clip_path", "--clip-path", dest="clip_path", help="local CLIP folder (official base models)")


CONFIG_FLAGS = ("data", "output", "base_model", "epochs", "max_steps", "batch_size", "lr", "latent_dim", "layers",
                "heads", "ff_size", "diffusion_steps", "bf16", "window_frames", "checkpoint_every", "val_every",
                "log_every", "seed", "threads", "clip_path", "root_facing")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train or fine-tune a model; writes OUTPUT/final_model.pt")
    add_train_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from choreo.train import Trainer, build_config

    given = {k: getattr(args, k) for k in CONFIG_FLAGS}
    given["allow_pickle"] = args.allow_pickle or None
    cfg = build_config(given, resume=args.resume, force=args.force)
    bundle = Trainer(cfg, fresh_data=args.force).run(resume=args.resume)
    print(f"model written: {bundle}")
    return 0
