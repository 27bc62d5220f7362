"""Root travel from one camera: where the pelvis goes, from the 2-D track and the ground contact.

MediaPipe's world landmarks are centred on the hips every frame: they carry body shape, not position.
Position comes from the image: a pinhole camera with an assumed field of view, a weak-perspective scale per
frame (pixels per metre, fitted between the 2-D landmarks and the x/y of the 3-D ones, so arm and leg
poses do not change it) gives the depth, and the hip midpoint's pixel gives sideways and vertical position.
Everything is scaled to metres by leg length (the body is retargeted to the canonical skeleton, so a
dancer whose legs the detector sees as shorter stands proportionally closer). The floor is then fitted
under the lowest foot (a plane, which absorbs camera pitch and roll), and where a foot is down the
body is put exactly on it; between contacts (jumps) the image's vertical motion is kept.
"""

from __future__ import annotations

import numpy as np

from choreo.formats.cleanup import CANONICAL_LEG
from choreo.skeleton import FOOT_JOINTS
from choreo.video.cleanup import smooth
from choreo.video.landmarks import (
    LEFT_ANKLE,
    LEFT_HIP,
    LEFT_KNEE,
    LIMB_LANDMARKS,
    RIGHT_ANKLE,
    RIGHT_HIP,
    RIGHT_KNEE,
    PoseTrack,
)

DEFAULT_FOV_DEG = 60.0  # horizontal field of view of a phone's main camera in landscape (~55-70°)
DEPTH_CUTOFF_HZ = 1.5  # depth from scale is the noisiest coordinate: keep only slow changes
CONTACT_BAND_M = 0.05  # lowest foot within this of the floor: the foot is down
FLOOR_ITERATIONS = 4
FLOOR_RIDGE = 1.0  # pulls the floor's tilt toward level when the dancer covers little ground


def focal_px(width: int, height: int, fov_deg: float = DEFAULT_FOV_DEG) -> float:
    """Focal length in pixels for a horizontal field of view over the frame's long side."""
    return 0.5 * max(width, height) / np.tan(np.deg2rad(fov_deg) / 2)


def weak_perspective_scale(track: PoseTrack) -> np.ndarray:
    """Pixels per (detector) metre per frame: least squares between centred 2-D and 3-D x/y landmarks."""
    limbs = list(LIMB_LANDMARKS)
    img = track.image[:, limbs]
    xy = track.world[:, limbs, :2]
    w = np.clip(np.nan_to_num(track.visibility[:, limbs]), 0.05, 1.0)[..., None]
    img_c = img - (w * img).sum(1, keepdims=True) / w.sum(1, keepdims=True)
    xy_c = xy - (w * xy).sum(1, keepdims=True) / w.sum(1, keepdims=True)
    return (w * img_c * xy_c).sum(axis=(1, 2)) / np.maximum((w * xy_c**2).sum(axis=(1, 2)), 1e-12)


def detector_leg_length(track: PoseTrack) -> float:
    """Median hip->knee->ankle length of the detector's 3-D body (metres), both sides."""
    w = track.world
    legs = [np.linalg.norm(w[:, k] - w[:, h], axis=-1) + np.linalg.norm(w[:, a] - w[:, k], axis=-1)
            for h, k, a in ((LEFT_HIP, LEFT_KNEE, LEFT_ANKLE), (RIGHT_HIP, RIGHT_KNEE, RIGHT_ANKLE))]
    return float(np.nanmedian(np.concatenate(legs)))


def camera_root_path(track: PoseTrack, fov_deg: float = DEFAULT_FOV_DEG) -> np.ndarray:
    """Hip-midpoint positions [T,3] in our axes (camera at the origin looking along -Z), in metres of
    the canonical skeleton. The track must be gap-free."""
    f = focal_px(track.width, track.height, fov_deg)
    k = CANONICAL_LEG / max(detector_leg_length(track), 1e-6)
    scale = np.maximum(weak_perspective_scale(track), 1e-6)
    depth = smooth(f / scale, track.fps, DEPTH_CUTOFF_HZ)
    hip_px = (track.image[:, LEFT_HIP] + track.image[:, RIGHT_HIP]) / 2
    centre = np.array([track.width / 2, track.height / 2])
    x = (hip_px[:, 0] - centre[0]) * depth / f
    y_down = (hip_px[:, 1] - centre[1]) * depth / f
    return k * np.stack([x, -y_down, -depth], axis=-1)


def fit_floor(points: np.ndarray) -> np.ndarray:
    """Coefficients (a, b, c) of the floor y = a + b x + c z under the lowest-foot points [T,3].

    A lower envelope: fit, keep the points at or below the fit plus the contact band, refit. The tilt is
    ridge-regularised toward level, so a dancer who stays on one spot gives a level floor.
    """
    x, y, z = points[:, 0] - points[:, 0].mean(), points[:, 1], points[:, 2] - points[:, 2].mean()
    keep = np.ones(len(points), dtype=bool)
    coef = np.array([np.median(y), 0.0, 0.0])
    for _ in range(FLOOR_ITERATIONS):
        a = np.stack([np.ones(keep.sum()), x[keep], z[keep]], axis=1)
        reg = np.diag([0.0, FLOOR_RIDGE, FLOOR_RIDGE])
        coef = np.linalg.solve(a.T @ a + reg, a.T @ y[keep])
        resid = y - (coef[0] + coef[1] * x + coef[2] * z)
        keep = resid <= CONTACT_BAND_M / 2
        if keep.sum() < 3:
            break
    # Back to uncentred coordinates.
    return np.array([coef[0] - coef[1] * points[:, 0].mean() - coef[2] * points[:, 2].mean(), coef[1], coef[2]])


def ground_root(joints: np.ndarray, fps: float) -> tuple[np.ndarray, dict]:
    """Move joints [T,22,3] vertically so planted feet stand on the fitted floor; floor at y = 0.

    Frames whose lowest foot is within the contact band of the floor are contacts: there the lowest foot is
    put exactly on the floor; the correction is interpolated between contacts (flight keeps the image's
    vertical motion) and smoothed without lag.
    """
    feet = joints[:, list(FOOT_JOINTS)]
    lowest = feet[np.arange(len(feet)), feet[..., 1].argmin(axis=1)]
    a, b, c = fit_floor(lowest)
    floor = a + b * lowest[:, 0] + c * lowest[:, 2]
    height = lowest[:, 1] - floor
    contact = height <= CONTACT_BAND_M
    frames = np.arange(len(joints))
    correction = -np.interp(frames, frames[contact], height[contact]) if contact.any() else np.zeros(len(joints))
    correction = smooth(correction, fps, 3.0)
    # Floor plane under the root, so a tilted camera's slope comes out of the path.
    root = joints[:, 0]
    shift = correction - (a + b * root[:, 0] + c * root[:, 2])
    out = joints.copy()
    out[..., 1] += shift[:, None]
    tilt = float(np.degrees(np.arctan(np.hypot(b, c))))
    return out, {"contact_fraction": float(contact.mean()), "floor_tilt_deg": tilt}
