"""HumanML3D 263-dim features <-> joints: conformance with the shipped sample and self-made round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from choreo.quaternion import qmul, qnormalize, qyaw
from choreo.representation import (
    FEATURE_DIM,
    FEATURE_GROUPS,
    FOOT_CONTACT,
    RIC,
    ROT6D,
    Normalizer,
    canonicalize,
    features_to_joints,
    features_to_joints_fk,
    features_to_skeleton_joints,
    joints_to_features,
    lower_body_feature_mask,
)
from choreo.skeleton import (
    CANONICAL_BONE_LENGTHS,
    NUM_JOINTS,
    bone_lengths,
    forward_kinematics,
    mirror_joints,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "humanml3d_ref"


def _reference() -> tuple[np.ndarray, np.ndarray]:
    vec, joints = SHARED / "vec_012314.npy", SHARED / "joints_012314.npy"
    if not (vec.is_file() and joints.is_file()):
        pytest.skip(f"HumanML3D reference sample not found under {SHARED} (reference data, not in the repo)")
    return np.load(vec), np.load(joints)


def synthetic_clip(frames: int = 60, seed: int = 0) -> np.ndarray:
    """A smooth FK-generated clip [frames,22,3]: swaying limbs, turning and walking root."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / 20.0
    axes = rng.normal(size=(NUM_JOINTS, 3))
    axes /= np.linalg.norm(axes, axis=-1, keepdims=True)
    amp = rng.uniform(0.1, 0.5, size=NUM_JOINTS)
    freq = rng.uniform(0.3, 1.5, size=NUM_JOINTS)
    angle = amp[None] * np.sin(2 * np.pi * freq[None] * t[:, None])  # [T,22]
    local = np.concatenate([np.cos(angle / 2)[..., None], np.sin(angle / 2)[..., None] * axes[None]], axis=-1)
    yaw = 0.4 + 0.6 * np.sin(2 * np.pi * 0.2 * t)  # keeps turning, never more than ~0.1 rad per frame
    local[:, 0] = qnormalize(qmul(qyaw(yaw), local[:, 0] * np.array([1.0, 0.2, 0.2, 0.2])))
    root = np.stack([0.8 * t, 0.95 + 0.03 * np.sin(2 * np.pi * t), 0.3 * np.sin(t)], axis=-1)
    return forward_kinematics(qnormalize(local), root)


# --- conformance with HumanML3D's shipped sample 012314 -------------------------------------------------


def test_recover_from_ric_matches_reference_joints() -> None:
    vec, joints = _reference()
    recovered = features_to_joints(vec)
    err = np.abs(recovered - joints).max()
    print(f"\nrecover_from_ric(vec_012314) vs joints_012314: max abs error {err:.3g} m")
    assert recovered.shape == joints.shape
    assert err <= 1e-5


def test_features_from_reference_joints_match_reference_vectors() -> None:
    vec, joints = _reference()
    feats = joints_to_features(joints)
    assert feats.shape == (joints.shape[0] - 1, FEATURE_DIM) == (169, 263)
    diff = np.abs(feats - vec[: feats.shape[0]])
    head_max, mean_all = diff[:129].max(), diff.mean()
    print(f"\nfeatures(joints_012314) vs vec_012314: max abs rows 0-128 {head_max:.3g}, "
          f"mean abs all {feats.shape[0]} rows {mean_all:.3g}, max abs all rows {diff.max():.3g}")
    assert head_max <= 1e-3
    assert mean_all <= 2e-4
    # Contacts are exactly 0/1 and agree on most frames.
    assert set(np.unique(feats[:, FOOT_CONTACT])) <= {0.0, 1.0}


# --- self-made data ----------------------------------------------------------------------------------------


def test_fk_clip_features_joints_round_trip() -> None:
    clip = synthetic_clip()
    g = canonicalize(clip)
    feats = joints_to_features(clip)
    assert feats.shape == (clip.shape[0] - 1, FEATURE_DIM)
    assert np.all(np.isfinite(feats))
    back = features_to_joints(feats)
    assert np.abs(back - g[:-1]).max() < 1e-4
    # Canonical placement: on the floor, frame 0's root above the origin, bone lengths canonical.
    assert abs(g[..., 1].min()) < 1e-9
    assert np.allclose(g[0, 0, [0, 2]], 0.0, atol=1e-9)
    assert np.allclose(bone_lengths(g)[:, 1:], CANONICAL_BONE_LENGTHS[1:], atol=1e-9)
    # Already-canonical positions give the same features with canonical=False.
    assert np.abs(joints_to_features(g, canonical=False) - feats).max() < 1e-5


def test_features_to_joints_fk_uses_6d_rotations() -> None:
    clip = synthetic_clip(seed=1)
    g = canonicalize(clip)
    feats = joints_to_features(clip)
    fk = features_to_joints_fk(feats)
    assert np.abs(fk - g[:-1]).max() < 1e-4
    # FK keeps canonical bone lengths even when the 6D block is perturbed (not so for RIC positions).
    noisy = feats.copy()
    noisy[:, ROT6D] += np.random.default_rng(0).normal(0, 0.05, size=noisy[:, ROT6D].shape)
    noisy[:, RIC] += np.random.default_rng(1).normal(0, 0.02, size=noisy[:, RIC].shape)
    fk_lengths = bone_lengths(features_to_joints_fk(noisy))[:, 1:]
    assert np.allclose(fk_lengths, CANONICAL_BONE_LENGTHS[1:], atol=1e-6)
    ric_lengths = bone_lengths(features_to_joints(noisy))[:, 1:]
    assert np.abs(ric_lengths - CANONICAL_BONE_LENGTHS[1:]).max() > 1e-3
    fixed = features_to_skeleton_joints(noisy)
    assert np.allclose(bone_lengths(fixed)[:, 1:], CANONICAL_BONE_LENGTHS[1:], atol=1e-6)


def test_mirror() -> None:
    g = canonicalize(synthetic_clip(seed=2))
    m = mirror_joints(g)
    assert np.array_equal(mirror_joints(m), g)
    assert np.array_equal(m[:, 1, 1:], g[:, 2, 1:]) and np.array_equal(m[:, 1, 0], -g[:, 2, 0])
    assert np.array_equal(m[:, 0, 0], -g[:, 0, 0])  # centre joints stay, x negated
    # A mirrored canonical clip still faces +Z from the origin; its features reconstruct the mirror.
    f, fm = joints_to_features(g, canonical=False), joints_to_features(m, canonical=False)
    assert np.abs(features_to_joints(fm) - m[:-1]).max() < 1e-4
    # (Re-canonicalising the mirror would change it: left and right canonical bone lengths differ.)
    # Mirroring turns the other way and sidesteps the other way; height and forward speed stay.
    assert np.allclose(fm[:, 0], -f[:, 0], atol=1e-5)
    assert np.allclose(fm[:, 1], -f[:, 1], atol=1e-5)
    assert np.allclose(fm[:, 2:4], f[:, 2:4], atol=1e-5)
    assert np.array_equal(fm[:, FOOT_CONTACT], f[:, FOOT_CONTACT][:, [2, 3, 0, 1]])


def test_joints_to_features_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="22, 3"):
        joints_to_features(np.zeros((10, 21, 3)))
    with pytest.raises(ValueError):
        joints_to_features(np.zeros((1, 22, 3)))


def test_normalizer_fit_round_trip_and_groups() -> None:
    rng = np.random.default_rng(0)
    clips = [joints_to_features(synthetic_clip(40, seed=s)) for s in range(3)]
    norm = Normalizer.fit(clips)
    data = np.concatenate(clips)
    assert np.allclose(norm.mean, data.mean(0), atol=1e-5)
    for group in FEATURE_GROUPS:  # one std per feature group (HumanML3D's recipe)
        assert np.ptp(norm.std[group]) == 0.0
    x = rng.normal(size=(7, FEATURE_DIM)).astype(np.float32)
    assert np.allclose(norm.denormalize(norm.normalize(x)), x, atol=1e-5)
    z = norm.normalize(data)
    assert z.dtype == np.float32
    assert np.allclose(z.mean(0), 0.0, atol=1e-3)


def test_normalizer_rejects_bad_shape_and_values() -> None:
    good = np.ones(FEATURE_DIM, dtype=np.float32)
    with pytest.raises(ValueError, match="263"):
        Normalizer(np.zeros(262, dtype=np.float32), good)
    with pytest.raises(ValueError, match="263"):
        Normalizer(np.zeros(FEATURE_DIM, dtype=np.float32), np.ones((FEATURE_DIM, 1), dtype=np.float32))
    with pytest.raises(ValueError):
        Normalizer(np.zeros(FEATURE_DIM, dtype=np.float32), np.zeros(FEATURE_DIM, dtype=np.float32))
    nan = good.copy()
    nan[3] = np.nan
    with pytest.raises(ValueError):
        Normalizer(nan, good)


def test_lower_body_mask() -> None:
    mask = lower_body_feature_mask()
    assert mask.shape == (FEATURE_DIM,) and mask.dtype == bool
    assert mask[:4].all() and mask[FOOT_CONTACT].all()
    # 4 root + 8 joints × (3 RIC + 6 rot) + 9 joints × 3 vel + 4 contacts
    assert mask.sum() == 4 + 8 * 9 + 9 * 3 + 4
    # Left knee (joint 4) is in, left wrist (joint 20) out.
    assert mask[RIC.start + 3 * 3] and not mask[RIC.start + 19 * 3]
