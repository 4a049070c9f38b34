"""MNIST digits re-rendered the way scanned and photographed digits arrive, as upload files.

Every renderer takes one MNIST digit, ``(28, 28) uint8`` white on black (0..255), and a numpy
``Generator`` (used only where a variant draws a random value), and returns the bytes of a file a
user could upload: about 160 px, dark ink on white paper unless the variant says otherwise. Each
variant changes one thing from :func:`plain`, so that a drop in accuracy points at that thing.
Pure numpy, Pillow and scipy.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image
from scipy import ndimage

SIZE = 160  # px: the longer side of every rendered file
CORE = 128  # MNIST value from which a pixel counts as the stroke's core (not its anti-aliased edge)
THICK = (1 / 8, 1 / 4)  # thick marker: stroke width as a fraction of the digit's height
PAPER, INK = 255, 0  # greys of dark ink on white paper
DARK_PAPER, LIGHT_INK = 35, 220  # greys for the inverted variant (chalk on a blackboard)
JPEG_QUALITY = 60


def _ink(digit: np.ndarray) -> np.ndarray:
    """``(28, 28) uint8`` MNIST digit -> ``(28, 28) float32`` ink in [0, 1]."""
    digit = np.asarray(digit)
    if digit.shape != (28, 28) or digit.dtype != np.uint8:
        raise ValueError(f"expected an MNIST digit, (28, 28) uint8, got {digit.shape} {digit.dtype}")
    return digit.astype(np.float32) / 255.0


def _resize(ink: np.ndarray, size: tuple[int, int], resample=Image.Resampling.BILINEAR) -> np.ndarray:
    """Ink ``(H, W) float32`` resized to ``size`` = (width, height), still float in [0, 1]."""
    return np.clip(np.asarray(Image.fromarray(ink, mode="F").resize(size, resample)), 0.0, 1.0)


def _file(
    ink: np.ndarray, paper: int = PAPER, colour: int = INK, fmt: str = "PNG", binary: bool = False
) -> bytes:
    """Ink ``(H, W)`` in [0, 1] on paper of grey ``paper`` in grey ``colour``, saved as ``fmt``."""
    grey = np.round(paper + (colour - paper) * ink).astype(np.uint8)
    image = Image.fromarray(grey, mode="L")
    if binary:
        image = image.convert("1", dither=Image.Dither.NONE)  # a bilevel PNG, as scanners save
    elif fmt == "JPEG":
        image = image.convert("RGB")  # scanners and phones save colour JPEGs
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"quality": JPEG_QUALITY} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def _upscaled(digit: np.ndarray) -> np.ndarray:
    """The whole 28x28 field (digit and MNIST's margin) enlarged to ``SIZE`` px, bilinear."""
    return _resize(_ink(digit), (SIZE, SIZE))


def _core_box(ink: np.ndarray) -> tuple[slice, slice]:
    rows = np.flatnonzero((ink >= CORE / 255).any(axis=1))
    cols = np.flatnonzero((ink >= CORE / 255).any(axis=0))
    if rows.size == 0:
        raise ValueError("the digit has no stroke core to crop to")
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def plain(digit: np.ndarray, rng: np.random.Generator | None = None) -> bytes:
    """The control: the 28x28 field enlarged to 160x160 (bilinear), dark on white, PNG."""
    return _file(_upscaled(digit))


def tight_crop(digit: np.ndarray, rng: np.random.Generator | None = None) -> bytes:
    """Cropped to the stroke cores (MNIST value >= 128), so the ink touches all four edges; the
    longer side enlarged to 160 px (bilinear), the other in proportion; dark on white, PNG."""
    ink = _ink(digit)
    crop = ink[_core_box(ink)]
    scale = SIZE / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    return _file(_resize(crop, size))


def thick_marker(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """As :func:`plain`, written with a marker: the strokes grown (a dilation by a disc, with an
    anti-aliased edge) to a width drawn uniformly from 1/8 to 1/4 of the digit's height."""
    ink = _upscaled(digit)
    mask = ink >= 0.5
    rows = np.flatnonzero(mask.any(axis=1))
    height = rows[-1] - rows[0] + 1
    padded = np.pad(mask, 1)
    perimeter = np.count_nonzero(padded[1:] != padded[:-1]) + np.count_nonzero(
        padded[:, 1:] != padded[:, :-1]
    )
    width = 2 * mask.sum() / perimeter  # a stroke's width from its area and outline
    grow = max(0.0, (rng.uniform(*THICK) * height - width) / 2)  # px added on each side
    distance = ndimage.distance_transform_edt(~mask)  # px from the nearest stroke pixel
    return _file(np.maximum(ink, np.clip(grow + 0.5 - distance, 0.0, 1.0)))


def low_res(digit: np.ndarray, pixels: int) -> bytes:
    """A low-resolution scan: the digit's square around its stroke cores (the ink box padded
    to a square, the longer side touching the edges) averaged down to ``pixels`` x ``pixels``,
    then enlarged to 160x160 bilinear (blocky and blurred), dark on white, PNG. At 8 px this is
    how the UCI digits (:mod:`digit_core.other_writers`) were made."""
    ink = _ink(digit)
    rows, cols = _core_box(ink)
    side = max(rows.stop - rows.start, cols.stop - cols.start)
    square = np.zeros((side, side), np.float32)
    top, left = (side - (rows.stop - rows.start)) // 2, (side - (cols.stop - cols.start)) // 2
    square[top : top + rows.stop - rows.start, left : left + cols.stop - cols.start] = ink[rows, cols]
    small = _resize(square, (pixels, pixels), Image.Resampling.BOX)  # area average: a coarse sensor
    return _file(_resize(small, (SIZE, SIZE)))


def px16(digit: np.ndarray, rng: np.random.Generator | None = None) -> bytes:
    """:func:`low_res` at 16 px."""
    return low_res(digit, 16)


def px8(digit: np.ndarray, rng: np.random.Generator | None = None) -> bytes:
    """:func:`low_res` at 8 px."""
    return low_res(digit, 8)


def binarised(digit: np.ndarray, rng: np.random.Generator | None = None) -> bytes:
    """As :func:`plain`, thresholded at half ink: pure black on pure white, a 1-bit PNG."""
    return _file((_upscaled(digit) >= 0.5).astype(np.float32), binary=True)


def inverted(digit: np.ndarray, rng: np.random.Generator | None = None) -> bytes:
    """As :func:`plain`, with light ink (grey 220) on dark paper (grey 35), PNG."""
    return _file(_upscaled(digit), paper=DARK_PAPER, colour=LIGHT_INK)


def jpeg(digit: np.ndarray, rng: np.random.Generator | None = None) -> bytes:
    """As :func:`plain`, saved as a colour JPEG at quality 60 (block artefacts around the strokes)."""
    return _file(_upscaled(digit), fmt="JPEG")


# name -> renderer, in the order reports show them
VARIANTS: dict[str, Callable[[np.ndarray, np.random.Generator], bytes]] = {
    "plain": plain,
    "tight crop": tight_crop,
    "thick marker": thick_marker,
    "16 px": px16,
    "8 px": px8,
    "binarised": binarised,
    "inverted": inverted,
    "JPEG q60": jpeg,
}
