"""From a landmark track to `Motion`s on our skeleton (pure numpy), and from a video file to both.

track → left/right fixed → segments (short gaps filled, long ones cut) → zero-phase smoothing →
22 joints with canonical bone lengths → root travel from the 2-D track → 20 fps → ground contact →
planted feet locked → on the floor → checked. Every step's numbers go into the quality report.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from choreo.errors import ChoreoError
from choreo.foot_contact import lock_feet
from choreo.formats import cleanup as motion_cleanup
from choreo.metrics.foot import skating_ratio_motionlcm
from choreo.motion import Motion
from choreo.skeleton import CANONICAL_BONE_LENGTHS, FPS, bone_lengths, enforce_bone_lengths
from choreo.video.cleanup import MAX_GAP_S, MIN_SEGMENT_S, fill_gaps, fix_left_right, segments, smooth
from choreo.video.landmarks import (
    BODY_LANDMARKS,
    LANDMARK_BONES,
    LIMB_LANDMARKS,
    PoseTrack,
    landmarks_to_joints,
    mediapipe_to_ours,
)
from choreo.video.root import DEFAULT_FOV_DEG, camera_root_path, ground_root

FOOT_CONTACT_HEIGHT = 0.05  # m: toe or ankle (above its standing height) this low ...
FOOT_CONTACT_SPEED = 0.8  # m/s: ... and this slow is planted (monocular feet jitter: 0.4 caught too few)
ANKLE_STANDING_HEIGHT = 0.07  # m: an ankle's height above the floor when the foot is flat
# Per-clip thresholds behind the report's verdict.
USABLE_TRACKED = 0.8
USABLE_VISIBILITY = 0.6
USABLE_BONE_CV = 0.1


@dataclass
class VideoImport:
    """The clips of one video and what the quality check found."""

    motions: list[Motion]
    report: dict
    track: PoseTrack | None = None
    frames: dict[int, np.ndarray] = field(default_factory=dict)  # sampled source frames for the overlay


def foot_contacts(joints: np.ndarray, fps: float) -> np.ndarray:
    """[T,4] planted flags (L ankle, L foot, R ankle, R foot): low and slow."""
    cols = []
    for j, base in ((7, ANKLE_STANDING_HEIGHT), (10, 0.0), (8, ANKLE_STANDING_HEIGHT), (11, 0.0)):
        speed = np.linalg.norm(np.gradient(joints[:, j, [0, 2]], axis=0), axis=-1) * fps
        cols.append((joints[:, j, 1] - base < FOOT_CONTACT_HEIGHT) & (speed < FOOT_CONTACT_SPEED))
    return np.stack(cols, axis=-1).astype(np.float64)


def segment_joints(track: PoseTrack, tracked: np.ndarray, fov_deg: float) -> np.ndarray:
    """Joints [T,22,3] at the track's rate for one gap-bounded segment (gaps filled, smoothed, rooted)."""
    world = smooth(fill_gaps(track.world, tracked), track.fps)
    image = smooth(fill_gaps(track.image, tracked), track.fps)
    vis = fill_gaps(np.nan_to_num(track.visibility), tracked)
    clean = PoseTrack(world, image, vis, track.fps, track.width, track.height)
    local = enforce_bone_lengths(landmarks_to_joints(mediapipe_to_ours(world)))
    hips_mid = (local[:, 1] + local[:, 2]) / 2
    root = camera_root_path(clean, fov_deg)
    return local - hips_mid[:, None] + root[:, None]


def _seconds(frames: int, fps: float) -> float:
    return round(frames / fps, 3)


def track_to_motions(
    track: PoseTrack,
    source: str,
    *,
    fov_deg: float = DEFAULT_FOV_DEG,
    start_s: float = 0.0,
    max_gap_s: float = MAX_GAP_S,
    min_segment_s: float = MIN_SEGMENT_S,
) -> VideoImport:
    """Clips and a quality report from a landmark track; ChoreoError when no usable stretch remains."""
    tracked = track.tracked()
    if not tracked.any():
        raise ChoreoError(f"{source}: no person found in {track.num_frames} frames")
    track, swapped = fix_left_right(track, tracked)
    kept, dropped = segments(tracked, track.fps, max_gap_s, min_segment_s)
    if not kept:
        raise ChoreoError(
            f"{source}: the person is tracked in {tracked.mean():.0%} of frames but never for "
            f"{min_segment_s:g} s without a gap over {max_gap_s:g} s; nothing to import"
        )
    motions, clips = [], []
    vis_all = np.nan_to_num(track.visibility[tracked][:, list(BODY_LANDMARKS)])
    vis_limbs = np.nan_to_num(track.visibility[tracked][:, list(LIMB_LANDMARKS)])
    for n, seg in enumerate(kept):
        sub = track.subset(slice(seg.start, seg.stop))
        raw = segment_joints(sub, tracked[seg.start : seg.stop], fov_deg)
        # Interpolating positions shortens bones whose direction changes between frames: refit them.
        joints = enforce_bone_lengths(motion_cleanup.resample(raw, track.fps, FPS))
        joints, ground = ground_root(joints, FPS)
        joints = motion_cleanup.put_on_floor(joints)
        skating_before = skating_ratio_motionlcm(joints, FPS)
        joints = lock_feet(joints, foot_contacts(joints, FPS))
        joints = motion_cleanup.put_on_floor(joints)
        label = source if len(kept) == 1 else f"{source} (part {n + 1})"
        motion_cleanup.validate(joints, label)
        bones = bone_lengths(joints)[:, 1:] - CANONICAL_BONE_LENGTHS[1:]
        seg_world = sub.world[tracked[seg.start : seg.stop]]
        cv = [np.std(d) / max(np.mean(d), 1e-9) for d in
              (np.linalg.norm(seg_world[:, a] - seg_world[:, b], axis=-1) for a, b in LANDMARK_BONES)]
        path = np.linalg.norm(np.diff(joints[:, 0, [0, 2]], axis=0), axis=-1).sum()
        clip = {
            "part": n + 1,
            "start_s": round(start_s + seg.start / track.fps, 3),
            "end_s": round(start_s + seg.stop / track.fps, 3),
            "frames_20fps": int(len(joints)),
            "filled_frames": seg.filled,
            "bone_cv_median": float(np.median(cv)),
            "bone_cv_max": float(np.max(cv)),
            "bone_error_max_m": float(np.abs(bones).max()),
            "skating_before_lock": skating_before,
            "skating": skating_ratio_motionlcm(joints, FPS),
            "root_path_m": float(path),
            "root_extent_m": [float(np.ptp(joints[:, 0, 0])), float(np.ptp(joints[:, 0, 2]))],
            **ground,
        }
        clips.append(clip)
        meta = {"video": clip, "source_fps": float(track.fps), "rig": "mediapipe_pose_33"}
        motions.append(Motion(joints, source=source, performance=Path(source).stem, meta=meta))
    fraction = float(tracked.mean())
    visibility = {"mean": float(vis_all.mean()), "p10": float(np.percentile(vis_all.mean(axis=1), 10)),
                  "limbs_mean": float(vis_limbs.mean())}
    usable = (fraction >= USABLE_TRACKED and visibility["limbs_mean"] >= USABLE_VISIBILITY
              and max(c["bone_cv_median"] for c in clips) <= USABLE_BONE_CV)
    report = {
        "source": source,
        "frames": int(track.num_frames),
        "fps": float(track.fps),
        "tracked_fraction": fraction,
        "visibility": visibility,
        "left_right_swaps_fixed": int(swapped.sum()),
        "cuts": [{"start_s": round(start_s + s / track.fps, 3), "end_s": round(start_s + e / track.fps, 3)}
                 for s, e in dropped],
        "clips": clips,
        "seconds_kept": round(sum(m.seconds for m in motions), 2),
        "usable": bool(usable),
    }
    return VideoImport(motions, report, track)


def import_video(
    path: str | Path,
    *,
    start: float | None = None,
    end: float | None = None,
    mirror: bool = False,
    person: str = "auto",
    fov_deg: float = DEFAULT_FOV_DEG,
    overlay_frames: int = 0,
    fps: float | None = None,
) -> VideoImport:
    """Decode, detect and convert one video; `overlay_frames` source frames are kept for the overlay;
    `fps` overrides the rate ffmpeg reports (a slowed-down or sped-up recording)."""
    from choreo.video.decode import open_video
    from choreo.video.detector import detect_track

    t0 = time.perf_counter()
    info, frames = open_video(path, start=start, end=end, mirror=mirror)
    if fps:
        info.fps = float(fps)
    keep = set(np.linspace(0, info.expected_frames - 1, overlay_frames).round().astype(int).tolist()) \
        if overlay_frames else set()
    track, kept = detect_track(frames, info, person=person, keep=keep)
    if track.num_frames == 0:
        raise ChoreoError(f"{path}: ffmpeg decoded no frames (a corrupt or empty video?)")
    t1 = time.perf_counter()
    result = track_to_motions(track, str(path), fov_deg=fov_deg, start_s=info.start)
    t2 = time.perf_counter()
    result.frames = kept
    result.report["video"] = {"width": info.source_size[0], "height": info.source_size[1],
                              "source_fps": info.source_fps, "detect_size": [info.width, info.height],
                              "mirror": mirror, "person": person, "fov_deg": fov_deg}
    result.report["timing"] = {"decode_detect_s": round(t1 - t0, 2), "convert_s": round(t2 - t1, 2),
                               "frames_per_s": round(track.num_frames / max(t2 - t0, 1e-9), 2)}
    return result


def load_video(path: str | Path, fps: float | None = None) -> list[Motion]:
    """The clips of one video for `choreo.importers` (the whole video, the most prominent dancer)."""
    return import_video(path, fps=fps).motions
