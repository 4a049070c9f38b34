"""Any drawing or image -> the model input, made the way MNIST was made.

The steps, one module each: decode within limits (:mod:`~digit_core.imagefile`), find the ink
whatever the paper, light and polarity (:mod:`~digit_core.ink`), judge whether it can be a digit
(:mod:`~digit_core.digitness`), and normalise it like MNIST: crop, 20 px box, centre of mass
(:mod:`~digit_core.normalise`). This module ties them together; every path into a model (canvas,
upload, command line, the "other writers" test set) goes through :func:`prepare`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .digitness import NOT_A_DIGIT, not_a_digit
from .imagefile import (
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    MAX_UPLOAD_MB,
    MIN_IMAGE_SIDE,
    BlankImageError,
    ImageError,
    load_image,
    read_file,
    shrink,
)
from .ink import find_ink
from .normalise import STROKE_MAX, STROKE_MIN, centre_by_mass, fit_box, ink_box, stroke_width, without_dust
from .spec import IMAGE_SIZE

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "MAX_UPLOAD_MB",
    "MIN_IMAGE_SIDE",
    "NOT_A_DIGIT",
    "STROKE_MAX",
    "STROKE_MIN",
    "BlankImageError",
    "ImageError",
    "Prepared",
    "from_ink",
    "load_image",
    "not_a_digit",
    "prepare",
    "read_file",
    "stroke_width",
    "to_mnist",
]


@dataclass(frozen=True)
class Prepared:
    """The model input and how it was made.

    ``image`` is ``(28, 28) float32`` in [0, 1], white digit on black (all zeros when ``blank``).
    ``box`` is the digit's bounding box ``(top, left, bottom, right)`` in the working image.
    """

    image: np.ndarray
    blank: bool
    inverted: bool
    flattened: bool
    stroke_scale: float  # stroke width seen, in 20 px box pixels, before any thickening
    box: tuple[int, int, int, int] | None
    not_a_digit: str | None = None  # why the ink is not one digit (see digitness.not_a_digit)


def prepare(image: object) -> Prepared:
    """Turn a drawing or image (anything :func:`load_image` takes) into the model input.

    Never raises for a blank image: returns ``Prepared(blank=True)`` with an all-zero image.
    """
    found = find_ink(shrink(load_image(image)))
    return from_ink(found.ink, found.inverted, found.flattened)


def from_ink(ink: np.ndarray | None, inverted: bool = False, flattened: bool = False) -> Prepared:
    """The model input from an ink map, ``(H, W) float32`` in [0, 1] with stroke cores at 1 (what
    :func:`digit_core.ink.find_ink` gives; None for no ink): dust set aside, crop, 20 px box,
    centre of mass."""
    empty = np.zeros((IMAGE_SIZE, IMAGE_SIZE), np.float32)
    if ink is None or not (ink > 0).any():
        return Prepared(empty, True, inverted, flattened, 0.0, None)
    reason = not_a_digit(ink)
    cleaned = without_dust(ink)
    if not cleaned.any():
        cleaned = ink  # all of it is dust: show it as it is (not_a_digit says why)
    box = ink_box(cleaned)
    if box is None:
        return Prepared(empty, True, inverted, flattened, 0.0, None)
    digit, seen_width = fit_box(cleaned[box[0] : box[2], box[1] : box[3]])
    if digit.sum() <= 0:
        return Prepared(empty, True, inverted, flattened, seen_width, box)
    return Prepared(centre_by_mass(digit), False, inverted, flattened, seen_width, box, reason)


def to_mnist(image: object) -> np.ndarray:
    """``(28, 28) float32`` model input for ``image``; raises :class:`BlankImageError` if blank.

    It does not judge whether the ink is a digit: :attr:`Prepared.not_a_digit` says so."""
    prepared = prepare(image)
    if prepared.blank:
        raise BlankImageError("the image is blank: no ink was found")
    return prepared.image
