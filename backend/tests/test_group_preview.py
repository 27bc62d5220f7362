"""Group preview video: written with the real ffmpeg of imageio-ffmpeg and read back (frames, size, the
audio stream and its length, pixels where members, the beat dot and the section caption must be)."""

from __future__ import annotations

import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
import soundfile as sf

from choreo import fonts
from choreo.errors import ChoreoError
from choreo.formats.group_preview import GroupView, StageMarks, group_frame_png, write_group_preview
from choreo.skeleton import JOINT_NAMES, NUM_JOINTS, forward_kinematics

FPS = 20.0
PELVIS = JOINT_NAMES.index("pelvis")
FRAMES = 50  # 2.5 s
SIZE = (480, 270)
RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 200, 0)
BEATS = np.array([0.5, 1.0, 1.5, 2.0])  # on frames 10, 20, 30, 40
MARKS = StageMarks(sections=[(0.0, 1.2, "intro"), (1.2, 3.0, "chorus (A)")], beats=BEATS,
                   downbeats=np.array([0.5, 2.0]))


def standing(x: float, z: float, frames: int = FRAMES) -> np.ndarray:
    """The skeleton's rest pose (facing +Z) standing on the floor at (x, z)."""
    quats = np.zeros((frames, NUM_JOINTS, 4))
    quats[..., 0] = 1.0
    joints = forward_kinematics(quats, np.tile([x, 0.0, z], (frames, 1)))
    joints[..., 1] -= joints[..., 1].min()
    return joints


def group() -> list[np.ndarray]:
    return [standing(1.5, 0.0), standing(-1.5, 0.0), standing(0.0, -1.0)]


def song(path, seconds: float = 3.0, rate: int = 22050) -> None:
    """A WAV longer than the motion: a quiet tone with clicks on the beats."""
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.2 * np.sin(2 * np.pi * 440 * t)
    for b in BEATS:
        i = int(b * rate)
        wave[i:i + 200] += 0.6
    sf.write(path, wave.astype(np.float32), rate)


def decode(path) -> tuple[dict, np.ndarray]:
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = reader.__next__()
    w, h = meta["size"]
    frames = np.stack([np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader])
    return meta, frames


def probe(path) -> str:
    """ffmpeg's stream listing (stderr of `ffmpeg -i`)."""
    out = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                         capture_output=True, text=True)
    return out.stderr


def audio_samples(path, rate: int = 8000) -> np.ndarray:
    out = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-vn",
                          "-ac", "1", "-ar", str(rate), "-f", "s16le", "-"], capture_output=True, check=True)
    return np.frombuffer(out.stdout, np.int16).astype(np.float64) / 32768


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    folder = tmp_path_factory.mktemp("group_preview")
    wav = folder / "song.wav"
    song(wav)
    calls = []
    path = write_group_preview(folder / "preview.mp4", group(), FPS, audio=wav, marks=MARKS,
                               names=["R", "B", "G"], colors=[RED, BLUE, GREEN], title="test song",
                               size=SIZE, progress=lambda done, total: calls.append((done, total)))
    meta, frames = decode(path)
    view = GroupView(group(), FPS, MARKS, ["R", "B", "G"], [RED, BLUE, GREEN], "test song", SIZE)
    return path, meta, frames, view, calls


def test_video_has_every_frame_at_the_size_and_the_song_trimmed_to_the_motion(video):
    path, meta, frames, _, calls = video
    assert abs(len(frames) - FRAMES) <= 1
    assert tuple(meta["size"]) == SIZE and meta["fps"] == pytest.approx(FPS)
    listing = probe(path)
    assert "Video: h264" in listing and "yuv420p" in listing and "Audio: aac" in listing
    audio = audio_samples(path)
    # The 3-s song is cut to the 2.5-s motion (AAC adds at most a frame of priming/padding).
    assert len(audio) / 8000 == pytest.approx(FRAMES / FPS, abs=0.08)
    assert np.sqrt(np.mean(audio ** 2)) > 0.05  # the tone is there, not silence
    assert calls[-1] == (FRAMES, FRAMES) and all(np.diff([done for done, _ in calls]) > 0)


def _mask(frame: np.ndarray, color: tuple[int, int, int]) -> np.ndarray:
    """Pixels close to a pure member colour (yuv420p blurs chroma, so the match is loose)."""
    diff = np.abs(frame.astype(int) - np.array(color)).max(-1)
    return diff < 90


def test_member_at_plus_x_is_on_the_right_as_seen_from_the_audience(video):
    _, _, frames, _, _ = video
    frame = frames[5]
    red_cols = np.nonzero(_mask(frame, RED))[1]
    blue_cols = np.nonzero(_mask(frame, BLUE))[1]
    assert red_cols.size > 100 and blue_cols.size > 100
    assert red_cols.min() > SIZE[0] / 2 and blue_cols.max() < SIZE[0] / 2


def _region(frame: np.ndarray, centre: tuple[float, float], radius: float) -> np.ndarray:
    x, y, r = int(centre[0]), int(centre[1]), int(np.ceil(radius))
    return frame[y - r:y + r + 1, x - r:x + r + 1].astype(float)


def test_beat_dot_lights_on_beats_and_is_dark_between(video):
    _, _, frames, view, _ = video
    dark = _region(frames[5], view.beat_centre, view.beat_radius).mean()
    for beat in BEATS:
        on = int(round(beat * FPS))
        lit = _region(frames[on], view.beat_centre, view.beat_radius).mean()
        between = _region(frames[on + 5], view.beat_centre, view.beat_radius).mean()
        assert lit > dark + 40, beat
        assert between == pytest.approx(dark, abs=6), beat
    # Downbeats (0.5 s, 2.0 s) draw a bigger dot than plain beats: more lit pixels in a wider box.
    wide = view.beat_radius * 1.6
    lit_px = [(_region(frames[int(b * FPS)], view.beat_centre, wide).max(-1) > 120).sum() for b in BEATS]
    assert lit_px[0] > lit_px[1] * 1.5 and lit_px[3] > lit_px[2] * 1.5


def test_section_caption_changes_with_the_section(video):
    _, _, frames, view, _ = video
    x, y = (int(v) for v in view.caption_xy)
    box = (slice(y, y + int(24 * view.unit)), slice(x, x + int(160 * view.unit)))
    intro_a, intro_b, chorus = (frames[k][box].astype(float) for k in (3, 16, 35))
    assert np.abs(intro_a - intro_b).mean() < 2
    assert np.abs(intro_a - chorus).mean() > 8


@pytest.mark.parametrize("start", [0.0, 1.0, -0.5])
def test_song_is_aligned_to_start(tmp_path, start):
    """A burst at song time 1.5 s is heard at 1.5 - start in the video (skipped into, or delayed)."""
    rate = 22050
    wave = np.zeros(int(3.5 * rate))
    i = int(1.5 * rate)
    wave[i:i + int(0.02 * rate)] = 0.8 * np.sin(2 * np.pi * 1000 * np.arange(int(0.02 * rate)) / rate)
    sf.write(tmp_path / "burst.wav", wave.astype(np.float32), rate)
    path = write_group_preview(tmp_path / "v.mp4", group()[:1], FPS, audio=tmp_path / "burst.wav", size=SIZE,
                               start=start)
    audio = audio_samples(path)
    assert np.argmax(np.abs(audio)) / 8000 == pytest.approx(1.5 - start, abs=0.03)


def test_silent_video_has_no_audio_stream(tmp_path):
    path = write_group_preview(tmp_path / "silent.mp4", group()[:1], FPS, audio=None, size=SIZE)
    listing = probe(path)
    assert "Video: h264" in listing and "Audio:" not in listing
    _, frames = decode(path)
    assert abs(len(frames) - FRAMES) <= 1


def test_still_png_matches_the_video_view(tmp_path):
    png = group_frame_png(tmp_path / "still.png", group(), 5, fps=FPS, colors=[RED, BLUE, GREEN], size=SIZE)
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB"))
    assert img.shape == (SIZE[1], SIZE[0], 3)
    assert np.nonzero(_mask(img, RED))[1].min() > SIZE[0] / 2
    with pytest.raises(ChoreoError, match="frame 50 is outside"):
        group_frame_png(tmp_path / "x.png", group(), FRAMES, fps=FPS)


def test_nearer_member_is_drawn_over_the_one_behind():
    """Red stands 2 m in front of blue on the same line of sight: where blue's pelvis would show, red's body
    covers it (members are drawn far to near, whatever their order in the list)."""
    members = [standing(0.0, -1.0), standing(0.0, 1.0)]  # blue (behind) first in the list
    view = GroupView(members, FPS, colors=[BLUE, RED], size=SIZE)
    img = np.asarray(view.frame(0))
    x, y = (int(round(v)) for v in view.px[0, 0, PELVIS])
    assert tuple(img[y, x]) in (RED, view.dark[1])


def test_start_shifts_the_marks_onto_the_song_clock():
    """With `start`, frame 0 is that song time: a beat at 0.5 s lights frame 0 and the caption is the
    section playing then."""
    view = GroupView(group(), FPS, MARKS, size=SIZE, start=1.5)
    assert view.beat_at(1.5)[0] == pytest.approx(1.0) and view.section_at(1.5) == "chorus (A)"
    lit = _region(np.asarray(view.frame(0)), view.beat_centre, view.beat_radius).mean()
    dark = _region(np.asarray(view.frame(5)), view.beat_centre, view.beat_radius).mean()
    assert lit > dark + 40


def test_labels_use_a_font_that_has_their_characters():
    """Hangul names are drawn with an installed font covering them, or as the member's number (DejaVu Sans
    has no Hangul): never as empty boxes."""
    names = ["지수", "Rosé", "리사 (막내)"]
    view = GroupView(group(), FPS, names=names, size=SIZE)
    for i, ((font, text), name) in enumerate(zip(view.labels, names, strict=True)):
        assert text in (name, f"{i + 1}")
        assert all(ord(c) in fonts.coverage(fonts.Face(font.path, font.index)) for c in text if not c.isspace())
        assert "lastresort" not in font.path.lower()  # its "glyphs" are placeholder boxes
    assert view.labels[1][1] == "Rosé"


def test_bad_inputs_are_one_line_errors(tmp_path):
    out = tmp_path / "x.mp4"
    with pytest.raises(ChoreoError, match="no members"):
        write_group_preview(out, [], FPS, audio=None)
    with pytest.raises(ChoreoError, match="different lengths"):
        write_group_preview(out, [standing(0, 0, 40), standing(1, 0, 30)], FPS, audio=None)
    with pytest.raises(ChoreoError, match=r"member 1 has shape \(40, 21, 3\)"):
        write_group_preview(out, [standing(0, 0, 40), np.zeros((40, 21, 3))], FPS, audio=None)
    with pytest.raises(ChoreoError, match="song file .* does not exist"):
        write_group_preview(out, group(), FPS, audio=tmp_path / "missing.mp3")
    with pytest.raises(ChoreoError, match="does not exist"):
        write_group_preview(tmp_path / "no" / "dir" / "x.mp4", group(), FPS, audio=None)
    with pytest.raises(ChoreoError, match="3 members but 2 colours"):
        write_group_preview(out, group(), FPS, audio=None, colors=[RED, BLUE])
    not_audio = tmp_path / "song.wav"
    not_audio.write_text("not a song")
    with pytest.raises(ChoreoError, match="ffmpeg failed") as err:
        write_group_preview(out, group(), FPS, audio=not_audio, size=SIZE)
    assert "\n" not in str(err.value) and not out.exists()
