"""Finding the ink: which pixels the pen left, on any paper, in any light, of either polarity.

:func:`find_ink` turns an RGBA image into an ink map, ``(H, W) float32`` in [0, 1] with 1 where
the pen left the most ink and 0 for paper:

1. Luminance. On a transparent background the ink is read from the alpha channel, whatever its
   colour.
2. A lighting gradient is evened out only when the border is smooth paper lit unevenly (a phone
   photo): a plane fitted to the border is removed. A tight crop, whose border is partly ink, is
   left as it is.
3. Polarity. The border decides when it is mostly one colour. When ink covers much of it (a tight
   crop of a thick digit), the colour that forms fewer connected pieces is the ink: a digit is one
   or two strokes, the paper around a tight crop is corners and holes; failing that, dark ink,
   the most common.
4. Paper level. Where the paper itself is uneven (shadows), its level is estimated from paper
   pixels only, so that no stroke, however thick, is taken for background; then the contrast is
   stretched so that stroke cores reach 1 and paper grain falls to 0.

Decisions are taken on a copy at most :data:`STATS_SIDE` px on its longer side and applied to the
whole image. Uses numpy, Pillow, scipy.ndimage and scikit-image; no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.filters import threshold_otsu

STATS_SIDE = 256  # polarity and lighting are judged on a copy at most this many px on a side
MIN_CONTRAST = 0.08  # weaker ink than this, on a 0..1 scale, counts as blank
# Share of the border ring that is dark: at most the first, the ink is dark; at least the second,
# the ink is light; in between the border cannot tell (a tight crop) and the pieces decide.
BORDER_DARK_INK, BORDER_LIGHT_INK = 0.35, 0.75
PIECE_MIN = 0.01  # a connected piece counts when it covers this share of the image
# A border whose kept 60 % lies within this much (of the image's contrast) of a plane is smooth
# paper; it is evened out when the plane's tilt, end to end, is at least MIN_GRADIENT.
SMOOTH_BORDER, MIN_GRADIENT = 0.05, 0.04
# Paper whose level (estimated from paper pixels) still varies by more than this, of the contrast,
# once any lighting gradient is removed, is shadowed: its level is subtracted locally instead of
# as one number. Blurred strokes' halos raise the estimate by up to about 0.15 near them.
UNEVEN_PAPER = 0.2
EIGHT = np.ones((3, 3), dtype=bool)  # 8-connectivity for scipy.ndimage.label


@dataclass(frozen=True)
class Ink:
    """An ink map and how it was found.

    ``ink`` is ``(H, W) float32`` in [0, 1], 1 for stroke cores and 0 for paper, or None when the
    image holds no ink. ``inverted``: the ink was darker than the paper. ``flattened``: uneven
    lighting was evened out.
    """

    ink: np.ndarray | None
    inverted: bool
    flattened: bool


def luminance(rgba: np.ndarray) -> np.ndarray:
    """``(H, W, 4) uint8`` -> ``(H, W) float32`` luminance in [0, 1].

    A transparent background is composited onto whichever of black or white the ink is not, so
    that ink of any colour stands out.
    """
    # Pillow's "L" is the ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B), computed in C.
    lum = np.asarray(Image.fromarray(rgba).convert("RGB").convert("L"), dtype=np.float32) / 255.0
    alpha_u8 = rgba[..., 3]
    if alpha_u8.min() < 250 and alpha_u8.max() > 0:
        alpha = alpha_u8.astype(np.float32) / 255.0
        ink_lum = float((lum * alpha).sum() / alpha.sum())
        paper = 1.0 if ink_lum < 0.5 else 0.0
        lum = lum * alpha + paper * (1.0 - alpha)
    return lum


def border_ring(shape: tuple[int, int]) -> np.ndarray:
    """Boolean mask of the image's outer ring, about 2 % of the shorter side wide (at least 1 px)."""
    ring = np.ones(shape, dtype=bool)
    width = max(1, min(shape) // 50)
    ring[width:-width, width:-width] = False
    return ring


def _reduced(values: np.ndarray, side: int = STATS_SIDE) -> np.ndarray:
    """``values`` area-averaged down to at most ``side`` px on its longer side."""
    height, width = values.shape
    scale = side / max(height, width)
    if scale >= 1:
        return values
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = Image.fromarray(np.ascontiguousarray(values, dtype=np.float32)).resize(size, Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32)


def otsu(values: np.ndarray) -> float:
    """Otsu's threshold of ``values`` in [0, 1], from a 256-bin histogram (counted with bincount,
    which is several times faster than the float histogram scikit-image would compute)."""
    counts = np.bincount(np.clip((values * 255).astype(np.int32), 0, 255).ravel(), minlength=256)
    if np.count_nonzero(counts) < 2:
        return float(values.max())  # one level: nothing to split
    return float(threshold_otsu(hist=(counts, (np.arange(256) + 0.5) / 255)))


def _tilt(shape: tuple[int, int], a: float, b: float) -> np.ndarray:
    """``a x + b y`` over an image of ``shape``, x and y running from -0.5 to 0.5 across it, so
    that a plane fitted at one resolution applies at any other."""
    x = ((np.arange(shape[1], dtype=np.float32) + 0.5) / shape[1] - 0.5) * a
    y = ((np.arange(shape[0], dtype=np.float32) + 0.5) / shape[0] - 0.5) * b
    return y[:, np.newaxis] + x[np.newaxis, :]


def lighting_plane(lum: np.ndarray) -> np.ndarray | None:
    """Coefficients ``(c, a, b)`` of ``c + a x + b y`` when the border is smooth paper with a
    lighting gradient (remove ``a x + b y`` to even it out), else None. ``x`` and ``y`` run from
    -0.5 to 0.5 across the image.

    The plane is fitted to the border by least squares, three times, each time keeping the 60 %
    of pixels closest to it, so that ink touching the border does not pull it. It is lighting
    only if what it fits is paper all round: most of each side lies on it, and so does at least
    half of the whole image (a narrow tight crop, paper on one edge and ink on the other, fits a
    plane that runs from paper to ink, on which little of the image lies).
    """
    low, high = np.percentile(lum, [1, 99])
    contrast = float(high - low)
    if contrast < MIN_CONTRAST:
        return None
    ring = border_ring(lum.shape)
    rows, cols = np.nonzero(ring)
    x, y = (cols + 0.5) / lum.shape[1] - 0.5, (rows + 0.5) / lum.shape[0] - 0.5
    basis, values = np.stack([np.ones_like(x), x, y], axis=1), lum[rows, cols]
    keep = np.ones(values.size, dtype=bool)
    for _ in range(3):
        coef, *_ = np.linalg.lstsq(basis[keep], values[keep], rcond=None)
        residual = np.abs(values - basis @ coef)
        keep = residual <= np.quantile(residual, 0.6)
    tilt = abs(coef[1]) + abs(coef[2])
    if tilt < MIN_GRADIENT or residual[keep].max() > SMOOTH_BORDER * contrast:
        return None
    on_plane = residual <= SMOOTH_BORDER * contrast
    sides = (x < -0.45, x > 0.45, y < -0.45, y > 0.45)
    if any(on_plane[side].mean() < 0.5 for side in sides):
        return None
    plane = coef[0] + _tilt(lum.shape, coef[1], coef[2])
    return coef if (np.abs(lum - plane) <= SMOOTH_BORDER * contrast).mean() >= 0.5 else None


def count_pieces(mask: np.ndarray, min_area: float) -> int:
    """Number of 8-connected pieces of ``mask`` with at least ``min_area`` pixels."""
    labels, count = ndimage.label(mask, structure=EIGHT)
    if count == 0:
        return 0
    return int((np.bincount(labels.ravel())[1:] >= min_area).sum())


def dark_ink(lum: np.ndarray) -> bool:
    """Whether the ink in ``lum`` (``(H, W)`` in [0, 1], evenly lit) is darker than the paper."""
    if float(lum.max() - lum.min()) < MIN_CONTRAST:
        return True  # no ink to judge; blank either way
    dark = lum <= otsu(lum)
    border_dark = float(dark[border_ring(lum.shape)].mean())
    if border_dark <= BORDER_DARK_INK:
        return True
    if border_dark >= BORDER_LIGHT_INK:
        return False
    # Ink covers much of the border: a tight crop. The ink is one or two strokes; the paper is
    # cut into corners and holes.
    min_area = PIECE_MIN * lum.size
    dark_pieces, light_pieces = count_pieces(dark, min_area), count_pieces(~dark, min_area)
    if dark_pieces != light_pieces:
        return dark_pieces < light_pieces
    # No way to tell (a straight 1 cropped tight is a bar of ink: either colour could be it).
    return True  # most writing is dark ink on light paper


def paper_level(ink: np.ndarray) -> tuple[np.ndarray | float, np.ndarray]:
    """The paper's own ink level in ``ink`` (``(h, w)`` float32, ink bright), and where the paper
    is (``(h, w)`` bool, away from strokes and their blurred edges).

    The level is one number when the paper is even, else a smooth map (at most 64 px on a side;
    enlarge it to use it) estimated from paper pixels alone.
    """
    strokes = ink > otsu(ink)
    # Anti-aliased and blurred stroke edges are neither paper nor ink: keep them out.
    paper = ~ndimage.maximum_filter(strokes, size=max(5, max(ink.shape) // 25))
    if paper.sum() < 0.02 * ink.size:
        paper = ~strokes
    level = float(np.median(ink[paper])) if paper.any() else float(ink.min())
    # A smoothing of paper pixels only (normalised convolution), on a copy at most 64 px wide.
    weight = _reduced(paper.astype(np.float32), 64)
    total = _reduced(np.where(paper, ink, 0.0).astype(np.float32), 64)
    sigma = max(weight.shape) / 8
    weight = ndimage.gaussian_filter(weight, sigma, mode="nearest")
    total = ndimage.gaussian_filter(total, sigma, mode="nearest")
    smooth = np.where(weight > 1e-3, total / np.maximum(weight, 1e-3), level)
    contrast = float(np.percentile(ink, 99.5)) - level
    if contrast <= 0 or np.percentile(smooth, 98) - np.percentile(smooth, 2) <= UNEVEN_PAPER * contrast:
        return level, paper
    return smooth.astype(np.float32), paper


def normalise_contrast(ink: np.ndarray, grain: float | None = None) -> np.ndarray | None:
    """Stretch ``ink`` (paper near 0) so that stroke cores reach 1 and paper grain falls to 0;
    None when there is no ink.

    ``grain``: how high the paper's own specks reach (when known), so that faint ink above it,
    the grey edge of a low-resolution scan, is kept; without it everything under half of Otsu's
    threshold between paper and ink is taken for paper.
    """
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        return None
    threshold = otsu(ink / peak) * peak
    strokes = ink[ink > threshold]
    high = float(np.percentile(strokes, 90)) if strokes.size else peak
    low = threshold * 0.5 if grain is None else min(threshold * 0.5, grain + MIN_CONTRAST / 4)
    if high - low < MIN_CONTRAST / 2:
        return None
    return np.clip((ink - low) / (high - low), 0.0, 1.0).astype(np.float32)


def find_ink(rgba: np.ndarray) -> Ink:
    """``(H, W, 4) uint8`` RGBA -> :class:`Ink` (see the module's docstring for the steps)."""
    lum = luminance(rgba)
    small = _reduced(lum)
    plane = lighting_plane(small)
    flattened = plane is not None
    if plane is not None:
        lum, small = lum - _tilt(lum.shape, *plane[1:]), small - _tilt(small.shape, *plane[1:])
    inverted = dark_ink(small)
    ink, small = (1.0 - lum, 1.0 - small) if inverted else (lum, small)
    level, paper = paper_level(small)
    size = (ink.shape[1], ink.shape[0])
    if isinstance(level, np.ndarray):
        flattened = True
        level = np.asarray(Image.fromarray(level).resize(size, Image.Resampling.BILINEAR), dtype=np.float32)
    ink = np.clip(ink - level, 0.0, 1.0).astype(np.float32)
    paper = np.asarray(Image.fromarray(paper).resize(size, Image.Resampling.NEAREST))
    grain = float(np.percentile(ink[paper], 99)) if paper.any() else None
    return Ink(normalise_contrast(ink, grain), inverted, flattened)
