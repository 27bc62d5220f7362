"""The move library: a team's point moves (포인트 안무), stored once and placed on the beats of any song.

A `Move` is either a short motion (frames at 20 fps) or a few key poses at given beats. Its joints are in
the move's own frame: its first frame's root over the origin, facing +Z, the floor at y = 0 (as the motion
file had it). It knows its length in beats and, for a motion, its tempo (given, or detected from the
motion's own rhythm), so it can be re-timed onto another song's beats (`retime`).

Files: one JSON per move, `<data dir>/moves/NAME.json` (`choreo.config.data_dir()`, $CHOREO_DATA_DIR):
    {"format": "choreo-move/1", "name": "heart", "kind": "motion" | "key_poses", "bpm": 120.0 | null,
     "beats": 4.0, "fps": 20.0, "source": "...", "joints": [frames][22][3] (m, 0.1 mm),
     "pose_beats": [beat of each pose] | null}
Names are a letter or digit then letters, digits, '-' or '_' (at most 48): never a path.

Sources (`move_from_file`): any file `choreo.importers.load_motions` reads (BVH, JSON, NPZ), a
`choreo generate` output (motion.json, motion.bvh, or results.npy with allow_pickle), a `choreography.json`
(one member, optionally one section; its tempo is the song's), or a key-pose file:
    {"format": "choreo-key-poses/1", "beats": 4, "poses": [{"beat": 0, "joints": [22][3]}, ...]}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline

from choreo.errors import ChoreoError
from choreo.representation import apply_transform, facing_transform
from choreo.skeleton import CANONICAL_BONE_LENGTHS, FPS, NUM_JOINTS, bone_lengths, enforce_bone_lengths

MOVE_FORMAT = "choreo-move/1"
KEY_POSES_FORMAT = "choreo-key-poses/1"
KINDS = ("motion", "key_poses")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$")
MIN_BEATS = 1.0  # a move shorter than one beat is no move
MAX_BEATS = 64.0  # 16 bars: longer is a section, not a point move
BPM_RANGE = (40.0, 240.0)  # a given tempo outside this is a typo
DETECT_RANGE = (80.0, 160.0)  # a detected tempo is folded into this octave (K-pop: ~90-140 BPM)
MIN_FRAMES = 4
DECIMALS = 4  # 0.1 mm


@dataclass
class Move:
    """A point move. joints [F,22,3] in its own frame; for key poses, pose_beats [F] gives each pose's beat."""

    name: str
    kind: str  # "motion" or "key_poses"
    joints: np.ndarray
    beats: float  # length in beats
    bpm: float | None = None  # a motion's own tempo; None for key poses (they sit on beats)
    pose_beats: np.ndarray | None = None
    source: str = ""
    fps: float = FPS

    def to_dict(self) -> dict:
        return {"format": MOVE_FORMAT, "name": self.name, "kind": self.kind, "bpm": self.bpm,
                "beats": self.beats, "fps": self.fps, "source": self.source,
                "joints": np.round(self.joints, DECIMALS).tolist(),
                "pose_beats": None if self.pose_beats is None else [float(b) for b in self.pose_beats]}

    @classmethod
    def from_dict(cls, data: object, where: str = "move") -> Move:
        if not isinstance(data, dict) or data.get("format") != MOVE_FORMAT:
            raise ChoreoError(f"{where}: not a move file (expected format {MOVE_FORMAT!r})")
        try:
            kind = str(data["kind"])
            joints = np.asarray(data["joints"], dtype=np.float64)
            pose_beats = data.get("pose_beats")
            move = cls(name=str(data["name"]), kind=kind, joints=joints, beats=float(data["beats"]),
                       bpm=None if data.get("bpm") is None else float(data["bpm"]),
                       pose_beats=None if pose_beats is None else np.asarray(pose_beats, dtype=np.float64),
                       source=str(data.get("source", "")), fps=float(data.get("fps", FPS)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ChoreoError(f"{where}: damaged move file ({type(exc).__name__}: {exc})") from None
        check_move(move, where)
        return move

    def describe(self) -> str:
        if self.kind == "key_poses":
            return f"{self.name:<16} key poses  {self.beats:5.2f} beats  {len(self.joints)} poses  {self.source}"
        return (f"{self.name:<16} motion     {self.beats:5.2f} beats  {self.bpm:6.1f} BPM  "
                f"{len(self.joints) / self.fps:5.2f} s  {self.source}")


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ChoreoError(f"move name {name!r} is not allowed: use a letter or digit, then letters, digits, "
                          "'-' or '_' (at most 48 characters), e.g. 'heart-wave'")
    return name


def check_move(move: Move, where: str = "move") -> None:
    check_name(move.name)
    if move.kind not in KINDS:
        raise ChoreoError(f"{where}: kind {move.kind!r} is not one of {', '.join(KINDS)}")
    j = move.joints
    if j.ndim != 3 or j.shape[1:] != (NUM_JOINTS, 3) or not np.all(np.isfinite(j)):
        raise ChoreoError(f"{where}: joints must be finite [frames, {NUM_JOINTS}, 3], got {list(j.shape)}")
    if not (np.isfinite(move.beats) and MIN_BEATS <= move.beats <= MAX_BEATS):
        raise ChoreoError(f"{where}: the move is {move.beats:.2f} beats long; a move is {MIN_BEATS:g}-{MAX_BEATS:g} "
                          "beats (crop a longer clip with --start/--end)")
    if move.kind == "motion":
        if move.bpm is None or not BPM_RANGE[0] <= move.bpm <= BPM_RANGE[1]:
            raise ChoreoError(f"{where}: tempo {move.bpm} BPM is not within {BPM_RANGE[0]:g}-{BPM_RANGE[1]:g}")
        if len(j) < MIN_FRAMES:
            raise ChoreoError(f"{where}: {len(j)} frames; a move needs at least {MIN_FRAMES}")
    else:
        b = move.pose_beats
        if b is None or b.shape != (len(j),) or len(j) < 1:
            raise ChoreoError(f"{where}: key poses need one beat per pose")
        if np.any(np.diff(b) <= 0) or b[0] < 0 or b[-1] > move.beats:
            raise ChoreoError(f"{where}: pose beats must increase within 0-{move.beats:g}, got {b.tolist()}")


# ---------------------------------------------------------------- the library


class MoveLibrary:
    """The moves stored under `root` (default `data_dir()/moves`), one JSON file each."""

    def __init__(self, root: str | Path | None = None) -> None:
        if root is None:
            from choreo.config import data_dir

            root = data_dir() / "moves"
        self.root = Path(root)

    def path(self, name: str) -> Path:
        return self.root / f"{check_name(name)}.json"

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.stem for p in self.root.glob("*.json") if NAME_RE.match(p.stem))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(NAME_RE.match(name)) and self.path(name).is_file()

    def get(self, name: str) -> Move:
        check_name(name)
        path = self.path(name)
        if not path.is_file():
            known = ", ".join(self.names()) or "none yet"
            raise ChoreoError(f"unknown move {name!r} (moves in {self.root}: {known}); add it with "
                              "`choreo moves add NAME FILE`")
        from choreo.json_file import read_json

        move = Move.from_dict(read_json(path), str(path))
        if move.name != name:
            raise ChoreoError(f"{path}: holds move {move.name!r}, not {name!r}")
        return move

    def moves(self) -> list[Move]:
        return [self.get(n) for n in self.names()]

    def check_new(self, name: str, force: bool = False) -> None:
        """ChoreoError if `name` is taken (and not to be replaced) or not a valid name."""
        path = self.path(name)
        if path.exists() and not force:
            raise ChoreoError(f"a move named {name!r} exists already ({path}); pass --force to replace it, "
                              "or choose another name")

    def add(self, move: Move, force: bool = False) -> Path:
        check_move(move)
        self.check_new(move.name, force)
        path = self.path(move.name)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".part")
            tmp.write_text(json.dumps(move.to_dict(), separators=(",", ":")) + "\n")
            tmp.replace(path)  # never a half-written move where a good one was
        except OSError as exc:
            raise ChoreoError(f"cannot write the move library at {self.root} ({exc.strerror or exc})") from None
        return path

    def remove(self, name: str) -> Path:
        path = self.path(name)
        if not path.is_file():
            self.get(name)  # raises the unknown-move error with the known names
        path.unlink()
        return path


# ---------------------------------------------------------------- making moves


def own_frame(joints: np.ndarray) -> np.ndarray:
    """Joints on the canonical skeleton (the members' bones: the root path scaled by the leg-length ratio, as
    HumanML3D retargets, then each bone set to its canonical length), moved so the first frame's root is over
    the origin, facing +Z (heights kept but for the scale)."""
    joints = np.asarray(joints, dtype=np.float64)
    legs = np.median(np.linalg.norm(joints[:, [4, 5]] - joints[:, [1, 2]], axis=-1)
                     + np.linalg.norm(joints[:, [7, 8]] - joints[:, [4, 5]], axis=-1))
    scale = (CANONICAL_BONE_LENGTHS[4] + CANONICAL_BONE_LENGTHS[7]) / max(float(legs), 1e-6)
    scaled = joints - joints[:, :1] + joints[:, :1] * scale
    canonical = enforce_bone_lengths(scaled)
    return apply_transform(canonical, *facing_transform(canonical))


def detect_tempo(joints: np.ndarray, fps: float = FPS) -> float:
    """The motion's own tempo (BPM): the beat period that best explains its kinematic beats (speed minima,
    `beat_sync.kinematic_beats`), folded into DETECT_RANGE. ChoreoError with fewer than 4 kinematic beats."""
    from choreo.choreography.beat_sync import kinematic_beats

    beats = kinematic_beats(joints, fps)
    if len(beats) < 4:
        raise ChoreoError(f"cannot detect the move's tempo: its motion has {len(beats)} clear beats (at least 4 "
                          "needed); give its tempo with --bpm")
    period = float(np.median(np.diff(beats)))
    bpm = 60.0 / period
    while bpm < DETECT_RANGE[0]:
        bpm *= 2.0
    while bpm >= DETECT_RANGE[1]:
        bpm /= 2.0
    # Refine: the tempo near the first guess whose grid the beats sit on best (phase free, Rayleigh).
    grid = np.linspace(bpm * 0.92, bpm * 1.08, 161)
    fold = lambda b: np.concatenate([beats * b / 60.0, beats * b / 30.0])  # noqa: E731 - beats and half-beats
    score = [abs(np.exp(2j * np.pi * (beats * b / 60.0)).mean()) + 0.5 * abs(np.exp(2j * np.pi * fold(b)).mean())
             for b in grid]
    return float(round(grid[int(np.argmax(score))], 1))


def _crop(joints: np.ndarray, fps: float, start: float | None, end: float | None, what: str) -> np.ndarray:
    length = len(joints) / fps
    s = 0.0 if start is None else float(start)
    e = length if end is None else float(end)
    if not (0.0 <= s < length):
        raise ChoreoError(f"--start {s:g} s is outside {what} (0-{length:.2f} s)")
    if not s < e <= length + 1e-6:
        raise ChoreoError(f"--end {e:g} s must be after --start ({s:g} s) and within {what} (0-{length:.2f} s)")
    return joints[int(round(s * fps)) : int(round(e * fps))]


def move_from_motion(name: str, joints: np.ndarray, *, fps: float = FPS, start: float | None = None,
                     end: float | None = None, bpm: float | None = None, source: str = "",
                     what: str = "the clip") -> Move:
    """A motion move from joints [T,22,3] at `fps` (20 after `load_motions`): the span [start, end) s, its
    tempo `bpm` or detected from the whole clip, its length in beats = seconds × BPM / 60."""
    check_name(name)
    whole = np.asarray(joints, dtype=np.float64)
    joints = _crop(whole, fps, start, end, what)
    if len(joints) < MIN_FRAMES:
        raise ChoreoError(f"the move is too short: {len(joints)} frames ({len(joints) / fps:.2f} s); a move needs "
                          f"at least {MIN_FRAMES} frames and one beat")
    if bpm is None:
        bpm = detect_tempo(whole, fps)  # the whole clip's rhythm: a few beats of a snippet are too few to tell
    elif not BPM_RANGE[0] <= bpm <= BPM_RANGE[1]:
        raise ChoreoError(f"--bpm {bpm:g} is not within {BPM_RANGE[0]:g}-{BPM_RANGE[1]:g}")
    beats = round(len(joints) / fps * bpm / 60.0, 3)
    if beats < MIN_BEATS:
        raise ChoreoError(f"the move is too short: {beats:.2f} beats at {bpm:g} BPM ({len(joints) / fps:.2f} s); "
                          f"a move lasts at least {MIN_BEATS:g} beat")
    from choreo.foot_contact import floor_height

    joints = own_frame(joints)
    joints[..., 1] -= floor_height(joints, move_contacts(joints, fps), fps)  # the floor as generated dances have it
    move = Move(name, "motion", joints, beats, float(bpm), source=source, fps=fps)
    check_move(move)
    return move


def move_from_choreography(name: str, data: dict, *, member: str | None = None, section: int | None = None,
                           start: float | None = None, end: float | None = None, bpm: float | None = None,
                           source: str = "") -> Move:
    """One member's span of a `choreography.json` (parsed): a section (index) or the whole song, then
    [start, end) seconds from its start; the tempo is the song's unless `bpm` is given."""
    from choreo.choreography.choreography import Choreography

    ch = Choreography.from_dict(data)
    names = ch.plan.names
    if member is None:
        m = 0
    elif member in names:
        m = names.index(member)
    elif member.isdigit() and 1 <= int(member) <= len(names):
        m = int(member) - 1
    else:
        raise ChoreoError(f"--member {member!r}: give a member number 1-{len(names)} or a name ({', '.join(names)})")
    joints = ch.members[m]
    what = "the song"
    if section is not None:
        if not 0 <= section < len(ch.sections):
            raise ChoreoError(f"--section {section}: the choreography has sections 0-{len(ch.sections) - 1}")
        a, b = ch.sections[section]
        joints = joints[a:b]
        what = f"section {section}"
    tempo = float(bpm) if bpm is not None else float(ch.song.tempo)
    return move_from_motion(name, joints, fps=ch.fps, start=start, end=end, bpm=tempo, source=source, what=what)


def move_from_key_poses(name: str, data: dict, source: str = "") -> Move:
    """A key-pose move from a parsed `choreo-key-poses/1` object (module docstring)."""
    check_name(name)
    if set(data) - {"format", "beats", "poses"} or "beats" not in data or "poses" not in data:
        raise ChoreoError(f"{source or 'key poses'}: expected keys format, beats, poses")
    poses = data["poses"]
    if not isinstance(poses, list) or not poses:
        raise ChoreoError(f"{source or 'key poses'}: poses must be a non-empty list of {{beat, joints}}")
    beats_at, joints = [], []
    for i, p in enumerate(poses):
        if not isinstance(p, dict) or set(p) != {"beat", "joints"}:
            raise ChoreoError(f"{source or 'key poses'}: pose {i} must be an object with keys beat and joints")
        try:
            beats_at.append(float(p["beat"]))
            joints.append(np.asarray(p["joints"], dtype=np.float64))
        except (TypeError, ValueError):
            raise ChoreoError(f"{source or 'key poses'}: pose {i}: beat must be a number and joints "
                              f"[{NUM_JOINTS}][3] numbers") from None
        if joints[-1].shape != (NUM_JOINTS, 3):
            raise ChoreoError(f"{source or 'key poses'}: pose {i} joints have shape {list(joints[-1].shape)}, "
                              f"expected [{NUM_JOINTS}, 3] (metres, Y up, our joint order)")
    try:
        beats = float(data["beats"])
    except (TypeError, ValueError):
        raise ChoreoError(f"{source or 'key poses'}: beats must be a number") from None
    poses = own_frame(np.stack(joints))
    poses[..., 1] -= poses[:, [7, 8, 10, 11], 1].min() - 0.02  # the lowest foot joint at a planted toe's height
    move = Move(name, "key_poses", poses, beats, None, np.asarray(beats_at), source=source)
    check_move(move, source or "key poses")
    return move


def move_from_file(name: str, path: str | Path, *, start: float | None = None, end: float | None = None,
                   bpm: float | None = None, member: str | None = None, section: int | None = None,
                   clip: int = 0, allow_pickle: bool = False) -> Move:
    """A move from any supported file (module docstring); `member`/`section` for a choreography.json, `clip`
    for a file of several motions; `allow_pickle` reads a `choreo generate` results.npy (a pickle: trusted
    files only)."""
    check_name(name)
    path = Path(path)
    if not path.exists():
        raise ChoreoError(f"{path}: no such file")
    data = None
    if path.suffix.lower() == ".json":
        from choreo.json_file import read_json

        data = read_json(path)
    fmt = data.get("format") if isinstance(data, dict) else None
    if fmt == "choreo-choreography/1":
        return move_from_choreography(name, data, member=member, section=section, start=start, end=end, bpm=bpm,
                                      source=str(path))
    if member is not None or section is not None:
        raise ChoreoError("--member and --section pick a span of a choreography.json; "
                          f"{path.name} is no choreography")
    if fmt == KEY_POSES_FORMAT:
        if start is not None or end is not None or bpm is not None:
            raise ChoreoError("key poses sit on beats: --start, --end and --bpm do not apply to them")
        return move_from_key_poses(name, data, source=str(path))
    if isinstance(data, dict) and "motion" in data:  # a `choreo generate` motion.json (one clip)
        from choreo.formats.motion_json import read_motion_json

        motions = read_motion_json(path)
    elif path.name.lower() == "results.npy":  # MDM's layout, as `choreo generate` writes it
        from choreo.formats.results_npy import read_results_npy

        motions = read_results_npy(path, allow_pickle=allow_pickle)
    else:
        from choreo.importers import load_motions

        motions = load_motions(path)
    if not 0 <= clip < len(motions):
        raise ChoreoError(f"--clip {clip}: {path.name} holds clips 0-{len(motions) - 1}")
    m = motions[clip]
    return move_from_motion(name, m.joints, fps=m.fps, start=start, end=end, bpm=bpm, source=str(path))


# ---------------------------------------------------------------- re-timing onto a song


def beat_time(beats: np.ndarray, index: int) -> float:
    """The time of beat `index` of a beat list (past its ends, extrapolated by the first or last interval)."""
    b = np.asarray(beats, dtype=np.float64)
    if len(b) < 2:
        raise ChoreoError("the song needs at least two beats to place a move on")
    if index < 0:
        return float(b[0] + index * (b[1] - b[0]))
    if index >= len(b):
        return float(b[-1] + (index - len(b) + 1) * (b[-1] - b[-2]))
    return float(b[index])


def move_span(move: Move, beats: np.ndarray, start_beat: int, tempo: float) -> tuple[float, float]:
    """(start, end) seconds of the move on a song: from beat `start_beat`, its beats at the song's `tempo`."""
    t0 = beat_time(beats, start_beat)
    return t0, t0 + move.beats * 60.0 / tempo


def retime(move: Move, beats: np.ndarray, start_beat: int, tempo: float, fps: float = FPS
           ) -> tuple[int, np.ndarray, np.ndarray]:
    """The move on a song from its beat `start_beat` at its `tempo` (BPM): (first frame, frame offsets [n] from
    it, joints [n,22,3] in the move's own frame).

    The first frame is the start beat's frame (rounded); frame j after it is the move j/fps × tempo/60 beats in,
    so the move's own beats fall on the song's beats (to the song's tempo: within a few milliseconds over a
    few beats of a steady song) and the same move is the same frames wherever it is placed (a chorus and its
    repeat stay identical). A motion is resampled (cubic, bone lengths kept); key poses go to their beats'
    frames."""
    first = int(round(beat_time(beats, start_beat) * fps))
    if move.kind == "key_poses":
        offsets = np.rint(move.pose_beats * 60.0 / tempo * fps).astype(int)
        if np.any(np.diff(offsets) < 1):
            raise ChoreoError(f"move {move.name!r}: at this tempo two of its key poses fall on the same frame")
        return first, offsets, move.joints.copy()
    n = max(2, int(round(move.beats * 60.0 / tempo * fps)))
    offsets = np.arange(n)
    src = np.clip(offsets / fps * tempo / move.bpm * move.fps, 0.0, len(move.joints) - 1)
    joints = CubicSpline(np.arange(len(move.joints)), move.joints, axis=0)(src)
    lengths = np.median(bone_lengths(move.joints), axis=0)
    return first, offsets, enforce_bone_lengths(joints, lengths)


def move_contacts(joints: np.ndarray, fps: float = FPS) -> np.ndarray:
    """Foot-contact flags [T,4] (L ankle, L toe, R ankle, R toe) of a move: a foot joint low and slow."""
    feet = joints[:, [7, 10, 8, 11]]
    speed = np.zeros(feet.shape[:2])
    if len(joints) > 1:
        speed[1:] = np.linalg.norm(np.diff(feet, axis=0), axis=-1) * fps
        speed[0] = speed[1]
    return ((feet[..., 1] < 0.12) & (speed < 0.4)).astype(np.float64)
