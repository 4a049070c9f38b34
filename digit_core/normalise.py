"""MNIST-style normalisation of an ink map: crop to the digit, fit its longer side to the 20 px
box with anti-aliasing, and put its centre of mass at the centre of the 28x28 field.

Strokes thinner than MNIST's are thickened (a dilation never loses the digit); thick strokes are
kept as they are, since thinning a marker's strokes breaks them apart and closes nothing that was
open: the models learn thick pens from augmentation instead. No TensorFlow.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from .spec import DIGIT_BOX, IMAGE_SIZE

WORK_SCALE = 4  # stroke width is measured and adjusted at 4x the final 20 px box, an 80 px box
DUST = 0.01  # connected pieces holding less of the ink than this are dust, not part of the digit
# Stroke width in px at the 20 px box scale, as 2 * area / perimeter of the ink. MNIST's training
# digits measure 1.12 / 1.50 / 1.80 / 2.16 / 2.80 at the 5/25/50/75/95th percentiles by this
# estimator (bench/stroke_width.py). Thinner strokes are thickened to the 25th percentile.
STROKE_MIN, STROKE_MAX = 1.12, 2.8
STROKE_TARGET = 1.5
EIGHT = np.ones((3, 3), dtype=bool)


def edge_perimeter(mask: np.ndarray) -> int:
    """Perimeter of a boolean mask, counted as pixel edges between ink and not-ink (the image's
    edge counts as not-ink)."""
    padded = np.pad(mask, 1)
    vertical = np.count_nonzero(padded[1:] != padded[:-1])
    return int(vertical + np.count_nonzero(padded[:, 1:] != padded[:, :-1]))


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels of a boolean ink mask, as ``2 * area / perimeter``."""
    area = int(mask.sum())
    return 2.0 * area / max(edge_perimeter(mask), 1) if area else 0.0


def without_dust(ink: np.ndarray) -> np.ndarray:
    """``ink`` with every 8-connected piece that holds less than :data:`DUST` of its total
    removed (specks on a scan, paper grain); the digit's own pieces stay."""
    labels, count = ndimage.label(ink > 0, structure=EIGHT)
    if count <= 1:
        return ink
    mass = ndimage.sum_labels(ink, labels, index=np.arange(1, count + 1))
    keep = np.concatenate([[False], mass >= DUST * mass.sum()])
    return np.where(keep[labels], ink, 0.0).astype(np.float32)


def ink_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(top, left, bottom, right)`` of the nonzero pixels of ``ink``, or None when there are none."""
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0), np.flatnonzero(ink.max(axis=0) > 0)
    if rows.size == 0:
        return None
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _resize(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize ``(h, w)`` floats to ``size`` (width, height): area-averaging when shrinking (the
    anti-aliasing MNIST's digits have), bilinear when enlarging."""
    shrinking = size[0] < values.shape[1] or size[1] < values.shape[0]
    method = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    image = Image.fromarray(np.ascontiguousarray(values, dtype=np.float32)).resize(size, method)
    return np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)


def _thicken(work: np.ndarray) -> tuple[np.ndarray, float]:
    """Dilate the 80 px-box image when its strokes are thinner than MNIST's; returns it and the
    stroke width seen, in 20 px-box pixels."""
    width = stroke_width(work > 0.5) / WORK_SCALE
    if width == 0 or width >= STROKE_MIN:
        return work, width
    # A (2r+1) max filter widens a stroke by about 2r pixels.
    radius = int(round((STROKE_TARGET - width) * WORK_SCALE / 2))
    if radius == 0:
        return work, width
    return ndimage.grey_dilation(work, size=(2 * radius + 1, 2 * radius + 1)), width


def fit_box(crop: np.ndarray) -> tuple[np.ndarray, float]:
    """A cropped ink map ``(h, w)`` -> the digit with its longer side 20 px, ``(<=20, <=20)``
    float32 in [0, 1], and the stroke width seen (20 px-box pixels, before any thickening)."""
    height, width = crop.shape
    scale = DIGIT_BOX / max(height, width)
    size20 = (max(1, round(width * scale)), max(1, round(height * scale)))
    work = _resize(crop, (size20[0] * WORK_SCALE, size20[1] * WORK_SCALE))
    work, seen = _thicken(work)
    return _resize(work, size20), seen


def centre_by_mass(digit: np.ndarray) -> np.ndarray:
    """Place an ``(h, w)`` digit (h, w <= 20) in 28x28 with its centre of mass at (14, 14), as
    MNIST did (whole-pixel shifts, kept inside the field)."""
    height, width = digit.shape
    cy, cx = ndimage.center_of_mass(digit)
    centre = IMAGE_SIZE / 2  # MNIST's digits have their mean centre of mass at (14.0, 14.0)
    top = int(np.clip(round(centre - cy), 0, IMAGE_SIZE - height))
    left = int(np.clip(round(centre - cx), 0, IMAGE_SIZE - width))
    out = np.zeros((IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    out[top : top + height, left : left + width] = digit
    return out
