"""Run every metric on a set of generated clips and a set of reference clips: one plain, JSON-ready dict.

Protocol (docs/EVALUATION.md): every clip is cut into non-overlapping 5-s windows at its own fps.
Set-level metrics (FID, Div) use root-relative windows; per-window metrics (jitter, foot, bones, speed)
use world-coordinate windows (floor at y = 0) and are averaged over windows. BAS is computed on each
whole generated clip against the song's beats (clip and song both start at t = 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from choreo.metrics import beat_alignment, fid, foot, geometric, kinetic, skeleton_checks, smoothness
from choreo.metrics.windows import MIN_WINDOW_SECONDS, WINDOW_SECONDS, cut_windows
from choreo.motion import Motion

NOT_COMPARABLE = ("22 joints at the clip's fps (20), our own feature definitions: NOT comparable with "
                  "published numbers (24 SMPL joints, 60 fps)")

# Smallest reference std used in z-scoring: kinetic energies are never constant in real data (Bailando's
# 1e-10 suffices); a geometric fraction can be (a predicate that never holds), so floor it at 1 % of frames.
STD_FLOORS = {"k": 0.0, "g": 0.01}

PROTOCOLS: dict[str, str] = {
    "fid_k": "Fréchet distance of 66-d kinetic features (per joint: mean |v_xz|², mean v_y², mean |a|) of "
             "root-relative 5-s windows, both sets z-scored with the reference mean/std; lower is better. "
             + NOT_COMPARABLE,
    "fid_g": "Fréchet distance of 32-d geometric features (fraction of frames each Müller-style pose "
             "predicate holds) of 5-s windows, z-scored with the reference stats (std floored at 0.01); "
             "lower is better. "
             + NOT_COMPARABLE,
    "div_k": "Mean pairwise Euclidean distance between z-scored kinetic features of the set's 5-s windows "
             "(reference stats); closer to the reference is better. " + NOT_COMPARABLE,
    "div_g": "Mean pairwise distance between z-scored geometric features of the set's 5-s windows "
             "(reference stats); closer to the reference is better. " + NOT_COMPARABLE,
    "mean_speed": "Mean joint speed (m/s, central differences), averaged over frames, joints and windows; "
                  "an energy check against the reference.",
    "jitter": "Mean jerk magnitude ‖d³x/dt³‖ (m/s³) over frames, joints and 5-s windows; lower is smoother.",
    "pfc": "EDGE Physical Foot Contact on 5-s windows: 10⁴·mean(v_L·v_R·â_root), foot speeds as per-frame "
           "displacement at 30 fps; lower is better (EDGE reports ≈1.33 for AIST++ ground truth).",
    "skating_lodge": "Lodge/FineDance foot skating: sliding contact frames / contact frames per foot "
                     "(contact: ankle ≤ 8 cm, toe ≤ 5 cm above the window's lowest joint; slide: "
                     "|mean(v_x, v_z)| > 0.3 m/s), averaged over feet and 5-s windows.",
    "skating_motionlcm": "MotionLCM foot skating: frames where a toe below 5 cm (floor y = 0) moves "
                         "> 0.5 m/s (also after a 5-frame uniform filter) / (T−1), averaged over 5-s "
                         "windows.",
    "skating_motionlcm_grounded": "MotionLCM foot skating of each window put on the floor as generated motion is "
                                  "(planted toes at 2 cm; metrics.foot.grounded_as_generated). The fair "
                                  "reference for generated motion: captured feet often stand a few cm higher, "
                                  "above the 5-cm line (CMU dance: 0.05 as captured, 0.20 grounded).",
    "penetration_mean_m": "Mean depth (m) of the lowest joint below the floor y = 0, over frames and "
                          "windows.",
    "penetration_max_m": "Largest depth (m) of any joint below the floor y = 0 in any window.",
    "penetration_frames": "Fraction of frames with a joint more than 1 cm below the floor.",
    "bone_std_m": "Bone-length std over frames (m), averaged over the 21 bones and 5-s windows; 0 for a "
                  "rigid skeleton.",
    "bone_max_rel_dev": "Largest relative deviation of any bone from its median length, over all windows.",
    "bone_stretched_windows": "Fraction of 5-s windows where some bone deviates > 5 % from its median "
                              "length.",
    "bone_canonical_dev": "Worst relative deviation of a bone's median length from the canonical skeleton's, "
                          "averaged over 5-s windows (0 for motion on the canonical skeleton; imported "
                          "clips keep their own proportions).",
    "bas_bailando": "Bailando BAS: mean over music beats of exp(−d²/2σ²), σ = 50 ms, d = distance to the "
                    "nearest minimum of the smoothed mean joint speed; whole generated clips vs the song.",
    "bas_bailando_chance": "Bailando BAS with the music beats replaced by as many uniformly random times "
                           "(mean of 1000 draws, seed 0): the score of an unaligned dance.",
    "bas_bailando_offset": "Bailando BAS with the real beat grid shifted by a random offset in [0, one beat) "
                           "(1000 draws, seed 0): same tempo, wrong phase.",
    "bas_fact": "FACT/POPDG BAS: mean over motion beats (speed minima over ±3 frames at 20 fps) of "
                "exp(−d²/2σ²), σ = 50 ms, d = distance to the nearest music beat.",
    "bas_fact_chance": "FACT/POPDG BAS with uniformly random music beats of the same count (1000 draws, "
                       "seed 0).",
    "bas_fact_offset": "FACT/POPDG BAS with the beat grid shifted by a random offset in [0, one beat).",
}

UNITS: dict[str, str] = {
    "fid_k": "", "fid_g": "", "div_k": "", "div_g": "", "mean_speed": "m/s", "jitter": "m/s³", "pfc": "",
    "skating_lodge": "ratio", "skating_motionlcm": "ratio",
    "skating_motionlcm_grounded": "ratio", "penetration_mean_m": "m",
    "penetration_max_m": "m", "penetration_frames": "ratio", "bone_std_m": "m", "bone_max_rel_dev": "ratio",
    "bone_stretched_windows": "ratio", "bone_canonical_dev": "ratio", "bas_bailando": "score",
    "bas_bailando_chance": "score",
    "bas_bailando_offset": "score", "bas_fact": "score", "bas_fact_chance": "score",
    "bas_fact_offset": "score",
}


def _clean(value: float | None) -> float | None:
    """JSON-safe float: NaN/inf → None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _nanmean(values: Sequence[float]) -> float | None:
    arr = np.asarray([v for v in values if v is not None], dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if arr.size else None


class WindowSet:
    """The 5-s windows of one set of clips and everything measured on each window."""

    def __init__(self, motions: Sequence[Motion], seconds: float = WINDOW_SECONDS) -> None:
        self.clips = len(motions)
        self.seconds = float(sum(m.seconds for m in motions))
        kin, geo, per_window = [], [], []
        for m in motions:
            for rel, world in zip(cut_windows(m.joints, m.fps, seconds),
                                  cut_windows(m.joints, m.fps, seconds, relative=False), strict=True):
                kin.append(kinetic.kinetic_features(rel, m.fps))
                geo.append(geometric.geometric_features(rel, m.fps))
                per_window.append(_window_metrics(world, m.fps))
        self.windows = len(per_window)
        self.kinetic = np.array(kin).reshape(len(kin), -1)
        self.geometric = np.array(geo).reshape(len(geo), -1)
        self.per_window = per_window

    def summary(self) -> dict[str, float | None]:
        """Per-window metrics reduced over windows (mean; max for the worst-case ones)."""
        out: dict[str, float | None] = {}
        if not self.per_window:
            return dict.fromkeys(_WINDOW_KEYS)
        for key in _WINDOW_KEYS:
            values = [w[key] for w in self.per_window]
            out[key] = _clean(np.nanmax(values)) if key in _MAX_KEYS else _nanmean(values)
        return out


_WINDOW_KEYS = ("mean_speed", "jitter", "pfc", "skating_lodge", "skating_motionlcm", "skating_motionlcm_grounded",
                "penetration_mean_m",
                "penetration_max_m", "penetration_frames", "bone_std_m", "bone_max_rel_dev",
                "bone_stretched_windows", "bone_canonical_dev")
_MAX_KEYS = ("penetration_max_m", "bone_max_rel_dev")


def _window_metrics(joints: np.ndarray, fps: float) -> dict[str, float]:
    pen = foot.floor_penetration(joints)
    bones = skeleton_checks.bone_length_report(joints)
    return {
        "mean_speed": float(kinetic.mean_joint_speed(joints, fps).mean()),
        "jitter": smoothness.jitter(joints, fps),
        "pfc": foot.pfc(joints, fps),
        "skating_lodge": foot.skating_ratio_lodge(joints, fps),
        "skating_motionlcm": foot.skating_ratio_motionlcm(joints, fps),
        "skating_motionlcm_grounded": foot.skating_ratio_motionlcm(foot.grounded_as_generated(joints, fps), fps),
        "penetration_mean_m": pen["mean_m"],
        "penetration_max_m": pen["max_m"],
        "penetration_frames": pen["frame_ratio"],
        "bone_std_m": bones["mean_std_m"],
        "bone_max_rel_dev": bones["worst_rel_dev"],
        "bone_stretched_windows": float(bool(bones["flagged"])),
        "bone_canonical_dev": bones["worst_canonical_dev"],
    }


def _set_level(gen: WindowSet, ref: WindowSet) -> dict[str, dict[str, float | None]]:
    """FID (generated vs reference) and Div (of each set), features z-scored with the reference stats."""
    out: dict[str, dict[str, float | None]] = {}
    for tag, g, r in (("k", gen.kinetic, ref.kinetic), ("g", gen.geometric, ref.geometric)):
        floor = STD_FLOORS[tag]
        ok = len(g) >= 2 and len(r) >= 2
        out[f"fid_{tag}"] = {"generated": _clean(fid.fid(g, r, floor)) if ok else None, "reference": None}
        out[f"div_{tag}"] = {
            "generated": _clean(fid.diversity(g, r, floor)) if len(r) >= 2 and len(g) else None,
            "reference": _clean(fid.diversity(r, r, floor)) if len(r) >= 2 else None,
        }
    return out


def beat_summary(
    motions: Sequence[Motion], music_beats: np.ndarray, draws: int = beat_alignment.CHANCE_DRAWS,
    seed: int = beat_alignment.SEED,
) -> dict:
    """BAS of every generated clip against the song's beats, and the means over clips."""
    clips = []
    for m in motions:
        scores = beat_alignment.beat_alignment(m.joints, m.fps, music_beats, draws=draws, seed=seed)
        clips.append({"source": m.source, **{k: _clean(v) for k, v in scores.items()}})
    keys = [k for k in PROTOCOLS if k.startswith("bas_")]
    return {"clips": clips, "mean": {k: _nanmean([c.get(k) for c in clips]) for k in keys}}


def evaluate(
    generated: Sequence[Motion], reference: Sequence[Motion], music_beats: np.ndarray | None = None,
    window_seconds: float = WINDOW_SECONDS, draws: int = beat_alignment.CHANCE_DRAWS,
    seed: int = beat_alignment.SEED,
) -> dict:
    """Every metric for `generated` against `reference`: {"protocol", "counts", "metrics", "beats"?}.

    metrics[name] = {"generated", "reference", "unit", "protocol"}; a value is None where it does not
    apply (e.g. FID has no reference column) or cannot be computed (too few windows).
    """
    gen, ref = WindowSet(generated, window_seconds), WindowSet(reference, window_seconds)
    values = _set_level(gen, ref)
    gen_summary, ref_summary = gen.summary(), ref.summary()
    for key in _WINDOW_KEYS:
        values[key] = {"generated": gen_summary[key], "reference": ref_summary[key]}
    result: dict = {
        "protocol": {
            "window_seconds": window_seconds,
            "min_window_seconds": MIN_WINDOW_SECONDS,
            "windows": "non-overlapping, remainder dropped; FID/Div windows root-relative (frame 0's root "
                       "at the origin); other metrics in world coordinates, floor at y = 0",
            "fps": sorted({float(m.fps) for m in list(generated) + list(reference)}),
            "skeleton": "22-joint SMPL body (HumanML3D order), metres, Y up",
            "comparability": NOT_COMPARABLE,
            "units": "velocities m/s, accelerations m/s², jerk m/s³, time s",
        },
        "counts": {
            name: {"clips": s.clips, "windows": s.windows, "seconds": round(s.seconds, 3)}
            for name, s in (("generated", gen), ("reference", ref))
        },
    }
    if music_beats is not None:
        beats = beat_summary(generated, np.asarray(music_beats, dtype=np.float64), draws=draws, seed=seed)
        for key, value in beats["mean"].items():
            values[key] = {"generated": value, "reference": None}
        result["beats"] = {"music_beats": len(music_beats), "clips": beats["clips"]}
    result["metrics"] = {
        key: {**values[key], "unit": UNITS[key], "protocol": PROTOCOLS[key]}
        for key in PROTOCOLS if key in values
    }
    return result
