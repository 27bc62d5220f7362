"""The training loop: AdamW on MDM's masked x0 loss, bf16 autocast, EMA weights, validation, periodic
checkpoints that survive `kill -9` (written to a temporary file, then renamed), and resume.

Outputs in the run folder: checkpoint.pt (resume state), final_model.pt (a complete bundle, loadable by
`model_path`), log.csv (one row per logged step), log.json, loss_curve.png.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from choreo.bundle import load_bundle, save_bundle
from choreo.dataset import TrainingSet, style_weights
from choreo.diffusion import GaussianDiffusion, masked_mse
from choreo.errors import ChoreoError
from choreo.model import MDM, MDMConfig
from choreo.text import MINILM, load_text_encoder

CHECKPOINT = "checkpoint.pt"


@dataclass
class TrainConfig:
    data: str
    output: str
    base_model: str | None = None
    epochs: float = 100.0
    max_steps: int | None = None  # overrides epochs when set
    batch_size: int = 32
    lr: float = 1e-4
    weight_decay: float = 0.0
    latent_dim: int = 256
    layers: int = 4
    heads: int = 4
    ff_size: int = 1024
    dropout: float = 0.1
    diffusion_steps: int = 1000
    ema_decay: float = 0.999
    window_frames: int = 196
    bf16: str = "auto"  # "auto": only where the hardware computes bf16 natively (else it is far slower)
    checkpoint_every: int = 500
    log_every: int = 50
    val_every: int = 1000
    seed: int = 0
    threads: int | None = None
    clip_path: str | None = None
    allow_pickle: bool = False  # for raw --data files: the setup guide's dict NPZ is pickled
    card: dict = field(default_factory=dict)

    def validate(self) -> None:
        """Every setting checked before any data or model is loaded (one clear line per problem)."""
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise ChoreoError(message)

        for name in ("batch_size", "latent_dim", "layers", "heads", "ff_size", "checkpoint_every", "log_every",
                     "val_every"):
            value = getattr(self, name)
            need(isinstance(value, int) and value >= 1, f"--{name} must be a whole number >= 1, got {value}")
        need(math.isfinite(self.lr) and self.lr > 0, f"--lr must be a positive number, got {self.lr:g}")
        need(math.isfinite(self.weight_decay) and self.weight_decay >= 0, "weight_decay must be >= 0")
        need(0.0 <= self.dropout < 1.0, f"dropout must be in [0, 1), got {self.dropout:g}")
        need(0.0 <= self.ema_decay < 1.0, f"ema_decay must be in [0, 1), got {self.ema_decay:g}")
        if self.max_steps is None:
            need(math.isfinite(self.epochs) and self.epochs > 0,
                 f"--epochs must be > 0, got {self.epochs:g} (training 0 steps would write an untrained model)")
        else:
            need(self.max_steps >= 1, f"--max_steps must be >= 1, got {self.max_steps}")
        need(self.latent_dim % self.heads == 0,
             f"--heads {self.heads} must divide --latent_dim {self.latent_dim} (e.g. --heads 4 or 8)")
        need(2 <= self.diffusion_steps <= 100_000, f"--diffusion_steps must be 2 to 100000, got {self.diffusion_steps}")
        need(MIN_WINDOW <= self.window_frames < MDMConfig.max_len,
             f"--window must be {MIN_WINDOW} to {MDMConfig.max_len - 1} frames at 20 fps, got {self.window_frames}")
        need(self.bf16 in ("auto", "on", "off"), f"--bf16 must be auto, on or off, got {self.bf16!r}")
        out = Path(self.output)
        need(not out.exists() or out.is_dir(), f"--output {out}: is a file; give a folder for the run")
        need(self.threads is None or self.threads >= 1, f"--threads must be >= 1, got {self.threads}")


MIN_WINDOW = 16  # frames; generation in-paints window / 4 frames of context, so shorter windows are useless
# Settings that make a run what it is: a resumed run takes them from its checkpoint.
RUN_SETTINGS = ("base_model", "latent_dim", "layers", "heads", "ff_size", "dropout", "diffusion_steps",
                "window_frames", "weight_decay", "ema_decay", "seed")
FLAG = {"window_frames": "window"}


def saved_config(output: str | Path) -> dict:
    """The TrainConfig a run folder's checkpoint.pt was made with."""
    path = Path(output) / CHECKPOINT
    if not path.is_file():
        raise ChoreoError(f"nothing to resume: {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        return dict(state["config"])
    except Exception as exc:  # truncated/corrupt files raise many types; the checkpoint is the user's file
        raise ChoreoError(f"{path}: cannot resume, the checkpoint is unreadable ({type(exc).__name__})") from None


def existing_run(output: str | Path) -> Path | None:
    """The model or checkpoint file that marks `output` as holding a run already."""
    for name in (CHECKPOINT, "final_model.pt"):
        if (Path(output) / name).is_file():
            return Path(output) / name
    return None


def build_config(given: dict, resume: bool = False, force: bool = False) -> TrainConfig:
    """A TrainConfig from the settings the user gave (None = not given), checked before any work.

    Resuming takes the run's own settings from its checkpoint (a different size or window given now is
    refused); training into a folder that already holds a run needs --resume or --force.
    """
    given = {k: v for k, v in given.items() if v is not None}
    if resume:
        if force:
            raise ChoreoError("--resume continues a run and --force starts it over; give one of them")
        saved = saved_config(given["output"])
        known = {f for f in TrainConfig.__dataclass_fields__}
        for key in RUN_SETTINGS:
            if key in given and key in saved and given[key] != saved[key]:
                raise ChoreoError(f"--{FLAG.get(key, key)} {given[key]} differs from the run's own {saved[key]}; "
                                  "a resumed run keeps its settings (leave the flag out, or train a new --output)")
        cfg = TrainConfig(**{**{k: v for k, v in saved.items() if k in known}, **given})
    else:
        cfg = TrainConfig(**given)
        found = existing_run(cfg.output)
        if found and not force:
            raise ChoreoError(f"--output {cfg.output}: already holds a run ({found.name}); add --resume to "
                              "continue it or --force to train a new model over it")
    cfg.validate()
    return cfg


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def native_bf16(device: torch.device) -> bool:
    """bf16 autocast pays off on GPUs that support it and CPUs with AVX512-BF16/AMX; on an AVX2-only CPU
    it is emulated and measured 10x slower than fp32 (docs/BENCHMARKS.md)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class Trainer:
    def __init__(self, cfg: TrainConfig, fresh_data: bool = False) -> None:
        cfg.validate()
        self.cfg = cfg
        self.out = Path(cfg.output)
        self.out.mkdir(parents=True, exist_ok=True)
        self.device = _device()
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        torch.manual_seed(cfg.seed)
        self.data = load_or_import(cfg.data, self.out / "dataset", allow_pickle=cfg.allow_pickle, fresh=fresh_data)

        if cfg.base_model:  # fine-tune: the base model's size, text encoder and normaliser
            base = load_bundle(cfg.base_model)
            self.model = base.model.train()
            self.normalizer, self.text_encoder_name = base.normalizer, base.text_encoder
            self.data.normalizer = base.normalizer
            self.diffusion_steps = base.diffusion_steps
        else:
            self.text_encoder_name = MINILM
            encoder_dim = load_text_encoder(MINILM).dim
            self.model = MDM(MDMConfig(latent_dim=cfg.latent_dim, num_layers=cfg.layers, num_heads=cfg.heads,
                                       ff_size=cfg.ff_size, dropout=cfg.dropout, text_dim=encoder_dim))
            self.normalizer = self.data.normalizer
            self.diffusion_steps = cfg.diffusion_steps
        self.model.to(self.device)
        self.ema = copy.deepcopy(self.model).eval().requires_grad_(False)
        self.diffusion = GaussianDiffusion.cosine(self.diffusion_steps)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.step = 0
        self.log_rows: list[dict] = []
        self.use_bf16 = {"on": True, "off": False}.get(cfg.bf16, native_bf16(self.device))
        self.window = cfg.window_frames if not cfg.base_model else base.window_frames

        encoder = load_text_encoder(self.text_encoder_name, cfg.clip_path)
        self.train_x, self.train_len, owners = self.data.windows("train", self.window)
        self.val_x, self.val_len, val_owners = self.data.windows("val", self.window)
        if len(self.train_x) == 0:
            raise ChoreoError(f"{cfg.data}: no training windows")
        texts = [i.text for i in self.data.info]
        emb = encoder.encode(texts)
        self.train_text = torch.from_numpy(emb[owners])
        self.val_text = torch.from_numpy(emb[val_owners]) if val_owners else None
        self.weights = style_weights(self.data.info, owners)
        self.steps_per_epoch = max(1, math.ceil(len(self.train_x) / cfg.batch_size))
        self.total_steps = cfg.max_steps or int(round(cfg.epochs * self.steps_per_epoch))

    # --- state -------------------------------------------------------------------------------------
    def save_checkpoint(self) -> None:
        state = {
            "model": self.model.state_dict(), "ema": self.ema.state_dict(), "opt": self.opt.state_dict(),
            "step": self.step, "config": asdict(self.cfg), "log": self.log_rows,
            "torch_rng": torch.get_rng_state(), "numpy_rng": json.dumps(self.rng.bit_generator.state),
        }
        tmp = self.out / (CHECKPOINT + ".tmp")
        torch.save(state, tmp)
        tmp.replace(self.out / CHECKPOINT)

    def resume(self) -> None:
        path = self.out / CHECKPOINT
        if not path.is_file():
            raise ChoreoError(f"nothing to resume: {path} does not exist")
        try:
            state = torch.load(path, map_location=self.device, weights_only=True)
            self.model.load_state_dict(state["model"])
            self.ema.load_state_dict(state["ema"])
            self.opt.load_state_dict(state["opt"])
            for group in self.opt.param_groups:  # a resumed run takes the learning rate it was given now
                group["lr"] = self.cfg.lr
        except RuntimeError as exc:  # torch's size-mismatch text runs to many lines: say what it means
            raise ChoreoError(f"{path}: cannot resume: the checkpoint's network does not match these settings "
                              "(resume with `choreo train --resume`, which reads the run's own sizes)") from exc
        except Exception as exc:  # truncated/corrupt files raise many types
            raise ChoreoError(f"{path}: cannot resume, the checkpoint is unreadable ({type(exc).__name__})") from exc
        self.step = int(state["step"])
        self.log_rows = list(state["log"])
        torch.set_rng_state(state["torch_rng"])
        self.rng.bit_generator.state = json.loads(state["numpy_rng"])

    # --- loop --------------------------------------------------------------------------------------
    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.use_bf16)

    def _batch(self, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = torch.from_numpy(self.train_x[idx]).permute(0, 2, 1)[:, :, None, :].to(self.device)
        mask = (torch.arange(x.shape[-1])[None] < torch.from_numpy(self.train_len[idx])[:, None]).to(self.device)
        return x, mask, self.train_text[idx].to(self.device)

    def train_step(self, idx: np.ndarray) -> float:
        x0, mask, text = self._batch(idx)
        t = torch.randint(0, self.diffusion_steps, (len(idx),), device=self.device)
        xt = self.diffusion.q_sample(x0, t, torch.randn_like(x0))
        with self._autocast():
            pred = self.model(xt, t, text)
        loss = masked_mse(x0, pred.float(), mask)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        with torch.no_grad():
            d = self.cfg.ema_decay if self.step > 200 else 0.0  # start EMA from trained weights
            for pe, pm in zip(self.ema.parameters(), self.model.parameters(), strict=True):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        return loss.item()

    @torch.no_grad()
    def validate(self) -> float | None:
        """EMA model's loss on the validation windows at fixed noise and timesteps (comparable across runs)."""
        if self.val_text is None or len(self.val_x) == 0:
            return None
        gen = torch.Generator().manual_seed(1234)
        n = min(len(self.val_x), 256)
        x0 = torch.from_numpy(self.val_x[:n]).permute(0, 2, 1)[:, :, None, :]
        mask = torch.arange(x0.shape[-1])[None] < torch.from_numpy(self.val_len[:n])[:, None]
        t = torch.randint(0, self.diffusion_steps, (n,), generator=gen)
        xt = self.diffusion.q_sample(x0, t, torch.randn(x0.shape, generator=gen))
        losses = []
        for s in range(0, n, 64):
            sl = slice(s, s + 64)
            with self._autocast():
                pred = self.ema(xt[sl].to(self.device), t[sl].to(self.device), self.val_text[:n][sl].to(self.device))
            losses.append(float(masked_mse(x0[sl].to(self.device), pred.float(), mask[sl].to(self.device))) * len(
                x0[sl]))
        return sum(losses) / n

    def run(self, resume: bool = False) -> Path:
        self.rng = np.random.default_rng(self.cfg.seed)
        if resume:
            self.resume()
        if self.step >= self.total_steps:
            raise ChoreoError(f"{self.out}: the run is already at step {self.step}, and {self.total_steps} steps "
                              "were asked for; give a larger --max_steps (or --epochs) to train on")
        self.model.train()
        bar = tqdm(total=self.total_steps, initial=self.step, desc="training", unit="step", dynamic_ncols=True)
        recent: list[float] = []
        started = time.time()
        while self.step < self.total_steps:
            idx = self.rng.choice(len(self.train_x), size=self.cfg.batch_size, p=self.weights)
            recent.append(self.train_step(idx))
            self.step += 1
            bar.update(1)
            if self.step % self.cfg.log_every == 0 or self.step == self.total_steps:
                row = {"step": self.step, "epoch": round(self.step / self.steps_per_epoch, 3),
                       "loss": float(np.mean(recent)), "val_loss": None, "seconds": round(time.time() - started, 1)}
                validating = self.step % self.cfg.val_every == 0 or self.step == self.total_steps
                if validating:
                    row["val_loss"] = self.validate()
                    self.model.train()
                self.log_rows.append(row)
                if validating:  # a usable model and logs at every validation, not only at the end
                    self.write_logs()
                    self.write_bundle()
                recent = []
                bar.set_postfix(loss=f"{row['loss']:.4f}", val=row["val_loss"] and f"{row['val_loss']:.4f}")
            if self.step % self.cfg.checkpoint_every == 0:
                self.save_checkpoint()
        bar.close()
        self.save_checkpoint()
        self.write_logs()
        return self.write_bundle()

    # --- outputs -----------------------------------------------------------------------------------
    def write_logs(self) -> None:
        with open(self.out / "log.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["step", "epoch", "loss", "val_loss", "seconds"])
            w.writeheader()
            w.writerows(self.log_rows)
        (self.out / "log.json").write_text(json.dumps({"config": asdict(self.cfg), "log": self.log_rows}, indent=1))
        write_loss_curve(self.log_rows, self.out / "loss_curve.png")

    def write_bundle(self) -> Path:
        val = [r["val_loss"] for r in self.log_rows if r["val_loss"] is not None]
        card = {
            "name": Path(self.cfg.output).name,
            "training_steps": self.step,
            "final_train_loss": self.log_rows[-1]["loss"] if self.log_rows else None,
            "final_val_loss": val[-1] if val else None,
            "training_windows": int(len(self.train_x)),
            "validation_windows": int(len(self.val_x)),
            "base_model": self.cfg.base_model,
            **self.cfg.card,
        }
        return save_bundle(self.out, self.ema, self.normalizer, diffusion_steps=self.diffusion_steps,
                           text_encoder=self.text_encoder_name, window_frames=self.window, card=card)


def load_or_import(data: str, dataset_dir: Path, allow_pickle: bool = False, fresh: bool = False) -> TrainingSet:
    """A prepared training set, or motion files (the guide's JSON/NPZ, BVH, ...) imported on the spot
    (kept in the run's dataset/ folder, reused on resume unless `fresh`)."""
    if (Path(data) / "clips.npz").is_file():
        return TrainingSet.load(data)
    if (dataset_dir / "clips.npz").is_file() and not fresh:  # imported by an earlier run of this output folder
        return TrainingSet.load(dataset_dir)
    from choreo.importers import load_motions

    ts = TrainingSet.build(load_motions(data, allow_pickle=allow_pickle))
    ts.save(dataset_dir)
    return ts


def write_loss_curve(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], label="train (batch mean)")
    val = [(r["step"], r["val_loss"]) for r in rows if r["val_loss"] is not None]
    if val:
        ax.plot(*zip(*val, strict=True), "o-", label="validation (EMA)")
    ax.set_xlabel("step")
    ax.set_ylabel("masked MSE (normalised features)")
    ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
