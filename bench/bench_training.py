"""Training and generation speed on this machine (not a test).

Training: seconds per optimiser step (forward + backward + AdamW, MDM's masked x0 loss) on random data
for the default model's configuration and the full-size MDM, fp32 and (optionally) bf16 autocast.
Generation: seconds for `choreo generate`'s pipeline to make 10 s of motion with the shipped default model.

    cd backend && ../.venv/bin/python ../bench/bench_training.py --threads 2 --json /tmp/training.json
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from bench_sampling import machine_info

from choreo.diffusion import GaussianDiffusion, masked_mse
from choreo.model import MDM, MDMConfig

CONFIGS = {
    "default (latent 256, 4 layers, ff 1024, 120 frames)": (MDMConfig(latent_dim=256, num_layers=4, ff_size=1024,
                                                                      text_dim=384), 120),
    "full-size MDM (latent 512, 8 layers, ff 1024, 196 frames)": (MDMConfig(text_dim=384), 196),
}


def time_steps(config: MDMConfig, frames: int, batch: int, steps: int, bf16: bool) -> float:
    torch.manual_seed(0)
    model = MDM(config).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    diffusion = GaussianDiffusion.cosine(1000)
    x0 = torch.randn(batch, 263, 1, frames)
    text = torch.randn(batch, config.text_dim)
    mask = torch.ones(batch, frames)
    times = []
    for _ in range(steps + 1):  # the first step warms up allocators and is not counted
        start = time.perf_counter()
        t = torch.randint(0, 1000, (batch,))
        xt = diffusion.q_sample(x0, t, torch.randn_like(x0))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            pred = model(xt, t, text)
        loss = masked_mse(x0, pred.float(), mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return sum(times[1:]) / steps


def time_generation(seconds: float, steps: int, guidance: float) -> dict:
    from choreo.bundle import load_bundle
    from choreo.config import DEFAULT_MODEL
    from choreo.generate import GenerationRequest, Generator

    generator = Generator(load_bundle(DEFAULT_MODEL))
    generator.generate(GenerationRequest(text="salsa dance", seconds=2, steps=2, seed=0))  # warm-up
    start = time.perf_counter()
    generator.generate(GenerationRequest(text="salsa dance", seconds=seconds, steps=steps, guidance=guidance, seed=0))
    return {"seconds_of_motion": seconds, "ddim_steps": steps, "guidance": guidance,
            "wall_seconds": round(time.perf_counter() - start, 3)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--bf16", action="store_true", help="also time bf16 autocast")
    p.add_argument("--skip-training", action="store_true", help="time generation only")
    p.add_argument("--json")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    result = {"machine": machine_info(args.threads), "batch": args.batch, "training": []}
    for name, (config, frames) in ({} if args.skip_training else CONFIGS).items():
        for bf16 in (False, True) if args.bf16 else (False,):
            sec = time_steps(config, frames, args.batch, args.steps, bf16)
            row = {"config": name, "parameters": MDM(config).num_parameters(), "bf16": bf16,
                   "seconds_per_step": round(sec, 3), "steps_per_second": round(1 / sec, 3)}
            print(row, flush=True)
            result["training"].append(row)
    # the shipped model's defaults (20 steps, guidance 1.0: one pass per step) and the guided settings
    result["generation"] = [time_generation(10.0, s, g) for s, g in ((20, 1.0), (50, 1.0), (50, 2.5), (20, 2.5))]
    print(result["generation"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
