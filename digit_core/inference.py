"""Fast prediction: the model is called directly through a compiled function, never per image
through ``model.predict`` (which builds a whole data pipeline for every call)."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from .spec import IMAGE_SIZE, NUM_CLASSES, PIXEL_MAX

CHUNK = 1024  # images per call: bounds memory on large batches
_compiled: weakref.WeakKeyDictionary[keras.Model, Callable[[tf.Tensor], tf.Tensor]] = (
    weakref.WeakKeyDictionary()
)


def as_model_input(images: np.ndarray) -> np.ndarray:
    """``(28, 28)``, ``(N, 28, 28)`` or ``(N, 28, 28, 1)`` -> ``(N, 28, 28, 1) float32`` in [0, 1].

    uint8 input is taken as MNIST pixels (0..255) and scaled; float input must already be in [0, 1].
    """
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[np.newaxis]
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"expected images of shape (N, 28, 28), got {np.shape(images)}")
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / PIXEL_MAX
    elif np.issubdtype(images.dtype, np.floating):
        images = images.astype(np.float32, copy=False)
        if not np.isfinite(images).all():
            raise ValueError("images contain NaN or infinite values")
        if images.size and (images.min() < 0 or images.max() > 1):
            raise ValueError("float images must be scaled to [0, 1]")
    else:
        raise ValueError(f"images must be uint8 or float, got {images.dtype}")
    return images[..., np.newaxis]


def _forward(model: keras.Model) -> Callable[[tf.Tensor], tf.Tensor]:
    fn = _compiled.get(model)
    if fn is None:
        spec = tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 1], tf.float32)
        # A weak reference, so the cache entry does not keep its own key (the model) alive.
        model_ref = weakref.ref(model)

        def forward(x: tf.Tensor) -> tf.Tensor:
            alive = model_ref()
            assert alive is not None  # traced while the model is being called
            return alive(x, training=False)

        fn = tf.function(forward, input_signature=[spec], autograph=False)  # no Python control flow
        _compiled[model] = fn
    return fn


def predict(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """Class probabilities ``(N, 10) float32`` for ``images`` (see :func:`as_model_input`)."""
    x = as_model_input(images)
    forward = _forward(model)
    out = [np.asarray(forward(tf.constant(x[i : i + CHUNK]))) for i in range(0, len(x), CHUNK)]
    if not out:
        return np.zeros((0, NUM_CLASSES), np.float32)
    return np.concatenate(out).astype(np.float32, copy=False)


def predict_one(model: keras.Model, image: np.ndarray) -> np.ndarray:
    """Probabilities ``(10,) float32`` for one ``(28, 28)`` image."""
    return predict(model, image)[0]


def single_image_ms(model: keras.Model, image: np.ndarray, repeats: int = 30) -> float:
    """Median milliseconds of one :func:`predict` call on one ``(28, 28)`` image, after a warm-up."""
    predict(model, image)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict(model, image)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)
