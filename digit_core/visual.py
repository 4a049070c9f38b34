"""Pictures for people: enlarged model inputs and saliency overlays (numpy only)."""

from __future__ import annotations

import numpy as np


def enlarge(image: np.ndarray, scale: int = 8) -> np.ndarray:
    """A ``(28, 28)`` float image in [0, 1] (or ``(28, 28, 3)`` uint8) shown as crisp
    ``scale``-times larger pixels: ``uint8`` of shape ``(28 * scale, 28 * scale[, 3])``."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)


def overlay(image: np.ndarray, heat: np.ndarray, strength: float = 0.7) -> np.ndarray:
    """The ``(28, 28)`` input in grey with ``heat`` in [0, 1] laid over it in red to yellow:
    ``(28, 28, 3) uint8``."""
    image, heat = np.asarray(image, np.float32), np.clip(np.asarray(heat, np.float32), 0, 1)
    if image.shape != heat.shape:
        raise ValueError(f"image {image.shape} and heat map {heat.shape} differ in shape")
    grey = np.repeat(image[..., None] * 0.6, 3, axis=2)
    colour = np.stack([np.ones_like(heat), heat, np.zeros_like(heat)], axis=2)  # red -> yellow
    alpha = (strength * heat)[..., None]
    return (np.clip(grey * (1 - alpha) + colour * alpha, 0, 1) * 255).astype(np.uint8)
