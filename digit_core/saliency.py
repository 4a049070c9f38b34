"""Why the model answered as it did: saliency maps over the 28x28 input.

``integrated_gradients`` works for any model (the ANN's natural choice); ``grad_cam`` uses the
last convolution of a CNN. Both return ``(28, 28) float32`` in [0, 1], 1 where the pixels pushed
the chosen digit's probability up the most.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .inference import as_model_input

IG_STEPS = 32  # Riemann steps from the black baseline; more changes the map very little


def _normalise(values: np.ndarray) -> np.ndarray:
    values = np.maximum(np.asarray(values, dtype=np.float32), 0.0)
    peak = float(values.max())
    return values / peak if peak > 0 else values


def _target(model: keras.Model, x: tf.Tensor, target: int | None) -> int:
    if target is not None:
        if not 0 <= int(target) <= 9:
            raise ValueError(f"target digit must be 0..9, got {target}")
        return int(target)
    return int(np.argmax(model(x, training=False)[0]))


def integrated_gradients(model: keras.Model, image: np.ndarray, target: int | None = None,
                         steps: int = IG_STEPS) -> np.ndarray:
    """Attribution of each pixel of a ``(28, 28)`` image to the ``target`` digit (default: the
    predicted one), integrating gradients along the path from a black image."""
    x = tf.constant(as_model_input(image))
    digit = _target(model, x, target)
    alphas = tf.reshape(tf.linspace(1.0 / steps, 1.0, steps), (steps, 1, 1, 1))
    path = alphas * x  # (steps, 28, 28, 1), from near-black to the image
    with tf.GradientTape() as tape:
        tape.watch(path)
        scores = model(path, training=False)[:, digit]
    gradients = tape.gradient(scores, path)
    attribution = (x[0] * tf.reduce_mean(gradients, axis=0))[..., 0]
    return _normalise(attribution.numpy())


def last_conv_layer(model: keras.Model) -> keras.layers.Layer | None:
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    return convs[-1] if convs else None


def grad_cam(model: keras.Model, image: np.ndarray, target: int | None = None) -> np.ndarray:
    """Grad-CAM over the last convolution, upsampled to ``(28, 28)``; ValueError for a model
    without convolutions."""
    conv = last_conv_layer(model)
    if conv is None:
        raise ValueError(f"model {model.name!r} has no convolution layer for Grad-CAM")
    x = tf.constant(as_model_input(image))
    digit = _target(model, x, target)
    probe = keras.Model(model.inputs, [conv.output, model.outputs[0]])
    with tf.GradientTape() as tape:
        maps, probabilities = probe(x, training=False)
        score = probabilities[:, digit]
    gradients = tape.gradient(score, maps)
    weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1))[0]
    size = x.shape[1:3]
    cam = tf.image.resize(cam[..., tf.newaxis], size, method="bilinear")[..., 0]
    return _normalise(cam.numpy())


def explain(model: keras.Model, image: np.ndarray, target: int | None = None) -> tuple[np.ndarray, str]:
    """The saliency map best suited to ``model`` and the method's name."""
    if last_conv_layer(model) is not None:
        return grad_cam(model, image, target), "Grad-CAM"
    return integrated_gradients(model, image, target), "integrated gradients"
