"""A textbook MNIST preprocessing, as a baseline that shares no code with digit_core.preprocess.

Decode to grey (transparency composited onto white), invert when the border is light, subtract
the background (the border's median), crop to the ink (above 0.2 of its maximum), fit the longer
side to 20 px with anti-aliasing, and put the centre of mass at the centre of the 28x28 field.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from scipy import ndimage


def textbook(source: bytes | np.ndarray) -> np.ndarray | None:
    """File bytes or an image array -> ``(28, 28) float32`` in [0, 1], white digit on black;
    None when there is no ink at all."""
    image = Image.open(io.BytesIO(source)) if isinstance(source, bytes) else Image.fromarray(source)
    image = image.convert("RGBA")
    paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
    grey = np.asarray(Image.alpha_composite(paper, image).convert("L"), np.float32) / 255.0
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) > 0.5:  # light paper: make the ink the bright part, as in MNIST
        grey, border = 1.0 - grey, 1.0 - border
    ink = np.clip(grey - np.median(border), 0.0, None)
    if ink.max() <= 0:
        return None
    strong = ink > 0.2 * ink.max()
    rows, cols = np.flatnonzero(strong.any(axis=1)), np.flatnonzero(strong.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] / ink.max()
    scale = 20 / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    digit = np.clip(np.asarray(Image.fromarray(crop, "F").resize(size, Image.Resampling.LANCZOS)), 0, 1)
    if digit.sum() <= 0:
        return None
    cy, cx = ndimage.center_of_mass(digit)  # MNIST's mean centre of mass is at pixel (14.0, 14.0)
    top = int(np.clip(round(14 - cy), 0, 28 - digit.shape[0]))
    left = int(np.clip(round(14 - cx), 0, 28 - digit.shape[1]))
    out = np.zeros((28, 28), np.float32)
    out[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    return out
