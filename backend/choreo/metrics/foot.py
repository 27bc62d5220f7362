"""Foot metrics: PFC (EDGE), two foot-skating ratios (Lodge/FineDance and MotionLCM), floor penetration.

Y is up and the floor is y = 0 (every clip is put on the floor when it is imported or generated).
Speeds are in m/s at the clip's own fps; the papers' per-frame thresholds are converted (see each function).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from choreo.foot_contact import ground
from choreo.representation import foot_contacts
from choreo.skeleton import FOOT_JOINTS

L_ANKLE, L_TOE, R_ANKLE, R_TOE = FOOT_JOINTS
FEET = ((L_ANKLE, L_TOE), (R_ANKLE, R_TOE))
XZ = (0, 2)

EDGE_FPS = 30.0  # PFC's foot "velocities" are per-frame displacements at EDGE's 30 fps
# Lodge / FineDance (metric/foot_skating.py): contact heights and 0.01 m per frame at FineDance's 30 fps.
LODGE_ANKLE_HEIGHT = 0.08
LODGE_TOE_HEIGHT = 0.05
LODGE_SLIDE_SPEED = 0.01 * 30.0  # m/s
# MotionLCM (calculate_skating_ratio): toe joints, 5 cm, 0.5 m/s, 5-frame uniform filter (at 20 fps).
MLCM_HEIGHT = 0.05
MLCM_SPEED = 0.5
MLCM_FILTER = 5
PENETRATION_TOLERANCE = 0.01  # m: deeper than this counts as a penetrating frame


def pfc(joints: np.ndarray, fps: float) -> float:
    """Physical Foot Contact (EDGE `eval_pfc.py`): 10⁴ · mean_t v_L · v_R · â_root; lower is better.

    â_root = |root acceleration with its downward part clamped to 0| / its clip maximum; v_L, v_R =
    horizontal speed of the slower of ankle/toe of each foot, expressed as EDGE's per-frame displacement
    at 30 fps (speed in m/s / 30) so the value does not depend on our frame rate.
    """
    joints = np.asarray(joints, dtype=np.float64)
    if joints.shape[0] < 3:
        return float("nan")
    root = joints[:, 0]
    acc = (root[2:] - 2.0 * root[1:-1] + root[:-2]) * fps**2
    acc[:, 1] = np.maximum(acc[:, 1], 0.0)
    acc_norm = np.linalg.norm(acc, axis=-1)
    peak = acc_norm.max()
    if peak <= 0.0:
        return 0.0  # no root acceleration: nothing asks the feet to be planted
    acc_norm /= peak
    feet = joints[:, list(FOOT_JOINTS)][:, :, XZ]
    speed = np.linalg.norm(feet[2:] - feet[1:-1], axis=-1) * fps / EDGE_FPS  # aligned with acc (EDGE)
    left = np.minimum(speed[:, 0], speed[:, 1])
    right = np.minimum(speed[:, 2], speed[:, 3])
    return float(1e4 * np.mean(left * right * acc_norm))


def lodge_contacts(joints: np.ndarray) -> np.ndarray:
    """Boolean [T,2] (left, right): ankle ≤ 8 cm and toe ≤ 5 cm above the clip's lowest joint."""
    y = joints[..., 1] - joints[..., 1].min()  # "put the body on the ground"
    return np.stack([(y[:, a] <= LODGE_ANKLE_HEIGHT) & (y[:, t] <= LODGE_TOE_HEIGHT) for a, t in FEET], -1)


def skating_ratio_lodge(joints: np.ndarray, fps: float) -> float:
    """Lodge/FineDance skating: per foot, sliding contact frames / contact frames, averaged over feet.

    Sliding = |mean of the x and z velocity components| of ankle or toe > 0.01 m/frame at 30 fps
    (0.3 m/s). The published code averages the two components (not a norm); we keep that. Feet without
    any contact frame are left out; NaN when neither foot touches the floor.
    """
    joints = np.asarray(joints, dtype=np.float64)
    contacts = lodge_contacts(joints)[:-1]
    ratios = []
    for side, (ankle, toe) in enumerate(FEET):
        vel = (joints[1:, [ankle, toe]] - joints[:-1, [ankle, toe]]) * fps  # [T-1,2,3] m/s
        slide = np.any(np.abs(vel[..., XZ].mean(axis=-1)) > LODGE_SLIDE_SPEED, axis=-1)
        n_contact = contacts[:, side].sum()
        if n_contact:
            ratios.append((slide & contacts[:, side]).sum() / n_contact)
    return float(np.mean(ratios)) if ratios else float("nan")


def skating_ratio_motionlcm(joints: np.ndarray, fps: float) -> float:
    """MotionLCM/GMD skating: frames where either toe skates / (T−1).

    Skating = toe below 5 cm in both frames of a step ∧ horizontal speed > 0.5 m/s ∧ its 5-frame uniform
    average > 0.5 m/s. Heights are absolute (floor at y = 0), as in HumanML3D.
    """
    joints = np.asarray(joints, dtype=np.float64)
    if joints.shape[0] < 2:
        return float("nan")
    toes = joints[:, [L_TOE, R_TOE]]
    low = toes[..., 1] < MLCM_HEIGHT
    contact = low[:-1] & low[1:]
    speed = np.linalg.norm(toes[1:, :, XZ] - toes[:-1, :, XZ], axis=-1) * fps
    smooth = uniform_filter1d(speed, size=MLCM_FILTER, axis=0)
    skating = contact & (speed > MLCM_SPEED) & (smooth > MLCM_SPEED)
    return float(np.any(skating, axis=1).sum() / (joints.shape[0] - 1))


def grounded_as_generated(joints: np.ndarray, fps: float = 20.0) -> np.ndarray:
    """A real clip put on the floor the way generated motion is (`foot_contact.ground`: the median planted toe
    at 2 cm, planted frames from HumanML3D's foot-contact rule), so that measures with an absolute height
    compare like with like. MotionLCM's skating counts toes below 5 cm: captured feet standing a few cm higher
    (CMU's planted toes: 2.5 cm above the generated motion's floor, median over 6-s windows) would count fewer
    of the real clip's low, sliding steps than the same steps of a generated clip (docs/EVALUATION.md)."""
    joints = np.asarray(joints, dtype=np.float64)
    if len(joints) < 2:
        return joints.copy()
    contacts = foot_contacts(joints)  # per transition [T-1, 4]; the last frame keeps the last flags
    return ground(joints, np.concatenate([contacts, contacts[-1:]]), fps)


def floor_penetration(joints: np.ndarray) -> dict[str, float]:
    """Depth (m) of the lowest joint below the floor y = 0: mean and max over frames, and the fraction
    of frames deeper than 1 cm."""
    depth = np.maximum(0.0, -np.asarray(joints, dtype=np.float64)[..., 1].min(axis=-1))
    return {
        "mean_m": float(depth.mean()),
        "max_m": float(depth.max()),
        "frame_ratio": float((depth > PENETRATION_TOLERANCE).mean()),
    }
