"""Which rig joint is each of our 22 joints: built-in rig maps, automatic matching, JSON overrides.

A source is a rig joint name (End Sites are "<joint>/End") or a point between two rig joints,
("a", "b", t) = a + t (b - a), for joints a rig lacks (e.g. spine3 on the CMU/cgspeed rig).
Names are compared after normalising (case, "mixamorig:"-style namespaces, "CC_Base_", separators).
A `--joint-map FILE` JSON {our_joint: rig_joint | {"between": [a, b], "t": 0.3}} overrides entries.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError
from choreo.formats.bvh_reader import END_SUFFIX
from choreo.skeleton import JOINT_NAMES

Source = str | tuple[str, str, float]


def _sided(left: dict[str, Source], swap: tuple[str, str]) -> dict[str, Source]:
    """Add the right-side entries by replacing the left marker in every rig name."""
    out = dict(left)
    a, b = swap
    for ours, src in left.items():
        right = ours.replace("left_", "right_")
        if isinstance(src, tuple):
            out[right] = (src[0].replace(a, b, 1), src[1].replace(a, b, 1), src[2])
        else:
            out[right] = src.replace(a, b, 1)
    return out


# CMU/cgspeed BVH (cmu/salsa): lThigh is the hip joint (lButtock only offsets it from the pelvis);
# SMPL's shoulder is the upper-arm joint (lShldr), its elbow the forearm joint, its wrist the hand.
# No toe joint: the foot's End Site sits at the toes. No spine3: 1/5 of the way chest -> neck, as in
# SMPL's proportions (spine2->spine3 0.057 m of 0.276 m to the neck).
CMU_CGSPEED: dict[str, Source] = {
    "pelvis": "hip",
    "spine1": "abdomen",
    "spine2": "chest",
    "spine3": ("chest", "neck", 0.2),
    "neck": "neck",
    "head": "head",
    **_sided(
        {
            "left_hip": "lThigh",
            "left_knee": "lShin",
            "left_ankle": "lFoot",
            "left_foot": "lFoot" + END_SUFFIX,
            "left_collar": "lCollar",
            "left_shoulder": "lShldr",
            "left_elbow": "lForeArm",
            "left_wrist": "lHand",
        },
        ("l", "r"),
    ),
}

# Reallusion Character Creator rig (cmu/modern), names after dropping "CC_Base_". Chosen by height
# above the pelvis to match SMPL's spine (0.13, 0.27, 0.33 m; neck 0.55 m): Spine01 is at 0.13 m,
# Spine02 at 0.27 m, the neck base (NeckTwist01) 0.27 m above Spine02; the clavicles hang off Spine02.
REALLUSION_CC: dict[str, Source] = {
    "pelvis": "Pelvis",
    "spine1": "Spine01",
    "spine2": "Spine02",
    "spine3": ("Spine02", "NeckTwist01", 0.2),
    "neck": "NeckTwist01",
    "head": "Head",
    **_sided(
        {
            "left_hip": "L_Thigh",
            "left_knee": "L_Calf",
            "left_ankle": "L_Foot",
            "left_foot": "L_ToeBase",
            "left_collar": "L_Clavicle",
            "left_shoulder": "L_Upperarm",
            "left_elbow": "L_Forearm",
            "left_wrist": "L_Hand",
        },
        ("L_", "R_"),
    ),
}

# Mixamo (namespace "mixamorig:" dropped): Spine/Spine1/Spine2 are SMPL's spine1/2/3.
MIXAMO: dict[str, Source] = {
    "pelvis": "Hips",
    "spine1": "Spine",
    "spine2": "Spine1",
    "spine3": "Spine2",
    "neck": "Neck",
    "head": "Head",
    **_sided(
        {
            "left_hip": "LeftUpLeg",
            "left_knee": "LeftLeg",
            "left_ankle": "LeftFoot",
            "left_foot": "LeftToeBase",
            "left_collar": "LeftShoulder",
            "left_shoulder": "LeftArm",
            "left_elbow": "LeftForeArm",
            "left_wrist": "LeftHand",
        },
        ("Left", "Right"),
    ),
}

# Acclaim ASF/AMC of CMU: positions are bone *ends* (see asf_amc.py), so the hip joint is the end of
# lhipjoint, the knee the end of lfemur, the toe base the end of lfoot. The thorax ends at shoulder
# height where the clavicles start, which is above SMPL's spine3 and just below its neck: spine3 sits
# mid-thorax, the neck halfway up the lower neck, the collar 40% along the clavicle (lateral of the spine).
CMU_ASF: dict[str, Source] = {
    "pelvis": "root",
    "spine1": "lowerback",
    "spine2": "upperback",
    "spine3": ("upperback", "thorax", 0.5),
    "neck": ("thorax", "lowerneck", 0.5),
    "head": "upperneck",
    **_sided(
        {
            "left_hip": "lhipjoint",
            "left_knee": "lfemur",
            "left_ankle": "ltibia",
            "left_foot": "lfoot",
            "left_collar": ("thorax", "lclavicle", 0.4),
            "left_shoulder": "lclavicle",
            "left_elbow": "lhumerus",
            "left_wrist": "lradius",
        },
        ("l", "r"),
    ),
}

SMPL_NAMES: dict[str, Source] = {name: name for name in JOINT_NAMES}

RIG_MAPS: dict[str, dict[str, Source]] = {
    "cmu_cgspeed": CMU_CGSPEED,
    "reallusion_cc": REALLUSION_CC,
    "mixamo": MIXAMO,
    "cmu_asf": CMU_ASF,
    "smpl": SMPL_NAMES,
}


def normalize_name(name: str) -> str:
    """Compare names loosely: drop namespaces ("mixamorig:"), "CC_Base_", case and separators."""
    end = name.endswith(END_SUFFIX)
    base = name[: -len(END_SUFFIX)] if end else name
    base = base.rsplit(":", 1)[-1].rsplit("|", 1)[-1]
    base = re.sub(r"^cc_base_", "", base, flags=re.IGNORECASE)
    base = re.sub(r"[^a-z0-9]", "", base.lower())
    return base + ("/end" if end else "")


def _source_names(src: Source) -> tuple[str, ...]:
    return (src,) if isinstance(src, str) else (src[0], src[1])


def _resolve(mapping: dict[str, Source], lookup: dict[str, str]) -> tuple[dict[str, Source], list[str]]:
    """Translate a map's names to the rig's actual names; list our joints it cannot supply."""
    out: dict[str, Source] = {}
    missing = []
    for ours, src in mapping.items():
        real = [lookup.get(normalize_name(n)) for n in _source_names(src)]
        if any(r is None for r in real):
            missing.append(ours)
        else:
            out[ours] = real[0] if isinstance(src, str) else (real[0], real[1], src[2])
    return out, missing


def read_joint_map(path: str | Path) -> dict[str, Source]:
    """Load a `--joint-map` JSON: {our_joint: rig_joint | {"between": [a, b], "t": 0.5}}."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ChoreoError(f"{path}: cannot read joint map ({exc.strerror or exc})") from exc
    except json.JSONDecodeError as exc:
        raise ChoreoError(f"{path}: joint map is not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise ChoreoError(f"{path}: joint map must be a JSON object {{our_joint: rig_joint}}")
    out: dict[str, Source] = {}
    for ours, src in data.items():
        if ours not in JOINT_NAMES:
            raise ChoreoError(
                f"{path}: unknown joint {ours!r} in joint map; ours are: {', '.join(JOINT_NAMES)}"
            )
        if isinstance(src, str):
            out[ours] = src
        elif isinstance(src, dict) and isinstance(src.get("between"), list) and len(src["between"]) == 2:
            out[ours] = (str(src["between"][0]), str(src["between"][1]), float(src.get("t", 0.5)))
        else:
            raise ChoreoError(
                f"{path}: joint map entry {ours!r} must be a rig joint name or "
                '{"between": [a, b], "t": 0.5}'
            )
    return out


def match_joints(
    rig_names: list[str],
    source: str,
    joint_map: str | Path | dict | None = None,
) -> tuple[dict[str, Source], str]:
    """Choose a source for each of our 22 joints; returns (map, rig name). ChoreoError lists gaps."""
    lookup: dict[str, str] = {}
    for n in rig_names:
        lookup.setdefault(normalize_name(n), n)
    override = read_joint_map(joint_map) if isinstance(joint_map, (str, Path)) else dict(joint_map or {})
    for ours, src in override.items():
        for n in _source_names(src):
            if n not in rig_names and normalize_name(n) not in lookup:
                raise ChoreoError(
                    f"{source}: joint map names {n!r} for {ours}, but the rig has no such joint"
                )
    best: tuple[dict[str, Source], list[str], str] | None = None
    for rig, mapping in RIG_MAPS.items():
        resolved, missing = _resolve(mapping, lookup)
        missing = [m for m in missing if m not in override]
        if best is None or len(missing) < len(best[1]):
            best = (resolved, missing, rig)
    resolved, missing, rig = best
    if missing:
        raise ChoreoError(
            f"{source}: cannot find rig joints for {', '.join(missing)} (closest known rig: {rig}); "
            f"pass a JSON joint map {{our_joint: rig_joint}} with --joint-map. Rig joints: "
            f"{', '.join(n for n in rig_names if not n.endswith(END_SUFFIX))}"
        )
    for ours, src in override.items():
        resolved[ours] = (
            src if isinstance(src, str) and src in rig_names else _resolve({ours: src}, lookup)[0][ours]
        )
    return resolved, rig if not override else f"{rig}+joint_map"


def select_joints(positions: np.ndarray, rig_names: list[str], mapping: dict[str, Source]) -> np.ndarray:
    """Our 22 joints [T,22,3] from rig positions [T,K,3] by a resolved map."""
    index = {n: i for i, n in enumerate(rig_names)}
    out = np.zeros(positions.shape[:1] + (len(JOINT_NAMES), 3))
    for j, ours in enumerate(JOINT_NAMES):
        src = mapping[ours]
        if isinstance(src, str):
            out[:, j] = positions[:, index[src]]
        else:
            a, b = positions[:, index[src[0]]], positions[:, index[src[1]]]
            out[:, j] = a + src[2] * (b - a)
    return out
