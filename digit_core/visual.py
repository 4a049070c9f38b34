"""Pictures for people: enlarged model inputs, saliency overlays, colour scales with their
legends, and grids of small images (numpy only)."""

from __future__ import annotations

import numpy as np


def enlarge(image: np.ndarray, scale: int = 8) -> np.ndarray:
    """An ``(h, w)`` float image in [0, 1] (or ``(h, w, 3)`` uint8), a 28x28 model input for
    instance, shown as crisp ``scale``-times larger pixels: ``uint8`` ``(h * scale, w * scale[, 3])``."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def overlay(image: np.ndarray, heat: np.ndarray, strength: float = 0.7) -> np.ndarray:
    """The ``(28, 28)`` input in grey with ``heat`` in [0, 1] laid over it in red to yellow:
    ``(28, 28, 3) uint8`` (any equal 2-D shapes work the same way)."""
    image, heat = np.asarray(image, np.float32), np.clip(np.asarray(heat, np.float32), 0, 1)
    if image.shape != heat.shape:
        raise ValueError(f"image {image.shape} and heat map {heat.shape} differ in shape")
    grey = np.repeat(image[..., None] * 0.6, 3, axis=2)
    colour = np.stack([np.ones_like(heat), heat, np.zeros_like(heat)], axis=2)  # red -> yellow
    alpha = (strength * heat)[..., None]
    return (np.clip(grey * (1 - alpha) + colour * alpha, 0, 1) * 255).astype(np.uint8)


# Colour scales as stops from 0 to 1 (RGB in 0..255), shared by the pictures and their legends.
SCALES: dict[str, tuple[tuple[int, int, int], ...]] = {
    # how strongly something responds: black (not at all) through purple and orange to yellow
    "response": ((0, 0, 4), (87, 16, 110), (188, 55, 84), (249, 142, 9), (252, 255, 164)),
    # a weight's sign and size: blue (negative) through white (zero) to red (positive)
    "weight": ((33, 102, 172), (146, 197, 222), (247, 247, 247), (244, 165, 130), (178, 24, 43)),
}


def colourise(values: np.ndarray, scale: str = "response", low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """Map ``values`` (any shape ``S``) onto the colour scale ``scale`` of :data:`SCALES`, ``low``
    and below to its first colour, ``high`` and above to its last: ``S + (3,) uint8``."""
    if scale not in SCALES:
        raise ValueError(f"unknown colour scale {scale!r}; expected one of {sorted(SCALES)}")
    if not high > low:
        raise ValueError(f"high must be above low, got {low} .. {high}")
    stops = np.asarray(SCALES[scale], dtype=np.float32)
    position = np.clip((np.asarray(values, np.float32) - low) / (high - low), 0.0, 1.0)
    anchors = np.linspace(0.0, 1.0, len(stops))
    channels = [np.interp(position, anchors, stops[:, c]) for c in range(3)]
    return np.round(np.stack(channels, axis=-1)).astype(np.uint8)


def colour_bar(scale: str, width: int = 240, height: int = 12) -> np.ndarray:
    """A legend for ``scale``: ``(height, width, 3) uint8``, its first colour on the left."""
    return np.repeat(colourise(np.linspace(0.0, 1.0, width), scale)[np.newaxis], height, axis=0)


def saliency_bar(width: int = 240, height: int = 12) -> np.ndarray:
    """The legend of :func:`overlay` on full ink: ``(height, width, 3) uint8``, from grey ink
    that did not matter (left) through red to yellow, what mattered most (right)."""
    heat = np.repeat(np.linspace(0.0, 1.0, width, dtype=np.float32)[np.newaxis], height, axis=0)
    return overlay(np.ones_like(heat), heat)


def tile(images: list[np.ndarray], columns: int, gap: int = 2, background: int = 128) -> np.ndarray:
    """Same-sized ``(h, w, 3) uint8`` images in a grid of ``columns``, row by row, ``gap`` px of
    grey ``background`` between them: ``(rows * (h + gap) - gap, columns * (w + gap) - gap, 3)``."""
    if not images:
        raise ValueError("no images to tile")
    if columns < 1:
        raise ValueError(f"columns must be >= 1, got {columns}")
    height, width = images[0].shape[:2]
    if any(image.shape != images[0].shape for image in images):
        raise ValueError("images to tile must all have the same shape")
    columns = min(columns, len(images))
    rows = -(-len(images) // columns)
    out = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap, 3), background, np.uint8)
    for k, image in enumerate(images):
        top, left = divmod(k, columns)
        top, left = top * (height + gap), left * (width + gap)
        out[top : top + height, left : left + width] = image
    return out


def feature_grid(
    maps: np.ndarray, order: np.ndarray, count: int = 16, columns: int = 8, size: int = 48
) -> np.ndarray:
    """The ``count`` first maps of ``maps`` ``(C, h, w)`` in ``order`` (strongest first), each
    coloured on the "response" scale against the largest value among them and enlarged to about
    ``size`` px, in a grid of ``columns``: ``uint8 (H, W, 3)``."""
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3 or not len(maps):
        raise ValueError(f"expected (C, h, w) feature maps, got {maps.shape}")
    chosen = maps[np.asarray(order)[:count]]
    high = float(chosen.max())
    scale = max(1, size // chosen.shape[1])
    tiles = [enlarge(colourise(m, "response", 0.0, high if high > 0 else 1.0), scale) for m in chosen]
    return tile(tiles, columns)


def template_grid(weights: np.ndarray, units: np.ndarray, columns: int = 8, scale: int = 2) -> np.ndarray:
    """Weight templates ``(units, 28, 28)`` of the chosen ``units``, each on the "weight" scale
    (blue negative, white zero, red positive, symmetric about zero per template), in a grid:
    ``uint8 (H, W, 3)``."""
    chosen = np.asarray(weights, dtype=np.float32)[np.asarray(units)]
    tiles = []
    for w in chosen:
        peak = float(np.abs(w).max()) or 1.0
        tiles.append(enlarge(colourise(w, "weight", -peak, peak), scale))
    return tile(tiles, columns)
