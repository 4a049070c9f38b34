"""Turning images into model input, and predicting class probabilities in chunks."""

from __future__ import annotations

import gc
import weakref

import keras
import numpy as np
import pytest

from digit_core import inference
from digit_core.config import ANNConfig
from digit_core.inference import as_model_input, predict, predict_one
from digit_core.models import build_ann


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return build_ann(ANNConfig(units=(16,)))


def images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 28, 28), dtype=np.float32)


def direct(model, x: np.ndarray) -> np.ndarray:
    """The model called eagerly in inference mode, without going through ``predict``."""
    return np.asarray(model(x.reshape(-1, 28, 28, 1).astype(np.float32), training=False))


# --- as_model_input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "n"), [((28, 28), 1), ((5, 28, 28), 5), ((5, 28, 28, 1), 5), ((0, 28, 28), 0)]
)
def test_as_model_input_accepts_single_batched_and_channel_shapes(shape, n):
    raw = np.random.default_rng(1).random(shape, dtype=np.float32)
    x = as_model_input(raw)
    assert x.shape == (n, 28, 28, 1)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x.reshape(-1), raw.reshape(-1))


def test_as_model_input_scales_uint8_pixels_by_255():
    raw = np.zeros((2, 28, 28), dtype=np.uint8)
    raw[0, 0, 0], raw[0, 1, 1], raw[1, 5, 5] = 255, 51, 1
    x = as_model_input(raw)
    assert x.dtype == np.float32
    assert x[0, 0, 0, 0] == pytest.approx(1.0)
    assert x[0, 1, 1, 0] == pytest.approx(0.2)
    assert x[1, 5, 5, 0] == pytest.approx(1 / 255)
    assert x.max() <= 1.0 and x.min() == 0.0


def test_as_model_input_keeps_float_values_already_in_range():
    raw = np.linspace(0, 1, 28 * 28, dtype=np.float64).reshape(28, 28)
    x = as_model_input(raw)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x[0, :, :, 0], raw, rtol=1e-6)


@pytest.mark.parametrize(
    "shape", [(28,), (27, 28), (28, 27), (3, 28, 28, 3), (2, 28, 28, 1, 1), (784,), (2, 784)]
)
def test_as_model_input_rejects_wrong_shapes(shape):
    with pytest.raises(ValueError, match=r"expected images of shape \(N, 28, 28\)"):
        as_model_input(np.zeros(shape, dtype=np.float32))


@pytest.mark.parametrize("value", [-0.01, 1.01, 255.0])
def test_as_model_input_rejects_floats_outside_unit_range(value):
    raw = np.full((2, 28, 28), 0.5, dtype=np.float32)
    raw[1, 3, 3] = value
    with pytest.raises(ValueError, match=r"scaled to \[0, 1\]"):
        as_model_input(raw)


def test_as_model_input_rejects_non_uint8_integers():
    # int64 0..255 is ambiguous (was it scaled?), so it is refused rather than guessed.
    with pytest.raises(ValueError, match="uint8 or float"):
        as_model_input(np.full((28, 28), 200, dtype=np.int64))


# --- predict -------------------------------------------------------------------------------------


def test_predict_returns_float32_probabilities_per_image(model):
    probs = predict(model, images(7))
    assert probs.shape == (7, 10)
    assert probs.dtype == np.float32
    assert (probs >= 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_predict_equals_the_model_called_in_inference_mode(model):
    x = images(9, seed=2)
    np.testing.assert_allclose(predict(model, x), direct(model, x), rtol=1e-5, atol=1e-6)
    # Dropout is off: the same input always gives the same answer.
    np.testing.assert_array_equal(predict(model, x), predict(model, x))


def test_predict_of_uint8_images_equals_prediction_of_scaled_floats(model):
    raw = np.random.default_rng(3).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    np.testing.assert_allclose(predict(model, raw), predict(model, raw / 255.0), rtol=1e-5, atol=1e-7)


def test_batches_larger_than_chunk_match_chunk_by_chunk_calls(model):
    n = 2 * inference.CHUNK + 5
    x = images(n, seed=4)

    probs = predict(model, x)

    manual = np.concatenate([direct(model, x[i : i + inference.CHUNK]) for i in range(0, n, inference.CHUNK)])
    assert probs.shape == (n, 10)
    np.testing.assert_allclose(probs, manual, rtol=1e-5, atol=1e-6)


def test_chunking_keeps_every_image_in_order(model, monkeypatch):
    monkeypatch.setattr(inference, "CHUNK", 3)
    x = images(10, seed=5)
    np.testing.assert_allclose(predict(model, x), direct(model, x), rtol=1e-5, atol=1e-6)


def test_predict_of_no_images_returns_an_empty_batch(model):
    probs = predict(model, np.zeros((0, 28, 28), dtype=np.float32))
    assert probs.shape == (0, 10)
    assert probs.dtype == np.float32


def test_predict_one_returns_the_ten_probabilities_of_one_image(model):
    x = images(1, seed=6)[0]
    probs = predict_one(model, x)
    assert probs.shape == (10,)
    np.testing.assert_allclose(probs, direct(model, x)[0], rtol=1e-5, atol=1e-6)


def test_predict_keeps_models_apart(model):
    keras.utils.set_random_seed(1)
    other = build_ann(ANNConfig(units=(16,)))
    x = images(3, seed=7)
    first, second = predict(model, x), predict(other, x)
    np.testing.assert_allclose(second, direct(other, x), rtol=1e-5, atol=1e-6)
    assert not np.allclose(first, second)


def test_predict_does_not_keep_discarded_models_alive():
    victim = build_ann(ANNConfig(units=(16,)))
    predict(victim, images(2))
    ref = weakref.ref(victim)
    del victim
    gc.collect()
    assert ref() is None


def test_single_image_timing_is_a_positive_median_in_milliseconds():
    from digit_core.inference import single_image_ms

    model = build_ann(ANNConfig(units=(8,)))
    ms = single_image_ms(model, np.zeros((28, 28), np.uint8), repeats=5)
    assert 0 < ms < 10_000
