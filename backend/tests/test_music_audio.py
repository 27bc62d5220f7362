"""Reading songs: formats (soundfile and ffmpeg for M4A), and one-line errors with exit code 2 for bad
input, with nothing written to --out."""

import subprocess

import numpy as np
import pytest

from choreo.cli import main
from choreo.errors import ChoreoError
from choreo.music.audio import SAMPLE_RATE, load_audio

soundfile = pytest.importorskip("soundfile")


def tone(seconds: float, rate: int = 44100, channels: int = 2) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    y = 0.3 * np.sin(2 * np.pi * 440 * t)
    return np.stack([y * (1 + 0.1 * c) for c in range(channels)], axis=1).astype(np.float32)


def test_stereo_wav_any_rate_becomes_mono_at_24k(tmp_path):
    path = tmp_path / "a.flac"
    soundfile.write(str(path), tone(6.0, 44100), 44100)
    audio = load_audio(path)
    assert audio.rate == SAMPLE_RATE and audio.samples.ndim == 1
    assert audio.duration == pytest.approx(6.0, abs=0.01)
    assert np.abs(audio.samples).max() == pytest.approx(0.3 * 1.05, rel=0.02)  # mean of the two channels


def test_m4a_through_ffmpeg(tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    wav, m4a = tmp_path / "a.wav", tmp_path / "a.m4a"
    soundfile.write(str(wav), tone(6.0, 48000), 48000)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(wav), "-c:a", "aac", str(m4a)],
                   check=True)
    audio = load_audio(m4a)
    assert audio.duration == pytest.approx(6.0, abs=0.05)
    middle = audio.samples[SAMPLE_RATE : 5 * SAMPLE_RATE]  # AAC rings at the ends
    assert np.sqrt(np.mean(middle ** 2)) == pytest.approx(0.315 / np.sqrt(2), rel=0.05)


def bad_files(tmp_path):
    rng = np.random.default_rng(0)
    files = {}
    files["no such audio file"] = tmp_path / "missing.wav"
    (tmp_path / "notes.txt").write_text("this is not audio\n" * 100)
    files["cannot read audio"] = tmp_path / "notes.txt"
    (tmp_path / "broken.mp3").write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + rng.bytes(20000))
    files["cannot (read|decode) audio"] = tmp_path / "broken.mp3"
    soundfile.write(str(tmp_path / "silent.wav"), np.zeros(24000 * 6, np.float32), 24000)
    files["silent"] = tmp_path / "silent.wav"
    soundfile.write(str(tmp_path / "short.wav"), tone(3.0), 44100)
    files["too short"] = tmp_path / "short.wav"
    soundfile.write(str(tmp_path / "surround.wav"), tone(6.0, 22050, channels=3), 22050)
    files["3 audio channels"] = tmp_path / "surround.wav"
    return files


def test_bad_input_raises_one_line_errors(tmp_path):
    for message, path in bad_files(tmp_path).items():
        with pytest.raises(ChoreoError, match=message) as info:
            load_audio(path)
        assert "\n" not in str(info.value)
    soundfile.write(str(tmp_path / "long.wav"), tone(8.0, 8000, 1), 8000)
    with pytest.raises(ChoreoError, match="longer than the limit of 0.1 min"):
        load_audio(tmp_path / "long.wav", max_seconds=6.0)


def test_cli_bad_input_exit_2_and_nothing_written(tmp_path, capsys):
    out = tmp_path / "out"
    for message, path in bad_files(tmp_path).items():
        assert main(["analyze", str(path), "--out", str(out)]) == 2, message
        err = capsys.readouterr().err
        assert err.startswith("choreo analyze: error:") and err.count("\n") == 1 and "Traceback" not in err
        assert not out.exists()
    soundfile.write(str(tmp_path / "long.wav"), tone(8.0, 8000, 1), 8000)
    assert main(["analyze", str(tmp_path / "long.wav"), "--max-minutes", "0.1", "--out", str(out)]) == 2
    assert "longer than the limit" in capsys.readouterr().err and not out.exists()
