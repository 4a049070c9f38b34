"""Small data sets built for tests: learnable in a few batches, or written in an unusual hand."""

from __future__ import annotations

import numpy as np

from digit_core.preprocess import to_mnist

from . import strokes


def synthetic(n=256, seed=0):
    """Tiny learnable data: digit d is a bright square at a position that depends on d."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 30, (n, 28, 28)).astype(np.uint8)
    for image, label in zip(images, labels):
        row, col = divmod(int(label), 5)
        image[4 + row * 12 : 10 + row * 12, 2 + col * 5 : 6 + col * 5] = 255
    return images, labels


def sideways_writer(count: int, seed: int = 3):
    """A writer whose digits lie on their side: drawn digits turned 90 degrees, which MNIST
    models misread, as a very unusual hand would be."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 10
    images = np.stack(
        [np.rot90(to_mnist(strokes.draw_digit(d, strokes.random_style(rng), rng))) for d in labels]
    )
    return (images * 255).round().astype(np.uint8), labels.astype(np.uint8)
