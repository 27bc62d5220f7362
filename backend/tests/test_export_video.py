"""preview.mp4 and the contact sheet."""

from __future__ import annotations

import re
import subprocess

import matplotlib.image
import numpy as np
import pytest

from choreo.errors import ChoreoError
from choreo.formats.contact_sheet import FRAME_INCHES, LABEL_INCHES, write_contact_sheet
from choreo.formats.preview_video import write_preview_video
from choreo.motion import Motion

from synthetic_motion import rigid_dance

imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")


def test_preview_video_has_every_frame_as_browser_playable_h264(tmp_path):
    motions = [Motion(rigid_dance(frames=30, seed=1)), Motion(rigid_dance(frames=18, seed=2))]
    path = write_preview_video(motions, tmp_path / "preview.mp4", title="a test prompt")
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert frames == 30  # the longest clip; the shorter one holds its last pose
    assert seconds == pytest.approx(30 / 20.0, abs=0.06)
    assert path.stat().st_size > 5_000
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                           capture_output=True, text=True).stderr
    assert re.search(r"Video: h264.*yuv420p", probe)


def test_preview_video_needs_a_motion(tmp_path):
    with pytest.raises(ChoreoError):
        write_preview_video([], tmp_path / "x.mp4")


def _figure_ink_rows(png) -> np.ndarray:
    """Rows of pixels with something drawn right of the labels (where the stick figures go)."""
    image = matplotlib.image.imread(png)[..., :3]
    labels_end = int(image.shape[1] * LABEL_INCHES / (LABEL_INCHES + 4 * FRAME_INCHES)) + 2
    return (image[:, labels_end:] < 0.9).any(axis=(1, 2))


def test_contact_sheet_draws_one_row_per_clip(tmp_path):
    clips = [Motion(rigid_dance(frames=20, seed=s), source=f"clip_{s}.bvh") for s in range(3)]
    one = write_contact_sheet(clips[:1], tmp_path / "one.png", frames_per_clip=4)
    three = write_contact_sheet(clips, tmp_path / "three.png", frames_per_clip=4)
    h1, h3 = (matplotlib.image.imread(p).shape[0] for p in (one, three))
    assert h3 - h1 == pytest.approx(2 * 1.1 * 72, abs=2)  # two more rows of 1.1 in at 72 dpi
    ink = _figure_ink_rows(three)
    # Each of the three row bands holds drawing.
    title = int(0.4 / (1.1 * 3 + 0.4) * len(ink))
    bands = np.array_split(ink[title:], 3)
    assert all(band.mean() > 0.3 for band in bands)


def test_contact_sheet_rejects_empty_input(tmp_path):
    with pytest.raises(ChoreoError):
        write_contact_sheet([], tmp_path / "x.png")
