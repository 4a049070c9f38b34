"""Drawings that are not digits, as pen strokes: a dot, a smiley, an asterisk, a spiral, a
scribble, shapes, symbols and letters.

The counterpart of :mod:`tests.support.strokes` for the "not a digit" answer: the same unit box
(``(x, y)``, ``x`` to the right and ``y`` down), placed and rendered by the same functions, so a
non-digit is drawn exactly as a digit would be, with any pen, off-centre, slanted or shaky.
:func:`drawings` gives a reproducible set (fixed seeds) for the tests and ``bench/non_digits.py``.
"""

from __future__ import annotations

import math

import numpy as np

from . import strokes
from .strokes import Stroke


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, steps: int = 24) -> Stroke:
    """Points on an ellipse from angle ``start`` to ``end`` (degrees, 0 = right, 90 = down)."""
    angles = np.radians(np.linspace(start, end, steps))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


def _spiral(turns: float = 3.0, steps: int = 120) -> Stroke:
    angles = np.linspace(0.0, 2 * math.pi * turns, steps)
    radii = np.linspace(0.04, 0.48, steps)
    return [(0.5 + r * math.cos(a), 0.5 + r * math.sin(a)) for a, r in zip(angles, radii)]


def _scribble() -> Stroke:
    # A pen going round and round at random, as when testing whether it writes.
    rng = np.random.default_rng(7)
    angles = np.cumsum(rng.uniform(0.5, 1.4, 60))
    radii = 0.25 + 0.2 * rng.random(60)
    centres = np.linspace(0.3, 0.7, 60)
    return [(c + r * math.cos(a), 0.5 + r * math.sin(a)) for c, r, a in zip(centres, radii, angles)]


def _star() -> Stroke:
    tips = [
        (
            0.5 + 0.48 * math.cos(math.radians(-90 + 144 * k)),
            0.52 + 0.48 * math.sin(math.radians(-90 + 144 * k)),
        )
        for k in range(6)
    ]
    return tips


def _sun() -> list[Stroke]:
    rays = []
    for k in range(8):
        a = math.radians(45 * k)
        rays.append(
            [
                (0.5 + 0.3 * math.cos(a), 0.5 + 0.3 * math.sin(a)),
                (0.5 + 0.48 * math.cos(a), 0.5 + 0.48 * math.sin(a)),
            ]
        )
    return [arc(0.5, 0.5, 0.2, 0.2, 0, 360, 30), *rays]


# Each non-digit has one or two ways of drawing it; the name says what it is.
TEMPLATES: dict[str, list[list[Stroke]]] = {
    "dot": [[[(0.49, 0.5), (0.51, 0.5)]], [[(0.5, 0.49), (0.52, 0.52), (0.49, 0.51)]]],
    "smiley": [
        [
            arc(0.5, 0.5, 0.46, 0.46, 0, 360, 40),
            [(0.34, 0.35), (0.35, 0.37)],
            [(0.64, 0.35), (0.65, 0.37)],
            arc(0.5, 0.52, 0.24, 0.2, 20, 160, 16),
        ]
    ],
    "asterisk": [
        [[(0.5, 0.05), (0.5, 0.95)], [(0.1, 0.28), (0.9, 0.72)], [(0.1, 0.72), (0.9, 0.28)]],
        [
            [(0.5, 0.05), (0.5, 0.95)],
            [(0.05, 0.5), (0.95, 0.5)],
            [(0.15, 0.15), (0.85, 0.85)],
            [(0.15, 0.85), (0.85, 0.15)],
        ],
    ],
    "spiral": [[_spiral(3.0)], [_spiral(2.5)]],
    "scribble": [[_scribble()]],
    "star": [[_star()]],
    "heart": [
        [
            arc(0.3, 0.3, 0.2, 0.2, 180, 360, 16)
            + arc(0.7, 0.3, 0.2, 0.2, 180, 360, 16)[1:]
            + [(0.5, 0.95), (0.1, 0.32)]
        ]
    ],
    "house": [
        [[(0.1, 0.45), (0.1, 0.95), (0.9, 0.95), (0.9, 0.45), (0.1, 0.45), (0.5, 0.05), (0.9, 0.45)]],
        [
            [(0.1, 0.45), (0.1, 0.95), (0.9, 0.95), (0.9, 0.45), (0.1, 0.45)],
            [(0.05, 0.5), (0.5, 0.05), (0.95, 0.5)],
            [(0.4, 0.95), (0.4, 0.7), (0.6, 0.7), (0.6, 0.95)],
        ],
    ],
    "letter A": [[[(0.1, 0.95), (0.5, 0.05), (0.9, 0.95)], [(0.27, 0.6), (0.73, 0.6)]]],
    "letter K": [[[(0.2, 0.05), (0.2, 0.95)], [(0.85, 0.05), (0.2, 0.55)], [(0.4, 0.4), (0.85, 0.95)]]],
    "letter M": [[[(0.08, 0.95), (0.15, 0.05), (0.5, 0.65), (0.85, 0.05), (0.92, 0.95)]]],
    "letter W": [[[(0.05, 0.05), (0.25, 0.95), (0.5, 0.35), (0.75, 0.95), (0.95, 0.05)]]],
    "letter X": [[[(0.1, 0.05), (0.9, 0.95)], [(0.9, 0.05), (0.1, 0.95)]]],
    "letter R": [
        [
            [(0.2, 0.95), (0.2, 0.05)]
            + arc(0.45, 0.27, 0.3, 0.22, -90, 90, 14)[1:]
            + [(0.2, 0.5), (0.85, 0.95)]
        ]
    ],
    "letter Q": [[arc(0.5, 0.47, 0.4, 0.44, 0, 360, 40), [(0.55, 0.7), (0.92, 0.98)]]],
    "letter E": [[[(0.85, 0.05), (0.2, 0.05), (0.2, 0.95), (0.85, 0.95)], [(0.2, 0.5), (0.7, 0.5)]]],
    "hash": [
        [
            [(0.35, 0.05), (0.3, 0.95)],
            [(0.7, 0.05), (0.65, 0.95)],
            [(0.05, 0.35), (0.95, 0.35)],
            [(0.05, 0.68), (0.95, 0.68)],
        ]
    ],
    "at sign": [
        [arc(0.5, 0.52, 0.14, 0.16, 0, 360, 20) + [(0.64, 0.7)] + arc(0.5, 0.5, 0.45, 0.45, 30, 340, 36)]
    ],
    "ampersand": [
        [
            [(0.9, 0.95), (0.3, 0.35)]
            + arc(0.45, 0.22, 0.17, 0.17, 150, 390, 16)
            + [(0.2, 0.6)]
            + arc(0.38, 0.75, 0.22, 0.2, 200, 450, 16)
            + [(0.88, 0.5)]
        ]
    ],
    "cross-hatch": [
        [[(0.05, y), (0.95, y)] for y in (0.15, 0.38, 0.62, 0.85)]
        + [[(x, 0.05), (x, 0.95)] for x in (0.15, 0.38, 0.62, 0.85)]
    ],
    "triangle": [[[(0.5, 0.05), (0.95, 0.9), (0.05, 0.9), (0.5, 0.05)]]],
    "arrow": [[[(0.05, 0.5), (0.95, 0.5)], [(0.65, 0.2), (0.95, 0.5), (0.65, 0.8)]]],
    "sun": [_sun()],
    "wave": [[[(0.02 + 0.96 * i / 40, 0.5 + 0.3 * math.sin(i / 40 * 4 * math.pi)) for i in range(41)]]],
}


def place(
    name: str, style: strokes.Style = strokes.Style(), rng: np.random.Generator | None = None
) -> list[Stroke]:
    """The strokes of non-digit ``name`` in canvas pixel coordinates for ``style`` (square
    drawings: ``style.aspect`` is taken as 1 for them, a letter keeps ``style.aspect``)."""
    if name not in TEMPLATES:
        raise ValueError(f"unknown non-digit {name!r}; known: {sorted(TEMPLATES)}")
    aspect = style.aspect if name.startswith("letter") else 1.0
    return strokes.place_template(TEMPLATES[name], style, aspect, rng)


def draw(
    name: str, style: strokes.Style = strokes.Style(), rng: np.random.Generator | None = None, **colours
) -> np.ndarray:
    """Render non-digit ``name`` in ``style``: ``(size, size, 4) uint8`` RGBA, by default as the
    app's canvas sends it (see :func:`tests.support.strokes.render`)."""
    return strokes.render(place(name, style, rng), style.size, style.width, **colours)


def random_style(rng: np.random.Generator, size: int = 280) -> strokes.Style:
    """A drawing as people make them on the canvas: a pen from thin to the page's thick default
    and beyond, off-centre, a little slanted and shaky (as :func:`tests.support.strokes.random_style`,
    with a pen no thinner than 4 px, the app's thinnest)."""
    style = strokes.random_style(rng, size)
    return strokes.Style(
        size=style.size,
        height=style.height,
        centre=style.centre,
        slant=style.slant * 0.5,
        width=max(4.0, style.width),
        jitter=style.jitter,
        aspect=style.aspect,
        variant=style.variant,
    )


def drawings(per_name: int = 10, seed: int = 0, size: int = 280) -> list[tuple[str, np.ndarray]]:
    """``per_name`` drawings of every non-digit, ``(name, (size, size, 4) uint8)`` as the canvas
    sends them (black ink on transparent), reproducible for a given ``seed``."""
    rng = np.random.default_rng(seed)
    out = []
    for name in TEMPLATES:
        for _ in range(per_name):
            out.append((name, draw(name, random_style(rng, size), rng)))
    return out
