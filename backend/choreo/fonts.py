"""Fonts for the text in previews and pictures: Korean (and other CJK) prompts, member and section names.

DejaVu Sans (in matplotlib's data, a dependency) draws Latin text everywhere alike, but it has no Hangul,
kana or Han characters. For those the first of these is used:
  1. Noto Sans CJK (OFL), from the `noto-cjk-sans-otc` package, a dependency of choreo: its Korean face;
  2. a system copy: Debian's fonts-noto-cjk or fonts-nanum, macOS's Apple SD Gothic Neo, Windows' Malgun Gothic;
  3. any installed font with Hangul, from matplotlib's font list (only looked at when 1 and 2 are missing).
Characters no font can draw are left out of the picture rather than drawn as empty boxes ("tofu"), and one
note per process says so and what to install; matplotlib's per-glyph warnings are not shown.

Pillow renderers call `pillow_pick` (a font that has every character of a text); matplotlib renderers pass their
texts through `drawable` and draw inside `matplotlib_text(...)`, which adds the CJK face as a per-glyph
fallback after DejaVu Sans. Nothing here imports matplotlib until a CJK text needs it, and nothing downloads.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from choreo.errors import ChoreoError

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

DEJAVU_FAMILY = "DejaVu Sans"
CJK_PACKAGE = "noto_cjk_sans_otc"  # PyPI: noto-cjk-sans-otc
CJK_PACKAGE_FILE = "NotoSansCJK-Regular.ttc"
NOTO_CJK_KR_INDEX = 1  # faces of NotoSansCJK-Regular.ttc: JP, KR, SC, TC, HK, then the Mono ones
# (file, face): fonts-noto-cjk, fonts-nanum (Debian/Ubuntu), then macOS and Windows.
SYSTEM_CJK_FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", NOTO_CJK_KR_INDEX),
    ("/usr/share/fonts/truetype/nanum/NanumGothic.ttf", 0),
    ("/System/Library/Fonts/AppleSDGothicNeo.ttc", 0),
    ("C:/Windows/Fonts/malgun.ttf", 0),
)
HANGUL_PROBE = "가"  # a font with this syllable has the Hangul block
INSTALL_HINT = "pip install noto-cjk-sans-otc (or the Debian package fonts-noto-cjk) adds one"


@dataclass(frozen=True)
class Face:
    """One face of a font file (collections such as .ttc hold several)."""

    path: str
    index: int = 0


@functools.cache
def dejavu() -> Face:
    """DejaVu Sans from matplotlib's data, found without importing matplotlib (its import is slow)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise ChoreoError("matplotlib (whose DejaVu Sans font the previews use) is not installed")
    return Face(str(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"))


@functools.cache
def coverage(face: Face) -> frozenset[int]:
    """The code points a face has glyphs for (empty for an unreadable file)."""
    from fontTools.ttLib import TTFont, TTLibError  # a matplotlib dependency

    try:
        with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
            return frozenset(font.getBestCmap() or {})
    except (OSError, TTLibError, KeyError, ValueError, AssertionError, IndexError):
        return frozenset()


def _needed(text: str) -> set[int]:
    return {ord(c) for c in text if not c.isspace()}


def _package_face() -> Face | None:
    spec = importlib.util.find_spec(CJK_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        if (Path(folder) / CJK_PACKAGE_FILE).is_file():
            return Face(str(Path(folder) / CJK_PACKAGE_FILE), NOTO_CJK_KR_INDEX)
    return None


@functools.cache
def installed_faces() -> tuple[Face, ...]:
    """Every face in matplotlib's font list, except "last resort" fonts (their glyphs are placeholder boxes)."""
    from matplotlib import font_manager

    return tuple(sorted({Face(f.fname, int(getattr(f, "index", 0))) for f in font_manager.fontManager.ttflist
                   if "lastresort" not in Path(f.fname).name.lower()}, key=lambda f: (f.path, f.index)))


@functools.cache
def cjk_face() -> Face | None:
    """The font for Hangul (and kana, Han) text, in the order of the module's docstring; None without one."""
    probe = ord(HANGUL_PROBE)
    candidates = [_package_face()] + [Face(p, i) for p, i in SYSTEM_CJK_FONTS if Path(p).is_file()]
    for face in candidates:
        if face is not None and probe in coverage(face):
            return face
    for face in installed_faces():
        if probe in coverage(face):
            return face
    return None


_noted = False


def _note_missing(chars: str) -> None:
    """One note per process (not per frame or label) about characters left out of pictures."""
    global _noted
    if _noted:
        return
    _noted = True
    hint = "" if cjk_face() is not None else f"; {INSTALL_HINT}"
    print(f"choreo: note: no installed font can draw {chars[:12]!r}, so previews leave those characters out"
          f"{hint}", file=sys.stderr)


def _drop(text: str, covered: frozenset[int] | set[int]) -> str:
    missing = "".join(dict.fromkeys(c for c in text if not c.isspace() and ord(c) not in covered))
    if not missing:
        return text
    _note_missing(missing)
    kept = "".join(c for c in text if c.isspace() or ord(c) in covered)
    return kept.strip(" -—–:|·,")  # no dangling separator


def pick(text: str) -> tuple[Face, str]:
    """A face able to draw all of `text` (DejaVu Sans, else the CJK face, else any installed one) and the
    text to draw with it: `text` itself, or without the characters no font has."""
    need = _needed(text)
    if need <= coverage(dejavu()):
        return dejavu(), text
    cjk = cjk_face()
    if cjk is not None and need <= coverage(cjk):
        return cjk, text
    for face in installed_faces():
        if need <= coverage(face):
            return face, text
    # None has everything (an emoji in a Korean name): the face with the most of it, without the rest.
    best = max((f for f in (dejavu(), cjk) if f is not None), key=lambda f: len(need & coverage(f)))
    return best, _drop(text, coverage(best))


def pillow_pick(text: str, size: int) -> tuple[FreeTypeFont, str]:
    """A Pillow font of `size` px that draws `text` (see `pick`) and the text it will draw."""
    face, shown = pick(text)
    return pillow_font(face, size), shown


@functools.cache
def pillow_font(face: Face, size: int) -> FreeTypeFont:
    from PIL import ImageFont

    try:
        return ImageFont.truetype(face.path, size, index=face.index)
    except OSError as exc:
        raise ChoreoError(f"cannot load the font {face.path}: {exc}") from None


def _matplotlib_covered(text: str) -> frozenset[int]:
    """What DejaVu Sans plus (if `text` needs it) the CJK face can draw."""
    covered = coverage(dejavu())
    if _needed(text) <= covered:
        return covered
    cjk = cjk_face()
    return covered | coverage(cjk) if cjk is not None else covered


def drawable(text: str) -> str:
    """`text` for a matplotlib picture drawn in `matplotlib_text`: without characters neither font has."""
    return _drop(text, _matplotlib_covered(text))


@functools.cache
def _matplotlib_family(face: Face) -> str:
    """Register a face with matplotlib (once) and return the family name matplotlib knows it by."""
    from matplotlib import font_manager

    font_manager.fontManager.addfont(face.path)
    for entry in font_manager.fontManager.ttflist:
        if entry.fname == face.path and int(getattr(entry, "index", 0)) == face.index:
            return entry.name
    raise ChoreoError(f"matplotlib cannot use the font {face.path}")


def matplotlib_families(*texts: str) -> list[str]:
    """font.family for pictures with these texts: DejaVu Sans, and the CJK face as fallback when one needs it."""
    families = [DEJAVU_FAMILY]
    if any(not _needed(t) <= coverage(dejavu()) for t in texts) and (cjk := cjk_face()) is not None:
        families.append(_matplotlib_family(cjk))
    return families


@contextmanager
def matplotlib_text(*texts: str) -> Iterator[None]:
    """Create, draw and save a matplotlib figure inside this to draw these texts (from `drawable`) in full."""
    import matplotlib

    with matplotlib.rc_context({"font.family": matplotlib_families(*texts)}), warnings.catch_warnings():
        # Texts went through `drawable`; anything still missing was noted once there, not once per frame.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        yield
