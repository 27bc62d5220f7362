"""Member colours shared by the group writers (glTF bodies, the group preview video), so member 3 has
the same colour in the 3-D file and in the video."""

from __future__ import annotations

# Twelve distinct member colours as linear RGB in 0-1 (what glTF's baseColorFactor holds), used in order.
MEMBER_COLORS: tuple[tuple[float, float, float], ...] = (
    (0.90, 0.20, 0.25), (0.15, 0.45, 0.90), (0.95, 0.70, 0.10), (0.20, 0.70, 0.35),
    (0.60, 0.30, 0.85), (0.95, 0.45, 0.15), (0.10, 0.75, 0.80), (0.90, 0.35, 0.65),
    (0.55, 0.55, 0.15), (0.35, 0.25, 0.15), (0.45, 0.80, 0.95), (0.80, 0.80, 0.80),
)


def linear_to_srgb8(color: tuple[float, ...]) -> tuple[int, int, int]:
    """8-bit sRGB of a linear 0-1 colour: how a glTF viewer (sRGB output) shows it, so images match it."""
    out = []
    for c in color[:3]:
        c = min(max(float(c), 0.0), 1.0)
        s = 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055
        out.append(round(255 * s))
    return out[0], out[1], out[2]


# The same palette as 8-bit sRGB, for drawn images (the preview video).
MEMBER_COLORS_RGB8: tuple[tuple[int, int, int], ...] = tuple(linear_to_srgb8(c) for c in MEMBER_COLORS)
