"""Split a drawing of several digits (a year, a phone number) into one image per digit.

Connected pieces of the ink (scipy.ndimage.label) are merged when they overlap horizontally (a 4
or a 5 drawn in two strokes), then ordered left to right. Each piece is cut from the full
drawing, keeping only its own strokes, and goes through the same normalisation as a single digit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from .imagefile import load_image, shrink
from .ink import EIGHT, find_ink
from .preprocess import Prepared, from_ink

MIN_AREA = 0.002  # pieces with less of the ink than this fraction are specks, not digits
OVERLAP = 0.5  # merge two pieces when their column ranges overlap by this much of the narrower


@dataclass(frozen=True)
class Piece:
    """One digit of a number: where it was and its model input."""

    box: tuple[int, int, int, int]  # (top, left, bottom, right) in the drawing's pixels
    prepared: Prepared


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


def split_digits(image: Any) -> list[Piece]:
    """Digits of a multi-digit drawing, left to right (anything :func:`load_image` takes).

    Each piece holds only its own strokes, even where a neighbour reaches into its box.
    Returns an empty list for a blank drawing.
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
        prepared = from_ink(np.where(own, ink[top:bottom, left:right], 0.0).astype(np.float32))
        if not prepared.blank:
            pieces.append(Piece((top, left, bottom, right), prepared))
    return pieces
