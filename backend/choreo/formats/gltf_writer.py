"""glTF 2.0 binary (.glb) export of a whole group: every member a skinned body, a stage floor, ONE animation.

The scene (metres, Y up, the audience at +Z — glTF's own convention, and ours):
- per member: a node named after the member (UTF-8 kept, e.g. Korean names) holding a 22-joint skeleton
  (joint nodes `<member>_<joint name>`, children as in `choreo.skeleton.PARENTS`), and a skinned mesh node
  `<member> body` at the scene root (glTF wants skinned meshes at the root: parent transforms do not
  move them). The skin lists the joints in `JOINT_NAMES` order.
- the body: one capsule per bone (a sphere-capped cylinder, weighted wholly to the bone's parent joint, so
  it is rigid like the bone), plus a capsule for the head, hands and feet beyond their last joint; one
  material per member in the member's colour.
- `stage floor`: a thin box whose top is just below y = 0, covering every member's path plus a margin.
- one animation `choreography`: per member the pelvis translation and every joint's rotation (LINEAR,
  one key per frame, quaternion signs continuous), so three.js GLTFLoader plays all members together.
  (three.js culls a skinned mesh by the bounding sphere of the pose it first drew; a page that follows
  one travelling member should set `frustumCulled = false` on the bodies, as `tools/gltf/view.html` does.)

Rotations come from the BVH writer's solver (`rest_offsets`, `solve_global_rotations`): the rest pose is
the BVH rest pose (each bone along its HumanML3D rest direction at the clip's median length), and a joint
node's rotation is its BVH local rotation. For motion with exact bone lengths (everything the generator
makes) the joints reproduce the input positions to float32 precision.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError
from choreo.formats.bvh_writer import CHILDREN, END_SITE_FRACTION, LEAF_JOINTS, rest_offsets, solve_global_rotations
from choreo.formats.palette import MEMBER_COLORS as DEFAULT_COLORS  # shared with the group preview video
from choreo.quaternion import matrix_to_quat
from choreo.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS

# glTF constants (the spec's enums).
_FLOAT, _UBYTE, _USHORT, _UINT = 5126, 5121, 5123, 5125
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_GLB_MAGIC, _GLB_VERSION, _CHUNK_JSON, _CHUNK_BIN = 0x46546C67, 2, 0x4E4F534A, 0x004E4942

FLOOR_COLOR = (0.18, 0.18, 0.20, 1.0)
FLOOR_MARGIN = 1.5  # metres of floor beyond the members' farthest pelvis positions
FLOOR_MIN_HALF_SIZE = (4.0, 3.0)  # (x, z): a stage at least 8 m wide and 6 m deep
FLOOR_THICKNESS = 0.02
FLOOR_TOP = -0.002  # just below the feet so the soles never flicker into the floor

# Capsule radius (metres) of the bone from PARENTS[child] to child, by child joint name.
BONE_RADIUS: dict[str, float] = {
    "left_hip": 0.075, "right_hip": 0.075, "spine1": 0.11, "left_knee": 0.07, "right_knee": 0.07,
    "spine2": 0.11, "left_ankle": 0.055, "right_ankle": 0.055, "spine3": 0.11, "left_foot": 0.045,
    "right_foot": 0.045, "neck": 0.055, "left_collar": 0.05, "right_collar": 0.05, "head": 0.05,
    "left_shoulder": 0.05, "right_shoulder": 0.05, "left_elbow": 0.045, "right_elbow": 0.045,
    "left_wrist": 0.04, "right_wrist": 0.04,
}
# Capsule beyond a leaf joint (head, hands, toes): radius and length as a multiple of its End Site offset.
LEAF_SHAPE: dict[str, tuple[float, float]] = {
    "head": (0.095, 1.6), "left_wrist": (0.04, 1.0), "right_wrist": (0.04, 1.0),
    "left_foot": (0.04, 1.0), "right_foot": (0.04, 1.0),
}
CAPSULE_SEGMENTS = 12  # around the axis
CAPSULE_RINGS = 3  # per hemisphere, poles excluded
_RESERVED_NAME_CHARS = "[].:/"  # three.js PropertyBinding strips these from node names


def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def capsule(p0: np.ndarray, p1: np.ndarray, radius: float,
            segments: int = CAPSULE_SEGMENTS, rings: int = CAPSULE_RINGS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A closed capsule around segment p0-p1: positions [V,3], outward normals [V,3], triangles [F,3] (CCW out)."""
    p0, p1 = np.asarray(p0, np.float64), np.asarray(p1, np.float64)
    axis = p1 - p0
    w = _normalize(axis) if np.linalg.norm(axis) > 1e-9 else np.array([0.0, 1.0, 0.0])
    helper = np.array([1.0, 0.0, 0.0]) if abs(w[0]) < 0.9 else np.array([0.0, 0.0, 1.0])
    u = _normalize(np.cross(w, helper))
    v = np.cross(w, u)  # (u, v, w) right-handed
    step = 0.5 * np.pi / rings
    # Latitude rings from the bottom pole up: the lower hemisphere around p0, the upper one around p1.
    lats = [(-0.5 * np.pi + k * step, p0) for k in range(1, rings + 1)]
    lats += [(k * step, p1) for k in range(rings)]
    theta = 2.0 * np.pi * np.arange(segments) / segments
    around = np.cos(theta)[:, None] * u + np.sin(theta)[:, None] * v  # [S,3]
    normals = [-w]
    positions = [p0 - radius * w]
    for lat, centre in lats:
        n = np.cos(lat) * around + np.sin(lat) * w
        normals.extend(n)
        positions.extend(centre + radius * n)
    normals.append(w)
    positions.append(p1 + radius * w)
    tris = []
    top = 1 + len(lats) * segments
    for s in range(segments):
        s1 = (s + 1) % segments
        tris.append((0, 1 + s1, 1 + s))  # bottom fan, seen from below
        for r in range(len(lats) - 1):
            a, b = 1 + r * segments + s, 1 + r * segments + s1
            c, d = a + segments, b + segments
            tris.append((a, b, d))
            tris.append((a, d, c))
        last = 1 + (len(lats) - 1) * segments
        tris.append((last + s, last + s1, top))  # top fan
    return np.array(positions), np.array(normals), np.array(tris, dtype=np.int64)


def _box(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An axis-aligned box: 24 vertices (flat normals per face), 12 triangles, CCW seen from outside."""
    positions, normals, tris = [], [], []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            n = np.zeros(3)
            n[axis] = sign
            a, b = (axis + 1) % 3, (axis + 2) % 3  # cyclic, so (a, b, +axis) is right-handed
            if sign < 0:
                a, b = b, a  # keep (a, b, n) right-handed so the winding faces outward
            base = len(positions)
            for ca, cb in ((0, 0), (1, 0), (1, 1), (0, 1)):
                p = np.where(n > 0, hi, lo).astype(np.float64)
                p[a] = hi[a] if ca else lo[a]
                p[b] = hi[b] if cb else lo[b]
                positions.append(p)
                normals.append(n)
            tris += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    return np.array(positions), np.array(normals), np.array(tris, dtype=np.int64)


def _member_body(offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The bind-pose body of one member: positions, normals, triangles, joint of each vertex; joint rest positions.

    Joint j sits at the sum of its ancestors' offsets (every rest rotation is the identity).
    """
    rest = np.zeros((NUM_JOINTS, 3))
    for j in range(1, NUM_JOINTS):
        rest[j] = rest[PARENTS[j]] + offsets[j]
    parts = []
    for j in range(NUM_JOINTS):
        for c in CHILDREN[j]:
            parts.append((rest[j], rest[c], BONE_RADIUS[JOINT_NAMES[c]], j))
        if j in LEAF_JOINTS:
            radius, length = LEAF_SHAPE[JOINT_NAMES[j]]
            end = rest[j] + offsets[j] * END_SITE_FRACTION * length
            parts.append((rest[j], end, radius, j))
    pos, nrm, tri, joint = [], [], [], []
    count = 0
    for p0, p1, radius, j in parts:
        p, n, t = capsule(p0, p1, radius)
        pos.append(p)
        nrm.append(n)
        tri.append(t + count)
        joint.append(np.full(len(p), j))
        count += len(p)
    return np.concatenate(pos), np.concatenate(nrm), np.concatenate(tri), np.concatenate(joint), rest


def _local_quaternions(joints: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Local joint rotations [T,22,4] as glTF quaternions (x, y, z, w), signs continuous in time."""
    glob = solve_global_rotations(joints, offsets)
    local = glob.copy()
    parents = np.array(PARENTS[1:])
    local[:, 1:] = np.swapaxes(glob[:, parents], -1, -2) @ glob[:, 1:]
    q = matrix_to_quat(local)  # (w, x, y, z)
    # glTF LINEAR rotation keys slerp between neighbours: keep each key in its predecessor's hemisphere.
    # Flipping key t flips its dot with key t+1 too, so the signs to apply are a running product.
    step = np.where((q[1:] * q[:-1]).sum(-1) < 0, -1.0, 1.0)  # [T-1,22]
    q[1:] *= np.cumprod(step, axis=0)[..., None]
    return np.concatenate([q[..., 1:], q[..., :1]], axis=-1)


class _GlbBuilder:
    """Collects binary data, buffer views and accessors; one buffer view per accessor, 4-byte aligned."""

    def __init__(self) -> None:
        self.blob = bytearray()
        self.buffer_views: list[dict] = []
        self.accessors: list[dict] = []

    def add(self, data: np.ndarray, kind: str, *, target: int | None = None, min_max: bool = False) -> int:
        data = np.ascontiguousarray(data)
        component = {np.dtype(np.float32): _FLOAT, np.dtype(np.uint8): _UBYTE,
                     np.dtype(np.uint16): _USHORT, np.dtype(np.uint32): _UINT}[data.dtype]
        while len(self.blob) % 4:
            self.blob.append(0)
        view = {"buffer": 0, "byteOffset": len(self.blob), "byteLength": data.nbytes}
        if target is not None:
            view["target"] = target
        self.blob += data.tobytes()
        self.buffer_views.append(view)
        accessor = {"bufferView": len(self.buffer_views) - 1, "componentType": component,
                    "count": int(data.shape[0]), "type": kind}
        if min_max:
            flat = data.reshape(data.shape[0], -1)
            accessor["min"] = [v.item() for v in flat.min(axis=0)]
            accessor["max"] = [v.item() for v in flat.max(axis=0)]
        self.accessors.append(accessor)
        return len(self.accessors) - 1

    def add_mesh_data(self, positions: np.ndarray, normals: np.ndarray, tris: np.ndarray) -> dict:
        """Position/normal/index accessors of a triangle list (smallest index type that fits)."""
        index_type = np.uint16 if len(positions) < 65535 else np.uint32
        return {
            "POSITION": self.add(positions.astype(np.float32), "VEC3", target=_ARRAY_BUFFER, min_max=True),
            "NORMAL": self.add(_normalize(normals).astype(np.float32), "VEC3", target=_ARRAY_BUFFER),
            "indices": self.add(tris.reshape(-1).astype(index_type), "SCALAR", target=_ELEMENT_ARRAY_BUFFER),
        }


def _check_inputs(members: Sequence[np.ndarray], fps: float, names: Sequence[str],
                  colors: Sequence[tuple] | None) -> tuple[list[np.ndarray], list[tuple[float, ...]]]:
    if len(members) == 0:
        raise ChoreoError("glTF export needs at least one member")
    arrays = []
    for i, m in enumerate(members):
        a = np.asarray(m, dtype=np.float64)
        if a.ndim != 3 or a.shape[1:] != (NUM_JOINTS, 3) or a.shape[0] < 1:
            raise ChoreoError(f"glTF export: member {i + 1} needs joint positions [frames, 22, 3], got {list(a.shape)}")
        if not np.all(np.isfinite(a)):
            raise ChoreoError(f"glTF export: member {i + 1} has NaN or infinite joint positions")
        arrays.append(a)
    if not (np.isfinite(fps) and fps > 0):
        raise ChoreoError(f"glTF export: frame rate must be positive, got {fps}")
    if len(names) != len(arrays):
        raise ChoreoError(f"glTF export: {len(arrays)} members but {len(names)} names")
    if any(not str(n).strip() for n in names):
        raise ChoreoError("glTF export: member names must not be empty")
    if len(set(names)) != len(names):
        raise ChoreoError(f"glTF export: member names must be distinct, got {list(names)}")
    if colors is None:
        colors = [DEFAULT_COLORS[i % len(DEFAULT_COLORS)] for i in range(len(arrays))]
    if len(colors) != len(arrays):
        raise ChoreoError(f"glTF export: {len(arrays)} members but {len(colors)} colours")
    rgba = []
    for c in colors:
        c = tuple(float(x) for x in c)
        if len(c) not in (3, 4) or not all(0.0 <= x <= 1.0 for x in c):
            raise ChoreoError(f"glTF export: a colour is RGB or RGBA with values in 0-1, got {c}")
        rgba.append(c if len(c) == 4 else c + (1.0,))
    return arrays, rgba


def _node_name_part(name: str) -> str:
    """A member name usable inside three.js track names (its reserved characters and spaces become _)."""
    return "".join("_" if ch in _RESERVED_NAME_CHARS or ch.isspace() else ch for ch in name)


def group_gltf(members: Sequence[np.ndarray], fps: float, names: Sequence[str],
               colors: Sequence[tuple] | None = None, floor: bool = True) -> tuple[dict, bytes]:
    """The glTF JSON document and its binary buffer for a group (see the module doc)."""
    arrays, rgba = _check_inputs(members, fps, names, colors)
    b = _GlbBuilder()
    nodes: list[dict] = []
    scene_nodes: list[int] = []
    meshes: list[dict] = []
    materials: list[dict] = []
    skins: list[dict] = []
    channels: list[dict] = []
    samplers: list[dict] = []
    time_accessors: dict[int, int] = {}

    for joints, name, color in zip(arrays, names, rgba, strict=True):
        offsets = rest_offsets(joints)
        quats = _local_quaternions(joints, offsets)
        positions, normals, tris, vertex_joint, rest = _member_body(offsets)
        prefix = _node_name_part(str(name))

        # Skeleton: a member node holding joint nodes; the first frame is the static pose.
        first = len(nodes)
        group = first + NUM_JOINTS
        for j in range(NUM_JOINTS):
            node = {"name": f"{prefix}_{JOINT_NAMES[j]}",
                    "translation": (joints[0, 0] if j == 0 else offsets[j]).tolist(),
                    "rotation": quats[0, j].tolist()}
            if CHILDREN[j]:
                node["children"] = [first + c for c in CHILDREN[j]]
            nodes.append(node)
        nodes.append({"name": str(name), "children": [first]})
        scene_nodes.append(group)

        # Body: bind pose = the rest pose, so each joint's inverse bind matrix is a pure translation.
        ibm = np.tile(np.eye(4, dtype=np.float32), (NUM_JOINTS, 1, 1))
        ibm[:, :3, 3] = -rest
        weights = np.zeros((len(positions), 4), np.float32)
        weights[:, 0] = 1.0
        joint_idx = np.zeros((len(positions), 4), np.uint8)
        joint_idx[:, 0] = vertex_joint
        primitive = _split_indices(b.add_mesh_data(positions, normals, tris))
        attributes = primitive["attributes"]
        attributes["JOINTS_0"] = b.add(joint_idx, "VEC4", target=_ARRAY_BUFFER)
        attributes["WEIGHTS_0"] = b.add(weights, "VEC4", target=_ARRAY_BUFFER)
        materials.append({"name": f"{name} colour",
                          "pbrMetallicRoughness": {"baseColorFactor": list(color), "metallicFactor": 0.0,
                                                   "roughnessFactor": 0.7}})
        meshes.append({"name": f"{name} body", "primitives": [
            {**primitive, "material": len(materials) - 1}]})
        # Column-major, as glTF stores matrices.
        ibm_acc = b.add(np.ascontiguousarray(np.swapaxes(ibm, 1, 2)).reshape(NUM_JOINTS, 16), "MAT4")
        skins.append({"name": f"{name} skeleton", "joints": list(range(first, first + NUM_JOINTS)),
                      "skeleton": group, "inverseBindMatrices": ibm_acc})
        nodes.append({"name": f"{name} body", "mesh": len(meshes) - 1, "skin": len(skins) - 1})
        scene_nodes.append(len(nodes) - 1)

        # Animation: pelvis translation + every joint's rotation, one key per frame.
        frames = len(joints)
        if frames not in time_accessors:
            time_accessors[frames] = b.add((np.arange(frames) / fps).astype(np.float32), "SCALAR", min_max=True)
        times = time_accessors[frames]
        samplers.append({"input": times, "output": b.add(joints[:, 0].astype(np.float32), "VEC3"),
                         "interpolation": "LINEAR"})
        channels.append({"sampler": len(samplers) - 1, "target": {"node": first, "path": "translation"}})
        for j in range(NUM_JOINTS):
            q = quats[:, j].astype(np.float32)
            q /= np.linalg.norm(q, axis=-1, keepdims=True)  # unit length after rounding to float32
            samplers.append({"input": times, "output": b.add(q, "VEC4"), "interpolation": "LINEAR"})
            channels.append({"sampler": len(samplers) - 1, "target": {"node": first + j, "path": "rotation"}})

    if floor:
        pelvis = np.concatenate([a[:, 0] for a in arrays])
        centre = 0.5 * (pelvis.min(axis=0) + pelvis.max(axis=0))
        half = 0.5 * (pelvis.max(axis=0) - pelvis.min(axis=0)) + FLOOR_MARGIN
        half_x = max(half[0], FLOOR_MIN_HALF_SIZE[0])
        half_z = max(half[2], FLOOR_MIN_HALF_SIZE[1])
        lo = np.array([centre[0] - half_x, FLOOR_TOP - FLOOR_THICKNESS, centre[2] - half_z])
        hi = np.array([centre[0] + half_x, FLOOR_TOP, centre[2] + half_z])
        materials.append({"name": "stage floor",
                          "pbrMetallicRoughness": {"baseColorFactor": list(FLOOR_COLOR), "metallicFactor": 0.0,
                                                   "roughnessFactor": 0.9}})
        meshes.append({"name": "stage floor", "primitives": [
            {**_split_indices(b.add_mesh_data(*_box(lo, hi))), "material": len(materials) - 1}]})
        nodes.append({"name": "stage floor", "mesh": len(meshes) - 1})
        scene_nodes.insert(0, len(nodes) - 1)

    doc = {
        "asset": {"version": "2.0", "generator": "choreo gltf_writer"},
        "extras": {"fps": float(fps), "members": [str(n) for n in names],
                   "joint_names": list(JOINT_NAMES), "units": "metres, Y up, audience at +Z"},
        "scene": 0,
        "scenes": [{"name": "choreography", "nodes": scene_nodes}],
        "nodes": nodes,
        "meshes": meshes,
        "materials": materials,
        "skins": skins,
        "animations": [{"name": "choreography", "channels": channels, "samplers": samplers}],
        "accessors": b.accessors,
        "bufferViews": b.buffer_views,
        "buffers": [{"byteLength": len(b.blob)}],
    }
    return doc, bytes(b.blob)


def _split_indices(attributes: dict) -> dict:
    """{"POSITION":…, "NORMAL":…, "indices":…} -> a primitive's {"attributes": …, "indices": …}."""
    attributes = dict(attributes)
    indices = attributes.pop("indices")
    return {"attributes": attributes, "indices": indices}


def glb_bytes(doc: dict, blob: bytes) -> bytes:
    """A GLB container: 12-byte header, the JSON chunk (UTF-8, space-padded), the BIN chunk (zero-padded)."""
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 4)
    blob = blob + b"\0" * (-len(blob) % 4)
    total = 12 + 8 + len(text) + 8 + len(blob)
    return b"".join([
        struct.pack("<III", _GLB_MAGIC, _GLB_VERSION, total),
        struct.pack("<II", len(text), _CHUNK_JSON), text,
        struct.pack("<II", len(blob), _CHUNK_BIN), blob,
    ])


def write_group_glb(path: str | Path, members: Sequence[np.ndarray], fps: float, names: Sequence[str],
                    colors: Sequence[tuple] | None = None, floor: bool = True) -> Path:
    """Write every member ([T,22,3] metres, Y up) into one .glb scene with one animation; returns the path.

    `names` label the members' nodes (any UTF-8); `colors` are RGB(A) in 0-1, one per member
    (`DEFAULT_COLORS` when None); `floor` adds the stage floor. Members may have different lengths.
    """
    doc, blob = group_gltf(members, fps, names, colors, floor)
    path = Path(path)
    path.write_bytes(glb_bytes(doc, blob))
    return path


def write_member_glb(path: str | Path, joints: np.ndarray, fps: float, name: str = "dancer",
                     color: tuple | None = None, floor: bool = True) -> Path:
    """One member alone in its own .glb (same layout as `write_group_glb`)."""
    return write_group_glb(path, [joints], fps, [name], None if color is None else [color], floor)
