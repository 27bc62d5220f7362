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
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from choreo.choreography.beat_sync import beat_score, beat_warp
from choreo.choreography.choreography import Choreography
from choreo.choreography.formations import assign_members, formation_spots, smootherstep, transition_paths
from choreo.choreography.plan import Plan, SectionPlan
from choreo.foot_contact import ground, lock_feet
from choreo.generate import Generator
from choreo.infill import RAMP, FillJob, fill
from choreo.metrics.beat_alignment import joint_speeds
from choreo.music.song import Song
from choreo.representation import apply_transform, facing_angles, facing_transform, undo_transform
from choreo.skeleton import FPS, mirror_joints

Progress = Callable[[str, int, int], None]


@dataclass
class ComposeSettings:
    candidates: int = 3  # samples per distinct section, ranked by beat and energy fit
    material_root_weight: float = 0.5  # how strongly material is held in place (0 free .. 1 pelvis fixed)
    transition_bars: float = 0.5  # frames regenerated on each side of a boundary, in bars; with the soft edge
    # at most one bar changes at each end of a section (so a repeated chorus is the same apart from that)
    beat_sync: bool = True
    # Ranking: beat hit rate minus this times the energy misfit. On the demo song 1.0 gave beats 65 % / energy
    # r 0.74, 0.5 gave 68 % / 0.58, 0.3 (4 candidates) 70 % / 0.62.
    energy_weight: float = 0.5
    steps: int | None = None
    # Transition windows are mostly given frames: 10 steps dance them as well as 20 (measured on the demo song:
    # beat hit rate 0.64 vs 0.65, the same pops and seams) in half the time.
    transition_steps: int | None = 10
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


@dataclass
class _Draft:
    joints: np.ndarray  # [T,22,3]
    contacts: np.ndarray  # [T,4]
    seams: set[int] = field(default_factory=set)  # frames where stitched pieces meet


def section_frames(song: Song, plan: Plan, fps: float = FPS) -> list[tuple[int, int]]:
    """Frame span [a, b) of every section on the song's frame grid."""
    total = int(round(song.duration * fps))
    spans = []
    for s in plan.sections:
        a, b = int(round(s.start * fps)), min(total, int(round(s.end * fps)))
        spans.append((a, b))
    return spans


def _material_key(s: SectionPlan) -> int:
    return s.index if s.repeat_of is None else s.repeat_of


def _beats_rel(song: Song, start: float, length: float) -> tuple[np.ndarray, np.ndarray]:
    beats = song.beats_in(start, start + length) - start
    downbeats = song.downbeats_in(start, start + length) - start
    return beats, downbeats


def _mean_speed(joints: np.ndarray, fps: float) -> float:
    return float(joint_speeds(joints, fps).mean()) if len(joints) > 2 else 0.0


class Composer:
    """Composes choreographies with one loaded `Generator` (choreo.generate)."""

    def __init__(self, generator: Generator, settings: ComposeSettings | None = None) -> None:
        self.gen = generator
        self.settings = settings or ComposeSettings()
        self.window = generator.window
        self.fps = FPS
        self.timings: dict[str, float] = {}

    # ---- sampling --------------------------------------------------------------------------------
    def _fill(self, jobs: list[FillJob], seed: int, what: str, progress: Progress | None) -> None:
        s = self.settings
        t0 = time.perf_counter()

        def sample_rows(texts, values, weight, seed=None, progress=None):
            steps = s.steps
            if what == "transitions" and s.transition_steps:
                steps = min(s.transition_steps, s.steps or s.transition_steps)
            return self.gen.sample_rows(texts, values, weight, steps=steps, guidance=s.guidance, seed=seed,
                                        progress=progress)

        def tick(done: int, total: int) -> None:
            if progress:
                progress(what, done, total)

        fill(sample_rows, self.gen.bundle.normalizer.normalize, jobs, self.window,
             facing=self.gen.bundle.root_facing, seed=seed, progress=tick)
        self.timings[what] = self.timings.get(what, 0.0) + time.perf_counter() - t0

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
        jobs, owners = [], []
        for key, length in lengths.items():
            sec = plan.sections[key]
            count = max(s.candidates, plan.members if sec.move == "individual" else 1)
            for _ in range(count):
                jobs.append(FillJob(np.zeros((length, 22, 3)), np.zeros(length, bool), sec.prompt,
                                    root_weight=s.material_root_weight))
                owners.append(key)
        self._fill(jobs, s.seed * 7919 + 1 + (0 if only is None else 1000 + only[0]), "material", progress)
        t0 = time.perf_counter()
        out: dict[int, list[Material]] = {}
        for key, job in zip(owners, jobs, strict=True):
            sec = plan.sections[key]
            # Feet are pinned before the warp: pinning moves the legs, which moves the kinematic beats the
            # warp put on the music's beats; a pinned foot stays pinned under a time warp.
            raw = lock_feet(ground(job.joints, job.contacts), job.contacts)
            joints, contacts = raw, job.contacts
            if s.beat_sync:
                beats, downbeats = _beats_rel(song, sec.start, len(raw) / self.fps)
                joints, source = beat_warp(raw, self.fps, beats, downbeats)
                contacts = contacts[np.clip(np.rint(source * self.fps).astype(int), 0, len(raw) - 1)]
            out.setdefault(key, []).append(Material(joints, contacts, raw, seams=sorted(set(job.seams))))
        self._rank(song, plan, out)
        self.timings["beat sync"] = self.timings.get("beat sync", 0.0) + time.perf_counter() - t0
        return out

    def _rank(self, song: Song, plan: Plan, out: dict[int, list[Material]]) -> None:
        speeds = {k: [_mean_speed(m.joints, self.fps) for m in ms] for k, ms in out.items()}
        allv = np.concatenate([np.asarray(v) for v in speeds.values()])
        lo, hi = np.percentile(allv, 10), np.percentile(allv, 90)
        span = max(hi - lo, 1e-6)
        for key, ms in out.items():
            sec = plan.sections[key]
            beats, _ = _beats_rel(song, sec.start, len(ms[0].joints) / self.fps)
            target = lo + sec.energy * span
            for m, v in zip(ms, speeds[key], strict=True):
                hit = beat_score(m.joints, self.fps, beats).hit_rate if len(beats) else 0.0
                m.score = hit - self.settings.energy_weight * abs(v - target) / span
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
               length: int, beat_frames: float) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Member's motion for one section in the material's frame (origin, facing +Z), its contacts and seams."""
        move = sec.move if plan.members > 1 else "unison"
        m = mats[member % len(mats) if move == "individual" else 0]
        joints, contacts = m.joints, m.contacts
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
                seams = [delay] + [f + delay for f in seams]
        return joints[:length], contacts[:length], [f for f in seams if 0 < f < length]

    def _place_section(self, song: Song, plan: Plan, sec: SectionPlan, span: tuple[int, int],
                       mats: list[Material], spots: np.ndarray, drafts: list[_Draft]) -> None:
        """Write every member's piece of one section, standing on its spot, into the drafts (in place)."""
        a, b = span
        beat_frames = 60.0 / max(song.tempo, 1e-6) * self.fps
        for m, d in enumerate(drafts):
            joints, contacts, seams = self._piece(plan, sec, mats, m, spots[m, 0], b - a, beat_frames)
            d.joints[a:b] = joints + np.array([spots[m, 0], 0.0, spots[m, 1]])
            d.contacts[a:b] = contacts
            d.seams.update(a + f for f in seams)

    def drafts(self, song: Song, plan: Plan, spans: list[tuple[int, int]], mats: dict[int, list[Material]],
               spots: list[np.ndarray]) -> list[_Draft]:
        total = spans[-1][1]
        drafts = [_Draft(np.zeros((total, 22, 3)), np.zeros((total, 4))) for _ in range(plan.members)]
        for sec, span, section_spots in zip(plan.sections, spans, spots, strict=True):
            self._place_section(song, plan, sec, span, mats[_material_key(sec)], section_spots, drafts)
        return drafts

    # ---- 4: transitions --------------------------------------------------------------------------
    def transition_half(self, song: Song, spans: list[tuple[int, int]], i: int) -> int:
        """Frames regenerated on each side of boundary i (between sections i-1 and i)."""
        bar = song.meter * 60.0 / max(song.tempo, 1e-6) * self.fps
        h = min(int(round(self.settings.transition_bars * bar)), int(bar) - RAMP)
        shortest = min(spans[i - 1][1] - spans[i - 1][0], spans[i][1] - spans[i][0])
        return max(2, min(h, shortest // 3, (self.window - 2 * 8) // 2 - 1))

    def edge_frames(self, song: Song, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Per section the frames at its start and at its end that transitions may change (gap + soft edge)."""
        out = []
        for i in range(len(spans)):
            start = self.transition_half(song, spans, i) + RAMP if i > 0 else 0
            end = self.transition_half(song, spans, i + 1) + RAMP if i + 1 < len(spans) else 0
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
        paths = transition_paths(starts, ends, n)[1:-1]
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
                          frozen=frozen(np.arange(lo, hi)) if frozen is not None else None)
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
        jobs: list[tuple[FillJob, int, int]] = []
        for i in range(1, len(spans)):
            a, h = spans[i][0], self.transition_half(song, spans, i)
            for m, (job, lo) in enumerate(self._boundary_jobs(drafts, (a - h, a + h), plan.sections[i].prompt)):
                jobs.append((job, lo, m))
        distinct = self._fill_into(drafts, jobs, self.settings.seed * 7919 + 2, progress)
        if self.settings.beat_sync:
            t0 = time.perf_counter()
            for i in range(1, len(spans)):
                a, h = spans[i][0], self.transition_half(song, spans, i)
                for d in drafts:
                    self._warp_span(song, d, (a - h - RAMP, a + h + RAMP))
            self.timings["beat sync"] = self.timings.get("beat sync", 0.0) + time.perf_counter() - t0
        return distinct

    def _warp_span(self, song: Song, d: _Draft, span: tuple[int, int]) -> None:
        """Time-warp the member's frames [lo, hi) onto the beat grid, both ends fixed (in place)."""
        lo, hi = max(0, span[0]), min(len(d.joints), span[1])
        beats, downbeats = _beats_rel(song, lo / self.fps, (hi - lo) / self.fps)
        pinned = lock_feet(d.joints[lo:hi], d.contacts[lo:hi])  # before the warp, as for the material
        warped, source = beat_warp(pinned, self.fps, beats, downbeats)
        d.joints[lo:hi] = warped
        d.contacts[lo:hi] = d.contacts[lo:hi][np.clip(np.rint(source * self.fps).astype(int), 0, hi - lo - 1)]

    # ---- everything --------------------------------------------------------------------------------
    def compose(self, song: Song, plan: Plan, progress: Progress | None = None) -> Choreography:
        t0 = time.perf_counter()
        self.timings = {}
        spans = section_frames(song, plan, self.fps)
        mats = self.materials(song, plan, spans, progress=progress)
        spots = self.spots(plan)
        drafts = self.drafts(song, plan, spans, mats, spots)
        self.distinct_transitions = self.transitions(song, plan, spans, drafts, progress)
        members = self._finish(drafts, self.cuts(song, spans))
        self.timings["dancing"] = time.perf_counter() - t0
        return Choreography(song=song, plan=plan, fps=self.fps, members=members, spots=spots,
                            contacts=[d.contacts for d in drafts], sections=spans,
                            timings=dict(self.timings), before={k: v[0].raw for k, v in mats.items()},
                            seams=sorted(set().union(*(d.seams for d in drafts))),
                            edges=self.edge_frames(song, spans))

    def regenerate(self, previous: Choreography, plan: Plan, index: int, progress: Progress | None = None
                   ) -> Choreography:
        """Section `index` danced anew from `plan`; every frame outside it stays exactly as it was. Its
        first and last `transition_half` frames*2 are in-painted from the untouched neighbours."""
        t0 = time.perf_counter()
        self.timings = {}
        song = previous.song
        spans = section_frames(song, plan, self.fps)
        a, b = spans[index]
        mats = self.materials(song, plan, spans, only=[index], progress=progress)
        spots = [s.copy() for s in previous.spots]
        drafts = [_Draft(j.copy(), c.copy()) for j, c in zip(previous.members, previous.contacts, strict=True)]
        sec = plan.sections[index]
        self._place_section(song, plan, sec, (a, b), mats[index], spots[index], drafts)
        outside = lambda idx: (idx < a) | (idx >= b)  # noqa: E731
        for i in (index, index + 1):  # the start edge, then the end edge (they may overlap in a short section)
            if not 0 < i < len(spans):
                continue
            h = self.transition_half(song, spans, i)
            gap = (a, a + 2 * h) if i == index else (b - 2 * h, b)
            jobs = [(job, lo, m) for m, (job, lo) in
                    enumerate(self._boundary_jobs(drafts, gap, sec.prompt, frozen=outside))]
            self._fill_into(drafts, jobs, self.settings.seed * 7919 + 3 + i, progress)
        members = []
        for d, old in zip(drafts, previous.members, strict=True):
            joints = d.joints.copy()
            cuts = sorted({a, b, *(c for c in self.cuts(song, spans) if a < c < b)})
            for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
                joints[lo:hi] = lock_feet(d.joints[lo:hi], d.contacts[lo:hi])
            joints[:a], joints[b:] = old[:a], old[b:]
            members.append(joints)
        self.timings["dancing"] = time.perf_counter() - t0
        return Choreography(song=song, plan=plan, fps=self.fps, members=members, spots=spots,
                            contacts=[d.contacts for d in drafts], sections=spans, timings=dict(self.timings),
                            seams=sorted(set().union(*(d.seams for d in drafts))),
                            edges=self.edge_frames(song, spans))

    def _finish(self, drafts: list[_Draft], cuts: list[int]) -> list[np.ndarray]:
        """Feet on the floor (one floor per member) and planted feet pinned, piece by piece between `cuts`
        (the ends of every section's transition frames), so a repeat's interior is pinned as its first's."""
        t0 = time.perf_counter()
        out = []
        for d in drafts:
            joints = ground(d.joints, d.contacts)
            bounds = sorted({0, len(joints), *(c for c in cuts if 0 < c < len(joints))})
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
                joints[lo:hi] = lock_feet(joints[lo:hi], d.contacts[lo:hi])
            out.append(joints)
        self.timings["feet"] = time.perf_counter() - t0
        return out

    def cuts(self, song: Song, spans: list[tuple[int, int]]) -> list[int]:
        return [f for (a, b), (e0, e1) in zip(spans, self.edge_frames(song, spans), strict=True)
                for f in (a, a + e0, b - e1)]


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
