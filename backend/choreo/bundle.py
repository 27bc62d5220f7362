"""Model bundles on disk: our own single-file bundle and the official MDM checkpoint layout.

Ours (`final_model.pt`, written by training): one `torch.save` dict holding only tensors and plain values
  {"choreo_bundle": 1, "model": state_dict, "args": {...}, "mean": [263], "std": [263], "card": {...}}
with args.json, mean.npy, std.npy and MODEL_CARD.md beside it for people and other tools.
Official (`model000475000.pt`): a flat state dict or {"model", "model_avg"}, `args.json` beside it, and
HumanML3D's Mean.npy/Std.npy beside it, in the folder above it, or under the configured data path
(itself, HumanML3D/ or dataset/HumanML3D/).
Everything is read with `torch.load(weights_only=True)`: nothing in a model file can run code.

Beside our bundle, `final_model.onnx` (`write_onnx`, written by `choreo publish-model`, at the end of training
and by `choreo export-onnx`) holds the same network exported to ONNX plus the bundle's args, mean/std and card
in its metadata, and a fingerprint of the `.pt` it came from. `load_bundle(..., backend="onnx")` reads only
that file, through onnxruntime: no torch import (1.2 s of `choreo generate`'s start-up). An export whose
fingerprint no longer matches its `.pt` (retrained, re-published) is not used.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from choreo.config import resolve_model_file  # noqa: F401 - callers import it from here too
from choreo.dataset import MAX_WINDOW_FRAMES
from choreo.errors import ChoreoError
from choreo.json_file import read_json_object
from choreo.model_config import MDMConfig
from choreo.representation import FACING_HUMANML3D, FEATURE_DIM, ROOT_FACINGS, Normalizer
from choreo.sampler import Denoiser
from choreo.text import CLIP_B32, MINILM

if TYPE_CHECKING:
    from choreo.model import MDM

BUNDLE_VERSION = 1
OFFICIAL_TEXT_DIM = 512
ONNX_FORMAT = "choreo.onnx/1"
ONNX_META_KEY = "choreo.bundle"  # the ONNX metadata entry holding args, mean, std, card and the fingerprint
BACKENDS = ("auto", "onnx", "torch")


@dataclass(frozen=True)
class SamplingDefaults:
    """How a model is meant to be sampled when the user does not say (stored in the bundle's args)."""

    steps: int = 50  # DDIM steps
    guidance: float = 2.5  # classifier-free guidance scale

    @classmethod
    def from_args(cls, args: dict) -> SamplingDefaults:
        s = args.get("sampling") or {}
        return cls(int(s.get("steps", cls.steps)), float(s.get("guidance", cls.guidance)))

    def to_dict(self) -> dict:
        return {"steps": self.steps, "guidance": self.guidance}

    def fill(self, steps: int | None, guidance: float | None) -> tuple[int, float]:
        """The given settings, with these defaults wherever one is None."""
        return (self.steps if steps is None else steps), (self.guidance if guidance is None else guidance)


@dataclass
class ModelBundle:
    """A loaded model. `denoiser` is what the sampler calls: the torch network (`model`, backend "torch") or its
    ONNX export (backend "onnx", `model` None: torch is never imported)."""

    model: MDM | None
    normalizer: Normalizer
    diffusion_steps: int
    text_encoder: str
    kind: str  # "choreo" or "official"
    path: Path
    window_frames: int  # frames the network was trained on (and samples at)
    card: dict = field(default_factory=dict)
    sampling: SamplingDefaults = SamplingDefaults()
    root_facing: str = FACING_HUMANML3D  # how its training features smoothed the root facing (representation.py)
    denoiser: Denoiser | None = None  # None: the torch network's (set from `model`)
    backend: str = "torch"
    config: MDMConfig | None = None  # None: the torch network's
    parameters: int = 0  # 0: counted on the torch network
    backend_note: str = ""  # why load_bundle(backend="auto") fell back to torch for a choreo bundle

    def __post_init__(self) -> None:
        if self.model is not None:
            from choreo.model import TorchDenoiser

            self.config = self.config or self.model.config
            self.parameters = self.parameters or self.model.num_parameters()
            self.denoiser = self.denoiser or TorchDenoiser(self.model)
        if self.denoiser is None or self.config is None:
            raise ValueError("a ModelBundle needs a torch model or a denoiser with its config")

    def summary(self) -> dict:
        c = self.config
        return {
            "path": str(self.path),
            "kind": self.kind,
            "architecture": "trans_enc",
            "latent_dim": c.latent_dim,
            "layers": c.num_layers,
            "heads": c.num_heads,
            "ff_size": c.ff_size,
            "parameters": self.parameters,
            "text_encoder": self.text_encoder,
            "text_dim": c.text_dim,
            "diffusion_steps": self.diffusion_steps,
            "window_frames": self.window_frames,
            "noise_schedule": "cosine",
            "sampling": self.sampling.to_dict(),
            "root_facing": self.root_facing,
            "backend": self.backend,
            "card": self.card,
        }


def _read_checkpoint(path: Path) -> dict:
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt files raise many types (UnpicklingError, IndexError, struct.error)
        # torch's own text is not shown: it names internals and advises weights_only=False, which would let
        # the file run code. Say what is wrong with the user's file instead.
        with open(path, "rb") as fh:
            head = fh.read(2)
        pickled = head.startswith(b"PK") or head[:1] == b"\x80"  # torch's zip container or a raw pickle
        if "Weights only load failed" in str(exc) and pickled:
            raise ChoreoError(f"{path}: holds Python objects besides tensors, which choreo does not load (they "
                              "could run code); a model file must hold only weights and plain values, e.g. "
                              "torch.save(model.state_dict(), path)") from None
        raise ChoreoError(f"{path}: not a readable PyTorch checkpoint (truncated, damaged or another kind of "
                          f"file; {type(exc).__name__}); download or copy it again") from None
    if not isinstance(obj, dict):
        raise ChoreoError(f"{path} does not hold a state dict (found {type(obj).__name__})")
    return obj


def clean_official_state_dict(sd: dict, prefer_ema: bool = True) -> dict:
    """Unwrap {'model','model_avg'} dicts and drop CLIP weights and the fixed positional tables."""
    if "model_avg" in sd and prefer_ema:
        sd = sd["model_avg"]
    elif "model" in sd and isinstance(sd["model"], dict):
        sd = sd["model"]
    return {k: v for k, v in sd.items() if not k.startswith("clip_model.") and not k.endswith(".pe")}


def _load_weights(model: MDM, sd: dict, path: Path) -> None:
    import torch

    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ChoreoError(f"{path}: the weights are not a state dict of tensors")
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as exc:
        own = model.state_dict()
        missing = sorted(set(own) - set(sd))
        extra = sorted(set(sd) - set(own))
        wrong = sorted(k for k in set(own) & set(sd) if tuple(own[k].shape) != tuple(sd[k].shape))
        raise ChoreoError(
            f"{path}: weights do not fit the model described by its args "
            f"(missing {len(missing)} {missing[:3]}, unexpected {len(extra)} {extra[:3]}, wrong shape {wrong[:3]})"
        ) from exc


def _read_stats(path: Path) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ChoreoError(f"cannot read {path}: {exc}") from exc
    if arr.shape != (FEATURE_DIM,):
        raise ChoreoError(f"{path} must hold {FEATURE_DIM} values, found shape {arr.shape}")
    return arr.astype(np.float32)


def load_bundle(path: str | Path, data_path: str | Path | None = None, device: str = "cpu",
                backend: str = "torch") -> ModelBundle:
    """Load our bundle or an official MDM checkpoint.

    backend "torch": the eval-mode torch network on `device` (what training and export need). "onnx": the
    bundle's up-to-date ONNX export (`onnx_status`), run by onnxruntime on the CPU without importing torch;
    a ChoreoError says why when there is none. "auto": "onnx" when it can be used (device "cpu", an
    up-to-date export, onnxruntime installed), else "torch" — `onnx_status` tells the caller why."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    file = resolve_model_file(path)
    reason = ""
    if backend != "torch":
        found = _onnx_bundle_or_reason(file) if device == "cpu" else f"ONNX runs on the CPU, not on {device}"
        if isinstance(found, ModelBundle):
            return found
        if backend == "onnx":
            raise ChoreoError(f"the ONNX backend cannot be used: {found}")
        reason = found
    ckpt = _read_checkpoint(file)
    if "choreo_bundle" in ckpt:
        bundle = _load_choreo_bundle(file, ckpt, device)
        bundle.backend_note = reason  # only ours can have an export: an official checkpoint needs no note
        return bundle
    return _load_official(file, ckpt, data_path, device)


def _load_choreo_bundle(file: Path, ckpt: dict, device: str) -> ModelBundle:
    if ckpt.get("choreo_bundle") != BUNDLE_VERSION:
        raise ChoreoError(f"{file}: bundle version {ckpt.get('choreo_bundle')} is not supported")
    try:
        args = ckpt["args"]
        config = MDMConfig(**args["model"])
        normalizer = Normalizer(ckpt["mean"].numpy(), ckpt["std"].numpy())
        steps, encoder = int(args["diffusion_steps"]), str(args["text_encoder"])
        window = int(args.get("window_frames", MAX_WINDOW_FRAMES))
        sampling = SamplingDefaults.from_args(args)
        facing = str(args.get("root_facing", FACING_HUMANML3D))
        if facing not in ROOT_FACINGS:
            raise ValueError(f"unknown root_facing {facing!r}")
        from choreo.model import MDM

        model = MDM(config)
        weights = ckpt["model"]
    except (KeyError, TypeError, ValueError, AttributeError, AssertionError) as exc:
        raise ChoreoError(f"{file}: incomplete bundle ({type(exc).__name__}: {str(exc)[:120]})") from None
    _load_weights(model, weights, file)
    return ModelBundle(model.to(device).eval(), normalizer, steps, encoder, "choreo", file, window,
                       ckpt.get("card", {}), sampling, facing)


def _load_official(file: Path, ckpt: dict, data_path: str | Path | None, device: str) -> ModelBundle:
    args = read_json_object(
        file.parent / "args.json",
        "the official checkpoint's args.json must sit beside it; `python3 scripts/download_mdm_model.py "
        f"--from {file} --force` (from backend/) writes it and checks the file")
    if args.get("arch", "trans_enc") != "trans_enc":
        raise ChoreoError(f"{file}: architecture {args.get('arch')!r} is not supported (only trans_enc)")
    if args.get("text_encoder_type", "clip") != "clip" or args.get("dataset", "humanml") != "humanml":
        raise ChoreoError(f"{file}: only HumanML3D models with CLIP text conditioning are supported")
    config = MDMConfig(
        latent_dim=int(args.get("latent_dim", 512)),
        num_layers=int(args.get("layers", 8)),
        cond_mask_prob=float(args.get("cond_mask_prob", 0.1)),
        text_dim=OFFICIAL_TEXT_DIM,
        ff_size=1024,
        num_heads=4,
    )
    from choreo.model import MDM

    model = MDM(config)
    _load_weights(model, clean_official_state_dict(ckpt, prefer_ema=bool(args.get("use_ema", False))), file)
    normalizer = _official_stats(file, data_path)
    return ModelBundle(
        model.to(device).eval(), normalizer, int(args.get("diffusion_steps", 1000)), CLIP_B32, "official", file,
        MAX_WINDOW_FRAMES, {"name": file.parent.name, "source": "official MDM release"},
    )


def official_stats_folders(file: Path, data_path: str | Path | None) -> list[Path]:
    """Where MDM users keep HumanML3D's Mean.npy/Std.npy for an official checkpoint, in the order searched:
    beside it, the folder above it (MDM's save/), then under data_path: itself, HumanML3D/ and
    dataset/HumanML3D/ (data_path may be the dataset folder or the root of an MDM clone)."""
    folders = [file.parent, file.parent.parent]
    if data_path:
        d = Path(data_path).expanduser()
        folders += [d, d / "HumanML3D", d / "dataset" / "HumanML3D"]
    unique: list[Path] = []
    for f in folders:  # data_path may name a folder already searched
        if f.resolve() not in [u.resolve() for u in unique]:
            unique.append(f)
    return unique


def find_official_stats(file: Path, data_path: str | Path | None) -> Path | None:
    """The first folder holding both Mean.npy and Std.npy, or None."""
    for folder in official_stats_folders(file, data_path):
        if (folder / "Mean.npy").is_file() and (folder / "Std.npy").is_file():
            return folder
    return None


def _official_stats(file: Path, data_path: str | Path | None) -> Normalizer:
    folder = find_official_stats(file, data_path)
    if folder is not None:
        return Normalizer(_read_stats(folder / "Mean.npy"), _read_stats(folder / "Std.npy"))
    folders = official_stats_folders(file, data_path)
    half = [f"only {n} in {f}" for f in folders for n in ("Mean.npy", "Std.npy") if (f / n).is_file()]
    where = ", ".join(str(f) for f in folders)
    more = "" if data_path else " or set data_path in mdm_config.json"
    raise ChoreoError(f"HumanML3D Mean.npy/Std.npy not found for {file.name} (looked in {where}"
                      f"{'; ' + ', '.join(half) if half else ''}); put both files beside the checkpoint{more}")


def save_bundle(
    out_dir: str | Path,
    model: MDM,
    normalizer: Normalizer,
    *,
    diffusion_steps: int,
    text_encoder: str = MINILM,
    window_frames: int = MAX_WINDOW_FRAMES,
    card: dict | None = None,
    state_dict: dict | None = None,
    file_name: str = "final_model.pt",
    sampling: SamplingDefaults | None = None,
    root_facing: str = FACING_HUMANML3D,
) -> Path:
    """Write a self-contained bundle file plus human-readable args.json, mean.npy and std.npy beside it."""
    import torch

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    args = {"model": model.config.to_dict(), "diffusion_steps": diffusion_steps, "text_encoder": text_encoder,
            "window_frames": window_frames, "arch": "trans_enc", "noise_schedule": "cosine",
            "format": f"choreo.bundle/{BUNDLE_VERSION}", "sampling": (sampling or SamplingDefaults()).to_dict(),
            "root_facing": root_facing}
    sd = state_dict if state_dict is not None else model.state_dict()
    payload = {
        "choreo_bundle": BUNDLE_VERSION,
        "model": {k: v.detach().cpu().float().contiguous() for k, v in sd.items()},
        "args": args,
        "mean": torch.from_numpy(normalizer.mean.copy()),
        "std": torch.from_numpy(normalizer.std.copy()),
        "card": card or {},
    }
    _write_bundle_file(out / file_name, payload)
    np.save(out / "mean.npy", normalizer.mean)
    np.save(out / "std.npy", normalizer.std)
    return out / file_name


def set_sampling_defaults(file: str | Path, sampling: SamplingDefaults) -> None:
    """Rewrite a choreo bundle (and the args.json beside it) with new recommended sampling settings."""
    file = resolve_model_file(file)
    ckpt = _read_checkpoint(file)
    if "choreo_bundle" not in ckpt:
        raise ChoreoError(f"{file}: only choreo bundles carry sampling defaults")
    ckpt["args"] = {**ckpt["args"], "sampling": sampling.to_dict()}
    _write_bundle_file(file, ckpt)


def _write_bundle_file(file: Path, payload: dict) -> None:
    """The bundle file, written atomically (a crash never leaves a half-written one), and args.json beside it."""
    import torch

    tmp = file.with_name(file.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(file)
    (file.parent / "args.json").write_text(json.dumps(payload["args"], indent=2) + "\n")


def onnx_file(file: Path) -> Path:
    """Where a bundle's ONNX export lives: beside it, same name, `.onnx`."""
    return file.with_suffix(".onnx")


def fingerprint(file: Path) -> str:
    """What identifies a bundle file's contents: sha256 over the member names (without the archive's folder),
    CRC-32s and sizes of torch's zip container — read from the zip directory, ~1 ms where hashing the 14 MB
    takes 30 ms — or, for another kind of file, sha256 of its bytes."""
    h = hashlib.sha256()
    try:
        with zipfile.ZipFile(file) as z:
            for info in sorted(z.infolist(), key=lambda i: i.filename):
                h.update(f"{info.filename.split('/', 1)[-1]}:{info.CRC:08x}:{info.file_size}\n".encode())
        return "zip:" + h.hexdigest()
    except zipfile.BadZipFile:
        h.update(file.read_bytes())
        return "sha256:" + h.hexdigest()


def onnx_status(file: Path) -> str | None:
    """None when `file`'s ONNX export can be used, else why not (one line, with the command that fixes it)."""
    found = _onnx_bundle_or_reason(file)
    return found if isinstance(found, str) else None


def _onnx_bundle_or_reason(file: Path) -> ModelBundle | str:
    path = onnx_file(file)
    fix = f"`choreo export-onnx --model {file}` writes it"
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return "onnxruntime is not installed (pip install onnxruntime)"
    if not path.is_file():
        return f"no {path.name} beside {file.name}; {fix}"
    from choreo.onnx_denoiser import OnnxDenoiser

    try:
        den = OnnxDenoiser(path)
        meta = json.loads(den.metadata.get(ONNX_META_KEY) or "null")
    except (ChoreoError, json.JSONDecodeError) as exc:
        return f"{path.name} cannot be read ({str(exc)[:120]}); {fix}"
    if not isinstance(meta, dict) or meta.get("format") != ONNX_FORMAT:
        return f"{path} is not an export of a choreo bundle; {fix}"
    if meta.get("source") != fingerprint(file):
        return f"{path.name} was exported from another version of {file.name}; {fix}"
    args = meta.get("args") or {}
    try:
        config = MDMConfig(**args["model"])
        normalizer = Normalizer(np.asarray(meta["mean"], np.float32), np.asarray(meta["std"], np.float32))
        return ModelBundle(None, normalizer, int(args["diffusion_steps"]), str(args["text_encoder"]), "choreo",
                           file, int(args.get("window_frames", MAX_WINDOW_FRAMES)), meta.get("card", {}),
                           SamplingDefaults.from_args(args), str(args.get("root_facing", FACING_HUMANML3D)),
                           denoiser=den, backend="onnx", config=config, parameters=int(meta.get("parameters", 0)))
    except (KeyError, TypeError, ValueError) as exc:
        return f"{path.name}: incomplete export ({type(exc).__name__}: {str(exc)[:120]}); {fix}"


def write_onnx(file: str | Path) -> Path:
    """Export the choreo bundle `file` to ONNX beside it (atomically), its args, mean/std and card in the
    metadata. Needs torch, onnx and onnxscript."""
    from choreo.onnx_denoiser import export_onnx

    file = resolve_model_file(file)
    bundle = load_bundle(file)
    if bundle.kind != "choreo":
        raise ChoreoError(f"{file}: only choreo bundles are exported to ONNX (an official checkpoint needs CLIP, "
                          "which runs on torch)")
    args = _read_checkpoint(file)["args"]
    meta = {"format": ONNX_FORMAT, "source": fingerprint(file), "args": args, "parameters": bundle.parameters,
            "mean": [float(v) for v in bundle.normalizer.mean], "std": [float(v) for v in bundle.normalizer.std],
            "card": bundle.card}
    out = onnx_file(file)
    tmp = out.with_name(out.name + ".tmp")
    window = bundle.window_frames
    export_onnx(bundle.model, tmp, frames=window, max_positions=max(bundle.diffusion_steps, window + 1),
                metadata={ONNX_META_KEY: json.dumps(meta)})
    os.replace(tmp, out)
    return out
