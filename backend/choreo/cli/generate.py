"""`choreo generate --text TEXT ... --out DIR`: text to dance, written as NPY, JSON, BVH and MP4."""

from __future__ import annotations

import argparse
import time

from choreo.cli._args import SEED, bounded, non_negative_float, positive_float, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("generate", help="generate dance from a text prompt")
    p.add_argument("--text", required=True, help="what to dance, e.g. 'a person dances salsa'")
    p.add_argument("--seconds", type=positive_float, default=6.0, help="length in seconds (default 6)")
    p.add_argument("--samples", type=positive_int, default=1, help="how many different motions (default 1)")
    p.add_argument("--steps", type=positive_int,
                   help="sampling steps (default: the model's, see `choreo model-info`)")
    p.add_argument("--guidance", type=non_negative_float,
                   help="classifier-free guidance scale (default: the model's, see `choreo model-info`)")
    p.add_argument("--seed", type=SEED, help="random seed (0 to 2^32-1) for a repeatable result")
    p.add_argument("--ddpm", action="store_true", help="ancestral DDPM sampling instead of DDIM")
    p.add_argument("--model", help="model file or folder (default: model_path of mdm_config.json, else the "
                                   "shipped default model)")
    p.add_argument("--config", help="path of an mdm_config.json")
    p.add_argument("--clip-path", "--clip_path", dest="clip_path",
                   help="local CLIP ViT-B/32 folder for official MDM checkpoints (overrides clip_path of the config)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--force", action="store_true",
                   help="replace the files of an earlier run in --out (without it, such a folder is refused)")
    p.add_argument("--no-video", action="store_true", help="skip preview.mp4 (the slowest output to write)")
    p.add_argument("--smooth", type=non_negative_float, default=0.0,
                   help="Gaussian smoothing over time in frames (0 = off; 1 removes most sampling jitter)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                   help="where to run the network (auto: a CUDA GPU when there is one, else the CPU)")
    p.add_argument("--raw-feet", action="store_true", help="keep the network's foot motion (no contact clean-up)")
    p.add_argument("--repairs", type=bounded(int, 0, 10), default=3,
                   help="passes that generate one-frame pops and instant turns again, in-painted from both sides "
                        "(0 = off; default 3)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from choreo.config import load_settings
    from choreo.errors import ChoreoError
    from choreo.export import prepare_output_folder

    if not args.text.strip():
        raise ChoreoError("the prompt is empty: pass --text 'a person dances salsa' or similar")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ChoreoError("--device cuda: no CUDA GPU is visible to torch (use --device cpu or auto)")
    # Everything the user gave is checked before the model loads and sampling starts.
    out = prepare_output_folder(args.out, force=args.force)
    settings = load_settings(args.config)

    import torch
    from tqdm import tqdm

    from choreo.bundle import load_bundle
    from choreo.export import write_outputs
    from choreo.generate import GenerationRequest, Generator

    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device.replace("auto", "cpu")
    bundle = load_bundle(args.model or settings.model_path, data_path=settings.data_path, device=device)
    clip_path = args.clip_path or (str(settings.clip_path) if settings.clip_path else None)
    request = GenerationRequest(text=args.text, seconds=args.seconds, samples=args.samples, steps=args.steps,
                                guidance=args.guidance, seed=args.seed, method="ddpm" if args.ddpm else "ddim",
                                clean_feet=not args.raw_feet, smooth_sigma=args.smooth,
                                repairs=args.repairs)
    request.steps, request.guidance = bundle.sampling.fill(request.steps, request.guidance)
    request.validate(bundle.diffusion_steps, bundle.window_frames)  # before the text encoder loads
    generator = Generator(bundle, clip_path=clip_path)
    started = time.time()
    with tqdm(total=1, desc="sampling", unit="step", dynamic_ncols=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        motions = generator.generate(request, progress)
    seconds = time.time() - started
    paths = write_outputs(motions, out, text=args.text, video=not args.no_video)
    print(f"generated {len(motions)} motion(s) of {motions[0].seconds:.1f} s in {seconds:.1f} s "
          f"with {bundle.path}")
    for name, path in paths.items():
        print(f"  {name:<16} {path}")
    return 0
