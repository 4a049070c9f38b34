"""The pen strokes in a drawing, as a skeleton: where strokes end, where they meet, and the path each
takes. :mod:`digit_core.digitness` judges from these whether ink can be a digit.

The ink is fitted to a :data:`SIDE` px box, thinned to its skeleton (one pixel wide lines along
the middle of the strokes) and cut at the junctions into branches. Branches that end freely and
are shorter than about a stroke's width, the skeleton's whiskers at a thick stroke's corners, are
pruned. numpy, Pillow, scipy and scikit-image; no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.morphology import skeletonize

from .normalise import EIGHT, edge_perimeter, ink_box

SIDE = 64  # px: the ink's longer side is fitted to this before the skeleton is taken
PAD = 2  # px of paper around the fitted ink
SPUR = 0.12  # free branches shorter than this share of the side (or 1.5 strokes) are whiskers
_NEIGHBOURS = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]])


@dataclass(frozen=True)
class Branch:
    """One stroke between two nodes (ends or junctions): its pixels in order, ``(n, 2)`` rows of
    ``(y, x)`` in the fitted box, and whether each end of it is free (a stroke's end)."""

    points: np.ndarray
    free: tuple[bool, bool]

    @property
    def length(self) -> int:
        return len(self.points)


@dataclass(frozen=True)
class Strokes:
    """A drawing's strokes in a box of ``height`` x ``width`` px (the longer side :data:`SIDE`).

    ``mask`` is the fitted ink ``(height + 2 PAD, width + 2 PAD) bool``; ``ends`` the free stroke
    ends ``(k, 2)`` as ``(y, x)`` relative to the box, 0..1; ``branches`` the strokes between
    ends and junctions; ``junctions`` the number of places where three or more strokes meet;
    ``width_px`` the mean stroke width in px.
    """

    mask: np.ndarray
    height: int
    width: int
    width_px: float
    ends: np.ndarray
    branches: tuple[Branch, ...]
    junctions: int


def fit(ink: np.ndarray, side: int = SIDE) -> np.ndarray | None:
    """The ink's mask (> 0.5) cropped to its box and fitted to ``side`` px on its longer side
    (area-averaged down, bilinear up), with :data:`PAD` px of paper around; None without ink."""
    ink = np.asarray(ink, dtype=np.float32)
    box = ink_box(np.where(ink > 0.5, ink, 0.0))
    if box is None:
        return None
    crop = ink[box[0] : box[2], box[1] : box[3]]
    scale = side / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    fitted = np.asarray(Image.fromarray(np.ascontiguousarray(crop)).resize(size, method), np.float32)
    return np.pad(fitted > 0.5, PAD)


def _degree(skeleton: np.ndarray) -> np.ndarray:
    return ndimage.convolve(skeleton.astype(np.int32), _NEIGHBOURS, mode="constant") * skeleton


def _trace(pixels: np.ndarray, start: tuple[int, int] | None) -> np.ndarray:
    """The pixels of one branch (a path, ``(n, 2)`` rows of (y, x)), in order from ``start`` (one
    of its ends; for a closed loop, any pixel)."""
    remaining = {(int(y), int(x)) for y, x in pixels}
    if not remaining:
        return np.zeros((0, 2), int)
    current = start if start in remaining else next(iter(remaining))
    ordered = [current]
    remaining.discard(current)
    while remaining:
        y, x = current
        # 4-neighbours first, so that a diagonal step never skips a pixel of the path.
        steps = [(y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)]
        steps += [(y - 1, x - 1), (y - 1, x + 1), (y + 1, x - 1), (y + 1, x + 1)]
        following = next((p for p in steps if p in remaining), None)
        if following is None:
            break
        ordered.append(following)
        remaining.discard(following)
        current = following
    return np.array(ordered, dtype=int)


def _branches(skeleton: np.ndarray) -> tuple[list[Branch], int]:
    """The skeleton cut at its junction pixels into branches, and the number of junctions."""
    degree = _degree(skeleton)
    junction_pixels = skeleton & (degree >= 3)
    junction_labels, junctions = ndimage.label(junction_pixels, structure=EIGHT)
    near_junction = ndimage.binary_dilation(junction_pixels, structure=EIGHT)
    parts, count = ndimage.label(skeleton & ~junction_pixels, structure=EIGHT)
    branches = []
    for k, where in enumerate(ndimage.find_objects(parts), start=1):
        if where is None:
            continue
        own = parts[where] == k
        ys, xs = np.nonzero(own)
        ys, xs = ys + where[0].start, xs + where[1].start
        # A branch's own ends: pixels with at most one neighbour within the branch.
        local = np.zeros_like(skeleton)
        local[ys, xs] = True
        inner = _degree(local)[ys, xs]
        tips = [(int(y), int(x)) for y, x, d in zip(ys, xs, inner) if d <= 1]
        free = [not near_junction[y, x] for y, x in tips]
        points = _trace(np.stack([ys, xs], axis=1), tips[0] if tips else None)
        if len(tips) >= 2:
            free_ends = (not near_junction[tuple(points[0])], not near_junction[tuple(points[-1])])
        elif len(tips) == 1:  # a single pixel
            free_ends = (free[0], free[0])
        else:  # a closed loop
            free_ends = (False, False)
        branches.append(Branch(points, free_ends))
    return branches, junctions


def strokes_of(ink: np.ndarray) -> Strokes | None:
    """The strokes of ``ink`` (``(H, W) float32`` in [0, 1], ink bright), or None without ink."""
    mask = fit(ink)
    if mask is None:
        return None
    return strokes_of_mask(mask)


def strokes_of_mask(mask: np.ndarray) -> Strokes:
    """:func:`strokes_of` for a mask already fitted by :func:`fit`."""
    height, width = int(mask.shape[0] - 2 * PAD), int(mask.shape[1] - 2 * PAD)
    width_px = 2.0 * float(mask.sum()) / max(1, edge_perimeter(mask))
    skeleton = skeletonize(mask)
    spur = max(1.5 * width_px, SPUR * max(height, width))
    for _ in range(3):  # pruning can turn a junction into a bend and leave a new whisker
        branches, _ = _branches(skeleton)
        whiskers = [b for b in branches if (b.free[0] != b.free[1]) and b.length < spur]
        if not whiskers:
            break
        for branch in whiskers:
            skeleton[branch.points[:, 0], branch.points[:, 1]] = False
        skeleton = skeletonize(skeleton)
    branches, junctions = _branches(skeleton)
    ends = []
    for branch in branches:
        for free, point in zip(branch.free, (branch.points[0], branch.points[-1])):
            if free and branch.length:
                ends.append(point)
        if branch.length == 1 and branch.free[0]:
            ends.pop()  # a lone pixel is one end, not two
    box = np.array([max(1, height - 1), max(1, width - 1)], np.float32)
    relative = (np.array(ends, np.float32).reshape(-1, 2) - PAD) / box
    return Strokes(mask, height, width, width_px, relative, tuple(branches), junctions)


def reversals(values: np.ndarray, amplitude: float) -> int:
    """How many times a sequence turns back after moving at least ``amplitude`` one way; turns
    of less than ``amplitude`` are wobbles and do not count."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return 0
    turns, direction = 0, 0
    high = low = float(values[0])
    for value in values[1:].tolist():
        high, low = max(high, value), min(low, value)
        if direction >= 0 and value <= high - amplitude:
            turns += direction > 0
            direction, low = -1, value
        elif direction <= 0 and value >= low + amplitude:
            turns += direction < 0
            direction, high = 1, value
    return turns
