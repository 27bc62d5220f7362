"""Dance styles for `choreo dance`: the default prompt of each section, by section kind and energy.

The model only knows the texts it was trained on: the CMU descriptions ("salsa dance", "charleston",
"dance - expressive arms, pirouette", "dance - sideways steps, pirouette", "arms held high, upper body
rotation", "small jetes", "turn step", "folding arms", "bending back", ...). So a style is not K-pop
vocabulary but a choice among those words: which dance (salsa / modern / charleston) and which
movements carry each kind of section. Every prompt is short plain English built from that vocabulary.

A section's prompt is `"<style's description for the kind and level>, <intensity words>"`. The level is
"calm" or "big": intro and outro are always calm, chorus and dance-break always big, the other kinds
follow the section's energy (>= `BIG_ENERGY` is big). The intensity words (`INTENSITY`) are shared by all
styles; a user's global prompt replaces the style's description but keeps them (see `section_prompt`).
"""

from __future__ import annotations

from dataclasses import dataclass

from choreo.errors import ChoreoError
from choreo.music.song import KINDS

BIG_ENERGY = 0.5  # energy from which a verse, pre-chorus or bridge gets the big wording
ALWAYS_CALM = ("intro", "outro")
ALWAYS_BIG = ("chorus", "dance-break")
LEVELS = ("calm", "big")

# Per kind and level: words about size and speed, the same for every style.
INTENSITY: dict[str, dict[str, str]] = {
    "intro": {"calm": "slow and small", "big": "slow and small"},
    "verse": {"calm": "small relaxed steps", "big": "sharp quick steps"},
    "pre-chorus": {"calm": "steps building up", "big": "quick steps building up"},
    "chorus": {"calm": "big energetic moves", "big": "big energetic moves"},
    "bridge": {"calm": "slow and smooth", "big": "smooth flowing moves"},
    "dance-break": {"calm": "fast powerful moves", "big": "fast powerful moves"},
    "outro": {"calm": "slowing down to a stop", "big": "slowing down to a stop"},
}


@dataclass(frozen=True)
class Style:
    name: str
    description: str  # one line for --help and docs
    moves: dict[str, dict[str, str]]  # kind -> level -> what is danced (CMU vocabulary)


def _style(name: str, description: str, **moves: tuple[str, str]) -> Style:
    table = {kind.replace("_", "-"): {"calm": calm, "big": big} for kind, (calm, big) in moves.items()}
    missing = set(KINDS) - set(table)
    if missing:  # a programming error, caught at import by the tests
        raise ValueError(f"style {name} lacks kinds {sorted(missing)}")
    return Style(name, description, table)


STYLES: dict[str, Style] = {s.name: s for s in (
    # Each description was chosen by how fast the shipped model dances it (bench/bench_style_vigour.py; the
    # numbers in bench/style_vigour.json, mean joint speed of 8-s material): calm kinds from the slow words, the
    # chorus and dance break from the fastest, so that the dance's energy follows the song's. The intensity
    # words change nothing measurable; the movement words do (salsa 0.38-0.41 m/s, charleston 0.19-0.31,
    # modern arms 0.39-0.58, turns 0.57-0.69, jetes 0.67-1.10).
    _style(
        "kpop", "K-pop idol group: modern-dance arms on the verses, arabesques and raised legs in the chorus, "
        "jetes and pirouettes in the dance break",
        intro=("dance - arms held high, upper body rotation", "dance - arms held high, upper body rotation"),
        verse=("dance - folding arms, upper body rotation", "dance - expressive arms, bending back"),
        pre_chorus=("dance - expressive arms, bending back", "dance - expressive arms, sideways steps"),
        chorus=("dance - retire derriere, attitude/arabesque", "dance - retire derriere, attitude/arabesque"),
        bridge=("dance - arms held high, bending back", "dance - expressive arms, sideways steps"),
        dance_break=("dance - cartwheel-like start, pirouettes, jete",
                     "dance - cartwheel-like start, pirouettes, jete"),
        outro=("dance - arms held high, pointe tendue a terre", "dance - arms held high, pointe tendue a terre"),
    ),
    _style(
        "hiphop", "hip-hop: grounded bouncing charleston steps, quick salsa footwork and spins in the chorus",
        intro=("charleston, swinging arms", "charleston, swinging arms"),
        verse=("charleston side by side", "xtra fancy charleston with quick kicks"),
        pre_chorus=("charleston with quick kicks", "xtra fancy charleston with quick kicks"),
        chorus=("salsa dance with quick steps and spins", "salsa dance with quick steps and spins"),
        bridge=("charleston, swinging arms", "salsa dance, quick steps"),
        dance_break=("salsa dance with quick steps and spins", "salsa dance with quick steps and spins"),
        outro=("charleston, swinging arms", "charleston, swinging arms"),
    ),
    _style(
        "girl-crush", "girl-crush: strong sharp arms, turns and spins, jetes in the dance break, no softness",
        intro=("dance - folding arms, upper body rotation", "dance - folding arms, upper body rotation"),
        verse=("dance - bending back, folding arms", "dance - folding arms, sideways steps"),
        pre_chorus=("dance - turn step, folding arms", "dance - turn step, folding arms"),
        chorus=("dance - shifted-axis pirouette, turn", "dance - shifted-axis pirouette, turn"),
        bridge=("dance - bending back, folding arms", "dance - sideways steps, turn step, pirouette"),
        dance_break=("dance - jete en tourant, pirouettes", "dance - jete en tourant, pirouettes"),
        outro=("dance - arms held high, upper body rotation", "dance - arms held high, upper body rotation"),
    ),
    _style(
        "cute", "cute: light bouncy charleston steps, small jumps (jetes) in the chorus",
        intro=("charleston, small steps", "charleston, small steps"),
        verse=("charleston side by side", "charleston with small jumps"),
        pre_chorus=("charleston with small jumps and swinging arms", "dance - expressive arms, sideways steps"),
        chorus=("dance - small jetes, glissade", "dance - small jetes, glissade"),
        bridge=("charleston, small steps", "dance - small jetes, pirouette"),
        dance_break=("dance - small jetes, pirouettes, jete", "dance - small jetes, pirouettes, jete"),
        outro=("charleston, small steps", "charleston, small steps"),
    ),
    _style(
        "ballad", "ballad: slow modern dance, expressive arms, arabesques and turns, leaps in the chorus",
        intro=("dance - expressive arms, upper body rotation", "dance - expressive arms, upper body rotation"),
        verse=("dance - sideways arabesque, folding arms", "dance - expressive arms, turn step"),
        pre_chorus=("dance - expressive arms, pirouette", "dance - attitude/arabesque, turn"),
        chorus=("dance - attitude/arabesque, jete en tourant", "dance - attitude/arabesque, jete en tourant"),
        bridge=("dance - arms held high, bending back", "dance - expressive arms, pirouette"),
        dance_break=("dance - rond de jambe in the air, turn", "dance - rond de jambe in the air, turn"),
        outro=("dance - expressive arms, pointe tendue a terre", "dance - expressive arms, pointe tendue a terre"),
    ),
)}
DEFAULT_STYLE = "kpop"


def style_names() -> tuple[str, ...]:
    return tuple(STYLES)


def get_style(name: str) -> Style:
    if name not in STYLES:
        raise ChoreoError(f"unknown style {name!r}; valid styles: {', '.join(STYLES)}")
    return STYLES[name]


def level(kind: str, energy: float) -> str:
    """"calm" or "big" for a section of `kind` with `energy` (0-1)."""
    if kind in ALWAYS_CALM:
        return "calm"
    if kind in ALWAYS_BIG:
        return "big"
    return "big" if energy >= BIG_ENERGY else "calm"


def section_prompt(style: str, kind: str, energy: float, user_prompt: str | None = None) -> str:
    """The default prompt of a section: the style's description (or `user_prompt`, when given, in its place)
    followed by the kind's intensity words, e.g. "dance - jete en tourant, pirouettes, big energetic moves"
    or, with user_prompt "a person dances salsa", "a person dances salsa, big energetic moves"."""
    if kind not in KINDS:
        raise ChoreoError(f"unknown section kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    lv = level(kind, energy)
    what = user_prompt.strip() if user_prompt and user_prompt.strip() else get_style(style).moves[kind][lv]
    return f"{what.rstrip(' ,.')}, {INTENSITY[kind][lv]}"
