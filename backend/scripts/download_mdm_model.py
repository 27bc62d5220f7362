#!/usr/bin/env python3
"""Place the official MDM HumanML3D checkpoint where the setup guide expects it.

    python3.12 scripts/download_mdm_model.py                             # download (gdown + network)
    python3.12 scripts/download_mdm_model.py --from humanml_trans_enc_512.zip   # the release zip
    python3.12 scripts/download_mdm_model.py --from model000475000.pt           # .pt (+ args.json beside)

Result: backend/models/mdm/humanml_trans_enc_512/model000475000.pt with args.json beside it, validated by
loading it into our MDM network (choreo.bundle; weights are read with torch.load(weights_only=True), so
nothing in the file can run code). Exit code 0 on success, 2 with a one-paragraph message otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
import zipfile
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[1]
if str(BACKEND) not in sys.path:  # run as a script from anywhere: the project package sits in backend/
    sys.path.insert(0, str(BACKEND))
DEST = BACKEND / "models" / "mdm" / "humanml_trans_enc_512"
MODEL_NAME = "model000475000.pt"
RELEASE_ZIP = "humanml_trans_enc_512.zip"
# The "humanml-encoder-512" entry of github.com/GuyTevet/motion-diffusion-model#pretrained-models.
DRIVE_FILE_ID = "1PE0PK8e5a5j-7-Xhs5YET5U5pGh0c821"
README_URL = "https://github.com/GuyTevet/motion-diffusion-model#pretrained-models"

# args.json of the release (mdm-spec §5.1), written only when a bare .pt comes without one.
DEFAULT_ARGS = {
    "arch": "trans_enc", "batch_size": 64, "cond_mask_prob": 0.1, "cuda": True, "data_dir": "",
    "dataset": "humanml", "device": 0, "diffusion_steps": 1000, "emb_trans_dec": False, "latent_dim": 512,
    "layers": 8, "lambda_fc": 0.0, "lambda_rcxyz": 0.0, "lambda_vel": 0.0, "lr": 0.0001,
    "noise_schedule": "cosine", "seed": 10, "sigma_small": True, "unconstrained": False, "weight_decay": 0.0,
}


class Failure(Exception):
    """A problem reported to the user as a message and exit code 2."""


def python_name() -> str:
    """How to call the Python running this script in a hint: its name if that is on PATH, else its path."""
    exe = Path(sys.executable)
    found = shutil.which(exe.name)
    return exe.name if found and Path(found).resolve() == exe.resolve() else str(exe)


def manual_steps(dest: Path) -> str:
    return (
        "Manual download (the setup guide's option 2):\n"
        f"  1. Visit {README_URL}\n"
        f"  2. Download the HumanML3D model 'humanml-encoder-512' ({RELEASE_ZIP})\n"
        f"  3. Run: {python_name()} scripts/download_mdm_model.py --from /path/to/{RELEASE_ZIP}\n"
        f"     (or unzip it and run: {python_name()} scripts/download_mdm_model.py --from /path/to/{MODEL_NAME} "
        "--force, which writes args.json beside it)"
    )


def require_project() -> None:
    """Fail clearly when this interpreter lacks the project's dependencies (validation needs torch)."""
    missing = []
    for module in ("torch", "numpy", "choreo"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        venv = BACKEND.parent / ".venv" / "bin" / "python"
        hint = f"\n  {venv} scripts/download_mdm_model.py ..." if venv.is_file() else ""
        raise Failure(
            f"this Python ({sys.executable}, {sys.version.split()[0]}) lacks the project's dependencies "
            f"({', '.join(missing)}). Run ./scripts/setup_ai_model.sh first, or use the project's "
            f"environment:{hint}"
        )


def _is_release_member(name: str, leaf: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and parts[-1] == leaf and ".." not in parts and not name.startswith("/")


def stage_from_zip(zip_path: Path, stage: Path) -> list[str]:
    """Extract model000475000.pt and args.json (only those two, by fixed names) into `stage`."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            names = zf.namelist()
            models = [n for n in names if _is_release_member(n, MODEL_NAME)]
            if not models:
                found = [n for n in names if n.endswith(".pt")]
                raise Failure(f"{zip_path} holds no {MODEL_NAME} (found {found[:5] or 'no .pt files'})")
            model = sorted(models, key=lambda n: ("humanml_trans_enc_512" not in n, len(n)))[0]
            args = str(Path(model).parent / "args.json") if Path(model).parent != Path(".") else "args.json"
            notes = []
            with zf.open(model) as src, open(stage / MODEL_NAME, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            if args in names:
                with zf.open(args) as src, open(stage / "args.json", "wb") as dst:
                    shutil.copyfileobj(src, dst)
            else:
                notes.append(f"{zip_path} has no args.json beside {model}")
            return notes
    except zipfile.BadZipFile as exc:
        raise Failure(f"{zip_path} is not a readable zip file ({exc})") from exc


def is_release_zip(path: Path) -> bool:
    """A release zip holds .pt files; a torch checkpoint is itself a zip (with data.pkl), so look inside."""
    if not zipfile.is_zipfile(path):
        return False
    if path.suffix.lower() == ".zip":
        return True
    with zipfile.ZipFile(path) as zf:
        return any(n.endswith(".pt") for n in zf.namelist())


def stage_from_file(src: Path, stage: Path) -> list[str]:
    shutil.copyfile(src, stage / MODEL_NAME)
    if (src.parent / "args.json").is_file():
        shutil.copyfile(src.parent / "args.json", stage / "args.json")
        return []
    return [f"no args.json beside {src}"]


def validate(stage: Path, shown: str | Path) -> dict:
    """Load the staged checkpoint into our network; HumanML3D Mean/Std are not needed for this check.
    Messages name `shown` (the user's file), not the temporary copy."""
    import numpy as np

    from choreo.bundle import load_bundle
    from choreo.errors import ChoreoError

    with tempfile.TemporaryDirectory() as stats:
        np.save(Path(stats) / "Mean.npy", np.zeros(263, dtype=np.float32))
        np.save(Path(stats) / "Std.npy", np.ones(263, dtype=np.float32))
        try:
            return load_bundle(stage / MODEL_NAME, data_path=stats).summary()
        except ChoreoError as exc:
            message = str(exc).replace(str(stage / MODEL_NAME), str(shown)).replace(str(stage), str(shown))
            raise Failure(f"the checkpoint did not validate: {message}") from None


def network_ok(host: str = "drive.google.com", timeout: float = 5.0) -> bool:
    if os.environ.get("CHOREO_OFFLINE"):
        return False
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def download(stage: Path, dest: Path) -> list[str]:
    try:
        import gdown
    except ImportError as exc:
        raise Failure(
            "cannot download automatically: the package gdown is not installed "
            f"({python_name()} -m pip install gdown).\n{manual_steps(dest)}"
        ) from exc
    if not network_ok():
        raise Failure(f"cannot download: no network connection to Google Drive.\n{manual_steps(dest)}")
    zip_path = stage / RELEASE_ZIP
    print(f"downloading {RELEASE_ZIP} (about 300 MB) from Google Drive ...", flush=True)
    try:
        got = gdown.download(id=DRIVE_FILE_ID, output=str(zip_path), quiet=False)
    except Exception as exc:  # gdown raises many types (quota, HTML instead of file, network)
        first = str(exc).splitlines()[0] if str(exc) else repr(exc)
        raise Failure(f"download failed: {first}.\n{manual_steps(dest)}") from exc
    if not got or not zip_path.is_file():
        raise Failure(f"download failed (Google Drive gave no file).\n{manual_steps(dest)}")
    inner = stage / "unpacked"
    inner.mkdir()
    notes = stage_from_zip(zip_path, inner)
    zip_path.unlink()
    for name in (MODEL_NAME, "args.json"):
        if (inner / name).is_file():
            (inner / name).replace(stage / name)
    shutil.rmtree(inner)
    return notes


def stats_hint(dest: Path) -> str:
    """Where the loader will find HumanML3D's Mean.npy/Std.npy (it searches the same folders), or what to do."""
    from choreo.bundle import find_official_stats

    try:
        from choreo.config import load_settings

        data = load_settings().data_path
    except Exception:  # a broken config must not hide the success of the download
        data = None
    folder = find_official_stats(dest / MODEL_NAME, data)
    if folder is not None:
        where = "beside the checkpoint" if folder == dest else f"in {folder}"
        return f"HumanML3D Mean.npy/Std.npy: found {where}."
    return (f"Note: generating with this checkpoint also needs HumanML3D's Mean.npy and Std.npy "
            f"(github.com/EricGuo5513/HumanML3D); put them in {dest}/, in {dest.parent}/ or under data_path of "
            "mdm_config.json.")


def clip_hint() -> str:
    """Whether the CLIP ViT-B/32 text weights the official checkpoint needs are configured."""
    try:
        from choreo.config import load_settings

        clip = load_settings().clip_path
    except Exception:  # a broken config must not hide the success of the download
        clip = None
    clip = clip or (Path(os.environ["CHOREO_CLIP_PATH"]) if os.environ.get("CHOREO_CLIP_PATH") else None)
    if clip and (clip / "config.json").is_file():
        return f"CLIP ViT-B/32 text weights: found in {clip}."
    return ("Note: generating with this checkpoint also needs CLIP ViT-B/32's text weights, which no package "
            "ships: put the Hugging Face folder of openai/clip-vit-base-patch32 on disk and set \"clip_path\" in "
            "mdm_config.json (or CHOREO_CLIP_PATH, or choreo generate --clip-path); until then generation stops "
            "with this message.")


def run(args: argparse.Namespace) -> int:
    dest = Path(args.dest).expanduser().resolve()
    target = dest / MODEL_NAME
    require_project()
    if target.is_file() and not args.force and not args.source:
        summary = validate(dest, target)
        print(f"{target} is already in place and loads ({summary['parameters']:,} parameters). "
              "Use --force with --from to replace it.")
        return 0
    if target.is_file() and args.source and not args.force:
        raise Failure(f"{target} already exists; add --force to replace it")
    made = [p for p in (dest.parent, *dest.parent.parents) if not p.exists()]  # removed again on failure
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        summary, notes = _place(args, dest, target)
    except BaseException:
        for folder in made:  # innermost first: a failed run leaves no empty folders behind
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    for note in notes:
        print(f"note: {note}")
    print(f"OK: {target}\n    {summary['parameters']:,} parameters, {summary['layers']} layers, "
          f"latent {summary['latent_dim']}, {summary['diffusion_steps']} diffusion steps, "
          f"text encoder {summary['text_encoder']}")
    print(stats_hint(dest))
    print(clip_hint())
    shown = target.relative_to(BACKEND) if target.is_relative_to(BACKEND) else target
    print(f"To use it, set \"model_path\" in mdm_config.json to \"{shown}\".")
    return 0


def _place(args: argparse.Namespace, dest: Path, target: Path) -> tuple[dict, list[str]]:
    """Stage, validate and move the checkpoint and args.json into `dest`."""
    with tempfile.TemporaryDirectory(prefix=".incoming-", dir=dest.parent) as tmp:
        stage = Path(tmp)
        if args.source:
            src = Path(args.source).expanduser()
            if not src.is_file():
                raise Failure(f"--from {src}: no such file")
            notes = stage_from_zip(src, stage) if is_release_zip(src) else stage_from_file(src, stage)
        else:
            notes = download(stage, dest)
        if not (stage / "args.json").is_file():
            (stage / "args.json").write_text(json.dumps(DEFAULT_ARGS, indent=2) + "\n")
            notes.append("wrote the release's known args.json (mdm-spec §5.1) beside it")
        summary = validate(stage, Path(args.source).expanduser() if args.source else target)
        dest.mkdir(parents=True, exist_ok=True)
        for name in (MODEL_NAME, "args.json"):
            (stage / name).replace(dest / name)
    return summary, notes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Place the official MDM checkpoint humanml_trans_enc_512")
    p.add_argument("--from", dest="source", metavar="FILE_OR_ZIP",
                   help=f"a local {RELEASE_ZIP} or {MODEL_NAME} (args.json beside it is copied too)")
    p.add_argument("--dest", default=str(DEST), help=f"target folder (default {DEST.relative_to(BACKEND)})")
    p.add_argument("--force", action="store_true", help="replace an existing checkpoint")
    args = p.parse_args(argv)
    try:
        return run(args)
    except Failure as exc:
        print(f"download_mdm_model: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
