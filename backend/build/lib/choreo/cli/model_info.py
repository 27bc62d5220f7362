"""`choreo model-info PATH [--json]`: what a model file holds."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("model-info", help="print a model's architecture, size, text encoder and diffusion steps")
    p.add_argument("path", help="a model file (final_model.pt, model000475000.pt) or its folder")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--data-path", help="folder with HumanML3D Mean.npy/Std.npy (official checkpoints)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from choreo.bundle import load_bundle

    info = load_bundle(args.path, data_path=args.data_path).summary()
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"model:            {info['path']} ({info['kind']})")
    print(f"architecture:     {info['architecture']}, latent {info['latent_dim']}, {info['layers']} layers, "
          f"{info['heads']} heads, ff {info['ff_size']}")
    print(f"parameters:       {info['parameters']:,}")
    print(f"text encoder:     {info['text_encoder']} ({info['text_dim']}-d)")
    print(f"diffusion steps:  {info['diffusion_steps']} ({info['noise_schedule']} schedule)")
    s = info["sampling"]
    print(f"sampling:         {s['steps']} DDIM steps, guidance {s['guidance']:g} (defaults of choreo generate)")
    for key, value in info["card"].items():
        if isinstance(value, str | int | float):
            print(f"{key + ':':<17} {value}")
    return 0
