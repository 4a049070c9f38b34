"""Why the model answered as it did: saliency maps over the 28x28 input.

``integrated_gradients`` works for any model (the ANN's natural choice); ``grad_cam`` uses the
last convolution of a CNN. Both return ``(28, 28) float32`` in [0, 1], 1 where the pixels pushed
the chosen digit's probability up the most.
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
import tensorflow as tf

from .inference import as_model_input, predict
from .spec import IMAGE_SIZE

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
    return int(np.argmax(predict(model, x.numpy())[0]))


_compiled: weakref.WeakKeyDictionary[keras.Model, dict] = weakref.WeakKeyDictionary()
_IMAGE = tf.TensorSpec([1, IMAGE_SIZE, IMAGE_SIZE, 1], tf.float32)
_DIGIT = tf.TensorSpec([], tf.int32)


def _functions(model: keras.Model) -> dict:
    """Compiled saliency functions for ``model``, built once: tracing costs far more than a call."""
    cached = _compiled.get(model)
    if cached is not None:
        return cached
    model_ref = weakref.ref(model)  # the cache must not keep its key alive
    conv = last_conv_layer(model)
    probe = keras.Model(model.inputs, [conv.output, model.outputs[0]]) if conv is not None else None

    @tf.function(input_signature=[_IMAGE, _DIGIT], autograph=False)
    def ig(x: tf.Tensor, digit: tf.Tensor) -> tf.Tensor:
        alphas = tf.reshape(tf.linspace(1.0 / IG_STEPS, 1.0, IG_STEPS), (IG_STEPS, 1, 1, 1))
        path = alphas * x  # from near-black to the image
        alive = model_ref()
        assert alive is not None  # traced while the model is being explained
        with tf.GradientTape() as tape:
            tape.watch(path)
            scores = tf.gather(alive(path, training=False), digit, axis=1)
        gradients = tape.gradient(scores, path)
        return (x[0] * tf.reduce_mean(gradients, axis=0))[..., 0]

    @tf.function(input_signature=[_IMAGE, _DIGIT], autograph=False)
    def cam(x: tf.Tensor, digit: tf.Tensor) -> tf.Tensor:
        assert probe is not None  # only traced for a model with a convolution
        with tf.GradientTape() as tape:
            maps, probabilities = probe(x, training=False)
            score = tf.gather(probabilities, digit, axis=1)
        gradients = tape.gradient(score, maps)
        weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
        heat = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1))[0]
        return tf.image.resize(heat[..., tf.newaxis], (IMAGE_SIZE, IMAGE_SIZE), method="bilinear")[..., 0]

    cached = {"ig": ig, "cam": cam if probe is not None else None}
    _compiled[model] = cached
    return cached


def integrated_gradients(model: keras.Model, image: np.ndarray, target: int | None = None) -> np.ndarray:
    """Attribution of each pixel of a ``(28, 28)`` image to the ``target`` digit (default: the
    predicted one), integrating gradients along the path from a black image in ``IG_STEPS``."""
    x = tf.constant(as_model_input(image))
    digit = _target(model, x, target)
    return _normalise(_functions(model)["ig"](x, tf.constant(digit)).numpy())


def last_conv_layer(model: keras.Model) -> keras.layers.Layer | None:
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    return convs[-1] if convs else None


def grad_cam(model: keras.Model, image: np.ndarray, target: int | None = None) -> np.ndarray:
    """Grad-CAM over the last convolution, upsampled to ``(28, 28)``; ValueError for a model
    without convolutions."""
    if last_conv_layer(model) is None:
        raise ValueError(f"model {model.name!r} has no convolution layer for Grad-CAM")
    x = tf.constant(as_model_input(image))
    digit = _target(model, x, target)
    return _normalise(_functions(model)["cam"](x, tf.constant(digit)).numpy())


def explain(model: keras.Model, image: np.ndarray, target: int | None = None) -> tuple[np.ndarray, str]:
    """The saliency map best suited to ``model`` and the method's name."""
    if last_conv_layer(model) is not None:
        return grad_cam(model, image, target), "Grad-CAM"
    return integrated_gradients(model, image, target), "integrated gradients"
