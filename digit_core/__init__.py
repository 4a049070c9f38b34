"""digit_core: the handwritten-digit library behind the dashboard (never imports streamlit).

The top-level API imports TensorFlow only when first called::

    model = digit_core.load_model("cnn")
    x = digit_core.to_mnist(pil_image_or_array)       # (28, 28) float32 in [0, 1]
    probs = digit_core.predict(model, x)              # (1, 10) probabilities
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for the annotations only: importing this package stays free of TensorFlow
    import keras
    import numpy as np

__version__ = "0.1.0"

# The library logs (saves, imports, a failed training's traceback) under "digit_core"; whoever runs
# it decides where that goes: the app sends it to the server's stderr (ui/logs.py), the CLI to
# stderr by --log-level.
logging.getLogger(__name__).addHandler(logging.NullHandler())


def load_model(name_or_path: str | os.PathLike) -> keras.Model:
    """Load a registry model (``"cnn"``, ``"ann"``, ...) or a ``.keras`` file, in safe mode."""
    from .registry import load_model as _load

    return _load(name_or_path)


def to_mnist(image: Any) -> np.ndarray:
    """An image (PIL image, file bytes, a path, or an ``(H, W[, C])`` array) -> the
    ``(28, 28) float32`` model input; raises ``BlankImageError`` for an image without ink."""
    from .preprocess import load_image
    from .preprocess import to_mnist as _to_mnist

    return _to_mnist(load_image(image))


def predict(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """``(N, 10) float32`` probabilities for ``(28, 28)`` / ``(N, 28, 28)`` images."""
    from .inference import predict as _predict

    return _predict(model, images)
