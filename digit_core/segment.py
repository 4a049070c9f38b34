"""Split a drawing of several digits (a year, a phone number) into one image per digit.

Connected pieces of the ink (scipy.ndimage.label) are merged when they overlap horizontally (a 4
or a 5 drawn in two strokes), then ordered left to right. Each piece is cut from the full
drawing, keeping only its own strokes, and goes through the same normalisation as a single digit.

Digits that touch make one piece. Given a reader (a model's predictions), a piece that may hold
several digits gets cuts tried at its thin columns (the low points of its ink's vertical
projection); the cut whose two sides the model reads most surely is kept when it reads them more
surely than the whole piece as one digit, and the piece is marked as unsure when the two readings
are too close to tell. Measured on 200 pairs of touching digits drawn from the stroke templates
and 200 single digits drawn wide: with a CNN trained with label smoothing, 72 % of the pairs are
read right, 12 % flagged unsure, and no single digit is cut; an overconfident model (one that
says 100 % for the joined pair too) cuts less often and flags more pairs as unsure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from .imagefile import load_image, shrink
from .ink import EIGHT, find_ink
from .normalise import edge_perimeter, ink_box
from .preprocess import Prepared, from_ink

MIN_AREA = 0.002  # pieces with less of the ink than this fraction are specks, not digits
OVERLAP = 0.5  # merge two pieces when their column ranges overlap by this much of the narrower
# Touching digits: a piece at least WIDE times as wide as it is tall may be several digits (two
# touching ones measure 0.6 to 1.4, a single one 0.1 to 1.1). Cuts are tried at the CUTS thinnest
# columns, each leaving at least EDGE of the width on either side. A cut's score is the geometric
# mean of its two sides' confidence, plus ASPECT_BONUS per unit of width / height above
# EVEN_ASPECT; the best cut wins when its sides are read at least SURE and its score beats the
# whole piece's confidence by TIE; within TIE of it, the piece is unsure.
WIDE = 0.6
CUTS = 12
EDGE = 0.15
SURE = 0.5
TIE = 0.03
EVEN_ASPECT = 1.1
ASPECT_BONUS = 0.1
MAX_DEPTH = 3  # a piece is cut at most this many times over (four touching digits)

Reader = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) float32 images -> (N, 10) probabilities


@dataclass(frozen=True)
class Piece:
    """One digit of a number: where it was and its model input.

    ``split``: it was cut from a piece of touching digits. ``unsure``: the piece could be one
    digit or touching digits, and the reader could not tell which.
    """

    box: tuple[int, int, int, int]  # (top, left, bottom, right) in the drawing's pixels
    prepared: Prepared
    split: bool = False
    unsure: bool = False


def _merge_columns(boxes: list[list]) -> list[list]:
    """Merge boxes whose column ranges overlap enough to be one digit; sorted left to right.

    Each box is ``[top, left, bottom, right, area, members]``, ``members`` the component labels.
    """
    merged: list[list] = []
    for box in sorted(boxes, key=lambda b: b[1]):
        if merged:
            last = merged[-1]
            overlap = min(last[3], box[3]) - max(last[1], box[1])
            narrower = min(last[3] - last[1], box[3] - box[1])
            if overlap > OVERLAP * narrower:
                merged[-1] = [
                    min(last[0], box[0]),
                    min(last[1], box[1]),
                    max(last[2], box[2]),
                    max(last[3], box[3]),
                    last[4] + box[4],
                    last[5] | box[5],
                ]
                continue
        merged.append(list(box))
    return merged


def split_digits(image: Any, read: Reader | None = None) -> list[Piece]:
    """Digits of a multi-digit drawing, left to right (anything :func:`load_image` takes).

    Each piece holds only its own strokes, even where a neighbour reaches into its box. With
    ``read``, pieces that may be touching digits are cut where ``read`` reads both sides best
    (see :func:`separate`). Returns an empty list for a blank drawing.
    """
    ink = find_ink(shrink(load_image(image))).ink
    if ink is None:
        return []
    labels, count = ndimage.label(ink > 0, structure=EIGHT)
    if count == 0:
        return []
    areas = np.bincount(labels.ravel())[1:]
    boxes = [
        [s[0].start, s[1].start, s[0].stop, s[1].stop, int(area), {k}]
        for k, (s, area) in enumerate(zip(ndimage.find_objects(labels), areas), start=1)
        if area >= MIN_AREA * areas.sum()
    ]
    pieces = []
    for top, left, bottom, right, _, members in _merge_columns(boxes):
        own = np.isin(labels[top:bottom, left:right], list(members))
        # The ink is already white on black: from_ink does not look for it again (a thick
        # stroke could fill the crop's border and look like a light background).
        own_ink = np.where(own, ink[top:bottom, left:right], 0.0).astype(np.float32)
        if read is not None:
            pieces.extend(separate(own_ink, (top, left), read))
            continue
        prepared = from_ink(own_ink)
        if not prepared.blank:
            pieces.append(Piece((top, left, bottom, right), prepared))
    return pieces


def cut_columns(ink: np.ndarray, count: int = CUTS) -> list[int]:
    """Up to ``count`` columns of ``ink`` ``(h, w)`` at which to try cutting it in two, the
    thinnest first: where its column profile (ink per column, smoothed over a stroke's width) is
    lowest, at least half a stroke apart, none within :data:`EDGE` of the width from either side."""
    height, width = ink.shape
    low, high = int(np.ceil(EDGE * width)), int(np.floor((1 - EDGE) * width))
    if high <= low:
        return []
    mask = ink > 0.5
    profile = mask.sum(axis=0).astype(np.float32)
    stroke = max(1.0, 2.0 * float(mask.sum()) / max(1, edge_perimeter(mask)))
    profile = ndimage.uniform_filter1d(profile, size=max(1, int(round(stroke))), mode="nearest")
    candidates = np.arange(low, high)
    ordered = candidates[np.argsort(profile[low:high], kind="stable")]
    chosen: list[int] = []
    for column in ordered.tolist():
        if all(abs(column - other) >= stroke / 2 for other in chosen):
            chosen.append(column)
        if len(chosen) == count:
            break
    return chosen


def separate(ink: np.ndarray, origin: tuple[int, int], read: Reader, depth: int = 0) -> list[Piece]:
    """One piece's ink ``(h, w)`` (white on black, at ``origin`` = (top, left) in the drawing)
    as the digits it holds, left to right: itself when it is no wider than one digit or when no
    cut reads better, else the two sides of the best cut, each separated again.

    A cut at column ``c`` puts every ink pixel left of ``c`` on one side and the rest on the
    other; ``read``'s top probability is each reading's confidence. See the constants for how
    the best cut is chosen and when it wins.
    """
    top, left = origin
    box = ink_box(ink)
    if box is None:
        return []
    whole = from_ink(ink)
    if whole.blank:
        return []
    height, width = box[2] - box[0], box[3] - box[1]
    here = (top + box[0], left + box[1], top + box[2], left + box[3])
    if depth >= MAX_DEPTH or width < WIDE * height:
        return [Piece(here, whole)]
    crop = ink[box[0] : box[2], box[1] : box[3]]
    options = []
    for column in cut_columns(crop):
        sides = [crop[:, :column], crop[:, column:]]
        prepared = [from_ink(side) for side in sides]
        if any(p.blank for p in prepared):
            continue
        options.append((column, sides, prepared))
    if not options:
        return [Piece(here, whole)]
    images = np.stack([whole.image] + [p.image for _, _, pair in options for p in pair])
    confidence = np.max(read(images), axis=1)
    # Each cut read as two digits: how sure of both sides (geometric mean), with a bonus for a
    # shape wider than a digit usually is; against how sure of the whole as one digit.
    sure_whole = float(confidence[0])
    scores = np.sqrt(confidence[1::2] * confidence[2::2])
    best = int(np.argmax(scores))
    adjusted = float(scores[best]) + ASPECT_BONUS * (width / height - EVEN_ASPECT)
    if scores[best] >= SURE and adjusted >= sure_whole + TIE:
        column, sides, _ = options[best]
        origin_left = (top + box[0], left + box[1])
        origin_right = (top + box[0], left + box[1] + column)
        found = separate(sides[0], origin_left, read, depth + 1) + separate(
            sides[1], origin_right, read, depth + 1
        )
        return [Piece(p.box, p.prepared, split=True, unsure=p.unsure) for p in found]
    # Only a piece as drawn can be unsure: a side of a cut already made is kept whole when cutting
    # it again reads no better (doubting it would flag every clean cut of two touching digits).
    unsure = bool(depth == 0 and scores[best] >= SURE and adjusted > sure_whole - TIE)
    return [Piece(here, whole, unsure=unsure)]
