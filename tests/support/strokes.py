"""Digits written as pen strokes: templates, random variations, and rendering to images.

These are the project's own "other writers": drawings made the way people draw on a canvas or
write on paper (any stroke width, off-centre, slanted), used by the tests, the benchmarks and the
browser tests, which replay the same strokes with the mouse. Points are ``(x, y)`` in a unit box,
``x`` to the right and ``y`` down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

Stroke = list[tuple[float, float]]


def _arc(cx, cy, rx, ry, start, end, steps=24) -> Stroke:
    """Points on an ellipse from angle ``start`` to ``end`` (degrees, 0 = right, 90 = down)."""
    angles = np.radians(np.linspace(start, end, steps))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


# Each digit has the ways people commonly write it; the first is the plainest.
TEMPLATES: dict[int, list[list[Stroke]]] = {
    0: [[_arc(0.5, 0.5, 0.32, 0.46, -90, 275, 40)], [_arc(0.5, 0.5, 0.3, 0.46, -60, 330, 40)]],
    1: [
        [[(0.38, 0.2), (0.55, 0.04), (0.55, 0.96)]],
        [[(0.5, 0.04), (0.5, 0.96)]],
        [[(0.3, 0.22), (0.55, 0.04), (0.55, 0.96)], [(0.3, 0.96), (0.8, 0.96)]],
    ],
    2: [
        [_arc(0.5, 0.3, 0.3, 0.26, 190, 380, 20) + [(0.15, 0.95), (0.88, 0.95)]],
        [
            _arc(0.5, 0.3, 0.3, 0.26, 190, 380, 20)
            + [(0.22, 0.86)]
            + _arc(0.3, 0.82, 0.12, 0.12, 150, 450, 20)
            + [(0.9, 0.94)]
        ],
    ],
    3: [
        [_arc(0.47, 0.27, 0.3, 0.23, 210, 450, 20) + _arc(0.47, 0.72, 0.34, 0.25, -90, 150, 20)],
        [[(0.15, 0.05), (0.82, 0.05), (0.42, 0.42)] + _arc(0.45, 0.7, 0.36, 0.27, -80, 150, 20)],
    ],
    4: [
        [[(0.62, 0.04), (0.12, 0.66), (0.9, 0.66)], [(0.66, 0.3), (0.66, 0.97)]],
        [[(0.68, 0.97), (0.68, 0.04), (0.1, 0.66), (0.92, 0.66)]],
        [[(0.2, 0.04), (0.15, 0.55), (0.88, 0.55)], [(0.7, 0.1), (0.7, 0.97)]],
    ],
    5: [
        [[(0.82, 0.05), (0.3, 0.05), (0.24, 0.45)] + _arc(0.48, 0.67, 0.33, 0.28, -120, 150, 20)],
        [
            [(0.3, 0.05), (0.24, 0.45)] + _arc(0.48, 0.67, 0.33, 0.28, -120, 150, 20),
            [(0.3, 0.05), (0.85, 0.05)],
        ],
    ],
    6: [
        [_arc(0.72, 0.62, 0.5, 0.6, 250, 180, 10) + _arc(0.5, 0.7, 0.28, 0.26, 180, 530, 30)],
        [[(0.7, 0.03), (0.3, 0.5)] + _arc(0.5, 0.72, 0.26, 0.24, 200, 560, 30)],
    ],
    7: [
        [[(0.12, 0.06), (0.88, 0.06), (0.42, 0.96)]],
        [[(0.12, 0.06), (0.88, 0.06), (0.42, 0.96)], [(0.35, 0.5), (0.85, 0.5)]],
        [[(0.15, 0.15), (0.2, 0.06), (0.88, 0.06), (0.5, 0.96)]],
    ],
    8: [
        [_arc(0.5, 0.26, 0.24, 0.22, 90, 450, 30), _arc(0.5, 0.72, 0.3, 0.25, -90, 270, 30)],
        [
            _arc(0.5, 0.26, 0.26, 0.22, 0, 180, 12)
            + _arc(0.5, 0.72, 0.3, 0.26, -90, 270, 30)[::-1]
            + _arc(0.5, 0.26, 0.26, 0.22, 180, 360, 12)
        ],
    ],
    9: [
        [_arc(0.48, 0.3, 0.28, 0.25, 0, 360, 30) + [(0.76, 0.3), (0.7, 0.97)]],
        [_arc(0.48, 0.3, 0.28, 0.25, 0, 360, 30) + _arc(0.45, 0.62, 0.31, 0.34, 0, 110, 14)],
    ],
}


@dataclass(frozen=True)
class Style:
    """How one drawing is made: where, how big, how slanted, and with what pen."""

    size: int = 280  # square canvas side in px
    height: float = 0.7  # digit height as a fraction of the canvas
    centre: tuple[float, float] = (0.5, 0.5)  # digit centre as fractions of the canvas
    slant: float = 0.0  # shear: x moves by slant * (0.5 - y) * height
    width: float = 18.0  # pen width in px
    jitter: float = 0.0  # hand tremor, in fractions of the digit height
    aspect: float = 0.75  # digit width / height
    variant: float = 0.0  # which way of writing the digit: [0, 1) spread over its variants


def place(digit: int, style: Style = Style(), rng: np.random.Generator | None = None) -> list[Stroke]:
    """The strokes of ``digit`` in canvas pixel coordinates for ``style``."""
    if digit not in TEMPLATES:
        raise ValueError(f"digit must be 0..9, got {digit!r}")
    return place_template(TEMPLATES[digit], style, style.aspect, rng)


def place_template(
    variants: list, style: Style, aspect: float, rng: np.random.Generator | None
) -> list[Stroke]:
    """One of ``variants`` (templates of strokes in a unit square; ``style.variant`` picks it) in
    canvas pixel coordinates for ``style``, ``aspect`` wide per unit of height."""
    template = variants[min(int(style.variant * len(variants)), len(variants) - 1)]
    h = style.height * style.size
    w = h * aspect
    cx, cy = style.centre[0] * style.size, style.centre[1] * style.size
    strokes = []
    for stroke in template:
        points = np.array(stroke, dtype=np.float64)
        if style.jitter and rng is not None:
            points = points + rng.normal(0, style.jitter, points.shape)
        x = cx + (points[:, 0] - 0.5) * w + style.slant * (0.5 - points[:, 1]) * h
        y = cy + (points[:, 1] - 0.5) * h
        strokes.append(list(zip(x.tolist(), y.tolist())))
    return strokes


def render(
    strokes: list[Stroke],
    size: int | tuple[int, int] = 280,
    width: float = 18.0,
    ink=(0, 0, 0, 255),
    paper=(0, 0, 0, 0),
) -> np.ndarray:
    """Draw strokes with round caps and joins; ``(H, W, 4) uint8`` RGBA.

    The default is what the app's canvas returns: black ink on a transparent background.
    """
    wh = (size, size) if isinstance(size, int) else size
    image = Image.new("RGBA", wh, paper)
    draw = ImageDraw.Draw(image)
    radius = width / 2
    for stroke in strokes:
        draw.line(stroke, fill=ink, width=max(1, round(width)), joint="curve")
        for x, y in (stroke[0], stroke[-1]):
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=ink)
    return np.asarray(image)


def draw_digit(
    digit: int, style: Style = Style(), rng: np.random.Generator | None = None, **colours
) -> np.ndarray:
    """Render ``digit`` in ``style``: ``(size, size, 4) uint8`` RGBA (see :func:`render`)."""
    return render(place(digit, style, rng), style.size, style.width, **colours)


def random_style(rng: np.random.Generator, size: int = 280) -> Style:
    """A plausible drawing: any pen from thin to thick, off-centre, slanted, small or large."""
    height = rng.uniform(0.3, 0.85)
    margin = height / 2 + 0.03
    return Style(
        size=size,
        height=height,
        centre=(rng.uniform(0.3, 0.7), rng.uniform(margin, 1 - margin)),
        slant=rng.uniform(-0.25, 0.3),
        width=float(rng.uniform(0.03, 0.16) * height * size),
        jitter=rng.uniform(0.0, 0.015),
        aspect=rng.uniform(0.55, 0.85),
        variant=rng.uniform(0.0, 1.0),
    )


def photo(rgba_on_transparent: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Make a drawing look like a phone photo of dark ink on paper: ``(H, W, 3) uint8`` RGB.

    Paper is off-white with a lighting gradient and grain, the ink dark blue and slightly blurred.
    """
    height, width = rgba_on_transparent.shape[:2]
    blurred = Image.fromarray(rgba_on_transparent[..., 3]).filter(ImageFilter.GaussianBlur(1.2))
    alpha = np.asarray(blurred, dtype=np.float32) / 255.0
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    angle = rng.uniform(0, 2 * math.pi)
    light = 0.88 - 0.25 * (np.cos(angle) * xx + np.sin(angle) * yy)
    paper = light[..., None] * np.array([1.0, 0.98, 0.93]) + rng.normal(0, 0.02, (height, width, 1))
    ink = np.array([0.12, 0.14, 0.35]) * rng.uniform(0.7, 1.2)
    out = paper * (1 - alpha[..., None]) + ink * alpha[..., None]
    return (np.clip(out, 0, 1) * 255).astype(np.uint8)
