"""3-D body pose per frame with MediaPipe's legacy `solutions.pose` (optional extra `choreo[video]`).

Only `model_complexity=1` is usable offline: its model (`pose_landmark_full.tflite`) ships inside the
mediapipe 0.10.14 wheel, while 0 and 2 try to download theirs. MediaPipe's own landmark smoothing is
switched off: it is a causal filter and would make every move late; we smooth forward and backward later.

The legacy graph follows one person. `person="auto"` lets it pick (the most prominent dancer); `person=N`
finds the people in the first frame (detect, blank out, detect again), takes the N-th from the left and
follows them by feeding the detector a crop around where they were in the frame before.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterable, Iterator
from types import ModuleType

import numpy as np

from choreo.errors import ChoreoError
from choreo.video.decode import VideoInfo
from choreo.video.landmarks import NUM_LANDMARKS, PoseTrack

INSTALL_HINT = "pip install 'choreo[video]'"
MODEL_COMPLEXITY = 1
MIN_DETECTION_CONFIDENCE = 0.5
MAX_PEOPLE = 6
CROP_MARGIN = 1.6
CROP_PX = 256  # crop side = this x the person's box (the longer side), so a fast move stays inside
FIND_PEOPLE_FRAMES = 30  # look this many frames for enough people for --person N


def require_mediapipe() -> ModuleType:
    """The mediapipe module, or a ChoreoError that says how to install it."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ log lines are noise to a user
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import mediapipe
            from mediapipe.python.solutions import pose  # noqa: F401  (fails on releases without models)
    except ImportError as exc:
        raise ChoreoError(
            f"reading videos needs the pose model of mediapipe 0.10.14 ({exc}); install it with: {INSTALL_HINT}"
        ) from exc
    return mediapipe


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence what MediaPipe's C++ and TFLite print on start-up (delegate and feedback-tensor notices).

    Python exceptions still propagate; only the process's file descriptor 2 is pointed at /dev/null."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _pose(mp: ModuleType, static: bool):  # noqa: ANN202 - mediapipe's Pose class
    with _quiet_native_stderr():
        return mp.solutions.pose.Pose(static_image_mode=static, model_complexity=MODEL_COMPLEXITY,
                                      smooth_landmarks=False, enable_segmentation=False,
                                      min_detection_confidence=MIN_DETECTION_CONFIDENCE,
                                      min_tracking_confidence=0.5)


def _process(pose, frame: np.ndarray, quiet: bool = False):  # noqa: ANN001, ANN202
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if quiet:  # the first frame of a graph: where the start-up notices come
            with _quiet_native_stderr():
                return pose.process(frame)
        return pose.process(frame)


def _unpack(result, offset: tuple[float, float], size: tuple[int, int]) -> tuple[np.ndarray, ...] | None:  # noqa: ANN001
    """(world [33,3], image px [33,2], visibility [33]) of a result, image points mapped into the frame."""
    if result.pose_landmarks is None or result.pose_world_landmarks is None:
        return None
    img = np.array([(p.x, p.y) for p in result.pose_landmarks.landmark]) * np.array(size) + np.array(offset)
    vis = np.array([p.visibility for p in result.pose_landmarks.landmark])
    world = np.array([(p.x, p.y, p.z) for p in result.pose_world_landmarks.landmark])
    return world, img, vis


def _box(img: np.ndarray, vis: np.ndarray) -> np.ndarray:
    """x0, y0, x1, y1 of the landmarks the detector sees (all of them if it sees few)."""
    pts = img[vis > 0.5] if (vis > 0.5).sum() >= 4 else img
    return np.concatenate([pts.min(axis=0), pts.max(axis=0)])


def _crop_window(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """A square window around a box (may reach outside the frame; `_crop` pads it)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = int(max(box[2] - box[0], box[3] - box[1], 32) * CROP_MARGIN)
    x0, y0 = int(cx - side / 2), int(cy - side / 2)
    return x0, y0, x0 + side, y0 + side


def _crop(frame: np.ndarray, window: tuple[int, int, int, int]) -> tuple[np.ndarray, float]:
    """The window's pixels (grey outside the frame) resized to CROP_PX square, and the resize factor.

    A fixed input size keeps MediaPipe's graph from re-initialising for every new crop size."""
    import cv2  # installed with mediapipe

    x0, y0, x1, y1 = window
    side = x1 - x0
    out = np.full((side, side, 3), 127, np.uint8)
    fx0, fy0, fx1, fy1 = max(x0, 0), max(y0, 0), min(x1, frame.shape[1]), min(y1, frame.shape[0])
    if fx1 > fx0 and fy1 > fy0:
        out[fy0 - y0: fy1 - y0, fx0 - x0: fx1 - x0] = frame[fy0:fy1, fx0:fx1]
    return cv2.resize(out, (CROP_PX, CROP_PX), interpolation=cv2.INTER_AREA), CROP_PX / side


def _grown(box: np.ndarray, factor: float) -> np.ndarray:
    centre, half = (box[:2] + box[2:]) / 2, (box[2:] - box[:2]) / 2 * factor
    return np.concatenate([centre - half, centre + half])


def find_people(mp: ModuleType, frame: np.ndarray) -> list[np.ndarray]:
    """Boxes of the people in one frame, left to right: detect one, blank them out, detect again.

    The landmarks' box is smaller than the body (hair, clothes, hands): the blanked area is twice its
    size, and a detection centred inside an earlier person's doubled box is that person's remains; so is
    one whose shoulders are less than half as wide on screen as the first person's (dancers filmed
    together are of similar size in the picture)."""
    work = frame.copy()
    boxes: list[np.ndarray] = []
    first_width = 0.0
    with _pose(mp, static=True) as pose:
        for _ in range(MAX_PEOPLE):
            found = _unpack(_process(pose, work, quiet=not boxes), (0.0, 0.0), (frame.shape[1], frame.shape[0]))
            # A blanked-out frame sometimes yields a faint ghost: only clearly seen shoulders count.
            if found is None or found[2][[11, 12]].min() < 0.8:
                break
            box = _box(found[1], found[2])
            centre = (box[:2] + box[2:]) / 2
            width = float(np.linalg.norm(found[1][11] - found[1][12]))
            if any(np.all(centre >= g[:2]) and np.all(centre <= g[2:]) for g in (_grown(b, 2.0) for b in boxes)):
                break
            if width < 0.5 * first_width:
                break
            first_width = first_width or width
            boxes.append(box)
            x0, y0, x1, y1 = np.clip(_grown(box, 2.0), 0, None).astype(int)
            work[y0:y1, x0:x1] = np.uint8(127)
    return sorted(boxes, key=lambda b: (b[0] + b[2]) / 2)


def parse_person(person: str | int) -> int | None:
    """None for "auto", else the 1-based index from the left; ChoreoError for anything else."""
    if isinstance(person, int) or str(person).strip().isdigit():
        n = int(person)
        if n < 1:
            raise ChoreoError(f"--person must be auto or a number from 1 (leftmost), got {person}")
        return n
    if str(person).strip().lower() == "auto":
        return None
    raise ChoreoError(f"--person must be auto or a number from 1 (leftmost), got {person!r}")


def _too_few(info: VideoInfo, wanted: int, most: int, frames: int) -> None:
    raise ChoreoError(f"{info.path}: --person {wanted} asked, but at most {most} people were found "
                      f"in the first {frames} frames")


def detect_track(frames: Iterable[np.ndarray], info: VideoInfo, *, person: str | int = "auto",
                 keep: set[int] | None = None) -> tuple[PoseTrack, dict[int, np.ndarray]]:
    """Landmarks of one person in every frame (NaN where not found) and the frames listed in `keep`."""
    mp = require_mediapipe()
    wanted = parse_person(person)
    keep = keep or set()
    worlds, images, vises, kept = [], [], [], {}
    box, most, quieted = None, 0, False
    with _pose(mp, static=False) as pose:
        for i, frame in enumerate(frames):
            if i in keep:
                kept[i] = frame.copy()
            found = None
            if wanted is None:
                found = _unpack(_process(pose, frame, quiet=i == 0), (0.0, 0.0), (info.width, info.height))
            else:
                if box is None:
                    people = find_people(mp, frame)
                    most = max(most, len(people))
                    if len(people) >= wanted:
                        box = people[wanted - 1]
                    elif i + 1 >= FIND_PEOPLE_FRAMES:
                        _too_few(info, wanted, most, i + 1)
                if box is not None:
                    window = _crop_window(box, info.width, info.height)
                    crop, _ = _crop(frame, window)
                    side = window[2] - window[0]
                    found = _unpack(_process(pose, crop, quiet=not quieted), window[:2], (side, side))
                    quieted = True
                    if found is not None:
                        box = _box(found[1], found[2])
            if found is None:
                worlds.append(np.full((NUM_LANDMARKS, 3), np.nan))
                images.append(np.full((NUM_LANDMARKS, 2), np.nan))
                vises.append(np.zeros(NUM_LANDMARKS))
            else:
                worlds.append(found[0])
                images.append(found[1])
                vises.append(found[2])
    if wanted is not None and box is None:
        _too_few(info, wanted, most, len(worlds))
    shape = (-1, NUM_LANDMARKS)
    track = PoseTrack(
        np.array(worlds).reshape(shape + (3,)), np.array(images).reshape(shape + (2,)),
        np.array(vises).reshape(shape), info.fps, info.width, info.height,
    )
    return track, kept
