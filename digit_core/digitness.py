"""Whether ink can be one handwritten digit: noise, specks, solid blocks, text and scattered dots
are refused with the reason, so that the app does not put a confident digit on them.

Each measure is checked against a limit well outside what digits reach. Measured on 5,000 MNIST
test digits upscaled to 280 px, 5,000 MNIST training digits at 28 px, 5,000 drawn digits (canvas,
paper, white on black, photos as JPEG, inverted photos) and the 1,797 UCI digits enlarged from
8x8 (blocky or blurred), none of which is refused. No TensorFlow.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage
from skimage.morphology import convex_hull_image

from .normalise import EIGHT, edge_perimeter, ink_box, without_dust

NOT_A_DIGIT = "this does not look like a digit"

MAX_DUST = 0.5  # share of the ink in pieces too small to be strokes; digits have next to none
MAX_STROKE_LENGTH = 6.5  # perimeter / 2 in units of the ink box's longer side; digits reach 4.6
# A solid block fills much of its box (ink area / the box's longer side squared: a disc 0.785, a
# square 1) and is convex (ink area / its convex hull's: 0.99). Thin-pen digits fill at most 0.63;
# a thick marker's digits, even cropped tight, fill up to 0.85 but are at most 0.96 convex.
SOLID_FILL, SOLID_CONVEX = 0.7, 0.97
MAX_WIDE = 3.5  # ink box width / height; MNIST's widest digits reach 2.5, a line of text 10 or more
MIN_MAIN_PIECE = 0.3  # the largest connected piece's share of the ink; digits keep 0.45 or more
PIECE_GRID = 128  # pieces are seen on a grid of at most this many cells along the longer side


def not_a_digit(ink: np.ndarray) -> str | None:
    """Why the ink cannot be one handwritten digit, or None when it can.

    ``ink``: ``(H, W) float32`` in [0, 1] with stroke cores at 1 (an ink map from
    :func:`digit_core.ink.find_ink`, or its crop). The measures, on the ink mask (> 0.5) once dust
    is set aside:

    - dust, the share of the ink in pieces too small to be part of a digit: noise and grain;
    - stroke length, ``perimeter / 2`` in units of the ink box's longer side: a 1 is about 1, an
      8 about 3, no digit reached 4.6; textures give 8 to 200;
    - solidity: the ink fills much of its box and of its convex hull (a disc, a square);
    - width over height of the ink box: a line of text gives 10 or more;
    - the largest 8-connected piece's share of the ink, on a grid whose cells are about one
      three strokes wide (which closes the gaps of a broken or dotted stroke): scattered dots
      spread it over many.
    """
    ink = np.asarray(ink, dtype=np.float32)
    total = float(ink.sum())
    if total <= 0:
        return None
    cleaned = without_dust(ink)
    if 1.0 - float(cleaned.sum()) / total > MAX_DUST:
        return f"{NOT_A_DIGIT}: the ink is scattered in many tiny specks, like noise or texture"
    box = ink_box(np.where(cleaned > 0.5, cleaned, 0.0))
    if box is None:
        return None
    mask = cleaned[box[0] : box[2], box[1] : box[3]] > 0.5
    side = max(mask.shape)
    area = int(mask.sum())
    perimeter = edge_perimeter(mask)
    if perimeter / (2 * side) > MAX_STROKE_LENGTH:
        return f"{NOT_A_DIGIT}: its strokes are far longer than a digit's, like a texture or a spiral"
    if area / side**2 >= SOLID_FILL and area / convex_hull_image(mask).sum() >= SOLID_CONVEX:
        return f"{NOT_A_DIGIT}: the ink is one solid block, not pen strokes"
    if mask.shape[1] > MAX_WIDE * mask.shape[0]:
        return f"{NOT_A_DIGIT}: the ink is a long row, like a line of text or several digits"
    cell = max(2, math.ceil(3 * 2 * area / perimeter), math.ceil(side / PIECE_GRID))
    if main_piece_share(mask, cell) < MIN_MAIN_PIECE:
        return f"{NOT_A_DIGIT}: the ink is in many separate dots or specks, not the strokes of a digit"
    return None


def main_piece_share(mask: np.ndarray, cell: int) -> float:
    """The largest 8-connected piece's share of a boolean mask, seen on a grid of ``cell`` px
    cells (a cell is ink when any of its pixels is)."""
    height, width = -(-mask.shape[0] // cell), -(-mask.shape[1] // cell)
    padded = np.zeros((height * cell, width * cell), dtype=bool)
    padded[: mask.shape[0], : mask.shape[1]] = mask
    coarse = padded.reshape(height, cell, width, cell).any(axis=(1, 3))
    labels, count = ndimage.label(coarse, structure=EIGHT)
    if count == 0:
        return 0.0
    return float(np.bincount(labels.ravel())[1:].max()) / float(coarse.sum())
