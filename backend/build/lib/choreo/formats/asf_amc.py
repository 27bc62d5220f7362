"""Acclaim ASF (skeleton) + AMC (motion), as in the CMU database: world positions of every bone end.

Units: ASF `:units length L` means lengths are in units of L inches *inverted*: CMU writes `length 0.45`
and a femur of 7.76 units, which is 7.76 / 0.45 = 17.2 in = 0.44 m (7.76 * 0.45 in would be a 9 cm
femur). So metres per unit = 0.0254 / L. Root translation in the AMC uses the same unit.
Rotations follow the usual ASF formula: a bone's world rotation is parent @ C @ M @ C^-1, where C comes
from the bone's `axis` angles and M from its AMC dof values, both composed in the bone's axis order
(first letter applied first), and the bone end = bone start + world rotation @ (direction * length).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError
from choreo.formats.bvh_reader import euler_to_matrices

CMU_AMC_FPS = 120.0
INCH_M = 0.0254


@dataclass
class AsfBone:
    name: str
    direction: np.ndarray  # unit vector, world frame at rest
    length: float  # ASF units
    axis: np.ndarray  # degrees
    order: str  # e.g. "XYZ": X applied first
    dof: list[str]  # e.g. ["rx", "ry", "rz"]


@dataclass
class AsfSkeleton:
    path: str
    metres_per_unit: float
    degrees: bool
    root_order: list[str]  # AMC channel order of the root, e.g. ["TX", ..., "RZ"]
    root_axis: str
    root_position: np.ndarray
    root_orientation: np.ndarray
    bones: dict[str, AsfBone]
    children: dict[str, list[str]]


def _fail(path: str | Path, problem: str) -> ChoreoError:
    return ChoreoError(f"{path}: {problem}")


def _sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(":"):
            key, _, rest = line[1:].partition(" ")
            current = key.lower()
            out.setdefault(current, [])
            if rest.strip():
                out[current].append(rest.strip())
        elif current:
            out[current].append(line)
    return out


def parse_asf(path: str | Path) -> AsfSkeleton:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise _fail(path, f"cannot read ASF skeleton ({exc.strerror or exc})") from exc
    sec = _sections(text)
    if "bonedata" not in sec or "hierarchy" not in sec:
        raise _fail(path, "not an ASF skeleton (needs :bonedata and :hierarchy sections)")
    length_unit, degrees = 1.0, True
    for line in sec.get("units", []):
        parts = line.split()
        if parts[0] == "length":
            length_unit = float(parts[1])
        elif parts[0] == "angle":
            degrees = parts[1].lower().startswith("deg")
    root = {"order": "TX TY TZ RX RY RZ", "axis": "XYZ", "position": "0 0 0", "orientation": "0 0 0"}
    for line in sec.get("root", []):
        key, _, rest = line.partition(" ")
        root[key.lower()] = rest.strip()
    bones: dict[str, AsfBone] = {}
    try:
        cur: dict = {}
        for line in sec["bonedata"]:
            parts = line.split()
            key = parts[0].lower()
            if key == "begin":
                cur = {
                    "axis": [0.0, 0.0, 0.0],
                    "order": "XYZ",
                    "dof": [],
                    "direction": [0, 0, 0],
                    "length": 0.0,
                }
            elif key == "end":
                bones[cur["name"]] = AsfBone(
                    cur["name"],
                    np.array(cur["direction"], float),
                    cur["length"],
                    np.array(cur["axis"], float),
                    cur["order"],
                    cur["dof"],
                )
            elif key == "name":
                cur["name"] = parts[1]
            elif key == "direction":
                cur["direction"] = [float(v) for v in parts[1:4]]
            elif key == "length":
                cur["length"] = float(parts[1])
            elif key == "axis":
                cur["axis"] = [float(v) for v in parts[1:4]]
                cur["order"] = parts[4].upper() if len(parts) > 4 else "XYZ"
            elif key == "dof":
                cur["dof"] = [p.lower() for p in parts[1:]]
    except (KeyError, IndexError, ValueError) as exc:
        raise _fail(path, f"bad :bonedata entry ({exc})") from exc
    children: dict[str, list[str]] = {}
    for line in sec["hierarchy"]:
        parts = line.split()
        if parts[0].lower() in ("begin", "end"):
            continue
        for child in parts[1:]:
            if child not in bones:
                raise _fail(path, f":hierarchy names unknown bone {child!r}")
        children.setdefault(parts[0], []).extend(parts[1:])
    return AsfSkeleton(
        str(path),
        INCH_M / length_unit,
        degrees,
        root["order"].upper().split(),
        root["axis"].upper(),
        np.array(root["position"].split(), float),
        np.array(root["orientation"].split(), float),
        bones,
        children,
    )


def parse_amc(path: str | Path, skeleton: AsfSkeleton) -> dict[str, np.ndarray]:
    """Per bone (and "root"): values [T, dof] in the AMC's order."""
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise _fail(path, f"cannot read AMC motion ({exc.strerror or exc})") from exc
    frames: list[dict[str, list[float]]] = []
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line[0] in "#:":
            continue
        parts = line.split()
        if len(parts) == 1 and parts[0].isdigit():
            frames.append({})
            continue
        if not frames:
            raise _fail(path, f"line {lineno}: values before the first frame number")
        try:
            frames[-1][parts[0]] = [float(v) for v in parts[1:]]
        except ValueError as exc:
            raise _fail(path, f"line {lineno}: not a number ({exc})") from exc
    if not frames:
        raise _fail(path, "AMC file has no frames")
    sizes = {"root": len(skeleton.root_order)} | {n: len(b.dof) for n, b in skeleton.bones.items()}
    out = {}
    for name, size in sizes.items():
        arr = np.zeros((len(frames), size))
        for t, frame in enumerate(frames):
            vals = frame.get(name)
            if vals is None:
                continue
            if len(vals) != size:
                raise _fail(
                    path,
                    f"frame {t + 1}: bone {name!r} has {len(vals)} values, the skeleton "
                    f"{Path(skeleton.path).name} gives it {size} dof (wrong ASF?)",
                )
            arr[t] = vals
        out[name] = arr
    unknown = set().union(*frames) - set(sizes)
    if unknown:
        raise _fail(path, f"bones {sorted(unknown)[:5]} are not in the skeleton {skeleton.path} (wrong ASF?)")
    if not all(np.all(np.isfinite(a)) for a in out.values()):
        raise _fail(path, "AMC data contains NaN or infinite values")
    return out


def _axis_matrix(angles: np.ndarray, order: str, degrees: bool) -> np.ndarray:
    """Rotation applying the axes of `order` first to last (fixed axes): R = R_last @ ... @ R_first."""
    deg = angles if degrees else np.rad2deg(angles)
    return euler_to_matrices(deg[..., ::-1], order[::-1])


def world_positions(skeleton: AsfSkeleton, motion: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """Names ("root" then every bone, meaning its end point) and positions [T, K, 3] in metres."""
    t = motion["root"].shape[0]
    order = skeleton.root_order
    root_vals = motion["root"]
    trans = (
        np.stack(
            [root_vals[:, order.index(f"T{a}")] if f"T{a}" in order else np.zeros(t) for a in "XYZ"], axis=-1
        )
        + skeleton.root_position
    )
    rot_vals = np.stack(
        [root_vals[:, order.index(f"R{a}")] if f"R{a}" in order else np.zeros(t) for a in skeleton.root_axis],
        axis=-1,
    )
    c = _axis_matrix(
        skeleton.root_orientation[[("XYZ".index(a)) for a in skeleton.root_axis]],
        skeleton.root_axis,
        skeleton.degrees,
    )
    root_rot = c @ _axis_matrix(rot_vals, skeleton.root_axis, skeleton.degrees) @ c.T
    names, positions = ["root"], [trans]
    rotations = {"root": root_rot}
    ends = {"root": trans}
    stack = [("root", child) for child in reversed(skeleton.children.get("root", []))]
    while stack:
        parent, name = stack.pop()
        bone = skeleton.bones[name]
        c = _axis_matrix(bone.axis[[("XYZ".index(a)) for a in bone.order]], bone.order, skeleton.degrees)
        local = np.zeros((t, 3))
        for k, d in enumerate(bone.dof):
            if d[0] == "r":
                local[:, bone.order.index(d[1].upper())] = motion[name][:, k]
        m = _axis_matrix(local, bone.order, skeleton.degrees)
        rotations[name] = rotations[parent] @ c @ m @ c.T
        ends[name] = ends[parent] + np.einsum("tij,j->ti", rotations[name], bone.direction * bone.length)
        names.append(name)
        positions.append(ends[name])
        stack.extend((name, child) for child in reversed(skeleton.children.get(name, [])))
    return names, np.stack(positions, axis=1) * skeleton.metres_per_unit
