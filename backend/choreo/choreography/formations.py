"""K-pop formations for 1-12 members, who goes where, and collision-free paths between formations.

Stage coordinates (the project's convention, seen from above): a spot is (x, z) in metres on the floor,
Y up; the audience is at +Z, so a member facing +Z faces the audience, and +X is the performer's left
(the audience's right). Every formation is centred on the stage centre (its bounding box on (0, 0)),
is left-right symmetric, and keeps every two spots at least `spacing` apart (never under
`MIN_SPACING` = 0.9 m). Spots are ordered front (audience side) to back, centre outwards, so spot 0 is
the most prominent one.

- `formation_spots(name, members, spacing)` -> spots [N,2]; `FORMATIONS` holds the names and what they are.
- `assign_members(prev_spots, new_spots)` -> permutation: member i goes to `new_spots[perm[i]]`, total
  straight-line travel minimal (Hungarian method; minimal summed distance also means no two straight
  paths cross).
- `transition_paths(start, end, frames)` -> [frames,N,2]: ease-in-out (quintic smoothstep: zero speed and
  acceleration at both ends) paths keeping every two members >= `MIN_CLEARANCE` (0.5 m) apart at every
  frame. Conflicts are resolved by prioritized planning: the members are planned one after another, each
  taking the cheapest variant of its path — straight, later/earlier start (staggered timing), or a
  sideways detour — that keeps clear of everyone planned before it.
- `draw_formations(...)` -> a top-down PNG of a formation sequence (for docs and plans).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from choreo import fonts
from choreo.errors import ChoreoError

MIN_MEMBERS, MAX_MEMBERS = 1, 12
MIN_SPACING = 0.9  # metres between two spots, at least (arms out without touching)
DEFAULT_SPACING = 1.2
MIN_CLEARANCE = 0.5  # metres between two pelvises, at every frame of a transition
_PLAN_MARGIN = 0.03  # planned with this much extra clearance, so the bound also holds between frames
_EPS = 1e-9


@dataclass(frozen=True)
class Formation:
    name: str
    description: str
    build: Callable[[int, float], np.ndarray]  # (members, spacing) -> raw spots [N,2], any placement


# ---------------------------------------------------------------- shapes


def _centred_row(count: int, step: float) -> np.ndarray:
    return step * (np.arange(count) - 0.5 * (count - 1))


def _staggered_row(previous: np.ndarray, count: int, step: float) -> np.ndarray:
    """`count` x positions, symmetric about 0, on the lattice half a step off `previous` (its gaps), centre first.

    An odd count needs 0 on that lattice (the callers' row sizes see to it); an even count takes pairs.
    """
    base = previous[0] if len(previous) else 0.0
    k = np.arange(-(count + len(previous)) - 2, count + len(previous) + 3)
    lattice = base + 0.5 * step + step * k
    positive = np.sort(lattice[lattice > _EPS])[: count // 2]
    middle = [0.0] if count % 2 else []
    return np.sort(np.concatenate([-positive, middle, positive]))


def _row_gap(front: np.ndarray, back: np.ndarray, spacing: float, depth: float) -> float:
    """Distance between two rows: at least `depth`, and enough that every cross pair is `spacing` apart."""
    if len(front) == 0 or len(back) == 0:
        return depth
    dx = np.abs(front[:, None] - back[None, :]).min()
    return max(depth, float(np.sqrt(max(spacing**2 - dx**2, 0.0))))


def _rows(sizes: Sequence[int], spacing: float, *, stagger: bool = False, x_step: float | None = None,
          depth_factor: float = 0.85) -> np.ndarray:
    """Rows front (+z) to back, each centred in x; `stagger` puts each row in the previous row's gaps."""
    step = spacing if x_step is None else x_step
    rows: list[np.ndarray] = []
    for n in sizes:
        if n == 0:
            continue
        if stagger and rows:
            rows.append(_staggered_row(rows[-1], n, step))
        else:
            rows.append(_centred_row(n, step))
    spots, z = [], 0.0
    for i, xs in enumerate(rows):
        if i:
            z -= _row_gap(rows[i - 1], xs, spacing, depth_factor * spacing)
        spots += [(x, z) for x in xs]
    return np.array(spots, dtype=np.float64)


def _along_polyline(vertices: np.ndarray, count: int) -> np.ndarray:
    """`count` points evenly spaced by arc length from the first vertex to the last (both ends included)."""
    seg = np.linalg.norm(np.diff(vertices, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    if count == 1:
        targets = np.array([0.5 * cum[-1]])
    else:
        targets = np.linspace(0.0, cum[-1], count)
    out = np.empty((count, 2))
    for k, s in enumerate(targets):
        i = min(int(np.searchsorted(cum, s, side="right")) - 1, len(seg) - 1)
        f = (s - cum[i]) / seg[i] if seg[i] > 0 else 0.0
        out[k] = vertices[i] + f * (vertices[i + 1] - vertices[i])
    return out


def _polyline_formation(vertices: np.ndarray, count: int, spacing: float) -> np.ndarray:
    """Points along a polyline whose length is scaled so that neighbours are `spacing` apart along it."""
    length = np.linalg.norm(np.diff(vertices, axis=0), axis=1).sum()
    scale = spacing * max(count - 1, 1) / length
    return _along_polyline(vertices * scale, count)


def _line(n: int, s: float) -> np.ndarray:
    return _rows([n], s)


def _two_rows(n: int, s: float) -> np.ndarray:
    front, back = (n + 1) // 2, n // 2
    if front % 2 == 1 and back % 2 == 1:  # two odd rows cannot be both staggered and symmetric
        front, back = front + 1, back - 1
    return _rows([front, back], s, stagger=True)


def _v(n: int, s: float) -> np.ndarray:
    arm = np.deg2rad(35.0)  # each arm goes back at 35 degrees from the front line
    return _polyline_formation(np.array([[-np.cos(arm), -np.sin(arm)], [0.0, 0.0], [np.cos(arm), -np.sin(arm)]]), n, s)


def _inverted_v(n: int, s: float) -> np.ndarray:
    return _v(n, s) * np.array([1.0, -1.0])


def _w(n: int, s: float) -> np.ndarray:
    # Three points upstage (both ends and the centre), two downstage between them.
    return _polyline_formation(np.array([[-2.0, -1.0], [-1.0, 0.0], [0.0, -1.0], [1.0, 0.0], [2.0, -1.0]]), n, s)


def _arc(n: int, s: float) -> np.ndarray:
    if n == 1:
        return np.zeros((1, 2))
    span = np.deg2rad(140.0)  # ends come forward: everyone sees the centre, the audience sees everyone
    step = span / (n - 1)
    radius = s / (2.0 * np.sin(0.5 * step))
    phi = np.linspace(-0.5 * span, 0.5 * span, n)
    return np.stack([radius * np.sin(phi), -radius * np.cos(phi)], axis=1)


def _circle(n: int, s: float) -> np.ndarray:
    if n == 1:
        return np.zeros((1, 2))
    radius = s / (2.0 * np.sin(np.pi / n))
    theta = 2.0 * np.pi * np.arange(n) / n  # one member at the front, the rest mirrored in pairs
    return np.stack([radius * np.sin(theta), radius * np.cos(theta)], axis=1)


_DIAMOND_ROWS = {1: [1], 2: [1, 1], 3: [1, 2], 4: [1, 2, 1], 5: [1, 3, 1], 6: [1, 2, 2, 1], 7: [2, 3, 2],
                 8: [1, 3, 3, 1], 9: [1, 2, 3, 2, 1], 10: [1, 2, 4, 2, 1], 11: [1, 3, 3, 3, 1],
                 12: [1, 2, 3, 3, 2, 1]}
_PYRAMID_ROWS = {1: [1], 2: [1, 1], 3: [1, 2], 4: [1, 3], 5: [2, 3], 6: [1, 2, 3], 7: [1, 2, 4], 8: [1, 3, 4],
                 9: [2, 3, 4], 10: [1, 2, 3, 4], 11: [2, 4, 5], 12: [3, 4, 5]}


def _diamond(n: int, s: float) -> np.ndarray:
    return _rows(_DIAMOND_ROWS[n], s)


def _pyramid(n: int, s: float) -> np.ndarray:
    return _rows(_PYRAMID_ROWS[n], s)


def _columns(n: int, s: float) -> np.ndarray:
    cols = 2 if n <= 8 else 3
    full, rest = divmod(n, cols)
    return _rows([cols] * full + [rest], s, x_step=2.0 * s, depth_factor=1.0)


def _centre_and_wings(n: int, s: float) -> np.ndarray:
    if n == 1:
        return np.zeros((1, 2))
    spots = [(0.0, 0.75 * s)]  # the centre, a step in front
    wing = (n - 1) // 2
    if (n - 1) % 2:
        spots.append((0.0, -0.75 * s))  # an odd one out stands behind the centre
    for k in range(wing):  # each wing: rows of up to three, the next row behind in its gaps
        col, row = k % 3, k // 3
        x = 1.5 * s + col * s + 0.5 * s * (row % 2)
        z = -0.9 * s * row
        spots += [(x, z), (-x, z)]
    return np.array(spots)


FORMATIONS: dict[str, Formation] = {f.name: f for f in (
    Formation("line", "everyone side by side in one row", _line),
    Formation("two_rows", "two staggered rows, the back row in the front row's gaps", _two_rows),
    Formation("v", "V: the centre downstage, two arms going back", _v),
    Formation("inverted_v", "inverted V: the centre upstage, two arms coming forward", _inverted_v),
    Formation("diamond", "rows growing then shrinking front to back", _diamond),
    Formation("pyramid", "rows growing from the front (apex) to the back", _pyramid),
    Formation("arc", "a half-moon, the ends forward", _arc),
    Formation("centre_wings", "one member in front at the centre, the rest in two wings", _centre_and_wings),
    Formation("w", "a zig-zag W: ends and centre upstage, two points downstage", _w),
    Formation("columns", "two columns (three from 9 members) going back from the front", _columns),
    Formation("circle", "a circle, one member at the front", _circle),
)}


def formation_names() -> tuple[str, ...]:
    return tuple(FORMATIONS)


def _min_distance(spots: np.ndarray) -> float:
    if len(spots) < 2:
        return np.inf
    d = np.linalg.norm(spots[:, None] - spots[None, :], axis=-1)
    return float(d[np.triu_indices(len(spots), 1)].min())


def _check_members(members: int) -> None:
    if isinstance(members, bool) or not isinstance(members, int | np.integer) \
            or not MIN_MEMBERS <= members <= MAX_MEMBERS:
        raise ChoreoError(f"formations are for {MIN_MEMBERS}-{MAX_MEMBERS} members, got {members}")


def formation_spots(name: str, members: int, spacing: float = DEFAULT_SPACING) -> np.ndarray:
    """Spots [members,2] (x, z metres; audience at +Z) of formation `name`, every two >= `spacing` apart."""
    if name not in FORMATIONS:
        raise ChoreoError(f"unknown formation {name!r}; valid names: {', '.join(FORMATIONS)}")
    _check_members(members)
    if not (np.isfinite(spacing) and spacing >= MIN_SPACING):
        raise ChoreoError(f"formation spacing must be at least {MIN_SPACING} m, got {spacing}")
    spots = np.asarray(FORMATIONS[name].build(int(members), float(spacing)), dtype=np.float64)
    closest = _min_distance(spots)
    if closest < spacing:  # a bent shape can bring non-neighbours closer: grow it until they are not
        spots = spots * (spacing / closest) * (1.0 + 1e-9)
    lo, hi = spots.min(axis=0), spots.max(axis=0)
    spots = spots - 0.5 * (lo + hi)
    spots[np.abs(spots) < _EPS] = 0.0
    order = np.lexsort((spots[:, 0], np.round(np.abs(spots[:, 0]), 6), -np.round(spots[:, 1], 6)))
    return spots[order]


# ---------------------------------------------------------------- assignment


def _check_spots(spots: np.ndarray, what: str) -> np.ndarray:
    a = np.asarray(spots, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2 or not MIN_MEMBERS <= len(a) <= MAX_MEMBERS:
        raise ChoreoError(f"{what} must be [members, 2] stage spots for 1-12 members, got {list(a.shape)}")
    if not np.all(np.isfinite(a)):
        raise ChoreoError(f"{what} contain NaN or infinite values")
    return a


def assign_members(prev_spots: np.ndarray, new_spots: np.ndarray) -> np.ndarray:
    """Permutation [N]: member i (at prev_spots[i]) goes to new_spots[perm[i]]; summed travel is minimal."""
    prev = _check_spots(prev_spots, "previous spots")
    new = _check_spots(new_spots, "new spots")
    if len(prev) != len(new):
        raise ChoreoError(f"cannot assign {len(prev)} members to {len(new)} spots")
    cost = np.linalg.norm(prev[:, None] - new[None, :], axis=-1)
    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(len(prev), dtype=np.int64)
    perm[rows] = cols
    return perm


# ---------------------------------------------------------------- transitions


def smootherstep(u: np.ndarray) -> np.ndarray:
    """Quintic ease-in-out 6u^5 - 15u^4 + 10u^3 on [0,1]: zero speed and acceleration at both ends."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (u * (6.0 * u - 15.0) + 10.0)


PEAK_SPEED_FACTOR = 1.875  # smootherstep's peak slope: peak speed = 1.875 x average speed


# Variants a member's path may take, cheapest first: (start, end) of its move as fractions of the
# transition, and a sideways detour at mid-path (metres, either side).
_WINDOWS = ((0.0, 1.0), (0.0, 0.8), (0.2, 1.0), (0.1, 0.9), (0.0, 0.65), (0.35, 1.0), (0.0, 0.5), (0.5, 1.0),
            (0.25, 0.75))
_DETOURS = (0.0,) + tuple(float(s * d) for d in np.round(np.arange(0.1, 3.01, 0.1), 2) for s in (1, -1))


def _variants() -> list[tuple[float, float, float]]:
    out = [(t0, t1, d) for t0, t1 in _WINDOWS for d in _DETOURS]
    # Cost: metres of detour plus a metre for a move squeezed into half the time; stable for ties.
    return sorted(out, key=lambda v: abs(v[2]) + 2.0 * (1.0 - (v[1] - v[0])))


_VARIANTS = _variants()


def _member_path(a: np.ndarray, b: np.ndarray, frames: int, t0: float, t1: float, detour: float) -> np.ndarray:
    """[frames,2]: stand at a, move (eased) to b between fractions t0 and t1, bulging `detour` sideways."""
    s = np.linspace(0.0, 1.0, frames)
    e = smootherstep((s - t0) / (t1 - t0))[:, None]
    v = b - a
    length = np.linalg.norm(v)
    path = a + e * v
    if detour and length > _EPS:
        normal = np.array([-v[1], v[0]]) / length
        path = path + detour * np.sin(np.pi * e) * normal
    path[0], path[-1] = a, b
    return path


def _plan(start: np.ndarray, end: np.ndarray, frames: int, order: Sequence[int], clearance: float,
          max_step: float) -> tuple[np.ndarray | None, int]:
    """Plan members in `order`; returns (paths, -1) or (None, the member that found no free variant)."""
    paths = np.zeros((frames, len(start), 2))
    planned: list[int] = []
    for i in order:
        moving = np.linalg.norm(end[i] - start[i]) > _EPS
        for t0, t1, detour in _VARIANTS if moving else [(0.0, 1.0, 0.0)]:
            p = _member_path(start[i], end[i], frames, t0, t1, detour)
            if moving and np.linalg.norm(np.diff(p, axis=0), axis=1).max() > max_step:
                continue
            if planned and np.linalg.norm(paths[:, planned] - p[:, None], axis=-1).min() < clearance:
                continue
            paths[:, i] = p
            planned.append(i)
            break
        else:
            return None, i
    return paths, -1


def transition_paths(start: np.ndarray, end: np.ndarray, frames: int, clearance: float = MIN_CLEARANCE,
                     max_speed: float | None = None, fps: float = 20.0) -> np.ndarray:
    """Paths [frames,N,2] from start [N,2] to end [N,2] (member i: start[i] -> end[i]), eased at both ends,
    every two members >= `clearance` apart at every frame. Frame 0 is `start`, the last frame is `end`.

    Each member's peak speed is at most PEAK_SPEED_FACTOR x (its path length) / (its move's duration);
    the move's duration is at least half the transition. With `max_speed` (m/s, at `fps` frames per
    second) no member moves faster than that between two frames: variants that would are not taken.
    """
    a = _check_spots(start, "start spots")
    b = _check_spots(end, "end spots")
    if a.shape != b.shape:
        raise ChoreoError(f"start has {len(a)} members but end has {len(b)}")
    if isinstance(frames, bool) or not isinstance(frames, int | np.integer) or frames < 2:
        raise ChoreoError(f"a transition needs at least 2 frames, got {frames}")
    if not (np.isfinite(clearance) and clearance >= 0):
        raise ChoreoError(f"clearance must be a distance in metres, got {clearance}")
    if not (np.isfinite(fps) and fps > 0):
        raise ChoreoError(f"frame rate must be positive, got {fps}")
    if max_speed is not None and not (np.isfinite(max_speed) and max_speed > 0):
        raise ChoreoError(f"max_speed must be a positive speed in m/s, got {max_speed}")
    for what, spots in (("start", a), ("end", b)):
        if _min_distance(spots) < clearance:
            raise ChoreoError(f"two {what} spots are closer than {clearance} m: no transition can keep them apart")
    frames = int(frames)
    max_step = np.inf if max_speed is None else max_speed / fps
    travel = np.linalg.norm(b - a, axis=1)
    if max_speed is not None and travel.max() > 0:
        needed = transition_frames(a, b, fps, max_speed)
        if needed > frames:
            raise ChoreoError(
                f"a member travels {travel.max():.1f} m: at most {max_speed} m/s needs {needed} frames, got {frames}"
            )
    # Standing members first (they cannot dodge), then the longest moves (they get the straightest paths).
    order = list(np.lexsort((np.arange(len(a)), -travel)))
    order = [i for i in order if travel[i] <= _EPS] + [i for i in order if travel[i] > _EPS]
    margin = clearance + _PLAN_MARGIN
    rng = np.random.default_rng(0)
    for _attempt in range(3 * len(a) + 10):
        paths, stuck = _plan(a, b, frames, order, margin, max_step)
        if paths is not None:
            return paths
        if _attempt < 2 * len(a):  # give the member that got stuck the first pick next time
            order = [stuck] + [i for i in order if i != stuck]
        else:
            order = list(rng.permutation(len(a)))
    limit = "" if max_speed is None else f" at most {max_speed} m/s"
    raise ChoreoError(
        f"no collision-free transition found for {len(a)} members in {frames} frames{limit}; "
        "give the transition more time or choose another formation"
    )


def reachable_clearance(start: np.ndarray, end: np.ndarray, clearance: float = MIN_CLEARANCE) -> float:
    """`clearance`, or where two members already stand closer at the start or the end (dancers' positions, not
    planned spots), a little less than that: `transition_paths` then keeps them no closer than they stand."""
    closest = min(_min_distance(np.asarray(start, float)), _min_distance(np.asarray(end, float)))
    return float(max(0.0, min(clearance, closest - _PLAN_MARGIN - 1e-3)))


def min_pairwise_distance(paths: np.ndarray) -> np.ndarray:
    """Smallest distance between any two members per frame [frames] (inf for a single member)."""
    p = np.asarray(paths, dtype=np.float64)
    if p.shape[1] < 2:
        return np.full(p.shape[0], np.inf)
    d = np.linalg.norm(p[:, :, None] - p[:, None, :], axis=-1)
    iu = np.triu_indices(p.shape[1], 1)
    return d[:, iu[0], iu[1]].min(axis=1)


def transition_frames(start: np.ndarray, end: np.ndarray, fps: float, max_speed: float = 2.0) -> int:
    """Frames a straight, full-length transition needs so that nobody's peak speed exceeds `max_speed` m/s."""
    travel = float(np.linalg.norm(np.asarray(end, float) - np.asarray(start, float), axis=1).max(initial=0.0))
    return max(2, int(np.ceil(PEAK_SPEED_FACTOR * travel / max_speed * fps)) + 1)


# ---------------------------------------------------------------- picture


MAX_COLUMNS = 5  # most panels in a row of formations.png: a 3-minute song's 20 sections make 4 rows, not one strip
PANEL_WIDTH = 352  # pixels per panel
_SUPERSAMPLE = 2  # drawn at twice the size and scaled down: smooth circles and lines (Pillow draws no antialiasing)
_PANEL_BG, _STAGE_FILL, _INK, _MUTED = (255, 255, 255), (237, 237, 237), (0, 0, 0), (102, 102, 102)


def draw_formations(steps: Sequence[tuple[str, np.ndarray]], path: str | Path,
                    transitions: Sequence[np.ndarray | None] | None = None,
                    labels: Sequence[str] | None = None) -> Path:
    """A top-down PNG: one panel per (title, spots [N,2]), at most `MAX_COLUMNS` to a row, audience at the bottom
    of each, members numbered in the colours the preview and the glTF give them.

    `transitions[k]` ([frames,N,2], optional) is drawn in panel k as the paths that lead into it.
    `labels` name the members (default 1..N); the member order is the same in every step.
    """
    from PIL import Image, ImageDraw

    from choreo.formats.palette import MEMBER_COLORS_RGB8

    if not steps:
        raise ChoreoError("draw_formations needs at least one formation")
    n = len(steps[0][1])
    labels = [str(i + 1) for i in range(n)] if labels is None else list(labels)
    everything = [np.asarray(s, float) for _, s in steps]
    if transitions:
        everything += [np.asarray(t, float).reshape(-1, 2) for t in transitions if t is not None]
    pts = np.concatenate(everything)
    half_x = max(np.abs(pts[:, 0]).max() + 1.0, 3.0)
    half_z = max(np.abs(pts[:, 1]).max() + 1.0, 2.5)
    rows = -(-len(steps) // MAX_COLUMNS)
    columns = -(-len(steps) // rows)  # rows as even as they go: 6 panels are 2 x 3, not 5 + 1
    k = _SUPERSAMPLE
    pad, title_h, audience_h = 6 * k, 24 * k, 0.6  # pixels, pixels, metres below the stage
    metre = (PANEL_WIDTH * k - 2 * pad) / (2 * half_x)
    panel_w, panel_h = PANEL_WIDTH * k, round(title_h + (2 * half_z + audience_h) * metre + pad)
    img = Image.new("RGB", (columns * panel_w, rows * panel_h), _PANEL_BG)
    draw = ImageDraw.Draw(img)
    title_font, small_font = 13 * k, 10 * k
    audience_font, audience = fonts.pillow_pick("audience", small_font)
    # Korean names: the CJK font (fonts.py); a name no font draws whole becomes its number.
    names = []
    for i, name in enumerate(labels):
        font, shown = fonts.pillow_pick(name, 11 * k)
        names.append((font, shown) if shown == name else fonts.pillow_pick(str(i + 1), 11 * k))
    colours = [MEMBER_COLORS_RGB8[i % len(MEMBER_COLORS_RGB8)] for i in range(n)]
    radius = 11 * k
    for p, (title, spots) in enumerate(steps):
        x0, y0 = (p % columns) * panel_w + pad, (p // columns) * panel_h + title_h

        def px(xz: np.ndarray, x0: float = x0, y0: float = y0) -> np.ndarray:  # +Z (audience) drawn at the bottom
            xz = np.asarray(xz, float)
            return np.stack([x0 + (xz[..., 0] + half_x) * metre, y0 + (xz[..., 1] + half_z) * metre], axis=-1)

        stage = (x0, y0, x0 + 2 * half_x * metre, y0 + 2 * half_z * metre)
        draw.rectangle(stage, fill=_STAGE_FILL)
        draw.rectangle((stage[0], stage[1], stage[2], y0 + (2 * half_z + audience_h) * metre), outline=_INK,
                       width=k)
        font, shown = fonts.pillow_pick(title, title_font)
        draw.text(((stage[0] + stage[2]) / 2, y0 - 5 * k), shown, font=font, fill=_INK, anchor="md")
        draw.text(((stage[0] + stage[2]) / 2, y0 + (2 * half_z + audience_h / 2) * metre), audience,
                  font=audience_font, fill=_MUTED, anchor="mm")
        if transitions and p < len(transitions) and transitions[p] is not None:
            for i, path_px in enumerate(px(np.asarray(transitions[p], float)).transpose(1, 0, 2)):
                faint = tuple(round(0.7 * c + 0.3 * b) for c, b in zip(colours[i], _STAGE_FILL, strict=True))
                draw.line([tuple(q) for q in path_px], fill=faint, width=2 * k, joint="curve")
        for i, (cx, cy) in enumerate(px(np.asarray(spots, float))):
            draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=colours[i], outline=_INK,
                         width=k)
            light = sum(w * c for w, c in zip((0.299, 0.587, 0.114), colours[i], strict=True)) > 140
            font, shown = names[i]
            draw.text((cx, cy), shown, font=font, fill=_INK if light else (255, 255, 255), anchor="mm")
    path = Path(path)
    img.reduce(k).save(path)  # a box filter over each k x k block: the antialiasing
    return path
