"""Formations, member assignment and transition paths: physical facts (spacing, symmetry, optimal travel,
clearance at every frame, eased and bounded speed), not stored outputs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from choreo.choreography.formations import (
    DEFAULT_SPACING,
    FORMATIONS,
    MIN_CLEARANCE,
    MIN_SPACING,
    PEAK_SPEED_FACTOR,
    assign_members,
    draw_formations,
    formation_names,
    formation_spots,
    min_pairwise_distance,
    transition_frames,
    transition_paths,
)
from choreo.errors import ChoreoError

FPS = 20.0
ALL_SIZES = range(1, 13)


def _pairwise(spots: np.ndarray) -> np.ndarray:
    d = np.linalg.norm(spots[:, None] - spots[None, :], axis=-1)
    return d[np.triu_indices(len(spots), 1)]


def test_registry_has_the_issue_formations_and_more():
    wanted = {"line", "two_rows", "v", "inverted_v", "diamond", "pyramid", "arc", "centre_wings"}
    assert wanted <= set(FORMATIONS)
    assert len(FORMATIONS) >= len(wanted) + 2
    assert formation_names() == tuple(FORMATIONS)
    assert all(f.description for f in FORMATIONS.values())


@pytest.mark.parametrize("name", list(FORMATIONS))
@pytest.mark.parametrize("spacing", [MIN_SPACING, DEFAULT_SPACING, 1.6])
def test_every_formation_keeps_its_spacing_and_is_symmetric(name, spacing):
    for n in ALL_SIZES:
        spots = formation_spots(name, n, spacing=spacing)
        assert spots.shape == (n, 2) and np.all(np.isfinite(spots))
        if n > 1:
            assert _pairwise(spots).min() >= spacing - 1e-9
        # Left-right symmetric (the audience sees a balanced picture), centred on the stage.
        mirrored = spots * np.array([-1.0, 1.0])
        assert np.linalg.norm(spots[:, None] - mirrored[None], axis=-1).min(axis=1).max() < 1e-6
        centre = 0.5 * (spots.min(axis=0) + spots.max(axis=0))
        assert np.abs(centre).max() < 1e-9
        # Front (audience side, +Z) to back: spot 0 is the frontmost.
        assert spots[0, 1] == pytest.approx(spots[:, 1].max())


def test_shapes_are_what_their_names_say():
    n = 7
    line = formation_spots("line", n)
    assert np.ptp(line[:, 1]) == 0 and np.allclose(np.diff(np.sort(line[:, 0])), DEFAULT_SPACING)
    v = formation_spots("v", n)
    apex = v[np.argmin(np.abs(v[:, 0]))]
    assert apex[1] == pytest.approx(v[:, 1].max())  # V: the centre is downstage, nearest the audience
    inv = formation_spots("inverted_v", n)
    assert inv[np.argmin(np.abs(inv[:, 0])), 1] == pytest.approx(inv[:, 1].min())
    rows = formation_spots("two_rows", n)
    assert len(np.unique(np.round(rows[:, 1], 6))) == 2
    front = rows[rows[:, 1] > rows[:, 1].mean(), 0]
    back = rows[rows[:, 1] < rows[:, 1].mean(), 0]
    assert np.abs(front[:, None] - back[None, :]).min() > 0.4 * DEFAULT_SPACING  # back row stands in the gaps
    pyramid = formation_spots("pyramid", 10)
    counts = [int((np.round(pyramid[:, 1], 6) == z).sum()) for z in np.unique(np.round(pyramid[:, 1], 6))[::-1]]
    assert counts == sorted(counts) and counts[0] == 1  # widening from the apex at the front to the back
    circle = formation_spots("circle", 8)
    radius = np.linalg.norm(circle - circle.mean(axis=0), axis=1)
    assert np.ptp(radius) < 1e-9
    cw = formation_spots("centre_wings", 9)
    assert cw[0, 0] == 0 and cw[0, 1] == pytest.approx(cw[:, 1].max())
    assert (cw[:, 0] > 0).sum() == (cw[:, 0] < 0).sum() == 4


def _brute_force_cost(prev: np.ndarray, new: np.ndarray) -> float:
    return min(np.linalg.norm(prev - new[list(p)], axis=1).sum() for p in itertools.permutations(range(len(new))))


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6, 7])
def test_assignment_is_optimal_against_brute_force(n):
    rng = np.random.default_rng(n)
    names = list(FORMATIONS)
    for _ in range(6):
        a, b = rng.choice(names, 2)
        prev = formation_spots(a, n) + rng.normal(0, 0.3, (n, 2))
        new = formation_spots(b, n)[rng.permutation(n)]
        perm = assign_members(prev, new)
        assert sorted(perm) == list(range(n))
        cost = np.linalg.norm(prev - new[perm], axis=1).sum()
        assert cost == pytest.approx(_brute_force_cost(prev, new), abs=1e-9)


def _speeds(paths: np.ndarray) -> np.ndarray:
    return np.linalg.norm(np.diff(paths, axis=0), axis=-1) * FPS  # [frames-1, N] m/s


def _check_transition(start: np.ndarray, end: np.ndarray, paths: np.ndarray) -> None:
    assert np.array_equal(paths[0], start) and np.array_equal(paths[-1], end)
    assert min_pairwise_distance(paths).min() >= MIN_CLEARANCE
    speed = _speeds(paths)
    frames = len(paths)
    travel = np.linalg.norm(end - start, axis=1)
    # Eased: a standing start and a standing finish (the first and last steps are small).
    assert np.all(speed[0] <= 0.15 * speed.max(axis=0) + 1e-9) and np.all(speed[-1] <= 0.15 * speed.max(axis=0) + 1e-9)
    # Bounded: a member's path is at most its straight line plus a detour, its move at least half the time.
    length = np.linalg.norm(np.diff(paths, axis=0), axis=-1).sum(axis=0)
    assert np.all(length <= travel + 2 * 3.0 + 1e-9)  # a half-sine bulge of A metres adds at most 2A
    assert np.all(speed.max(axis=0) <= PEAK_SPEED_FACTOR * 1.05 * length / (0.5 * (frames - 1) / FPS) + 1e-9)
    assert np.all(length[travel == 0] == 0)  # nobody who stays wanders


def test_head_on_swap_is_resolved():
    start = np.array([[-1.5, 0.0], [1.5, 0.0]])
    end = start[::-1].copy()
    straight = start[None] + np.linspace(0, 1, 40)[:, None, None] * (end - start)[None]
    assert min_pairwise_distance(straight).min() < 0.1  # the naive paths collide in the middle
    paths = transition_paths(start, end, 40)
    _check_transition(start, end, paths)


@pytest.mark.parametrize("case", ["crossing_x", "line_reversed", "circle_through_centre", "walk_through_standing"])
def test_conflicting_transitions_are_resolved(case):
    if case == "crossing_x":  # two diagonals crossing at the same moment
        start = np.array([[-1.0, -1.0], [1.0, -1.0]])
        end = np.array([[1.0, 1.0], [-1.0, 1.0]])
    elif case == "line_reversed":
        start = formation_spots("line", 6)
        end = start[::-1].copy()
    elif case == "circle_through_centre":  # everyone to the opposite side of the circle
        start = formation_spots("circle", 8)
        end = -start
    else:  # one member crosses the stage through a standing line
        start = np.concatenate([formation_spots("line", 5), [[0.0, 3.0]]])
        end = np.concatenate([formation_spots("line", 5), [[0.0, -3.0]]])
    paths = transition_paths(start, end, 60)
    _check_transition(start, end, paths)


def test_every_formation_change_after_assignment_is_safe_and_realistic():
    rng = np.random.default_rng(0)
    names = list(FORMATIONS)
    for n in (2, 5, 9, 12):
        for a, b in itertools.product(names, repeat=2):
            start = formation_spots(a, n)
            end = formation_spots(b, n)
            end = end[assign_members(start, end)]
            frames = transition_frames(start, end, FPS, max_speed=2.5)
            frames = max(frames, 2 * int(FPS))  # at least two seconds, as a section boundary would give
            paths = transition_paths(start, end, frames)
            _check_transition(start, end, paths)
        # Random (non-optimal) assignments cross a lot; still resolved.
        start = formation_spots(rng.choice(names), n)
        end = formation_spots(rng.choice(names), n)[rng.permutation(n)]
        _check_transition(start, end, transition_paths(start, end, 60))


def test_realistic_transition_speed():
    start = formation_spots("line", 5)
    end = formation_spots("v", 5)
    end = end[assign_members(start, end)]
    paths = transition_paths(start, end, int(2 * FPS))
    assert _speeds(paths).max() < 3.0  # a brisk walk across the stage, not a sprint
    frames = transition_frames(start, end, FPS, max_speed=1.5)
    straight_peak = PEAK_SPEED_FACTOR * np.linalg.norm(end - start, axis=1).max() / ((frames - 1) / FPS)
    assert straight_peak <= 1.5


def test_speed_limit_is_kept_or_refused_clearly():
    names = list(FORMATIONS)
    limit = 2.0
    for n in (4, 8, 12):
        for a, b in itertools.product(names, repeat=2):
            start = formation_spots(a, n)
            end = formation_spots(b, n)
            end = end[assign_members(start, end)]
            # Room to dodge: half as many frames again as the straight moves need.
            frames = max(int(1.5 * transition_frames(start, end, FPS, max_speed=limit)), int(FPS))
            paths = transition_paths(start, end, frames, max_speed=limit, fps=FPS)
            assert _speeds(paths).max() <= limit + 1e-9
            assert min_pairwise_distance(paths).min() >= MIN_CLEARANCE
    start, end = formation_spots("line", 12), formation_spots("circle", 12)
    end = end[assign_members(start, end)]
    with pytest.raises(ChoreoError, match="needs .* frames"):
        transition_paths(start, end, 10, max_speed=limit, fps=FPS)


def test_unknown_formation_lists_the_valid_names():
    with pytest.raises(ChoreoError) as err:
        formation_spots("hexagram", 5)
    message = str(err.value)
    assert "hexagram" in message and all(name in message for name in FORMATIONS)
    assert "\n" not in message


@pytest.mark.parametrize("members", [0, 13, -1, 2.5, True])
def test_member_count_outside_1_to_12_is_an_error(members):
    with pytest.raises(ChoreoError, match="1-12 members"):
        formation_spots("line", members)


def test_bad_spacing_and_bad_transitions_are_errors():
    with pytest.raises(ChoreoError, match="0.9"):
        formation_spots("line", 4, spacing=0.5)
    a = formation_spots("line", 3)
    with pytest.raises(ChoreoError, match="cannot assign"):
        assign_members(a, formation_spots("line", 4))
    with pytest.raises(ChoreoError, match="members"):
        transition_paths(a, formation_spots("line", 4), 20)
    with pytest.raises(ChoreoError, match="2 frames"):
        transition_paths(a, a, 1)
    with pytest.raises(ChoreoError, match="closer than"):
        transition_paths(np.array([[0.0, 0.0], [0.2, 0.0]]), np.array([[0.0, 2.0], [2.0, 2.0]]), 20)
    with pytest.raises(ChoreoError, match=r"\[members, 2\]"):
        assign_members(np.zeros((3, 3)), np.zeros((3, 3)))
    with pytest.raises(ChoreoError, match="1-12"):
        assign_members(np.zeros((13, 2)), np.zeros((13, 2)))


def test_impossible_transition_is_a_clear_error():
    # Twelve members packed 0.52 m apart must all swap through each other with one frame in between.
    start = np.stack([np.arange(12) * 0.52, np.zeros(12)], axis=1)
    with pytest.raises(ChoreoError, match="no collision-free transition"):
        transition_paths(start, start[::-1].copy(), 3)


def test_drawing_a_sequence(tmp_path):
    names = ["line", "v", "diamond"]
    steps, transitions, prev = [], [None], None
    for name in names:
        spots = formation_spots(name, 6)
        if prev is not None:
            spots = spots[assign_members(prev, spots)]
            transitions.append(transition_paths(prev, spots, 40))
        steps.append((name, spots))
        prev = spots
    out = draw_formations(steps, tmp_path / "formations.png", transitions)
    from PIL import Image

    from choreo.formats.palette import MEMBER_COLORS_RGB8

    image = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert image.shape[0] > 100 and image.shape[1] > 3 * image.shape[0] / 2  # panels side by side
    # Every member in its own colour (the preview's and the glTF's), a disc in each of the 3 panels; no 7th colour.
    def area(colour: tuple[int, int, int]) -> int:
        return int((np.abs(image - np.array(colour)).max(axis=-1) <= 2).sum())

    discs = [area(c) for c in MEMBER_COLORS_RGB8[:6]]
    assert min(discs) > 3 * 200, discs  # a disc of radius 11 px is ~380 px, minus its label
    assert area(MEMBER_COLORS_RGB8[6]) < 50


def test_members_standing_closer_than_the_clearance_walk_apart_no_closer():
    """Dancers' positions at a transition's edges are where their dancing took them, not planned spots, and two may
    stand closer than MIN_CLEARANCE: the walk is planned to keep them no closer than they stand (it used to fail)."""
    from choreo.choreography.formations import MIN_CLEARANCE, reachable_clearance

    start = np.array([[0.0, 0.0], [0.4, 0.0], [2.0, 0.0]])
    end = np.array([[-0.6, 1.0], [0.6, 1.0], [2.0, 1.0]])  # the next formation's spots
    with pytest.raises(ChoreoError, match="closer than"):
        transition_paths(start, end, 40)
    clear = reachable_clearance(start, end)
    assert 0.3 < clear < 0.4
    paths = transition_paths(start, end, 40, clearance=clear)
    assert min_pairwise_distance(paths).min() >= clear
    far = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    assert reachable_clearance(far, far + 1.0) == MIN_CLEARANCE
