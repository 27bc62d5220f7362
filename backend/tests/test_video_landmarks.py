"""The landmarks → skeleton stage of video import (pure numpy, no detector): landmarks are computed here
from a known motion, as a camera would see it, and the import must give that motion back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from choreo.errors import ChoreoError
from choreo.formats.cleanup import put_on_floor, resample
from choreo.skeleton import CANONICAL_BONE_LENGTHS, FOOT_JOINTS, bone_lengths, enforce_bone_lengths
from choreo.video import landmarks as L
from choreo.video.cleanup import fix_left_right, segments, smooth
from choreo.video.landmarks import PoseTrack
from choreo.video.pipeline import track_to_motions
from choreo.video.root import focal_px

from synthetic_motion import facing_angles

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FPS = 30.0
W, H = 640, 360
CAMERA = np.array([0.0, 1.2, 6.0])  # ours: 6 m in front of the dancer, at chest height, looking along -Z


def grounded(joints: np.ndarray) -> np.ndarray:
    """Each frame lifted or lowered so its lowest foot joint is on the floor (a dancer always on a foot)."""
    low = joints[:, list(FOOT_JOINTS), 1].min(axis=1)
    return joints - np.stack([np.zeros_like(low), low, np.zeros_like(low)], -1)[:, None]


def true_landmarks(joints: np.ndarray) -> np.ndarray:
    """33 landmarks [T,33,3] (ours, metres) where a pose detector would put them on this body."""
    t = len(joints)
    lm = np.zeros((t, 33, 3))
    for ours, idx in L.DIRECT.items():
        lm[:, idx] = joints[:, ours]
    lateral = joints[:, 16] - joints[:, 17]
    lateral /= np.linalg.norm(lateral, axis=-1, keepdims=True)
    up = joints[:, 15] - joints[:, 12]
    up /= np.linalg.norm(up, axis=-1, keepdims=True)
    forward = np.cross(lateral, up)
    head = joints[:, 15]
    lm[:, L.LEFT_EAR], lm[:, L.RIGHT_EAR] = head + 0.07 * lateral, head - 0.07 * lateral
    lm[:, L.NOSE] = head + 0.1 * forward
    for i, side in ((1, 0.03), (2, 0.035), (3, 0.04), (4, -0.03), (5, -0.035), (6, -0.04)):  # eyes
        lm[:, i] = head + 0.08 * forward + 0.03 * up + side * lateral
    mouth = head + 0.08 * forward - 0.05 * up
    lm[:, 9], lm[:, 10] = mouth + 0.02 * lateral, mouth - 0.02 * lateral
    for left, wrist, elbow in ((True, 20, 18), (False, 21, 19)):
        hand = joints[:, wrist] - joints[:, elbow]
        hand /= np.linalg.norm(hand, axis=-1, keepdims=True)
        for k, idx in enumerate((17, 19, 21) if left else (18, 20, 22)):
            lm[:, idx] = joints[:, wrist] + (0.06 + 0.02 * k) * hand
    for ankle, foot, heel, toe in ((7, 10, L.LEFT_HEEL, L.LEFT_TOE), (8, 11, L.RIGHT_HEEL, L.RIGHT_TOE)):
        d = joints[:, foot] - joints[:, ankle]
        d /= np.linalg.norm(d, axis=-1, keepdims=True)
        lm[:, toe] = joints[:, foot] + 0.05 * d
        lm[:, heel] = joints[:, ankle] - 0.05 * d + np.array([0.0, -0.05, 0.0])
    return lm


def camera_track(joints: np.ndarray, seed: int = 0, noise_m: float = 0.01, noise_px: float = 0.5,
                 detector_scale: float = 1.0) -> PoseTrack:
    """What the detector reports for `joints` [T,22,3] filmed at 30 fps from CAMERA (60° field of view):
    hip-centred world landmarks in MediaPipe's axes (a body `detector_scale` times the true size) and
    pixel positions by a pinhole projection, both with noise."""
    rng = np.random.default_rng(seed)
    lm = true_landmarks(joints)
    hips = (lm[:, L.LEFT_HIP] + lm[:, L.RIGHT_HIP]) / 2
    world = L.mediapipe_to_ours(lm - hips[:, None]) * detector_scale  # the same flip both ways
    world += rng.normal(0.0, noise_m, world.shape)
    rel = lm - CAMERA
    cam = np.stack([rel[..., 0], -rel[..., 1], -rel[..., 2]], -1)  # x right, y down, z away
    f = focal_px(W, H)
    image = f * cam[..., :2] / cam[..., 2:3] + np.array([W / 2, H / 2])
    image += rng.normal(0.0, noise_px, image.shape)
    return PoseTrack(world, image, np.full(world.shape[:2], 0.99), FPS, W, H)


def truth_at_20fps(joints: np.ndarray) -> np.ndarray:
    return put_on_floor(enforce_bone_lengths(resample(joints, FPS)))


# A human rest pose (SMPL's mean body, joint positions in metres, approximate): the detector's landmarks
# sit on a real body's joints, and HumanML3D's axis-aligned rest directions (shoulders straight below the
# collars) are no human's. Bone directions from here, lengths the canonical ones.
SMPL_REST = np.array([
    [0.000, -0.223, 0.028], [0.070, -0.314, 0.021], [-0.068, -0.315, 0.023], [-0.003, -0.104, -0.002],
    [0.103, -0.695, 0.027], [-0.104, -0.694, 0.021], [0.006, 0.036, 0.029], [0.089, -1.095, -0.014],
    [-0.092, -1.093, -0.013], [0.005, 0.089, 0.033], [0.120, -1.150, 0.110], [-0.118, -1.150, 0.110],
    [-0.013, 0.302, -0.014], [0.077, 0.212, -0.003], [-0.078, 0.211, -0.005], [0.002, 0.367, 0.041],
    [0.169, 0.240, -0.020], [-0.170, 0.238, -0.019], [0.420, 0.230, -0.040], [-0.420, 0.230, -0.040],
    [0.670, 0.235, -0.030], [-0.670, 0.235, -0.030],
])


def human_offsets() -> np.ndarray:
    from choreo.skeleton import PARENTS

    d = SMPL_REST - SMPL_REST[list(PARENTS)]
    d[0] = 0.0
    return d / np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), 1e-9) * CANONICAL_BONE_LENGTHS[:, None]


def dance(frames: int = 150, turn_rad: float = 3.8, seed: int = 0, amplitude: float = 0.45) -> np.ndarray:
    """A synthetic dance at 30 fps on a human rest pose (rotations as `rigid_dance`), always on a foot."""
    from choreo.quaternion import qmul
    from choreo.skeleton import NUM_JOINTS, forward_kinematics

    from synthetic_motion import IDENTITY, axis_angle_to_quat

    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, frames / FPS, frames)[:, None, None]
    freq = rng.uniform(0.3, 1.2, (NUM_JOINTS, 3))
    phase = rng.uniform(0.0, 2 * np.pi, (NUM_JOINTS, 3))
    swing = amplitude * np.sin(2 * np.pi * freq * t + phase)
    swing[:, [3, 6, 9, 12, 15]] *= 0.3  # a spine and neck bend less than limbs swing
    q = axis_angle_to_quat(swing)
    yaw = np.concatenate([np.zeros_like(t[:, 0]), turn_rad * t[:, 0] / t[-1, 0], np.zeros_like(t[:, 0])], -1)
    q[:, 0] = qmul(axis_angle_to_quat(yaw), axis_angle_to_quat(0.2 * swing[:, 0]))
    q[:, 2] = q[:, 1]
    q[:, 3] = q[:, 1]
    q[:, 12] = IDENTITY
    chest = qmul(qmul(q[:, 3], q[:, 6]), q[:, 9])
    q[:, 13] = chest
    q[:, 14] = chest
    s = t[:, 0] / t[-1, 0]
    root = np.concatenate([0.8 * np.sin(3 * s), 0.9 + 0.0 * s, 1.5 * s], axis=-1)
    return grounded(forward_kinematics(q, root, human_offsets()))


def compare(out: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Joint errors after aligning the hip midpoints (the pelvis joint itself is placed by a template),
    and the hip midpoint's path error up to one horizontal offset (where the camera stood is unknown)."""
    n = min(len(out), len(truth))
    out, truth = out[:n].astype(np.float64), truth[:n]
    hips = lambda j: (j[:, 1:2] + j[:, 2:3]) / 2  # noqa: E731
    local_err = np.linalg.norm((out - hips(out)) - (truth - hips(truth)), axis=-1)
    root = (hips(out) - hips(truth))[:, 0]
    root[:, [0, 2]] -= root[:, [0, 2]].mean(axis=0)
    per_joint = local_err.mean(axis=0)
    limbs = sorted(L.DIRECT)  # joints a landmark marks; the others are placed by the trunk template
    trunk = [j for j in range(22) if j not in L.DIRECT]
    return {"mpjpe": float(local_err.mean()), "limb_worst": float(per_joint[limbs].max()),
            "trunk_worst": float(per_joint[trunk].max()), "root": float(np.linalg.norm(root, axis=-1).mean())}


def test_synthetic_dance_comes_back_with_canonical_bones_on_the_floor():
    joints = dance()
    motion = track_to_motions(camera_track(joints), "synthetic").motions[0]
    truth = truth_at_20fps(joints)
    err = compare(motion.joints, truth)
    assert err["mpjpe"] < 0.05, err
    assert err["limb_worst"] < 0.08, err
    assert err["trunk_worst"] < 0.12, err
    assert err["root"] < 0.15, err
    bl = bone_lengths(motion.joints)
    assert np.abs(bl - CANONICAL_BONE_LENGTHS).max() < 1e-4
    feet = motion.joints[:, list(FOOT_JOINTS), 1]
    assert abs(feet.min()) < 1e-6
    assert np.median(feet.min(axis=1)) < 0.03


def test_detector_body_size_does_not_change_the_root_path():
    """A detector that sees the body 15 % too small: scaled back by leg length, travel is unchanged."""
    joints = dance(seed=3)
    a = track_to_motions(camera_track(joints, detector_scale=1.0), "a").motions[0].joints
    b = track_to_motions(camera_track(joints, detector_scale=0.85), "b").motions[0].joints
    path = lambda j: j[:, 0, [0, 2]] - j[:, 0, [0, 2]].mean(axis=0)  # noqa: E731
    assert np.abs(path(a) - path(b)).max() < 0.05


def test_no_lag_beat_timing_preserved():
    """Sharp arm hits on a beat grid keep their timing: zero-phase smoothing, no delay."""
    joints = dance(frames=180, turn_rad=0.0, seed=1)
    t = np.arange(len(joints)) / FPS
    beats = np.arange(0.5, t[-1] - 0.3, 0.5)  # 120 BPM
    hit = sum(np.exp(-0.5 * ((t - b) / 0.04) ** 2) for b in beats)
    joints = joints.copy()
    # The left forearm hangs, and flicks up on each beat.
    d = np.stack([np.zeros_like(hit), -1.0 + 2.0 * hit, np.full_like(hit, 0.3)], -1)
    joints[:, 20] = joints[:, 18] + CANONICAL_BONE_LENGTHS[20] * d / np.linalg.norm(d, axis=-1, keepdims=True)
    motion = track_to_motions(camera_track(joints, noise_m=0.005), "beats").motions[0]
    truth = truth_at_20fps(joints)
    n = min(len(truth), motion.num_frames)
    speed = lambda j: np.linalg.norm(np.diff(j[:n, 20] - j[:n, 0], axis=0), axis=-1)  # noqa: E731
    a, b = speed(motion.joints) - speed(motion.joints).mean(), speed(truth) - speed(truth).mean()
    lags = range(-4, 5)
    xcorr = [np.dot(a[max(0, k): n - 1 + min(0, k)], b[max(0, -k): n - 1 - max(0, k)]) for k in lags]
    assert list(lags)[int(np.argmax(xcorr))] == 0
    # Each beat's wrist flick peaks in the same 20-fps frame as in the true motion, give or take one.
    rel = lambda j: j[:n, 20, 1] - j[:n, 18, 1]  # noqa: E731
    for b in beats:
        lo, hi = max(0, int(round(b * 20)) - 2), int(round(b * 20)) + 3
        assert abs(int(np.argmax(rel(motion.joints)[lo:hi])) - int(np.argmax(rel(truth)[lo:hi]))) <= 1


def test_full_turn_keeps_left_and_right_even_when_the_detector_swaps_labels():
    joints = dance(frames=180, turn_rad=2 * np.pi, seed=2)
    track = camera_track(joints)
    swapped_frames = np.r_[40:46, 100:103, 150]
    perm = L.SWAP_PERMUTATION
    for f in swapped_frames:  # the detector labels these frames mirror-wise
        track.world[f], track.image[f] = track.world[f, perm], track.image[f, perm]
    result = track_to_motions(track, "turn")
    assert result.report["left_right_swaps_fixed"] == len(swapped_frames)
    out = result.motions[0].joints
    truth = truth_at_20fps(joints)
    n = min(len(out), len(truth))
    diff = np.angle(np.exp(1j * (facing_angles(out[:n]) - facing_angles(truth[:n]))))
    assert np.abs(np.degrees(diff)).max() < 20
    total = np.degrees(facing_angles(out[:n])[-1] - facing_angles(out[:n])[0])
    assert abs(total - np.degrees(2 * np.pi) * (n - 1) / (len(joints) / 1.5 - 1)) < 30


def test_jump_height_kept_from_the_image():
    joints = dance(frames=150, turn_rad=0.0, seed=4)
    t = np.arange(len(joints)) / FPS
    flight = (t > 2.0) & (t < 2.4)
    lift = np.where(flight, 4 * 0.25 * (t - 2.0) * (2.4 - t) / 0.4**2, 0.0)  # 25 cm apex
    joints = joints + lift[:, None, None] * np.array([0.0, 1.0, 0.0])
    out = track_to_motions(camera_track(joints), "jump").motions[0].joints
    low = out[:, list(FOOT_JOINTS), 1].min(axis=1)
    apex = low[int(2.2 * 20) - 2: int(2.2 * 20) + 3].max()
    assert 0.15 < apex < 0.35
    assert np.median(low[: int(1.8 * 20)]) < 0.03


@pytest.mark.parametrize("clip", ["charleston/93_04.amc", "modern/005_01.bvh"])
def test_cmu_clip_comes_back(clip):
    path = DATA / "cmu" / clip
    if not path.exists():
        pytest.skip(f"shared CMU data not found at {path} (it lives beside the project, not in it)")
    from choreo.importers import load_motions

    src = load_motions(path)[0].joints[: 20 * 12].astype(np.float64)
    joints = resample(src, 20.0, FPS)
    motion = track_to_motions(camera_track(joints), str(path)).motions[0]
    err = compare(motion.joints, truth_at_20fps(joints))
    assert err["mpjpe"] < 0.06, err
    assert err["limb_worst"] < 0.08, err
    assert err["trunk_worst"] < 0.20, err  # the CC rig's spine bends where SMPL's does not
    assert err["root"] < 0.25, err
    assert np.abs(bone_lengths(motion.joints) - CANONICAL_BONE_LENGTHS).max() < 1e-4


def test_short_gaps_filled_long_gaps_cut_and_reported():
    joints = dance(frames=240, turn_rad=0.0, seed=5)
    track = camera_track(joints)
    lost = np.r_[30:36, 120:150]  # 0.2 s (filled) and 1.0 s (cut)
    track.world[lost], track.image[lost], track.visibility[lost] = np.nan, np.nan, 0.0
    result = track_to_motions(track, "gaps")
    assert len(result.motions) == 2
    assert result.report["clips"][0]["filled_frames"] == 6
    assert result.report["cuts"] == [{"start_s": 4.0, "end_s": 5.0}]
    assert result.report["tracked_fraction"] == pytest.approx(1 - 36 / 240)
    for m in result.motions:
        assert np.all(np.isfinite(m.joints))


def test_segments_drop_short_stretches():
    tracked = np.ones(100, dtype=bool)
    tracked[10:40] = False
    kept, dropped = segments(tracked, 30.0)
    assert [(s.start, s.stop) for s in kept] == [(40, 100)]
    assert dropped == [(0, 40)]


def test_smoothing_is_zero_phase():
    t = np.arange(300) / FPS
    x = np.sin(2 * np.pi * 2.0 * t)
    y = smooth(x, FPS)
    assert np.abs(y[30:-30] - x[30:-30]).max() < 0.05  # a 2 Hz move passes, in phase


def test_fix_left_right_leaves_clean_tracks_alone():
    track = camera_track(dance(frames=120, turn_rad=2 * np.pi, seed=6))
    _, swapped = fix_left_right(track, track.tracked())
    assert not swapped.any()


def test_nobody_tracked_is_a_clear_error():
    track = camera_track(dance(frames=60))
    track.visibility[:] = 0.0
    with pytest.raises(ChoreoError, match="no person found"):
        track_to_motions(track, "empty.mp4")
