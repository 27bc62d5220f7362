"""Bad video inputs give one clear line and exit code 2 — without needing the pose model."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from choreo.cli import main
from choreo.errors import ChoreoError
from choreo.importers import load_motions
from choreo.video.decode import open_video


def _ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True)


def _fails(capsys, argv: list[str], match: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert match in err, err
    return err


def test_corrupt_file(tmp_path, capsys):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8).tobytes())
    _fails(capsys, ["import-video", str(bad), "--out", str(tmp_path / "o.json")], "ffmpeg cannot read")


def test_audio_only_file(tmp_path, capsys):
    audio = tmp_path / "song.mp4"
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", str(audio))
    _fails(capsys, ["import-video", str(audio), "--out", str(tmp_path / "o.json")], "no video stream")


def test_over_long_video_asks_for_parts(tmp_path, capsys):
    long = tmp_path / "long.mkv"  # 21 minutes at 1 frame per second, 32x32: made in a moment
    _ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=32x32:r=1:d=1260", "-c:v", "mpeg4", str(long))
    _fails(capsys, ["import-video", str(long), "--out", str(tmp_path / "o.json")], "--start S --end S")
    # A part of it is fine as far as decoding goes.
    info, frames = open_video(long, start=10, end=14)
    assert info.end - info.start == pytest.approx(4.0)
    assert sum(1 for _ in frames) == 4


def test_missing_file_and_bad_range(tmp_path, capsys):
    _fails(capsys, ["import-video", str(tmp_path / "none.mp4")], "no such file")
    clip = tmp_path / "c.webm"
    _ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=32x32:r=10:d=1", "-c:v", "libvpx-vp9", str(clip))
    _fails(capsys, ["import-video", str(clip), "--start", "3", "--end", "2"], "--start must be")
    _fails(capsys, ["import-video", str(clip), "--start", "5"], "nothing to read")


def test_bad_out_and_person(tmp_path, capsys):
    _fails(capsys, ["import-video", "x.mp4", "--out", str(tmp_path / "o.bvh")], "--out must be a .json")


def test_missing_mediapipe_says_how_to_install(monkeypatch):
    from choreo.video import detector

    monkeypatch.setitem(sys.modules, "mediapipe", None)  # import mediapipe -> ImportError
    with pytest.raises(ChoreoError, match=r"pip install 'choreo\[video\]'"):
        detector.require_mediapipe()


def test_prepare_data_routes_videos_to_the_video_importer(tmp_path):
    bad = tmp_path / "clip.mov"
    bad.write_bytes(b"not a video")
    with pytest.raises(ChoreoError, match="clip.mov: ffmpeg cannot read"):
        load_motions(tmp_path)  # found in the folder by its suffix, read as a video
