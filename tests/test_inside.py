"""Inside the network: each conv block's feature maps, an ANN's hidden activations and its first
layer's templates, checked against Keras sub-models and hand-computed weights."""

import keras
import numpy as np
import pytest

from digit_core import inside
from digit_core.config import LEGACY_CNN, ANNConfig, CNNConfig
from digit_core.models import build_ann, build_cnn
from digit_core.preprocess import prepare
from tests.support import strokes


@pytest.fixture(scope="module")
def image():
    return prepare(strokes.draw_digit(3, strokes.Style())).image


def sub_model_output(model, name, image):
    """The layer's output for ``image`` through a plain Keras sub-model: an independent path."""
    probe = keras.Model(model.inputs[0], model.get_layer(name).output)
    return np.asarray(probe(image[np.newaxis, ..., np.newaxis], training=False))[0]


@pytest.mark.parametrize(
    ("config", "blocks", "channels"),
    [(CNNConfig(), 2, [24, 32]), (CNNConfig(**LEGACY_CNN), 2, [32, 64])],
    ids=["fast", "legacy"],
)
def test_each_conv_block_gives_its_feature_maps_after_pooling_and_relu(image, config, blocks, channels):
    model = build_cnn(config)
    names = inside.conv_block_outputs(model)
    assert len(names) == blocks
    found = inside.feature_maps(model, image)
    assert [f.block for f in found] == list(range(1, blocks + 1))
    assert [len(f.maps) for f in found] == channels
    for block in found:
        expected = np.moveaxis(sub_model_output(model, block.layer, image), -1, 0)
        np.testing.assert_allclose(block.maps, expected, atol=1e-5)
        assert (block.maps >= 0).all()  # after the ReLU
        means = block.maps.mean(axis=(1, 2))
        assert (np.diff(means[block.order]) <= 1e-7).all()  # strongest first
    # each block's maps are smaller than the last (pooling)
    assert found[0].maps.shape[1] > found[1].maps.shape[1]


def test_an_ann_has_no_feature_maps_and_its_hidden_layers_give_their_activations(image):
    model = build_ann(ANNConfig(units=(64, 32)))
    assert inside.conv_block_outputs(model) == [] and inside.feature_maps(model, image) == []
    layers = inside.activations(model, image)
    assert [len(a.values) for a in layers] == [64, 32]  # the output layer is not one of them
    for layer in layers:
        np.testing.assert_allclose(layer.values, sub_model_output(model, layer.name, image), atol=1e-5)
        assert list(layer.order[:1]) == [int(np.argmax(layer.values))]


def test_templates_are_the_first_layers_weights_with_its_batch_norm_folded_in():
    model = build_ann(ANNConfig(units=(16,)))
    dense = inside.first_dense(model)
    norm = model.layers[model.layers.index(dense) + 1]
    assert isinstance(norm, keras.layers.BatchNormalization)
    rng = np.random.default_rng(0)
    gamma = rng.uniform(-2, 2, 16).astype(np.float32)
    variance = rng.uniform(0.5, 4, 16).astype(np.float32)
    norm.set_weights([gamma, np.zeros(16, np.float32), np.zeros(16, np.float32), variance])
    kernel = dense.get_weights()[0]  # (784, 16)
    found = inside.templates(model)
    assert found.shape == (16, 28, 28)
    expected = (kernel * gamma / np.sqrt(variance + norm.epsilon)).T.reshape(16, 28, 28)
    np.testing.assert_allclose(found, expected, rtol=1e-5)
    # a negative gamma flips the template: ink there lowers the unit
    flipped = int(np.argmin(gamma))
    assert np.sign(found[flipped].ravel()[0]) == -np.sign(kernel[0, flipped])


def test_a_cnn_has_no_templates():
    with pytest.raises(ValueError, match="no dense layer on the image"):
        inside.templates(build_cnn())


def test_the_shipped_models_are_read_as_the_page_shows_them(image):
    from digit_core.registry import load_model

    cnn, ann = load_model("cnn"), load_model("ann")
    assert len(inside.feature_maps(cnn, image)) == 2
    assert inside.templates(ann).shape[1:] == (28, 28)
    assert all(a.values.max() > 0 for a in inside.activations(ann, image))  # something fires
