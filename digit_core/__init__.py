"""digit_core: the handwritten-digit library behind the dashboard (never imports streamlit).

The top-level API imports TensorFlow only when first called::

    model = digit_core.load_model("cnn")
    x = digit_core.to_mnist(pil_image_or_array)       # (28, 28) float32 in [0, 1]
    probs = digit_core.predict(model, x)              # (1, 10) probabilities
"""

from __future__ import annotations

__version__ = "0.1.0"


def load_model(name_or_path):
    """Load a registry model (``"cnn"``, ``"ann"``, ...) or a ``.keras`` file, in safe mode."""
    from .registry import load_model as _load

    return _load(name_or_path)


def to_mnist(image):
    """An image (PIL image, file bytes, a path, or an ``(H, W[, C])`` array) -> the
    ``(28, 28) float32`` model input; raises ``BlankImageError`` for an image without ink."""
    from .preprocess import load_image
    from .preprocess import to_mnist as _to_mnist

    return _to_mnist(load_image(image))


def predict(model, images):
    """``(N, 10) float32`` probabilities for ``(28, 28)`` / ``(N, 28, 28)`` images."""
    from .inference import predict as _predict

    return _predict(model, images)
