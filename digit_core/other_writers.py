"""Digits by other writers, as files: the UCI "optical recognition of handwritten digits" set.

scikit-learn ships its test part (:func:`sklearn.datasets.load_digits`, no download): 1,797 digits
by 13 writers, none of them MNIST's, each the count of ink pixels in the ``4x4`` blocks of a 32x32
bitmap: ``8x8``, with 17 grey levels, 0 (paper) to 16 (ink). Here every digit becomes what a user
would upload: a PNG of dark ink on white paper, enlarged with bilinear resampling, so that it can
be sent through the upload path (:func:`read_through_upload_path`) and used as a test set, or
through :func:`digit_core.predictions.predict_uploads` with a model.

Imports numpy and Pillow only; scikit-learn is imported when the digits are first read.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from functools import cache

import numpy as np
from PIL import Image

from .predictions import prepare_upload
from .spec import IMAGE_SIZE

UCI_SIZE = 160  # px; the side of each rendered file (the 8x8 digit enlarged 20 times)
UCI_LEVELS = 16  # the UCI value that means full ink (values run 0..16)
_LABEL = re.compile(r"digit-(\d)\b")


@cache
def _uci() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # here, so that importing this module stays cheap

    digits = load_digits()
    return digits.images.astype(np.uint8), digits.target.astype(np.uint8)


def uci_images() -> np.ndarray:
    """The UCI digits as they are: ``(1797, 8, 8) uint8``, 0 = paper .. 16 = ink."""
    return _uci()[0].copy()


def uci_labels() -> np.ndarray:
    """The true digit of each UCI image: ``(1797,) uint8`` in 0..9, in the order of :func:`uci_files`."""
    return _uci()[1].copy()


def render(digit: np.ndarray, size: int = UCI_SIZE) -> bytes:
    """One UCI digit, ``(8, 8)`` with values 0..16, as PNG bytes: ``(size, size)`` greyscale,
    dark ink on white paper (value ``v`` -> grey ``255 - v * 255 / 16``), enlarged bilinearly."""
    digit = np.asarray(digit, dtype=np.float32)
    if digit.ndim != 2 or digit.min() < 0 or digit.max() > UCI_LEVELS:
        raise ValueError(
            f"expected a 2-D digit with values 0..{UCI_LEVELS}, got shape {digit.shape} "
            f"and range {digit.min()}..{digit.max()}"
        )
    if size < max(digit.shape):
        raise ValueError(f"size must be at least {max(digit.shape)} px, got {size}")
    grey = np.round(255.0 - digit * (255.0 / UCI_LEVELS)).astype(np.uint8)
    image = Image.fromarray(grey, mode="L").resize((size, size), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # fast; any PNG decodes the same
    return buffer.getvalue()


def uci_files(size: int = UCI_SIZE) -> list[tuple[str, bytes]]:
    """Every UCI digit as an upload: ``(name, PNG bytes)`` named ``uci-0001-digit-3.png`` (a
    1-based index and the true digit), in the order of :func:`uci_labels`. See :func:`render`."""
    images, labels = _uci()
    return [
        (f"uci-{i:04d}-digit-{label}.png", render(image, size))
        for i, (image, label) in enumerate(zip(images, labels), start=1)
    ]


def label_of(name: str) -> int:
    """The digit a file name declares (``...digit-3...``); :class:`ValueError` when it has none."""
    found = _LABEL.search(name)
    if found is None:
        raise ValueError(f"file name {name!r} does not say its digit (expected '...digit-N...')")
    return int(found.group(1))


def read_through_upload_path(
    files: list[tuple[str, bytes]],
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
    """Send each ``(name, data)`` through the upload path without a model, as a test set.

    Each file is decoded and prepared as :func:`digit_core.predictions.predict_uploads` does
    (:func:`digit_core.predictions.prepare_upload`) and refused for the same reasons: not a
    readable image, blank, or not looking like a digit. The
    label comes from the name (:func:`label_of`), so every name must say its digit.
    ``on_progress(done, total)``, when given, is called every 50 files and at the end.

    Returns
    -------
    images : ``(N, 28, 28) float32`` in [0, 1], the model inputs of the files that were accepted,
        white digit on black as MNIST, in the order given: exactly what the model is given for
        an upload (rounding them to 0..255 flips a near tie now and then).
    labels : ``(N,) uint8``, their digits.
    refused : ``[(name, reason), ...]`` for the others, with the message the upload page shows.
    """
    labels = [label_of(name) for name, _ in files]  # first: a bad name fails before any work
    images, kept, refused = [], [], []
    for done, ((name, data), label) in enumerate(zip(files, labels), start=1):
        prepared, error = prepare_upload(data)
        if error is not None or prepared is None:
            refused.append((name, error or "the file could not be read"))
        else:
            images.append(prepared.image.astype(np.float32))
            kept.append(label)
        if on_progress is not None and (done % 50 == 0 or done == len(files)):
            on_progress(done, len(files))
    out = np.stack(images) if images else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.float32)
    return out, np.array(kept, dtype=np.uint8), refused
