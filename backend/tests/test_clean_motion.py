"""Mechanisms behind clean motion: the plausibility checks, flip-free root facing, grounding on contacts."""

import numpy as np
import pytest

from choreo.foot_contact import PLANTED_TOE_HEIGHT, ground, lock_feet
from choreo.metrics import plausibility as P
from choreo.representation import RIC, canonicalize, features_to_joints, joints_to_features
from choreo.skeleton import FPS

from synthetic_motion import rigid_dance


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return rigid_dance(120, turn_rad=1.0)


def test_clean_clip_has_no_pops_or_turns(clip):
    r = P.plausibility(clip, FPS)
    assert r["pops"] == 0 and r["instant_turns"] == 0


def test_planted_pop_and_instant_turn_are_flagged(clip):
    popped = clip.copy()
    popped[60:] += np.array([0.0, 0.0, 0.5])  # the whole body jumps 50 cm in one frame
    assert P.pops(popped, FPS) == [59]
    turned = clip.copy()
    c, s = np.cos(np.pi / 2), np.sin(np.pi / 2)
    rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    root = turned[80:, :1]
    turned[80:] = (turned[80:] - root) @ rot.T + root  # a 90° spin between frames 79 and 80
    assert 79 in P.instant_turns(turned)


def test_seam_report_flags_a_jump_at_the_seam(clip):
    jumped = clip.copy()
    jumped[70:] += np.array([0.3, 0.0, 0.0])
    r = P.seam_report(jumped, FPS, [70, 40])
    by_frame = {row["frame"]: row for row in r["seams"]}
    assert by_frame[70]["speed_percentile"] == 100.0 and by_frame[70]["largest_joint_step_m"] > 0.29
    assert by_frame[40]["speed_ratio"] < 3.0
    assert r["seams_above_p99"] == 1


def spin(frames: int = 60, turns: float = 2.0) -> np.ndarray:
    """A clip that pirouettes `turns` times about the pelvis at constant speed."""
    base = canonicalize(rigid_dance(frames, turn_rad=0.0))
    out = np.empty_like(base)
    for t in range(frames):
        a = 2 * np.pi * turns * t / frames
        rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        root = base[t, :1] * np.array([1, 0, 1])
        out[t] = (base[t] - root) @ rot.T + root
    return out


def test_continuous_facing_round_trips_and_has_no_flips():
    joints = spin()
    g = canonicalize(joints)
    for facing in ("humanml3d", "continuous"):
        f = joints_to_features(joints, facing=facing)
        assert np.abs(features_to_joints(f) - g[:-1]).max() < 1e-5  # both decode exactly
    def ric_jump(facing: str) -> float:
        f = joints_to_features(joints, facing=facing)
        ric = f[:, RIC].reshape(len(f), 21, 3)
        return float(np.linalg.norm(np.diff(ric, axis=0), axis=-1).mean(-1).max() * FPS)
    # HumanML3D's vector smoothing flips during the spin: the whole RIC pose jumps in one frame.
    assert ric_jump("humanml3d") > 2.0 * ric_jump("continuous")


def test_grounding_puts_planted_feet_on_the_floor():
    still = rigid_dance(120, turn_rad=0.0, amplitude=0.03)  # slow: every frame's feet may count as planted
    floating = still - np.array([0.0, still[:, [7, 8, 10, 11], 1].min(), 0.0]) + np.array([0.0, 0.15, 0.0])
    floating[30, 10, 1] -= 0.4  # one glitch frame: a toe far below the rest
    contacts = np.ones((len(still), 4))
    grounded = ground(floating, contacts)
    planted_toes = np.concatenate([np.delete(grounded[:, 10, 1], [30, 31]), grounded[:, 11, 1]])
    assert abs(np.median(planted_toes) - PLANTED_TOE_HEIGHT) < 0.005  # the glitch frame did not set the floor
    locked = lock_feet(grounded, contacts)
    assert locked[:, [7, 8, 10, 11], 1].min() > -0.01  # no foot below the floor
    thigh = np.linalg.norm(locked[:, 4] - locked[:, 1], axis=-1)
    assert np.ptp(thigh) < 1e-4  # IK keeps the legs rigid


@pytest.fixture(scope="module")
def generator():
    from pathlib import Path

    from choreo.bundle import load_bundle
    from choreo.config import DEFAULT_MODEL
    from choreo.generate import Generator

    if not Path(DEFAULT_MODEL).exists():
        pytest.skip("the shipped default model is missing")
    return Generator(load_bundle(DEFAULT_MODEL))


def test_repair_replaces_a_planted_pop_and_keeps_the_rest(generator):
    """A 180° spin in one frame planted into generated motion is generated again from both sides: one pass
    changes only the defect's stretch (±REPAIR_HALF, plus the RAMP of soft edge) in a window just long enough for
    it and its context, and after the passes the turn is gone and the stretch joins its neighbours without a joint
    jumping."""
    from choreo.generate import GenerationRequest
    from choreo.infill import RAMP, REPAIR_CONTEXT, REPAIR_HALF, FillJob, defect_zone, repair

    clean = generator.generate(GenerationRequest(text="a person dances salsa", seconds=10, seed=6))[0].joints
    assert not P.pops(clean, FPS) and not P.instant_turns(clean)
    t = 60
    broken = clean.copy()
    centre = broken[t:, 0].copy()
    turned = broken[t:] - centre[:, None]
    turned[..., [0, 2]] = -turned[..., [0, 2]]  # the body spun 180° in one frame
    broken[t:] = turned + centre[:, None]
    assert t - 1 in P.instant_turns(broken)

    sizes = []

    def rows(texts, values, weight, seed=None, progress=None):
        sizes.append(values.shape[1])
        return generator.sample_rows(texts, values, weight, seed=seed)

    def job_of(joints):
        job = FillJob(joints, np.ones(len(joints), bool), "a person dances salsa")
        job.written[:] = True
        return job

    one = job_of(broken)
    zone = defect_zone(one, FPS, REPAIR_HALF)
    assert np.flatnonzero(zone).tolist() == list(range(t - 1 - REPAIR_HALF + 1, t + REPAIR_HALF))
    repair(rows, generator.bundle.normalizer.normalize, [one], generator.window,
           facing=generator.bundle.root_facing, seed=1, passes=1)
    changed = np.flatnonzero(np.abs(one.joints - broken).max(axis=(1, 2)) > 0)
    lo, hi = np.flatnonzero(zone)[[0, -1]]
    assert changed.min() >= lo - RAMP and changed.max() <= hi + RAMP  # nothing else was touched
    # the window held the stretch and REPAIR_CONTEXT frames on each side, not the model's whole window
    assert sizes == [hi - lo + 1 + 2 * REPAIR_CONTEXT] and sizes[0] < generator.window
    full = job_of(broken)
    repair(rows, generator.bundle.normalizer.normalize, [full], generator.window,
           facing=generator.bundle.root_facing, seed=1)
    near = range(lo - RAMP - 1, hi + RAMP + 1)
    assert not set(P.instant_turns(full.joints)) & set(near), "the planted turn is still there"
    assert not set(P.pops(full.joints, FPS)) & set(near)
    # the spin moved the hands by ~0.6 m in one frame; the repaired stretch moves like generated motion (whose
    # fastest wrist or foot flicks reach 0.3-0.6 m a frame: the 0.3 m target is not met yet)
    assert P.largest_joint_step(broken[lo - RAMP:hi + RAMP]) > 0.55
    assert P.largest_joint_step(full.joints[lo - RAMP:hi + RAMP]) < 0.5


def test_generated_clips_come_out_without_pops(generator):
    """The generator's own repair: 8 clips of 6 s, none with a pop or an instant turn (without the repair,
    about a third of the shipped model's clips have one)."""
    from choreo.generate import GenerationRequest

    motions = generator.generate(GenerationRequest(text="a person dances energetically, modern dance", seconds=6,
                                                   samples=8, seed=11))
    bad = [i for i, m in enumerate(motions) if P.pops(m.joints, FPS) or P.instant_turns(m.joints)]
    assert len(bad) <= 1, f"clips with a pop or instant turn: {bad}"


def test_a_synthetic_flick_is_detected_and_a_clean_clip_passes(clip):
    assert P.flicks(clip) == []
    flicked = clip.copy()
    flicked[50, 20] += np.array([0.35, 0.0, 0.0])  # the left wrist jumps 35 cm out for one frame and back
    assert P.flicks(flicked) == [(49, 20), (50, 20)]
    assert P.plausibility(flicked, FPS)["flicks"] == 2


def test_decoder_follows_the_velocity_channel_through_a_one_frame_position_spike(clip):
    """Generated RIC positions jump away in single frames while the joint-velocity channel of the same rows
    says the joint barely moves, and a bone the network shrinks has a noisy direction that fixing its length
    turns into a flick. The decoder fuses both channels: exact features decode exactly, and a wrist spiked in
    the RIC block (velocities untouched) comes back without the flick, bones still exact."""
    from choreo.representation import features_to_skeleton_joints
    from choreo.skeleton import CANONICAL_BONE_LENGTHS, bone_lengths, enforce_bone_lengths

    feats = joints_to_features(clip)
    exact = canonicalize(clip)[:-1]
    assert np.abs(features_to_skeleton_joints(feats) - exact).max() < 1e-5
    spiked = feats.copy()
    wrist, elbow = RIC.start + (20 - 1) * 3, RIC.start + (18 - 1) * 3
    # frame 60: the forearm collapses to 10 % of its length and points backwards (the wrist near the elbow)
    forearm = spiked[60, wrist:wrist + 3] - spiked[60, elbow:elbow + 3]
    spiked[60, wrist:wrist + 3] = spiked[60, elbow:elbow + 3] - 0.1 * forearm
    old = enforce_bone_lengths(features_to_joints(spiked))  # the decoder before: lengths fixed on RIC alone
    assert P.largest_joint_step(old) > 0.3
    new = features_to_skeleton_joints(spiked)
    assert P.largest_joint_step(new) < 0.75 * P.largest_joint_step(old) and not P.flicks(new)
    assert np.abs(new[60, 20] - exact[60, 20]).max() < 0.1  # the wrist is where the velocities put it
    np.testing.assert_allclose(bone_lengths(new)[:, 1:], np.broadcast_to(CANONICAL_BONE_LENGTHS[1:], (len(new), 21)),
                               atol=1e-6)


def test_in_painting_between_close_key_poses_steps_without_a_jump(generator):
    """Three frozen poses of a stepping clip 18 frames apart, everything between them generated (as a key-pose
    move is danced). Each frame is pulled toward its nearest frozen pose; halfway the nearest pose changes, and
    both pulls must be 0 there, or the motion jumps from one pose's pull to the other's in one frame (the foot
    moved 43 cm in a frame when the pulls were 0.18 and 0.27 at the switch; the clip's own largest step: 14 cm)."""
    from choreo.generate import GenerationRequest
    from choreo.infill import RAMP, FillJob, _window_inputs, fill
    from choreo.representation import facing_angles

    text = "a person takes big steps forward"
    clip = generator.generate(GenerationRequest(text=text, seconds=4.0, seed=3))[0].joints.astype(np.float64)
    keys = [20, 38, 56]
    known = np.zeros(len(clip), bool)
    known[keys] = True
    job = FillJob(clip, known, text, root_xz=clip[:, 0, [0, 2]], root_yaw=facing_angles(clip), root_weight=1.0,
                  frozen=known.copy())
    _, weight, _ = _window_inputs(job, 0, generator.window, generator.bundle.normalizer.normalize,
                                  generator.bundle.root_facing)
    pulls = weight[:, 4]  # a pose channel (root channels follow the path)
    # frames 21-29 are given pose 20's placeholder, 30-37 pose 38's (a tie goes to the earlier pose)
    assert np.allclose(pulls[[29, 30, 47, 48]], [0.0, 1 / 9, 0.0, 1 / 9], atol=1e-6)
    assert pulls[10:20].max() < 1.0 and np.isclose(pulls[19], 1 - 1 / (RAMP + 1))  # an outer edge keeps RAMP
    fill(generator.sample_rows, generator.bundle.normalizer.normalize, [job], generator.window,
         facing=generator.bundle.root_facing, seed=0, repairs=0)
    assert np.abs(job.joints[keys] - clip[keys]).max() < 1e-6  # the key poses come back exact
    assert P.largest_joint_step(clip[20:57]) < 0.2
    assert P.largest_joint_step(job.joints[20:57]) < 0.25


def test_a_repair_keeps_a_planned_walk_and_bridges_an_unplanned_one():
    """A repair gives the frames it generates again a root path. A transition's walk was planned clear of the other
    members (formations.transition_paths): a straight bridge across it brought two pelvises 0.09 m apart, so a job
    with a planned root keeps its walk; without one the root is bridged straight from before to after the stretch."""
    from choreo.infill import FillJob, bridge_root
    from choreo.representation import facing_angles

    clip = rigid_dance(60)
    arc = np.stack([np.sin(np.linspace(0, np.pi, 60)), np.linspace(0.0, 1.0, 60)], axis=1)  # a detour, not a line
    yaw = np.linspace(0.0, 0.5, 60)
    zone = np.zeros(60, bool)
    zone[20:40] = True
    planned = FillJob(clip, ~zone, "x", root_xz=arc.copy(), root_yaw=yaw.copy(), root_weight=1.0, planned_root=True)
    bridge_root(planned, zone)
    np.testing.assert_array_equal(planned.root_xz, arc)
    np.testing.assert_array_equal(planned.root_yaw, yaw)
    assert np.all(planned.root_weight[zone] == 1.0)
    free = FillJob(clip, ~zone, "x", root_xz=arc.copy(), root_yaw=yaw.copy(), root_weight=0.5)
    bridge_root(free, zone)
    a, b = clip[19, 0, [0, 2]], clip[40, 0, [0, 2]]
    np.testing.assert_allclose(free.root_xz[19:41], a + np.linspace(0, 1, 22)[:, None] * (b - a), atol=1e-12)
    np.testing.assert_array_equal(free.root_xz[:19], arc[:19])  # outside the stretch: the given path
    assert np.isclose(free.root_yaw[19], facing_angles(clip[[19, 40]])[0])
    assert np.all(free.root_weight[zone] == 1.0) and np.all(free.root_weight[~zone] == 0.5)


def test_a_repair_window_holds_every_stretch_it_reaches_with_its_context():
    """A window fills every unknown frame it holds: two stretches closer than the context are one window's work
    (else the second would be cut without the kept frames after it); farther apart, each gets its own."""
    from choreo.infill import _first_stretch

    known = np.ones(60, bool)
    known[5:10] = known[15:20] = False  # 5 known frames between the stretches
    assert _first_stretch(known, 8) == (5, 20)
    assert _first_stretch(known, 4) == (5, 10)
    assert _first_stretch(np.ones(60, bool), 8) is None
