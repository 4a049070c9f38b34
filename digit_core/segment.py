"""Split a drawing of several digits (a year, a phone number) into one image per digit.

Connected components of the ink, found on a reduced mask so that pure Python stays fast, are
merged when they overlap horizontally (a 4 or a 5 drawn in two strokes), then ordered left to
right. Each piece is cut from the full-resolution drawing and goes through the same
preprocessing as a single digit.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from .preprocess import Prepared, _normalise_contrast, from_ink, ink_map, load_image

GRID = 4  # labelling runs on a mask reduced by this factor in each direction
MIN_AREA = 0.002  # components with less of the ink than this fraction are specks, not digits
OVERLAP = 0.5  # merge two pieces when their column ranges overlap by this much of the narrower


@dataclass(frozen=True)
class Piece:
    """One digit of a number: where it was and its model input."""

    box: tuple[int, int, int, int]  # (top, left, bottom, right) in the drawing's pixels
    prepared: Prepared


def _components(mask: np.ndarray) -> tuple[np.ndarray, list[list[int]]]:
    """8-connected components of a boolean mask: a label map (0 = background, k = component k)
    and ``[top, left, bottom, right, area, k]`` for each component."""
    labels = np.zeros(mask.shape, dtype=np.int32)
    height, width = mask.shape
    found: list[list[int]] = []
    for row, col in zip(*np.nonzero(mask)):
        start = (int(row), int(col))
        if labels[start]:
            continue
        label = len(found) + 1
        labels[start] = label
        queue = deque([start])
        top, left, bottom, right, area = start[0], start[1], start[0], start[1], 0
        while queue:
            r, c = queue.popleft()
            area += 1
            top, bottom, left, right = min(top, r), max(bottom, r), min(left, c), max(right, c)
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if 0 <= rr < height and 0 <= cc < width and mask[rr, cc] and not labels[rr, cc]:
                        labels[rr, cc] = label
                        queue.append((rr, cc))
        found.append([top, left, bottom + 1, right + 1, area, label])
    return labels, found


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
    ink, _, _ = ink_map(load_image(image))
    contrasted = _normalise_contrast(ink)
    if contrasted is None:
        return []
    ink = contrasted
    height, width = ink.shape
    small = Image.fromarray(ink).resize((max(1, width // GRID), max(1, height // GRID)), Image.Resampling.BOX)
    labels, components = _components(np.asarray(small) > 0.05)
    total = sum(c[4] for c in components)
    boxes = [c[:5] + [{c[5]}] for c in components if c[4] >= MIN_AREA * total]
    pieces = []
    for top, left, bottom, right, _, members in _merge_columns(boxes):
        # This piece's components only, widened by one reduced pixel to keep anti-aliased edges.
        own = np.isin(labels, list(members))
        own = np.asarray(Image.fromarray(own.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(3))) > 0
        full = np.repeat(np.repeat(own, GRID, axis=0), GRID, axis=1)
        mask = np.zeros_like(ink, dtype=bool)
        mask[: full.shape[0], : full.shape[1]] = full[:height, :width]
        box = (top * GRID, left * GRID, min(height, bottom * GRID), min(width, right * GRID))
        crop = np.where(mask, ink, 0.0)[box[0] : box[2], box[1] : box[3]]
        # The ink is already white on black: skip finding it again (a thick stroke could fill
        # the crop's border and look like a light background).
        prepared = from_ink(crop)
        if not prepared.blank:
            pieces.append(Piece(box, prepared))
    return pieces
