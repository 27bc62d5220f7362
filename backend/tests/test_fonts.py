"""Korean text in previews (choreo.fonts): drawn as real Hangul glyphs with a CJK font, never as empty boxes;
without one, left out with a single note and no warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from choreo import fonts
from choreo.formats.group_preview import GroupView, StageMarks
from choreo.skeleton import JOINT_NAMES, NUM_JOINTS, forward_kinematics

HANGUL = "가나다한글춤"
NAMES = ["지수", "제니", "로제"]
NO_CJK_FONT = fonts.cjk_face() is None
needs_cjk = pytest.mark.skipif(NO_CJK_FONT, reason="no CJK font installed: pip install noto-cjk-sans-otc "
                                                   "(a dependency of choreo) or apt install fonts-noto-cjk")


def _missing_char(*faces: fonts.Face) -> str:
    """A character none of these faces has: whatever they draw for it is their missing-glyph box."""
    for cp in (0x0378, 0x0870, 0x10FFFD, 0xE0FFF):
        if all(cp not in fonts.coverage(f) for f in faces):
            return chr(cp)
    raise AssertionError("every probe character is covered")


def _pillow_mask(face: fonts.Face, text: str) -> np.ndarray:
    from PIL import Image, ImageDraw

    img = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(img).text((8, 8), text, font=fonts.pillow_font(face, 40), fill=255)
    return np.asarray(img) > 127


def _matplotlib_raster(text: str) -> np.ndarray:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with fonts.matplotlib_text(text):
        fig = plt.figure(figsize=(0.8, 0.8), dpi=80)
        fig.text(0.1, 0.2, text, fontsize=30)
        fig.canvas.draw()
        img = np.asarray(fig.canvas.buffer_rgba())[..., 0] < 128
        plt.close(fig)
    return img


def standing(x: float, frames: int = 4) -> np.ndarray:
    quats = np.zeros((frames, NUM_JOINTS, 4))
    quats[..., 0] = 1.0
    joints = forward_kinematics(quats, np.tile([x, 0.0, 0.0], (frames, 1)))
    joints[..., 1] -= joints[..., 1].min()
    return joints


@pytest.fixture
def no_cjk_font(monkeypatch):
    """A machine with no font that has Hangul (only DejaVu Sans), and no note printed yet."""
    monkeypatch.setattr(fonts, "cjk_face", lambda: None)
    monkeypatch.setattr(fonts, "installed_faces", lambda: ())
    monkeypatch.setattr(fonts, "_noted", False)


def test_dejavu_has_no_hangul_so_a_cjk_font_is_needed():
    assert not any(ord(c) in fonts.coverage(fonts.dejavu()) for c in HANGUL)
    assert fonts.pick("Rosé") == (fonts.dejavu(), "Rosé")  # Latin text keeps DejaVu Sans


@needs_cjk
def test_hangul_glyphs_are_distinct_and_not_the_missing_glyph_box():
    face = fonts.cjk_face()
    assert all(ord(c) in fonts.coverage(face) for c in HANGUL + "ABC123 ()")
    tofu = _pillow_mask(face, _missing_char(face))
    masks = {c: _pillow_mask(face, c) for c in HANGUL}
    for c, m in masks.items():
        assert m.sum() > 40, c  # ink, not an empty glyph
        assert not np.array_equal(m, tofu), c
    pairs = [(a, b) for i, a in enumerate(HANGUL) for b in HANGUL[i + 1:]]
    assert all(not np.array_equal(masks[a], masks[b]) for a, b in pairs)
    # DejaVu Sans alone draws every one of them as the same box: what the previews showed before.
    dv = [_pillow_mask(fonts.dejavu(), c) for c in "가나"]
    assert np.array_equal(dv[0], dv[1])


@needs_cjk
def test_matplotlib_draws_korean_with_the_fallback_and_no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a "Glyph ... missing" warning fails the test
        ga, na = _matplotlib_raster("가"), _matplotlib_raster("나")
    assert fonts.matplotlib_families("가")[1] == fonts._matplotlib_family(fonts.cjk_face())
    assert fonts.matplotlib_families("Chorus") == [fonts.DEJAVU_FAMILY]  # no CJK lookup for Latin text
    tofu = _matplotlib_raster(_missing_char(fonts.dejavu(), fonts.cjk_face()))
    assert ga.sum() > 20 and not np.array_equal(ga, na)
    assert not np.array_equal(ga, tofu) and not np.array_equal(na, tofu)
    assert fonts.drawable("후렴 (chorus) 1") == "후렴 (chorus) 1"


@needs_cjk
def test_a_character_no_font_has_drops_only_itself():
    odd = _missing_char(fonts.cjk_face(), fonts.dejavu())
    assert fonts.pick(f"지수 {odd}") == (fonts.cjk_face(), "지수")
    assert fonts.drawable(f"후렴{odd} A") == "후렴 A"


@needs_cjk
def test_korean_member_names_and_caption_reach_the_group_preview_frame():
    members = [standing(-1.5), standing(0.0), standing(1.5)]
    marks = StageMarks(sections=[(0.0, 1.0, "후렴 (A)")])
    view = GroupView(members, 20.0, marks, names=NAMES, size=(480, 270))
    cjk = fonts.cjk_face()
    assert [text for _, text in view.labels] == NAMES  # the names themselves, not member numbers
    assert all((font.path, font.index) == (cjk.path, cjk.index) for font, _ in view.labels)
    assert view.captions["후렴 (A)"][1] == "후렴 (A)"
    # Swapping the first two names changes the pixels above those two heads only.
    swapped = GroupView(members, 20.0, marks, names=[NAMES[1], NAMES[0], NAMES[2]], size=(480, 270))
    diff = np.any(np.asarray(view.frame(0)) != np.asarray(swapped.frame(0)), axis=-1)
    head = JOINT_NAMES.index("head")
    for m, changed in ((0, True), (1, True), (2, False)):
        hx, hy = view.px[m, 0, head]
        box = diff[max(0, int(hy) - 40):int(hy), max(0, int(hx) - 30):int(hx) + 30]
        assert box.any() == changed, m
    assert diff.sum() == sum(
        diff[max(0, int(view.px[m, 0, head][1]) - 40):int(view.px[m, 0, head][1]),
             max(0, int(view.px[m, 0, head][0]) - 30):int(view.px[m, 0, head][0]) + 30].sum() for m in (0, 1))


def test_without_a_cjk_font_korean_is_left_out_with_one_note(no_cjk_font, capsys, tmp_path):
    from choreo.choreography.formations import draw_formations

    assert fonts.pick("지수") == (fonts.dejavu(), "")
    assert fonts.drawable("후렴 Chorus") == "Chorus"  # the Latin part stays
    view = GroupView([standing(-1.0), standing(1.0)], 20.0, StageMarks(sections=[(0.0, 1.0, "후렴")]),
                     names=["지수", "Rosé"], size=(320, 180), title="블랙핑크 — demo")
    assert [text for _, text in view.labels] == ["1", "Rosé"]  # an undrawable name becomes the number
    assert view.captions["후렴"][1] == ""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        view.frame(0)
        draw_formations([("후렴", np.array([[-1.0, 0.0], [1.0, 0.0]]))], tmp_path / "f.png", labels=["지수", "제니"])
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "noto-cjk-sans-otc" in err[0] and "leave those characters out" in err[0]


def test_preview_video_with_a_korean_prompt_writes_without_warnings(tmp_path, capsys, monkeypatch):
    from choreo.formats.preview_video import write_preview_video
    from choreo.motion import Motion

    monkeypatch.setattr(fonts, "_noted", False)

    motion = Motion(joints=standing(0.0, frames=6), fps=20.0, text="케이팝 댄스")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = write_preview_video([motion], tmp_path / "p.mp4", title="케이팝 댄스 (k-pop)", labels=["지수"])
    assert out.stat().st_size > 0
    if NO_CJK_FONT:
        assert "noto-cjk-sans-otc" in capsys.readouterr().err


def test_analysis_picture_of_a_song_with_a_korean_name(tmp_path):
    from choreo.music.analyze import Analysis
    from choreo.music.audio import Audio
    from choreo.music.plot import plot_analysis
    from choreo.music.song import Section, Song

    rate = 8000
    audio = Audio(np.sin(np.arange(4 * rate) * 0.05).astype(np.float32), rate, "노래.wav")
    song = Song(duration=4.0, sample_rate=rate, tempo=120.0, beats=np.arange(0.25, 4, 0.5),
                downbeats=np.arange(0.25, 4, 2.0), sections=[Section(0, 2, "A", "verse", 0.4),
                                                              Section(2, 4, "B", "chorus", 0.8)],
                energy=np.full(8, 0.5), source="노래.wav")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = plot_analysis(Analysis(song, audio, np.full(400, 0.5), 100), tmp_path / "a.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
