"""Filling the unknown frames of motions by in-painting model windows — the one stitching routine of a song
(choreography/compose.py) and the one repair of generated motion (`repair`, also used by generate.py).

A `FillJob` is a stretch of one member's motion in stage coordinates: some frames known (context), the rest
to be generated, optionally with a root path (stage position and facing) the model must follow. Jobs are
filled window by window, left to right; all jobs' r-th windows are one batch, each with its own prompt.

In each window (W rows, MDM's training length) the composite motion — known frames, and placeholders on the
unknown ones (the nearest known pose carried along the root path) — is encoded in the window's own origin
and facing, as the model saw its training windows. In-painting weights per row:
- root channels (yaw velocity, ground velocity): 1 on known frames; on unknown frames the job's
  `root_weight` (1 = follow the path exactly, as MDM's trajectory control; 0 = free);
- all other channels: 1 on known frames, ramping down to 0 over `RAMP` frames next to unknown ones, 0 on
  unknown frames. The ramp lets the model's motion take over gradually instead of meeting a hard edge;
  ramped frames are generated again (they change a little), frames of weight 1 come back exact.
Because known frames keep their root exactly, a window with context on both sides lands on the right-hand
context in position as well as in pose, as long as the root over the gap is given (root_weight 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from choreo.metrics.plausibility import flicks, instant_turns, pops
from choreo.quaternion import qrot, qyaw
from choreo.representation import (
    FEATURE_DIM,
    FOOT_CONTACT,
    apply_transform,
    facing_angles,
    facing_transform,
    features_to_skeleton_joints,
    joints_to_features,
    undo_transform,
)
from choreo.skeleton import canonical_offsets, forward_kinematics

RAMP = 10  # frames of soft weight on the known side of every edge
REPAIR_PASSES = 3  # passes over pops, instant turns and flicks (each generates their frames again)
# Sampling steps of a repair window (at most): mostly given frames, they come out as clean with 10 steps as with 20
# (40 6-s clips of `choreo generate`: no pop or turn either way, 1 and 2 with a flick) in half the time.
REPAIR_STEPS = 10
REPAIR_HALF = 12  # frames on each side of a defect generated again (with RAMP more frames of soft edge)
# Frames of kept motion on each side of a repaired stretch in its window (RAMP of them soft; `_fill_rounds`).
REPAIR_CONTEXT = 24
FPS = 20.0
ROOT_CHANNELS = slice(0, 3)  # yaw velocity and ground velocity: the root path


@dataclass
class FillJob:
    """One member's stretch of motion to complete.

    joints [T,22,3] stage coordinates (values on unknown frames are ignored); known [T] bool;
    text: the prompt; root_xz [T,2] and root_yaw [T] (radians, 0 faces +Z) give the path on unknown
    frames (None: stay where the nearest known frame stands, facing as it faces); root_weight [T] (or a
    number) how strictly unknown frames follow it."""

    joints: np.ndarray
    known: np.ndarray
    text: str
    root_xz: np.ndarray | None = None
    root_yaw: np.ndarray | None = None
    root_weight: np.ndarray | float = 0.0
    contacts: np.ndarray | None = None  # [T,4] foot-contact flags of known frames (generated ones are filled in)
    frozen: np.ndarray | None = None  # [T] bool: known frames that must come back exact (no ramp on them)
    seams: list[int] = field(default_factory=list)  # frames where generated frames meet kept ones (filled in)
    written: np.ndarray | None = None  # [T] bool: frames the fill wrote (filled in)
    frame_texts: list[str] | None = None  # [T] a prompt per frame (a whole song's member); None: `text` everywhere
    planned_root: bool = False  # root_xz / root_yaw are a planned walk (clear of other members): repairs keep it

    def __post_init__(self) -> None:
        self.joints = np.array(self.joints, dtype=np.float64)
        self.known = np.array(self.known, dtype=bool)
        t = len(self.joints)
        if self.joints.shape != (t, 22, 3) or self.known.shape != (t,):
            raise ValueError(f"FillJob: joints [T,22,3] and known [T] expected, got {self.joints.shape}, "
                             f"{self.known.shape}")
        self.root_weight = np.broadcast_to(np.asarray(self.root_weight, dtype=np.float64), (t,)).copy()
        if self.contacts is None:
            self.contacts = np.zeros((t, 4))
        self.written = np.zeros(t, bool)
        self.frozen = np.zeros(t, bool) if self.frozen is None else np.array(self.frozen, dtype=bool) & self.known


def rest_pose() -> np.ndarray:
    """The canonical skeleton standing at the origin, facing +Z (a placeholder when nothing is known)."""
    quats = np.tile([1.0, 0.0, 0.0, 0.0], (1, 22, 1))
    root = np.array([[0.0, 0.0, 0.0]])
    pose = forward_kinematics(quats, root, canonical_offsets())[0]
    pose[:, 1] -= pose[:, 1].min()
    return pose


def placeholders(job: FillJob, frames: np.ndarray | None = None) -> np.ndarray:
    """The job's joints on `frames` (default: all) with every unknown frame replaced by the nearest known pose
    (the earlier on a tie; the rest pose if none is known) moved onto the root path: its root at the path's
    ground position, turned to the path's facing, its height kept."""
    idx = np.arange(len(job.joints)) if frames is None else np.asarray(frames, dtype=int)
    out = job.joints[idx].copy()
    todo = np.flatnonzero(~job.known[idx])
    if not len(todo):
        return out
    at = idx[todo]
    known = np.flatnonzero(job.known)
    if len(known):
        pos = np.searchsorted(known, at)
        left, right = known[np.clip(pos - 1, 0, len(known) - 1)], known[np.clip(pos, 0, len(known) - 1)]
        nearest = np.where((pos > 0) & ((at - left <= right - at) | (pos == len(known))), left, right)
        poses = job.joints[nearest]
    else:
        poses = np.broadcast_to(rest_pose(), (len(at), 22, 3))
    face = facing_angles(poses[:, None])[:, 0]  # each pose's own facing (nothing to unwrap across)
    xz = job.root_xz[at] if job.root_xz is not None else poses[:, 0, [0, 2]]
    yaw = job.root_yaw[at] if job.root_yaw is not None else face
    local = poses.copy()
    local[..., [0, 2]] -= poses[:, None, 0, [0, 2]]
    local = qrot(np.broadcast_to(qyaw(yaw - face)[:, None], (len(at), 22, 4)), local)
    local[..., [0, 2]] += xz[:, None]
    out[todo] = local
    return out


def _edge_weight(known: np.ndarray, ramp: int) -> np.ndarray:
    """Per frame: 0 where unknown, rising 1/(ramp+1) per frame of distance from the nearest unknown frame."""
    t = len(known)
    dist = np.full(t, np.inf)
    unknown = np.flatnonzero(~known)
    if len(unknown):
        idx = np.arange(t)
        pos = np.searchsorted(unknown, idx)
        left = np.abs(idx - unknown[np.clip(pos - 1, 0, len(unknown) - 1)])
        right = np.abs(unknown[np.clip(pos, 0, len(unknown) - 1)] - idx)
        dist = np.minimum(left, right).astype(float)
    return np.clip(dist / (ramp + 1), 0.0, 1.0)


def _lead_in(frozen: np.ndarray, ramp: int) -> np.ndarray:
    """Per frame: the pull toward the nearest frozen pose, 1 on frozen frames, falling 1/(ramp+1) per frame of
    distance. Between two frozen frames closer than 2 ramps the ramp shortens so that both pulls reach 0 where
    the nearest frozen pose changes: the placeholder switches there from one pose to the other, and a pull on
    both sides of that switch made a one-frame jump of the generated motion (a foot 35 cm between key poses)."""
    t = len(frozen)
    out = np.zeros(t)
    out[frozen] = 1.0
    free = np.flatnonzero(~frozen)
    if not len(free) or not frozen.any():
        return out
    for run in np.split(free, np.flatnonzero(np.diff(free) > 1) + 1):
        a, b = int(run[0]), int(run[-1])
        left = a > 0  # a frozen frame before the run, and after it
        right = b < t - 1
        r = min(ramp, -(-len(run) // 2) - 1) if left and right else ramp
        d = np.minimum(run - a + 1 if left else np.inf, b + 1 - run if right else np.inf)
        out[run] = np.clip(1.0 - d / (r + 1), 0.0, 1.0)
    return out


def _window_inputs(job: FillJob, start: int, window: int, normalize: Callable[[np.ndarray], np.ndarray],
                   facing: str) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Normalised rows [W,263], weights [W,263] and the window's transform for frames start..start+W."""
    t = len(job.joints)
    frames = np.arange(start, start + window + 1)
    inside = frames < t
    composite = placeholders(job, np.minimum(frames, t - 1))
    known = np.where(inside, job.known[np.minimum(frames, t - 1)], False)
    q, origin = facing_transform(composite)
    rows = normalize(joints_to_features(apply_transform(composite, q, origin), canonical=False, facing=facing))
    frozen = np.where(inside, job.frozen[np.minimum(frames, t - 1)], False)
    # rows past the job's end are free but are not an edge: the job's last frames stay exact
    edge = np.where(frozen, 1.0, _edge_weight(known | ~inside, RAMP))
    # Next to frozen frames the soft edge lies on the unknown side instead: the first generated frames are
    # pulled toward the placeholder (the frozen pose carried along the path) and let go over RAMP frames.
    lead_in = _lead_in(frozen, RAMP)
    edge = np.where(inside, np.maximum(edge, np.where(known, 0.0, lead_in)), 0.0)[:window]
    weight = np.repeat(edge[:, None], FEATURE_DIM, axis=1)
    path_w = np.where(inside, job.root_weight[np.minimum(frames, t - 1)], 0.0)[:window]
    root_w = np.where(known[:window], 1.0, path_w)
    weight[:, ROOT_CHANNELS] = root_w[:, None]
    return rows, weight.astype(np.float32), (q, origin)


def _first_stretch(known: np.ndarray, context: int) -> tuple[int, int] | None:
    """[a, b): the first unknown frames and every later one reached before `context` known frames in a row (a window
    fills every unknown frame it holds, and these need their context inside it too). None: every frame is known."""
    unknown = np.flatnonzero(~known)
    if not len(unknown):
        return None
    far = np.flatnonzero(np.diff(unknown) > context)  # a gap of at least `context` known frames follows unknown[far]
    return int(unknown[0]), int(unknown[far[0]] if len(far) else unknown[-1]) + 1


def _windows_needed(known: np.ndarray, stride: int) -> int:
    """Windows (rounds of `fill`) one job needs: each fills up to `stride` new frames of a run of unknowns."""
    unknown = np.flatnonzero(~known)
    if not len(unknown):
        return 0
    runs = np.split(unknown, np.flatnonzero(np.diff(unknown) > 1) + 1)
    return sum(-(-len(r) // max(stride, 1)) for r in runs)


def defect_zone(job: FillJob, fps: float, half: int, flick_metres: float | None = None) -> np.ndarray:
    """[T] bool: frames this fill wrote within `half` frames of a pop, an instant turn or (with `flick_metres`)
    a flick (a joint moving more than that in one frame; plausibility's definitions) that touches a written
    frame; frozen frames never. What a repair pass generates again. (Flicks converge since the decoder stopped
    making them out of shrunk bones: repairing them with the old decoder only moved them.)"""
    t = len(job.joints)
    zone = np.zeros(t, bool)
    flicked = {f for f, _ in flicks(job.joints, flick_metres)} if flick_metres is not None else set()
    for f in sorted(set(pops(job.joints, fps)) | set(instant_turns(job.joints)) | flicked):
        if job.written[f] or job.written[min(f + 1, t - 1)]:
            zone[max(0, f - half + 1):min(t, f + half + 1)] = True
    return zone & job.written & ~job.frozen


def bridge_root(job: FillJob, zone: np.ndarray) -> None:
    """Give the frames of `zone` a root path that eases from the frame before each stretch to the frame after
    it (position linearly, facing the short way round), followed exactly: generated again, a stretch then
    lands where the kept motion continues, instead of drifting off it (a jump at its far edge). A job with a
    `planned_root` keeps its walk there instead: a straight bridge across a transition cut through another member's
    path (two pelvises 0.09 m apart)."""
    t = len(job.joints)
    if job.planned_root and job.root_xz is not None and job.root_yaw is not None:
        job.root_weight[zone] = 1.0
        return
    xz = job.joints[:, 0, [0, 2]].copy() if job.root_xz is None else job.root_xz.copy()
    yaw = facing_angles(job.joints) if job.root_yaw is None else job.root_yaw.copy()
    idx = np.flatnonzero(zone)
    for run in np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1):
        a, b = max(int(run[0]) - 1, 0), min(int(run[-1]) + 1, t - 1)
        u = (np.arange(a, b + 1) - a) / max(b - a, 1)
        xz0, xz1 = job.joints[a, 0, [0, 2]], job.joints[b, 0, [0, 2]]
        y0, y1 = facing_angles(job.joints[[a, b]])
        turn = (y1 - y0 + np.pi) % (2 * np.pi) - np.pi
        xz[a:b + 1] = xz0 + u[:, None] * (xz1 - xz0)
        yaw[a:b + 1] = y0 + u * turn
    job.root_xz, job.root_yaw = xz, yaw
    job.root_weight[zone] = 1.0


def fill(sample_rows: Callable[..., np.ndarray], normalize: Callable[[np.ndarray], np.ndarray], jobs: list[FillJob],
         window: int, *, facing: str, overlap: int | None = None, seed: int | None = None,
         progress: Callable[[int, int], None] | None = None, repairs: int = REPAIR_PASSES,
         fps: float = FPS, flick_metres: float | None = None) -> list[FillJob]:
    """Generate every unknown frame of every job (in place; returns the jobs, all frames known), then
    `repair` what came out with a pop or an instant turn (`repairs` passes; flicks too with `flick_metres`).

    sample_rows(texts, values, weight, seed=...) is `Generator.sample_rows`; normalize is the bundle's.
    overlap: frames of context each window starts with (default window // 4).
    """
    overlap = window // 4 if overlap is None else overlap
    rng = np.random.default_rng(seed)
    rounds = [0, max((_windows_needed(job.known, window - overlap) for job in jobs), default=0)]
    overall = _overall(progress, rounds)
    _fill_rounds(sample_rows, normalize, jobs, window, facing, overlap, rng, seed is not None, overall, rounds)
    _repair(sample_rows, normalize, jobs, window, facing, overlap, rng, seed is not None, overall, rounds,
            repairs, fps, flick_metres)
    return jobs


def repair(sample_rows: Callable[..., np.ndarray], normalize: Callable[[np.ndarray], np.ndarray],
           jobs: list[FillJob], window: int, *, facing: str, overlap: int | None = None, seed: int | None = None,
           passes: int = REPAIR_PASSES, fps: float = FPS, flick_metres: float | None = None) -> list[FillJob]:
    """Generate again, in-painted from both sides, the frames around every pop, instant turn or flick in the frames
    each job wrote (`written`; a finished motion: all of them), with a root path bridging the stretch
    (`bridge_root`). The model's own motion replaces the defect; nothing is smoothed. Up to `passes` passes.
    flick_metres: also regenerate flicks, joints moving more than this in one frame (`choreo generate` passes
    plausibility.JUMP_METRES, as does every fill and repair of the song pipeline)."""
    overlap = window // 4 if overlap is None else overlap
    rng = np.random.default_rng(seed)
    rounds = [0, 0]
    _repair(sample_rows, normalize, jobs, window, facing, overlap, rng, seed is not None, _overall(None, rounds),
            rounds, passes, fps, flick_metres)
    return jobs


def _overall(progress: Callable[[int, int], None] | None, rounds: list[int]) -> Callable[[int, int], None]:
    def overall(step: int, steps: int) -> None:  # (steps so far, steps in all) over every round
        if progress is not None:
            rounds[1] = max(rounds[1], rounds[0] + 1)
            progress(rounds[0] * steps + step, rounds[1] * steps)
    return overall


def _repair(sample_rows, normalize, jobs: list[FillJob], window: int, facing: str, overlap: int,  # noqa: ANN001
            rng: np.random.Generator, seeded: bool, overall: Callable[[int, int], None], rounds: list[int],
            passes: int, fps: float, flick_metres: float | None) -> None:
    for _ in range(passes):
        broken = []
        for job in jobs:
            zone = defect_zone(job, fps, REPAIR_HALF, flick_metres)
            if zone.any():
                job.frozen |= ~job.written  # a repair changes only what this fill made: its context stays exact
                bridge_root(job, zone)
                job.known[zone] = False
                broken.append(job)
        if not broken:
            return
        context = min(overlap, REPAIR_CONTEXT)
        rounds[1] += max(_windows_needed(job.known, window - context) for job in broken)
        _fill_rounds(sample_rows, normalize, broken, window, facing, context, rng, seeded, overall, rounds, fit=True)


def _fill_rounds(sample_rows, normalize, jobs: list[FillJob], window: int, facing: str, overlap: int,  # noqa: ANN001
                 rng: np.random.Generator, seeded: bool, overall: Callable[[int, int], None], rounds: list[int],
                 fit: bool = False) -> None:
    """Window rounds until no job has an unknown frame (each round: every job's first unknown stretch, after `overlap`
    frames of context). With `fit` a round's windows are only as long as its stretches need with `overlap` frames of
    context on each side (`_first_stretch`), at most `window`: the network's cost grows with its frames, and a repair
    of 24 frames in a 120-frame window spent four fifths of it on context."""
    while True:
        runs = [(job, run) for job in jobs if (run := _first_stretch(job.known, overlap)) is not None]
        if not runs:
            return
        size = window if not fit else min(
            window, max(min(len(job.joints), b + overlap) - max(0, a - overlap) for job, (a, b) in runs))
        batch = [(job, max(0, min(a - overlap, len(job.joints) - size))) for job, (a, _) in runs]
        inputs = [_window_inputs(job, start, size, normalize, facing) for job, start in batch]
        rows = np.stack([i[0] for i in inputs])
        weight = np.stack([i[1] for i in inputs])
        round_seed = int(rng.integers(0, 2**31 - 1)) if seeded else None
        texts = [job.text if job.frame_texts is None else job.frame_texts[int(np.flatnonzero(~job.known)[0])]
                 for job, _ in batch]  # the prompt where the window's first unknown frame is
        feats = sample_rows(texts, rows, weight, seed=round_seed, progress=overall)
        rounds[0] += 1
        decoded = features_to_skeleton_joints(feats)  # the whole batch at once
        for (job, start), (_, w, (q, origin)), f, joints in zip(batch, inputs, feats, decoded, strict=True):
            new = undo_transform(joints, q, origin)
            stop = min(start + size, len(job.joints))
            span = np.arange(start, stop)
            redo = span[w[: stop - start, 4] < 1.0]  # unknown and ramped (never frozen) frames
            job.joints[redo] = new[redo - start]
            job.contacts[redo] = f[redo - start][:, FOOT_CONTACT]
            job.known[redo] = True
            job.written[redo] = True
            if len(redo):  # where this window's frames meet frames it did not write
                breaks = np.flatnonzero(np.diff(redo) > 1)
                for s0, s1 in zip(np.r_[redo[0], redo[breaks + 1]], np.r_[redo[breaks], redo[-1]], strict=True):
                    job.seams += [int(f) for f in (s0, s1 + 1) if 0 < f < len(job.joints)]
