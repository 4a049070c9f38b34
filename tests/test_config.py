"""Model and training configs, and the Keras models built from them."""

from __future__ import annotations

import dataclasses
import json

import keras
import numpy as np
import pytest

from digit_core.config import (
    LEGACY_CNN,
    ANNConfig,
    AugmentConfig,
    CNNConfig,
    TrainConfig,
    arch_of,
    default_model_config,
    model_config_from_dict,
    to_dict,
)
from digit_core.models import build_ann, build_cnn, build_model


@pytest.mark.parametrize(
    ("config", "field", "value"),
    [
        (ANNConfig(), "units", (8,)),
        (CNNConfig(), "width", 2.0),
        (AugmentConfig(), "rotation", 0.0),
        (TrainConfig(), "epochs", 99),
    ],
)
def test_configs_are_frozen(config, field, value):
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(config, field, value)


@pytest.mark.parametrize(
    ("factory", "kwargs", "message"),
    [
        (ANNConfig, {"units": ()}, "units must be positive"),
        (ANNConfig, {"units": (16, 0)}, "units must be positive"),
        (ANNConfig, {"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
        (ANNConfig, {"dropout": -0.1}, r"dropout must be in \[0, 1\)"),
        (ANNConfig, {"dropout": float("nan")}, r"dropout must be in \[0, 1\)"),
        (CNNConfig, {"filters": ()}, "filters must be positive"),
        (CNNConfig, {"filters": (8, -1)}, "filters must be positive"),
        (CNNConfig, {"filters": (4, 4, 4, 4)}, "do not fit a 28x28 input"),
        (CNNConfig, {"first_kernel": 0}, "first_kernel must be >= 1"),
        (CNNConfig, {"padding": "causal"}, "padding must be 'valid' or 'same'"),
        (CNNConfig, {"width": 0}, "width must be positive"),
        (CNNConfig, {"dense_units": 0}, "dense_units must be positive"),
        (CNNConfig, {"dropout": 1.5}, r"dropout must be in \[0, 1\)"),
        (AugmentConfig, {"rotation": -1}, "rotation must be >= 0"),
        (AugmentConfig, {"shift": -0.5}, "shift must be >= 0"),
        (AugmentConfig, {"stroke": 1.5}, "probability"),
        (TrainConfig, {"epochs": 0}, "epochs must be >= 1"),
        (TrainConfig, {"batch_size": 0}, "batch_size must be >= 1"),
        (TrainConfig, {"learning_rate": 0.0}, "learning_rate must be > 0"),
        (TrainConfig, {"learning_rate": float("nan")}, "learning_rate must be > 0"),
        (TrainConfig, {"optimizer": "adagrad"}, "unknown optimizer 'adagrad'"),
        (TrainConfig, {"validation_size": -1}, "validation_size must be >= 0"),
        (TrainConfig, {"limit": 0}, "limit must be >= 1"),
        (TrainConfig, {"patience": 0}, "patience must be >= 1"),
        (TrainConfig, {"label_smoothing": 1.0}, r"label_smoothing must be in \[0, 1\)"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
def test_invalid_config_values_raise_value_error(factory, kwargs, message):
    with pytest.raises(ValueError, match=message):
        factory(**kwargs)


def test_cnn_width_nan_is_rejected():
    with pytest.raises(ValueError, match="width"):
        CNNConfig(width=float("nan"))


@pytest.mark.parametrize(
    "config",
    [
        ANNConfig(),
        ANNConfig(units=(32, 16, 8), dropout=0.1),
        CNNConfig(),
        CNNConfig(filters=(8, 16, 32), width=0.5, dense_units=64, dropout=0.0),
    ],
)
def test_model_config_round_trips_through_json(config):
    values = json.loads(json.dumps(to_dict(config)))
    assert model_config_from_dict(arch_of(config), values) == config


def test_model_config_from_dict_ignores_unknown_keys_and_fills_defaults():
    config = model_config_from_dict("cnn", {"filters": [8], "future_option": True})
    assert config == CNNConfig(filters=(8,))


def test_a_card_from_before_the_fast_cnn_still_describes_the_old_network():
    card_config = {"filters": [32, 64], "width": 1.0, "dense_units": 256, "dropout": 0.4}
    config = model_config_from_dict("cnn", card_config)
    assert config == CNNConfig(**LEGACY_CNN)
    assert build_cnn(config).count_params() == 871_978  # the shipped cnn.keras before the change


def test_model_config_from_dict_rejects_unknown_architecture():
    with pytest.raises(ValueError, match="unknown architecture 'rnn'"):
        model_config_from_dict("rnn", {})


def test_to_dict_is_json_ready_including_nested_augment():
    values = json.loads(json.dumps(to_dict(TrainConfig())))
    assert values["augment"]["rotation"] == AugmentConfig().rotation
    assert values["optimizer"] == "adam"


def test_default_model_config_per_architecture():
    assert default_model_config("ann") == ANNConfig()
    assert default_model_config("cnn") == CNNConfig()
    assert arch_of(ANNConfig()) == "ann" and arch_of(CNNConfig()) == "cnn"
    with pytest.raises(ValueError, match="unknown architecture"):
        default_model_config("svm")


def test_cnn_width_multiplies_block_filters():
    assert CNNConfig(filters=(32, 64), width=1.0).block_filters() == (32, 64)
    assert CNNConfig(filters=(32, 64), width=0.5).block_filters() == (16, 32)
    assert CNNConfig(filters=(32, 64), width=2.0).block_filters() == (64, 128)
    assert CNNConfig(filters=(1, 2), width=0.1).block_filters() == (1, 1)  # never zero filters


# --- built models ---------------------------------------------------------------------------------

TINY_ANN = ANNConfig(units=(16,))
TINY_CNN = CNNConfig(filters=(4,), dense_units=8)


@pytest.mark.parametrize(
    "build", [lambda: build_ann(TINY_ANN), lambda: build_cnn(TINY_CNN)], ids=["ann", "cnn"]
)
def test_built_models_take_28x28x1_and_output_10_probabilities(build):
    model = build()
    assert tuple(model.inputs[0].shape) == (None, 28, 28, 1)
    assert tuple(model.outputs[0].shape) == (None, 10)
    assert model.layers[-1].get_config()["activation"] == "softmax"

    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    probs = np.asarray(model(x, training=False))
    assert probs.shape == (3, 10)
    assert (probs >= 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_ann_has_one_hidden_dense_layer_per_configured_unit():
    model = build_ann(ANNConfig(units=(16, 8)))
    hidden = [
        layer.units
        for layer in model.layers
        if isinstance(layer, keras.layers.Dense) and layer.name != "probabilities"
    ]
    assert hidden == [16, 8]


def conv_filters(model) -> list[int]:
    return [layer.filters for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def test_cnn_width_multiplier_changes_filter_counts():
    narrow = build_cnn(CNNConfig(filters=(4, 8), width=0.5, dense_units=8))
    normal = build_cnn(CNNConfig(filters=(4, 8), width=1.0, dense_units=8))
    wide = build_cnn(CNNConfig(filters=(4, 8), width=2.0, dense_units=8))

    assert conv_filters(narrow) == [2, 4]
    assert conv_filters(normal) == [4, 8]
    assert conv_filters(wide) == [8, 16]
    assert narrow.count_params() < normal.count_params() < wide.count_params()


def test_build_model_picks_the_architecture_from_the_config_type():
    assert build_model(TINY_ANN).name == "ann"
    assert build_model(TINY_CNN).name == "cnn"
    with pytest.raises(TypeError, match="expected ANNConfig or CNNConfig"):
        build_model(TrainConfig())
