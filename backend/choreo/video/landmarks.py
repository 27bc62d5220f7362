"""MediaPipe's 33 pose landmarks as plain arrays, and their mapping onto our 22 joints (pure numpy).

MediaPipe's world landmarks are metres around the hip midpoint, with the image's axes: x to the image's
right, y down, z away from the camera. Ours are Y up with the performer's left at +X when facing +Z, so a
dancer facing the camera faces +Z: ours = (x, -y, -z), a 180° turn about X (a proper rotation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from choreo.skeleton import NUM_JOINTS

NUM_LANDMARKS = 33
NOSE, LEFT_EAR, RIGHT_EAR = 0, 7, 8
LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_ELBOW, RIGHT_ELBOW, LEFT_WRIST, RIGHT_WRIST = 11, 12, 13, 14, 15, 16
LEFT_HIP, RIGHT_HIP, LEFT_KNEE, RIGHT_KNEE, LEFT_ANKLE, RIGHT_ANKLE = 23, 24, 25, 26, 27, 28
LEFT_HEEL, RIGHT_HEEL, LEFT_TOE, RIGHT_TOE = 29, 30, 31, 32  # MediaPipe's "foot index" is the toe tip

# Landmarks that exist in left/right pairs (eyes, ears, mouth corners, arms, hands, legs, feet).
LEFT_RIGHT_PAIRS: tuple[tuple[int, int], ...] = (
    (1, 4), (2, 5), (3, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (17, 18), (19, 20), (21, 22),
    (23, 24), (25, 26), (27, 28), (29, 30), (31, 32),
)
SWAP_PERMUTATION = np.arange(NUM_LANDMARKS)
for _l, _r in LEFT_RIGHT_PAIRS:
    SWAP_PERMUTATION[_l], SWAP_PERMUTATION[_r] = _r, _l
# The body's big joints: their visibility decides whether a frame is tracked, their 2-D spread the scale.
BODY_LANDMARKS = (LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP)
LIMB_LANDMARKS = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
# (a, b) landmark pairs whose distance is a bone: their stability over frames says how consistent
# the detector's 3-D body is.
LANDMARK_BONES: tuple[tuple[int, int], ...] = (
    (11, 13), (13, 15), (12, 14), (14, 16), (23, 25), (25, 27), (24, 26), (26, 28), (11, 12), (23, 24),
)

# Direct landmark -> joint correspondences (the landmark sits at the joint's centre).
DIRECT: dict[int, int] = {
    1: LEFT_HIP, 2: RIGHT_HIP, 4: LEFT_KNEE, 5: RIGHT_KNEE, 7: LEFT_ANKLE, 8: RIGHT_ANKLE,
    10: LEFT_TOE, 11: RIGHT_TOE, 16: LEFT_SHOULDER, 17: RIGHT_SHOULDER, 18: LEFT_ELBOW, 19: RIGHT_ELBOW,
    20: LEFT_WRIST, 21: RIGHT_WRIST,
}
# MediaPipe has no spine: pelvis, spine, neck and collars are placed in the trunk frame (origin at the
# hip midpoint; units of the hip-midpoint -> shoulder-midpoint distance; axes lateral (to the left hip),
# up (to the shoulders), forward), at their median place in HumanML3D's reference clip 012314 (SMPL body,
# measured on ../shared/data/humanml3d_ref/joints_012314.npy). Only directions survive retargeting
# (bone lengths become the canonical ones), so the trunk bends as the hip->shoulder line does.
TRUNK_TEMPLATE: dict[int, tuple[float, float, float]] = {
    0: (0.0, 0.17, -0.04),  # pelvis
    3: (0.0, 0.39, -0.17),  # spine1
    6: (0.0, 0.67, -0.11),  # spine2
    9: (0.0, 0.76, -0.03),  # spine3
    12: (0.0, 1.20, -0.02),  # neck
    13: (0.14, 1.00, -0.05),  # left collar
    14: (-0.14, 1.00, -0.05),  # right collar
}
HEAD = 15  # the head joint points from the neck to the midpoint of the ears


def mediapipe_to_ours(points: np.ndarray) -> np.ndarray:
    """MediaPipe world axes (x right, y down, z away from the camera) -> ours (x, -y, -z)."""
    return points * np.array([1.0, -1.0, -1.0])


@dataclass
class PoseTrack:
    """Per-frame landmarks of one person; NaN rows where the detector found nobody."""

    world: np.ndarray  # [T,33,3] metres, MediaPipe world axes, origin at the hip midpoint
    image: np.ndarray  # [T,33,2] pixels of the decoded frame (x right, y down)
    visibility: np.ndarray  # [T,33] in [0,1]
    fps: float
    width: int
    height: int

    @property
    def num_frames(self) -> int:
        return int(self.world.shape[0])

    def tracked(self, min_visibility: float = 0.3) -> np.ndarray:
        """[T] bool: a person was found and their shoulders and hips are visible on average."""
        found = np.all(np.isfinite(self.world), axis=(1, 2)) & np.all(np.isfinite(self.image), axis=(1, 2))
        vis = np.nan_to_num(self.visibility[:, list(BODY_LANDMARKS)]).mean(axis=1)
        return found & (vis >= min_visibility)

    def subset(self, frames: np.ndarray | slice) -> PoseTrack:
        return PoseTrack(self.world[frames], self.image[frames], self.visibility[frames], self.fps,
                         self.width, self.height)


def trunk_frame(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Origin [T,3], axes [T,3,3] (rows: lateral, up, forward) and unit length [T] of the trunk.

    `points` are [T,33,3] landmarks in our axes. Forward = lateral x up points where the chest faces.
    """
    hips = (points[:, LEFT_HIP] + points[:, RIGHT_HIP]) / 2
    shoulders = (points[:, LEFT_SHOULDER] + points[:, RIGHT_SHOULDER]) / 2
    up = shoulders - hips
    length = np.linalg.norm(up, axis=-1)
    up = up / np.maximum(length, 1e-9)[:, None]
    lateral = (points[:, LEFT_HIP] - points[:, RIGHT_HIP]) + (points[:, LEFT_SHOULDER] - points[:, RIGHT_SHOULDER])
    lateral = lateral - (lateral * up).sum(-1, keepdims=True) * up
    lateral = lateral / np.maximum(np.linalg.norm(lateral, axis=-1, keepdims=True), 1e-9)
    forward = np.cross(lateral, up)
    return hips, np.stack([lateral, up, forward], axis=1), length


def landmarks_to_joints(points: np.ndarray) -> np.ndarray:
    """Our 22 joints [T,22,3] from landmarks [T,33,3] already in our axes (bone lengths not yet fixed)."""
    joints = np.zeros((points.shape[0], NUM_JOINTS, 3))
    for ours, lm in DIRECT.items():
        joints[:, ours] = points[:, lm]
    origin, axes, length = trunk_frame(points)
    for ours, coords in TRUNK_TEMPLATE.items():
        joints[:, ours] = origin + length[:, None] * np.einsum("k,tkd->td", np.array(coords), axes)
    ears = (points[:, LEFT_EAR] + points[:, RIGHT_EAR]) / 2
    joints[:, HEAD] = ears
    return joints
