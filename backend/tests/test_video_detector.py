"""The detector stage on a real photograph that ships in a package (scikit-image's `astronaut`), moved,
scaled and mirrored frame by frame into short videos whose true 2-D motion is known. Skipped with the reason
when mediapipe (the extra `choreo[video]`) is not installed."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from choreo.cli import main

mp = pytest.importorskip("mediapipe", reason="the pose model comes with the extra: pip install 'choreo[video]'",
                         exc_type=ImportError)
skimage_data = pytest.importorskip("skimage.data", reason="scikit-image holds the test photograph")

from choreo.importers import load_motions  # noqa: E402
from choreo.video.decode import open_video  # noqa: E402
from choreo.video.detector import detect_track, find_people, require_mediapipe  # noqa: E402
from choreo.video.landmarks import mediapipe_to_ours, trunk_frame  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:SymbolDatabase.GetPrototype:UserWarning")  # mediapipe + protobuf 4

W, H, FPS, FRAMES = 320, 240, 30, 60
POINTS = (0, 7, 8, 11, 12)  # nose, ears, shoulders: the landmarks the photo shows clearly
SWAP = {0: 0, 7: 8, 8: 7, 11: 12, 12: 11}


@functools.lru_cache(maxsize=64)
def _photo(size: int, mirror: bool) -> np.ndarray:
    from skimage.transform import resize

    img = resize(skimage_data.astronaut(), (size, size), anti_aliasing=True)
    img = (img * 255).astype(np.uint8)
    return img[:, ::-1] if mirror else img


def placements() -> list[tuple[int, int, int]]:
    """(x, y, size) of the photo in each frame: it drifts right, bobs and breathes in size."""
    t = np.arange(FRAMES) / FRAMES
    size = (130 + 20 * np.sin(2 * np.pi * t)).astype(int)
    x = (20 + 120 * t).astype(int)
    y = (20 + 15 * np.sin(4 * np.pi * t)).astype(int)
    return list(zip(x.tolist(), y.tolist(), size.tolist(), strict=True))


def _write(path, frames) -> None:
    import imageio_ffmpeg

    w = imageio_ffmpeg.write_frames(str(path), (W, H), fps=FPS, macro_block_size=1, quality=9)
    w.send(None)
    for f in frames:
        w.send(np.ascontiguousarray(f))
    w.close()


def _frame(x: int, y: int, size: int, mirror: bool) -> np.ndarray:
    canvas = np.full((H, W, 3), 80, np.uint8)
    canvas[y: y + size, x: x + size] = _photo(size, mirror)[: H - y, : W - x]
    return canvas


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    plain, mirrored = root / "astronaut.mp4", root / "astronaut_mirrored.mp4"
    _write(plain, [_frame(x, y, s, False) for x, y, s in placements()])
    _write(mirrored, [_frame(x, y, s, False)[:, ::-1] for x, y, s in placements()])  # filmed in a mirror
    return {"plain": plain, "mirrored": mirrored, "root": root}


@pytest.fixture(scope="module")
def reference():
    """Landmarks of the still photo (fractions of its side), detected once in still-image mode."""
    mpm = require_mediapipe()
    with mpm.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
        res = pose.process(skimage_data.astronaut())
    assert res.pose_landmarks is not None, "the pose model must find the astronaut in the photo"
    return np.array([(p.x, p.y) for p in res.pose_landmarks.landmark])


def expected(ref: np.ndarray) -> np.ndarray:
    """True pixel positions [T,33,2] of the reference landmarks in every frame."""
    return np.stack([np.array([x, y]) + s * ref for x, y, s in placements()])


def sizes() -> np.ndarray:
    return np.array([s for _, _, s in placements()], dtype=float)[:, None]


def _errors(track, truth: np.ndarray, labels: dict[int, int]) -> np.ndarray:
    return np.stack([np.linalg.norm(track.image[:, k] - truth[:, v], axis=-1) for k, v in labels.items()], -1)


def test_detector_follows_the_moving_scaled_photo(videos, reference):
    info, frames = open_video(videos["plain"])
    track, _ = detect_track(frames, info)
    assert track.num_frames == FRAMES
    assert track.tracked().all()
    err = _errors(track, expected(reference), {k: k for k in POINTS}) / sizes()  # in photo sides (130-150 px)
    assert np.median(err) < 0.03
    assert np.percentile(err[:, :3], 95) < 0.05  # nose and ears
    assert np.percentile(err[:, 3:], 95) < 0.15  # shoulders: the spacesuit's padding hides where they are
    # Its 3-D world landmarks have the dancer's left at image right (the astronaut faces the camera).
    assert np.median(track.world[:, 11, 0] - track.world[:, 12, 0]) > 0.2
    # ... and in our axes she faces +Z (toward the camera) with her left at +X: a proper body, not a mirror.
    _, axes, _ = trunk_frame(mediapipe_to_ours(track.world))
    assert np.median(axes[:, 2, 2]) > 0.8 and np.median(axes[:, 0, 0]) > 0.8


def test_mirrored_video_read_with_mirror_gives_the_plain_motion(videos, reference):
    info, frames = open_video(videos["mirrored"], mirror=True)
    track, _ = detect_track(frames, info)
    err = _errors(track, expected(reference), {k: k for k in POINTS}) / sizes()
    assert np.median(err) < 0.03
    # Read as it is, the mirrored video shows a mirror image: each landmark sits at the flipped place of
    # its left/right partner (the detector names sides by the body it sees, not by the image side).
    info, frames = open_video(videos["mirrored"])
    track, _ = detect_track(frames, info)
    truth = expected(reference)
    truth[..., 0] = W - truth[..., 0]
    assert np.median(_errors(track, truth, SWAP) / sizes()) < 0.03


def test_person_two_follows_the_right_hand_dancer(videos):
    left, right = _photo(110, False), _photo(110, True)
    frames = []
    for i in range(20):
        canvas = np.full((H, W, 3), 80, np.uint8)
        dy = int(10 * np.sin(2 * np.pi * i / 30))
        canvas[40 + dy: 150 + dy, 20:130] = left
        canvas[60 - dy: 170 - dy, 190:300] = right
        frames.append(canvas)
    path = videos["root"] / "two.mp4"
    _write(path, frames)
    assert len(find_people(require_mediapipe(), frames[0])) == 2
    info, it = open_video(path)
    track, _ = detect_track(it, info, person=2)
    assert track.tracked().all()
    nose = track.image[:, 0]
    assert np.all(nose[:, 0] > 190) and np.all(nose[:, 0] < 300)
    # It moves as the right-hand photo does (down while the left one goes up).
    truth_y = 60 - (10 * np.sin(2 * np.pi * np.arange(20) / 30)).astype(int)
    assert np.corrcoef(nose[:, 1], truth_y)[0, 1] > 0.9
    info, it = open_video(path)
    with pytest.raises(Exception, match="at most 2 people"):
        detect_track(it, info, person=3)


def test_no_person_is_a_clear_error(tmp_path, capsys):
    rng = np.random.default_rng(0)
    path = tmp_path / "empty.mp4"
    _write(path, [rng.integers(60, 90, (H, W, 3), dtype=np.uint8) for _ in range(20)])
    assert main(["import-video", str(path), "--out", str(tmp_path / "o.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no person found in 20 frames" in err and len(err.splitlines()) == 1


def test_import_video_cli_writes_motion_report_and_pictures(videos, tmp_path, capsys):
    out = tmp_path / "astro.json"
    assert main(["import-video", str(videos["plain"]), "--out", str(out), "--text", "a person waves"]) == 0
    printed = capsys.readouterr().out
    assert "tracked 100%" in printed and "verdict" in printed
    saved = json.loads(out.read_text())
    quality = saved[0]["quality"]
    assert quality["tracked_fraction"] == 1.0 and quality["clip"]["bone_error_max_m"] < 1e-4
    for name in ("astro_overlay.png", "astro_sheet.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    motions = load_motions(tmp_path)  # the folder holds training JSON and pictures: prepare-data reads it
    assert len(motions) == 1 and motions[0].text == "a person waves"
    assert motions[0].num_frames == FRAMES * 20 // FPS


def test_prepare_data_reads_a_video_directly(videos, tmp_path, capsys):
    motions = load_motions(videos["plain"])
    assert len(motions) == 1 and motions[0].performance == "astronaut"
    assert motions[0].meta["video"]["filled_frames"] == 0
    assert main(["prepare-data", str(videos["plain"]), "--out", str(tmp_path / "ds"), "--val-fraction", "0"]) == 0
    assert (tmp_path / "ds" / "clips.npz").is_file()
