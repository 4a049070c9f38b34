"""Saliency maps: shapes, ranges, and integrated gradients against an exact computation."""

import keras
import numpy as np
import pytest

from digit_core.config import ANNConfig, CNNConfig
from digit_core.models import build_ann, build_cnn
from digit_core.preprocess import to_mnist
from digit_core.saliency import explain, grad_cam, integrated_gradients
from digit_core.visual import enlarge, overlay
from tests.support import strokes

SEVEN = to_mnist(strokes.draw_digit(7, strokes.Style(width=18)))


def linear_model(seed=0):
    """Scores linear in the pixels, so integrated gradients are exactly input * weight."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Dense(10)(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, outputs)


def test_integrated_gradients_equal_input_times_weight_on_a_linear_model():
    model = linear_model()
    weights = model.layers[-1].get_weights()[0]  # (784, 10)
    for digit in (3, 7):
        expected = np.maximum(SEVEN * weights[:, digit].reshape(28, 28), 0)
        expected /= expected.max()
        np.testing.assert_allclose(integrated_gradients(model, SEVEN, digit), expected, atol=1e-4)


def test_attribution_is_zero_where_there_is_no_ink():
    heat = integrated_gradients(build_ann(ANNConfig(units=(16,))), SEVEN)
    assert heat.shape == (28, 28) and heat.dtype == np.float32
    assert heat.min() >= 0 and heat.max() <= 1
    assert np.all(heat[SEVEN == 0] == 0)


def test_grad_cam_gives_a_28x28_map_per_digit():
    keras.utils.set_random_seed(1)
    model = build_cnn(CNNConfig(filters=(4, 8), dense_units=8))
    maps = [grad_cam(model, SEVEN, digit) for digit in (1, 7)]
    for heat in maps:
        assert heat.shape == (28, 28) and heat.min() >= 0 and heat.max() <= 1
    assert not np.allclose(maps[0], maps[1])


def test_explain_picks_grad_cam_for_a_cnn_and_integrated_gradients_for_an_ann():
    assert explain(build_cnn(CNNConfig(filters=(4,), dense_units=8)), SEVEN)[1] == "Grad-CAM"
    assert explain(build_ann(ANNConfig(units=(8,))), SEVEN)[1] == "integrated gradients"


def test_grad_cam_refuses_a_model_without_convolutions_and_bad_targets():
    with pytest.raises(ValueError, match="no convolution"):
        grad_cam(build_ann(ANNConfig(units=(8,))), SEVEN)
    with pytest.raises(ValueError, match="0..9"):
        integrated_gradients(linear_model(), SEVEN, target=10)


def test_overlay_and_enlarge_make_displayable_pictures():
    heat = np.zeros((28, 28), np.float32)
    heat[10, 10] = 1.0
    picture = overlay(SEVEN, heat)
    assert picture.shape == (28, 28, 3) and picture.dtype == np.uint8
    # Full heat: 70 % yellow (1, 1, 0) over the input shown at 60 % grey.
    grey = 0.6 * float(SEVEN[10, 10])
    expected = [255 * (0.3 * grey + 0.7), 255 * (0.3 * grey + 0.7), 255 * 0.3 * grey]
    np.testing.assert_allclose(picture[10, 10], expected, atol=1)
    assert picture[0, 0].tolist() == [0, 0, 0]
    big = enlarge(SEVEN, 4)
    assert big.shape == (112, 112) and big.dtype == np.uint8
    assert big[4 * 14, 4 * 14] == int(SEVEN[14, 14] * 255)
    with pytest.raises(ValueError, match="shape"):
        overlay(SEVEN, np.zeros((10, 10)))


def bars_model() -> keras.Model:
    """A CNN whose answer is known: its one convolution finds horizontal bars (channel 0) and
    vertical bars (channel 1); digit 0's score is the amount of horizontal bar, digit 1's the
    amount of vertical bar, the other digits' zero."""
    inputs = keras.Input((28, 28, 1))
    conv = keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="bars")
    maps = conv(inputs)
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(maps))
    model = keras.Model(inputs, outputs)
    kernel = np.zeros((3, 3, 1, 2), np.float32)
    kernel[1, :, 0, 0] = 1 / 3  # three ink pixels side by side ...
    kernel[:, 1, 0, 1] = 1 / 3  # ... or one above the other
    conv.set_weights([kernel, np.full(2, -0.9, np.float32)])  # all three, or nothing
    dense = np.zeros((28 * 28 * 2, 10), np.float32)
    dense[0::2, 0] = dense[1::2, 1] = 0.05  # Flatten keeps the channel last
    model.layers[-1].set_weights([dense, np.zeros(10, np.float32)])
    return model


def test_grad_cam_lights_the_part_of_the_image_behind_the_chosen_digit():
    image = np.zeros((28, 28), np.float32)
    image[6, 4:24] = 1.0  # a horizontal bar at the top: what makes a 0 for this model
    image[14:26, 14] = 1.0  # a vertical bar below it: what makes a 1
    top, bottom = np.zeros((28, 28), bool), np.zeros((28, 28), bool)
    top[3:10, :] = True
    bottom[11:, :] = True
    model = bars_model()
    probabilities = model.predict(image[None, ..., None], verbose=0)[0]
    assert probabilities[0] > 0.1 and probabilities[1] > 0.1  # both digits are in play

    for digit, lit, dark in ((0, top, bottom), (1, bottom, top)):
        heat = grad_cam(model, image, digit)
        assert heat[lit].max() == pytest.approx(1.0), digit  # the strongest evidence is there ...
        assert heat[dark].max() < 0.05, digit  # ... and nothing from the other bar
        assert heat[lit].sum() > 0.95 * heat.sum(), digit
