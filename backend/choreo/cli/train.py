"""`choreo train`: train from scratch or fine-tune; the setup guide's flags plus resume and sizes."""

from __future__ import annotations

import argparse

from choreo.train import TrainConfig, Trainer


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True,
                   help="a training set folder (choreo prepare-data) or motion files/folders to import")
    p.add_argument("--output", required=True, help="run folder: checkpoints, logs, final_model.pt")
    p.add_argument("--base_model", "--base-model", dest="base_model",
                   help="fine-tune this model (official model000475000.pt or a choreo bundle)")
    p.add_argument("--epochs", type=float, default=100.0)
    p.add_argument("--max_steps", "--max-steps", dest="max_steps", type=int, help="stop after this many steps")
    p.add_argument("--batch_size", "--batch-size", dest="batch_size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--resume", action="store_true", help="continue from OUTPUT/checkpoint.pt")
    p.add_argument("--latent_dim", "--latent-dim", dest="latent_dim", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ff_size", "--ff-size", dest="ff_size", type=int, default=1024)
    p.add_argument("--diffusion_steps", "--diffusion-steps", dest="diffusion_steps", type=int, default=1000)
    p.add_argument("--bf16", choices=["auto", "on", "off"], default="auto",
                   help="bf16 autocast: auto uses it only where the hardware computes bf16 natively")
    p.add_argument("--window", dest="window_frames", type=int, default=196,
                   help="training window in frames at 20 fps (from-scratch models; default 196 = 9.8 s)")
    p.add_argument("--checkpoint_every", "--checkpoint-every", dest="checkpoint_every", type=int, default=500)
    p.add_argument("--val_every", "--val-every", dest="val_every", type=int, default=1000)
    p.add_argument("--log_every", "--log-every", dest="log_every", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, help="CPU threads for torch")
    p.add_argument("--root_facing", "--root-facing", dest="root_facing", choices=["humanml3d", "continuous"],
                   help="root facing of the training features (default: the base model's; continuous from scratch)")
    p.add_argument("--clip_path", "--clip-path", dest="clip_path", help="local CLIP folder (official base models)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train or fine-tune a model; writes OUTPUT/final_model.pt")
    add_train_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = TrainConfig(
        data=args.data, output=args.output, base_model=args.base_model, epochs=args.epochs,
        max_steps=args.max_steps, batch_size=args.batch_size, lr=args.lr, latent_dim=args.latent_dim,
        layers=args.layers, heads=args.heads, ff_size=args.ff_size, diffusion_steps=args.diffusion_steps,
        bf16=args.bf16, window_frames=args.window_frames, checkpoint_every=args.checkpoint_every,
        val_every=args.val_every,
        log_every=args.log_every, seed=args.seed, threads=args.threads, clip_path=args.clip_path,
        root_facing=args.root_facing,
    )
    bundle = Trainer(cfg).run(resume=args.resume)
    print(f"model written: {bundle}")
    return 0
