"""`choreo generate --text TEXT ... --out DIR`: text to dance, written as NPY, JSON, BVH and MP4."""

from __future__ import annotations

import argparse
import sys
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
    p.add_argument("--backend", choices=["auto", "onnx", "torch"], default="auto",
                   help="what runs the network: onnx (onnxruntime over final_model.onnx beside the model; no torch "
                        "import, ~1.5 s less start-up), torch, or auto (onnx on the CPU when the model has an "
                        "up-to-date export, else torch with a note); results agree to ~1e-5")
    p.add_argument("--raw-feet", action="store_true", help="keep the network's foot motion (no contact clean-up)")
    p.add_argument("--repairs", type=bounded(int, 0, 10), default=3,
                   help="passes that generate one-frame pops and instant turns again, in-painted from both sides "
                        "(0 = off; default 3)")
    p.set_defaults(func=run)


def _gpu_present() -> bool:
    """Whether an NVIDIA driver lists a GPU, asked without importing torch (1.2 s) on the many CPU machines."""
    from pathlib import Path

    gpus = Path("/proc/driver/nvidia/gpus")
    return gpus.is_dir() and any(gpus.iterdir())


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    from choreo.config import load_settings
    from choreo.errors import ChoreoError
    from choreo.export import prepare_output_folder

    if not args.text.strip():
        raise ChoreoError("the prompt is empty: pass --text 'a person dances salsa' or similar")
    device = "cpu" if args.device == "auto" and not _gpu_present() else args.device
    if device != "cpu":
        import torch

        if args.device == "cuda" and not torch.cuda.is_available():
            raise ChoreoError("--device cuda: no CUDA GPU is visible to torch (use --device cpu or auto)")
        device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cuda" and args.backend == "onnx":
            raise ChoreoError("--backend onnx runs on the CPU; use --backend torch (or auto) with --device cuda")
    # Everything the user gave is checked before the model loads and sampling starts.
    out = prepare_output_folder(args.out, force=args.force)
    settings = load_settings(args.config)

    from tqdm import tqdm

    from choreo.bundle import load_bundle
    from choreo.export import write_outputs
    from choreo.generate import GenerationRequest, Generator

    bundle = load_bundle(args.model or settings.model_path, data_path=settings.data_path, device=device,
                         backend=args.backend)
    if bundle.backend_note:
        print(f"note: sampling with torch (slower start-up): {bundle.backend_note}", file=sys.stderr)
    clip_path = args.clip_path or (str(settings.clip_path) if settings.clip_path else None)
    request = GenerationRequest(text=args.text, seconds=args.seconds, samples=args.samples, steps=args.steps,
                                guidance=args.guidance, seed=args.seed, method="ddpm" if args.ddpm else "ddim",
                                clean_feet=not args.raw_feet, smooth_sigma=args.smooth,
                                repairs=args.repairs)
    request.steps, request.guidance = bundle.sampling.fill(request.steps, request.guidance)
    request.validate(bundle.diffusion_steps, bundle.window_frames)  # before the text encoder loads
    generator = Generator(bundle, clip_path=clip_path)
    loaded = time.perf_counter()
    with tqdm(total=1, desc="sampling", unit="step", dynamic_ncols=True) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        motions = generator.generate(request, progress)
    sampled = time.perf_counter()
    paths = write_outputs(motions, out, text=args.text, video=False)
    written = time.perf_counter()
    if not args.no_video:
        paths.update(write_outputs(motions, out, text=args.text, bvh=False, json=False, npy=False))  # the MP4
    t = generator.timings
    print(f"generated {len(motions)} motion(s) of {motions[0].seconds:.1f} s in {sampled - loaded:.2f} s "
          f"({t['repair']:.2f} s of it repairs) with {bundle.path} on {bundle.backend}")
    print(f"  start-up and loading {loaded - started:.2f} s, files {written - sampled:.2f} s"
          + ("" if args.no_video else f", preview.mp4 {time.perf_counter() - written:.2f} s"))
    for name, path in paths.items():
        print(f"  {name:<16} {path}")
    return 0
