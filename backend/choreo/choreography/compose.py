"""A plan and a song -> every member's motion for the whole song (`Choreography`).

1. Material: each distinct section (a label's first occurrence) is generated once, as `candidates` samples
   in one batch with the other sections, dancing in place (root velocities in-painted softly toward
   standing still, so members keep their spots); long sections chain windows by in-painting.
2. Beat sync: every candidate is time-warped onto its section's beat grid (`beat_sync.beat_warp`), then
   candidates are ranked by beat fit and by how well their vigour fits the section's energy.
3. Members: each member's draft timeline places the chosen material at the member's spot of each
   section's formation — the same for all (unison), mirrored for the right half (mirror), delayed member by
   member (canon), or a different candidate each (individual). Repeats of a label reuse its material.
4. Transitions: around each section boundary (at most one bar on either side) every member's motion is
   in-painted from both sides, the previous section's end and the next one's start, with the root path of
   the formation change given to the model (`infill`). Identical transitions (unison members, same path up to
   a shift) are generated once.
5. Feet: grounded from the planted feet and pinned while planted (`foot_contact`).

Point moves (`points.resolve_points`): a section's material is danced once more per set of placements its
members have ("variant"), the re-timed move written into it as frozen frames (exact, never warped or pinned)
and half a bar before and after it in-painted along an eased root path from the material to the move's spot
and back, so it flows in and out on the beat. Transition gaps never cover a move's frames: next to a move they
slide to the other side of the boundary. The moves define their members' floor.
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from choreo.choreography.beat_sync import beat_score, beat_warp, resample
from choreo.choreography.choreography import Choreography
from choreo.choreography.formations import (
    MIN_CLEARANCE,
    assign_members,
    formation_spots,
    min_pairwise_distance,
    reachable_clearance,
    smootherstep,
    transition_paths,
)
from choreo.choreography.moves import Move, move_contacts
from choreo.choreography.plan import Plan, SectionPlan
from choreo.choreography.points import Placement, resolve_points, section_frames, transition_half
from choreo.errors import ChoreoError
from choreo.foot_contact import ground, lock_feet
from choreo.generate import Generator
from choreo.infill import RAMP, REPAIR_HALF, REPAIR_PASSES, REPAIR_STEPS, FillJob, defect_zone, fill, repair
from choreo.metrics.beat_alignment import joint_speeds
from choreo.metrics.plausibility import JUMP_METRES, flicks, instant_turns, pops
from choreo.music.song import Song
from choreo.representation import apply_transform, facing_angles, facing_transform, undo_transform
from choreo.skeleton import FPS, bone_lengths, enforce_bone_lengths, mirror_joints

Progress = Callable[[str, int, int], None]
# Repair passes around point moves (flicks included): between key poses the model reached a pose with one joint in
# one frame (a 0.5-m foot step on the tests' song); 3 passes left it, 8 removed it. Its cause, the pulls of two close
# key poses meeting unequal (`infill._lead_in`), is fixed; the passes stay as a margin (few frames).
POINT_REPAIR_PASSES = 8
# Rounds of the final clean-up: each generates again, from a new draw, whatever a member's edges still hold (a
# repair that left a defect, or one refused for the clearance). With 2 rounds, and only refusals retried, a 3-minute
# song kept a pop and a flick in its dance break.
CLEAN_ATTEMPTS = 3
# Rounds of the materials' repair after their warp (`_repair_warped`), each generating again what the last left: a
# dance break of cartwheels and jetes kept a turn and five flicks after one round (kpop, seed 3, 4 + 2 candidates).
WARPED_REPAIR_ROUNDS = 3
# Members dance their material on their spots, its root held only softly in place: members dancing different
# candidates (or mirrored, or delayed) drift apart or together, and two pelvises came 0.41 m apart (girl-crush, a
# diamond of individual parts). Other assignments of the candidates are tried (`Composer._choose`).
PLACEMENT_MARGIN = 0.05  # metres above MIN_CLEARANCE an assignment keeps, or another is tried
PLACEMENT_TRIES = 200  # assignments of candidates to members tried for `individual` sections


@dataclass
class ComposeSettings:
    candidates: int = 3  # samples per distinct section, ranked by beat and energy fit
    # Sections whose best candidate lands fewer than `beat_target` of its kinematic beats on the beat get this
    # many more (one more batch). The model's motion beats come at no steady tempo (intervals of 0.75-2.25
    # beats on the demo song), and under the warp's rate bounds some samples cannot be put on the beat.
    extra_candidates: int = 3
    # Candidates per section repaired and ranked again after the repair (1: only the one danced is repaired).
    repaired_candidates: int = 3
    beat_target: float = 0.75
    material_root_weight: float = 0.5  # how strongly material is held in place (0 free .. 1 pelvis fixed)
    transition_bars: float = 0.5  # frames regenerated on each side of a boundary, in bars; with the soft edge
    # at most one bar changes at each end of a section (so a repeated chorus is the same apart from that)
    beat_sync: bool = True
    # Ranking: beat hit rate minus this times the energy misfit. On the demo song 1.0 gave beats 65 % / energy
    # r 0.74, 0.5 gave 68 % / 0.58, 0.3 (4 candidates) 70 % / 0.62.
    energy_weight: float = 0.5
    steps: int | None = None
    # Transition windows are mostly given frames: 6 steps dance them as well as 10 or 20 (1.5-min synthesized
    # songs, 5 members, seeds 0-3: beat hit rate 71.4 vs 71.5 %, the same pops and seams; docs/EVALUATION.md).
    transition_steps: int | None = 6
    # Samples per member and boundary: a transition whose frames, warped onto the beat, land fewer than
    # `transition_target` of their kinematic beats is sampled again and the better of the two kept.
    transition_candidates: int = 2
    transition_target: float = 0.75
    guidance: float | None = None
    seed: int = 0


@dataclass
class Material:
    """A section's dance before placement: [L,22,3] starting at the origin facing +Z, with foot contacts."""

    joints: np.ndarray
    contacts: np.ndarray
    raw: np.ndarray  # before the time warp (for the before/after beat report)
    seams: list[int] = field(default_factory=list)  # frames where its windows meet
    score: float = 0.0
    hit_rate: float | None = None  # its kinematic beats on the section's beats (None: not measured yet)
    variant: tuple = ()  # the point moves danced in it: ((move name, first frame in the section), ...)
    fixed: np.ndarray | None = None  # [L] bool: the moves' frames (exact)
    source: np.ndarray | None = None  # [L] the beat warp's source time of each frame (s; None: not warped)


@dataclass
class _Draft:
    joints: np.ndarray  # [T,22,3]
    contacts: np.ndarray  # [T,4]
    seams: set[int] = field(default_factory=set)  # frames where stitched pieces meet
    fixed: np.ndarray | None = None  # [T] bool: point-move frames, kept exactly from here on

    def __post_init__(self) -> None:
        if self.fixed is None:
            self.fixed = np.zeros(len(self.joints), bool)


def _material_key(s: SectionPlan) -> int:
    return s.index if s.repeat_of is None else s.repeat_of


def _beats_rel(song: Song, start: float, length: float) -> tuple[np.ndarray, np.ndarray]:
    beats = song.beats_in(start, start + length) - start
    downbeats = song.downbeats_in(start, start + length) - start
    return beats, downbeats


def _mean_speed(joints: np.ndarray, fps: float) -> float:
    return float(joint_speeds(joints, fps).mean()) if len(joints) > 2 else 0.0


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs [s, e) of True in `mask`."""
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(np.int8), 0]))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _free_span(fixed: np.ndarray, lo: int, hi: int, around: int) -> tuple[int, int]:
    """[lo, hi) cut down to the run of non-fixed frames holding frame `around`."""
    lo, hi = max(0, lo), min(len(fixed), hi)
    before = np.flatnonzero(fixed[lo:around])
    after = np.flatnonzero(fixed[around:hi])
    return (lo + int(before[-1]) + 1 if len(before) else lo), (around + int(after[0]) if len(after) else hi)


def _defects(joints: np.ndarray, fps: float) -> int:
    """Pops, instant turns and flicks in `joints` (choreo.metrics.plausibility)."""
    return len(pops(joints, fps)) + len(instant_turns(joints)) + len(flicks(joints, JUMP_METRES))


def _lock_outside(joints: np.ndarray, contacts: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """Planted feet pinned piece by piece between the fixed (point-move) frames, which stay exact."""
    out = np.array(joints, dtype=np.float64)
    for lo, hi in _runs(~fixed):
        out[lo:hi] = lock_feet(joints[lo:hi], contacts[lo:hi])
    return out


def _pin_pieces(joints: np.ndarray, contacts: np.ndarray, fixed: np.ndarray, cuts: list[int],
                where: np.ndarray) -> np.ndarray:
    """A copy of `joints` with planted feet pinned piece by piece between `cuts` (`_lock_outside`: the fixed frames
    exact), in the pieces that hold a `where` frame; the other pieces as they are."""
    out = np.array(joints, dtype=np.float64)
    bounds = sorted({0, len(out), *(c for c in cuts if 0 < c < len(out))})
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        if where[lo:hi].any():
            out[lo:hi] = _lock_outside(joints[lo:hi], contacts[lo:hi], fixed[lo:hi])
    return out


def _undrift(job: FillJob, target_xz: np.ndarray, target_yaw: np.ndarray) -> None:
    """Put each run of written frames back on its root targets (in place). The model follows the given root
    velocities, but a window decoded through a move whose root the representation does not round-trip exactly
    (fast pelvis turns) comes out moved and turned as a whole; the rigid 2-D turn and shift that best maps the
    run's roots onto their targets (the path, or the frames it replaced) undoes that."""
    for lo, hi in _runs(job.written):
        got = job.joints[lo:hi]
        turn = float(np.angle(np.mean(np.exp(1j * (target_yaw[lo:hi] - facing_angles(got))))))
        c, s_ = np.cos(turn), np.sin(turn)
        x, z = got[..., 0], got[..., 2]
        turned = got.copy()
        turned[..., 0], turned[..., 2] = c * x + s_ * z, -s_ * x + c * z  # rotation about +Y by `turn`
        shift = (target_xz[lo:hi] - turned[:, 0, [0, 2]]).mean(axis=0)
        turned[..., 0] += shift[0]
        turned[..., 2] += shift[1]
        job.joints[lo:hi] = turned


def _fade_into_fixed(joints: np.ndarray, fixed: np.ndarray, frames: int = RAMP) -> np.ndarray:
    """Generated frames next to fixed (point-move) frames nudged so the motion meets them with the move's own
    velocity: the gap between the last generated frame and the move's pose extrapolated back one frame (and the
    same after a move) is faded in over `frames` frames; next to a one-frame key pose, the gap between the pose
    and the generated motion carried on at its own velocity. Bones kept. Fixed frames are not touched."""
    out = joints.astype(np.float64)
    n = len(out)
    w = smootherstep(np.linspace(0.0, 1.0, frames + 1)[1:])  # 0 far from the move .. 1 next to it
    for s0, s1 in _runs(fixed):
        if s0 >= 1 and s0 + 1 < n and fixed[s0 + 1]:  # into the move at s0
            lo = max(0, s0 - frames)
            lo = max(lo, int(np.flatnonzero(fixed[:s0])[-1]) + 1 if fixed[:s0].any() else lo)
            delta = (2 * out[s0] - out[s0 + 1]) - out[s0 - 1]
            out[lo:s0] += w[-(s0 - lo):, None, None] * delta
        if s1 < n and s1 >= 2 and fixed[s1 - 2]:  # out of the move at s1
            hi = min(n, s1 + frames)
            hi = min(hi, s1 + int(np.flatnonzero(fixed[s1:])[0]) if fixed[s1:].any() else hi)
            delta = (2 * out[s1 - 1] - out[s1 - 2]) - out[s1]
            out[s1:hi] += w[::-1][: hi - s1, None, None] * delta
        if s1 - s0 == 1:  # a key pose (one frame): no move velocity, so the motion keeps its own into and out of it
            if s0 >= 2 and not fixed[s0 - 2]:
                lo = max(0, s0 - frames)
                lo = max(lo, int(np.flatnonzero(fixed[:s0])[-1]) + 1 if fixed[:s0].any() else lo)
                delta = out[s0] - (2 * out[s0 - 1] - out[s0 - 2])  # what the approach misses the pose by
                out[lo:s0] += w[-(s0 - lo):, None, None] * delta
            if s1 + 1 < n and not fixed[s1 + 1]:
                hi = min(n, s1 + frames)
                hi = min(hi, s1 + int(np.flatnonzero(fixed[s1:])[0]) if fixed[s1:].any() else hi)
                delta = out[s0] - (2 * out[s1] - out[s1 + 1])
                out[s1:hi] += w[::-1][: hi - s1, None, None] * delta
    lengths = np.median(bone_lengths(joints[~fixed]), axis=0) if (~fixed).sum() else None
    if lengths is not None:
        free = ~fixed
        out[free] = enforce_bone_lengths(out[free], lengths)
    return out


def _fade_and_lift(joints: np.ndarray, held: np.ndarray) -> np.ndarray:
    """`_fade_into_fixed` onto the `held` frames, then any foot the fade pushed below the floor lifted onto it
    (legs bent by IK, as `lock_feet` lifts; nothing planted anew): only frames the fade moved change."""
    out = _fade_into_fixed(joints, held)
    moved = np.abs(out - joints).max(axis=(1, 2)) > 1e-6  # (bones made exact move the rest by less)
    for lo, hi in _runs(moved):
        out[lo:hi] = lock_feet(out[lo:hi], np.zeros((hi - lo, 4)))
    return out


def _ease_path(start: np.ndarray | None, end: np.ndarray | None, n: int) -> np.ndarray:
    """n values easing from `start` to `end` (smootherstep, the ends excluded); one missing end holds the other."""
    if start is None or end is None:
        return np.repeat(np.asarray(end if start is None else start, dtype=np.float64)[None], n, axis=0)
    u = smootherstep(np.linspace(0.0, 1.0, n + 2)[1:-1])
    return start + (end - start) * u.reshape((n,) + (1,) * np.ndim(start))


class Composer:
    """Composes choreographies with one loaded `Generator` (choreo.generate)."""

    def __init__(self, generator: Generator, settings: ComposeSettings | None = None) -> None:
        self.gen = generator
        self.settings = settings or ComposeSettings()
        self.window = generator.window
        self.fps = FPS
        self.timings: dict[str, float] = {}
        self.placements: list[Placement] = []
        self._variants: dict[tuple[int, int], tuple] = {}  # (material key, member) -> its variant
        self._fixed_any: np.ndarray | None = None  # [T] any member's point-move frames
        self._tempo = 120.0  # the song's, set with the placements
        self._plan_sections: list[SectionPlan] = []
        self._warps: dict[bytes, tuple] | None = None  # _on_beat_clean's results while transitions() runs

    # ---- sampling --------------------------------------------------------------------------------
    def _fill(self, jobs: list[FillJob], seed: int, what: str, progress: Progress | None,
              repairs: int = REPAIR_PASSES) -> None:
        s = self.settings

        def sample_rows(texts, values, weight, seed=None, progress=None):
            steps = s.steps
            if what == "transitions" and s.transition_steps:
                steps = min(s.transition_steps, s.steps or s.transition_steps)
            elif what == "repair":
                steps = min(REPAIR_STEPS, s.steps or REPAIR_STEPS)
            return self.gen.sample_rows(texts, values, weight, steps=steps, guidance=s.guidance, seed=seed,
                                        progress=progress)

        def tick(done: int, total: int) -> None:
            if progress:
                progress(what, done, total)

        # Pops, instant turns and flicks (a joint moving > 30 cm in one frame) are generated again everywhere.
        with self._timed(what):
            if what == "repair":
                repair(sample_rows, self.gen.bundle.normalizer.normalize, jobs, self.window,
                       facing=self.gen.bundle.root_facing, seed=seed, passes=repairs, flick_metres=JUMP_METRES)
            else:
                fill(sample_rows, self.gen.bundle.normalizer.normalize, jobs, self.window,
                     facing=self.gen.bundle.root_facing, seed=seed, progress=tick, repairs=repairs,
                     flick_metres=JUMP_METRES)

    @contextmanager
    def _timed(self, what: str) -> Iterator[None]:
        """Adds the time the `with` block takes to `timings[what]`."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[what] = self.timings.get(what, 0.0) + time.perf_counter() - t0

    def _material_job(self, frames: int, prompt: str) -> FillJob:
        """A section's material to sample: no frame given, the root held by `material_root_weight`."""
        return FillJob(np.zeros((frames, 22, 3)), np.zeros(frames, bool), prompt,
                       root_weight=self.settings.material_root_weight)

    def prompt_fit(self, prompt: str, frames: int, samples: int, seed: int = 0, song: Song | None = None,
                   start: float = 0.0) -> list[tuple[float, float | None]]:
        """(mean joint speed m/s, beat hit rate) of `samples` pieces of material danced to `prompt` as a section's
        is, before repair: how vigorously the model dances those words and, given a `song` (the material
        starting at `start` s), how many of its kinematic beats the warp puts on the beat (None without a song);
        bench/bench_style_vigour.py."""
        jobs = [self._material_job(frames, prompt) for _ in range(samples)]
        self._fill(jobs, seed, "material", None, repairs=0)
        out = []
        for job in jobs:
            hit = None if song is None else self._hit_rate(song, start, self._material(song, start, job).joints,
                                                           empty=np.nan)
            out.append((_mean_speed(job.joints, self.fps), hit))
        return out

    # ---- 1 + 2: material -------------------------------------------------------------------------
    def materials(self, song: Song, plan: Plan, spans: list[tuple[int, int]], only: list[int] | None = None,
                  progress: Progress | None = None) -> dict[int, list[Material]]:
        """Ranked candidates per distinct section index (best first)."""
        s = self.settings
        lengths: dict[int, int] = {}
        for sec, (a, b) in zip(plan.sections, spans, strict=True):
            key = _material_key(sec) if only is None else sec.index
            if only is not None and sec.index not in only:
                continue
            lengths[key] = max(lengths.get(key, 0), b - a)
        seed = s.seed * 7919 + 1 + (0 if only is None else 1000 + only[0])
        danced = {key: plan.members if plan.sections[key].move == "individual" else 1 for key in lengths}
        counts = {key: max(s.candidates, danced[key]) for key in lengths}
        out: dict[int, list[Material]] = {}
        job_of: dict[int, FillJob] = {}
        for attempt in range(2):  # the candidates, then more for the sections none of them put on the beat
            jobs, owners = [], []
            for key, count in counts.items():
                for _ in range(count):
                    jobs.append(self._material_job(lengths[key], plan.sections[key].prompt))
                    owners.append(key)
            # Candidates first; only the kept ones are repaired.
            self._fill(jobs, seed + 17 * attempt, "material", progress, repairs=0)
            with self._timed("beat sync"):
                for key, job in zip(owners, jobs, strict=True):
                    m = self._material(song, plan.sections[key].start, job)
                    job_of[id(m)] = job
                    out.setdefault(key, []).append(m)
                self._rank(song, plan, out)
            counts = {key: s.extra_candidates for key, ms in out.items()
                      if s.extra_candidates and s.beat_sync and ms[0].hit_rate < s.beat_target}
            if not counts:
                break
        # The candidates that will be danced (the best; for `individual`, one per member) and the next
        # `repaired_candidates` - 1 get the repair of their pops and instant turns, then are pinned, warped again and
        # ranked again among themselves: a repair rewrote up to 64 % of a turn-heavy candidate, and a pre-chorus
        # ranked first with 86 % of its beats on the beat kept 38 % (girl-crush seed 0).
        repaired = {key: min(len(ms), danced[key] + max(0, s.repaired_candidates - 1)) for key, ms in out.items()}
        used = [(key, i) for key, n in repaired.items() for i in range(n)]
        fixing = [job_of[id(out[key][i])] for key, i in used]
        before = [job.joints.copy() for job in fixing]
        self._fill(fixing, seed + 1, "repair", progress)
        with self._timed("beat sync"):
            for (key, i), job, old in zip(used, fixing, before, strict=True):
                if np.array_equal(job.joints, old):
                    continue
                score, start = out[key][i].score, plan.sections[key].start
                # The repair changed short stretches. Warped anew, the repaired motion's warp may have to be
                # narrowed to add no turn (a whole section off the beat); the warp found before the repair keeps
                # the rest on the beat (what it makes of the new stretches, _repair_warped mends below). The one
                # landing more beats is kept.
                both = [self._material(song, start, job, source=out[key][i].source), self._material(song, start, job)]
                for m in both:
                    m.hit_rate = self._hit_rate(song, start, m.joints)
                out[key][i] = max(both, key=lambda m: m.hit_rate)
                out[key][i].score = score
            if s.repaired_candidates > 1:
                self._rank_repaired(song, plan, out, repaired)
        self._repair_warped(song, plan, [(key, out[key][i]) for key, n in danced.items()
                                         for i in range(min(n, len(out[key])))], seed + 2, progress)
        if self.placements:
            self._point_materials(song, plan, spans, out, progress)
        return out

    def _repair_warped(self, song: Song, plan: Plan, mats: list[tuple[int, Material]], seed: int,
                       progress: Progress | None) -> None:
        """Materials' defects after the warp, generated again in warped time (point moves' frames exact), then their
        feet pinned again and each stretch the repair changed warped onto the beat by itself (its ends kept). The
        warp can make a pop of a borderline stretch (a local rate of 1.25 beside 0.8 triples the speed ratio's
        margin away) or a flick of a fast one; fixed here, every repeat of a material is fixed alike. Up to
        `WARPED_REPAIR_ROUNDS` rounds, each from a new draw, while a material still has one."""
        for attempt in range(WARPED_REPAIR_ROUNDS):
            jobs, owners = [], []
            for key, m in mats:
                fixed = m.fixed if m.fixed is not None else np.zeros(len(m.joints), bool)
                job = FillJob(m.joints, np.ones(len(m.joints), bool), plan.sections[key].prompt,
                              contacts=m.contacts.copy(), frozen=fixed.copy())
                job.written[:] = ~fixed
                if defect_zone(job, self.fps, REPAIR_HALF, JUMP_METRES).any():
                    jobs.append(job)
                    owners.append((key, m, fixed))
            if not jobs:
                return
            before = [job.joints.copy() for job in jobs]
            self._fill(jobs, seed + 101 * attempt, "repair", progress)
            for (key, m, fixed), job, old in zip(owners, jobs, before, strict=True):
                joints, contacts = _lock_outside(job.joints, job.contacts, fixed), job.contacts
                changed = np.abs(job.joints - old).max(axis=(1, 2)) > 1e-9
                self._rewarp(song, plan.sections[key].start, joints, contacts, changed, ~fixed)
                m.joints, m.contacts = joints, contacts
                m.seams = sorted(set(m.seams) | set(job.seams))

    def _on_beat(self, song: Song, start: float, joints: np.ndarray, contacts: np.ndarray,
                 rates: tuple[float, float] = (0.8, 1.25)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`joints` (frame 0 at `start` s) time-warped onto the song's beats (`beat_sync.beat_warp`, local speed
        within `rates`, ends kept), `contacts` resampled alike, and each frame's source time (s)."""
        beats, downbeats = _beats_rel(song, start, len(joints) / self.fps)
        warped, source = beat_warp(joints, self.fps, beats, downbeats, min_rate=rates[0], max_rate=rates[1])
        return warped, self._contacts_at(contacts, source), source

    def _contacts_at(self, contacts: np.ndarray, source: np.ndarray) -> np.ndarray:
        return contacts[np.clip(np.rint(source * self.fps).astype(int), 0, len(contacts) - 1)]

    _RATES = ((0.8, 1.25), (0.9, 1.1), (1.0, 1.0))  # a warp's speed bounds, narrowed when they do harm

    def _on_beat_clean(self, song: Song, start: float, joints: np.ndarray, contacts: np.ndarray, narrowest: int = 0,
                       had: int | None = None) -> tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """`_on_beat` with the widest rate bounds (from _RATES[narrowest] on) that add no pop, instant turn or
        flick to the `had` ones (default: the unwarped frames'): a warp speeding a fast turn up by 1.25x can make
        it instant, and the clean-up would then generate it again off the beat. Returns (bounds index, result)."""
        had = _defects(joints, self.fps) if had is None else had
        # In transitions() the same frames are warped twice (to judge a transition, then to place it): once.
        key = None
        if self._warps is not None:
            key = hashlib.sha1(np.float64(start).tobytes() + joints.tobytes() + contacts.tobytes()
                               + bytes([narrowest, min(had, 255)])).digest()
            if key in self._warps:
                return self._warps[key]
        for k in range(narrowest, len(self._RATES)):  # the identity (last) never adds a defect
            out = self._on_beat(song, start, joints, contacts, self._RATES[k])
            if _defects(out[0], self.fps) <= had:
                break
        if key is not None:
            self._warps[key] = (k, out)
        return k, out

    def _rewarp(self, song: Song, start: float, joints: np.ndarray, contacts: np.ndarray, changed: np.ndarray,
                allowed: np.ndarray, keep_defects_out: bool = True) -> None:
        """Each stretch of `changed` frames (regenerated after the beat warp) with RAMP frames on each side, within
        the `allowed` frames, warped onto the beat by itself, its ends kept (in place; frame 0 at `start` s). With
        `keep_defects_out`, a warp that would make a pop, a turn or a flick the stretch has not is left out."""
        if not self.settings.beat_sync:
            return
        for u0, u1 in _runs(changed & allowed):
            lo, hi = _free_span(~allowed, u0 - RAMP, u1 + RAMP, u0)
            if hi - lo <= 2:
                continue
            warped, moved, _ = self._on_beat(song, start + lo / self.fps, joints[lo:hi], contacts[lo:hi])
            if not keep_defects_out or _defects(warped, self.fps) <= _defects(joints[lo:hi], self.fps):
                joints[lo:hi], contacts[lo:hi] = warped, moved

    def _material(self, song: Song, start: float, job: FillJob, source: np.ndarray | None = None) -> Material:
        """The job's motion grounded, feet pinned and warped onto the beat (the warp given by its `source` times, or
        found: the widest that adds no defect)."""
        # Feet are pinned before the warp: pinning moves the legs, which moves the kinematic beats the
        # warp put on the music's beats; a pinned foot stays pinned under a time warp.
        raw = lock_feet(ground(job.joints, job.contacts), job.contacts)
        joints, contacts = raw, job.contacts
        if self.settings.beat_sync and source is not None:
            joints, contacts = resample(raw, self.fps, source), self._contacts_at(contacts, source)
        elif self.settings.beat_sync:
            joints, contacts, source = self._on_beat_clean(song, start, raw, contacts)[1]
        return Material(joints, contacts, raw, seams=sorted(set(job.seams)), source=source)

    # ---- point moves -----------------------------------------------------------------------------
    def _set_points(self, song: Song, plan: Plan, spans: list[tuple[int, int]], moves: Mapping[str, Move] | None,
                    only: int | None = None) -> None:
        """Resolve the plan's point moves and each (material key, member)'s variant (of section `only` alone when
        it is danced anew by itself)."""
        self.placements = resolve_points(song, plan, dict(moves or {}), self.fps)
        self._tempo = song.tempo
        self._plan_sections = plan.sections
        self._variants = {}
        for p in self.placements:
            if (plan.sections[p.section].repeat_of is None) if only is None else p.section == only:
                key = (p.section, p.member)
                self._variants[key] = tuple(sorted(self._variants.get(key, ()) + ((p.move.name,
                                                                                    p.first - spans[p.section][0]),)))

    def variant(self, key: int, member: int) -> tuple:
        return self._variants.get((key, member), ())

    def point_half(self, song: Song) -> int:
        """Frames in-painted before and after a point move: half a bar."""
        bar = song.meter * 60.0 / max(song.tempo, 1e-6) * self.fps
        return max(4, int(round(0.5 * bar)))

    def _point_job(self, song: Song, m: Material, reps: list[Placement], a: int, text: str) -> FillJob:
        """The material with the moves written in (frozen) and half a bar around each (and between key poses)
        to in-paint, the root easing from the material to the move's spot and facing and back."""
        n = len(m.joints)
        joints, contacts = m.joints.astype(np.float64), m.contacts.astype(np.float64)
        fixed, unknown = np.zeros(n, bool), np.zeros(n, bool)
        h = self.point_half(song)
        for p in reps:
            r0 = p.first - a
            frames = r0 + p.offsets
            inside = (frames >= 0) & (frames < n)
            joints[frames[inside]] = p.joints[inside]
            contacts[frames[inside]] = move_contacts(p.joints, self.fps)[inside]
            unknown[max(0, r0 - h) : min(n, r0 + p.length + h)] = True
            fixed[frames[inside]] = True
        unknown &= ~fixed
        xz, yaw = joints[:, 0, [0, 2]].copy(), facing_angles(joints)
        for u0, u1 in _runs(unknown):
            left, right = (u0 - 1 if u0 > 0 else None), (u1 if u1 < n else None)
            xz[u0:u1] = _ease_path(None if left is None else xz[left], None if right is None else xz[right], u1 - u0)
            y0 = None if left is None else yaw[left]
            y1 = None if right is None else (y0 + (yaw[right] - y0 + np.pi) % (2 * np.pi) - np.pi
                                             if y0 is not None else yaw[right])
            yaw[u0:u1] = _ease_path(y0, y1, u1 - u0)
        return FillJob(joints, ~unknown, text, root_xz=xz, root_yaw=yaw, root_weight=1.0, contacts=contacts,
                       frozen=fixed)

    def _point_materials(self, song: Song, plan: Plan, spans: list[tuple[int, int]], out: dict[int, list[Material]],
                         progress: Progress | None) -> None:
        """Add to `out` each needed variant of the chosen material(s), danced around its point moves."""
        reps: dict[tuple[int, tuple], list[Placement]] = {}  # each variant's moves, from one member having it
        for (key, member), variant in sorted(self._variants.items()):
            if (key, variant) not in reps:
                reps[(key, variant)] = [p for p in self.placements if p.section == key and p.member == member]
        work = []
        for (key, variant), ps in reps.items():
            if key not in out:
                continue
            sec = plan.sections[key]
            plain = [m for m in out[key] if not m.variant]
            for m in plain if sec.move == "individual" and plan.members > 1 else plain[:1]:
                work.append((key, variant, m, self._point_job(song, m, ps, spans[key][0], sec.prompt)))
        targets = [(np.where(job.known[:, None], job.joints[:, 0, [0, 2]], job.root_xz),
                    np.where(job.known, facing_angles(job.joints), job.root_yaw)) for *_, job in work]
        # The moves' own frames: a repair inside the fill freezes its context too (job.frozen grows), which must
        # not make the whole material count as a move.
        moves_only = [job.frozen.copy() for *_, job in work]
        made: list[tuple[int, Material]] = []
        self._fill([w[-1] for w in work], self.settings.seed * 7919 + 5, "points", progress,
                   repairs=POINT_REPAIR_PASSES)
        for (key, variant, m, job), (xz, yaw), fixed in zip(work, targets, moves_only, strict=True):
            _undrift(job, xz, yaw)
            sec = plan.sections[key]
            joints = _lock_outside(job.joints, job.contacts, fixed)
            contacts = job.contacts
            # The in-painted frames onto the beat, the moves untouched (their defects are repaired below).
            self._rewarp(song, sec.start, joints, contacts, job.written, ~fixed, keep_defects_out=False)
            out[key].append(Material(joints, contacts, m.raw, seams=sorted(set(m.seams) | set(job.seams)),
                                     score=m.score, variant=variant, fixed=fixed))
            made.append((key, out[key][-1]))
        self._repair_warped(song, plan, made, self.settings.seed * 7919 + 6, progress)

    def _hit_rate(self, song: Song, start: float, joints: np.ndarray, empty: float = 0.0) -> float:
        """Share of the motion's kinematic beats on the song's beats (frame 0 at `start` s); `empty` where there is
        nothing to score (no kinematic beat, or no music beat)."""
        beats, _ = _beats_rel(song, start, len(joints) / self.fps)
        score = beat_score(joints, self.fps, beats, draws=0).hit_rate if len(beats) else empty
        return empty if np.isnan(score) else float(score)

    def _rank_repaired(self, song: Song, plan: Plan, out: dict[int, list[Material]], repaired: dict[int, int]) -> None:
        """Each section's first `repaired[key]` candidates (repaired) ranked again by how they score now, ahead
        of the rest (which keep their defects)."""
        head = {key: out[key][:n] for key, n in repaired.items()}
        self._rank(song, plan, head)
        for key, ms in head.items():
            out[key] = ms + out[key][len(ms):]

    def _rank(self, song: Song, plan: Plan, out: dict[int, list[Material]]) -> None:
        speeds = {k: [_mean_speed(m.joints, self.fps) for m in ms] for k, ms in out.items()}
        allv = np.concatenate([np.asarray(v) for v in speeds.values()])
        lo, hi = np.percentile(allv, 10), np.percentile(allv, 90)
        span = max(hi - lo, 1e-6)
        for key, ms in out.items():
            sec = plan.sections[key]
            target = lo + sec.energy * span
            for m, v in zip(ms, speeds[key], strict=True):
                if m.hit_rate is None:
                    m.hit_rate = self._hit_rate(song, sec.start, m.joints)
                m.score = m.hit_rate - self.settings.energy_weight * abs(v - target) / span
            ms.sort(key=lambda m: -m.score)

    # ---- 3: members' drafts ----------------------------------------------------------------------
    def spots(self, plan: Plan) -> list[np.ndarray]:
        """Per section the members' spots [N,2] (x, z), assigned for least travel from the previous one."""
        out: list[np.ndarray] = []
        for i, sec in enumerate(plan.sections):
            if out and plan.sections[i - 1].transition == "hold":  # keep the positions into this section
                out.append(out[-1].copy())
                continue
            spots = formation_spots(sec.formation, plan.members)
            if out:
                spots = spots[assign_members(out[-1], spots)]
            out.append(spots)
        return out

    def _piece(self, plan: Plan, sec: SectionPlan, mats: list[Material], member: int, spot_x: float,
               length: int, beat_frames: float, key: int, choice: int
               ) -> tuple[np.ndarray, np.ndarray, list[int], np.ndarray]:
        """Member's motion for one section in the material's frame (origin, facing +Z), its contacts, seams and
        point-move frames; `choice`: which of the candidates (of the member's variant) it dances."""
        move = sec.move if plan.members > 1 else "unison"
        want = self.variant(key, member)
        pool = [m for m in mats if m.variant == want] or [m for m in mats if not m.variant]
        m = pool[choice % len(pool)]
        joints, contacts = m.joints, m.contacts
        fixed = m.fixed if m.fixed is not None else np.zeros(len(joints), bool)
        seams = list(m.seams)
        if move == "mirror" and spot_x < -1e-6:  # the stage-right half (audience's left) mirrors
            joints = mirror_joints(joints)
            contacts = contacts[:, [2, 3, 0, 1]]
        if move == "canon":
            delay = int(round(member * sec.canon_beats * beat_frames))
            delay = min(delay, max(0, length - 1))
            if delay:
                joints = np.concatenate([np.repeat(joints[:1], delay, axis=0), joints], axis=0)
                contacts = np.concatenate([np.ones((delay, 4)), contacts], axis=0)
                fixed = np.concatenate([np.zeros(delay, bool), fixed])
                seams = [delay] + [f + delay for f in seams]
        return joints[:length], contacts[:length], [f for f in seams if 0 < f < length], fixed[:length]

    def _choices(self, plan: Plan, sec: SectionPlan, mats: list[Material]) -> Iterator[list[int]]:
        """Which candidate each member dances, the ranking's choice first: the best for all (for `individual`
        the best few, one each), then the next ones (for `individual`, the same ones given to other members)."""
        n = plan.members
        move = sec.move if n > 1 else "unison"
        if move == "individual":  # (`_piece` takes a choice modulo its member's pool of candidates)
            yield list(range(n))
            rng = np.random.default_rng(sec.index)
            for _ in range(PLACEMENT_TRIES):
                yield [int(c) for c in rng.permutation(max(n, len(mats)))[:n]]
        else:
            for i in range(len(mats) if move != "unison" else 1):  # unison members keep the spots' distances
                yield [i] * n

    def _closest(self, plan: Plan, places: list[tuple[SectionPlan, tuple[int, int], np.ndarray]],
                 mats: list[Material], key: int, beat_frames: float, choice: list[int]) -> float:
        """Closest two members' pelvises come in these sections danced with `choice` (inf for one member)."""
        closest = np.inf
        for sec, (a, b), spots in places:
            pieces = [self._piece(plan, sec, mats, m, spots[m, 0], b - a, beat_frames, key, c)[0]
                      for m, c in enumerate(choice)]
            roots = np.stack([p[:, 0, [0, 2]] + spots[m] for m, p in enumerate(pieces)], axis=1)
            closest = min(closest, float(min_pairwise_distance(roots).min()) if len(roots) else np.inf)
        return closest

    def _choose(self, song: Song, plan: Plan, places: list[tuple[SectionPlan, tuple[int, int], np.ndarray]],
                mats: list[Material], key: int) -> list[int]:
        """The candidate each member dances in the sections `places` (all of one material, so a repeat dances as
        its first): the ranking's choice unless members' drifts (the material holds its root only softly) bring two
        pelvises closer than MIN_CLEARANCE + PLACEMENT_MARGIN, then the first alternative that keeps them apart,
        else the one that keeps them farthest (the transitions keep them no closer than they stand)."""
        beat_frames = 60.0 / max(song.tempo, 1e-6) * self.fps
        best, best_d = None, -np.inf
        for choice in self._choices(plan, places[0][0], mats):
            d = self._closest(plan, places, mats, key, beat_frames, choice)
            if d >= MIN_CLEARANCE + PLACEMENT_MARGIN:
                return choice
            if d > best_d:
                best, best_d = choice, d
        return best

    def _place_section(self, song: Song, plan: Plan, sec: SectionPlan, span: tuple[int, int],
                       mats: list[Material], spots: np.ndarray, drafts: list[_Draft], key: int | None = None,
                       choice: list[int] | None = None) -> None:
        """Write every member's piece of one section, standing on its spot, into the drafts (in place). `key`:
        the section whose material `mats` is (default: the first occurrence); `choice`: each member's candidate
        (default: `_choose` for this section alone)."""
        a, b = span
        key = _material_key(sec) if key is None else key
        beat_frames = 60.0 / max(song.tempo, 1e-6) * self.fps
        choice = choice or self._choose(song, plan, [(sec, span, spots)], mats, key)
        for m, d in enumerate(drafts):
            joints, contacts, seams, fixed = self._piece(plan, sec, mats, m, spots[m, 0], b - a, beat_frames, key,
                                                         choice[m])
            d.joints[a:b] = joints + np.array([spots[m, 0], 0.0, spots[m, 1]])
            d.contacts[a:b] = contacts
            d.fixed[a:b] = fixed
            d.seams.update(a + f for f in seams)

    def drafts(self, song: Song, plan: Plan, spans: list[tuple[int, int]], mats: dict[int, list[Material]],
               spots: list[np.ndarray]) -> list[_Draft]:
        total = spans[-1][1]
        drafts = [_Draft(np.zeros((total, 22, 3)), np.zeros((total, 4))) for _ in range(plan.members)]
        places: dict[int, list[tuple[SectionPlan, tuple[int, int], np.ndarray]]] = {}
        for sec, span, section_spots in zip(plan.sections, spans, spots, strict=True):
            places.setdefault(_material_key(sec), []).append((sec, span, section_spots))
        choices = {key: self._choose(song, plan, where, mats[key], key) for key, where in places.items()}
        for sec, span, section_spots in zip(plan.sections, spans, spots, strict=True):
            key = _material_key(sec)
            self._place_section(song, plan, sec, span, mats[key], section_spots, drafts, choice=choices[key])
        return drafts

    # ---- 4: transitions --------------------------------------------------------------------------
    def transition_half(self, song: Song, spans: list[tuple[int, int]], i: int) -> int:
        """Frames regenerated on each side of boundary i (between sections i-1 and i)."""
        return transition_half(song, spans, i, self.fps, self.settings.transition_bars, self.window)

    def gap(self, song: Song, spans: list[tuple[int, int]], i: int) -> tuple[int, int]:
        """Frames [g0, g1) regenerated at boundary i: centred on it, or — where point moves lie — the free
        stretch touching the boundary nearest to centred, shortened if it must (down to 4 frames)."""
        a, h = spans[i][0], self.transition_half(song, spans, i)
        fixed = self._fixed_any
        if fixed is None or not fixed[max(0, a - 2 * h) : a + 2 * h].any():
            return a - h, a + h
        lo_lim, hi_lim = spans[i - 1][0] + 1, spans[i][1] - 1
        for length in range(2 * h, 3, -1):
            options = [(abs(k - length / 2), a - length + k, a + k) for k in range(length + 1)
                       if a - length + k >= lo_lim and a + k <= hi_lim and not fixed[a - length + k : a + k].any()]
            if options:
                return min(options)[1:]
        raise ChoreoError(f"the point moves at the end of section {i - 1} and the start of section {i} leave no room "
                          "for the transition between them; move one of them a beat or more away")

    def warp_span(self, song: Song, spans: list[tuple[int, int]], i: int) -> tuple[int, int]:
        """Frames [lo, hi) around boundary i that the beat warp retimes after the transition: the gap and its soft
        edges, widened to one bar on each side of the boundary but to at most half of either section. The travel
        between formations ends in a slow-down a bar-fraction after the gap; with fixed ends closer to it than
        that, the warp could not move it onto a beat."""
        a = spans[i][0]
        g0, g1 = self.gap(song, spans, i)
        bar = int(song.meter * 60.0 / max(song.tempo, 1e-6) * self.fps)
        lo = min(g0 - RAMP, max(a - bar, a - (spans[i - 1][1] - spans[i - 1][0]) // 2))
        hi = max(g1 + RAMP, min(a + bar, a + (spans[i][1] - spans[i][0]) // 2))
        return max(0, lo), min(spans[-1][1], hi)

    def edge_mask(self, song: Song, spans: list[tuple[int, int]]) -> np.ndarray:
        """[T] bool: the song's frames that transitions may change (`edge_frames`)."""
        out = np.zeros(spans[-1][1] if spans else 0, bool)
        for (a, b), (e0, e1) in zip(spans, self.edge_frames(song, spans), strict=True):
            out[a : a + e0] = True
            out[b - e1 : b] = True
        return out

    def edge_frames(self, song: Song, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Per section the frames at its start and at its end that transitions may change (gap + soft edge, and
        with beat sync the warp's span)."""
        out = []
        for i, (a, b) in enumerate(spans):
            start = end = 0
            if i > 0:
                g1 = self.gap(song, spans, i)[1] + RAMP
                start = max(0, (max(g1, self.warp_span(song, spans, i)[1]) if self.settings.beat_sync else g1) - a)
            if i + 1 < len(spans):
                g0 = self.gap(song, spans, i + 1)[0] - RAMP
                end = max(0, b - (min(g0, self.warp_span(song, spans, i + 1)[0]) if self.settings.beat_sync else g0))
            out.append((start, end))
        return out

    def _boundary_jobs(self, drafts: list[_Draft], gap: tuple[int, int], text: str,
                       frozen: Callable[[np.ndarray], np.ndarray] | None = None) -> list[tuple[FillJob, int]]:
        """One job per member regenerating frames gap=[g0, g1) from the context around it, the root along
        collision-free paths from where each member stands before the gap to where it stands after it.
        frozen(frame indices) -> bool: context frames that must stay exact (no soft edge on them)."""
        g0, g1 = gap
        total = len(drafts[0].joints)
        ctx = max(8, (self.window - (g1 - g0)) // 2)
        lo, hi = max(0, g0 - ctx), min(total, g1 + ctx)
        before, after = max(g0 - 1, 0), min(g1, total - 1)
        starts = np.stack([d.joints[before, 0, [0, 2]] for d in drafts])
        ends = np.stack([d.joints[after, 0, [0, 2]] for d in drafts])
        n = g1 - g0 + 2
        paths = transition_paths(starts, ends, n, clearance=reachable_clearance(starts, ends))[1:-1]
        u = smootherstep(np.linspace(0.0, 1.0, n)[1:-1])
        jobs = []
        for m, d in enumerate(drafts):
            joints = d.joints[lo:hi].copy()
            known = np.ones(hi - lo, bool)
            known[g0 - lo : g1 - lo] = False
            xz = joints[:, 0, [0, 2]].copy()
            xz[g0 - lo : g1 - lo] = paths[:, m]
            yaw = facing_angles(joints)
            y0, y1 = yaw[before - lo], yaw[after - lo]
            yaw[g0 - lo : g1 - lo] = y0 + ((y1 - y0 + np.pi) % (2 * np.pi) - np.pi) * u
            job = FillJob(joints, known, text, root_xz=xz, root_yaw=yaw, root_weight=1.0,
                          contacts=d.contacts[lo:hi].copy(),
                          frozen=frozen(np.arange(lo, hi)) if frozen is not None else None, planned_root=True)
            jobs.append((job, lo))
        return jobs

    def _fill_into(self, drafts: list[_Draft], jobs: list[tuple[FillJob, int, int]], seed: int,
                   progress: Progress | None) -> int:
        """Fill the jobs (job, first frame, member) — identical ones once — and write the frames back into
        the members' drafts; returns how many distinct jobs were sampled."""
        unique: dict[bytes, FillJob] = {}
        transforms: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # each job's input frame, from its key
        keyed = []
        for job, _, _ in jobs:
            key, q, o = _job_key(job)
            transforms[id(job)] = (q, o)
            keyed.append(unique.setdefault(key, job))
        self._fill(list(unique.values()), seed, "transitions", progress)
        for (job, lo, m), rep in zip(jobs, keyed, strict=True):
            if rep is not job:  # the same job up to a move and turn on stage: carry the result over
                q, o = transforms[id(job)]
                q_r, o_r = transforms[id(rep)]
                redo = rep.written
                new = undo_transform(apply_transform(rep.joints, q_r, o_r), q, o)
                job.joints[redo] = new[redo]
                job.contacts[redo] = rep.contacts[redo]
            drafts[m].seams.update(lo + f for f in rep.seams)
            written = lo + np.flatnonzero(rep.written)
            drafts[m].joints[written] = job.joints[written - lo]
            drafts[m].contacts[written] = job.contacts[written - lo]
        return len(unique)

    def transitions(self, song: Song, plan: Plan, spans: list[tuple[int, int]], drafts: list[_Draft],
                    progress: Progress | None = None) -> int:
        """Regenerate every member's frames within one bar of each section boundary (in place)."""
        self._warps = {}
        try:
            return self._transitions(song, plan, spans, drafts, progress)
        finally:
            self._warps = None

    def _transitions(self, song: Song, plan: Plan, spans: list[tuple[int, int]], drafts: list[_Draft],
                     progress: Progress | None) -> int:
        jobs: list[tuple[FillJob, int, int]] = []
        boundary: list[int] = []
        fixed = self._fixed_any
        frozen = None if fixed is None or not fixed.any() else (lambda idx: fixed[idx])  # moves come back exact
        for i in range(1, len(spans)):
            gap = self.gap(song, spans, i)
            for m, (job, lo) in enumerate(self._boundary_jobs(drafts, gap, plan.sections[i].prompt, frozen)):
                jobs.append((job, lo, m))
                boundary.append(i)
        resampling = self.settings.beat_sync and self.settings.transition_candidates > 1
        unfilled = [copy.deepcopy(job) for job, _, _ in jobs] if resampling else []  # to sample again from
        seed = self.settings.seed * 7919 + 2
        distinct = self._fill_into(drafts, jobs, seed, progress)
        if unfilled:
            with self._timed("beat sync"):
                fits = [self._transition_fit(song, spans, drafts[m], i)
                        for (_, _, m), i in zip(jobs, boundary, strict=True)]
            for attempt in range(1, self.settings.transition_candidates):
                redo = [k for k, fit in enumerate(fits) if fit[0] < self.settings.transition_target]
                if not redo:
                    break
                kept = {k: self._span_frames(drafts[jobs[k][2]], self.warp_span(song, spans, boundary[k]))
                        for k in redo}
                again = [(copy.deepcopy(unfilled[k]), jobs[k][1], jobs[k][2]) for k in redo]
                again_progress = (lambda _what, done, total: progress("transitions, sampled again", done, total)) \
                    if progress else None
                distinct += self._fill_into(drafts, again, seed + 101 * attempt, again_progress)
                with self._timed("beat sync"):
                    for k in redo:
                        m, i = jobs[k][2], boundary[k]
                        fit = self._transition_fit(song, spans, drafts[m], i)
                        if fit[0] > fits[k][0] and fit[1] <= fits[k][1]:
                            fits[k] = fit
                        else:  # the first sample lands more on the beat (or has fewer defects): put it back
                            self._put_span(drafts[m], self.warp_span(song, spans, i), kept[k])
        if self.settings.beat_sync:
            with self._timed("beat sync"):
                for i in range(1, len(spans)):
                    g0 = self.gap(song, spans, i)[0]
                    lo, hi = self.warp_span(song, spans, i)
                    self._warp_spans(song, drafts, [_free_span(d.fixed, lo, hi, g0) for d in drafts])
        return distinct

    def _transition_fit(self, song: Song, spans: list[tuple[int, int]], d: _Draft, i: int) -> tuple[float, int]:
        """(hit rate, defects) of a member's frames around boundary i once warped onto the beat by themselves."""
        lo, hi = self.warp_span(song, spans, i)
        lo, hi = max(0, lo), min(len(d.joints), hi)
        if hi - lo < 3:
            return 1.0, 0
        joints = _lock_outside(d.joints[lo:hi], d.contacts[lo:hi], d.fixed[lo:hi])
        warped = self._on_beat_clean(song, lo / self.fps, joints, d.contacts[lo:hi])[1][0]
        return self._hit_rate(song, lo / self.fps, warped, empty=1.0), _defects(warped, self.fps)

    @staticmethod
    def _span_frames(d: _Draft, span: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = span
        return d.joints[lo:hi].copy(), d.contacts[lo:hi].copy()

    @staticmethod
    def _put_span(d: _Draft, span: tuple[int, int], frames: tuple[np.ndarray, np.ndarray]) -> None:
        lo, hi = span
        d.joints[lo:hi], d.contacts[lo:hi] = frames

    def _warp_spans(self, song: Song, drafts: list[_Draft], spans: list[tuple[int, int]]) -> None:
        """Time-warp each member's frames spans[m] = [lo, hi) onto the beat grid, both ends fixed (in place).

        Each member is warped by itself, and the warp that speeds a fast stretch into a flick or a pop is narrowed,
        then left out: the clean-up would generate the stretch again off the beat (on a 3-minute song it made the
        same wrist flick in every repeat). Members warped differently are no longer where their walk put them at
        the same moment, so where the warps bring two pelvises closer than the walk's clearance (and closer than
        unwarped), every member's warp is narrowed, then left out."""
        pinned = {}
        for m, (d, (lo, hi)) in enumerate(zip(drafts, spans, strict=True)):
            lo, hi = max(0, lo), min(len(d.joints), hi)
            if hi - lo >= 3:  # pinned before the warp, as in materials
                joints = _lock_outside(d.joints[lo:hi], d.contacts[lo:hi], d.fixed[lo:hi])
                pinned[m] = (lo, hi, joints, _defects(joints, self.fps))

        def warp(m: int, narrowest: int) -> tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
            lo, hi, joints, had = pinned[m]
            return self._on_beat_clean(song, lo / self.fps, joints, drafts[m].contacts[lo:hi], narrowest, had)

        level = {m: warp(m, 0) for m in pinned}
        for narrowest in range(1, len(self._RATES)):
            warped = {m: (pinned[m][0], v[1][0]) for m, v in level.items()}
            if self._keeps_clearance([d.joints for d in drafts], warped):
                break
            level = {m: v if v[0] >= narrowest else warp(m, narrowest) for m, v in level.items()}
        for m, (_, (joints, contacts, _)) in level.items():
            lo, hi = pinned[m][:2]
            drafts[m].joints[lo:hi], drafts[m].contacts[lo:hi] = joints, contacts

    @staticmethod
    def _keeps_clearance(members: list[np.ndarray], changed: dict[int, tuple[int, np.ndarray]]) -> bool:
        """Whether members' changed spans (member -> (first frame, new joints)) keep every two pelvises
        MIN_CLEARANCE apart wherever the members' joints [T,22,3] (unchanged) did."""
        if len(members) < 2 or not changed:
            return True
        lo, hi = min(a for a, _ in changed.values()), max(a + len(j) for a, j in changed.values())
        before = np.stack([joints[lo:hi, 0, :] for joints in members], axis=1)
        after = before.copy()
        for m, (a, joints) in changed.items():
            after[a - lo : a - lo + len(joints), m] = joints[:, 0]
        near_before = min_pairwise_distance(before[..., [0, 2]])
        near_after = min_pairwise_distance(after[..., [0, 2]])
        return bool(np.all((near_after >= MIN_CLEARANCE) | (near_after >= near_before - 1e-9)))

    # ---- everything --------------------------------------------------------------------------------
    def compose(self, song: Song, plan: Plan, progress: Progress | None = None,
                moves: Mapping[str, Move] | None = None) -> Choreography:
        """The whole song danced; `moves` (name -> Move) holds the point moves the plan places."""
        t0 = time.perf_counter()
        self.timings = {}
        spans = section_frames(song, plan, self.fps)
        self._set_points(song, plan, spans, moves)
        self._fixed_any = None
        mats = self.materials(song, plan, spans, progress=progress)
        spots = self.spots(plan)
        drafts = self.drafts(song, plan, spans, mats, spots)
        self._fixed_any = np.any([d.fixed for d in drafts], axis=0)
        for i in range(1, len(spans)):
            self.gap(song, spans, i)  # no room for a transition fails before it is sampled
        self.distinct_transitions = self.transitions(song, plan, spans, drafts, progress)
        cuts = self.cuts(song, spans)
        members = self._finish(drafts, cuts, ~self.edge_mask(song, spans))
        members = self._clean(members, drafts, song, plan, spans, cuts, progress)
        self.timings["dancing"] = time.perf_counter() - t0
        return Choreography(song=song, plan=plan, fps=self.fps, members=members, spots=spots,
                            contacts=[d.contacts for d in drafts], sections=spans,
                            timings=dict(self.timings), before={k: v[0].raw for k, v in mats.items()},
                            seams=sorted(set().union(*(d.seams for d in drafts))),
                            edges=self.edge_frames(song, spans), points=self._placed(spans, spots))

    def _placed(self, spans: list[tuple[int, int]], spots: list[np.ndarray]) -> list[dict]:
        """The placements as danced (choreography.json `points`): a repeat dances its first's frames, so its
        moves start as far from its start as there; a canon member enters late; `mirrored` for the stage-right
        half of a mirror section."""
        first = {(p.section, p.point, p.member, p.at_beat): p.first - spans[p.section][0] for p in self.placements}
        out = []
        for p in self.placements:
            r = self._plan_sections[p.section].repeat_of
            d = p.to_dict(self._tempo, self.fps)
            sec = self._plan_sections[p.section]
            d["mirrored"] = bool(sec.move == "mirror" and len(spots[p.section]) > 1
                                 and spots[p.section][p.member, 0] < -1e-6)
            if r is not None and (r, p.point, p.member, p.at_beat) in first:
                shift = spans[p.section][0] + first[(r, p.point, p.member, p.at_beat)] - p.first
                d.update(start_frame=d["start_frame"] + shift, end_frame=d["end_frame"] + shift,
                         fixed_frames=[f + shift for f in d["fixed_frames"]])
            out.append(d)
        return out

    def regenerate(self, previous: Choreography, plan: Plan, index: int, progress: Progress | None = None,
                   moves: Mapping[str, Move] | None = None) -> Choreography:
        """Section `index` danced anew from `plan`; every frame outside it stays exactly as it was. Its
        first and last `transition_half` frames*2 are in-painted from the untouched neighbours."""
        t0 = time.perf_counter()
        self.timings = {}
        song = previous.song
        spans = section_frames(song, plan, self.fps)
        a, b = spans[index]
        self._set_points(song, plan, spans, moves, only=index)
        self._fixed_any = None
        mats = self.materials(song, plan, spans, only=[index], progress=progress)
        spots = [s.copy() for s in previous.spots]
        drafts = [_Draft(j.copy(), c.copy()) for j, c in zip(previous.members, previous.contacts, strict=True)]
        sec = plan.sections[index]
        self._place_section(song, plan, sec, (a, b), mats[index], spots[index], drafts, key=index)
        held = np.any([d.fixed for d in drafts], axis=0)
        outside = lambda idx: (idx < a) | (idx >= b) | held[idx]  # noqa: E731 - kept frames, and the moves
        for i in (index, index + 1):  # the start edge, then the end edge (they may overlap in a short section)
            if not 0 < i < len(spans):
                continue
            h = self.transition_half(song, spans, i)
            gap = (a, a + 2 * h) if i == index else (b - 2 * h, b)
            if any(d.fixed[gap[0] : gap[1]].any() for d in drafts):
                raise ChoreoError(f"--regenerate {index}: a point move lies in the section's first or last "
                                  f"{2 * h} frames, where it joins its neighbours; dance the whole plan instead")
            jobs = [(job, lo, m) for m, (job, lo) in
                    enumerate(self._boundary_jobs(drafts, gap, sec.prompt, frozen=outside))]
            self._fill_into(drafts, jobs, self.settings.seed * 7919 + 3 + i, progress)
        members = []
        cuts = sorted({a, b, *(c for c in self.cuts(song, spans) if a < c < b)})
        kept_outside = np.ones(len(previous.members[0]), bool)
        kept_outside[a:b] = False
        kept = kept_outside | ~self.edge_mask(song, spans)  # (the section's inner frames are its material's too)
        for d, old in zip(drafts, previous.members, strict=True):
            joints = _pin_pieces(d.joints, d.contacts, d.fixed, cuts, ~kept_outside)
            joints[:a], joints[b:] = old[:a], old[b:]
            # Pinning the new feet can move a foot at the section's first or last frame away from where the
            # kept neighbour leaves it: the new frames are faded onto the kept motion, as next to a point move.
            members.append(_fade_and_lift(joints, kept | d.fixed))
        # The new section's pops, turns and flicks generated again as `compose` does, its neighbours exact.
        cleaned = self._clean([m.copy() for m in members], drafts, song, plan, spans, cuts, progress, within=(a, b))
        members = [m if np.array_equal(c, m) else _fade_and_lift(c, kept | d.fixed)
                   for m, c, d in zip(members, cleaned, drafts, strict=True)]
        self.timings["dancing"] = time.perf_counter() - t0
        return Choreography(song=song, plan=plan, fps=self.fps, members=members, spots=spots,
                            contacts=[d.contacts for d in drafts], sections=spans, timings=dict(self.timings),
                            seams=sorted(set().union(*(d.seams for d in drafts))),
                            edges=self.edge_frames(song, spans), points=self._placed(spans, spots))

    def _finish(self, drafts: list[_Draft], cuts: list[int], inner: np.ndarray) -> list[np.ndarray]:
        """Feet on the floor (one floor per member) and planted feet pinned, piece by piece between `cuts`
        (the ends of every section's transition frames), the sections' interiors only where a point move's fade
        changed them, so a repeat's interior is pinned as its first's; then
        the transitions' frames faded onto the sections' `inner` frames at each cut. A foot planted across a cut is
        pinned in two places, one per piece: a jump at the cut (up to 36 cm in a frame) unless the transition's side
        meets the interior's. (A fade that would speed a fast wrist into a flick is left out.)"""
        t0 = time.perf_counter()
        # (An interior shorter than RAMP gives no velocity of its own to meet: a short section's is a frame or two.)
        held = inner.copy()
        for lo, hi in _runs(inner):
            held[lo:hi] = hi - lo >= RAMP
        out = []
        for d in drafts:
            # A member with point moves stands on their floor (every material was grounded to it already).
            if d.fixed.any():  # faded before the feet are pinned, which lifts any foot it pushed under the floor
                joints = _fade_into_fixed(d.joints, d.fixed)
                faded = np.abs(joints - d.joints).max(axis=(1, 2)) > 1e-6
            else:
                joints = ground(d.joints, d.contacts)
                faded = np.zeros(len(joints), bool)
            # A section's interior is its material placed on stage, pinned already (pinned again, its planted
            # stretches would end at the cuts and move the legs, and with them the beats the warp placed).
            joints = _pin_pieces(joints, d.contacts, d.fixed, cuts, ~inner | faded)
            keep = held | d.fixed
            for c in sorted({c for c in cuts if 0 < c < len(joints)}):  # each cut's transition side faded onto the
                # interior, unless that makes a defect
                lo, hi = max(0, c - 2 * RAMP), min(len(joints), c + 2 * RAMP)
                if keep[lo:hi].any() and not keep[lo:hi].all():
                    faded_cut = _fade_and_lift(joints[lo:hi], keep[lo:hi])
                    if _defects(faded_cut, self.fps) <= _defects(joints[lo:hi], self.fps):
                        joints[lo:hi] = faded_cut
            out.append(joints)
        self.timings["feet"] = time.perf_counter() - t0
        return out

    def _clean(self, members: list[np.ndarray], drafts: list[_Draft], song: Song, plan: Plan,
               spans: list[tuple[int, int]], cuts: list[int], progress: Progress | None,
               within: tuple[int, int] | None = None) -> list[np.ndarray]:
        """What the finished members still have as a pop, an instant turn or a flick in the frames transitions may
        change (`edge_frames`: where transitions meet warped spans and pinned feet), generated again from the
        finished motion with each section's prompt, its neighbours in-painted on both sides and point moves exact;
        then the feet of the changed frames pinned again as `_finish` pins them. Sections' inner frames are left as
        they are, so a repeat stays its first occurrence's (their material was cleaned in `_repair_warped`).
        within: only these frames may change (`regenerate`'s section)."""
        t0 = time.perf_counter()
        editable = self.edge_mask(song, spans)
        if within is not None:
            editable[: within[0]] = editable[within[1] :] = False
        section_of = np.minimum(np.searchsorted([b for _, b in spans], np.arange(len(editable)), side="right"),
                                len(spans) - 1)
        texts = [plan.sections[int(k)].prompt for k in section_of]
        for attempt in range(CLEAN_ATTEMPTS):  # what a repair leaves (or a refused repair) is tried from another draw
            jobs, owners = [], []
            for m in range(len(members)):
                d = drafts[m]
                job = FillJob(members[m], np.ones(len(members[m]), bool), plan.sections[0].prompt,
                              contacts=d.contacts.copy(), frozen=d.fixed.copy(), frame_texts=texts)
                job.written[:] = editable & ~d.fixed
                if defect_zone(job, self.fps, REPAIR_HALF, JUMP_METRES).any():
                    jobs.append(job)
                    owners.append(m)
            if not jobs:
                break
            before = [job.joints.copy() for job in jobs]
            self._fill(jobs, self.settings.seed * 7919 + 4 + 97 * attempt, "repair", progress)
            for m, job, old in zip(owners, jobs, before, strict=True):
                changed = np.abs(job.joints - old).max(axis=(1, 2)) > 1e-9
                # The pieces `_finish` pinned (a transition's frames lie in one piece) pinned again where they changed.
                pinned = _pin_pieces(job.joints, job.contacts, drafts[m].fixed, cuts, changed)
                self._rewarp(song, 0.0, pinned, job.contacts, changed, editable & ~drafts[m].fixed)
                # Never worse than it was: fewer defects, and the repaired root no closer to another member than
                # the clearance where it was not (a repaired dance-break start came within 0.4997 m).
                if _defects(pinned, self.fps) >= _defects(old, self.fps):
                    continue
                if self._keeps_clearance(members, {m: (0, pinned)}):
                    members[m] = pinned
                    drafts[m].contacts = job.contacts
        self.timings["clean-up"] = time.perf_counter() - t0
        return members

    def cuts(self, song: Song, spans: list[tuple[int, int]]) -> list[int]:
        """Where the feet are pinned piece by piece: the ends of every section's transition frames. Not the
        boundary itself, which lies inside its transition: a foot planted across it would be pinned to two places
        (a one-frame jump, the largest seam acceleration measured before)."""
        return [f for (a, b), (e0, e1) in zip(spans, self.edge_frames(song, spans), strict=True)
                for f in (a + e0, b - e1)]


def _job_key(job: FillJob) -> tuple[bytes, np.ndarray, np.ndarray]:
    """(key, q, origin): jobs equal up to a move and turn on stage share a key (their inputs in their own
    frame, to 0.1 mm); q, origin put the job's input in that frame."""
    q, o = facing_transform(job.joints)
    local = apply_transform(job.joints, q, o)
    xz = np.zeros((len(job.joints), 3))
    if job.root_xz is not None:
        xz[:, [0, 2]] = job.root_xz
        xz = apply_transform(xz[:, None], q, o)[:, 0] * np.array([1.0, 0.0, 1.0])
    h = hashlib.sha1()
    for part in (np.round(local[job.known], 4) + 0.0, job.known, np.round(xz[~job.known], 4) + 0.0,
                 np.round(job.root_yaw[~job.known] - facing_angles(job.joints[:1])[0], 4) + 0.0
                 if job.root_yaw is not None else np.zeros(0), job.frozen, job.text.encode()):
        h.update(part.tobytes() if isinstance(part, np.ndarray) else part)
    return h.digest(), q, o
