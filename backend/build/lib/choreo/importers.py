"""The one entry point for user data: `load_motions(path)` turns any supported file or folder into
`Motion`s at 20 fps, metres, Y up, feet on the floor (lowest foot-joint height over the clip = 0).

Per-format readers live in `choreo.formats`; common post-processing in `choreo.formats.cleanup`.
CMU files get their text from a `descriptions.csv` in the parent of their folder, their style from
the folder name and a `performance` key shared by clips of one performance (salsa couples).
"""

from __future__ import annotations

import csv
import fnmatch
import re
from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError
from choreo.formats import asf_amc, bvh_reader, cleanup, joint_maps
from choreo.motion import Motion

SUPPORTED = (
    "BVH (.bvh, any rig with recognisable joint names or a --joint-map JSON); "
    "Acclaim ASF/AMC (.amc with its .asf beside it); "
    "training JSON (.json list of {motion, text, style}); training NPZ (.npz: motions, texts, styles); "
    "AIST++ SMPL pickles (.pkl, needs allow_pickle and an SMPL offsets JSON); "
    "HumanML3D (.npy of [N,22,3] joints or [N,263] features, "
    "or a folder with new_joints/ or new_joint_vecs/); "
    "or a folder of these"
)

# Frame rates known to be wrong in file headers, as data: (file-name pattern, true fps, evidence).
# See docs/DATA.md for the measurements behind the salsa entry.
KNOWN_RATES: tuple[tuple[str, float, str], ...] = (
    ("60_*_scaled.bvh", 60.0, "CMU index lists subject 60 at 60 fps; pelvis speed and step rate agree"),
    ("61_*_scaled.bvh", 60.0, "CMU index lists subject 61 at 60 fps; pelvis speed and step rate agree"),
)
# Files known to have no metric scale: scaled so the leg is the canonical skeleton's leg.
KNOWN_UNITLESS: tuple[str, ...] = ("*_scaled.bvh",)
# CMU subjects recorded together: clips with the same trial number are one performance.
CMU_COUPLES: dict[int, str] = {60: "salsa", 61: "salsa"}
DESCRIPTIONS_CSV = "descriptions.csv"

_CMU_NAME = re.compile(r"^0*(\d+)_0*(\d+)")


def _matches(path: Path, pattern: str) -> bool:
    return fnmatch.fnmatch(path.name.lower(), pattern.lower())


def known_rate(path: Path) -> tuple[float, str] | None:
    """The true frame rate of a file whose header is known to be wrong, and why."""
    for pattern, rate, why in KNOWN_RATES:
        if _matches(path, pattern):
            return rate, why
    return None


def cmu_labels(path: Path) -> dict[str, str]:
    """text/style/performance for a CMU file whose folder's parent holds descriptions.csv, else {}."""
    csv_path = path.parent.parent / DESCRIPTIONS_CSV
    m = _CMU_NAME.match(path.stem)
    if not m or not csv_path.is_file():
        return {}
    subject, trial = int(m.group(1)), int(m.group(2))
    text = ""
    try:
        with csv_path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if int(row.get("subject", -1)) == subject and int(row.get("trial", -1)) == trial:
                    text = row.get("description", "").strip()
                    break
    except (OSError, ValueError, csv.Error) as exc:
        raise ChoreoError(f"{csv_path}: cannot read CMU descriptions ({exc})") from exc
    if not text:
        return {}
    couple = CMU_COUPLES.get(subject)
    performance = f"{couple}_{trial:02d}" if couple else f"cmu_{subject}_{trial}"
    return {"text": text, "style": path.parent.name, "performance": performance}


def _motion(joints: np.ndarray, path: Path, info: dict, labels: dict[str, str] | None = None) -> Motion:
    labels = labels if labels is not None else cmu_labels(path)
    return Motion(
        joints,
        text=labels.get("text", ""),
        style=labels.get("style", ""),
        source=str(path),
        performance=labels.get("performance", "") or path.stem,
        meta=info,
    )


def _rig_to_motion(
    names: list[str],
    positions: np.ndarray,
    path: Path,
    fps_in: float,
    info: dict,
    joint_map: str | Path | None,
    unitless: bool,
    drop_tpose: bool,
    metres: bool = False,
) -> Motion:
    mapping, rig = joint_maps.match_joints(names, str(path), joint_map)
    joints = joint_maps.select_joints(positions, names, mapping)
    joints, up = cleanup.to_y_up(joints)
    if metres and not unitless:
        scale, unit = 1.0, "m"
    else:
        try:
            scale, unit = cleanup.metric_scale(joints, unitless=unitless)
        except ValueError as exc:
            raise ChoreoError(f"{path}: cannot determine units ({exc})") from exc
    joints, tail = cleanup.finish(joints * scale, fps_in, str(path), drop_tpose=drop_tpose)
    info.update(tail, rig=rig, up_axis=up, unit=unit, scale_to_m=scale)
    return _motion(joints, path, info)


def load_bvh(path: Path, joint_map: str | Path | None = None, fps: float | None = None) -> Motion:
    bvh = bvh_reader.parse_bvh(path)
    positions = bvh_reader.world_positions(bvh)
    rate = known_rate(path)
    if fps:
        fps_in, why = float(fps), "given by the caller"
    elif rate:
        fps_in, why = rate
    else:
        fps_in, why = 1.0 / bvh.frame_time, "BVH header"
    info = {"header_fps": 1.0 / bvh.frame_time, "fps_rule": why}
    unitless = any(_matches(path, p) for p in KNOWN_UNITLESS)
    return _rig_to_motion(bvh.names, positions, path, fps_in, info, joint_map, unitless, drop_tpose=True)


def find_asf(amc: Path) -> Path:
    """The skeleton of a CMU take: `<subject>.asf` beside `<subject>_<trial>.amc`, or the only .asf there."""
    subject = amc.stem.split("_")[0]
    candidates = [amc.with_name(f"{subject}.asf"), amc.with_suffix(".asf")]
    for c in candidates:
        if c.is_file():
            return c
    others = sorted(amc.parent.glob("*.asf"))
    if len(others) == 1:
        return others[0]
    raise ChoreoError(
        f"{amc}: no ASF skeleton found beside it (looked for {candidates[0].name}); "
        "pass the .asf path explicitly"
    )


def load_amc(
    path: Path, asf: Path | None = None, joint_map: str | Path | None = None, fps: float | None = None
) -> Motion:
    skeleton = asf_amc.parse_asf(asf or find_asf(path))
    names, positions = asf_amc.world_positions(skeleton, asf_amc.parse_amc(path, skeleton))
    fps_in = float(fps) if fps else asf_amc.CMU_AMC_FPS
    info = {"fps_rule": "given by the caller" if fps else "CMU AMC rate (120 fps)", "asf": skeleton.path}
    return _rig_to_motion(
        names, positions, path, fps_in, info, joint_map, unitless=False, drop_tpose=False, metres=True
    )


def _load_file(
    path: Path,
    *,
    allow_pickle: bool,
    joint_map: str | Path | None,
    smpl_offsets: str | Path | None,
    fps: float | None,
) -> list[Motion]:
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        return [load_bvh(path, joint_map, fps)]
    if suffix == ".amc":
        return [load_amc(path, joint_map=joint_map, fps=fps)]
    if suffix in (".json", ".npz"):
        from choreo.formats import seed_training

        return seed_training.load(path, allow_pickle=allow_pickle, fps=fps)
    if suffix in (".pkl", ".pickle"):
        from choreo.formats import aist

        return [aist.load(path, allow_pickle=allow_pickle, smpl_offsets=smpl_offsets, fps=fps)]
    if suffix == ".npy":
        from choreo.formats import humanml3d

        return [humanml3d.load_npy(path, fps=fps)]
    raise ChoreoError(f"{path}: unsupported file type {suffix or '(none)'}; supported: {SUPPORTED}")


LOADABLE_SUFFIXES = (".bvh", ".amc", ".json", ".npz", ".pkl", ".pickle", ".npy")


def load_motions(
    path: str | Path,
    *,
    allow_pickle: bool = False,
    joint_map: str | Path | None = None,
    smpl_offsets: str | Path | None = None,
    fps: float | None = None,
) -> list[Motion]:
    """Load every clip in a file or folder as `Motion`s at 20 fps, metres, Y up, feet on the floor.

    `fps` overrides the source frame rate; `joint_map` is a JSON {our_joint: rig_joint} for BVH/ASF rigs;
    `smpl_offsets` the SMPL rest-offsets JSON for AIST++ pickles; pickled files load only with
    `allow_pickle=True` (unpickling runs code from the file: trusted files only).
    """
    path = Path(path)
    opts = {"allow_pickle": allow_pickle, "joint_map": joint_map, "smpl_offsets": smpl_offsets, "fps": fps}
    if path.is_dir():
        from choreo.formats import humanml3d

        if humanml3d.is_dataset_root(path):
            return humanml3d.load_dataset(path, fps=fps)
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in LOADABLE_SUFFIXES)
        if not files:
            raise ChoreoError(f"{path}: folder holds no motion files; supported: {SUPPORTED}")
        return [m for f in files for m in _load_file(f, **opts)]
    if path.suffix.lower() == ".asf":
        raise ChoreoError(f"{path}: an ASF file is only a skeleton; load the .amc motion files beside it")
    if not path.exists():
        raise ChoreoError(f"{path}: no such file or folder")
    return _load_file(path, **opts)
