"""BVH export: joint positions [T,22,3] -> a 22-joint BVH whose forward kinematics reproduces them.

The file:
- Hierarchy: our 22 joints under their `JOINT_NAMES`, root `pelvis` with channels
  `Xposition Yposition Zposition Zrotation Xrotation Yrotation`, every other joint `Zrotation Xrotation
  Yrotation` (local rotation = Rz·Rx·Ry, the reading of pybvh, bvhio, three.js and Blender). The head,
  wrists and feet each end in an `End Site` that extends their bone by half its length.
- Units: **centimetres** (the usual BVH convention; three.js and Blender scale it on import).
- Rest pose (all channels zero): every bone along its HumanML3D rest direction (`RAW_OFFSETS`: legs and
  arms hanging down, feet and head forward) times the clip's median bone length — except the children
  of the two joints with several children (pelvis -> hips + spine1, spine3 -> neck + collars). One
  rotation of such a joint must place all its children, so their rest offsets are the clip's own
  (mean) directions in the joint's body frame (x = left, y = up the spine, z = forward).

Rotations are solved from positions, parents first:
- pelvis and spine3: the rotation that best maps their children's rest offsets onto the observed bones
  (Kabsch); with a rigid pelvis/chest, as in any FK-made input, it is exact.
- joints with one child: the parent's rotation followed by the shortest swing that turns the child's
  rest direction onto the observed bone, so a bone never twists relative to its parent (limbs don't spin).
- head, wrists, feet (no child to aim at): the parent's rotation.

Euler angles are chosen per frame from the two ZXY solutions and unwrapped, so no channel jumps by more
than 180° between frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError
from choreo.motion import Motion
from choreo.quaternion import qbetween, quat_to_matrix
from choreo.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS, RAW_OFFSETS, bone_lengths

BVH_UNITS_PER_METRE = 100.0  # the file is in centimetres
END_SITE_FRACTION = 0.5  # an End Site extends the last bone by this fraction of its length

CHILDREN: tuple[tuple[int, ...], ...] = tuple(
    tuple(c for c in range(NUM_JOINTS) if PARENTS[c] == j) for j in range(NUM_JOINTS)
)
# Joints with several children, and which children span their body frame: (left, right, up).
GROUP_FRAME_CHILDREN: dict[int, tuple[int, int, int]] = {0: (1, 2, 3), 9: (13, 14, 12)}
LEAF_JOINTS = tuple(j for j in range(NUM_JOINTS) if not CHILDREN[j])
_EPS = 1e-9


@dataclass
class BvhAnimation:
    """A solved BVH: everything in metres and radians; the writer converts to centimetres and degrees."""

    offsets: np.ndarray  # [22,3] each joint's offset from its parent, in the parent's rest frame
    end_sites: dict[int, np.ndarray]  # leaf joint -> End Site offset [3]
    root_positions: np.ndarray  # [T,3]
    euler_zxy: np.ndarray  # [T,22,3] local rotation angles (z, x, y), radians, continuous in time
    fps: float


def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), _EPS)


def _body_frame(joints: np.ndarray, group: int) -> np.ndarray:
    """Orthonormal frames [T,3,3] (columns x=left, y=up, z=forward) spanned by a group joint's children."""
    left, right, up = GROUP_FRAME_CHILDREN[group]
    x = _normalize(joints[:, left] - joints[:, right])
    y = joints[:, up] - joints[:, group]
    y = _normalize(y - (y * x).sum(-1, keepdims=True) * x)
    return np.stack([x, y, np.cross(x, y)], axis=-1)


def _kabsch(rest: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Rotations [T,3,3] that best map rest vectors [K,3] onto observed vectors [T,K,3] (least squares)."""
    h = np.einsum("ki,tkj->tij", rest, observed)
    u, _, vt = np.linalg.svd(h)
    v = np.swapaxes(vt, -1, -2)
    ut = np.swapaxes(u, -1, -2)
    sign = np.sign(np.linalg.det(v @ ut))
    sign[sign == 0] = 1.0
    d = np.zeros(h.shape)
    d[:, 0, 0] = 1.0
    d[:, 1, 1] = 1.0
    d[:, 2, 2] = sign
    return v @ d @ ut


def rest_offsets(joints: np.ndarray) -> np.ndarray:
    """Rest offsets [22,3] in metres: median bone lengths along the rest directions (see module doc)."""
    lengths = np.median(bone_lengths(joints.astype(np.float64)), axis=0)
    directions = RAW_OFFSETS.copy()
    for group in GROUP_FRAME_CHILDREN:
        frame = _body_frame(joints, group)
        for c in CHILDREN[group]:
            bone = _normalize(joints[:, c] - joints[:, group])
            local = np.einsum("tji,tj->ti", frame, bone)  # frame^T · bone
            mean = local.mean(axis=0)
            directions[c] = mean / np.linalg.norm(mean) if np.linalg.norm(mean) > _EPS else RAW_OFFSETS[c]
    return directions * lengths[:, None]


def solve_global_rotations(joints: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per-joint world rotations [T,22,3,3] such that BVH FK with `offsets` reproduces `joints`."""
    t = joints.shape[0]
    glob = np.zeros((t, NUM_JOINTS, 3, 3))
    for j in range(NUM_JOINTS):  # parents always precede children in our joint order
        children = CHILDREN[j]
        parent_rot = np.broadcast_to(np.eye(3), (t, 3, 3)) if PARENTS[j] < 0 else glob[:, PARENTS[j]]
        if len(children) > 1:
            observed = np.stack([joints[:, c] - joints[:, j] for c in children], axis=1)
            glob[:, j] = _kabsch(offsets[list(children)], observed)
        elif len(children) == 1:
            c = children[0]
            rest_dir = np.einsum("tij,j->ti", parent_rot, _normalize(offsets[c]))
            bone = joints[:, c] - joints[:, j]
            # A zero-length bone has no direction: keep the parent's (no swing).
            degenerate = np.linalg.norm(bone, axis=-1, keepdims=True) < _EPS
            bone = np.where(degenerate, rest_dir, _normalize(bone))
            glob[:, j] = quat_to_matrix(qbetween(rest_dir, bone)) @ parent_rot
        else:
            glob[:, j] = parent_rot
    return glob


def _euler_zxy_candidates(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both (z, x, y) solutions of m = Rz(z)·Rx(x)·Ry(y) for matrices [...,3,3]."""
    x = np.arcsin(np.clip(m[..., 2, 1], -1.0, 1.0))
    z = np.arctan2(-m[..., 0, 1], m[..., 1, 1])
    y = np.arctan2(-m[..., 2, 0], m[..., 2, 2])
    # Gimbal lock (x = ±90°): only z + y is defined; put it all in z.
    lock = np.cos(x) < 1e-6
    z = np.where(lock, np.arctan2(m[..., 1, 0], m[..., 0, 0]), z)
    y = np.where(lock, 0.0, y)
    first = np.stack([z, x, y], axis=-1)
    second = np.stack([z + np.pi, np.pi - x, y + np.pi], axis=-1)
    return first, second


def _wrap(angle: np.ndarray) -> np.ndarray:
    """Angles moved by whole turns into [-π, π] (ties to even, as np.round)."""
    return angle - 2.0 * np.pi * np.round(angle / (2.0 * np.pi))


def continuous_euler_zxy(local_rotations: np.ndarray) -> np.ndarray:
    """ZXY Euler angles [T,J,3] (radians) of rotations [T,J,3,3], continuous from frame to frame.

    Frame by frame, of the two solutions each moved by whole turns next to the previous frame's angles, the one
    nearer to them (summed over z, x, y; the first on a tie). The choice at frame t depends only on which
    solution frame t-1 took (whole turns do not change a wrapped difference), so each frame's choice is a map
    {0,1} -> {0,1} of the previous one: a constant, the identity or a swap. The choices follow without a loop
    over frames from the last constant and the number of swaps since."""
    first, second = _euler_zxy_candidates(local_rotations)
    cands = np.stack([first, second])  # [2,T,J,3]
    t = cands.shape[1]
    if t == 1:
        return first.copy()
    # dist[p, q]: frame t-1 took solution p, frame t solution q (frames 1..T-1) -> [2,2,T-1,J]
    dist = np.abs(_wrap(cands[None, :, 1:] - cands[:, None, :-1])).sum(-1)
    take_second = dist[:, 1] < dist[:, 0]  # [2(prev),T-1,J]: the map of each frame
    constant = take_second[0] == take_second[1]
    swap = take_second[0] & ~take_second[1]
    last_const = np.maximum.accumulate(np.where(constant, np.arange(1, t)[:, None], 0), axis=0)  # 0: frame 0
    start = np.zeros_like(take_second[0][:1])  # frame 0 takes the first solution
    const_value = np.take_along_axis(np.concatenate([start, take_second[0]]), last_const, axis=0)
    swaps = np.concatenate([start.astype(int), np.cumsum(swap, axis=0)])  # swaps in frames 1..t
    parity = (swaps[1:] - np.take_along_axis(swaps, last_const, axis=0)) % 2
    choice = np.concatenate([start, const_value ^ (parity == 1)])  # [T,J]
    chosen = np.where(choice[..., None], second, first)
    # Unwrapped: each frame's angles are the previous ones plus the wrapped step between the chosen solutions;
    # then snapped back to the chosen solution plus whole turns so that no rounding accumulates.
    steps = _wrap(np.diff(chosen, axis=0))
    walked = chosen[0] + np.concatenate([np.zeros_like(chosen[:1]), np.cumsum(steps, axis=0)])
    return chosen + 2.0 * np.pi * np.round((walked - chosen) / (2.0 * np.pi))


def euler_zxy_to_matrix(euler: np.ndarray) -> np.ndarray:
    """Rz(z)·Rx(x)·Ry(y) for angles [...,3] (z, x, y) in radians."""
    z, x, y = np.moveaxis(euler, -1, 0)
    cz, sz, cx, sx, cy, sy = np.cos(z), np.sin(z), np.cos(x), np.sin(x), np.cos(y), np.sin(y)
    m = np.stack(
        [
            cz * cy - sz * sx * sy, -sz * cx, cz * sy + sz * sx * cy,
            sz * cy + cz * sx * sy, cz * cx, sz * sy - cz * sx * cy,
            -cx * sy, sx, cx * cy,
        ],
        axis=-1,
    )
    return m.reshape(euler.shape[:-1] + (3, 3))


def _check_joints(joints: np.ndarray, fps: float) -> np.ndarray:
    j = np.asarray(joints, dtype=np.float64)
    if j.ndim != 3 or j.shape[1:] != (NUM_JOINTS, 3) or j.shape[0] < 1:
        raise ChoreoError(f"BVH export needs joint positions [frames, 22, 3], got {list(j.shape)}")
    if not np.all(np.isfinite(j)):
        raise ChoreoError("BVH export: joint positions contain NaN or infinite values")
    if not (np.isfinite(fps) and fps > 0):
        raise ChoreoError(f"BVH export: frame rate must be positive, got {fps}")
    return j


def solve_bvh(joints: np.ndarray, fps: float) -> BvhAnimation:
    """Solve offsets and continuous ZXY Euler rotations that reproduce `joints` [T,22,3] (metres)."""
    joints = _check_joints(joints, fps)
    offsets = rest_offsets(joints)
    glob = solve_global_rotations(joints, offsets)
    local = glob.copy()
    parents = np.array(PARENTS[1:])
    local[:, 1:] = np.swapaxes(glob[:, parents], -1, -2) @ glob[:, 1:]
    end_sites = {leaf: offsets[leaf] * END_SITE_FRACTION for leaf in LEAF_JOINTS}
    return BvhAnimation(offsets=offsets, end_sites=end_sites, root_positions=joints[:, 0].copy(),
                        euler_zxy=continuous_euler_zxy(local), fps=float(fps))


def bvh_forward_kinematics(anim: BvhAnimation) -> np.ndarray:
    """Joint positions [T,22,3] (metres) of a solved animation, by plain BVH FK (a reader-free check)."""
    local = euler_zxy_to_matrix(anim.euler_zxy)
    t = local.shape[0]
    glob = np.zeros_like(local)
    pos = np.zeros((t, NUM_JOINTS, 3))
    glob[:, 0] = local[:, 0]
    pos[:, 0] = anim.root_positions
    for j in range(1, NUM_JOINTS):
        p = PARENTS[j]
        pos[:, j] = pos[:, p] + glob[:, p] @ anim.offsets[j]
        glob[:, j] = glob[:, p] @ local[:, j]
    return pos


def _depth_first_order() -> list[int]:
    order: list[int] = []

    def visit(j: int) -> None:
        order.append(j)
        for c in CHILDREN[j]:
            visit(c)

    visit(0)
    return order


def _fmt(v: np.ndarray) -> str:
    return " ".join(f"{x:.6f}" for x in v)


def bvh_text(anim: BvhAnimation) -> str:
    """The BVH file contents of a solved animation (centimetres, degrees)."""
    scale = BVH_UNITS_PER_METRE
    lines = ["HIERARCHY"]

    def write_joint(j: int, depth: int) -> None:
        pad = "  " * depth
        kind = "ROOT" if j == 0 else "JOINT"
        lines.append(f"{pad}{kind} {JOINT_NAMES[j]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {_fmt(anim.offsets[j] * scale)}")
        if j == 0:
            lines.append(f"{pad}  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation")
        else:
            lines.append(f"{pad}  CHANNELS 3 Zrotation Xrotation Yrotation")
        for c in CHILDREN[j]:
            write_joint(c, depth + 1)
        if j in anim.end_sites:
            lines.append(f"{pad}  End Site")
            lines.append(f"{pad}  {{")
            lines.append(f"{pad}    OFFSET {_fmt(anim.end_sites[j] * scale)}")
            lines.append(f"{pad}  }}")
        lines.append(f"{pad}}}")

    write_joint(0, 0)
    order = _depth_first_order()
    frames = anim.root_positions.shape[0]
    lines += ["MOTION", f"Frames: {frames}", f"Frame Time: {1.0 / anim.fps:.8f}"]
    degrees = np.rad2deg(anim.euler_zxy[:, order])  # [T,22,3] in file order
    values = np.concatenate([anim.root_positions * scale, degrees.reshape(frames, -1)], axis=1)
    row = " ".join(["%.6f"] * values.shape[1])  # one format for the whole row: 3x faster than value by value
    lines += [row % tuple(r) for r in values.tolist()]
    return "\n".join(lines) + "\n"


def write_bvh(motion: Motion, path: str | Path) -> Path:
    """Write `motion` as a BVH file (centimetres, ZXY Euler) and return its path."""
    path = Path(path)
    anim = solve_bvh(motion.joints, motion.fps)
    path.write_text(bvh_text(anim))
    return path
