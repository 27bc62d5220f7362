"""What a finished choreography measures: beat fit (before/after the warp, each with its controls), energy
following the song, seams, repeats, spacing, feet, facing — and the printed summary of `choreo dance`.

Numbers only: reads joints and the song, never the model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from choreo.choreography.beat_sync import BeatScore, beat_score
from choreo.choreography.formations import min_pairwise_distance
from choreo.metrics.beat_alignment import joint_speeds
from choreo.metrics.foot import skating_ratio_motionlcm
from choreo.metrics.plausibility import pops, transition_accel, transition_speed
from choreo.music.song import Song
from choreo.quaternion import qrot, qyaw
from choreo.representation import facing_angles

TOLERANCE_S = 0.1


def body_frame(joints: np.ndarray) -> np.ndarray:
    """Joints [T,22,3] in the body's own frame: root over the origin, facing +Z (pose without stage place)."""
    out = joints - joints[:, :1] * np.array([1.0, 0.0, 1.0])
    turn = np.broadcast_to(qyaw(-facing_angles(joints))[:, None], out.shape[:-1] + (4,))
    return qrot(turn, out)


def _combine(scores: Sequence[BeatScore]) -> dict:
    """Scores of several stretches pooled, weighting each by its number of motion beats."""
    w = np.array([s.motion_beats for s in scores], dtype=float)
    if w.sum() == 0:
        return {"hit_rate": 0.0, "hit_rate_chance": 0.0, "hit_rate_half_beat": 0.0, "motion_beats": 0}
    avg = lambda f: float(np.average([getattr(s, f) for s in scores], weights=w))  # noqa: E731
    return {"hit_rate": avg("hit_rate"), "hit_rate_chance": avg("hit_rate_chance"),
            "hit_rate_half_beat": avg("hit_rate_half_beat"), "bas": avg("bas"), "bas_chance": avg("bas_chance"),
            "bas_half_beat": avg("bas_half_beat"), "motion_beats": int(w.sum())}


def beat_report(members: Sequence[np.ndarray], fps: float, song: Song,
                before: dict[int, np.ndarray] | None, sections: Sequence[tuple[int, int]],
                material_of: Sequence[int]) -> dict:
    """Kinematic beats within 100 ms of a music beat: after (the finished members over the whole song) and
    before (each section's chosen material as sampled, before the time warp), each with chance level and the
    half-beat-shifted grid."""
    after = _combine([beat_score(j, fps, song.beats, tolerance=TOLERANCE_S) for j in members])
    out = {"tolerance_s": TOLERANCE_S, "after": after}
    if before:
        scores = []
        for (a, b), key in zip(sections, material_of, strict=True):
            raw = before.get(key)
            if raw is None:
                continue
            seg = raw[: b - a]
            start = a / fps
            scores.append(beat_score(seg, fps, song.beats_in(start, b / fps) - start, tolerance=TOLERANCE_S))
        out["before"] = _combine(scores)
    return out


def energy_report(members: Sequence[np.ndarray], fps: float, song: Song, sections: Sequence[tuple[int, int]]
                  ) -> dict:
    """Pearson correlation between each section's music energy and the dancers' mean joint speed in it."""
    speed = np.mean([joint_speeds(j, fps).mean(axis=1) for j in members], axis=0)
    energy = [s.energy for s in song.sections]
    vigour = [float(speed[a:b].mean()) for a, b in sections]
    r = float(np.corrcoef(energy, vigour)[0, 1]) if len(sections) > 2 and np.std(vigour) > 0 else float("nan")
    return {"correlation": r, "sections": [{"energy": round(e, 3), "mean_joint_speed": round(v, 3)}
                                           for e, v in zip(energy, vigour, strict=True)]}


def seam_stats(members: Sequence[np.ndarray], fps: float, seams: Sequence[int]) -> dict:
    """Joint speed and acceleration at the frames where stitched pieces meet, against the range inside
    windows (everything else): the worst seam's values and their percentile among the others, the largest
    in-window values, and the share of seams above the in-window 99th percentile (about 1 % if seams were
    like any other frame; the worst of hundreds of seams is at a high percentile by chance alone)."""
    speeds, accels, inside_v, inside_a = [], [], [], []
    for j in members:
        v = transition_speed(j, fps)  # [T-1], transition t -> t+1
        a = transition_accel(j, fps)  # [T-2]
        mask = np.ones(len(v), bool)
        for s in seams:
            if 1 <= s < len(j) - 1:
                speeds.append(v[s - 1])
                accels.append(max(a[s - 2] if s >= 2 else 0.0, a[min(s - 1, len(a) - 1)]))
                mask[max(0, s - 2) : s + 1] = False
        inside_v.append(v[mask])
        inside_a.append(a[mask[: len(a)]])
    iv, ia = np.concatenate(inside_v), np.concatenate(inside_a)
    if not speeds:
        return {"seams": 0}
    v99, a99 = float(np.percentile(iv, 99)), float(np.percentile(ia, 99))
    return {
        "seams": len(speeds),
        "seam_speed_max": float(max(speeds)), "seam_speed_median": float(np.median(speeds)),
        "inside_speed_median": float(np.median(iv)), "inside_speed_p99": v99,
        "seam_accel_max": float(max(accels)), "inside_accel_p99": a99,
        "worst_seam_speed_percentile": float((iv < max(speeds)).mean() * 100),
        "worst_seam_accel_percentile": float((ia < max(accels)).mean() * 100),
        "inside_speed_max": float(iv.max()), "inside_accel_max": float(ia.max()),
        "seams_above_inside_speed_p99": float((np.array(speeds) > v99).mean()),
        "seams_above_inside_accel_p99": float((np.array(accels) > a99).mean()),
    }


def repeat_report(members: Sequence[np.ndarray], plan_sections, sections: Sequence[tuple[int, int]],
                  edge_frames: Sequence[tuple[int, int]]) -> dict:
    """For every repeated section: the largest pose difference (body frame, any joint, any member) to its first
    occurrence outside its transition frames (edge_frames[i] = frames changed at its start and end)."""
    rows = []
    for i, sec in enumerate(plan_sections):
        if sec.repeat_of is None:
            continue
        f = sec.repeat_of
        (a, b), (fa, fb) = sections[i], sections[f]
        lo = max(edge_frames[i][0], edge_frames[f][0])
        hi = max(edge_frames[i][1], edge_frames[f][1])
        n = min(b - a, fb - fa) - hi
        if n <= lo:
            continue
        diff = max(float(np.linalg.norm(body_frame(j[a + lo : a + n]) - body_frame(j[fa + lo : fa + n]),
                                        axis=-1).max()) for j in members)
        rows.append({"section": i, "first": f, "frames_compared": n - lo, "max_pose_difference_m": diff})
    return {"repeats": rows, "worst_m": max((r["max_pose_difference_m"] for r in rows), default=None)}


def stage_report(members: Sequence[np.ndarray], fps: float) -> dict:
    pelvis = np.stack([j[:, 0, [0, 2]] for j in members], axis=1)
    yaw = np.stack([facing_angles(j) for j in members])
    facing = np.abs((yaw + np.pi) % (2 * np.pi) - np.pi) < np.radians(60)
    out = {"facing_audience_fraction": float(facing.mean()),
           "foot_skating_motionlcm": [float(skating_ratio_motionlcm(j, fps)) for j in members],
           "pops": [len(pops(j, fps)) for j in members]}
    if len(members) > 1:
        d = min_pairwise_distance(pelvis)
        out["min_pelvis_distance_m"] = float(d.min())
    return out


def summary_text(report: dict, plan, seconds: float) -> str:
    """The lines `choreo dance` prints."""
    lines = [f"{len(plan.sections)} sections, {plan.members} members, style {plan.style}:"]
    for s in plan.sections:
        rep = f" = section {s.repeat_of}" if s.repeat_of is not None else ""
        lines.append(f"  {s.index:2d} {s.label:>2} {s.kind:<11} {s.start:6.1f}-{s.end:6.1f} s  {s.bars:2d} bars  "
                     f"{s.formation:<16} {s.move:<10}{rep}")
    b = report.get("beats", {})

    def line(name: str, d: dict) -> str:
        return (f"  {name}: {d['hit_rate'] * 100:.0f}% of kinematic beats within {b['tolerance_s'] * 1000:.0f} ms "
                f"of a music beat (chance {d['hit_rate_chance'] * 100:.0f}%, half-beat-shifted grid "
                f"{d['hit_rate_half_beat'] * 100:.0f}%)")

    lines.append("beats:")
    if "before" in b:
        lines.append(line("before sync", b["before"]))
    lines.append(line("after sync ", b["after"]))
    e = report.get("energy", {})
    if e:
        lines.append(f"energy: section energy vs dancers' mean joint speed, r = {e['correlation']:.2f}")
    st = report.get("stage", {})
    if "min_pelvis_distance_m" in st:
        lines.append(f"stage: closest two members {st['min_pelvis_distance_m']:.2f} m apart, facing the audience "
                     f"{st['facing_audience_fraction'] * 100:.0f}% of the time")
    r = report.get("repeats", {})
    if r.get("worst_m") is not None:
        lines.append(f"repeats: {len(r['repeats'])} repeated sections, largest pose difference outside "
                     f"transitions {r['worst_m'] * 100:.2f} cm")
    sm = report.get("seams", {})
    if sm.get("seams"):
        share = (f"{sm['seams_above_inside_speed_p99'] * 100:.0f}% faster and "
                 f"{sm['seams_above_inside_accel_p99'] * 100:.0f}% accelerating harder than 99% of the frames inside "
                 "windows (1% if seams were like any frame); " if "seams_above_inside_speed_p99" in sm else "")
        lines.append(f"seams: {sm['seams']}; {share}the worst one's speed at the "
                     f"{sm['worst_seam_speed_percentile']:.1f}th percentile, its acceleration at the "
                     f"{sm['worst_seam_accel_percentile']:.1f}th")
    lines.append(f"time: {seconds:.1f} s")
    return "\n".join(lines)


def measure(ch) -> dict:
    """Every number above for a finished `Choreography` (stored as its `report`)."""
    material_of = [s.index if s.repeat_of is None else s.repeat_of for s in ch.plan.sections]
    return {
        "beats": beat_report(ch.members, ch.fps, ch.song, ch.before, ch.sections, material_of),
        "energy": energy_report(ch.members, ch.fps, ch.song, ch.sections),
        "seams": seam_stats(ch.members, ch.fps, ch.seams),
        "repeats": repeat_report(ch.members, ch.plan.sections, ch.sections, ch.edges),
        "stage": stage_report(ch.members, ch.fps),
        "timings_s": {k: round(v, 2) for k, v in ch.timings.items()},
    }
