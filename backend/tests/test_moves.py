"""Point moves: the move library (`choreo moves`), placements in the plan, and the dance around them.

The move is one the shipped default model dances (cropped to 4 beats at a stated 100 BPM), the song a short
synthesized one whose beats the test knows (132 BPM: the move is re-timed by 100/132). The composer dances a
plan with the move on bar 1 of both choruses for everyone and a key-pose move on beats 3 of the verse for
two members. Checks: each placement starts on its beat (within a frame) and reproduces the re-timed move
within 1 cm in the body's own frame; key poses are held at their beats; the seams into and out of the moves
are no rougher than the dance's other seams; repeats stay identical; the library round-trips; bad moves,
names and placements are one-line errors (exit code 2 on the command line).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from choreo.bundle import load_bundle
from choreo.choreography.choreography import Choreography
from choreo.choreography.compose import Composer, ComposeSettings
from choreo.choreography.moves import (
    KEY_POSES_FORMAT,
    MoveLibrary,
    detect_tempo,
    move_from_file,
    move_from_key_poses,
    move_from_motion,
    retime,
)
from choreo.choreography.plan import Plan, PointPlan, make_plan, validate_plan
from choreo.choreography.points import place_point_move, resolve_points
from choreo.choreography.report import body_frame, measure, seam_stats
from choreo.config import DEFAULT_MODEL
from choreo.errors import ChoreoError
from choreo.generate import GenerationRequest, Generator
from choreo.infill import rest_pose
from choreo.skeleton import CANONICAL_BONE_LENGTHS, bone_lengths

from synthetic_song import truth_song

STRUCTURE = (("intro", 1), ("chorus", 2), ("verse", 2), ("chorus", 2), ("outro", 1))
ENERGY = {"intro": 0.2, "verse": 0.45, "chorus": 0.85, "outro": 0.15}
FPS = 20.0
SALSA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cmu" / "salsa" / "60_03_scaled.bvh"
pytestmark = pytest.mark.skipif(not Path(DEFAULT_MODEL).exists(), reason="the shipped default model is missing")

MOVE_BPM = 100.0


@pytest.fixture(scope="module")
def song_files(tmp_path_factory):
    return truth_song(tmp_path_factory.mktemp("song"), STRUCTURE, ENERGY)


@pytest.fixture(scope="module")
def generator():
    return Generator(load_bundle(DEFAULT_MODEL))


@pytest.fixture(scope="module")
def clip(generator):
    """A dance the model made (its own rig and floor): the source of the test's moves."""
    req = GenerationRequest(text="dance - expressive arms, pirouette", seconds=3.0, seed=5)
    return generator.generate(req)[0].joints.astype(np.float64)


@pytest.fixture(scope="module")
def wave(clip):
    return move_from_motion("wave", clip, start=0.3, end=2.7, bpm=MOVE_BPM)  # 2.4 s at 100 BPM: 4 beats


@pytest.fixture(scope="module")
def poses(clip):
    """Three key poses of the clip at beats 0, 2 and 4 of a 4-beat move."""
    data = {"format": KEY_POSES_FORMAT, "beats": 4,
            "poses": [{"beat": b, "joints": clip[f].tolist()} for b, f in ((0, 5), (2, 25), (4, 45))]}
    return move_from_key_poses("hits", data)


@pytest.fixture(scope="module")
def plan(song_files, wave, poses):
    song, _ = song_files
    plan = make_plan(song, members=3, seed=1)
    place_point_move(plan, wave, song)
    verse = next(s for s in plan.sections if s.kind == "verse")
    verse.move = "unison"  # (in a canon each member would enter the move a beat after the one before)
    verse.points.append(PointPlan(move="hits", beats=[3], members=[1, 3]))
    validate_plan(plan, song, moves={"wave": wave, "hits": poses})
    return plan


@pytest.fixture(scope="module")
def danced(song_files, generator, plan, wave, poses):
    song, _ = song_files
    ch = Composer(generator, ComposeSettings(candidates=2, seed=1)).compose(song, plan,
                                                                             moves={"wave": wave, "hits": poses})
    ch.report = measure(ch)
    return ch


# ---------------------------------------------------------------- the library


def test_library_add_list_get_remove_round_trip(tmp_path, wave, poses):
    lib = MoveLibrary(tmp_path / "moves")
    assert lib.names() == []
    lib.add(wave)
    lib.add(poses)
    assert lib.names() == ["hits", "wave"] and "wave" in lib
    back = lib.get("wave")
    assert back.kind == "motion" and back.bpm == MOVE_BPM and back.beats == pytest.approx(4.0)
    assert np.abs(back.joints - wave.joints).max() <= 5.1e-5  # stored to 0.1 mm
    hits = lib.get("hits")
    assert hits.kind == "key_poses" and hits.pose_beats.tolist() == [0.0, 2.0, 4.0] and hits.bpm is None
    with pytest.raises(ChoreoError, match="exists already.*--force"):
        lib.add(wave)
    lib.add(wave, force=True)
    lib.remove("wave")
    assert lib.names() == ["hits"]
    with pytest.raises(ChoreoError, match="unknown move 'wave'.*hits"):
        lib.get("wave")
    with pytest.raises(ChoreoError, match="unknown move 'wave'"):
        lib.remove("wave")


@pytest.mark.parametrize("name", ["../evil", "a/b", "", ".hidden", "x" * 49, "heart wave", "~root"])
def test_move_names_are_never_paths(tmp_path, name):
    with pytest.raises(ChoreoError, match="move name"):
        MoveLibrary(tmp_path).path(name)


def test_a_stored_move_is_in_its_own_frame_on_canonical_bones(wave):
    j = wave.joints
    assert np.abs(j[0, 0, [0, 2]]).max() < 1e-9  # over the origin
    assert np.abs(bone_lengths(j)[:, 1:] - CANONICAL_BONE_LENGTHS[1:]).max() < 1e-6
    from choreo.representation import facing_angles

    assert abs(facing_angles(j[:1])[0]) < 1e-6  # facing +Z
    assert len(j) == 48 and wave.beats == pytest.approx(4.0)


def _bobbing(bpm: float, seconds: float) -> np.ndarray:
    """A body whose arms swing back and forth once every two beats: the speed stops on every beat."""
    t = np.arange(int(seconds * FPS)) / FPS
    joints = np.repeat(rest_pose()[None], len(t), axis=0)
    swing = 0.25 * np.sin(np.pi * t * bpm / 60.0 + 0.3)
    for arm in (16, 18, 20, 17, 19, 21):  # shoulders' children: elbows, wrists
        joints[:, arm, 2] += swing * (1.0 if arm in (18, 20, 19, 21) else 0.5)
    return joints


@pytest.mark.parametrize("bpm", [96.0, 118.0, 140.0])
def test_the_tempo_is_detected_from_the_motion_s_own_rhythm(bpm):
    joints = _bobbing(bpm, 6.0)
    assert detect_tempo(joints) == pytest.approx(bpm, abs=1.5)
    move = move_from_motion("bob", joints)
    assert move.bpm == pytest.approx(bpm, abs=1.5)
    assert move.beats == pytest.approx(6.0 * move.bpm / 60.0, abs=0.01)


def test_a_still_clip_needs_its_tempo_given():
    still = np.repeat(rest_pose()[None], 60, axis=0)
    with pytest.raises(ChoreoError, match="give its tempo with --bpm"):
        move_from_motion("still", still)
    assert move_from_motion("still", still, bpm=120.0).beats == pytest.approx(6.0)


@pytest.mark.parametrize("kwargs, message", [
    ({"start": 0.0, "end": 0.1}, "too short"),
    ({"start": 0.0, "end": 0.4}, "too short: 0.67 beats"),  # 8 frames at 100 BPM: under a beat
    ({"start": 5.0}, "--start 5 s is outside the clip"),
    ({"start": 1.0, "end": 0.5}, "--end 0.5 s must be after --start"),
    ({"bpm": 500.0}, "--bpm 500 is not within"),
])
def test_bad_spans_and_tempi_are_clear_errors(clip, kwargs, message):
    with pytest.raises(ChoreoError, match=message):
        move_from_motion("m", clip, **({"bpm": MOVE_BPM} | kwargs))


def test_bad_key_pose_files_are_clear_errors(clip):
    pose = clip[0].tolist()
    with pytest.raises(ChoreoError, match=r"pose 1 joints have shape \[21, 3\]"):
        move_from_key_poses("k", {"beats": 4, "poses": [{"beat": 0, "joints": pose}, {"beat": 1, "joints": pose[1:]}]})
    with pytest.raises(ChoreoError, match="pose beats must increase"):
        move_from_key_poses("k", {"beats": 4, "poses": [{"beat": 2, "joints": pose}, {"beat": 1, "joints": pose}]})
    with pytest.raises(ChoreoError, match="beats long"):
        move_from_key_poses("k", {"beats": 0.5, "poses": [{"beat": 0, "joints": pose}]})


def test_a_move_from_files_any_importer_reads(tmp_path, clip):
    from choreo.formats.bvh_writer import write_bvh
    from choreo.motion import Motion

    bvh = write_bvh(Motion(clip), tmp_path / "clip.bvh")
    move = move_from_file("from-bvh", bvh, start=0.3, end=2.7, bpm=MOVE_BPM)
    assert move.kind == "motion" and len(move.joints) == 48
    # the same dance as the clip, in the body's own frame, up to the BVH rig's round trip (its hips and
    # shoulders are re-solved: a few centimetres at the hands)
    direct = move_from_motion("direct", clip, start=0.3, end=2.7, bpm=MOVE_BPM)
    assert np.linalg.norm(body_frame(move.joints) - body_frame(direct.joints), axis=-1).max() < 0.05
    with pytest.raises(ChoreoError, match="no choreography"):
        move_from_file("x", bvh, member="1")
    from choreo.formats.results_npy import write_results_npy

    npy = write_results_npy([Motion(clip)], ["a dance"], tmp_path / "results.npy")[0]
    with pytest.raises(ChoreoError, match="pickled"):
        move_from_file("from-npy", npy, bpm=MOVE_BPM)
    move = move_from_file("from-npy", npy, start=0.3, end=2.7, bpm=MOVE_BPM, allow_pickle=True)
    assert np.linalg.norm(body_frame(move.joints) - body_frame(direct.joints), axis=-1).max() < 0.001


# ---------------------------------------------------------------- re-timing and placements


def test_retiming_puts_the_move_s_beats_on_the_song_s_beats(song_files):
    song, _ = song_files
    bob = move_from_motion("bob", _bobbing(MOVE_BPM, 2.4), bpm=MOVE_BPM)  # 4 beats; a known function of its beat
    first, offsets, joints = retime(bob, song.beats, 4, song.tempo)
    beat = 60.0 / song.tempo
    assert first == round(song.beats[4] * FPS)
    assert len(offsets) == round(4 * beat * FPS)  # 4 beats of the song
    # song frame j after the start beat is the move at beat j/fps * tempo/60: its own beats on the song's
    move_frame = offsets / FPS * song.tempo / 60.0 * 60.0 / MOVE_BPM * FPS
    lo = np.floor(move_frame).astype(int).clip(0, len(bob.joints) - 2)
    frac = (move_frame - lo)[:, None, None]
    expected = bob.joints[lo] * (1 - frac) + bob.joints[lo + 1] * frac
    assert np.abs(joints - expected).max() < 0.005
    assert np.abs(joints[0] - bob.joints[0]).max() < 1e-6


def test_the_default_placement_is_bar_one_of_every_chorus(plan):
    for s in plan.sections:
        wave = [p for p in s.points if p.move == "wave"]
        assert (len(wave) == 1 and wave[0].bars == [1]) if s.kind == "chorus" else not wave
    back = Plan.from_dict(json.loads(plan.to_json()))
    assert back.to_dict() == plan.to_dict()


def test_plans_without_points_still_load(plan):
    data = plan.to_dict()
    for s in data["sections"]:
        del s["points"]
    assert all(s.points == [] for s in Plan.from_dict(data).sections)


def _with_point(plan: Plan, section: int, **point) -> dict:
    """The plan with `point` the only placement of `section` (and of its repeats, which must dance the same)."""
    data = plan.to_dict()
    for s in data["sections"]:
        if section in (s["index"], s["repeat_of"]):
            s["points"] = [point]
    return data


@pytest.mark.parametrize("section, point, message", [
    (1, {"move": "wave", "bars": [3]}, "section 1 points.0. bar 3 is past the section's end: section 1 has 2 bars"),
    (1, {"move": "wave", "bars": [1], "beats": [2]}, "give the move's place as bars"),
    (1, {"move": "wave"}, "give the move's place as bars"),
    (1, {"move": "wave", "bars": [0]}, "bars count from 1"),
    (1, {"move": "wave", "bars": [1], "members": [4]}, "member 4 does not exist"),
    (1, {"move": "../wave", "bars": [1]}, "is not a move name"),
    (1, {"move": "wave", "bar": [1]}, "unknown key 'bar'"),
])
def test_malformed_placements_are_one_line_errors(plan, section, point, message):
    with pytest.raises(ChoreoError, match=message):
        Plan.from_dict(_with_point(plan, section, **point))


@pytest.mark.parametrize("section, point, message", [
    (1, {"move": "nope", "bars": [1]}, "unknown move 'nope'"),
    (1, {"move": "long", "bars": [1]}, "move 'long' is 12 beats long, longer than section 1 \\(8 beats\\)"),
    (1, {"move": "wave", "beats": [6]}, "beat 6: move 'wave' \\(4 beats\\) ends at .* past the section's end"),
    (1, {"move": "wave", "beats": [9]}, "beat 9 is past the section's end: section 1 has 8 beats"),
])
def test_placements_that_do_not_fit_are_one_line_errors(plan, song_files, wave, poses, clip, section, point, message):
    song, _ = song_files
    long = move_from_motion("long", np.concatenate([clip, clip, clip])[:144], bpm=MOVE_BPM)  # 12 beats
    bad = Plan.from_dict(_with_point(plan, section, **point))
    with pytest.raises(ChoreoError, match=message):
        validate_plan(bad, song, moves={"wave": wave, "long": long, "hits": poses})


def test_a_placement_past_the_song_s_end_is_refused(plan, song_files, wave, poses):
    import dataclasses

    song, _ = song_files
    last = plan.sections[-1]
    beats = len(song.beats_in(last.start - 1e-3, last.end - 1e-3))  # the outro's last beat
    bad = Plan.from_dict(_with_point(plan, last.index, move="wave", beats=[beats]))
    validate_plan(bad, song, moves={"wave": wave, "hits": poses})  # the song rings on for 2 s: it fits
    cut = dataclasses.replace(song, duration=song.beats[-1] + 0.5)  # a song that stops half a second later
    with pytest.raises(ChoreoError, match=f"section {last.index} points.0. beat {beats}: move 'wave' ends at .* past "
                                          "the song's end"):
        resolve_points(cut, bad, {"wave": wave, "hits": poses})


def test_overlapping_moves_of_one_member_are_refused(plan, song_files, wave):
    song, _ = song_files
    data = plan.to_dict()
    data["sections"][2]["points"] = [{"move": "wave", "beats": [1], "members": [2]},
                                     {"move": "wave", "beats": [3]}]
    with pytest.raises(ChoreoError, match="member 2 has move 'wave' and move 'wave' overlapping"):
        resolve_points(song, Plan.from_dict(data), {"wave": wave})


# ---------------------------------------------------------------- the dance around the moves


def _placements(danced, kind):
    return [p for p in danced.points if p["kind"] == kind]


def test_every_placement_starts_on_its_beat_and_dances_the_move(danced, song_files, wave):
    song, _ = song_files
    rows = _placements(danced, "motion")
    assert {(p["section"], p["member"]) for p in rows} == {(s, m) for s in (1, 3) for m in range(3)}
    for p in rows:
        start_s = song.beats[p["beat"]]
        assert abs(p["start_frame"] - start_s * FPS) <= 1.0  # on the requested beat, within a frame
        assert abs(start_s - danced.plan.sections[p["section"]].start) < 1e-3  # bar 1 of its chorus
        _, offsets, expected = retime(wave, song.beats, p["beat"], song.tempo)
        got = danced.members[p["member"]][p["start_frame"] + offsets]
        err = np.linalg.norm(body_frame(got) - body_frame(expected), axis=-1).max()
        assert err < 0.01, (p, err)


def test_key_poses_are_held_at_their_beats_for_the_chosen_members(danced, song_files, poses):
    song, _ = song_files
    rows = _placements(danced, "key_poses")
    assert sorted(p["member"] for p in rows) == [0, 2]
    for p in rows:
        frames = np.asarray(p["fixed_frames"])
        beat_times = song.beats[p["beat"] + poses.pose_beats.astype(int)]
        assert np.abs(frames - beat_times * FPS).max() <= 1.0
        got = danced.members[p["member"]][frames]
        assert np.linalg.norm(body_frame(got) - body_frame(poses.joints), axis=-1).max() < 0.01
        # between the poses the model dances: it neither freezes nor moves faster than it does elsewhere
        a, b = frames[0], frames[-1]
        steps = np.linalg.norm(np.diff(danced.members[p["member"]], axis=0), axis=-1).max(axis=-1)
        elsewhere = np.r_[steps[: a - 20], steps[b + 20 :]]
        assert steps[a:b].mean() > 0.005
        assert steps[a:b].max() <= 1.25 * elsewhere.max()  # (the beat warp may speed the model's motion up 1.25x)
    other = danced.members[1][np.asarray(rows[0]["fixed_frames"])]
    assert np.linalg.norm(body_frame(other) - body_frame(poses.joints), axis=-1).max() > 0.05  # member 2 dances on


def test_seams_into_and_out_of_the_moves_are_as_smooth_as_elsewhere(danced):
    edges = sorted({f for p in danced.points for f in (p["start_frame"], p["end_frame"])} |
                   {int(f) for p in _placements(danced, "key_poses") for f in p["fixed_frames"]})
    moves = seam_stats(danced.members, FPS, edges)
    others = danced.report["seams"]  # every seam of the dance (windows, transitions, the moves' edges)
    assert moves["seams"] >= 2 * len(danced.points)
    assert moves["seam_speed_max"] <= max(others["seam_speed_max"], others["inside_speed_p99"]) + 1e-9
    assert moves["seam_accel_max"] <= max(others["seam_accel_max"], others["inside_accel_p99"]) + 1e-9
    assert moves["seam_speed_median"] < 3.0 * moves["inside_speed_median"]
    assert moves["worst_seam_speed_percentile"] <= 99.5


def test_repeated_choruses_stay_identical_and_members_stay_sound(danced):
    assert danced.report["repeats"]["worst_m"] < 1e-3
    for joints in danced.members:
        assert np.isfinite(joints).all()
        assert np.abs(bone_lengths(joints)[:, 1:] - CANONICAL_BONE_LENGTHS[1:]).max() < 2e-3
        feet = joints[:, [7, 8, 10, 11], 1]
        assert feet.min() > -0.01 and np.median(feet.min(axis=1)) < 0.05
    assert danced.report["stage"]["min_pelvis_distance_m"] >= 0.5


def test_regenerating_a_section_keeps_the_moves(danced, generator, song_files, wave, poses):
    moves = {"wave": wave, "hits": poses}
    composer = Composer(generator, ComposeSettings(candidates=1, seed=2))
    redone = composer.regenerate(danced, danced.plan, 4, moves=moves)  # the outro: no move of its own
    a, _ = redone.sections[4]
    for new, old in zip(redone.members, danced.members, strict=True):
        assert np.array_equal(new[:a], old[:a])  # every move before it too
    with pytest.raises(ChoreoError, match="--regenerate 2: a point move lies in the section's first or last"):
        composer.regenerate(danced, danced.plan, 2, moves=moves)  # its key poses stand 2 beats in


def test_in_mirror_and_canon_sections_the_move_is_mirrored_and_enters_member_by_member(song_files, generator,
                                                                                       wave):
    from choreo.skeleton import mirror_joints

    song, _ = song_files
    plan = make_plan(song, members=3, seed=1)
    for s in plan.sections:
        if s.kind == "chorus":
            s.move, s.points = "mirror", [PointPlan(move="wave", bars=[1])]
        if s.kind == "verse":
            s.move, s.canon_beats, s.points = "canon", 1, [PointPlan(move="wave", beats=[1])]
    ch = Composer(generator, ComposeSettings(candidates=1, seed=1)).compose(song, plan, moves={"wave": wave})
    beat = 60.0 / song.tempo * FPS
    mirrored = set()
    for p in ch.points:
        sec = plan.sections[p["section"]]
        _, offsets, expected = retime(wave, song.beats, p["beat"], song.tempo)
        if p["mirrored"]:
            expected = mirror_joints(expected)
            mirrored.add(p["member"])
        entry = song.beats[p["beat"]] * FPS + (p["member"] * beat if sec.kind == "verse" else 0.0)
        assert abs(p["start_frame"] - entry) <= 1.0 and p["delay_beats"] == (p["member"] if sec.kind == "verse" else 0)
        got = ch.members[p["member"]][p["start_frame"] + offsets]
        assert np.linalg.norm(body_frame(got) - body_frame(expected), axis=-1).max() < 0.01, p
    assert mirrored == {m for m in range(3) if ch.spots[1][m, 0] < -1e-6} and mirrored
    late = plan.to_dict()
    late["sections"][2]["points"] = [{"move": "wave", "beats": [4]}]  # member 3 would enter at beat 6 of 8
    with pytest.raises(ChoreoError, match="is a canon, so member 3 enters move 'wave' 2 beats late"):
        resolve_points(song, Plan.from_dict(late), {"wave": wave})


def test_a_captured_salsa_move_with_its_detected_tempo(song_files, generator):
    """Real capture (CMU, a BVH of another rig): pelvis turns the features do not round-trip exactly."""
    if not SALSA.is_file():
        pytest.skip(f"shared CMU data not found at {SALSA} (it lives beside the project, not in it)")
    song, _ = song_files
    move = move_from_file("salsa", SALSA, start=10.0, end=14.0)  # tempo from the whole take's kinematic beats
    assert 80.0 <= move.bpm < 160.0 and move.beats == pytest.approx(4.0 * move.bpm / 60.0, abs=0.01)
    plan = make_plan(song, members=3, seed=1)
    place_point_move(plan, move, song)
    ch = Composer(generator, ComposeSettings(candidates=1, seed=1)).compose(song, plan, moves={"salsa": move})
    assert ch.points
    for p in ch.points:
        _, offsets, expected = retime(move, song.beats, p["beat"], song.tempo)
        got = ch.members[p["member"]][p["start_frame"] + offsets]
        assert np.linalg.norm(body_frame(got) - body_frame(expected), axis=-1).max() < 0.01
    edges = sorted({f for p in ch.points for f in (p["start_frame"], p["end_frame"])})
    moves, others = seam_stats(ch.members, FPS, edges), measure(ch)["seams"]
    assert moves["seam_speed_max"] <= max(others["seam_speed_max"], others["inside_speed_p99"]) + 1e-9
    assert moves["seam_accel_max"] <= max(others["seam_accel_max"], others["inside_accel_p99"]) + 1e-9


def test_a_move_taken_from_a_choreography_section(danced, tmp_path, song_files):
    song, _ = song_files
    path = danced.save(tmp_path / "choreography.json")
    assert Choreography.load(path).points == danced.points
    move = move_from_file("verse-2", path, member="Member 2", section=2)
    a, b = danced.sections[2]
    assert move.bpm == pytest.approx(song.tempo) and len(move.joints) == b - a
    assert move.beats == pytest.approx((b - a) / FPS * song.tempo / 60.0, abs=1e-3)
    same = np.linalg.norm(body_frame(move.joints) - body_frame(danced.members[1][a:b]), axis=-1).max()
    assert same < 0.01
    with pytest.raises(ChoreoError, match="--section 9"):
        move_from_file("x", path, section=9)
    with pytest.raises(ChoreoError, match="--member 'Nobody'"):
        move_from_file("x", path, member="Nobody")


# ---------------------------------------------------------------- the command line


def _choreo(*args: str, data: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "CHOREO_DATA_DIR": str(data)}
    return subprocess.run([sys.executable, "-m", "choreo", *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


def _one_line_error(done: subprocess.CompletedProcess, message: str) -> None:
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_cli_moves_add_list_remove(tmp_path, clip, capsys, monkeypatch):
    from choreo.cli import main
    from choreo.formats.motion_json import write_motion_json
    from choreo.motion import Motion

    data = tmp_path / "data"
    monkeypatch.setenv("CHOREO_DATA_DIR", str(data))
    src = write_motion_json(Motion(clip), tmp_path / "motion.json")  # as `choreo generate` writes it

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["moves", *args])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("add", "wave", str(src), "--start", "0.3", "--end", "2.7", "--bpm", "100")
    assert code == 0 and (data / "moves" / "wave.json").is_file() and "4.00 beats" in out
    code, out, _ = run("list")
    assert code == 0 and "wave" in out and "100.0 BPM" in out
    assert run("add", "wave", str(src), "--bpm", "100", "--force")[0] == 0
    for args, message in [(("add", "wave", str(src), "--bpm", "100"), "exists already"),
                          (("add", "../x", str(src)), "is not allowed"),
                          (("add", "short", str(src), "--end", "0.1", "--bpm", "100"), "too short"),
                          (("add", "m", str(tmp_path / "missing.bvh")), "no such file"),
                          (("remove", "nope"), "unknown move 'nope'")]:
        code, _, err = run(*args)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, (args, err)
    assert run("remove", "wave")[0] == 0
    assert "no moves" in run("list")[1]
    # the installed command: exit code 2 and one line, from a fresh process
    _one_line_error(_choreo("moves", "remove", "wave", data=data, timeout=120), "unknown move 'wave'")


def test_dance_with_a_point_move_plans_it_on_every_chorus(tmp_path, song_files, wave):
    from choreo.choreography.pipeline import DanceWishes, plan_dance

    _, audio = song_files
    library = MoveLibrary(tmp_path / "moves")
    library.add(wave)
    planned = plan_dance(audio, DanceWishes(members=2, point_move="wave"), library=library)  # as choreo dance does
    choruses = [s for s in planned.plan.sections if s.kind == "chorus"]  # of the song's own analysis
    assert len(choruses) >= 2 and all(s.points == [PointPlan(move="wave", bars=[1])] for s in choruses)
    assert set(planned.moves) == {"wave"}
    with pytest.raises(ChoreoError, match="unknown move 'nope'"):
        plan_dance(audio, DanceWishes(point_move="nope"), library=library)
    for s in choruses:
        s.points.append(PointPlan(move="hits", beats=[2]))  # an edited plan with a move this library lacks
    edited = planned.plan.save(tmp_path / "plan.json")
    with pytest.raises(ChoreoError, match="unknown move 'hits'"):
        plan_dance(audio, plan=Plan.load(edited), library=library)


def test_cli_dance_point_move_errors(tmp_path, song_files, wave):
    _, audio = song_files
    data = tmp_path / "data"
    MoveLibrary(data / "moves").add(wave)
    _one_line_error(_choreo("dance", str(audio), "--out", str(tmp_path / "bad"), "--point-move", "nope", data=data,
                            timeout=120), "unknown move 'nope'")
    _one_line_error(_choreo("dance", str(audio), "--out", str(tmp_path / "bad"), "--point-move", "a/b", data=data,
                            timeout=120), "move name 'a/b' is not allowed")
    _one_line_error(_choreo("dance", str(audio), "--plan", str(tmp_path / "plan.json"), "--out", str(tmp_path / "bad"),
                            "--point-move", "wave", data=data, timeout=120), "--plan is danced as written")
    assert not (tmp_path / "bad").exists()
