"""Group glTF export: read back by an independent reader (pygltflib + our own TRS/skin maths), the Khronos
validator and three.js GLTFLoader (both via Node, skipped with a reason when not installed)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from pygltflib import GLTF2

from choreo.errors import ChoreoError
from choreo.formats.bvh_writer import END_SITE_FRACTION, LEAF_JOINTS
from choreo.formats.gltf_writer import (
    BONE_RADIUS,
    CAPSULE_RINGS,
    CAPSULE_SEGMENTS,
    FLOOR_TOP,
    LEAF_SHAPE,
    write_group_glb,
    write_member_glb,
)
from choreo.quaternion import quat_to_matrix
from choreo.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS

from synthetic_motion import rigid_dance

FPS = 20.0
TOOLS = Path(__file__).resolve().parents[2] / "tools" / "gltf"
NAMES = ["지수", "제니", "Rosé", "리사 (막내)"]
COMPONENTS = {5126: np.float32, 5121: np.uint8, 5123: np.uint16, 5125: np.uint32}
WIDTH = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}


def _group() -> list[np.ndarray]:
    """Four dancers of different lengths, spread across the stage, each travelling and turning."""
    lengths = (50, 50, 37, 44)
    return [rigid_dance(n, seed=s) + np.array([1.4 * s - 2.1, 0.0, -0.5 * s]) for s, n in enumerate(lengths)]


@pytest.fixture(scope="module")
def group_file(tmp_path_factory) -> tuple[Path, list[np.ndarray]]:
    members = _group()
    path = write_group_glb(tmp_path_factory.mktemp("glb") / "group.glb", members, FPS, NAMES)
    return path, members


class Reader:
    """A glTF evaluator of our own on top of pygltflib's parsing: accessors, node TRS, animation keys, skins."""

    def __init__(self, path: Path) -> None:
        self.gltf = GLTF2().load(str(path))
        self.blob = self.gltf.binary_blob()

    def accessor(self, index: int) -> np.ndarray:
        acc = self.gltf.accessors[index]
        view = self.gltf.bufferViews[acc.bufferView]
        dtype = COMPONENTS[acc.componentType]
        width = WIDTH[acc.type]
        start = view.byteOffset + (acc.byteOffset or 0)
        data = np.frombuffer(self.blob, dtype=dtype, count=acc.count * width, offset=start)
        return data.reshape(acc.count, width) if width > 1 else data

    def pose(self, time: float) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Animated (translation, rotation xyzw) of every targeted node at a key time (exact key, no blending)."""
        out: dict[int, dict[str, np.ndarray]] = {}
        anim = self.gltf.animations[0]
        for ch in anim.channels:
            sampler = anim.samplers[ch.sampler]
            times = self.accessor(sampler.input)
            k = int(np.argmin(np.abs(times - time))) if time <= times[-1] else len(times) - 1
            out.setdefault(ch.target.node, {})[ch.target.path] = self.accessor(sampler.output)[k].astype(np.float64)
        return out

    def world_matrices(self, time: float) -> list[np.ndarray]:
        """4x4 world matrix of every node at `time`, from TRS with the animated values in place."""
        animated = self.pose(time)
        world: list[np.ndarray | None] = [None] * len(self.gltf.nodes)

        def local(i: int) -> np.ndarray:
            node = self.gltf.nodes[i]
            t = np.array(node.translation or [0.0, 0.0, 0.0], float)
            r = np.array(node.rotation or [0.0, 0.0, 0.0, 1.0], float)
            s = np.array(node.scale or [1.0, 1.0, 1.0], float)
            t = animated.get(i, {}).get("translation", t)
            r = animated.get(i, {}).get("rotation", r)
            m = np.eye(4)
            m[:3, :3] = quat_to_matrix(np.array([r[3], r[0], r[1], r[2]])) * s
            m[:3, 3] = t
            return m

        def visit(i: int, parent: np.ndarray) -> None:
            world[i] = parent @ local(i)
            for c in self.gltf.nodes[i].children or []:
                visit(c, world[i])

        for root in self.gltf.scenes[self.gltf.scene].nodes:
            visit(root, np.eye(4))
        return world

    def skinned_vertices(self, mesh_node: int, time: float) -> tuple[np.ndarray, np.ndarray]:
        """Skinned vertex positions [V,3] of a mesh node at `time` and the main joint of each vertex."""
        node = self.gltf.nodes[mesh_node]
        skin = self.gltf.skins[node.skin]
        prim = self.gltf.meshes[node.mesh].primitives[0]
        pos = self.accessor(prim.attributes.POSITION).astype(np.float64)
        joints = self.accessor(prim.attributes.JOINTS_0)
        weights = self.accessor(prim.attributes.WEIGHTS_0).astype(np.float64)
        ibm = self.accessor(skin.inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1)  # column-major
        world = self.world_matrices(time)
        joint_mats = np.stack([world[j] @ ibm[k] for k, j in enumerate(skin.joints)])  # [J,4,4]
        homo = np.concatenate([pos, np.ones((len(pos), 1))], axis=1)
        out = np.zeros((len(pos), 4))
        for w in range(4):
            out += weights[:, w, None] * np.einsum("vij,vj->vi", joint_mats[joints[:, w]], homo)
        return out[:, :3], joints[:, 0]


def _skin_nodes(reader: Reader) -> list[tuple[int, list[int]]]:
    """(mesh node, skin joint nodes) per member, in file order."""
    return [(i, reader.gltf.skins[n.skin].joints) for i, n in enumerate(reader.gltf.nodes) if n.skin is not None]


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance [P,S] from each point to each segment a[s]-b[s]."""
    ab = b - a
    t = np.clip(np.einsum("psk,sk->ps", points[:, None] - a[None], ab) / np.maximum((ab * ab).sum(-1), 1e-12), 0, 1)
    closest = a[None] + t[..., None] * ab[None]
    return np.linalg.norm(points[:, None] - closest, axis=-1)


def test_joint_nodes_reproduce_input_positions(group_file):
    path, members = group_file
    reader = Reader(path)
    skins = _skin_nodes(reader)
    assert len(skins) == len(members)
    worst = 0.0
    for (_, joint_nodes), joints in zip(skins, members, strict=True):
        assert len(joint_nodes) == NUM_JOINTS
        for frame in (0, 7, len(joints) // 2, len(joints) - 1):
            world = reader.world_matrices(frame / FPS)
            got = np.stack([world[n][:3, 3] for n in joint_nodes])
            worst = max(worst, float(np.abs(got - joints[frame]).max()))
    assert worst < 0.01  # the brief's bound; FK-made input is in fact reproduced to float32 precision
    assert worst < 1e-4


def _input_capsules(joints: np.ndarray) -> list[tuple[int, np.ndarray, np.ndarray, float]]:
    """The body the file should show at one frame, from the INPUT joints: (carrying joint, p0, p1, radius)."""
    caps = []
    for c in range(1, NUM_JOINTS):
        caps.append((PARENTS[c], joints[PARENTS[c]], joints[c], BONE_RADIUS[JOINT_NAMES[c]]))
    for leaf in LEAF_JOINTS:
        radius, factor = LEAF_SHAPE[JOINT_NAMES[leaf]]
        bone = joints[leaf] - joints[PARENTS[leaf]]  # a leaf's extension continues its bone
        caps.append((leaf, joints[leaf], joints[leaf] + bone * END_SITE_FRACTION * factor, radius))
    return caps


def test_skinned_body_is_capsules_around_the_input_bones(group_file):
    path, members = group_file
    reader = Reader(path)
    for (mesh_node, joint_nodes), joints in zip(_skin_nodes(reader), members, strict=True):
        dists = []
        for frame in (0, len(joints) // 3, len(joints) - 1):
            verts, owner = reader.skinned_vertices(mesh_node, frame / FPS)
            world = reader.world_matrices(frame / FPS)
            joint_pos = np.stack([world[n][:3, 3] for n in joint_nodes])
            dists.append(np.linalg.norm(verts - joint_pos[owner], axis=-1))
            caps = _input_capsules(joints[frame])
            # Each vertex lies on the surface of one of its joint's capsules (|distance to axis - r| ~ 0)...
            surface = np.full(len(verts), np.inf)
            hits = []
            for carrier, p0, p1, radius in caps:
                mine = owner == carrier
                off = np.abs(_segment_distance(verts[mine], p0[None], p1[None])[:, 0] - radius)
                surface[mine] = np.minimum(surface[mine], off)
                hits.append(int((off < 1e-3).sum()))
            assert surface.max() < 1e-3
            # ...and every bone has its capsule (a capsule has 2 + 2 * rings * segments vertices).
            assert min(hits) >= 2 + 2 * CAPSULE_RINGS * CAPSULE_SEGMENTS
        # Rigid: each vertex keeps its distance to the joint that carries it.
        assert np.abs(np.array(dists) - dists[0]).max() < 1e-4


def test_triangles_face_outward(group_file):
    path, _ = group_file
    reader = Reader(path)
    for mesh in reader.gltf.meshes:
        prim = mesh.primitives[0]
        pos = reader.accessor(prim.attributes.POSITION).astype(np.float64)
        nrm = reader.accessor(prim.attributes.NORMAL).astype(np.float64)
        tri = reader.accessor(prim.indices).reshape(-1, 3)
        face = np.cross(pos[tri[:, 1]] - pos[tri[:, 0]], pos[tri[:, 2]] - pos[tri[:, 0]])
        assert np.all(np.linalg.norm(face, axis=-1) > 1e-10), f"{mesh.name}: degenerate triangles"
        assert np.all((face * nrm[tri].mean(axis=1)).sum(-1) > 0), f"{mesh.name}: inward-facing triangles"
        assert np.allclose(np.linalg.norm(nrm, axis=-1), 1.0, atol=1e-5)


def test_one_animation_names_colours_and_floor(group_file):
    path, members = group_file
    reader = Reader(path)
    g = reader.gltf
    assert len(g.animations) == 1
    targeted = {(c.target.node, c.target.path) for c in g.animations[0].channels}
    for _, joint_nodes in _skin_nodes(reader):
        assert all((n, "rotation") in targeted for n in joint_nodes)
        assert (joint_nodes[0], "translation") in targeted
    # Member names (UTF-8) survive on the member nodes, the skeleton joints are named after the joints.
    node_names = [n.name for n in g.nodes]
    for name in NAMES:
        assert name in node_names
    for _, joint_nodes in _skin_nodes(reader):
        assert all(g.nodes[n].name.endswith("_" + j) for n, j in zip(joint_nodes, JOINT_NAMES, strict=True))
    # Each member its own colour; the duration is the longest member's.
    colours = {tuple(m.pbrMetallicRoughness.baseColorFactor) for m in g.materials}
    assert len(colours) == len(members) + 1
    times = reader.accessor(g.animations[0].samplers[0].input)
    assert times[1] - times[0] == pytest.approx(1 / FPS, rel=1e-6)
    durations = [reader.accessor(s.input)[-1] for s in g.animations[0].samplers]
    assert max(durations) == pytest.approx((max(len(m) for m in members) - 1) / FPS, rel=1e-6)
    # The floor lies just under the feet and under everyone's path.
    floor = next(m for m in g.meshes if m.name == "stage floor")
    pos = reader.accessor(floor.primitives[0].attributes.POSITION)
    assert pos[:, 1].max() == pytest.approx(FLOOR_TOP, abs=1e-6) and -0.01 < FLOOR_TOP <= 0
    pelvis = np.concatenate([m[:, 0] for m in members])
    assert np.all(pelvis[:, 0] > pos[:, 0].min() + 1) and np.all(pelvis[:, 0] < pos[:, 0].max() - 1)
    assert np.all(pelvis[:, 2] > pos[:, 2].min() + 1) and np.all(pelvis[:, 2] < pos[:, 2].max() - 1)


def test_rotation_keys_are_unit_and_continuous(group_file):
    path, _ = group_file
    reader = Reader(path)
    anim = reader.gltf.animations[0]
    for ch in anim.channels:
        if ch.target.path != "rotation":
            continue
        q = reader.accessor(anim.samplers[ch.sampler].output).astype(np.float64)
        assert np.allclose(np.linalg.norm(q, axis=-1), 1.0, atol=1e-6)
        assert np.all((q[1:] * q[:-1]).sum(-1) > 0)  # no sign flips: slerp takes the short way


def test_single_member_and_no_floor(tmp_path):
    joints = rigid_dance(30, seed=3)
    path = write_member_glb(tmp_path / "solo.glb", joints, FPS, name="솔로", floor=False)
    reader = Reader(path)
    assert [m.name for m in reader.gltf.meshes] == ["솔로 body"]
    (_, joint_nodes), = _skin_nodes(reader)
    world = reader.world_matrices(29 / FPS)
    assert np.abs(np.stack([world[n][:3, 3] for n in joint_nodes]) - joints[29]).max() < 1e-4


@pytest.mark.parametrize(
    "members, names, colors, fps, message",
    [
        ([], [], None, FPS, "at least one member"),
        ([np.zeros((10, 21, 3))], ["a"], None, FPS, r"\[frames, 22, 3\]"),
        ([np.full((10, 22, 3), np.nan)], ["a"], None, FPS, "NaN"),
        ([rigid_dance(10)], ["a", "b"], None, FPS, "names"),
        ([rigid_dance(10), rigid_dance(10)], ["a", "a"], None, FPS, "distinct"),
        ([rigid_dance(10)], ["a"], [(255, 0, 0)], FPS, "0-1"),
        ([rigid_dance(10)], ["a"], [(1, 0, 0), (0, 1, 0)], FPS, "colours"),
        ([rigid_dance(10)], ["a"], None, 0.0, "frame rate"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path, members, names, colors, fps, message):
    with pytest.raises(ChoreoError, match=message):
        write_group_glb(tmp_path / "bad.glb", members, fps, names, colors)
    assert not (tmp_path / "bad.glb").exists()


def _node_tool(script: str) -> list[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (needs Node 20)")
    if not (TOOLS / "node_modules" / "gltf-validator").is_dir() or not (TOOLS / "node_modules" / "three").is_dir():
        pytest.skip(f"glTF tools not installed: run `npm ci --prefix {TOOLS}`")
    return [node, str(TOOLS / script)]


def test_khronos_validator_reports_no_errors_or_warnings(group_file, tmp_path):
    path, _ = group_file
    cmd = _node_tool("validate.mjs")
    # Also: one member of one frame, and twelve members at 30 fps without a floor.
    solo = write_member_glb(tmp_path / "solo.glb", rigid_dance(1), FPS, name="하나")
    twelve = write_group_glb(tmp_path / "twelve.glb", [rigid_dance(20, seed=s) + [s, 0, 0] for s in range(12)],
                             30.0, [f"멤버 {i + 1}" for i in range(12)], floor=False)
    result = subprocess.run([*cmd, str(path), str(solo), str(twelve)], capture_output=True, text=True, timeout=120)
    reports = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(reports) == 3, result.stderr
    for report in reports:
        issues = report["issues"]
        assert issues["numErrors"] == 0, issues["messages"]
        assert issues["numWarnings"] == 0, issues["messages"]
        assert report["info"]["animationCount"] == 1 and report["info"]["hasSkins"]
    assert result.returncode == 0
    assert reports[2]["info"]["drawCallCount"] == 12  # twelve bodies, no floor


def test_three_js_gltfloader_plays_every_member(group_file):
    path, members = group_file
    cmd = _node_tool("three_play.mjs")
    frames = (0, 13, 36, 49)  # 49 is past the shorter members' end: they hold their last pose
    result = subprocess.run([*cmd, str(path), *[str(f / FPS) for f in frames]],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    played = json.loads(result.stdout)
    assert [a["name"] for a in played["animations"]] == ["choreography"]
    assert played["animations"][0]["duration"] == pytest.approx(49 / FPS, rel=1e-5)
    # three.js names the member node as given (its name sanitiser only touches spaces and .:/[]).
    assert [m["name"] for m in played["members"]][:3] == NAMES[:3]
    reader = Reader(path)
    for member, joints, (mesh_node, _) in zip(played["members"], members, _skin_nodes(reader), strict=True):
        for k, frame in enumerate(frames):
            want = joints[min(frame, len(joints) - 1)]
            assert np.abs(np.array(member["joints"][k]) - want).max() < 0.01
            verts, _ = reader.skinned_vertices(mesh_node, min(frame, len(joints) - 1) / FPS)
            assert np.abs(np.array(member["vertices"][k]) - verts).max() < 0.01  # three.js skins as we do
