"""Inside the network: what each layer makes of one drawing.

For a CNN, the feature maps at the end of every convolution block (after its pooling, batch norm
and ReLU): one small image per filter, strongest filters first. For an ANN, the activations of
every hidden layer, and the weights of its first layer seen as 28x28 templates, one per unit:
the pattern of ink that turns the unit on. Layers are found by their type and order, so any model
that :mod:`digit_core.models` builds (the fast CNN, the legacy one, an ANN of any depth) works.

Probing runs one compiled call per drawing (the model's layers up to the ones shown); the probe is
built once per model and kept while the model lives.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from .inference import as_model_input
from .spec import IMAGE_SIZE

_CONV_NAME = re.compile(r"conv(\d+)_\d+$")  # conv{block}_{index}, as models.build_cnn names them
_SKIPPED = (keras.layers.Dropout,)  # the same output as their input at prediction time


@dataclass(frozen=True)
class FeatureMaps:
    """One convolution block's output for one image.

    ``maps`` is ``(C, h, w) float32``, one map per filter (>= 0 after the ReLU); ``strength``
    ``(C,)`` is each map's mean; ``order`` ``(C,)`` the filters, strongest first.
    """

    block: int  # 1-based
    layer: str  # the Keras layer whose output this is
    maps: np.ndarray
    strength: np.ndarray
    order: np.ndarray

    @property
    def active(self) -> int:
        """How many filters respond at all (a map with any value above 0)."""
        return int((self.maps.reshape(len(self.maps), -1).max(axis=1) > 0).sum())


@dataclass(frozen=True)
class Activations:
    """One hidden dense layer's output for one image: ``values`` ``(units,) float32``."""

    layer: int  # 1-based
    name: str
    values: np.ndarray

    @property
    def order(self) -> np.ndarray:
        """Units, most active first: ``(units,) int``."""
        return np.argsort(-self.values, kind="stable")


def _chain(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers in order, without the input layer."""
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def _rank(layer: keras.layers.Layer) -> int:
    return len(layer.output.shape)


def conv_block_outputs(model: keras.Model) -> list[str]:
    """Names of the layers whose outputs end each convolution block, in order (empty for a model
    without convolutions).

    A block is the convolutions named ``conv{b}_*`` (or, for other names, each convolution on its
    own) and the layers after them up to the next block or the flatten; its output is the last
    image-shaped (4-D) output in it, pooling, batch norm and ReLU included.
    """
    ends: list[str] = []
    block: str | None = None
    for layer in _chain(model):
        if isinstance(layer, keras.layers.Conv2D):
            found = _CONV_NAME.match(layer.name)
            key = found.group(1) if found else layer.name
            if key != block:
                block = key
                ends.append(layer.name)
            else:
                ends[-1] = layer.name
        elif block is not None and _rank(layer) == 4 and not isinstance(layer, _SKIPPED):
            ends[-1] = layer.name
        elif block is not None and _rank(layer) < 4:
            break
    return ends


def hidden_dense_outputs(model: keras.Model) -> list[str]:
    """Names of the layers that give each hidden dense layer's output (after its batch norm and
    activation, before dropout); the output layer is not one of them."""
    chain = _chain(model)
    denses = [i for i, layer in enumerate(chain) if isinstance(layer, keras.layers.Dense)]
    names = []
    for start, stop in zip(denses, denses[1:]):  # the last Dense is the output layer
        kept = [layer for layer in chain[start:stop] if not isinstance(layer, _SKIPPED)]
        names.append(kept[-1].name)
    return names


def first_dense(model: keras.Model) -> keras.layers.Dense | None:
    """The dense layer that sees the flattened image directly (an ANN's first layer), or None."""
    for layer in _chain(model):
        if isinstance(layer, keras.layers.Conv2D):
            return None
        if isinstance(layer, keras.layers.Dense):
            return layer
    return None


def templates(model: keras.Model) -> np.ndarray:
    """The first dense layer's weights as images: ``(units, 28, 28) float32``, one template per
    unit, positive where ink raises the unit's input and negative where it lowers it.

    When batch norm follows the layer, its per-unit scale (``gamma / sqrt(variance + epsilon)``)
    is folded in, so a template shows what the unit really responds to, sign included.
    ValueError for a model whose first layer is not dense on the image.
    """
    dense = first_dense(model)
    if dense is None:
        raise ValueError(f"model {model.name!r} has no dense layer on the image (is it a CNN?)")
    kernel = np.asarray(dense.kernel.numpy(), dtype=np.float32)  # (784, units)
    if kernel.shape[0] != IMAGE_SIZE * IMAGE_SIZE:
        raise ValueError(f"the first dense layer sees {kernel.shape[0]} values, not a 28x28 image")
    chain = _chain(model)
    after = chain[chain.index(dense) + 1] if chain.index(dense) + 1 < len(chain) else None
    if isinstance(after, keras.layers.BatchNormalization):
        scale = np.ones(kernel.shape[1], np.float32)
        if after.scale:
            scale = np.asarray(after.gamma.numpy(), np.float32)
        kernel = kernel * (scale / np.sqrt(np.asarray(after.moving_variance.numpy()) + after.epsilon))
    return kernel.T.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)


_probes: weakref.WeakKeyDictionary[keras.Model, dict[tuple[str, ...], Callable]] = weakref.WeakKeyDictionary()


def _probe(model: keras.Model, names: tuple[str, ...]) -> Callable[[tf.Tensor], list[tf.Tensor]]:
    """A compiled function from a ``(1, 28, 28, 1)`` image to the outputs of layers ``names``,
    built once per model and layer list (tracing costs far more than a call)."""
    by_names = _probes.setdefault(model, {})
    fn = by_names.get(names)
    if fn is None:
        probe = keras.Model(model.inputs[0], [model.get_layer(name).output for name in names])
        spec = tf.TensorSpec([1, IMAGE_SIZE, IMAGE_SIZE, 1], tf.float32)

        def run(x: tf.Tensor) -> list[tf.Tensor]:
            out = probe(x, training=False)
            return list(out) if isinstance(out, (list, tuple)) else [out]

        fn = tf.function(run, input_signature=[spec], autograph=False)
        by_names[names] = fn
    return fn


def _outputs(model: keras.Model, image: np.ndarray, names: list[str]) -> list[np.ndarray]:
    x = as_model_input(image)
    if len(x) != 1:
        raise ValueError(f"expected one (28, 28) image, got {len(x)}")
    return [np.asarray(out)[0] for out in _probe(model, tuple(names))(tf.constant(x))]


def feature_maps(model: keras.Model, image: np.ndarray) -> list[FeatureMaps]:
    """Each convolution block's feature maps for one ``(28, 28)`` image in [0, 1] (see
    :func:`conv_block_outputs`); empty for a model without convolutions."""
    names = conv_block_outputs(model)
    if not names:
        return []
    found = []
    for block, (name, out) in enumerate(zip(names, _outputs(model, image, names)), start=1):
        maps = np.moveaxis(out.astype(np.float32), -1, 0)  # (h, w, C) -> (C, h, w)
        strength = maps.mean(axis=(1, 2))
        found.append(FeatureMaps(block, name, maps, strength, np.argsort(-strength, kind="stable")))
    return found


def activations(model: keras.Model, image: np.ndarray) -> list[Activations]:
    """Each hidden dense layer's activations for one ``(28, 28)`` image in [0, 1] (see
    :func:`hidden_dense_outputs`); for a CNN, its dense head."""
    names = hidden_dense_outputs(model)
    if not names:
        return []
    outputs = _outputs(model, image, names)
    return [
        Activations(layer, name, out.astype(np.float32).ravel())
        for layer, (name, out) in enumerate(zip(names, outputs), start=1)
    ]
